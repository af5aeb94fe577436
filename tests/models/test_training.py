"""Training: a step lowers the loss, reports, checkpoints and resume, bad input."""

from __future__ import annotations

import json
import math

import pytest
import torch
import torch.nn.functional as F
from model_builders import folk_tune, write_corpus
from safetensors.torch import load_file

from tunecraft.errors import InputFileError, ParameterError
from tunecraft.models import load_model, train
from tunecraft.models.store import build_network
from tunecraft.models.training import _make_config, _prepare, _stream, _windows, load_pieces


@pytest.mark.parametrize("kind", ["lstm", "transformer"])
def test_one_training_step_lowers_the_loss(tiny_corpus, kind):
    data = _prepare(load_pieces(tiny_corpus), kind, parts="all", seed=0, val_fraction=0.2,
                    augment=2)
    cfg = _make_config(kind, data.tokenizer.vocab_size, None, "debug")
    torch.manual_seed(0)
    net = build_network(kind, cfg)
    batch = torch.tensor(_windows(_stream(data, 1, 0), cfg.seq_len)[:8])
    opt = torch.optim.Adam(net.parameters(), lr=1e-2)

    def loss() -> torch.Tensor:
        logits, _ = net(batch[:, :-1])
        return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), batch[:, 1:].reshape(-1))

    before = loss()
    opt.zero_grad()
    before.backward()
    opt.step()
    with torch.no_grad():
        after = loss()
    assert float(after) < float(before.detach())


@pytest.mark.parametrize("kind", ["lstm", "transformer"])
def test_train_writes_a_model_folder_with_figures(trained, kind):
    d = trained[kind]
    for f in ("config.json", "model.safetensors", "vocab.json", "meta.json"):
        assert (d / f).is_file()
    meta = json.loads((d / "meta.json").read_text())
    assert meta["format"] == "tunecraft.model/1" and meta["kind"] == kind
    hist = meta["training"]["history"]
    assert len(hist) == 2
    for h in hist:
        assert math.isfinite(h["val_loss"]) and h["perplexity"] == pytest.approx(
            math.exp(h["val_loss"]), rel=1e-6)
        assert 0 <= h["accuracy"] <= 1 and h["tokens_per_s"] > 0
    assert meta["corpus"]["train_pieces"] + meta["corpus"]["val_pieces"] == 10
    assert meta["defaults"]["meter"] == [4, 4]


def test_save_load_gives_identical_outputs(trained, tmp_path):
    from tunecraft.models.store import save_model

    lm = load_model(trained["transformer"])
    x = torch.randint(0, lm.config.vocab_size, (2, 20))
    with torch.no_grad():
        a, _ = lm.net(x)
    save_model(tmp_path, kind="transformer", net=lm.net, tokenizer=lm.tokenizer,
               meta={k: v for k, v in lm.meta.items() if k not in ("format", "kind")})
    lm2 = load_model(tmp_path)
    with torch.no_grad():
        b, _ = lm2.net(x)
    assert torch.equal(a, b)


def test_training_is_reproducible_and_resume_matches(tiny_corpus, tmp_path):
    opts = dict(model="transformer", batch_size=8, seed=3, network="debug", lr=5e-3,
                patience=5)
    full = train(tiny_corpus, epochs=2, out_dir=tmp_path / "full", **opts)
    again = train(tiny_corpus, epochs=2, out_dir=tmp_path / "again", **opts)
    half = train(tiny_corpus, epochs=1, out_dir=tmp_path / "resumed", **opts)
    assert half.epochs_run == 1
    resumed = train(tiny_corpus, epochs=2, out_dir=tmp_path / "resumed", resume=True, **opts)
    assert [h.epoch for h in resumed.history] == [1, 2]
    assert [h.val_loss for h in resumed.history] == [h.val_loss for h in full.history]
    assert [h.val_loss for h in again.history] == [h.val_loss for h in full.history]
    w_full = load_file(tmp_path / "full" / "model.safetensors")
    w_res = load_file(tmp_path / "resumed" / "model.safetensors")
    assert w_full.keys() == w_res.keys()
    assert all(torch.equal(w_full[k], w_res[k]) for k in w_full)
    ck_full = torch.load(tmp_path / "full/checkpoints/last.pt", weights_only=True)
    ck_res = torch.load(tmp_path / "resumed/checkpoints/last.pt", weights_only=True)
    assert all(torch.equal(ck_full["model"][k], ck_res["model"][k]) for k in ck_full["model"])


