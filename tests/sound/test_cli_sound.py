"""The sound commands through the CLI: files written, bad input refused with one line and
exit code 2, nothing replaced that was not named."""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf
from click.testing import CliRunner

from tunecraft.cli.main import cli

pytest.importorskip("librosa", reason="the analysis extra (librosa) is not installed")


def _run(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_sound_then_mix_then_separate_then_denoise(tmp_path):
    rain, clock = tmp_path / "rain.wav", tmp_path / "clock.wav"
    r = _run("sound", "chuva", "e", "trovões", "-d", "3", "--seed", "4", "-o", str(rain))
    assert r.exit_code == 0, r.output
    assert "rain + thunder: 3.0 s, seed 4" in r.output
    assert json.loads(rain.with_suffix(".json").read_text())["layers"] == ["rain", "thunder"]
    assert _run("sound", "clock", "-d", "3", "--loop", "-o", str(clock)).exit_code == 0
    out = tmp_path / "mix.wav"
    r = _run("mix", str(clock), str(rain), "--gain", "2=-6", "--offset", "2=1", "--duck", "2",
             "-o", str(out))
    assert r.exit_code == 0, r.output
    x, sr = sf.read(out)
    assert len(x) == 4 * sr  # the rain starts at 1 s and lasts 3
    doc = json.loads(out.with_suffix(".json").read_text())
    assert [layer["offset"] for layer in doc["layers"]] == [0.0, 1.0] and doc["duck_db"] == 12
    parts = tmp_path / "parts"
    assert _run("separate", str(out), "-o", str(parts), "--no-vocals", "-q").exit_code == 0
    assert sorted(p.name for p in parts.iterdir()) == ["drums.wav", "harmonic.wav", "parts.json"]
    d, _ = sf.read(parts / "drums.wav")
    h, _ = sf.read(parts / "harmonic.wav")
    assert np.allclose(d + h, x, atol=0.02)  # the parts sum back to the mix
    pytest.importorskip("noisereduce", reason="the sound extra is not installed")
    r = _run("denoise", str(rain), "-o", str(tmp_path / "clean.wav"))
    assert r.exit_code == 0 and "removed" in r.output


@pytest.mark.parametrize(("args", "message"), [
    (["sound", "a", "violin"], "no sound I can make"),
    (["sound", "rain", "-d", "9999"], "0.1-600"),
    (["sound", "impact", "--loop"], "one-shot"),
    (["mix", "missing.wav", "-o", "m.wav"], "missing.wav"),
    (["mix", "IN", "--gain", "3=1", "-o", "m.wav"], "file number is 1-1"),
    (["mix", "IN", "--gain", "loud", "-o", "m.wav"], "FILE_NUMBER=VALUE"),
    (["mix", "IN", "-o", "IN"], "replace its own input"),
    (["denoise", "IN", "--strength", "3", "-o", "c.wav"], "between 0 and 1"),
    (["separate", "EMPTY"], "EMPTY"),
])
def test_bad_requests_exit_2_with_one_line(tmp_path, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    sf.write(tmp_path / "in.wav", np.zeros((22050, 2)) + 0.01, 22050)
    (tmp_path / "empty.wav").write_bytes(b"")
    args = [{"IN": "in.wav", "EMPTY": "empty.wav"}.get(a, a) for a in args]
    r = CliRunner().invoke(cli, args)
    assert r.exit_code == 2, r.output
    assert message.replace("EMPTY", "empty.wav") in r.output
    assert "Traceback" not in r.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty.wav", "in.wav"]


def test_an_existing_file_is_kept_without_force(tmp_path):
    target = tmp_path / "s.wav"
    target.write_bytes(b"mine")
    r = CliRunner().invoke(cli, ["sound", "rain", "-d", "1", "-o", str(target)])
    assert r.exit_code == 2 and "--force" in r.output
    assert target.read_bytes() == b"mine"
    assert _run("sound", "rain", "-d", "1", "-o", str(target), "--force").exit_code == 0
    assert target.read_bytes()[:4] == b"RIFF"
