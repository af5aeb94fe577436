"""Safe outputs and hostile input: what a new user and a hostile battery found (issue 8).

Every refusal is exit 2 with one line on stderr and leaves nothing behind; nothing the user did
not name is replaced; a tiny file cannot claim hours of music; the same request gives the same
bytes.
"""

from __future__ import annotations

import errno
import json
import os
import random
import signal
import struct
import subprocess
import sys
import time
from pathlib import Path

import mido
import pytest

from builders import band_score, melody_score
from test_cli import _assert_clean_failure, run
from tunecraft.errors import InputFileError, OutputFileError, ParameterError
from tunecraft.io.midi import read_midi, write_midi
from tunecraft.score import Note, Score, Section, TempoChange, Track

REPO = Path(__file__).resolve().parents[1]


def _vlq(n: int) -> bytes:
    out = [n & 0x7F]
    n >>= 7
    while n:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    return bytes(reversed(out))


def _smf(track: bytes, tpq: int = 96) -> bytes:
    return (b"MThd" + struct.pack(">IHHH", 6, 0, 1, tpq)
            + b"MTrk" + struct.pack(">I", len(track)) + track)


NOTE = b"\x00\x90\x3c\x40" + _vlq(96) + b"\x80\x3c\x00"
END = b"\x00\xff\x2f\x00"


def _hidden(folder: Path) -> list[str]:
    return [p.name for p in folder.rglob(".*")]


# -- a fresh clone ------------------------------------------------------------------------------


def test_tests_and_benchmarks_read_nothing_outside_the_repository():
    import re

    # The project's reference folder sits beside the checkout, not in a clone; spelled in
    # pieces so that this file does not match itself.
    outside = "sha" + "red"
    pattern = re.compile(r"\.\./" + outside + r"|['\"]" + outside + r"['\"]|/work/" + outside)
    offenders = [str(f.relative_to(REPO)) for folder in ("tests", "benchmarks")
                 for f in (REPO / folder).rglob("*.py")
                 if pattern.search(f.read_text(encoding="utf-8"))]
    assert offenders == []


