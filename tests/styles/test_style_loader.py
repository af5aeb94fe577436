"""User style files, malformed files and the event helpers."""

from __future__ import annotations

import re
from importlib import resources

import pytest

from tunecraft.errors import ParameterError, TunecraftError
from tunecraft.score import Chord
from tunecraft.styles import (
    StyleError,
    bass_events,
    groove_events,
    load_style,
    realize,
    rhythm_events,
    swing_time,
    voice_chord,
)


def rock_text() -> str:
    return resources.files("tunecraft.styles").joinpath("data/rock.toml").read_text("utf-8")


def write(tmp_path, text: str, name: str = "mystyle.toml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_user_style_path_loads(tmp_path):
    path = write(tmp_path, rock_text().replace('name = "Rock"', 'name = "My Rock"'))
    style = load_style(path)
    assert style.id == "mystyle" and style.name == "My Rock"
    assert load_style(str(path)) is style          # cached while unchanged
    path.write_text(rock_text().replace('name = "Rock"', 'name = "Changed"'), encoding="utf-8")
    import os
    os.utime(path, ns=(1, 1))
    assert load_style(path).name == "Changed"      # re-read when the file changes


@pytest.mark.parametrize(("old", "new", "key", "problem"), [
    ('kick  = "x-----o-x-x-----"', 'kick  = "x-----o-x-x----"', "drums.grooves.verse.kick",
     "has 15 steps, expected 16"),
    ('snare = "----x-------x---"\nhat   = "x-o-x-o-x-o-x-o-"',
     'snare = "----x-------x---"\nhat   = "x-o-x-o-x-o-x-oZ"', "drums.grooves.verse.hat",
     "not drum grid characters"),
    ('tempo = { min = 95, max = 165, default = 124 }',
     'tempo = { min = 95, max = 165, default = 200 }', "tempo", "min <= default <= max"),
    ('verse = [["I", "bVII", "IV", "I"],', 'verse = [["I", "bVII", "IV", "Iq"],',
     "harmony.major.verse[0]", "unknown chord suffix"),
    ('verse = [["i", "VII", "VI", "VII"],', 'verse = [["i", "bVII", "VI", "VII"],',
     "harmony.minor.verse[0]", "already the flat degree"),
    ('lead = { program = 29,', 'lead = { program = 129,', "instruments.lead.program",
     "outside 0-127"),
    ('energy = 0.75', 'enrgy = 0.75', "enrgy", "did you mean 'energy'"),
    ('meters = ["4/4"]', 'meters = ["4/5"]', "meters[0]", "not a meter"),
    ('pattern = "pulse" }', 'pattern = "plus" }', "instruments.bass.pattern",
     "did you mean 'pulse'"),
    ('[drums.grooves.bridge]', '[drums.grooves.middle]', "drums.grooves.middle",
     "not a section type"),
    ('kit = true', 'kit = false', "drums.grooves", "kit is false"),
    ('swing = 0.0', 'swing = 0.3', "swing", "0.67 is triplet swing"),
    ('scales = { major = "major", minor = "minor_pentatonic" }',
     'scales = { major = "major", minor = "lokrian" }', "melody.scales.minor",
     "not a known value"),
    ('bars = { intro = 4, verse = 8,', 'bars = { verse = 8,', "form.bars.intro", "is missing"),
    ('grid = "R-R-R-R-R-R-R-R-"', 'grid = "R-R-R-Q-R-R-R-R-"', "bass.patterns.verse.grid",
     "not bass grid characters"),
])
def test_malformed_file_names_file_and_key(tmp_path, old, new, key, problem):
    text = rock_text()
    assert old in text, old
    path = write(tmp_path, text.replace(old, new, 1), "broken.toml")
    with pytest.raises(StyleError) as info:
        load_style(path)
    message = str(info.value)
    assert str(path) in message
    assert f" {key} " in message or message.split(": ")[1].startswith(key), message
    assert problem in message, message
    assert isinstance(info.value, TunecraftError) and isinstance(info.value, ParameterError)


def test_progression_must_fill_whole_bars(tmp_path):
    text = rock_text().replace("harmonic_rhythm = 1\n", "harmonic_rhythm = 2\n", 1)
    text = text.replace('verse = [["i", "VII", "VI", "VII"],', 'verse = [["i", "VII", "VI"],')
    path = write(tmp_path, text, "odd.toml")
    with pytest.raises(StyleError, match=re.escape(f"{path}: harmony.minor.verse[0] has 3 "
                                                   "chord slots, which at 2 chords a bar")):
        load_style(path)


def test_invalid_toml_and_missing_file(tmp_path):
    path = write(tmp_path, "name = \n", "bad.toml")
    with pytest.raises(StyleError, match=re.escape(str(path)) + ": not valid TOML"):
        load_style(path)
    with pytest.raises(StyleError, match="no such style file"):
        load_style(tmp_path / "absent.toml")
    with pytest.raises(StyleError, match=r"unknown style 'rokc' \(did you mean rock"):
        load_style("rokc")


def test_ids_are_normalised():
    assert load_style("Drum and Bass").id == "drum_and_bass"
    assert load_style("hip-hop").id == "hip_hop"


# -- events ------------------------------------------------------------------------------------


def test_groove_events_positions_and_velocities():
    rock = load_style("rock")
    events = groove_events(rock.groove("verse"), 8.0, 4.0, velocities=rock.drums.velocities)
    kicks = [(b, v) for k, b, v in events if k == 36]
    assert kicks == [(8.0, 112), (9.5, 88), (10.0, 112), (10.5, 112)]
    snares = [b for k, b, _ in events if k == 38]
    assert snares == [9.0, 11.0]
    assert events == sorted(events, key=lambda e: (e[1], e[0]))


def test_groove_rolls_and_32nd_lines():
    trap = load_style("trap")
    hats = [b for k, b, _ in groove_events(trap.groove("verse"), 0.0) if k == 42]
    # "x-x-x-x-x-xtx-rr": the t step plays three strokes, each r two
    assert hats[-4:] == [3.5, 3.625, 3.75, 3.875]
    assert len(hats) == 6 + 3 + 1 + 4
    chorus = [b for k, b, _ in groove_events(trap.groove("chorus"), 0.0) if k == 42]
    assert 3.0 in chorus and 3.125 in chorus      # 32nd-note roll


def test_swing():
    assert swing_time(0.5, 0.0) == 0.5
    assert swing_time(0.5, 2 / 3) == pytest.approx(2 / 3)
    assert swing_time(1.5, 2 / 3) == pytest.approx(1 + 2 / 3)
    assert swing_time(0.25, 0.75, 0.25) == pytest.approx(0.375)
    rock = load_style("rock")
    swung = groove_events(rock.groove("verse"), 0.0, 4.0, swing=0.67)
    assert any(abs(b - 0.67) < 1e-6 for _, b, _ in swung)
    jazz = load_style("jazz")                      # a triplet grid is not swung twice
    ride = [b for k, b, _ in groove_events(jazz.groove("verse"), 0.0, swing=0.67) if k == 51]
    assert ride[:3] == [0.0, 1.0, pytest.approx(5 / 3)]


def test_bass_events_follow_chords_and_approach():
    walking = load_style("jazz").bass_pattern("verse")            # R---3---5---a---
    chords = (realize("ii7", 0, start=0.0, duration=4.0), realize("V7", 0, start=4.0))
    notes = bass_events(walking, chords, 0.0, 4.0, low=28, high=55)
    assert [n[0] % 12 for n in notes] == [2, 5, 9, 6]             # D F A, then F# into G
    assert [n[1] for n in notes] == [0.0, 1.0, 2.0, 3.0]
    assert all(n[2] == 1.0 for n in notes)
    assert notes[3][0] + 1 == bass_events(walking, chords, 4.0, 4.0)[0][0]
    funk = load_style("funk").bass_pattern("verse")               # R--8x-R-x-R8_5-7
    out = bass_events(funk, realize("i7", 9, "minor"), 0.0, 4.0, low=28, high=57)
    assert out[0][0] == 33 and out[1][0] == 45                     # A1 then the octave
    dead = [n for n in out if n[3] < 60]
    assert dead and all(n[2] <= 0.25 for n in dead)
    assert all(28 <= n[0] <= 57 for n in out)
    slash = bass_events(walking, realize("I/3", 0), 0.0, 4.0)
    assert slash[0][0] % 12 == 4                                   # C/E puts E in the bass


def test_rhythm_events_hold_and_rest():
    hits = rhythm_events("x--o__x-", 0.0, 2.0)
    assert hits == [(0.0, 0.75, 112), (0.75, 0.25, 88), (1.5, 0.5, 112)]


def test_voice_chord_register_and_voice_leading():
    c = voice_chord(Chord.parse("C"), 48, 72)
    assert sorted(p % 12 for p in c) == [0, 4, 7] and all(48 <= p <= 72 for p in c)
    f = voice_chord(Chord.parse("F"), 48, 72, previous=c)
    assert sum(abs(a - b) for a, b in zip(sorted(c), sorted(f), strict=True)) <= 3
    g7 = voice_chord(Chord.parse("G7"), 52, 64)
    assert len(g7) == 4 and all(52 <= p <= 64 for p in g7)
    inv = voice_chord(Chord.parse("C/E"), 48, 72)
    assert min(inv) % 12 == 4
    with pytest.raises(ParameterError):
        voice_chord(Chord.parse("C"), 60, 65)
