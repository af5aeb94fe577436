"""Fixtures for the model tests: a tiny corpus written in code, and debug models trained on it."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from tunecraft.io.midi import write_midi
from tunecraft.score import KeySignature, Note, Score, TempoChange, TimeSignature, Track

SCALE = (0, 2, 4, 5, 7, 9, 11)


def folk_tune(seed: int, *, bars: int = 8, meter: tuple[int, int] = (4, 4),
              tonic: int = 60) -> Score:
    """A stepwise tune in a major key: quarters and eighths, ending on the tonic."""
    rng = random.Random(seed)
    bar = meter[0] * 4 / meter[1]
    notes, t, degree = [], 0.0, 0
    while t < bars * bar - 1:
        d = rng.choice((0.5, 0.5, 1.0, 1.0, 1.5)) if t % 1 == 0 else 0.5
        degree = max(-3, min(9, degree + rng.choice((-2, -1, -1, 1, 1, 2, 0))))
        pitch = tonic + 12 * (degree // 7) + SCALE[degree % 7]
        notes.append(Note(pitch, t, d, 80))
        t += d
    notes.append(Note(tonic, t, bars * bar - t, 80))
    return Score(tracks=(Track("Melody", tuple(notes), program=73, role="lead"),),
                 tempos=(TempoChange(0.0, 100.0),),
                 time_signatures=(TimeSignature(0.0, *meter),),
                 key_signatures=(KeySignature(0.0, tonic % 12, "major"),))


def write_corpus(folder: Path, scores: list[Score]) -> Path:
    """A corpus folder in the ingest format: manifest.jsonl + pieces/<id>.mid."""
    (folder / "pieces").mkdir(parents=True, exist_ok=True)
    lines = []
    for i, s in enumerate(scores):
        pid = f"piece{i:03d}"
        write_midi(s, folder / "pieces" / f"{pid}.mid")
        lines.append(json.dumps({"id": pid, "source": f"test/{pid}", "hash": f"{i:064x}",
                                 "status": "ok", "path": f"pieces/{pid}.mid",
                                 "key": s.key.name, "tempo": s.bpm, "kind": "midi"}))
    (folder / "manifest.jsonl").write_text("\n".join(lines) + "\n")
    return folder


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
              config="debug", lr=5e-3)
        out[kind] = d
    return out
