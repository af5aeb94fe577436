"""Levels: instruments trimmed to one loudness per SoundFont, and no part above the tune."""

from __future__ import annotations

import pytest

from builders import track
from tunecraft.score import Score
from tunecraft.synth import RenderOptions, render_stems
from tunecraft.synth.levels import MAX_TRIM_DB, _table, trim_db, trim_gain
from tunecraft.synth.mastering import measure_loudness
from tunecraft.synth.mixer import TUNE_HEADROOM_LU


@pytest.mark.parametrize("font", ["FluidR3_GM.sf2", "MuseScore_General_Full.sf2", "TimGM6mb.sf2"])
def test_every_program_is_trimmed_towards_the_fonts_middle(font):
    levels = _table()[font]
    assert len(levels) >= 120  # the measured programs and the drum kit
    loud = max((k for k in levels if k != "drums"), key=levels.get)
    quiet = min((k for k in levels if k != "drums"), key=levels.get)
    assert trim_db(font, int(loud)) < 0 < trim_db(font, int(quiet))
    assert all(abs(trim_db(font, p)) <= MAX_TRIM_DB for p in range(128))


def test_unknown_fonts_play_as_they_are_and_the_sf3_shares_the_sf2s_levels():
    assert trim_db("mine.sf2", 0) == 0.0 and trim_gain(None, 33) == 1.0
    assert trim_db("MuseScore_General_Full.sf3", 33) == trim_db("MuseScore_General_Full.sf2", 33)


def test_no_accompanying_part_sounds_above_the_tune():
    tune = [(72 + (i % 5), i * 1.0, 1.0, 70) for i in range(8)]
    chords = [(p, float(b), 1.0, 120) for b in range(8) for p in (48, 52, 55, 60)]
    bass = [(36, float(b), 1.0, 127) for b in range(8)]
    drums = [(38, float(b), 0.25, 127) for b in range(8)]
    score = Score(tracks=(track("Tune", tune, role="lead", volume=60),
                          track("Chords", chords, role="chords", volume=127),
                          track("Bass", bass, role="bass", volume=127),
                          track("Kit", drums, role="drums", is_drum=True, volume=127)))
    r = render_stems(score, RenderOptions(backend="sine", reverb=0.0, master=False))
    lead = measure_loudness(r.stems["Tune"])
    assert measure_loudness(r.stems["Chords"]) <= lead - TUNE_HEADROOM_LU + 0.1
    assert measure_loudness(r.stems["Bass"]) <= lead - TUNE_HEADROOM_LU + 0.1
    assert measure_loudness(r.stems["Kit"]) > lead  # drums are not levelled under the tune
    # The same levels without keeping stems (the running sum) as with them.
    mixed = render_stems(score, RenderOptions(backend="sine", reverb=0.0, master=False),
                         stems=False)
    assert (mixed.premaster.samples == r.premaster.samples).all()


def test_the_renderer_prefers_musescore_general_then_fluidr3(monkeypatch, tmp_path):
    from tunecraft.synth.backends import fluid

    fonts = [tmp_path / "MuseScore_General_Full.sf2", tmp_path / "FluidR3_GM.sf2",
             tmp_path / "MuseScore_General_Full.sf3"]
    monkeypatch.setattr(fluid, "SOUNDFONTS", tuple(str(f) for f in fonts))
    assert fluid.default_soundfont() is None
    fonts[2].write_bytes(b"x")
    assert fluid.default_soundfont() == str(fonts[2])
    fonts[1].write_bytes(b"x")
    assert fluid.default_soundfont() == str(fonts[1])  # FluidR3 before the slow-loading SF3
    fonts[0].write_bytes(b"x")
    assert fluid.default_soundfont() == str(fonts[0])


def test_the_bundle_says_which_soundfont_played(tmp_path):
    from tunecraft import api

    take = api.generate("a short piano piece", seed=1, duration=6,
                        options=RenderOptions(backend="sine"))
    assert take.backend == "sine"
    rendered = render_stems(take.score, RenderOptions(backend="tinysoundfont"), stems=False) \
        if _usable("tinysoundfont") else None
    if rendered is not None:
        assert rendered.renderer == "tinysoundfont (TimGM6mb.sf2)"


def _usable(name: str) -> bool:
    from tunecraft.synth.backends import unavailable_reason

    return unavailable_reason(name) is None
