"""Evaluation: does the result give what was asked for?

>>> from tunecraft.evaluate import adherence
>>> report = adherence(spec, score, audio)          # doctest: +SKIP
>>> report.passed, [c.name for c in report.failures]  # doctest: +SKIP

:func:`adherence` checks tempo, key, meter, instruments, exclusions, drums, length and form
(hard guarantees) plus an audio tempo estimate, a key analysis and section coverage (soft
measurements). librosa is imported only by the audio tempo estimate.
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

__all__ = [
    "AUDIO_TAIL_SECONDS",
    "TEMPO_TOLERANCE",
    "AdherenceReport",
    "Check",
    "adherence",
    "key_estimate",
    "tempo_estimate",
]
