"""Evaluation: does the result give what was asked for?

>>> from tunecraft.evaluate import adherence
>>> report = adherence(spec, score, audio)          # doctest: +SKIP
>>> report.passed, [c.name for c in report.failures]  # doctest: +SKIP

:func:`adherence` checks tempo, key, meter, instruments, exclusions, drums, length and form
(hard guarantees) plus an audio tempo estimate, a key analysis and section coverage (soft
measurements). librosa is imported only by the audio tempo estimate.

:func:`measure` gives a score's symbolic metrics (pitch-class entropy, scale and groove
consistency, empty-beat rate, polyphony, pitch range, note density...),
:func:`distribution_distance` and :func:`compare_to_reference` compare sets of pieces the MGEval
way, and :func:`piano_roll_png` draws a piano roll (matplotlib, imported on first use).
"""

from __future__ import annotations

from .adherence import (
    AUDIO_TAIL_SECONDS,
    TEMPO_TOLERANCE,
    AdherenceReport,
    Check,
    adherence,
    key_estimate,
    tempo_estimate,
)
from .metrics import MusicMetrics, compare_to_reference, distribution_distance, measure
from .plots import piano_roll_png

__all__ = [
    "AUDIO_TAIL_SECONDS",
    "TEMPO_TOLERANCE",
    "AdherenceReport",
    "Check",
    "MusicMetrics",
    "adherence",
    "compare_to_reference",
    "distribution_distance",
    "key_estimate",
    "measure",
    "piano_roll_png",
    "tempo_estimate",
]
