"""The renderer: every backend, stems, panning, tempo maps, SoundFont errors, determinism."""

from __future__ import annotations

import dataclasses
import re

import numpy as np
import pytest

from builders import band_score, melody_score, track
from tunecraft.errors import ParameterError, RenderError
from tunecraft.score import Score, TempoChange
from tunecraft.synth import (
    BACKEND_NAMES,
    Rendered,
    RenderOptions,
    available_backends,
    measure_loudness,
    render,
    render_stems,
    true_peak_dbtp,
)
from tunecraft.synth.backends import note_events, note_spans, unavailable_reason
from tunecraft.synth.renderer import unique_names

SR = 44100
TAIL = 1.5
SOUNDFONT_BACKENDS = ("fluidsynth", "tinysoundfont")


def _param(name: str) -> object:
    reason = unavailable_reason(name)
    return pytest.param(name, marks=pytest.mark.skipif(
        reason is not None, reason=f"{name} backend not available: {reason}"), id=name)


ALL = [_param(n) for n in BACKEND_NAMES]
SOUNDFONTS = [_param(n) for n in SOUNDFONT_BACKENDS]


def rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(x, dtype=np.float64))))


@pytest.fixture(scope="module")
def band() -> Score:
    return band_score(4, bpm=120)  # 4 bars of 4/4 at 120 bpm: 8 s, 8 tracks


@pytest.fixture(scope="module", params=ALL)
def rendered(request: pytest.FixtureRequest, band: Score) -> Rendered:
    return render_stems(band, RenderOptions(backend=request.param, tail_seconds=TAIL))


# -- every backend -------------------------------------------------------------------------------


def test_length_is_score_plus_tail(rendered: Rendered, band: Score) -> None:
    expected = (band.duration_seconds + TAIL) * SR
    assert band.duration_seconds == pytest.approx(8.0)
    assert abs(rendered.mix.frames - expected) <= 1
    assert rendered.mix.sample_rate == SR and rendered.mix.channels == 2
    assert rendered.premaster.frames == rendered.mix.frames
    assert {s.frames for s in rendered.stems.values()} == {rendered.mix.frames}


def test_mix_is_not_silent_and_every_stem_sounds(rendered: Rendered) -> None:
    assert rms(rendered.mix.samples) > 0.02
    for name, stem in rendered.stems.items():
        assert rms(stem.samples) > 1e-4, f"stem {name} is silent"
        assert stem.samples.dtype == np.float32
        assert np.isfinite(stem.samples).all()


def test_mix_meets_loudness_target_and_ceiling(rendered: Rendered) -> None:
    assert measure_loudness(rendered.mix) == pytest.approx(-14.0, abs=1.0)
    assert true_peak_dbtp(rendered.mix) <= -1.0 + 1e-6
    assert rendered.mix.peak < 1.0


def test_stems_sum_to_premaster(rendered: Rendered, band: Score) -> None:
    assert list(rendered.stems) == [t.name for t in band.tracks]
    total = np.sum([s.samples for s in rendered.stems.values()], axis=0, dtype=np.float64)
    np.testing.assert_allclose(total, rendered.premaster.samples, rtol=0, atol=1e-5)
    assert rendered.backend in BACKEND_NAMES


def test_every_backend_listed_is_usable() -> None:
    names = available_backends()
    assert names[-1] == "sine"
    assert names == [n for n in BACKEND_NAMES if n in names]  # in order of preference


@pytest.mark.parametrize("backend", ALL)
def test_same_input_gives_identical_output(backend: str) -> None:
    score = band_score(2, bpm=100)
    options = RenderOptions(backend=backend, reverb=0.3, chorus=0.3)
    a, b = render_stems(score, options), render_stems(score, options)
    assert np.array_equal(a.mix.samples, b.mix.samples)
    for name in a.stems:
        assert np.array_equal(a.stems[name].samples, b.stems[name].samples), name


# -- mixing --------------------------------------------------------------------------------------


@pytest.mark.parametrize("backend", ALL)
def test_hard_left_track_sits_on_the_left(backend: str) -> None:
    notes = [(60 + i % 5, i * 0.5, 0.5, 90) for i in range(8)]
    score = Score(tracks=(track("Left", notes, role="lead", pan=0),))
    audio = render(score, RenderOptions(backend=backend, reverb=0.0))
    left, right = (float(np.sum(np.square(c, dtype=np.float64))) for c in audio.samples)
    assert left > 0 and right < left * 1e-6


def test_panned_tracks_balance() -> None:
    notes = [(48, 0, 2, 90)]
    score = Score(tracks=(track("L", notes, pan=20), track("R", notes, pan=108)))
    r = render_stems(score, RenderOptions(backend="sine", reverb=0.0, master=False))
    left_stem, right_stem = r.stems["L"].samples, r.stems["R"].samples
    assert rms(left_stem[0]) > 2 * rms(left_stem[1])
    assert rms(right_stem[1]) > 2 * rms(right_stem[0])


