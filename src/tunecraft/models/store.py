"""Model folders: what a trained model is on disk, and loading it without running pickled code.

A model folder holds::

    config.json        {"format", "kind": "lstm"|"transformer", "model": {...network config}}
    model.safetensors  the weights (safetensors: plain tensors, no code)
    vocab.json         the tokenizer (the note vocabulary, or the REMI config and vocabulary)
    meta.json          {"format", "tunecraft_version", "kind", "parts", "defaults": {bpm, meter,
                       key, program}, "corpus": {...}, "training": {...}}
    MODEL_CARD.md      (the shipped model) data, config, figures, how to rebuild
    checkpoints/       (training only) last.pt: weights, optimizer and RNG state for --resume

``FORMAT`` is the folder format; a folder of another format is refused with a message saying
so. The checkpoint is read with ``torch.load(weights_only=True)``.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import InputFileError, ParameterError
from .tokens import NoteTokenizer, RemiTokenizer, _read_json, load_tokenizer

log = logging.getLogger(__name__)

FORMAT = "tunecraft.model/1"
KINDS = ("lstm", "transformer")
DEFAULT_MODEL_DIR = Path(__file__).parent / "default"
REQUIRED = ("config.json", "model.safetensors", "vocab.json", "meta.json")

__all__ = ["DEFAULT_MODEL_DIR", "FORMAT", "LoadedModel", "build_network", "load_model",
           "save_model"]


def build_network(kind: str, config: Any) -> Any:
    """The torch module for a config."""
    if kind == "lstm":
        from .lstm import MelodyLSTM

        return MelodyLSTM(config)
    if kind == "transformer":
        from .transformer import MelodyTransformer

        return MelodyTransformer(config)
    raise ParameterError(f"model kind {kind!r} is unknown (use 'lstm' or 'transformer')")


def config_from_dict(kind: str, data: dict[str, Any]) -> Any:
    if kind == "lstm":
        from .lstm import LSTMConfig

        return LSTMConfig.from_dict(data)
    if kind == "transformer":
        from .transformer import TransformerConfig

        return TransformerConfig.from_dict(data)
    raise ParameterError(f"model kind {kind!r} is unknown (use 'lstm' or 'transformer')")


@dataclass
class LoadedModel:
    """A model ready to sample: network (eval mode, CPU), tokenizer and metadata."""

    kind: str
    config: Any
    net: Any
    tokenizer: NoteTokenizer | RemiTokenizer
    meta: dict[str, Any]
    folder: Path


def _write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, indent=1, sort_keys=False) + "\n")


def save_model(folder: Path, *, kind: str, net: Any, tokenizer: NoteTokenizer | RemiTokenizer,
               meta: dict[str, Any], tokenizer_extra: dict[str, Any] | None = None) -> None:
    """Write config, weights, tokenizer and metadata (weights in safetensors)."""
    from safetensors.torch import save_model as st_save

    from .. import __version__

    folder.mkdir(parents=True, exist_ok=True)
    _write_json(folder / "config.json", {"format": FORMAT, "kind": kind,
                                         "model": net.config.to_dict()})
    st_save(net, str(folder / "model.safetensors"), metadata={"format": FORMAT, "kind": kind})
    _canonical_header(folder / "model.safetensors")
    (folder / "model.safetensors").chmod(0o644)  # safetensors writes it private
    tokenizer.save(folder, extra=tokenizer_extra)
    _write_json(folder / "meta.json", {"format": FORMAT, "tunecraft_version": __version__,
                                       "kind": kind, **meta})


def _canonical_header(path: Path) -> None:
    """Rewrite a safetensors header with sorted keys: the library writes its metadata in hash
    order, so the same weights would give different bytes from run to run."""
    import json
    import struct

    raw = path.read_bytes()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    text = json.dumps(header, sort_keys=True, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)  # the format pads the header to 8 bytes with spaces
    path.write_bytes(struct.pack("<Q", len(text)) + text + raw[8 + n:])


def _check_format(path: Path, data: dict[str, Any]) -> None:
    fmt = data.get("format")
    if fmt != FORMAT:
        raise InputFileError(path, f"this model folder is format {fmt!r}, but this tunecraft "
                             f"reads {FORMAT!r}; retrain the model with this version "
                             "(tunecraft train) or use the tunecraft that made it")


def load_model(model_dir: str | Path | None = None) -> LoadedModel:
    """Load a model folder (default: the model shipped with tunecraft)."""
    from safetensors import SafetensorError
    from safetensors.torch import load_model as st_load

    folder = Path(model_dir) if model_dir is not None else DEFAULT_MODEL_DIR
    if not folder.is_dir():
        what = "the default model is not installed (run `make model`)" if model_dir is None \
            else "no such model folder"
        raise InputFileError(folder, what)
    missing = [f for f in REQUIRED if not (folder / f).is_file()]
    if missing:
        raise InputFileError(folder, f"not a complete tunecraft model folder: missing "
                             f"{', '.join(missing)}")
    meta = _read_json(folder / "meta.json")
    _check_format(folder / "meta.json", meta)
    cfg = _read_json(folder / "config.json")
    _check_format(folder / "config.json", cfg)
    kind = cfg.get("kind")
    if kind not in KINDS:
        raise InputFileError(folder / "config.json", f"unknown model kind {kind!r}")
    try:
        config = config_from_dict(kind, dict(cfg.get("model") or {}))
    except (TypeError, ParameterError) as exc:
        raise InputFileError(folder / "config.json", f"the network config is invalid ({exc})"
                             ) from None
    tokenizer = load_tokenizer(folder)
    if tokenizer.vocab_size != config.vocab_size:
        raise InputFileError(folder, f"the vocabulary ({tokenizer.vocab_size} tokens) does not "
                             f"match the network ({config.vocab_size})")
    net = build_network(kind, config)
    try:
        st_load(net, str(folder / "model.safetensors"), strict=True, device="cpu")
    except (SafetensorError, RuntimeError, OSError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else repr(exc)
        raise InputFileError(folder / "model.safetensors",
                             f"the weights do not fit this network ({first})") from None
    net.eval()
    return LoadedModel(kind, config, net, tokenizer, meta, folder)
