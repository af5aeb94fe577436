"""A band gets a rhythm section: the style's comping instrument plays chords, a bass plays."""

from __future__ import annotations

from collections import Counter

import pytest

from tunecraft import api, understand

COMPING = ("chords", "harmony", "arp", "strings")


def roles(prompt: str) -> dict[str, str]:
    return {r.name: r.role for r in understand.parse(prompt, seed=1).instruments}


@pytest.mark.parametrize(("prompt", "name"), [
    ("a house track with piano", "piano"),    # house piano stabs
    ("a reggae tune with organ", "organ"),    # the reggae organ's bubble
    ("a rock song with electric guitar", "electric guitar"),
])
def test_the_one_instrument_a_style_comps_with_plays_the_chords(prompt, name):
    got = roles(prompt)
    assert got[name] == "chords"
    assert sum(role == "lead" for role in got.values()) == 1  # the style's lead sings


def test_a_melody_instrument_named_alone_still_leads():
    assert roles("a house track with flute")["flute"] == "lead"
    assert roles("solo piano, a lullaby")["piano"] == "lead"


def test_a_band_with_a_kit_and_nobody_on_the_chords_gets_the_styles_comping():
    got = roles("gospel with a choir, bass and drums")
    assert got["organ"] == "chords"
    got = roles("jazz with piano, bass and drums")
    assert got["piano"] == "lead" and got["piano (comping)"] == "chords"


def test_a_band_with_a_kit_and_no_bass_gets_the_styles_bass():
    got = roles("a folk song with violin, strings and drums")
    assert "bass" in got.values()
    assert "bass" not in roles("a folk song with violin, strings and drums, no bass").values()
    assert "bass" not in roles("violin and guitar").values()  # a duo, no kit: no band


def test_styles_that_float_get_a_low_drone_for_a_bass():
    assert "bass" in roles("an ambient piece").values()
    assert "bass" in roles("a lullaby").values()


@pytest.mark.parametrize("prompt", ["a house track with piano",
                                    "gospel with a choir, bass and drums",
                                    "jazz with piano, bass and drums"])
def test_the_score_has_the_chords_and_the_bass(prompt):
    score = api.generate(prompt, seed=3, duration=30, render=False).score
    assert any(t.role == "bass" and t.notes for t in score.tracks)
    chords = [t for t in score.tracks if t.role in COMPING and t.notes]
    assert chords
    onsets = Counter(round(n.start, 2) for t in chords for n in t.notes)
    assert sum(v >= 2 for v in onsets.values()) >= 8  # chords struck, not a single line


def test_words_that_give_the_role_win_over_the_styles_comping():
    assert roles("a house track with a piano lead")["piano"] == "lead"
    assert roles("a house track with solo piano")["piano"] == "lead"


def test_a_comping_instrument_must_be_one_tunecraft_knows(tmp_path):
    from importlib import resources

    from tunecraft.errors import ParameterError
    from tunecraft.understand.lexicon import style_request
    from tunecraft.understand.vocabulary import read_vocabulary

    text = resources.files("tunecraft.styles").joinpath("data", "house.toml").read_text("utf-8")
    path = tmp_path / "house.toml"
    path.write_text(text.replace('comping = ["piano"', 'comping = ["pianoforte"'), "utf-8")
    with pytest.raises(ParameterError, match=r"request\.comping has 'pianoforte'"):
        style_request(str(path), read_vocabulary("instruments.toml"))


def test_each_comping_instrument_plays_its_own_part_of_the_groove():
    """Reggae: the organ bubbles (the off-sixteenths), the guitar skanks (beats 2 and 4)."""
    score = api.generate("a reggae tune with organ", seed=4, duration=30, render=False).score
    organ = next(t for t in score.tracks if t.name == "Organ")
    guitar = next(t for t in score.tracks if t.role == "harmony")
    bar = score.time_signatures[0].numerator

    def positions(track):
        return [round((n.start % bar) * 4) / 4 for n in track.notes]

    skank = positions(guitar)
    assert sum(p in (1.0, 3.0) for p in skank) >= 0.9 * len(skank)  # the last chord aside
    assert len(set(positions(organ)) - {0.0, 1.0, 2.0, 3.0}) >= 4