def test_the_verb_render_is_not_shadowed_by_a_subpackage():
    code = ("import tunecraft; r = tunecraft.generate('jazz trio', duration=5, seed=1, "
            "options=tunecraft.RenderOptions(backend='sine')); "
            "a = tunecraft.render(r.score, backend='sine'); print(type(tunecraft.render).__name__,"
            " a.channels)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=False, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["function", "2"]


# -- outputs: never replace what the user did not name ------------------------------------------


@pytest.fixture
def song(tmp_path) -> Path:
    path = tmp_path / "song.mid"
    write_midi(band_score(2, bpm=120, n_tracks=3), path)
    return path


def test_an_existing_bundle_is_kept_unless_forced(tmp_path, song):
    out = tmp_path / "out" / "song.wav"
    assert run("render", str(song), "-o", str(out), "--backend", "sine", "--stems").returncode == 0
    before = {p: p.stat().st_mtime_ns for p in out.parent.rglob("*")}
    r = run("render", str(song), "-o", str(out), "--backend", "sine")
    _assert_clean_failure(r, "a bundle is already there")
    assert "--force" in r.stderr
    assert {p: p.stat().st_mtime_ns for p in out.parent.rglob("*")} == before
    # --force replaces the whole bundle: the old stems do not stay beside a new mix.
    r = run("render", str(song), "-o", str(out), "--backend", "sine", "--force")
    assert r.returncode == 0, r.stderr
    assert not (out.parent / "song-stems").exists()
    assert "stems" not in json.loads(out.with_suffix(".json").read_text())
    assert _hidden(out.parent) == []


@pytest.mark.parametrize("target", ["song.wav", "song.mid-as-json"])
def test_a_bundle_never_replaces_its_own_input(tmp_path, song, target):
    if target == "song.wav":  # the bundle's .mid would be the input
        out = tmp_path / "song.wav"
        src = song
    else:  # rendering a bundle's JSON back into the same bundle
        src = tmp_path / "b.json"
        assert run("render", str(song), "-o", str(tmp_path / "b.wav"),
                   "--backend", "sine").returncode == 0
        out = tmp_path / "b.wav"
    data = src.read_bytes()
    r = run("render", str(src), "-o", str(out), "--backend", "sine", "--force")
    _assert_clean_failure(r, "would replace its own input")
    assert src.read_bytes() == data


def test_arrange_and_continue_refuse_to_write_over_their_input(tmp_path):
    from tunecraft.demo import ODE_TO_JOY, sing, tune_notes
    from tunecraft.io.audio import write_audio

    hum = tmp_path / "hum.wav"
    write_audio(sing(tune_notes(ODE_TO_JOY[:8], 100), seed=1), hum)
    data = hum.read_bytes()
    _assert_clean_failure(run("arrange", str(hum), "string quartet", "-o", str(hum), "--force"),
                          "its own input")
    _assert_clean_failure(run("continue", str(hum), "--duration", "5", "-o", str(hum)),
                          "its own input")
    assert hum.read_bytes() == data


def test_a_refused_command_leaves_no_folder_behind(tmp_path, song):
    out = tmp_path / "new" / "deeper" / "x.wav"
    _assert_clean_failure(run("render", str(tmp_path / "missing.mid"), "-o", str(out)),
                          "no such file")
    _assert_clean_failure(run("generate", "\U0001F3B8\U0001F3B8", "-o", str(out)), "no words")
    assert not (tmp_path / "new").exists()


def test_a_full_disk_names_the_file_not_a_temporary_one(tmp_path, monkeypatch):
    from tunecraft import api

    def full(self, *a, **k):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(mido.MidiFile, "save", full)
    out = tmp_path / "x.wav"
    with pytest.raises(OutputFileError) as info:
        api.save(melody_score(), out, backend="sine")
    assert str(info.value).startswith(str(out.with_suffix(".mid")))
    assert "No space left" in str(info.value) and ".part" not in str(info.value)
    assert list(tmp_path.iterdir()) == []


def test_stems_are_byte_identical_between_runs(tmp_path, song):
    outs = []
    for i in range(2):
        out = tmp_path / f"r{i}" / "s.wav"
        assert run("render", str(song), "-o", str(out), "--backend", "sine",
                   "--stems").returncode == 0
        outs.append(out)
        time.sleep(1.1)  # libsndfile's PEAK chunk stamped the second: it must not be there
    a = sorted((outs[0].parent / "s-stems").iterdir())
    b = sorted((outs[1].parent / "s-stems").iterdir())
    assert [p.read_bytes() for p in a] == [p.read_bytes() for p in b]


def test_concurrent_forced_stem_writes_never_fail(tmp_path, song):
    out = tmp_path / "same.wav"
    procs = [subprocess.Popen([*_exe(), "render", str(song), "-o", str(out), "--backend", "sine",
                               "--stems", "--force", "-q"], stderr=subprocess.PIPE, text=True)
             for _ in range(4)]
    errors = [p.communicate(timeout=300)[1] for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0, 0], errors
    stems = sorted((tmp_path / "same-stems").iterdir())
    assert len(stems) == 3 and _hidden(tmp_path) == []


def _exe() -> list[str]:
    from test_cli import EXE

    return [EXE]


def test_sigterm_cleans_up_like_ctrl_c(tmp_path):
    score = band_score(120, bpm=120, n_tracks=8)
    src = tmp_path / "long.json"
    from tunecraft.api import save_score

    save_score(score, src)
    out = tmp_path / "o" / "x.wav"
    out.parent.mkdir()
    proc = subprocess.Popen([*_exe(), "render", str(src), "-o", str(out), "--backend", "sine"],
                            stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if any(p.name.endswith(".part") for p in out.parent.iterdir()):
            break  # the bundle is being written: the worst moment to be stopped
        time.sleep(0.02)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    if proc.returncode == 0:  # finished before the signal landed: nothing to check
        pytest.skip("the render finished before SIGTERM arrived")
    assert proc.returncode == 143, err
    assert err.strip().splitlines() == ["tunecraft: terminated"]
    assert list(out.parent.iterdir()) == []


def test_a_full_stdout_is_one_line_and_exit_2():
    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full on this system")
    with open("/dev/full", "w") as full:
        r = subprocess.run([*_exe(), "explain", "jazz"], stdout=full, stderr=subprocess.PIPE,
                           text=True, timeout=60, check=False)
    assert r.returncode == 2
    assert r.stderr.strip().splitlines() == [
        "tunecraft: error: cannot write the output (No space left on device)"]


# -- hostile input --------------------------------------------------------------------------------


def test_a_tiny_midi_cannot_claim_hours_of_music(tmp_path):
    bomb = tmp_path / "bomb.mid"
    body = b"\x00\x90\x3c\x40" + b"".join(_vlq(0x0FFFFFFF) + b"\xff\x01\x00" for _ in range(5))
    bomb.write_bytes(_smf(body + _vlq(0x0FFFFFFF) + b"\x80\x3c\x00" + END, tpq=1))
    assert bomb.stat().st_size < 100
    t = time.perf_counter()
    with pytest.raises(InputFileError, match=r"too long.*limit is 20,000 beats"):
        read_midi(bomb)
    assert time.perf_counter() - t < 2
    _assert_clean_failure(run("info", str(bomb)), "too long")


def test_too_many_notes_are_refused_while_reading(tmp_path, monkeypatch):
    import tunecraft.io.files as files_mod
    import tunecraft.io.midi as midi_mod

    monkeypatch.setattr(midi_mod, "MAX_SCORE_NOTES", 50)
    monkeypatch.setattr(files_mod, "MAX_SCORE_NOTES", 50)
    with pytest.raises(InputFileError, match="too many notes"):
        read_midi(write_midi(band_score(8, n_tracks=4), tmp_path / "many.mid"))


def test_impossible_tempo_and_key_values(tmp_path):
    zero = tmp_path / "tempo0.mid"
    zero.write_bytes(_smf(b"\x00\xff\x51\x03\x00\x00\x00" + NOTE + END))
    score = read_midi(zero)  # the impossible tempo is skipped: the default stands
    assert score.bpm == 120 and score.note_count == 1
    key8 = tmp_path / "key8.mid"
    key8.write_bytes(_smf(b"\x00\xff\x59\x02\x08\x00" + NOTE + END))
    _assert_clean_failure(run("info", str(key8)), "key signature is impossible")


def test_deeply_nested_json_is_refused(tmp_path):
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100_000 + "]" * 100_000)
    _assert_clean_failure(run("info", str(deep)), "nested too deeply")


def test_a_score_too_long_for_midi_is_refused_on_writing(tmp_path):
    far = Score(tracks=(Track("P", (Note(60, 300_000.0, 1.0),)),),
                tempos=(TempoChange(0, 120),))
    with pytest.raises(OutputFileError, match="too long for a standard MIDI file"):
        write_midi(far, tmp_path / "far.mid")
    assert list(tmp_path.iterdir()) == []


def test_fuzzed_midi_files_give_only_tunecraft_errors(tmp_path):
    seed_file = write_midi(band_score(2, n_tracks=3), tmp_path / "seed.mid")
    original = seed_file.read_bytes()
    rng = random.Random(8)
    f = tmp_path / "fuzz.mid"
    outcomes = {"read": 0, "refused": 0}
    for _ in range(400):
        data = bytearray(original)
        for _ in range(rng.randint(1, 8)):
            i = rng.randrange(len(data))
            data[i] = rng.randrange(256) if rng.random() < 0.7 else 0xFF
        if rng.random() < 0.2:
            data = data[: rng.randrange(14, len(data))]
        f.write_bytes(bytes(data))
        try:
            read_midi(f, allow_empty=True)
            outcomes["read"] += 1
        except InputFileError:
            outcomes["refused"] += 1
    assert outcomes["read"] > 0 and outcomes["refused"] > 0, outcomes


def test_ingest_does_not_follow_folder_links_in_circles(tmp_path):
    music = tmp_path / "music"
    (music / "a").mkdir(parents=True)
    write_midi(melody_score(), music / "a" / "tune.mid")
    os.symlink("..", music / "a" / "up")
    os.symlink(music / "b", music / "a" / "to-b")
    os.symlink(music / "a" / "to-b", music / "b")  # two links pointing at each other
    r = run("ingest", str(music), "-o", str(tmp_path / "corpus"))
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("1 added")


def test_words_that_are_not_music_say_so(tmp_path):
    out = tmp_path / "x.wav"
    bad = b"jazz \xff\xfe".decode("utf-8", "surrogateescape")
    _assert_clean_failure(run("explain", bad), "not valid UTF-8")
    _assert_clean_failure(run("generate", "\U0001F600\U0001F3B5", "-o", str(out)), "no words")
    _assert_clean_failure(run("generate", "pop song", "--lyrics", str(tmp_path), "-o",
                              str(out)), "is a folder")
    assert list(tmp_path.iterdir()) == []


def test_a_quiet_score_renders_and_its_json_stays_json(tmp_path):
    from tunecraft import api

    quiet = Score(tracks=(Track("P", (Note(60, 0, 1, 5),)),), tempos=(TempoChange(0, 120),))
    bundle = api.save(quiet, tmp_path / "quiet.wav")
    json.loads(bundle.json.read_text(), parse_constant=lambda c: pytest.fail(c))
    assert api.info(bundle.audio)["loudness_lufs"] is not None  # raised into the audible
    silent = tmp_path / "silent.wav"
    import numpy as np

    from tunecraft.audio import Audio
    from tunecraft.io.audio import write_audio

    write_audio(Audio(np.zeros((2, 44100), np.float32), 44100), silent)
    r = run("info", str(silent), "--json")
    assert r.returncode == 0
    data = json.loads(r.stdout, parse_constant=lambda c: pytest.fail(c))
    assert data["loudness_lufs"] is None and data["true_peak_dbtp"] is None
    assert "silent" in run("info", str(silent)).stdout


def test_model_configs_and_learning_rates_are_bounded():
    from tunecraft.models.lstm import LSTMConfig
    from tunecraft.models.transformer import TransformerConfig

    with pytest.raises(ParameterError, match="million weights"):
        TransformerConfig(vocab_size=300, d_model=200_000, n_heads=4)
    with pytest.raises(ParameterError, match="million weights"):
        LSTMConfig(vocab_size=300, hidden=100_000)
    assert TransformerConfig(vocab_size=300).parameter_count() < 2_000_000


def test_train_refuses_an_infinite_learning_rate(tmp_path):
    r = run("train", str(tmp_path), "-o", str(tmp_path / "m"), "--lr", "inf")
    assert r.returncode == 2
    assert not (tmp_path / "m").exists()


# -- someone else's files ----------------------------------------------------------------


def test_a_drum_kit_chosen_by_program_survives(tmp_path):
    kit = Track("808", (Note(36, 0, 0.5, 100), Note(38, 1, 0.5, 100)), program=25,
                is_drum=True, role="drums")
    score = Score(tracks=(kit,), tempos=(TempoChange(0, 100),))
    back = read_midi(write_midi(score, tmp_path / "kit.mid"))
    assert back.tracks[0].is_drum and back.tracks[0].program == 25


def test_continue_reads_foreign_markers_leniently(tmp_path):
    # A file whose last marker runs past its notes (to the end-of-track far later).
    notes = tuple(Note(60 + (i % 5), i * 1.0, 1.0) for i in range(16))
    score = Score(tracks=(Track("Piano", notes),), tempos=(TempoChange(0, 120),),
                  sections=(Section("Chorus 3", 0, 8), Section("chorus", 8, 24)), length=32)
    src = write_midi(score, tmp_path / "foreign.mid")
    out = tmp_path / "more.wav"
    r = run("continue", str(src), "--duration", "8", "--seed", "1", "--backend", "sine", "-o",
            str(out))
    assert r.returncode == 0, r.stderr
    sections = json.loads(out.with_suffix(".json").read_text())["summary"]["sections"]
    starts = [s["start_beat"] for s in sections]
    assert starts == sorted(starts) and sections[0]["name"] == "Chorus 3"


def test_too_long_audio_is_refused_before_transcribing(tmp_path, monkeypatch):
    import numpy as np

    import tunecraft.io.audio as audio_io
    from tunecraft import api
    from tunecraft.audio import Audio
    from tunecraft.compose import continuation

    long = tmp_path / "long.wav"
    audio_io.write_audio(Audio(np.zeros((1, 44100 * 5), np.float32), 44100), long)
    monkeypatch.setattr(continuation, "MAX_SECONDS", 2.0)

    def never(*a, **k):
        raise AssertionError("the audio was decoded although its header says it is too long")

    monkeypatch.setattr(audio_io, "read_audio", never)
    with pytest.raises(InputFileError, match=r"lasts 5\.0 s; the limit is 2 s"):
        api.continue_music(long, duration=5)


def test_no_library_chatter_reaches_stdout_even_under_ci(tmp_path, song):
    # pyfluidsynth prints where it found libfluidsynth when CI is set; that is not our output.
    env = {**os.environ, "CI": "true", "PYTHONWARNINGS": "ignore"}
    out = tmp_path / "ci.wav"
    r = subprocess.run([*_exe(), "render", str(song), "-o", str(out)], env=env,
                       capture_output=True, text=True, timeout=300, check=False)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == [f"wrote {p}" for p in (
        out, out.with_suffix(".mid"), out.with_suffix(".musicxml"), out.with_suffix(".json"))]
    assert r.stderr == ""


@pytest.mark.parametrize("bad", [True, -1, 1.5, "3"])
def test_one_seed_rule_for_every_verb(bad):
    from tunecraft import api

    calls = [
        lambda: api.generate("jazz", seed=bad, render=False),
        lambda: api.story(["0:00 calm piano", "0:10 fast rock"], seed=bad, render=False),
        lambda: api.continue_music(melody_score(), duration=5, seed=bad, render=False),
        lambda: api.arrange(melody_score(), "string quartet", seed=bad, render=False),
    ]
    for call in calls:
        with pytest.raises(ParameterError, match="must be a whole number 0 or more"):
            call()
