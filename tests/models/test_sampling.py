"""Sampling: seeded, the requested bars, prompts, the KV cache, the shipped model, bad folders."""

from __future__ import annotations

import json
import shutil
import time

import pytest
import torch
from model_builders import folk_tune

from tunecraft.errors import InputFileError, ParameterError
from tunecraft.models import DEFAULT_MODEL_DIR, load_model, sample
from tunecraft.models import sampling as sampling_mod


def _notes(score):
    return [(n.pitch, n.start, n.duration) for n in score.notes]


@pytest.mark.parametrize("kind", ["lstm", "transformer"])
def test_sampling_is_deterministic_per_seed(trained, kind):
    a = sample(trained[kind], bars=4, seed=7)
    b = sample(trained[kind], bars=4, seed=7)
    c = sample(trained[kind], bars=4, seed=8)
    assert _notes(a) == _notes(b)
    assert _notes(a) != _notes(c)
    assert a.length == 16.0 and all(n.end <= 16.0 + 1e-9 for n in a.notes)
    assert a.time_signature.numerator == 4 and a.bpm == 100.0  # the corpus's defaults
    assert a.tracks[0].program == 73  # the corpus's instrument


@pytest.mark.parametrize("kind", ["lstm", "transformer"])
def test_prompt_is_continued(trained, kind):
    prompt = folk_tune(42, bars=2, meter=(3, 4))
    out = sample(trained[kind], prompt=prompt, bars=2, seed=1)
    assert out.time_signature.numerator == 3 and out.bpm == prompt.bpm
    assert _notes(out)[:len(prompt.notes)] == _notes(prompt)
    assert out.length == 12.0  # 2 prompt bars + 2 new bars of 3/4
    new = sample(trained[kind], prompt=prompt, bars=2, seed=1, include_prompt=False)
    assert all(n.start >= 6.0 for n in new.notes)


def test_transformer_sampling_uses_the_kv_cache(trained, monkeypatch):
    lm = load_model(trained["transformer"])
    lengths = []
    real = lm.net.forward

    def spy(ids, cache=None):
        lengths.append((ids.shape[1], cache is not None))
        return real(ids, cache)

    monkeypatch.setattr(lm.net, "forward", spy)
    sample(lm, bars=2, seed=3)
    assert lengths[0][1] is False and lengths[0][0] >= 2  # the prime, once
    ctx = lm.config.seq_len
    # then one token at a time over the cache (the context's last half again when it is full)
    assert all((n == 1 and cached) or (n == ctx // 2 and not cached)
               for n, cached in lengths[1:])
    assert sum(n == 1 for n, _ in lengths) > len(lengths) / 2
    # and the cached logits are those of a full pass
    ids = torch.randint(0, lm.config.vocab_size, (1, 12))
    with torch.no_grad():
        full, _ = real(ids)
        _, cache = real(ids[:, :6])
        step, _ = real(ids[:, 6:7], cache)
    assert torch.allclose(full[:, 6], step[:, 0], atol=1e-5)


def test_top_p_and_temperature():
    g = torch.Generator().manual_seed(0)
    logits = torch.tensor([5.0, 4.0, -10.0, -10.0])
    draws = {sampling_mod._draw(logits, 1.0, 0.5, g) for _ in range(50)}
    assert draws == {0}
    draws = {sampling_mod._draw(logits, 1.0, 0.999, g) for _ in range(200)}
    assert draws == {0, 1}
    with pytest.raises(ParameterError):
        sampling_mod.sample_notes(None, bars=0, meter=folk_tune(1).time_signature)


def test_missing_and_foreign_model_folders_are_clear_errors(trained, tmp_path):
    with pytest.raises(InputFileError, match="no such model folder"):
        load_model(tmp_path / "absent")
    broken = tmp_path / "broken"
    shutil.copytree(trained["lstm"], broken)
    (broken / "model.safetensors").unlink()
    with pytest.raises(InputFileError, match=r"missing model\.safetensors"):
        load_model(broken)
    old = tmp_path / "old"
    shutil.copytree(trained["lstm"], old)
    meta = json.loads((old / "meta.json").read_text())
    meta["format"] = "tunecraft.model/0"
    (old / "meta.json").write_text(json.dumps(meta))
    with pytest.raises(InputFileError, match=r"format 'tunecraft\.model/0'"):
        load_model(old)
    wrong = tmp_path / "wrong"
    shutil.copytree(trained["transformer"], wrong)
    shutil.copy(trained["lstm"] / "model.safetensors", wrong / "model.safetensors")
    with pytest.raises(InputFileError, match="do not fit"):
        load_model(wrong)


def test_the_shipped_model_loads_and_samples_quickly():
    assert (DEFAULT_MODEL_DIR / "MODEL_CARD.md").is_file()
    size = sum(p.stat().st_size for p in DEFAULT_MODEL_DIR.iterdir())
    assert size < 5_000_000
    t0 = time.perf_counter()
    score = sample(bars=4, seed=1)
    elapsed = time.perf_counter() - t0
    assert elapsed < 5.0
    assert score.note_count > 0 and score.length == 4 * score.time_signature.bar_beats
    assert all(21 <= n.pitch <= 108 for n in score.notes)
