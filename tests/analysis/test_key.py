"""The one key finder (tunecraft.analysis), checked against music21's own analysis."""

from __future__ import annotations

from pathlib import Path

import music21
import pytest

from tunecraft.analysis import key_estimate, key_of_notes
from tunecraft.errors import ParameterError
from tunecraft.io.musicxml import music21_to_score
from tunecraft.score import Note, Score, Track

SRC = Path(__file__).resolve().parents[2] / "src" / "tunecraft"


def _line(pitches, dur=1.0):
    return tuple(Note(p, i * dur, dur) for i, p in enumerate(pitches))


def test_scales_and_cadences():
    assert key_of_notes(_line([60, 62, 64, 65, 67, 69, 71, 72, 67, 60]))[:2] == (0, "major")
    assert key_of_notes(_line([57, 59, 60, 62, 64, 65, 68, 69, 64, 57]))[:2] == (9, "minor")
    assert key_of_notes(())[:2] == (0, "major")
    with pytest.raises(ParameterError):
        key_estimate(Score(tracks=(Track("D", _line([36, 38]), is_drum=True),)))


def test_agrees_with_music21_on_most_bach_chorales():
    """music21's own key analysis uses other profiles (Aarden-Essen): the two agree on 29 of
    the first 40 chorales (measured); this guards against the finder getting worse."""
    import itertools

    same = total = 0
    for chorale in itertools.islice(music21.corpus.chorales.Iterator(), 40):
        want = chorale.analyze("key")
        tonic, mode, _ = key_estimate(music21_to_score(chorale, source="chorale"))
        same += (tonic, mode) == (want.tonic.pitchClass, want.mode)
        total += 1
    assert total == 40 and same >= 26, same


def test_there_is_one_key_profile_in_the_package():
    holders = [p.relative_to(SRC).as_posix() for p in SRC.rglob("*.py")
               if "6.35, 2.23" in p.read_text(encoding="utf-8")]
    assert holders == ["analysis/key.py"]
