"""Melody conditioning: a sung tune arranged in a style, kept note for note in the lead."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "transcribe"))

import itertools

from test_hum import TUNES, sing, tune_notes, tune_score

from tunecraft.compose.harmonize import chord_tone_ratio, harmonize
from tunecraft.errors import InputFileError, ParameterError
from tunecraft.score import KeySignature, TimeSignature


@pytest.fixture(scope="module")
def ode():
    from tunecraft.transcribe.hum import track_melody

    tune, bpm = TUNES["ode_to_joy"]
    return track_melody(sing(tune_notes(tune, bpm), seed=3))


def _lead_keeps_tune(result) -> float:
    """Share of heard notes found in the lead's melody section: same pitch class, same
    onset relative to the tune's first note (an octave shift allowed)."""
    heard = result.meta["melody_heard"]["notes"]
    start = result.meta["conditioning"]["melody_start_beat"]
    end = start + max(n["beat"] + n["beats"] for n in heard) + 1e-6
    lead = [n for n in _lead_notes(result) if start - 1e-6 <= n.start < end]
    got = {(round(n.start - start, 3), n.pitch % 12) for n in lead}
    return sum((round(n["beat"], 3), n["pitch"] % 12) in got for n in heard) / len(heard)


def _lead_notes(result):
    return result.score.track(result.meta["conditioning"]["lead"]).notes


@pytest.mark.parametrize("prompt", ["opera", "guitar solo", "a cappella choir", "string quartet",
                                    "tribal sounds with flutes", "jazz with saxophone",
                                    "electronic synth lead"])
def test_every_seed_style_keeps_the_tune(ode, prompt):
    from tunecraft.compose.arrange import arrange

    r = arrange(ode, prompt, seed=4)
    assert _lead_keeps_tune(r) >= 0.95
    assert r.meta["conditioning"]["octave_shift"] % 12 == 0
    s = r.score
    assert s.bpm == pytest.approx(ode.bpm) and s.key.name == ode.key.name
    assert str(s.time_signature) == str(ode.meter)
    assert [x.name for x in s.sections] == ["intro", "melody", "ending"]
    assert s.chords[-1].root == ode.key.tonic
    assert r.spec.bpm == pytest.approx(ode.bpm)
    # The harmony fits the tune: strong-beat notes are chord tones.
    start = r.meta["conditioning"]["melody_start_beat"]
    lead = [n for n in _lead_notes(r) if start <= n.start]
    chords = [c for c in s.chords if c.start >= start]
    assert chord_tone_ratio(lead, chords, s.time_signature) >= 0.8


def test_a_cappella_is_voices_only(ode):
    from tunecraft.compose.arrange import arrange

    s = arrange(ode, "a cappella choir", seed=1).score
    assert len(s.tracks) == 4
    assert all(t.program in (52, 53, 54, 85) and not t.is_drum for t in s.tracks)
    # SATB: each voice one line, below the one above on average.
    means = [sum(n.pitch for n in t.notes) / len(t.notes) for t in s.tracks]
    assert means == sorted(means, reverse=True)


def test_string_quartet_is_four_strings(ode):
    from tunecraft.compose.arrange import arrange

    s = arrange(ode, "string quartet", seed=1).score
    assert [t.program for t in s.tracks] == [40, 40, 41, 42]
    assert not any(t.is_drum for t in s.tracks)


def test_longer_duration_repeats_the_tune(ode):
    from tunecraft.compose.arrange import arrange

    r = arrange(ode, "jazz with saxophone", seed=2, duration=50)
    assert [x.name for x in r.score.sections] == ["intro", "melody", "melody 2", "ending"]
    assert abs(r.score.duration_seconds - 50) < 12
    # Same seed, same arrangement.
    assert arrange(ode, "jazz with saxophone", seed=2, duration=50).score == r.score


@pytest.mark.parametrize("name,key", [("ode_to_joy", "D major"), ("twinkle", "C major"),
                                      ("bella_ciao", "A minor")])
@pytest.mark.parametrize("style", ["classical", "jazz", "rock"])
def test_harmonize_fits_and_cadences(name, key, style):
    from tunecraft.styles import load_style

    tune, bpm = TUNES[name]
    notes = tune_score(tune, bpm).tracks[0].notes
    k = KeySignature.parse(key)
    meter = TimeSignature(0, 4, 4)
    length = max(n.end for n in notes)
    chords = harmonize(notes, key=k, meter=meter, style=load_style(style), length_beats=length,
                       seed=0)
    assert chord_tone_ratio(notes, chords, meter) >= 0.8
    assert chords[0].start == 0 and chords[-1].end == pytest.approx(-(-length // 4) * 4)
    assert chords[-1].root == k.tonic
    assert all(a.end == pytest.approx(b.start) for a, b in itertools.pairwise(chords))
    assert chords == harmonize(notes, key=k, meter=meter, style=load_style(style),
                               length_beats=length, seed=0)


def test_api_arrange_writes_what_was_heard(tmp_path):
    import soundfile as sf

    import tunecraft.api as api

    tune, bpm = TUNES["twinkle"]
    audio = sing(tune_notes(tune, bpm), kind="whistle", seed=1)
    path = tmp_path / "whistle.wav"
    sf.write(path, audio.samples[0], audio.sample_rate)
    r = api.arrange(path, "string quartet", seed=3, render=True, stems=True)
    bundle = r.save(tmp_path / "out.wav", stems=True)
    data = json.loads(bundle.json.read_text())
    heard = data["melody_heard"]
    assert heard["bpm"] == pytest.approx(bpm, rel=0.05)
    assert heard["key"] == "C major" and heard["meter"] == "4/4"
    assert heard["notes"][0]["name"].startswith("C") and "onset_seconds" in heard["notes"][0]
    assert data["conditioning"]["set_by_melody"] == ["tempo", "key", "meter"]
    assert "come from the melody" in data["explanation"][0]
    assert len(bundle.stems) == 4


def test_api_arrange_takes_a_midi_melody(tmp_path):
    import tunecraft.api as api

    tune, bpm = TUNES["bella_ciao"]
    api.save_score(tune_score(tune, bpm), tmp_path / "tune.mid")
    r = api.arrange(tmp_path / "tune.mid", "guitar solo", seed=1, render=False)
    assert r.meta["melody_heard"]["key"] == "A minor" and r.score.bpm == bpm
    assert _lead_keeps_tune(r) == 1.0


def test_bad_melodies_are_refused(tmp_path):
    import numpy as np
    import soundfile as sf

    import tunecraft.api as api

    silent = tmp_path / "silent.wav"
    sf.write(silent, np.zeros(22050 * 2, np.float32), 22050)
    with pytest.raises(InputFileError, match="no melody was heard"):
        api.arrange(silent, "opera", seed=1, render=False)
    with pytest.raises(InputFileError, match="unknown melody file type"):
        api.arrange(tmp_path / "x.txt", "opera", seed=1, render=False)
    with pytest.raises(ParameterError):
        api.arrange(42, "opera", seed=1, render=False)
