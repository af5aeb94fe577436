"""The adherence report: every guarantee is checked, and each fault fails its own check."""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

# Keep librosa's numba code compiled between runs (the Makefile exports the same folder).
os.environ.setdefault("NUMBA_CACHE_DIR",
                      str(Path(__file__).resolve().parents[2] / ".cache" / "numba"))

import pytest

from builders import band_score, track
from tunecraft.audio import Audio
from tunecraft.errors import ParameterError
from tunecraft.evaluate import AdherenceReport, Check, adherence, key_estimate, tempo_estimate
from tunecraft.score import KeySignature, Score, Section, TempoChange, TimeSignature
from tunecraft.score.transforms import transpose
from tunecraft.understand import parse

adherence_module = importlib.import_module("tunecraft.evaluate.adherence")

PROMPT = "pop at 120 bpm in C major with flute, 32 seconds"


@pytest.fixture(scope="module")
def spec():
    return parse(PROMPT)


@pytest.fixture(scope="module")
def score() -> Score:
    return band_score(16)  # 16 bars of 4/4 at 120 bpm: 32 s, C major, flute lead, drums


def failed(report: AdherenceReport) -> list[str]:
    return [c.name for c in report.failures]


# -- a matching score ---------------------------------------------------------------------------


def test_matching_score_passes_every_check(spec, score):
    report = adherence(spec, score)
    assert report.passed, report.summary()
    assert report.failures == ()
    assert report.warnings == ()
    assert report.summary() == "all guarantees hold"
    expected = ["tempo", "key", "key_analysis", "meter", "instruments", "excluded", "drums",
                "length", "sections", "sections_cover"]
    assert list(report.names) == expected
    assert report["tempo"].measured == [{"beat": 0.0, "bpm": 120.0}]
    assert not report["key_analysis"].hard and not report["sections_cover"].hard
    assert report.get("tempo_audio") is None  # no audio given