def test_volume_lowers_a_stem() -> None:
    notes = [(60, 0, 2, 90)]
    score = Score(tracks=(track("Loud", notes, volume=127), track("Soft", notes, volume=64)))
    r = render_stems(score, RenderOptions(backend="sine", reverb=0.0, master=False))
    ratio = rms(r.stems["Soft"].samples) / rms(r.stems["Loud"].samples)
    assert ratio == pytest.approx((64 / 127) ** 2, rel=1e-3)


def test_reverb_adds_a_tail() -> None:
    score = Score(tracks=(track("Pad", [(60, 0, 1, 90)], role="pad"),))
    dry = render_stems(score, RenderOptions(backend="sine", reverb=0.0, master=False))
    wet = render_stems(score, RenderOptions(backend="sine", reverb=0.8, master=False))
    after = slice(round(1.5 * SR), round(2.5 * SR))  # note and release are over by 1.5 s
    assert rms(dry.premaster.samples[:, after]) < 1e-6
    assert rms(wet.premaster.samples[:, after]) > 1e-4


def test_duplicate_track_names_are_made_unique() -> None:
    notes = [(60, 0, 1, 90)]
    score = Score(tracks=(track("Piano", notes), track("Piano", notes), track(" ", notes)))
    r = render_stems(score, RenderOptions(backend="sine"))
    assert list(r.stems) == ["Piano", "Piano 2", "Track 3"]
    assert unique_names(["a", "a", "a 2"]) == ["a", "a 2", "a 2 2"]


def test_master_off_returns_the_premaster() -> None:
    r = render_stems(melody_score(), RenderOptions(backend="sine", master=False))
    assert np.array_equal(r.mix.samples, r.premaster.samples)


def test_sample_rate_option() -> None:
    score = melody_score()
    audio = render(score, RenderOptions(backend="sine", sample_rate=22050, tail_seconds=1.0))
    assert audio.sample_rate == 22050
    assert abs(audio.frames - (score.duration_seconds + 1.0) * 22050) <= 1


# -- timing --------------------------------------------------------------------------------------


def _onset(x: np.ndarray, threshold: float) -> int:
    loud = np.flatnonzero(np.abs(x).max(axis=0) > threshold)
    return int(loud[0]) if loud.size else -1


@pytest.mark.parametrize("backend", ALL)
def test_tempo_change_moves_the_onset(backend: str) -> None:
    # 4 beats at 120 bpm (2 s), then 60 bpm: beat 6 falls at 2 + 2 * 1 = 4 s (3 s without it).
    # A fingered bass: its SoundFont samples start at once (some pianos begin with silence).
    note = [(45, 6.0, 1.0, 100)]
    steady = Score(tracks=(track("A", note, program=33, role="bass"),),
                   tempos=(TempoChange(0, 120),))
    slowed = steady.replace(tempos=(TempoChange(0, 120), TempoChange(4, 60)))
    options = RenderOptions(backend=backend, reverb=0.0, master=False)
    # FluidSynth starts notes on 64-frame blocks; SoundFont attacks take a few samples.
    tolerance = 2 if backend == "sine" else round(0.002 * SR)
    for score, seconds in ((steady, 3.0), (slowed, 4.0)):
        pre = render_stems(score, options).premaster.samples
        onset = _onset(pre, 1e-4 * np.abs(pre).max())
        assert abs(onset - seconds * SR) <= tolerance, (backend, seconds, onset / SR)


def test_note_spans_follow_the_tempo_map_and_split_retriggers() -> None:
    score = Score(tracks=(track("A", [(60, 0, 4, 80), (60, 2, 1, 90), (62, 5, 1, 70)]),),
                  tempos=(TempoChange(0, 120), TempoChange(4, 60)))
    spans = note_spans(score, score.tracks[0], 1000)
    assert [(s.start, s.end, s.pitch) for s in spans] == [
        (0, 1000, 60), (1000, 1500, 60), (3000, 4000, 62)]
    events = note_events(spans)
    assert [(e.frame, e.on) for e in events[:3]] == [(0, True), (1000, False), (1000, True)]


# -- errors --------------------------------------------------------------------------------------


@pytest.mark.parametrize("backend", [*SOUNDFONTS, "auto"])
def test_missing_soundfont_names_the_file(backend: str, tmp_path) -> None:
    path = tmp_path / "nowhere" / "GeneralUser.sf2"
    with pytest.raises(RenderError, match=re.escape(str(path))) as info:
        render(melody_score(), RenderOptions(backend=backend, soundfont=str(path)))
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("backend", SOUNDFONTS)
def test_corrupt_soundfont_names_the_file(backend: str, tmp_path) -> None:
    path = tmp_path / "broken.sf2"
    path.write_bytes(b"RIFF\x10\x00\x00\x00sfbk" + bytes(range(256)) * 8)
    with pytest.raises(RenderError, match=re.escape(str(path))) as info:
        render(melody_score(), RenderOptions(backend=backend, soundfont=path))
    assert "\n" not in str(info.value)


