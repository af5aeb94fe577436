"""How much of MusicCaps does the prompt understanding recognise?

Runs :func:`tunecraft.understand.parse` over every caption of
``tests/data/musiccaps/musiccaps-public.csv`` (MusicCaps, Agostinelli et al. 2023, CC BY-SA 4.0)
and prints the share of captions that yield:

- a genre/style named or hinted by the words (evidence source not "default");
- a tempo from a number or tempo words (explicit), and from any words (explicit or inferred);
- at least one instrument named; a mood;
- agreement of the detected tempo class with the caption's aspect list where it names one.
  Tempo classes by BPM: slow < 90 <= medium < 120 <= fast. Aspect terms: "slow tempo",
  "slower tempo", "slow" -> slow; "medium tempo", "moderate tempo", "mid tempo" -> medium;
  "fast tempo", "uptempo", "up-tempo", "quick tempo" -> fast; "medium fast tempo",
  "medium to uptempo" -> medium or fast.

``--unknown N`` also lists the N most frequent aspect terms that yield nothing (to mine words).

Usage: python benchmarks/understand_coverage.py [--csv PATH] [--unknown 40]
"""

from __future__ import annotations

import argparse
import ast
import csv
import time
from collections import Counter
from pathlib import Path

from tunecraft.errors import ParameterError
from tunecraft.understand import parse, tempo_class

DEFAULT_CSV = Path(__file__).resolve().parents[1] / "tests" / "data" / "musiccaps" / \
    "musiccaps-public.csv"
ASPECT_TEMPO = {
    "slow tempo": {"slow"}, "slower tempo": {"slow"}, "slow": {"slow"}, "very slow tempo": {"slow"},
    "medium tempo": {"medium"}, "moderate tempo": {"medium"}, "mid tempo": {"medium"},
    "mid-tempo": {"medium"}, "fast tempo": {"fast"}, "uptempo": {"fast"}, "up-tempo": {"fast"},
    "quick tempo": {"fast"}, "fast": {"fast"}, "very fast tempo": {"fast"},
    "medium fast tempo": {"medium", "fast"}, "medium to uptempo": {"medium", "fast"},
    "medium-fast tempo": {"medium", "fast"},
}  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--csv", type=Path, default=DEFAULT_CSV)
    ap.add_argument("--unknown", type=int, default=0)
    args = ap.parse_args()
    rows = list(csv.DictReader(args.csv.open(encoding="utf-8")))
    n = len(rows)
    c: Counter[str] = Counter()
    styles: Counter[str] = Counter()
    agree_all = agree_words = named = named_words = 0
    errors: list[str] = []
    t0 = time.perf_counter()
    for r in rows:
        try:
            spec = parse(r["caption"])
        except ParameterError as exc:
            errors.append(f"{r['ytid']}: {exc}")
            continue
        ev = spec.evidence
        if ev["style"].source != "default":
            c["style"] += 1
            styles[spec.style] += 1
        if ev["style"].source == "explicit":
            c["genre_named"] += 1
        if ev["bpm"].source == "explicit":
            c["tempo_explicit"] += 1
        if ev["bpm"].source in ("explicit", "inferred") and ev["bpm"].words:
            c["tempo_words"] += 1
        if spec.explicit_instruments:
            c["instrument"] += 1
        if spec.moods:
            c["mood"] += 1
        if ev["key"].source == "explicit":
            c["key"] += 1
        if spec.excluded:
            c["excluded"] += 1
        aspects = [a.strip().lower() for a in ast.literal_eval(r["aspect_list"])]
        want: set[str] = set()
        for a in aspects:
            want |= ASPECT_TEMPO.get(a, set())
        if want:
            named += 1
            got = tempo_class(spec.bpm)
            agree_all += got in want
            if ev["bpm"].source == "explicit":
                named_words += 1
                agree_words += got in want
    dt = time.perf_counter() - t0

    def pct(k: int, d: int = n) -> str:
        return f"{100.0 * k / d:5.1f}%" if d else "  n/a"

    print(f"MusicCaps captions: {n}  (parsed in {dt:.2f} s, {1000 * dt / n:.2f} ms each; "
          f"{len(errors)} raised ParameterError)")
    print(f"  genre/style from the words (named or hinted): {pct(c['style'])}")
    print(f"    of which a genre named outright:            {pct(c['genre_named'])}")
    print(f"  tempo from a number or tempo words:           {pct(c['tempo_explicit'])}")
    print(f"  tempo from any words (incl. places, moods):   {pct(c['tempo_words'])}")
    print(f"  at least one instrument named:                {pct(c['instrument'])}")
    print(f"  at least one mood:                            {pct(c['mood'])}")
    print(f"  an explicit key:                              {pct(c['key'])}")
    print(f"  something excluded (no drums, instrumental):  {pct(c['excluded'])}")
    print("tempo classes: slow < 90 bpm <= medium < 120 bpm <= fast")
    print(f"  captions whose aspect list names a tempo: {named}")
    print(f"  agreement, every such caption:            {pct(agree_all, named)}  "
          f"({agree_all}/{named})")
    print(f"  agreement, tempo said in the caption:     {pct(agree_words, named_words)}  "
          f"({agree_words}/{named_words})")
    print("styles found:", ", ".join(f"{s} {k}" for s, k in styles.most_common()))
    for e in errors[:10]:
        print("  error:", e)
    if args.unknown:
        unknown: Counter[str] = Counter()
        for r in rows:
            for a in ast.literal_eval(r["aspect_list"]):
                unknown[a.strip().lower()] += 1
        shown = 0
        print(f"most frequent aspect terms that yield nothing (top {args.unknown}):")
        for term, k in unknown.most_common():
            try:
                s = parse(term)
            except ParameterError:
                continue
            ev = s.evidence
            if (ev["style"].source == "default" and not s.moods and not s.explicit_instruments
                    and ev["bpm"].source != "explicit" and not s.context and not s.excluded
                    and not s.structure):
                print(f"  {k:4d}  {term}")
                shown += 1
                if shown >= args.unknown:
                    break


if __name__ == "__main__":
    main()
