"""A style's file alone decides what a request for that style gets (issue 9): tempo, meter,
mode, drums, density and the band, with nothing repeated in understanding's own tables."""

from __future__ import annotations

import pytest

from tunecraft.styles import load_style, style_ids
from tunecraft.understand import lexicon, parse


@pytest.mark.parametrize("sid", style_ids())
def test_a_request_by_name_gets_the_file_defaults(sid):
    style = load_style(sid)
    spec = parse(style.name, seed=1)
    ev = spec.evidence
    assert spec.style == sid, style.name
    # A style's name that is also a mood or density word ("cinematic" is epic, "ambient"
    # sparse) moves the value within the style's range, and the evidence says which words did.
    if ev["bpm"].words:
        assert style.tempo.min <= spec.bpm <= style.tempo.max
    else:
        assert spec.bpm == style.tempo.default
    if ev["density"].words:
        assert spec.density < style.request.density
    else:
        assert spec.density == pytest.approx(style.request.density)
    assert f"{spec.meter[0]}/{spec.meter[1]}" == style.meters[0]
    if not ev["mode"].words:
        assert spec.mode == style.mode
    assert spec.drums == style.default_drums
    if style.request.ensemble:  # the band the file names, each in its role
        instruments = lexicon.load().instruments
        got = {(r.role, r.name) for r in spec.instruments}
        want, names = set(), set()
        for role, name in style.request.ensemble.items():
            if (instruments[name]["drum"] and not spec.drums) or name in names:
                continue  # no kit asked for; one instrument plays one role
            want.add((role, name))
            names.add(name)
        assert want <= got, sid


def test_understanding_keeps_no_table_of_its_own():
    from importlib import resources

    data = resources.files("tunecraft.understand").joinpath("data")
    assert not data.joinpath("styles.toml").is_file()


def test_a_request_table_names_known_instruments_and_roles(tmp_path, monkeypatch):
    import tomllib
    from importlib import resources

    from tunecraft.errors import TunecraftError
    from tunecraft.styles import parse_style
    from tunecraft.understand import lexicon

    text = resources.files("tunecraft.styles").joinpath("data", "march.toml").read_text()
    data = tomllib.loads(text)
    data["request"] = {"ensemble": {"lead": "kazoo"}}
    style = parse_style(data, "polka", "polka.toml")
    monkeypatch.setattr("tunecraft.styles.style_ids", lambda: ("polka",))
    monkeypatch.setattr("tunecraft.styles.load_style", lambda sid: style)
    with pytest.raises(TunecraftError, match=r"polka.toml: request.ensemble.lead is 'kazoo'"):
        lexicon.style_requests(lexicon._read("instruments.toml"))
    data["request"] = {"density": 2}
    with pytest.raises(TunecraftError, match=r"request.density"):
        parse_style(data, "polka", "polka.toml")


def test_an_implied_tempo_stays_in_the_style_a_said_one_keeps_its_word():
    """ "Bailable" reggaeton is reggaeton at its liveliest, not 126 bpm; "un tango lento" is a
    slow tango even below the style's usual range."""
    reggaeton = load_style("reggaeton").tempo
    spec = parse("reggaetón bailable", seed=1)
    assert reggaeton.min <= spec.bpm <= reggaeton.max
    assert "kept in reggaeton's range" in spec.evidence["bpm"].note
    assert parse("un tango lento", seed=1).bpm < 90
    assert parse("an energetic lullaby", seed=1).bpm <= load_style("lullaby").tempo.max