def test_adherence_is_fast_and_never_imports_librosa(tmp_path):
    code = (
        "import sys, time\n"
        f"sys.path.insert(0, {str(Path(__file__).parents[1])!r})\n"
        "from builders import band_score\n"
        "from tunecraft.understand import parse\n"
        "from tunecraft.evaluate import adherence\n"
        "from tunecraft.audio import Audio\n"
        f"spec = parse({PROMPT!r})\n"
        "score = band_score(15)\n"
        "audio = Audio.silence(score.duration_seconds + 1.0)\n"
        "t = time.perf_counter()\n"
        "report = adherence(spec, score, audio, audio_tempo=False)\n"
        "print(time.perf_counter() - t)\n"
        "assert report.passed, report.summary()\n"
        "assert 'librosa' not in sys.modules and 'numba' not in sys.modules\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=60, check=False)
    assert out.returncode == 0, out.stderr
    assert float(out.stdout.strip()) < 0.3  # a 30 s piece, first call in a fresh process


# -- each fault fails its own check, and only it ------------------------------------------------


def test_wrong_tempo_fails_tempo_only(spec, score):
    report = adherence(spec, score.replace(tempos=(TempoChange(0, 121.0),)))
    assert failed(report) == ["tempo"]
    assert "121" in report["tempo"].note and "120" in report["tempo"].note


def test_a_tempo_change_fails_tempo(spec, score):
    slower = score.replace(tempos=(TempoChange(0, 120.0), TempoChange(60, 118.0)))
    report = adherence(spec, slower)
    assert failed(report) == ["tempo"]
    assert "changes" in report["tempo"].note


def test_wrong_key_fails_key_only(spec, score):
    report = adherence(spec, score.replace(key_signatures=(KeySignature(0, 2, "major"),)))
    assert failed(report) == ["key"]
    assert "D major" in report["key"].note
    # The notes are still in C major, as asked: only the written signature is wrong.
    assert report["key_analysis"].passed and report["key_analysis"].measured["key"] == "C major"


def test_notes_in_another_key_fail_the_soft_analysis_only(spec, score):
    d_major = transpose(score, 2).replace(key_signatures=(KeySignature(0, 0, "major"),))
    report = adherence(spec, d_major)
    assert report.passed
    assert [c.name for c in report.warnings] == ["key_analysis"]
    assert "D major" in report["key_analysis"].note


def test_wrong_meter_fails_meter_only(spec, score):
    report = adherence(spec, score.replace(time_signatures=(TimeSignature(0, 3, 4),)))
    assert failed(report) == ["meter"]
    assert report["meter"].measured == ["3/4"]


def test_missing_requested_instrument_fails_instruments_only(score):
    spec = parse("pop at 120 bpm in C major with flute and cello, 32 seconds")
    report = adherence(spec, score)
    assert failed(report) == ["instruments"]
    assert "cello" in report["instruments"].note and "flute" not in report["instruments"].note


def test_silent_requested_track_does_not_count(spec, score):
    tracks = tuple(t.with_notes(()) if t.name == "Lead" else t for t in score.tracks)
    report = adherence(spec, score.replace(tracks=tracks, length=score.length))
    assert failed(report) == ["instruments"]


def test_drums_present_when_excluded_fails_drums_only(score):
    spec = parse("pop at 120 bpm in C major with flute, no drums, 32 seconds")
    assert not spec.drums
    report = adherence(spec, score)
    assert failed(report) == ["drums"]
    without = score.replace(tracks=tuple(t for t in score.tracks if not t.is_drum),
                            length=score.length)
    assert adherence(spec, without).passed


def test_missing_drums_fails_drums_when_the_style_has_a_kit(spec, score):
    without = score.replace(tracks=tuple(t for t in score.tracks if not t.is_drum),
                            length=score.length)
    assert failed(adherence(spec, without)) == ["drums"]


def test_excluded_families_fail_excluded_only(score):
    spec = parse("pop at 120 bpm in C major with flute, no strings, 32 seconds")
    report = adherence(spec, score)
    assert failed(report) == ["excluded"]
    assert "Strings" in report["excluded"].note
    guitar = track("Guitar", [(64, 0, 1, 80)], program=25, role="chords")
    spec = parse("pop at 120 bpm in C major with flute, no guitar, 32 seconds")
    assert adherence(spec, score).passed
    report = adherence(spec, score.replace(tracks=(*score.tracks, guitar), length=score.length))
    assert failed(report) == ["excluded"]


def test_too_short_fails_length_only(spec):
    report = adherence(spec, band_score(14))  # 28 s for 32 s asked, a bar is 2 s
    assert failed(report) == ["length"]
    assert adherence(spec, band_score(15)).passed  # 30 s: within one bar


def test_audio_length_is_checked(spec, score):
    full = Audio.silence(score.duration_seconds + 1.5, sample_rate=8000)
    assert adherence(spec, score, full, audio_tempo=False).passed
    short = Audio.silence(score.duration_seconds - 1.0, sample_rate=8000)
    long = Audio.silence(score.duration_seconds + 4.0, sample_rate=8000)
    assert failed(adherence(spec, score, short, audio_tempo=False)) == ["audio_length"]
    assert failed(adherence(spec, score, long, audio_tempo=False)) == ["audio_length"]


def test_sections_missing_is_hard_and_gaps_are_soft(spec, score):
    assert failed(adherence(spec, score.replace(sections=(), length=score.length))) == [
        "sections"]
    gappy = score.replace(sections=(Section("verse", 0, 16), Section("chorus", 32, 16)),
                          length=score.length)
    report = adherence(spec, gappy)
    assert report.passed
    assert [c.name for c in report.warnings] == ["sections_cover"]


def test_bad_arguments_are_named(spec, score):
    with pytest.raises(ParameterError):
        adherence("pop at 120 bpm", score)  # type: ignore[arg-type]
    with pytest.raises(ParameterError):
        adherence(spec, score.to_dict())  # type: ignore[arg-type]


# -- key estimate ---------------------------------------------------------------------------------


def test_key_estimate_finds_c_major_in_the_band_score(score):
    tonic, mode, r = key_estimate(score)
    assert (tonic, mode) == (0, "major")
    assert r > 0.7


def _c_minor_piece() -> Score:
    """Eight bars in C minor: i - iv - V - i twice, a harmonic-minor tune and a bass line."""
    chords = [(48, (0, 3, 7)), (53, (0, 3, 7)), (55, (0, 4, 7)), (48, (0, 3, 7))] * 2
    tune = [60, 62, 63, 65, 67, 68, 67, 65, 63, 62, 59, 62, 60, 63, 67, 72]
    harmony, bass, melody = [], [], []
    for bar, (root, shape) in enumerate(chords):
        harmony.extend((root + 12 + i, bar * 4.0, 4.0, 60) for i in shape)
        bass.extend(((root - 12, bar * 4.0, 2.0, 90), (root - 5, bar * 4.0 + 2, 2.0, 80)))
    melody = [(p, i * 2.0, 2.0, 85) for i, p in enumerate(tune)]
    return Score(tracks=(track("Tune", melody, program=40, role="lead"),
                         track("Harmony", harmony, program=48, role="strings"),
                         track("Bass", bass, program=32, role="bass")),
                 key_signatures=(KeySignature(0, 0, "minor"),),
                 sections=(Section("verse", 0, 32),), length=32.0)


def test_key_estimate_finds_a_minor_in_a_transposed_minor_piece():
    assert key_estimate(_c_minor_piece())[:2] == (0, "minor")
    a_minor = transpose(_c_minor_piece(), -3)
    tonic, mode, r = key_estimate(a_minor)
    assert (tonic, mode) == (9, "minor")
    assert r > 0.7
    spec = parse("sad piece in A minor at 120 bpm, 16 seconds")
    report = adherence(spec, a_minor)
    assert report["key"].passed and report["key_analysis"].passed


def test_relative_key_is_accepted_by_the_soft_analysis(score):
    spec = parse("pop at 120 bpm in A minor with flute, 32 seconds")
    report = adherence(spec, score.replace(key_signatures=(KeySignature(0, 9, "minor"),)))
    assert report.passed
    assert report["key_analysis"].passed and "relative" in report["key_analysis"].note


def test_key_estimate_needs_pitched_notes():
    drums_only = Score(tracks=(track("Drums", [(36, 0, 1, 100)], is_drum=True, role="drums"),))
    with pytest.raises(ParameterError, match="no pitched notes"):
        key_estimate(drums_only)


# -- audio tempo ---------------------------------------------------------------------------------


def _drum_audio(bpm: float, bars: int = 8) -> tuple[Score, Audio]:
    from tunecraft.synth import RenderOptions, render

    band = band_score(bars, bpm=bpm)
    drums = band.replace(tracks=(band.track("Drums"),), length=band.length)
    return drums, render(drums, RenderOptions(backend="sine"))


@pytest.mark.parametrize("bpm", [100.0, 128.0])
def test_audio_tempo_estimate_of_a_drum_pattern(bpm):
    score, audio = _drum_audio(bpm)
    heard = tempo_estimate(audio)
    assert min(abs(heard / (bpm * r) - 1.0) for r in (1.0, 2.0, 0.5)) <= 0.04, heard
    spec = parse(f"pop at {bpm:g} bpm in C major, {score.duration_seconds:g} seconds")
    report = adherence(spec, score, audio)
    check = report["tempo_audio"]
    assert check.passed and not check.hard, check
    assert check.measured["bpm"] == pytest.approx(heard, abs=0.01)
    json.dumps(report.to_dict())


def test_tempo_estimate_on_silence_or_short_audio_is_nan_and_soft(spec, score):
    import math

    assert math.isnan(tempo_estimate(Audio.silence(2.0, sample_rate=8000)))
    report = adherence(spec, score, Audio.silence(score.duration_seconds + 1, sample_rate=8000))
    assert report.passed  # only the soft check could not measure anything
    assert not report["tempo_audio"].passed and report["tempo_audio"].measured is None


def test_octave_and_compound_meter_relatives(monkeypatch):
    waltz_68 = parse("folk jig in 6/8 at 120 bpm in D major, 16 seconds")
    assert waltz_68.meter == (6, 8)
    four = parse("pop at 120 bpm in C major, 16 seconds")
    silence = Audio.silence(18.0, sample_rate=8000)

    def heard(bpm: float):
        monkeypatch.setattr(adherence_module, "tempo_estimate", lambda audio, prior=None: bpm)

    def judged(spec) -> Check:
        return adherence_module._check_audio_tempo(spec, silence)

    heard(81.5)  # dotted quarters in 6/8 at 120 quarter-note bpm are 80 per minute
    assert judged(waltz_68).passed and not judged(four).passed
    heard(238.0)
    assert judged(waltz_68).passed and judged(four).passed
    heard(131.0)  # 9 % off
    assert not judged(four).passed


def test_report_to_dict_is_json(spec, score):
    report = adherence(spec, score, Audio.silence(score.duration_seconds, sample_rate=8000),
                       audio_tempo=False)
    data = json.loads(json.dumps(report.to_dict()))
    assert data["passed"] is True and data["failures"] == []
    assert {c["name"] for c in data["checks"]} >= {"tempo", "key", "meter", "audio_length"}
    bad = adherence(spec, score.replace(tempos=(TempoChange(0, 90.0),)))
    data = json.loads(json.dumps(bad.to_dict()))
    assert data["passed"] is False and "tempo" in data["failures"]


def test_timing_of_the_audio_check_is_reasonable():
    _, audio = _drum_audio(120.0, bars=4)
    tempo_estimate(audio)  # compile or load numba's code once
    t = time.perf_counter()
    tempo_estimate(audio)
    assert time.perf_counter() - t < 2.0
