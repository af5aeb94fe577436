"""Scores and corpora built in code for the model tests (imported by name: a module called
``conftest`` would clash with tests/corpus/conftest.py)."""

from __future__ import annotations

import json
import random
from pathlib import Path

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
