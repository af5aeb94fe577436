"""The neural engine on tiny random MusicGen and MusicGen-melody models built here and saved to
a temporary folder: loading from the folder only, lengths, seeds, the score's chroma reaching
the melody model, sliding-window joins, and the one-line errors for wrong folders."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

pytest.importorskip("transformers", reason="the neural extra (transformers) is not installed")

from tunecraft.cli.main import cli
from tunecraft.engines.musicgen import (
    MusicGen,
    NeuralOptions,
    check_folder,
    chroma_of,
)
from tunecraft.engines.random_models import build
from tunecraft.errors import InputFileError, ParameterError


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    root = tmp_path_factory.mktemp("models")
    return {"musicgen": build(root / "mg", kind="musicgen"),
            "musicgen-melody": build(root / "mel", kind="musicgen-melody")}


@pytest.fixture(scope="module")
def model(folders):
    return MusicGen(folders["musicgen"], "musicgen")


def test_it_loads_from_the_folder_and_makes_the_length_asked(model):
    assert model.sample_rate == 4000 and model.codebooks == 2
    audio = model.generate("calm piano", 0.73, seed=3)
    assert audio.dtype == np.float32 and len(audio) == round(0.73 * 4000)
    assert np.isfinite(audio).all() and np.abs(audio).max() > 0


def test_a_seed_repeats_and_another_differs(model):
    a = model.generate("calm piano", 0.5, seed=5)
    assert np.array_equal(a, model.generate("calm piano", 0.5, seed=5))
    assert not np.array_equal(a, model.generate("calm piano", 0.5, seed=6))


def test_the_sliding_window_joins_without_a_gap(model, monkeypatch):
    passes = []
    real = model.pass_

    def counted(*args, **kwargs):
        out = real(*args, **kwargs)
        passes.append((kwargs.get("audio_prompt") is not None, len(out)))
        return out

    monkeypatch.setattr(model, "pass_", counted)
    monkeypatch.setattr(model, "max_window", 0.6)
    audio = model.generate("rock song", 2.0, seed=1,
                           options=NeuralOptions(keep=0.2, crossfade=0.05))
    assert len(audio) == 8000  # exactly 2 s
    assert len(passes) >= 4 and not passes[0][0] and all(p for p, _ in passes[1:])
    # No silence where passes meet: every 10 ms frame has sound.
    frames = np.sqrt(np.mean(audio[: len(audio) // 40 * 40].reshape(-1, 40) ** 2, axis=1))
    assert frames.min() > 1e-4
    # and no step bigger than the audio's own largest steps
    jumps = np.abs(np.diff(audio))
    assert jumps.max() <= 3 * np.percentile(jumps, 99.9) + 1e-6


def test_a_continuation_follows_its_prompt(model):
    prompt = model.generate("jazz", 0.5, seed=2)
    more = model.generate("jazz", 0.4, seed=2, audio_prompt=prompt)
    assert len(more) == 1600


def _score():
    from tunecraft.score import Chord, Note, Score, TempoChange, Track

    lead = Track("Lead", program=73, role="lead",
                 notes=(Note(60, 0, 1), Note(64, 1, 1), Note(67, 2, 2)))
    return Score(tracks=(lead,), tempos=(TempoChange(0, 60),),
                 chords=(Chord(0, 4, 0), Chord(4, 4, 7)))


def test_the_chroma_is_the_scores_tune_then_its_chords():
    c = chroma_of(_score(), 0.0, 8.0, 16)  # 60 bpm: a beat a second, two frames a beat
    assert c.shape == (16, 12) and set(c.sum(axis=1)) <= {0.0, 1.0}
    assert [int(np.argmax(row)) for row in c[:8]] == [0, 0, 4, 4, 7, 7, 7, 7]
    assert [int(np.argmax(row)) for row in c[8:]] == [7] * 8  # no tune: the chord root (G)


def test_the_melody_model_is_given_the_chroma(folders, monkeypatch):
    model = MusicGen(folders["musicgen-melody"], "musicgen-melody")
    seen = {}
    real = model.model.generate

    def spy(**kwargs):
        seen.update(kwargs)
        return real(**kwargs)

    monkeypatch.setattr(model.model, "generate", spy)
    chroma = chroma_of(_score(), 0.0, 8.0, model.chroma_length)
    audio = model.generate("calm piano", 0.5, seed=1, chroma_at=lambda s, w: chroma)
    assert len(audio) == 2000
    features = seen["input_features"]
    assert tuple(features.shape) == (1, model.chroma_length, 12)
    assert np.array_equal(features[0].numpy(), chroma)


@pytest.mark.parametrize(("make", "words"), [
    (lambda p: p / "missing", "no such folder"),
    (lambda p: (p / "empty").mkdir() or p / "empty", "no config.json"),
    (lambda p: ((p / "bert").mkdir(), (p / "bert" / "config.json").write_text(
        '{"model_type": "bert"}'))[0] or p / "bert", "holds a bert model, not musicgen"),
    (lambda p: ((p / "now").mkdir(), (p / "now" / "config.json").write_text(
        '{"model_type": "musicgen"}'))[0] or p / "now", "no weights"),
])
def test_wrong_folders_say_what_was_expected(tmp_path, make, words):
    folder = make(tmp_path)
    with pytest.raises(InputFileError, match=words) as e:
        check_folder(folder, "musicgen")
    assert str(folder) in str(e.value) and "facebook/musicgen-small" in str(e.value)


def test_a_melody_folder_is_not_a_musicgen_folder(folders):
    with pytest.raises(InputFileError, match="musicgen_melody model, not musicgen"):
        check_folder(folders["musicgen-melody"], "musicgen")
    with pytest.raises(ParameterError, match="TUNECRAFT_MUSICGEN"):
        check_folder(None, "musicgen")


def test_generate_and_continue_through_the_cli(folders, tmp_path):
    out = tmp_path / "neural.wav"
    r = CliRunner().invoke(cli, ["generate", "calm piano piece", "--duration", "5", "--seed",
                                 "2", "--engine", "musicgen-melody", "--model",
                                 str(folders["musicgen-melody"]), "-o", str(out)])
    assert r.exit_code == 0, r.output
    assert {p.suffix for p in tmp_path.iterdir()} == {".wav", ".mid", ".musicxml", ".json"}
    doc = json.loads(out.with_suffix(".json").read_text())
    assert doc["audio"]["renderer"].startswith("musicgen-melody")
    import soundfile as sf

    seconds = sf.info(out).duration
    more = tmp_path / "more.wav"
    r = CliRunner().invoke(cli, ["continue", str(out), "--duration", "1.5", "--engine",
                                 "musicgen", "--model", str(folders["musicgen"]), "-o",
                                 str(more), "--seed", "1"])
    assert r.exit_code == 0, r.output
    assert sf.info(more).duration == pytest.approx(seconds + 1.5, abs=0.01)
    head, _ = sf.read(more, frames=int(sf.info(out).samplerate * (seconds - 0.1)))
    assert np.abs(head).max() > 0
    r = CliRunner().invoke(cli, ["generate", "x", "--engine", "musicgen", "--model",
                                 str(tmp_path / "nope")])
    assert r.exit_code == 2 and "no such folder" in r.output and "Traceback" not in r.output
    assert not (Path("out") / "x").exists()


def test_progress_follows_the_models_steps(model, monkeypatch):
    seen: list[float] = []
    model.generate("calm piano", 0.5, seed=1, progress=seen.append)
    assert len(seen) >= 40 and seen == sorted(seen)
    assert seen[-1] == pytest.approx(1.0, abs=0.05)
    seen.clear()
    monkeypatch.setattr(model, "max_window", 0.3)
    model.generate("calm piano", 0.9, seed=1, options=NeuralOptions(keep=0.1, crossfade=0.05),
                   progress=seen.append)
    assert seen == sorted(seen) and seen[-1] == pytest.approx(1.0, abs=0.05)
