"""Sequence models of music: tokens, the tutorial's LSTM, a Transformer, training, sampling.

>>> from tunecraft.models import train, sample                      # doctest: +SKIP
>>> report = train("corpus", model="transformer", out_dir="my_model")  # doctest: +SKIP
>>> score = sample("my_model", bars=8, seed=1)                      # doctest: +SKIP
>>> score = sample(bars=4, seed=1)          # the model shipped with tunecraft  # doctest: +SKIP

Modules: ``tokens`` (the tutorial's note/chord strings; miditok REMI; augmentation; the split by
piece), ``lstm`` and ``transformer`` (the networks and their config dataclasses), ``store``
(model folders: safetensors weights, JSON config, vocabulary and metadata), ``training``
(``train``), ``sampling`` (``sample``), ``build_default`` (rebuilds the shipped model).

PyTorch is imported only when a model is built, trained or loaded, never by ``import tunecraft``
or by this package's import.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

_LAZY = {
    "train": "tunecraft.models.training",
    "TrainReport": "tunecraft.models.training",
    "TrainConfig": "tunecraft.models.training",
    "EpochStats": "tunecraft.models.training",
    "sample": "tunecraft.models.sampling",
    "sample_notes": "tunecraft.models.sampling",
    "estimate_key": "tunecraft.models.sampling",
    "load_model": "tunecraft.models.store",
    "LoadedModel": "tunecraft.models.store",
    "DEFAULT_MODEL_DIR": "tunecraft.models.store",
    "FORMAT": "tunecraft.models.store",
    "LSTMConfig": "tunecraft.models.lstm",
    "TransformerConfig": "tunecraft.models.transformer",
    "NoteTokenizer": "tunecraft.models.tokens",
    "RemiTokenizer": "tunecraft.models.tokens",
    "RemiConfig": "tunecraft.models.tokens",
}

__all__ = list(_LAZY)

if TYPE_CHECKING:  # pragma: no cover
    from .lstm import LSTMConfig  # noqa: F401
    from .sampling import estimate_key, sample, sample_notes  # noqa: F401
    from .store import DEFAULT_MODEL_DIR, FORMAT, LoadedModel, load_model  # noqa: F401
    from .tokens import NoteTokenizer, RemiConfig, RemiTokenizer  # noqa: F401
    from .training import EpochStats, TrainReport, train  # noqa: F401
    from .transformer import TransformerConfig  # noqa: F401


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'tunecraft.models' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value
