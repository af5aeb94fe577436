"""Fixtures for the model tests: a tiny corpus written in code, and debug models trained on it."""

from __future__ import annotations

from pathlib import Path

import pytest
from model_builders import folk_tune, write_corpus


@pytest.fixture(scope="session")
def tiny_corpus(tmp_path_factory) -> Path:
    scores = [folk_tune(i, tonic=60 + (i % 5)) for i in range(8)]
    scores += [folk_tune(100 + i, meter=(3, 4), bars=8, tonic=62) for i in range(2)]
    return write_corpus(tmp_path_factory.mktemp("corpus"), scores)


@pytest.fixture(scope="session")
def trained(tiny_corpus, tmp_path_factory) -> dict[str, Path]:
    """Debug models of both kinds, trained two epochs on the tiny corpus."""
    from tunecraft.models import train

    out = {}
    for kind in ("lstm", "transformer"):
        d = tmp_path_factory.mktemp(kind)
        train(tiny_corpus, model=kind, epochs=2, batch_size=8, out_dir=d, seed=0,
              network="debug", lr=5e-3)
        out[kind] = d
    return out
