"""Every shipped style file loads, validates and makes musical sense."""

from __future__ import annotations

import pytest

from tunecraft.gm import PROGRAM_NAMES
from tunecraft.score import ROLES, TimeSignature
from tunecraft.styles import (
    COMP_PATTERNS,
    SCALES,
    SECTION_TYPES,
    all_styles,
    find_style,
    load_style,
    parse_meter,
    realize,
    split_slot,
    style_ids,
)

EXPECTED_IDS = {
    "pop", "rock", "punk", "metal", "jazz", "swing", "bossa_nova", "blues", "funk", "reggae",
    "reggaeton", "hip_hop", "trap", "lofi", "edm", "house", "techno", "drum_and_bass", "ambient",
    "classical", "baroque", "cinematic", "country", "folk", "celtic", "latin", "tango", "march",
    "waltz", "lullaby", "chiptune", "gospel", "rnb", "calypso", "indian_classical",
}  # fmt: skip
IDS = style_ids()


def test_the_expected_styles_ship():
    assert set(IDS) == EXPECTED_IDS
    assert len(IDS) >= 25
    assert len(all_styles()) == len(IDS)


@pytest.fixture(params=IDS)
def style(request):
    return load_style(request.param)


def test_loads_and_is_cached(style):
    assert load_style(style.id) is style
    assert style.name and style.description
    assert style.source == f"styles/{style.id}.toml"


def test_tempo_range_is_sane(style):
    t = style.tempo
    assert 40 <= t.min <= t.default <= t.max <= 220


def test_meters_parse_and_have_grooves_and_bass(style):
    for meter in style.meters:
        TimeSignature(0.0, *parse_meter(meter))
        assert style.bass_pattern("verse", meter) is not None
        assert (style.groove("verse", meter) is not None) == style.has_kit


def test_every_groove_grid_matches_its_meter(style):
    for groove in (*style.drums.grooves, *style.drums.fills):
        num, den = parse_meter(groove.meter)
        bar_beats = num * 4 / den
        assert groove.meter in style.meters
        for voice in groove.voices:
            assert len(voice.grid) == bar_beats * voice.steps_per_beat, (groove.name, voice.name)
            assert set(voice.grid) <= set("xo.-rt")
            assert 27 <= voice.key <= 87
    for pattern in style.bass:
        num, den = parse_meter(pattern.meter)
        assert len(pattern.grid) == num * 4 / den * pattern.steps_per_beat


def test_every_numeral_realises_in_c_major_and_a_minor(style):
    for mode, tonic in (("major", 0), ("minor", 9)):
        pools = style.harmony.pools[mode]
        assert "verse" in pools
        for section, pool in pools.items():
            assert section in SECTION_TYPES
            for progression in pool:
                for slot in progression:
                    for numeral in split_slot(slot):
                        chord = realize(numeral, tonic, mode)
                        assert 2 <= len(chord.pitch_classes) <= 5
        for cadence in style.harmony.cadences.get(mode, ()):
            for slot in cadence:
                for numeral in split_slot(slot):
                    realize(numeral, tonic, mode)


def test_progressions_fill_whole_bars(style):
    for mode in ("major", "minor"):
        for section, pool in style.harmony.pools[mode].items():
            for progression in pool:
                bars = style.harmony.bars(progression, section)
                assert bars == int(bars) and bars >= 1


def test_instruments_are_valid_general_midi(style):
    assert {"lead", "harmony", "bass"} <= set(style.instruments)
    assert ("drums" in style.instruments) == style.has_kit
    for role, inst in style.instruments.items():
        assert role in ROLES
        assert 0 <= inst.program < len(PROGRAM_NAMES)
        assert inst.name.strip()
        if not inst.drum:
            assert 0 <= inst.low < inst.high <= 127 and inst.high - inst.low >= 12
        if inst.pattern is not None:
            assert inst.pattern in COMP_PATTERNS
        for section in inst.sections or ():
            assert section in SECTION_TYPES


def test_melody_form_and_mix(style):
    m = style.melody
    assert 0 <= m.step_probability <= 1 and 0 <= m.syncopation <= 1
    for mode in ("major", "minor"):
        assert m.scale(mode) in SCALES.values()
    assert style.form.sequence and all(s in style.form.bars for s in style.form.sequence)
    bar_beats = style.time_signature().bar_beats
    seconds = style.form.total_bars * bar_beats * 60 / style.tempo.default
    assert 120 <= seconds <= 270, f"{style.id}: default form lasts {seconds:.0f} s"
    for value in (*style.mix.pan.values(), *style.mix.levels.values()):
        assert 0 <= value <= 127
    assert set(style.mix.pan) <= ROLES and 0 <= style.mix.reverb <= 1
    assert style.swing == 0 or 0.5 <= style.swing <= 0.75


def test_genre_signatures():
    """A few grooves a musician would check first."""
    four_on_floor = "x---x---x---x---"
    for sid in ("house", "techno", "edm"):
        assert load_style(sid).groove("chorus" if sid != "edm" else "drop").voices[0].grid \
            == four_on_floor
    reggae = {v.name: v.grid for v in load_style("reggae").groove("verse").voices}
    assert reggae["kick"] == reggae["rim"] == "--------x-------"          # one drop on beat 3
    dembow = {v.name: v.grid for v in load_style("reggaeton").groove("verse").voices}
    assert dembow["snare"] == "---x--x----x--x-" and dembow["kick"] == four_on_floor
    dnb = load_style("drum_and_bass")
    assert dnb.tempo.default >= 170
    assert load_style("waltz").meter == "3/4"
    assert load_style("march").meters == ("2/4", "6/8")
    assert load_style("celtic").meters[:2] == ("6/8", "4/4")
    blues = load_style("blues").progressions("verse", "major")[0]
    assert len(blues) == 12 and blues[8] == "V7"
    trap_hats = {v.name: v for v in load_style("trap").groove("chorus").voices}["hat"]
    assert trap_hats.steps_per_beat == 8 and len(trap_hats.grid) == 32
    for sid in ("classical", "baroque", "lullaby", "ambient", "waltz", "tango"):
        assert not load_style(sid).has_kit
    assert load_style("jazz").swing == pytest.approx(0.67)
    assert "drop" in load_style("edm").form.sequence


def test_find_style_by_alias():
    assert find_style("Drum n Bass").id == "drum_and_bass"
    assert find_style("salsa").id == "latin"
    assert find_style("bossa nova").id == "bossa_nova"
    assert find_style("R&B").id == "rnb"
    assert find_style("no such genre") is None
