"""The command line, run through the installed entry point as a user would."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import mido
import numpy as np
import pytest
import soundfile as sf

from builders import band_score
from tunecraft.io.midi import write_midi
from tunecraft.score import Score

EXE = shutil.which("tunecraft", path=str(Path(sys.executable).parent)) or "tunecraft"


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    return subprocess.run([EXE, *args], capture_output=True, text=True, cwd=cwd, env=env,
                          timeout=300, check=False)


@pytest.fixture(scope="module")
def song(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("in") / "song.mid"
    write_midi(band_score(4, bpm=100, n_tracks=4), path)
    return path


def test_version_and_help_are_quick():
    t = time.perf_counter()
    r = run("--help")
    assert r.returncode == 0
    assert time.perf_counter() - t < 5  # the figure itself lives in benchmarks/render.py
    for cmd in ("render", "info", "convert", "demo"):
        assert cmd in r.stdout
    v = run("--version")
    assert v.returncode == 0 and "tunecraft" in v.stdout


def test_render_writes_the_bundle_and_stems(song, tmp_path):
    out = tmp_path / "mix" / "song.wav"
    r = run("render", str(song), "-o", str(out), "--stems", "--backend", "sine")
    assert r.returncode == 0, r.stderr
    for ext in (".wav", ".mid", ".musicxml", ".json"):
        assert out.with_suffix(ext).stat().st_size > 0
    audio, sr = sf.read(out, always_2d=True)
    assert sr == 44100 and audio.shape[1] == 2
    score_seconds = 4 * 4 * 60 / 100
    assert score_seconds <= audio.shape[0] / sr <= score_seconds + 4
    stems = sorted((tmp_path / "mix" / "song-stems").glob("*.wav"))
    assert len(stems) == 4
    assert {sf.info(p).frames for p in stems} == {audio.shape[0]}
    meta = json.loads(out.with_suffix(".json").read_text())
    assert Score.from_dict(meta["score"]).note_count == band_score(4, n_tracks=4).note_count
    assert abs(meta["audio"]["loudness_lufs"] + 14) < 1


def test_info_describes_the_score(song):
    r = run("info", str(song))
    assert r.returncode == 0, r.stderr
    for word in ("100 bpm", "C major", "4/4", "Lead", "Bass", "verse"):
        assert word in r.stdout
    j = run("info", str(song), "--json")
    data = json.loads(j.stdout)
    assert data["kind"] == "score"


def test_convert_midi_musicxml_and_audio(song, tmp_path):
    xml = tmp_path / "song.musicxml"
    assert run("convert", str(song), str(xml)).returncode == 0
    back = tmp_path / "back.mid"
    r = run("convert", str(xml), str(back))
    assert r.returncode == 0, r.stderr
    wav = tmp_path / "tone.wav"
    t = np.arange(44100) / 44100
    sf.write(wav, np.stack([np.sin(2 * np.pi * 440 * t)] * 2, axis=1) * 0.3, 44100)
    for ext in (".mp3", ".flac"):
        r = run("convert", str(wav), str(tmp_path / f"tone{ext}"))
        assert r.returncode == 0, r.stderr
        info = sf.info(tmp_path / f"tone{ext}")
        assert abs(info.duration - 1.0) < 0.1


def _assert_clean_failure(r: subprocess.CompletedProcess[str], needle: str) -> None:
    assert r.returncode == 2, (r.stdout, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert "Traceback" not in r.stderr
    assert needle in lines[0], lines[0]


def test_bad_inputs_exit_2_with_one_line(tmp_path, song):
    out = tmp_path / "o.wav"
    _assert_clean_failure(run("render", str(tmp_path / "nope.mid"), "-o", str(out)),
                          "no such file")
    (tmp_path / "empty.mid").write_bytes(b"")
    _assert_clean_failure(run("render", str(tmp_path / "empty.mid"), "-o", str(out)), "empty")
    # A header announcing two tracks, then a track chunk cut short.
    (tmp_path / "bad.mid").write_bytes(b"MThd\x00\x00\x00\x06\x00\x01\x00\x02\x01\xe0"
                                       b"MTrk\x00\x00\x10\x00\x00\x90\x3c")
    _assert_clean_failure(run("render", str(tmp_path / "bad.mid"), "-o", str(out)),
                          "not a valid MIDI")
    (tmp_path / "song.xyz").write_text("x")
    _assert_clean_failure(run("render", str(tmp_path / "song.xyz"), "-o", str(out)),
                          "unknown file type")
    _assert_clean_failure(run("render", str(song), "-o", str(tmp_path / "o.doc")),
                          "unknown audio file type")
    write_midi(Score(), tmp_path / "silent.mid")
    _assert_clean_failure(run("render", str(tmp_path / "silent.mid"), "-o", str(out)),
                          "no notes")
    blocker = tmp_path / "afile"
    blocker.write_text("I am a file, not a folder")
    _assert_clean_failure(run("render", str(song), "-o", str(blocker / "o.wav")), "afile")
    _assert_clean_failure(run("info", str(tmp_path / "bad.mid")), "not a valid MIDI")
    _assert_clean_failure(run("convert", str(song), str(tmp_path / "x.pdf")), "unknown")
    (tmp_path / "bad.wav").write_bytes(b"RIFF" + bytes(range(256)) * 2)
    _assert_clean_failure(run("convert", str(tmp_path / "bad.wav"), str(tmp_path / "x.mp3")),
                          "bad.wav")
    # Nothing half-written anywhere.
    leftovers = [p.name for p in tmp_path.rglob("*") if ".part" in p.name or p.name.startswith(
        "o.")]
    assert leftovers == []
    assert not out.exists()


def test_explain_shows_values_and_the_words_behind_them():
    r = run("explain", "sad", "waltz", "for", "cello", "en", "re", "menor", "at", "84", "bpm")
    assert r.returncode == 0, r.stderr
    assert "waltz" in r.stdout and "3/4" in r.stdout and "84 bpm" in r.stdout
    assert "D minor" in r.stdout and "cello" in r.stdout
    j = json.loads(run("explain", "punk rock, 180 bpm", "--json").stdout)
    assert j["bpm"] == 180 and j["style"] == "punk"


@pytest.mark.parametrize("args", [("",), ("jazz", "--bpm", "0"), ("jazz", "--key", "H# minor"),
                                  ("jazz", "--meter", "0/4"), ("jazz", "--duration", "-5")])
def test_explain_refuses_impossible_requests(args):
    _assert_clean_failure(run("explain", *args), "")


def test_stems_on_disk_sum_to_the_premaster(song, tmp_path):
    from tunecraft import load
    from tunecraft.synth import RenderOptions, render_stems

    out = tmp_path / "s.wav"
    assert run("render", str(song), "-o", str(out), "--stems", "--backend", "sine").returncode == 0
    stems = [sf.read(p, always_2d=True)[0] for p in sorted((tmp_path / "s-stems").glob("*.wav"))]
    r = render_stems(load(song), options=RenderOptions(backend="sine"))
    np.testing.assert_allclose(sum(stems).T, r.premaster.samples, atol=1e-5)


def test_generate_writes_the_bundle_with_the_request(tmp_path):
    out = tmp_path / "g" / "bossa.wav"
    r = run("generate", "upbeat bossa nova with flute, en mi menor", "--duration", "8",
            "--seed", "3", "--backend", "sine", "-o", str(out))
    assert r.returncode == 0, r.stderr
    assert "bossa nova" in r.stdout and "E minor" in r.stdout
    data = json.loads(out.with_suffix(".json").read_text())
    assert data["request"] == {"prompt": "upbeat bossa nova with flute, en mi menor", "seed": 3}
    assert data["adherence"]["passed"] is True
    assert sf.info(out).duration >= 8 - 60 / data["spec"]["bpm"] * 4


@pytest.mark.parametrize(("args", "needle"), [
    (("   ",), "empty"),
    (("jazz", "--bpm", "0"), "bpm"),
    (("jazz", "--bpm", "2000"), "bpm"),
    (("jazz", "--duration", "-5"), "duration"),
    (("jazz", "--duration", "36000"), "duration"),
    (("jazz", "--key", "H# minor"), "key"),
    (("jazz", "--meter", "0/4"), "meter"),
    (("x" * 100_000,), "long"),
])
def test_generate_refuses_impossible_requests_and_writes_nothing(tmp_path, args, needle):
    out = tmp_path / "x.wav"
    r = run("generate", *args, "-o", str(out))
    _assert_clean_failure(r, needle)
    assert list(tmp_path.iterdir()) == []


def test_generate_sings_lyrics_into_midi_lyric_events(tmp_path):
    out = tmp_path / "song.wav"
    words = "We light up the sky tonight, every heart is burning bright"
    r = run("generate", "pop song", "--lyrics", words, "--duration", "20", "--seed", "2",
            "--backend", "sine", "-q", "-o", str(out))
    assert r.returncode == 0, r.stderr
    midi = mido.MidiFile(out.with_suffix(".mid"))
    sung = [m.text for t in midi.tracks for m in t if m.type == "lyrics"]
    assert sung[:4] == ["We", "light", "up", "the"]
    assert json.loads(out.with_suffix(".json").read_text())["lyrics"]["syllables"] == len(sung)
    _assert_clean_failure(run("generate", "pop", "--lyrics", " ... ", "-o",
                              str(tmp_path / "e.wav")), "lyrics are empty")
    _assert_clean_failure(run("generate", "pop", "--lyrics", str(tmp_path / "missing.txt"),
                              "-o", str(tmp_path / "e.wav")), "missing.txt")


def test_story_switches_where_asked(tmp_path):
    out = tmp_path / "story.wav"
    r = run("story", "0:00 time to meditate", "0:12 time to run", "--duration", "24",
            "--seed", "1", "--backend", "sine", "-o", str(out))
    assert r.returncode == 0, r.stderr
    data = json.loads(out.with_suffix(".json").read_text())
    names = [s["name"] for s in data["summary"]["sections"]]
    assert names == ["time to meditate", "time to run"]
    second = data["summary"]["sections"][1]["start_seconds"]
    assert abs(second - 12) < 4  # the nearest bar line of a slow meditation bar
    bad = tmp_path / "bad.wav"
    _assert_clean_failure(run("story", "0:10 late start", "-o", str(bad)), "0:00")
    _assert_clean_failure(run("story", "0:00 a", "0:20 b", "0:10 c", "-o", str(bad)), "order")
