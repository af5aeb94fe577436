"""MusicGen and MusicGen-melody from a local folder (transformers on the CPU torch), steered by
tunecraft's own composed score.

The weights are the user's (CC-BY-NC; they never ship with tunecraft and nothing downloads:
``local_files_only=True`` and the hub offline). ``musicgen-melody`` is conditioned on a
chroma built here from the composed score (the lead line, else the chord root, one pitch
class per frame, as MusicGen-melody's own extractor keeps only the strongest class), so the
audio follows tunecraft's form, tempo, key and tune; the transformers feature extractor is
not used (it needs torchaudio). Past the model's window (30 s for the published models) the
audio grows by a sliding window: the last ``keep`` seconds are encoded as the audio prompt,
``window - keep`` seconds are added, and the joint is crossfaded over the prompt's own
re-synthesis, so nothing is lost or doubled.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InputFileError, ParameterError

log = logging.getLogger(__name__)

KINDS = {"musicgen": ("musicgen", "MusicgenForConditionalGeneration",
                      "TUNECRAFT_MUSICGEN", "facebook/musicgen-small"),
         "musicgen-melody": ("musicgen_melody", "MusicgenMelodyForConditionalGeneration",
                             "TUNECRAFT_MUSICGEN_MELODY", "facebook/musicgen-melody")}
MAX_SECONDS = 600.0


@dataclass(frozen=True)
class NeuralOptions:
    """How the model samples and how long pieces are joined.

    guidance: classifier-free guidance scale (MusicGen's default is 3).
    window: seconds made in one pass (None: the model's own, 30 s for the published models).
    keep: seconds of the end used as the audio prompt of the next pass.
    crossfade: seconds over which a pass joins the audio before it.
    top_k, temperature: sampling.
    """

    guidance: float = 3.0
    window: float | None = None
    keep: float = 10.0
    crossfade: float = 1.0
    top_k: int = 250
    temperature: float = 1.0

    def __post_init__(self) -> None:
        if not 1.0 <= self.guidance <= 10.0:
            raise ParameterError(f"guidance {self.guidance:g} is outside 1-10")
        if self.window is not None and self.window <= 0:
            raise ParameterError("the window must be positive")
        if not 0 < self.crossfade <= self.keep:
            raise ParameterError("the crossfade must be positive and no longer than keep")


def default_folder(kind: str) -> Path | None:
    env = KINDS[kind][2]
    value = os.environ.get(env, "").strip()
    return Path(value).expanduser() if value else None


def check_folder(folder: str | os.PathLike[str] | None, kind: str) -> Path:
    """The model folder for ``kind`` ("musicgen" or "musicgen-melody"), checked before any
    work: it must exist and hold that model's config.json and weights."""
    if kind not in KINDS:
        raise ParameterError(f"unknown engine {kind!r}; use local, musicgen or musicgen-melody")
    model_type, cls, env, example = KINDS[kind]
    if folder is None:
        folder = default_folder(kind)
        if folder is None:
            raise ParameterError(f"--engine {kind} needs --model DIR (a folder with the "
                                 f"{example} weights) or {env}; nothing is downloaded")
    p = Path(folder).expanduser()
    expected = f"expected a {cls} folder with config.json and model.safetensors, as {example}"
    if not p.is_dir():
        raise InputFileError(p, f"no such folder; {expected}")
    config = p / "config.json"
    if not config.is_file():
        raise InputFileError(p, f"no config.json; {expected}")
    try:
        found = json.loads(config.read_text(encoding="utf-8")).get("model_type")
    except (OSError, ValueError):
        raise InputFileError(p, f"config.json is not readable JSON; {expected}") from None
    if found != model_type:
        raise InputFileError(p, f"holds a {found or 'unknown'} model, not {model_type}; "
                                f"{expected}")
    if not any(p.glob("*.safetensors")) and not any(p.glob("*.bin")):
        raise InputFileError(p, f"no weights (*.safetensors); {expected}")
    return p


class MusicGen:
    """A MusicGen model loaded from ``folder``; ``generate`` returns mono float32 audio at
    ``sample_rate``."""

    def __init__(self, folder: str | os.PathLike[str] | None, kind: str = "musicgen") -> None:
        self.kind = kind
        self.folder = check_folder(folder, kind)
        os.environ["HF_HUB_OFFLINE"] = "1"
        os.environ.setdefault("TRANSFORMERS_NO_ADVISORY_WARNINGS", "1")
        try:
            import torch
            import transformers
        except ImportError:
            raise ParameterError("the neural engine needs the neural extra: pip install "
                                 "'tunecraft[neural]' (transformers on the CPU torch)") from None
        transformers.logging.set_verbosity_error()
        transformers.utils.logging.disable_progress_bar()
        cls = getattr(transformers, KINDS[kind][1])
        try:
            self.model = cls.from_pretrained(self.folder, local_files_only=True)
            self.tokenizer = transformers.AutoTokenizer.from_pretrained(self.folder,
                                                                        local_files_only=True)
        except (OSError, ValueError, KeyError) as e:
            raise InputFileError(self.folder, f"cannot load the {kind} model: "
                                              f"{' '.join(str(e).split())[:200]}") from None
        self.model.eval()
        self.torch = torch
        audio = self.model.config.audio_encoder
        self.sample_rate = int(audio.sampling_rate)
        self.frame_rate = float(audio.frame_rate)
        self.codebooks = int(self.model.decoder.num_codebooks)
        self.hop = round(self.sample_rate / self.frame_rate)
        self.chroma_length = int(getattr(self.model.config, "chroma_length", 0) or 0)
        # The published models were trained on 30 s; a tiny test model says nothing.
        self.max_window = 30.0

    # ------------------------------------------------------------------------------------------

    def _tokens(self, seconds: float) -> int:
        return int(np.ceil(seconds * self.frame_rate)) + self.codebooks - 1

    def _prompt_codes(self, audio: np.ndarray) -> Any:
        """Audio -> the decoder's input codes [codebooks, frames] (as MusicGen's own audio
        prompt is prepared)."""
        torch = self.torch
        x = torch.from_numpy(np.ascontiguousarray(audio, dtype=np.float32))[None, None, :]
        with torch.no_grad():
            enc = self.model.audio_encoder.encode(input_values=x,
                                                  padding_mask=torch.ones_like(x[:, 0]).long())
        codes = enc.audio_codes  # [1, batch, codebooks, frames]
        return codes[0].reshape(self.codebooks, -1)

    def pass_(self, prompt: str, seconds: float, *, seed: int, options: NeuralOptions,
              chroma: np.ndarray | None = None, audio_prompt: np.ndarray | None = None,
              step: Any = None) -> np.ndarray:
        """One pass of at most one window: ``seconds`` of new audio (after ``audio_prompt``,
        whose re-synthesis is returned in front of it)."""
        torch = self.torch
        torch.manual_seed(seed)
        inputs = self.tokenizer([prompt], padding=True, return_tensors="pt")
        kwargs: dict[str, Any] = {"input_ids": inputs["input_ids"],
                                  "attention_mask": inputs["attention_mask"],
                                  "do_sample": True, "guidance_scale": options.guidance,
                                  "top_k": options.top_k, "temperature": options.temperature}
        if chroma is not None:
            if self.kind != "musicgen-melody":
                raise ParameterError("a chroma conditions musicgen-melody only")
            kwargs["input_features"] = torch.from_numpy(chroma[None].astype(np.float32))
        new = self._tokens(seconds)
        if audio_prompt is not None and len(audio_prompt):
            codes = self._prompt_codes(audio_prompt)
            kwargs["decoder_input_ids"] = codes
        if step is not None:
            from transformers import StoppingCriteriaList

            kwargs["stopping_criteria"] = StoppingCriteriaList([_steps(step)])
        with torch.no_grad():
            out = self.model.generate(**kwargs, max_new_tokens=new)
        return out[0, 0].float().numpy()

    def generate(self, prompt: str, seconds: float, *, seed: int,
                 options: NeuralOptions | None = None, chroma_at: Any = None,
                 audio_prompt: np.ndarray | None = None, overlap: float = 0.0,
                 progress: Any = None) -> np.ndarray:
        """``seconds`` of new audio for ``prompt``, past one window by the sliding window.
        ``chroma_at(start, seconds)`` gives the melody chroma of a span of the piece
        (musicgen-melody). ``audio_prompt`` (mono, at ``sample_rate``) is continued; the
        result is what follows it, joined to its end; with ``overlap`` it starts that many
        seconds earlier, over the prompt's end as the model re-made it (to crossfade there).
        ``progress(fraction)`` is called as the model's steps go by (minutes on a CPU)."""
        options = options or NeuralOptions()
        if not 0 < seconds <= MAX_SECONDS:
            raise ParameterError(f"the neural engine makes 0-{MAX_SECONDS:g} s, not {seconds:g}")
        sr, hop = self.sample_rate, self.hop
        window = min(options.window or self.max_window, self.max_window)
        keep = min(options.keep, window / 2)
        n_keep = max(hop, int(keep * sr) // hop * hop)  # the prompt: whole codec frames
        n_fade = int(min(options.crossfade, keep) * sr)
        made = np.zeros(0, np.float32) if audio_prompt is None else np.asarray(
            audio_prompt, np.float32)
        base = len(made)
        total = round(seconds * sr)
        step = 0
        while len(made) - base < total:
            k0 = min(n_keep, len(made) // hop * hop)
            tail = made[len(made) - k0:] if k0 else None
            held = 0.0 if tail is None else len(tail) / sr
            want = min(window - held, (total - (len(made) - base)) / sr + n_fade / sr)
            chroma = None if chroma_at is None else chroma_at((len(made) - base) / sr - held,
                                                              window)
            done_before = (len(made) - base) / total

            def tick(n: int, want: float = want, before: float = done_before) -> None:
                if progress is not None:
                    frac = min(n / max(self._tokens(want), 1), 1.0) * want * sr / total
                    progress(min(before + frac, 1.0))

            out = self.pass_(prompt, want, seed=seed + step, options=options, chroma=chroma,
                             audio_prompt=tail, step=tick)
            if tail is None:
                piece = out
            else:
                # ``out`` is the prompt re-synthesised, then the new audio: the joint is
                # crossfaded over the prompt's last frames, so nothing is lost or doubled.
                k = min(len(tail), len(out))
                f = min(n_fade, k)
                if f:
                    ramp = np.sin(np.linspace(0, np.pi / 2, f)) ** 2
                    made[-f:] = made[-f:] * (1 - ramp) + out[k - f:k] * ramp
                piece = out[k:]
            if len(piece) == 0:
                raise ParameterError(f"{self.folder}: the model made no audio")
            made = np.concatenate([made, piece.astype(np.float32)])
            step += 1
        start = max(base - round(overlap * sr), 0)
        return made[start:base + total]


def _steps(tick: Any) -> Any:
    """A stopping criterion that never stops: it counts the model's steps for a progress bar
    (MusicGen's generate does not hand its steps to a streamer)."""
    import torch
    from transformers import StoppingCriteria

    class Steps(StoppingCriteria):
        def __init__(self) -> None:
            self.n = 0

        def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
            self.n += 1
            tick(self.n)
            return torch.zeros(input_ids.shape[0], dtype=torch.bool, device=input_ids.device)

    return Steps()


@dataclass(frozen=True)
class NeuralResult:
    """Audio a neural engine continued, and what made it (for the ``.json`` beside it)."""

    audio: Any
    engine: str
    folder: str
    seed: int
    source_seconds: float
    added_seconds: float
    prompt: str

    def summary(self) -> dict[str, Any]:
        return {"kind": "continue", "engine": self.engine, "model": self.folder,
                "seed": self.seed, "source_seconds": round(self.source_seconds, 3),
                "added_seconds": self.added_seconds, "prompt": self.prompt,
                "seconds": round(self.audio.duration, 3)}


# ----------------------------------------------------------------------------------------------
# The composed score as a melody chroma


def chroma_of(score: Any, start: float, seconds: float, frames: int) -> np.ndarray:
    """``frames`` chroma frames [frames, 12] spanning ``start`` to ``start + seconds`` of
    ``score``: one-hot of the sounding lead note's pitch class, else the chord root (the
    form, tempo, key and tune of tunecraft's own piece)."""
    out = np.zeros((frames, 12), np.float32)
    times = start + (np.arange(frames) + 0.5) * seconds / frames
    lead = next((t for t in score.tracks if t.role in ("lead", "melody") and t.notes), None)
    if lead is None:
        lead = max((t for t in score.tracks if not t.is_drum and t.notes),
                   key=lambda t: np.mean([n.pitch for n in t.notes]), default=None)
    spans = []
    if lead is not None:
        for n in lead.notes:
            spans.append((score.seconds_at(n.start), score.seconds_at(n.start + n.duration),
                          n.pitch % 12))
    chords = [(score.seconds_at(c.start), score.seconds_at(c.start + c.duration), c.root)
              for c in score.chords]
    for i, t in enumerate(times):
        pc = next((p for a, b, p in spans if a <= t < b), None)
        if pc is None:
            pc = next((p for a, b, p in chords if a <= t < b), None)
        if pc is not None:
            out[i, pc] = 1.0
    return out
