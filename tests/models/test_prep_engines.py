"""The data preparation of ``train`` on the local pool, on Ray and inline: the same data."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import pytest
import torch
from model_builders import folk_tune, write_corpus
from safetensors.torch import load_file

from tunecraft.corpus import ingest
from tunecraft.corpus.engines import map_ordered, ray_session
from tunecraft.errors import InputFileError, ParameterError
from tunecraft.io.midi import write_midi
from tunecraft.models import train
from tunecraft.models.training import _prepare, _prepare_corpus, load_pieces
from tunecraft.score import Note, Score, Track

OPTS = dict(seed=1, val_fraction=0.25, augment=3)
CASES = [(kind, parts) for kind in ("lstm", "transformer") for parts in ("all", "melody")]


def _with_bass(seed: int) -> Score:
    """A tune over a bass line: ``parts`` "all" and "melody" read different lines."""
    tune = folk_tune(seed, tonic=64)
    bass = tuple(Note(40 + (i % 3) * 2, 2.0 * i, 2.0, 70) for i in range(16))
    return Score(tracks=(*tune.tracks, Track("Bass", bass, program=32, role="bass")),
                 tempos=tune.tempos, time_signatures=tune.time_signatures,
                 key_signatures=tune.key_signatures)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    """A corpus made by ``ingest`` from MIDI files written here."""
    src = tmp_path_factory.mktemp("music")
    scores = [folk_tune(i, tonic=60 + i % 4) for i in range(5)]
    scores += [folk_tune(50, meter=(3, 4), tonic=62), _with_bass(7), _with_bass(8)]
    for i, s in enumerate(scores):
        write_midi(s, src / f"tune{i}.mid")
    out = tmp_path_factory.mktemp("corpus")
    report = ingest([src], out, workers=1)
    assert report.added == len(scores)
    return out


def _key(data) -> tuple:
    vocab = getattr(data.tokenizer, "vocab", None)
    return (data.train, data.val, data.train_ids, data.val_ids, vocab,
            [(s.bpm, s.time_signature, s.key, [t.program for t in s.tracks]) for s in data.scores])


@pytest.fixture(scope="module")
def reference(corpus) -> dict:
    """The data as read in this process (``load_pieces`` + ``_prepare``)."""
    return {(k, p): _key(_prepare(load_pieces(corpus), k, parts=p, **OPTS)) for k, p in CASES}


def test_the_reference_data_is_not_trivial(reference):
    for tr, _, tr_ids, val_ids, _, outlines in reference.values():
        assert len(tr_ids) == 6 and len(val_ids) == 2 and len(outlines) == 8
        assert all(len(variants) >= 2 for variants in tr)  # transposed
    assert reference[("lstm", "all")][:2] != reference[("lstm", "melody")][:2]


@pytest.mark.parametrize(("kind", "parts"), CASES)
def test_inline_and_the_local_pool_give_the_same_data(corpus, reference, kind, parts):
    for workers in (1, 3):
        data = _prepare_corpus(corpus, kind, parts=parts, engine="local", workers=workers,
                               **OPTS)
        assert _key(data) == reference[(kind, parts)], workers


def test_pieces_without_notes_to_learn_change_the_split_and_still_match(tmp_path):
    # Drum-only pieces are read but hold no line: the split is made without them, so some
    # piece first guessed to be a validation piece (not transposed) is a training piece.
    drums = Score(tracks=(Track("Kit", tuple(Note(36, float(i), 0.5, 90) for i in range(8)),
                                is_drum=True, role="drums"),))
    scores = [drums if i in (0, 3, 4) else folk_tune(200 + i) for i in range(12)]
    folder = write_corpus(tmp_path / "c", scores)
    opts = dict(seed=0, val_fraction=0.3, augment=2)
    for kind in ("lstm", "transformer"):
        want = _key(_prepare(load_pieces(folder), kind, parts="all", **opts))
        assert len(want[2]) + len(want[3]) == 9
        for workers in (1, 2):
            got = _prepare_corpus(folder, kind, parts="all", workers=workers, **opts)
            assert _key(got) == want


@pytest.mark.slow
def test_ray_gives_the_same_data_and_the_same_model(corpus, reference, tmp_path, monkeypatch):
    pytest.importorskip("ray")
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    opts = dict(model="lstm", epochs=1, batch_size=8, seed=0, network="debug", lr=5e-3)
    local = train(corpus, out_dir=tmp_path / "local", engine="local", workers=2, **opts)
    with ray_session(2) as ray:  # one Ray for the whole test; the calls leave it running
        # (Ray's workers cannot import this test module: a library function instead.)
        items = [{"n": i, "s": "x" * (40 - i)} for i in range(40)]
        assert map_ordered(json.dumps, items, engine="ray") == [json.dumps(x) for x in items]
        for kind, parts in CASES:
            data = _prepare_corpus(corpus, kind, parts=parts, engine="ray", **OPTS)
            assert _key(data) == reference[(kind, parts)], (kind, parts)
        remote = train(corpus, out_dir=tmp_path / "ray", engine="ray", **opts)
        assert ray.is_initialized()
    assert not ray.is_initialized()
    assert remote.history[0].val_loss == local.history[0].val_loss
    a, b = (load_file(tmp_path / d / "model.safetensors") for d in ("local", "ray"))
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    assert ((tmp_path / "local" / "vocab.json").read_bytes()
            == (tmp_path / "ray" / "vocab.json").read_bytes())


def test_a_damaged_piece_is_reported_as_the_sequential_reader_does(corpus, tmp_path):
    broken = tmp_path / "broken"
    shutil.copytree(corpus, broken)
    victim = sorted((broken / "pieces").glob("*.mid"))[2]
    victim.write_bytes(b"MThd\x00\x00\x00\x06 not a MIDI file")
    with pytest.raises(InputFileError) as seq:
        load_pieces(broken)
    with pytest.raises(InputFileError) as pool:
        _prepare_corpus(broken, "transformer", parts="all", engine="local", workers=2, **OPTS)
    assert str(pool.value) == str(seq.value) and victim.name in str(pool.value)
    victim.unlink()
    with pytest.raises(InputFileError, match="listed in the manifest but missing"):
        _prepare_corpus(broken, "lstm", parts="all", workers=2, **OPTS)


def _square_slowly(x: int) -> int:
    time.sleep(0.002 * (12 - x % 12))  # later items finish first
    return x * x


def test_map_ordered_keeps_the_input_order():
    items = list(range(40))
    want = [x * x for x in items]
    assert map_ordered(_square_slowly, items, workers=4) == want
    assert map_ordered(_square_slowly, items, workers=1) == want
    assert map_ordered(_square_slowly, [7]) == [49]
    assert map_ordered(_square_slowly, []) == []


def test_bad_engines_and_worker_counts_are_parameter_errors(corpus, tmp_path):
    with pytest.raises(ParameterError, match="unknown engine 'spark'"):
        map_ordered(_square_slowly, [1, 2], engine="spark")
    for workers in (0, -1, 1.5, True):
        with pytest.raises(ParameterError, match="workers"):
            map_ordered(_square_slowly, [1, 2], workers=workers)
    with pytest.raises(ParameterError, match="unknown engine"):
        train(corpus, model="lstm", network="debug", out_dir=tmp_path / "m", engine="spark")
    with pytest.raises(ParameterError, match="parts 'bass' is unknown"):
        _prepare_corpus(corpus, "lstm", parts="bass", **OPTS)
    assert not (tmp_path / "m").exists()


def test_the_train_command_passes_engine_and_workers(corpus, tmp_path, monkeypatch):
    from click.testing import CliRunner

    import tunecraft.models
    from tunecraft.cli.main import cli

    seen: dict = {}

    class Report:
        def __str__(self) -> str:
            return "trained"

    def fake_train(corpus_dir, **kwargs):
        seen.update(kwargs)
        return Report()

    monkeypatch.setattr(tunecraft.models, "train", fake_train)
    runner = CliRunner()
    res = runner.invoke(cli, ["train", str(corpus), "-o", str(tmp_path / "m"), "--engine", "ray",
                              "--workers", "3"])
    assert res.exit_code == 0, res.output
    assert seen["engine"] == "ray" and seen["workers"] == 3
    res = runner.invoke(cli, ["train", str(corpus), "-o", str(tmp_path / "m")])
    assert res.exit_code == 0 and seen["engine"] == "local" and seen["workers"] is None
    res = runner.invoke(cli, ["train", str(corpus), "-o", str(tmp_path / "m"), "--engine",
                              "spark"])
    assert res.exit_code == 2
