"""The self-check over many real requests: compose (no rendering) for MusicCaps captions and
count how often every hard guarantee holds on the first attempt and after retries.

    .venv/bin/python benchmarks/adherence.py [--n 500]
"""

from __future__ import annotations

import argparse
import csv
import time
from collections import Counter
from pathlib import Path

CAPTIONS = Path(__file__).resolve().parents[1] / "tests" / "data" / "musiccaps" / \
    "musiccaps-public.csv"


def main() -> None:
    from tunecraft.api import generate

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=500)
    args = ap.parse_args()
    with CAPTIONS.open(newline="", encoding="utf-8") as f:
        captions = [row["caption"] for row in csv.DictReader(f)][: args.n]
    first, final, failures = 0, 0, Counter()
    t = time.perf_counter()
    for i, caption in enumerate(captions):
        r = generate(caption, seed=i, render=False)
        first += r.attempts == 1 and r.report.passed
        final += r.report.passed
        failures.update(c.name for c in r.report.failures)
    wall = time.perf_counter() - t
    n = len(captions)
    print(f"adherence over {n} MusicCaps captions (compose only, seeds 0..{n - 1}): "
          f"{first / n:.1%} pass every hard check at once, {final / n:.1%} after retries; "
          f"{wall / n * 1000:.0f} ms per request")
    if failures:
        print("  failing checks:", ", ".join(f"{k} {v}" for k, v in failures.most_common()))


if __name__ == "__main__":
    main()
