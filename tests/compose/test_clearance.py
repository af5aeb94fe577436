"""The accompaniment yields to the tune: under it, and no semitone rubs against it."""

from __future__ import annotations

import pytest

from tunecraft import api
from tunecraft.compose.parts.clearance import clear_of_tune
from tunecraft.score import Note

MELODIC = ("lead", "vocal")


def test_a_held_chord_voice_stops_where_the_tune_rubs_against_it():
    # C major held for 4 beats; the tune passes through F (a semitone over E) on beat 2.
    chord = (Note(48, 0.0, 4.0, 80), Note(52, 0.0, 4.0, 80), Note(55, 0.0, 4.0, 80))
    tune = (Note(67, 0.0, 1.0, 90), Note(65, 1.0, 1.0, 90), Note(64, 2.0, 2.0, 90))
    out = clear_of_tune(chord, tune, role="chords", floor=40)
    e = [n for n in out if n.pitch == 52]
    assert [(n.start, n.end) for n in e] == [(0.0, 1.0)]  # struck chords do not resume
    assert {n.pitch for n in out} == {48, 52, 55}
    assert all(n.duration == 4.0 for n in out if n.pitch != 52)


def test_a_pad_takes_its_voice_back_when_the_tune_moves_on():
    pad = (Note(52, 0.0, 8.0, 60),)
    tune = (Note(65, 1.0, 1.0, 90), Note(67, 2.0, 6.0, 90))
    out = clear_of_tune(pad, tune, role="pad", floor=40)
    assert [(n.pitch, n.start, n.end) for n in out] == [(52, 0.0, 1.0), (52, 2.0, 8.0)]


def test_a_minor_ninth_is_a_rub_too_but_a_major_seventh_is_not():
    tune = (Note(65, 0.0, 2.0, 90),)
    assert clear_of_tune((Note(52, 0.0, 2.0, 70),), tune, role="chords", floor=40) == ()
    kept = clear_of_tune((Note(54, 0.0, 2.0, 70),), tune, role="chords", floor=40)
    assert [n.pitch for n in kept] == [54]


def test_a_note_over_the_tune_goes_under_it_by_octaves_or_drops_out():
    tune = (Note(62, 0.0, 4.0, 90),)
    counter = (Note(69, 0.0, 2.0, 70), Note(79, 2.0, 2.0, 70))
    out = clear_of_tune(counter, tune, role="counter", floor=40)
    assert [n.pitch for n in out] == [57, 55]
    # Under the floor it is left out rather than buried in the bass.
    assert clear_of_tune((Note(69, 0.0, 2.0, 70),), tune, role="chords", floor=58) == ()


def test_notes_where_the_tune_rests_and_other_roles_are_untouched():
    tune = (Note(60, 0.0, 1.0, 90),)
    free = (Note(76, 2.0, 2.0, 70),)
    assert clear_of_tune(free, tune, role="counter", floor=40) == free
    bass = (Note(59, 0.0, 1.0, 70),)
    assert clear_of_tune(bass, tune, role="bass", floor=28) == bass


@pytest.mark.parametrize(("prompt", "seed"), [
    ("The Pop song features a soft female vocal singing over sustained pulsating synth", 8),
    ("a march piece", 87),
    ("This is a Christmas music piece with heavy influences from Celtic music.", 32),
    ("a house piece", 81),
])
def test_composed_accompaniment_sits_under_the_tune_without_rubs(prompt, seed):
    score = api.generate(prompt, seed=seed, duration=40, render=False).score
    lead = next(t for t in score.tracks if t.role in MELODIC)
    acc = [n for t in score.tracks if t is not lead and not t.is_drum
           and t.role not in ("bass", "percussion") for n in t.notes]
    assert acc
    above = rubs = 0
    for n in lead.notes:
        sounding = [m for m in acc if m.start < n.end - 1e-6 and m.end > n.start + 1e-6]
        above += any(m.pitch > n.pitch for m in sounding)
        rubs += any(n.pitch - m.pitch in (1, 13) for m in sounding)
    assert above == 0
    assert rubs == 0