def test_empty_score_is_refused() -> None:
    with pytest.raises(RenderError, match="no notes"):
        render(Score())
    with pytest.raises(RenderError, match="no notes"):
        render_stems(Score(tracks=(track("Empty", []),), length=8.0))


@pytest.mark.parametrize("change", [
    {"backend": "moog"}, {"reverb": 1.5}, {"chorus": -0.1}, {"sample_rate": 100},
    {"sample_rate": 44100.0}, {"target_lufs": float("nan")}, {"ceiling_dbtp": 3.0},
    {"tail_seconds": -1.0}, {"master": "yes"}, {"soundfont": 42},
])
def test_bad_options_are_refused(change: dict) -> None:
    with pytest.raises(ParameterError):
        RenderOptions(**change)


def test_options_are_frozen_and_keyword_only() -> None:
    options = RenderOptions(reverb=0.5)
    with pytest.raises(dataclasses.FrozenInstanceError):
        options.reverb = 0.1  # type: ignore[misc]
    with pytest.raises(TypeError):
        RenderOptions("sine")  # type: ignore[misc]


def test_render_refuses_what_is_not_a_score() -> None:
    with pytest.raises(ParameterError):
        render("song.mid")  # type: ignore[arg-type]


def test_stems_are_made_on_demand_and_leave_the_mix_alone() -> None:
    score = band_score(2, bpm=100)
    options = RenderOptions(backend="sine", reverb=0.6)
    r = render_stems(score, options)
    mix, pre = r.mix.samples.copy(), r.premaster.samples.copy()
    assert len(r.stems) == len(score.tracks)
    first = r.stems["Pad"]
    assert r.stems["Pad"] is first  # made once
    stems = dict(r.stems)
    assert np.array_equal(r.mix.samples, mix) and np.array_equal(r.premaster.samples, pre)
    total = np.sum([s.samples for s in stems.values()], axis=0, dtype=np.float64)
    np.testing.assert_allclose(total, pre, rtol=0, atol=1e-5)
    # Each stem carries its own reverb: the same as rendering its track alone.
    alone = render_stems(score.replace(tracks=(score.tracks[1],)),
                         RenderOptions(backend="sine", reverb=0.6, master=False))
    assert np.array_equal(alone.stems["Pad"].samples, stems["Pad"].samples)
    with pytest.raises(KeyError):
        r.stems["Nobody"]


@pytest.mark.parametrize("backend", ["sine", *SOUNDFONTS])
def test_mix_only_render_equals_the_stems_render_bit_for_bit(backend: str) -> None:
    score = band_score(4, bpm=110)
    options = RenderOptions(backend=backend)
    full = render_stems(score, options)
    lean = render_stems(score, options, stems=False)
    assert dict(lean.stems) == {}
    np.testing.assert_array_equal(lean.premaster.samples, full.premaster.samples)
    np.testing.assert_array_equal(lean.mix.samples, full.mix.samples)


def test_dc_block_is_the_one_pole_blocker_and_removes_an_offset() -> None:
    from scipy.signal import lfilter

    from tunecraft.synth.mixer import DC_CUTOFF_HZ, dc_block

    sr = 8000
    rng = np.random.default_rng(3)
    x = (rng.standard_normal((2, 3 * sr + 17)) * 0.1 + 0.3).astype(np.float32)
    r = 1.0 - 2.0 * np.pi * DC_CUTOFF_HZ / sr
    expected = lfilter([1.0, -1.0], [1.0, -r], x.astype(np.float64), axis=-1)
    y = dc_block(x, sr)
    assert y.dtype == np.float32 and y.shape == x.shape
    np.testing.assert_allclose(y, expected, atol=1e-6)
    assert np.abs(y[:, sr:].mean(axis=1)).max() < 1e-3  # the 0.3 offset is gone
    tone = np.sin(2 * np.pi * 440 * np.arange(sr) / sr)[None].astype(np.float32)
    passed = dc_block(tone, sr)[:, sr // 2:]  # notes pass at full level (within 0.05 dB)
    assert np.sqrt(np.mean(passed ** 2)) == pytest.approx(np.sqrt(0.5), rel=6e-3)


def test_a_pad_patch_leaves_no_dc_in_the_mix_or_its_stem() -> None:
    """General MIDI pads (FluidR3's warm pad, 89) carry a DC offset; the render removes it."""
    pad = Score(tracks=(track("Pad", [(48 + i % 12, i * 4.0, 4.0) for i in range(6)],
                              program=89),), tempos=(TempoChange(0, 90),))
    r = render_stems(pad, RenderOptions(backend="auto"))
    assert np.abs(r.mix.samples.mean(axis=1)).max() < 1e-3
    assert np.abs(r.stems["Pad"].samples.mean(axis=1)).max() < 1e-3
