"""Rule-based vs learned vs real melodies: likelihood under the default model, simple metrics.

    python benchmarks/melody_compare.py [--model DIR] [--corpus DIR] [--plans N]

* Real: the folk tunes of the default model's **validation** split (the same seeded split by
  piece as its training, so the model never saw them), from the corpus ``build_default`` makes.
* Rules: ``compose.melody.write_melody`` over plans from a few prompts and seeds.
* Learned: ``compose.learned.write_learned_melody`` over the same plans.

For each: the mean log-likelihood per token under the model (natural log; REMI tokens, the
melody alone), pitch-class entropy (bits), step ratio (share of moves of at most 2 semitones),
range (semitones), note density (notes per beat) and share of notes in the key's scale.
"""

from __future__ import annotations

import argparse
import itertools
import math
import statistics
import sys
from collections import Counter
from pathlib import Path

PROMPTS = ("an upbeat pop song", "a folk song in G major", "a sad waltz in A minor",
           "a celtic jig in 6/8", "a classical piece", "a rock song")


def metrics(notes, key) -> dict[str, float]:
    ps = [n.pitch for n in notes]
    pcs = Counter(p % 12 for p in ps)
    total = sum(pcs.values())
    ent = -sum(c / total * math.log2(c / total) for c in pcs.values()) if total else 0.0
    moves = [abs(b - a) for a, b in itertools.pairwise(ps)]
    span = max(n.end for n in notes) - min(n.start for n in notes) if notes else 1.0
    return {"pc_entropy": ent,
            "step_ratio": sum(m <= 2 for m in moves) / len(moves) if moves else 0.0,
            "range": float(max(ps) - min(ps)) if ps else 0.0,
            "density": len(ps) / max(span, 1e-9),
            "in_scale": sum(p % 12 in set(key.scale) for p in ps) / len(ps) if ps else 0.0}


def log_likelihood(lm, notes, meter) -> tuple[float, int]:
    """Sum of log-probabilities of a melody's REMI tokens under the model, and the count."""
    import torch
    import torch.nn.functional as F

    from tunecraft.score import Score, TempoChange, TimeSignature, Track

    s = Score(tracks=(Track("M", tuple(notes), role="lead"),), tempos=(TempoChange(0, 100),),
              time_signatures=(TimeSignature(0, meter.numerator, meter.denominator),))
    ids = lm.tokenizer.encode(s, s.tracks[0].notes)
    ctx = lm.config.seq_len
    total, count = 0.0, 0
    with torch.no_grad():
        for i in range(0, len(ids) - 1, ctx):
            chunk = torch.tensor([ids[i:i + ctx + 1]])
            if chunk.shape[1] < 2:
                break
            logits, _ = lm.net(chunk[:, :-1])
            lp = -F.cross_entropy(logits[0], chunk[0, 1:], reduction="sum")
            total += float(lp)
            count += chunk.shape[1] - 1
    return total, count


def main() -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    from tunecraft.compose.learned import write_learned_melody
    from tunecraft.compose.melody import write_melody
    from tunecraft.compose.plan import PartSpec, make_plan
    from tunecraft.models import load_model
    from tunecraft.models.build_default import default_corpus_dir
    from tunecraft.models.sampling import estimate_key
    from tunecraft.models.tokens import piece_notes, split_by_piece
    from tunecraft.models.training import load_pieces
    from tunecraft.styles import load_style
    from tunecraft.understand import parse

    ap = argparse.ArgumentParser()
    ap.add_argument("--model", type=Path, default=None)
    ap.add_argument("--corpus", type=Path, default=default_corpus_dir())
    ap.add_argument("--seeds", type=int, default=2)
    args = ap.parse_args()
    lm = load_model(args.model)
    seed = int(lm.meta.get("training", {}).get("seed", 0))

    from tunecraft.corpus import read_manifest

    sources = {e["id"]: e.get("source", "") for e in read_manifest(args.corpus)}
    pieces = [(pid, s) for pid, s in load_pieces(args.corpus) if piece_notes(s, parts="melody")]
    _, val = split_by_piece([pid for pid, _ in pieces], val_fraction=0.1, seed=seed)
    val_set = {v for v in val if "essen-folk" in sources.get(v, "")}
    groups: dict[str, list[tuple[list, object, object]]] = {"real (held-out folk)": [],
                                                            "rules": [], "learned": []}
    for pid, s in pieces:
        if pid in val_set:
            notes = list(piece_notes(s, parts="melody"))
            groups["real (held-out folk)"].append((notes, s.time_signature, estimate_key(notes)))
    for prompt in PROMPTS:
        for sd in range(1, args.seeds + 1):
            spec = parse(prompt, duration=40.0, seed=sd)
            style = load_style(spec.style)
            plan = make_plan(spec, style, seed=sd)
            inst = style.instruments["lead"]
            part = PartSpec("lead", "lead", inst.program, low=inst.low, high=inst.high)
            groups["rules"].append((list(write_melody(plan, part)), plan.meter, plan.key))
            groups["learned"].append((list(write_learned_melody(plan, part)), plan.meter,
                                      plan.key))
    head = (f"{'melodies':<22}{'n':>4}{'LL/token':>10}{'ppl':>8}{'pc-entropy':>12}"
            f"{'steps':>8}{'range':>7}{'notes/beat':>12}{'in scale':>10}")
    print(head)
    print("-" * len(head))
    for name, items in groups.items():
        ll, cnt = 0.0, 0
        ms = []
        for notes, meter, key in items:
            if not notes:
                continue
            a, b = log_likelihood(lm, notes, meter)
            ll, cnt = ll + a, cnt + b
            ms.append(metrics(notes, key))
        per = ll / max(cnt, 1)

        def avg(k: str, ms=ms) -> float:
            return statistics.fmean(m[k] for m in ms) if ms else float("nan")

        print(f"{name:<22}{len(ms):>4}{per:>10.3f}{math.exp(-per):>8.2f}"
              f"{avg('pc_entropy'):>12.2f}{avg('step_ratio'):>8.2f}{avg('range'):>7.1f}"
              f"{avg('density'):>12.2f}{avg('in_scale'):>10.2f}")


if __name__ == "__main__":
    main()
