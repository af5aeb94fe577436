"""How readable the MusicXML is, counted by re-reading it with music21 (an independent parser).

For one piece per style (30 s, seed 1): notes and rests written, how many are tuplets, how many
carry two or more dots, the drum notes written as pitched notes (not unpitched), the pianos not
on a grand staff, the tempo marks that are not whole numbers, chord symbols, and the time to
write the file. Prints one line per style and the totals.

Usage: .venv/bin/python benchmarks/notation.py [--seconds 30] [--styles pop,jazz]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import music21

from tunecraft.api import generate
from tunecraft.io.musicxml import write_musicxml
from tunecraft.styles import load_style, style_ids


def count(path: Path) -> dict[str, int]:
    parsed = music21.converter.parse(path)
    els = list(parsed.recurse().notesAndRests)
    drum_parts = [p for p in parsed.parts
                  if isinstance(p.recurse().getElementsByClass("Clef").first(),
                                music21.clef.PercussionClef)]
    pitched_drums = sum(1 for p in drum_parts for n in p.recurse().notes
                        if isinstance(n, (music21.note.Note, music21.chord.Chord)))
    pianos = [p for p in parsed.parts if (p.getInstrument() and
                                          p.getInstrument().midiProgram in range(8))]
    single_pianos = sum(1 for p in pianos if not isinstance(p, music21.stream.PartStaff))
    marks = [m.number for m in parsed.recurse().getElementsByClass("MetronomeMark")
             if m.number is not None]
    return {"elements": len(els),
            "tuplets": sum(1 for e in els if e.duration.tuplets),
            "two_dots": sum(1 for e in els if e.duration.dots >= 2),
            "pitched_drums": pitched_drums,
            "single_staff_pianos": single_pianos,
            "decimal_tempos": sum(1 for x in marks if not float(x).is_integer()),
            "chord_symbols": len(list(parsed.recurse().getElementsByClass("ChordSymbol")))}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=30.0)
    ap.add_argument("--styles", default="")
    args = ap.parse_args()
    styles = args.styles.split(",") if args.styles else list(style_ids())
    totals: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as d:
        for sid in styles:
            r = generate(f"{load_style(sid).name} music", duration=args.seconds, seed=1,
                         render=False)
            path = Path(d) / f"{sid}.musicxml"
            t0 = time.perf_counter()
            write_musicxml(r.score, path)
            seconds = time.perf_counter() - t0
            c = count(path)
            c["write_ms"] = round(seconds * 1000)
            for k, v in c.items():
                totals[k] = totals.get(k, 0) + v
            print(f"{sid:<14} " + "  ".join(f"{k} {v}" for k, v in c.items()), flush=True)
    n = len(styles)
    print(f"TOTAL over {n} styles: " + "  ".join(
        f"{k} {v:g}" for k, v in totals.items() if k != "write_ms")
        + f"  mean write_ms {totals['write_ms'] / n:.0f}")


if __name__ == "__main__":
    main()
