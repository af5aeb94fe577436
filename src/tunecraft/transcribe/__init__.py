"""Audio to score: Basic Pitch on ONNX Runtime, cleaned, on a tempo grid.

>>> from tunecraft.transcribe import TranscribeOptions, transcribe
>>> result = transcribe("take.wav", options=TranscribeOptions(bpm=96))  # doctest: +SKIP
>>> result.score, result.bpm, result.notes_kept                       # doctest: +SKIP

Importing this package is light: onnxruntime, basic-pitch and librosa load on the first
:func:`transcribe` (about 2 s, plus about 14 s the first time numba compiles librosa's code
unless ``NUMBA_CACHE_DIR`` points at a folder that already holds it). The ONNX session is kept
for the rest of the process. TensorFlow is never used.
"""

from __future__ import annotations

from .core import transcribe
from .options import MAX_SECONDS, TranscribeOptions, Transcription

__all__ = ["MAX_SECONDS", "HeardMelody", "HumOptions", "TranscribeOptions", "Transcription",
           "melody_from_score", "track_melody", "transcribe"]

_HUM_NAMES = ("HeardMelody", "HumOptions", "melody_from_score", "track_melody")


def __getattr__(name: str):
    """Hummed-melody names load :mod:`.hum` on first use (it is light too; librosa waits)."""
    if name in _HUM_NAMES:
        from . import hum

        return getattr(hum, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