def test_early_stopping_and_progress(tiny_corpus, tmp_path):
    seen = []
    rep = train(tiny_corpus, model="lstm", epochs=30, batch_size=8, network="debug", lr=0.5,
                patience=1, out_dir=tmp_path, progress=seen.append)
    assert rep.epochs_run < 30 and rep.stopped_early
    assert [s.epoch for s in seen] == list(range(1, rep.epochs_run + 1))
    assert "val loss" in str(seen[0]) and "best epoch" in str(rep)


def test_too_small_corpus_is_a_clear_error(tmp_path):
    one = write_corpus(tmp_path / "one", [folk_tune(1)])
    with pytest.raises(ParameterError, match="at least 2"):
        train(one, model="lstm", epochs=1, out_dir=tmp_path / "m1")
    two = write_corpus(tmp_path / "two", [folk_tune(1, bars=1), folk_tune(2, bars=1)])
    with pytest.raises(ParameterError, match="fewer than one window"):
        train(two, model="transformer", epochs=1, out_dir=tmp_path / "m2", augment=0)
    with pytest.raises(InputFileError):
        train(tmp_path / "nowhere", epochs=1, out_dir=tmp_path / "m3")


def test_bad_options_are_clear_errors(tiny_corpus, tmp_path):
    with pytest.raises(ParameterError, match="unknown"):
        train(tiny_corpus, model="gru", out_dir=tmp_path)
    with pytest.raises(ParameterError, match="epochs"):
        train(tiny_corpus, epochs=0, out_dir=tmp_path)
    with pytest.raises(InputFileError, match="no checkpoint"):
        train(tiny_corpus, epochs=1, out_dir=tmp_path / "fresh", resume=True, network="debug")
    if not torch.cuda.is_available():
        with pytest.raises(ParameterError, match="CUDA"):
            train(tiny_corpus, epochs=1, out_dir=tmp_path, device="cuda")


def test_batch_progress_reports_every_batch_of_every_epoch(tiny_corpus, tmp_path):
    seen: list[tuple[int, int, int]] = []
    train(tiny_corpus, model="lstm", epochs=2, batch_size=4, network="debug",
          out_dir=tmp_path / "m", batch_progress=lambda e, d, t: seen.append((e, d, t)))
    for epoch in (1, 2):
        calls = [(d, t) for e, d, t in seen if e == epoch]
        assert calls, epoch
        dones = [d for d, _ in calls]
        assert dones == sorted(dones) and dones[-1] == calls[-1][1]  # ends at the total


def test_a_train_config_is_data_and_the_model_records_it(tiny_corpus, tmp_path):
    from tunecraft.models.training import TrainConfig

    tc = TrainConfig(model="lstm", epochs=1, batch_size=8, network="debug", seed=3)
    assert TrainConfig.from_dict(json.loads(json.dumps(tc.to_dict()))) == tc
    with pytest.raises(ParameterError, match="unknown training option"):
        TrainConfig.from_dict({"model": "lstm", "epochz": 3})
    with pytest.raises(ParameterError, match="unknown training option"):
        train(tiny_corpus, out_dir=tmp_path / "x", epochz=3)
    with pytest.raises(ParameterError, match="learning rate"):
        TrainConfig(lr=float("nan"))
    with pytest.raises(ParameterError, match="patience"):
        TrainConfig(patience=0)
    rep = train(tiny_corpus, out_dir=tmp_path / "m", config=tc, lr=5e-3)
    meta = json.loads((tmp_path / "m" / "meta.json").read_text())
    recorded = TrainConfig.from_dict(meta["training"]["config"])
    assert recorded == TrainConfig(model="lstm", epochs=1, batch_size=8, network="debug",
                                   seed=3, lr=5e-3)
    assert rep.epochs_run == 1 and meta["training"]["lr"] == 5e-3
