"""MusicGen models with random weights, built in code and saved to a folder, for the tests
(a tiny one: seconds on the CPU) and for ``benchmarks/peers.py`` (the published
``musicgen-small`` sizes: compute does not depend on the weights' values). They make noise,
not music; nothing is downloaded."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

SIZES = {
    # (text d_model, d_ff, layers, heads), (decoder hidden, ffn, layers, heads), codec
    "tiny": {"text": dict(d_model=16, d_ff=16, num_layers=1, num_heads=2),
             "decoder": dict(hidden_size=16, ffn_dim=16, num_hidden_layers=1,
                             num_attention_heads=2),
             "codebook_size": 32, "codebooks": 2, "sampling_rate": 4000,
             "upsampling_ratios": [8, 5], "vocab": 128},
    # facebook/musicgen-small: T5-base text encoder, a 24-layer 1024-wide decoder with 16
    # heads, 4 codebooks of 2048 from EnCodec 32 kHz at 50 frames a second.
    "small": {"text": dict(d_model=768, d_ff=3072, num_layers=12, num_heads=12),
              "decoder": dict(hidden_size=1024, ffn_dim=4096, num_hidden_layers=24,
                              num_attention_heads=16),
              "codebook_size": 2048, "codebooks": 4, "sampling_rate": 32000,
              "upsampling_ratios": [8, 5, 4, 4], "vocab": 32128},
}


def build(folder: str | os.PathLike[str], *, kind: str = "musicgen", size: str = "tiny",
          seed: int = 0) -> Path:
    """Write a random ``kind`` ("musicgen" or "musicgen-melody") model of ``size`` with a word
    tokenizer to ``folder``; returns the folder."""
    model, tokenizer = make(kind=kind, size=size, seed=seed)
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out


def make(*, kind: str = "musicgen", size: str = "tiny", seed: int = 0) -> tuple[Any, Any]:
    """A random model and a word tokenizer, in memory."""
    os.environ["HF_HUB_OFFLINE"] = "1"
    import torch
    import transformers
    from tokenizers import Tokenizer, models, pre_tokenizers

    transformers.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()
    s = SIZES[size]
    torch.manual_seed(seed)
    text = transformers.T5Config(vocab_size=s["vocab"], **s["text"])
    hop = 1
    for r in s["upsampling_ratios"]:
        hop *= r
    frame_rate = s["sampling_rate"] / hop
    nbits = (s["codebook_size"] - 1).bit_length()
    audio = transformers.EncodecConfig(
        sampling_rate=s["sampling_rate"], upsampling_ratios=s["upsampling_ratios"],
        codebook_size=s["codebook_size"],
        # as many codebooks as the decoder reads: bandwidth = codebooks x bits x frame rate
        target_bandwidths=[s["codebooks"] * nbits * frame_rate / 1000],
        **({"hidden_size": 16, "num_filters": 4, "codebook_dim": 16, "compress": 1}
           if size == "tiny" else {"hidden_size": 128, "num_filters": 64,
                                   "codebook_dim": 128, "compress": 2,
                                   "num_residual_layers": 1, "use_causal_conv": False,
                                   "norm_type": "weight_norm", "pad_mode": "constant"}))
    dec_cls, cfg_cls, model_cls = (
        ("MusicgenDecoderConfig", "MusicgenConfig", "MusicgenForConditionalGeneration")
        if kind == "musicgen" else
        ("MusicgenMelodyDecoderConfig", "MusicgenMelodyConfig",
         "MusicgenMelodyForConditionalGeneration"))
    pad = s["codebook_size"]
    decoder = getattr(transformers, dec_cls)(
        vocab_size=s["codebook_size"], pad_token_id=pad, decoder_start_token_id=pad,
        bos_token_id=pad, num_codebooks=s["codebooks"], tie_word_embeddings=False,
        **s["decoder"])
    extra = {"chroma_length": 235} if kind != "musicgen" else {}
    config = getattr(transformers, cfg_cls)(text_encoder=text, audio_encoder=audio,
                                            decoder=decoder, **extra)
    model = getattr(transformers, model_cls)(config)
    # EnCodec's codebooks start at zero (they are learned from data): random vectors make the
    # decoded audio depend on the codes, as a trained model's does.
    with torch.no_grad():
        for layer in model.audio_encoder.quantizer.layers:
            layer.codebook.embed.copy_(torch.randn_like(layer.codebook.embed))
            layer.codebook.embed_avg.copy_(layer.codebook.embed)
    model.eval()
    words = ["<pad>", "</s>", "<unk>", *sorted({
        "calm", "piano", "piece", "rock", "jazz", "song", "with", "a", "and", "drums", "bpm",
        "major", "minor", "fast", "slow", "guitar", "strings", "happy", "sad", "music"})]
    tok = Tokenizer(models.WordLevel({w: i for i, w in enumerate(words)}, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    fast = transformers.PreTrainedTokenizerFast(tokenizer_object=tok, pad_token="<pad>",
                                                eos_token="</s>", unk_token="<unk>")
    return model, fast
