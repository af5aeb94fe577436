from __future__ import annotations

import pytest

from tunecraft.errors import ScoreError, TunecraftError
from tunecraft.score import (
    Chord,
    KeySignature,
    Note,
    Score,
    Section,
    TempoChange,
    TimeSignature,
    Track,
    parse_pitch_class,
)


def test_seconds_follow_the_tempo_map():
    s = Score(tracks=(Track("P", (Note(60, 0, 8),)),),
              tempos=(TempoChange(0, 120), TempoChange(4, 60)))
    assert s.seconds_at(4) == pytest.approx(2.0)
    assert s.seconds_at(6) == pytest.approx(4.0)
    assert s.beat_at(4.0) == pytest.approx(6.0)
    assert s.duration_seconds == pytest.approx(6.0)


@pytest.mark.parametrize("bad", [
    lambda: Note(128, 0, 1),
    lambda: Note(-1, 0, 1),
    lambda: Note(60, 0, 0),
    lambda: Note(60, 0, -1),
    lambda: Note(60, -2, 1),
    lambda: Note(60, 0, 1, velocity=0),
    lambda: Note(60, float("nan"), 1),
    lambda: TempoChange(0, 0),
    lambda: TempoChange(0, 2000),
    lambda: TimeSignature(0, 0, 4),
    lambda: TimeSignature(0, 4, 3),
    lambda: KeySignature(0, 12),
    lambda: Track("x", program=128),
    lambda: Track("x", role="singer-songwriter"),
    lambda: Section("", 0, 4),
    lambda: Section("verse", 0, 0),
    lambda: Chord(0, 4, 0, "weird"),
])
def test_invalid_values_raise_score_error(bad):
    with pytest.raises(ScoreError):
        bad()


def test_overlapping_sections_are_rejected():
    with pytest.raises(ScoreError, match="overlap"):
        Score(sections=(Section("verse", 0, 8), Section("chorus", 4, 8)))


def test_meter_change_must_fall_on_a_bar_line():
    with pytest.raises(ScoreError, match="bar line"):
        Score(time_signatures=(TimeSignature(0, 4, 4), TimeSignature(6, 3, 4)))
    s = Score(time_signatures=(TimeSignature(0, 4, 4), TimeSignature(8, 3, 4)), length=14)
    assert s.bar_lines() == (0.0, 4.0, 8.0, 11.0)


def test_tempo_map_must_start_at_zero_and_drops_repeats():
    with pytest.raises(ScoreError, match="beat 0"):
        Score(tempos=(TempoChange(4, 100),))
    s = Score(tempos=(TempoChange(0, 100), TempoChange(4, 100), TempoChange(8, 90)))
    assert [t.bpm for t in s.tempos] == [100, 90]


def test_length_defaults_to_the_next_bar_line_and_cannot_cut_content():
    s = Score(tracks=(Track("P", (Note(60, 0, 5),)),), time_signatures=(TimeSignature(0, 3, 4),))
    assert s.length == 6
    with pytest.raises(ScoreError, match="shorter"):
        Score(tracks=(Track("P", (Note(60, 0, 5),)),), length=4)


def test_times_snap_to_the_tick_grid():
    n = Note(60, 1 / 3, 0.1000001)
    assert n.start * 960 == round(n.start * 960)
    assert n.duration == 96 / 960


@pytest.mark.parametrize(("text", "tonic", "mode"), [
    ("D minor", 2, "minor"), ("B flat major", 10, "major"), ("F#m", 6, "minor"),
    ("Eb", 3, "major"), ("mi menor", 4, "minor"), ("Ré maior", 2, "major"),
    ("c# minor", 1, "minor"), ("A♭ major", 8, "major"),
])
def test_key_names_parse(text, tonic, mode):
    k = KeySignature.parse(text)
    assert (k.tonic, k.mode) == (tonic, mode)


def test_bad_key_name():
    with pytest.raises(ScoreError, match="not a key"):
        KeySignature.parse("H# minor")


@pytest.mark.parametrize(("symbol", "pcs"), [
    ("C", (0, 4, 7)), ("Am7", (9, 0, 4, 7)), ("G7", (7, 11, 2, 5)), ("F#m7b5", (6, 9, 0, 4)),
    ("Bb/D", (10, 2, 5)), ("Ebmaj7", (3, 7, 10, 2)),
])
def test_chord_symbols(symbol, pcs):
    c = Chord.parse(symbol)
    assert c.pitch_classes == pcs
    assert Chord.parse(c.symbol) == c


def test_chord_spelling_follows_the_key():
    c = Chord(0, 4, 1, "")
    assert c.spelled(KeySignature(0, 6, "minor")) == "C#"
    assert c.spelled(KeySignature(0, 8, "major")) == "Db"


def test_pitch_class_names():
    assert parse_pitch_class("sol#") == 8
    assert parse_pitch_class("B flat") == 10
    with pytest.raises(TunecraftError):
        parse_pitch_class("X")


def test_dict_round_trip_and_schema_check():
    s = Score(tracks=(Track("V", (Note(60, 0, 1, 80, "la"),), role="vocal"),),
              sections=(Section("intro", 0, 4),), chords=(Chord(0, 4, 9, "m"),), title="t")
    assert Score.from_dict(s.to_dict()) == s
    with pytest.raises(ScoreError, match="schema"):
        Score.from_dict({"schema": "other"})
