"""Words a musician means something by: "horns" in funk, one player, eras and skill."""

from __future__ import annotations

import itertools

import pytest

from tunecraft import api, understand


def instruments(prompt: str) -> dict[str, str]:
    return {r.name: r.role for r in understand.parse(prompt, seed=1).instruments}


@pytest.mark.parametrize("prompt", ["a funk groove with horns", "a soul song with horns",
                                    "ska with horns", "salsa with horns"])
def test_horns_in_funk_soul_ska_and_salsa_are_a_horn_section(prompt):
    got = instruments(prompt)
    assert "brass" in got and "french horn" not in got


def test_horns_elsewhere_are_french_horns():
    assert "french horn" in instruments("a cinematic piece with horns")


@pytest.mark.parametrize("prompt", ["someone playing the flute", "a beginner playing piano",
                                    "a man playing the guitar", "alguien tocando la guitarra"])
def test_one_player_gets_no_band(prompt):
    spec = understand.parse(prompt, seed=1)
    assert not spec.drums
    assert len(spec.instruments) == 1


def test_a_player_with_a_band_named_keeps_it():
    spec = understand.parse("a man playing guitar with a drummer", seed=1)
    assert spec.drums


@pytest.mark.parametrize(("prompt", "band"), [("a 50s song", (140, 176)),
                                              ("an 80s song", (112, 128)),
                                              ("a 70s song", (96, 120))])
def test_an_era_sets_its_tempo(prompt, band):
    assert band[0] <= understand.parse(prompt, seed=1).bpm <= band[1]


def _tune(prompt: str):
    score = api.generate(prompt, seed=4, duration=40, render=False).score
    lead = next(t for t in score.tracks if t.role in ("lead", "vocal"))
    notes = sorted(lead.notes, key=lambda n: n.start)
    pitches = [n.pitch for n in notes]
    leaps = sum(abs(b - a) > 4 for a, b in itertools.pairwise(pitches)) / (len(pitches) - 1)
    per_beat = len(notes) / score.length
    return leaps, per_beat, max(pitches) - min(pitches)


def test_a_beginner_plays_fewer_notes_by_step_and_a_virtuoso_more():
    b_leaps, b_rate, b_range = _tune("a beginner playing a pop tune on the piano")
    v_leaps, v_rate, _ = _tune("a virtuoso playing a pop tune on the piano")
    assert b_rate < v_rate
    assert b_range <= 9
    assert b_leaps <= v_leaps
