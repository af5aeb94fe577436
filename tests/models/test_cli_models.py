"""The learning commands as a user runs them: a model they trained drives generate, and
train says where it is (epoch n/N, time left)."""

from __future__ import annotations

import json

from test_cli import run


def test_generate_uses_a_model_the_user_trained(trained, tmp_path):
    out = tmp_path / "folk.wav"
    r = run("generate", "a folk song in G", "--melody-engine", "learned", "--model",
            str(trained["transformer"]), "--seed", "1", "--duration", "10", "--backend", "sine",
            "-o", str(out))
    assert r.returncode == 0, r.stderr
    assert json.loads(out.with_suffix(".json").read_text())["request"]["seed"] == 1
    bad = run("generate", "a folk song", "--model", str(trained["transformer"]), "-o",
              str(tmp_path / "x.wav"))
    assert bad.returncode == 2 and "--melody-engine learned" in bad.stderr


def test_train_reports_epoch_n_of_n_and_the_time_left(tiny_corpus, tmp_path):
    r = run("train", str(tiny_corpus), "--model", "lstm", "--epochs", "2", "--batch-size", "8",
            "--seq-len", "16", "-o", str(tmp_path / "m"))
    assert r.returncode == 0, r.stderr
    lines = [x for x in r.stderr.splitlines() if x.startswith("epoch ")]
    assert len(lines) == 2
    assert "(of 2; about" in lines[0] and "to go)" in lines[0]
    assert lines[1].endswith("(of 2)")
