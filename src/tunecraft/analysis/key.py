"""The one key finder: Krumhansl-Schmuckler, a duration-weighted pitch-class histogram
correlated with the 24 rotations of the Krumhansl-Kessler profiles (Krumhansl 1990)."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from ..errors import ParameterError
from ..score import Note, Score

# Krumhansl-Kessler key profiles, tonic first.
_KK_MAJOR = np.array([6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88])
_KK_MINOR = np.array([6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17])
#: The longest a note counts, in beats: a held pad chord should not drown the tune.
MAX_WEIGHT_BEATS = 4.0


def _profiles() -> np.ndarray:
    """24 rows: the 12 major keys (tonic 0-11) then the 12 minor keys, z-scored."""
    rows = [np.roll(p, t) for p in (_KK_MAJOR, _KK_MINOR) for t in range(12)]
    m = np.array(rows)
    m = m - m.mean(axis=1, keepdims=True)
    return m / np.linalg.norm(m, axis=1, keepdims=True)


_PROFILES = _profiles()


def pitch_class_histogram(notes: Iterable[Note]) -> np.ndarray:
    """Pitch classes weighted by note length (capped at :data:`MAX_WEIGHT_BEATS`)."""
    pitches: list[int] = []
    weights: list[float] = []
    for n in notes:
        pitches.append(n.pitch % 12)
        weights.append(min(n.duration, MAX_WEIGHT_BEATS))
    if not pitches:
        return np.zeros(12)
    return np.bincount(np.asarray(pitches), weights=np.asarray(weights), minlength=12)


def best_key(hist: np.ndarray) -> tuple[int, str, float]:
    """``(tonic, mode, correlation)`` of the profile that best fits a histogram."""
    h = hist - hist.mean()
    norm = np.linalg.norm(h)
    if norm == 0:  # every pitch class equally present: no key stands out
        return 0, "major", 0.0
    r = _PROFILES @ (h / norm)
    i = int(np.argmax(r))
    return i % 12, ("major" if i < 12 else "minor"), float(r[i])


def key_of_notes(notes: Iterable[Note]) -> tuple[int, str, float]:
    """The key of some notes (C major, correlation 0, when there are none)."""
    return best_key(pitch_class_histogram(notes))


def key_estimate(score: Score) -> tuple[int, str, float]:
    """Estimate the key of a score's pitched notes: ``(tonic pitch class, mode, correlation)``.

    Drum tracks are left out. Raises :class:`ParameterError` when the score has no pitched
    notes.
    """
    hist = pitch_class_histogram(n for t in score.tracks if not t.is_drum for n in t.notes)
    if hist.sum() <= 0:
        raise ParameterError("the score has no pitched notes to find a key in")
    return best_key(hist)
