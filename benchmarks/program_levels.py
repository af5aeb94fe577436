"""Measure how loud each General MIDI program of a SoundFont plays, and write the table the
renderer levels instruments with (src/tunecraft/synth/data/program_levels.json).

Every program plays the same reference phrase dry through FluidSynth: a two-octave arpeggio
up and down, one note a beat at 120 bpm, velocity 96, around the middle of the instrument's
comfortable register (compose.ensemble.instrument_range), then a three-note chord held two
beats; the drum kit plays a bar of rock beat four times. The integrated loudness (EBU R128,
the project's own meter) of each is the program's level.

    .venv/bin/python benchmarks/program_levels.py                # print, installed fonts
    .venv/bin/python benchmarks/program_levels.py --write        # and update the table
    .venv/bin/python benchmarks/program_levels.py --font my.sf2  # another font
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import sys
from pathlib import Path

logging.disable(logging.WARNING)

TABLE = Path(__file__).resolve().parents[1] / "src/tunecraft/synth/data/program_levels.json"


def phrase_score(program: int, is_drum: bool):
    from tunecraft.compose.ensemble import instrument_range
    from tunecraft.score import Note, Score, TempoChange, TimeSignature, Track

    if is_drum:
        bar = [(36, 0), (42, 0), (42, 0.5), (38, 1), (42, 1), (42, 1.5), (36, 2), (42, 2),
               (42, 2.5), (38, 3), (42, 3), (42, 3.5)]
        notes = tuple(Note(p, b * 4 + t, 0.25, 96) for b in range(4) for p, t in bar)
    else:
        low, high = instrument_range(program)
        root = low + (high - low) // 2 - 7
        up = [root + s for s in (0, 4, 7, 12, 16, 19, 24)]
        line = [p for p in up + up[-2::-1] if low <= p <= high] or [root]
        notes = tuple(Note(p, float(i), 1.0, 96) for i, p in enumerate(line))
        end = float(len(line))
        notes += tuple(Note(p, end, 2.0, 96) for p in (root, root + 4, root + 7))
    track = Track("probe", notes, program=0 if is_drum else program, is_drum=is_drum,
                  role="drums" if is_drum else "lead")
    return Score(tracks=(track,), tempos=(TempoChange(0.0, 120.0),),
                 time_signatures=(TimeSignature(0.0, 4, 4),), length=max(n.end for n in notes) + 2)


def measure(font: str) -> dict[str, float]:
    from tunecraft.audio import Audio
    from tunecraft.synth.backends import get_backend
    from tunecraft.synth.backends.base import frames_for
    from tunecraft.synth.mastering import measure_loudness

    out: dict[str, float] = {}
    with get_backend("fluidsynth", soundfont=font) as backend:
        for key, program, is_drum in [*((str(p), p, False) for p in range(128)),
                                      ("drums", 0, True)]:
            score = phrase_score(program, is_drum)
            frames = frames_for(score.duration_seconds, backend.sample_rate)
            dry = backend.render_track(score, score.tracks[0], frames=frames)
            lufs = measure_loudness(Audio(dry, backend.sample_rate))
            if lufs == lufs and lufs > -70:  # silent presets (a missing one) are left out
                out[key] = round(lufs, 2)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--font", action="append", help="a SoundFont file (default: installed ones)")
    ap.add_argument("--write", action="store_true", help="update the renderer's table")
    args = ap.parse_args()
    from tunecraft.synth.backends.fluid import SOUNDFONTS

    fonts = args.font or [f for f in SOUNDFONTS if Path(f).is_file()]
    if not fonts:
        sys.exit("no SoundFont to measure (install fluid-soundfont-gm)")
    table = json.loads(TABLE.read_text(encoding="utf-8")) if TABLE.is_file() else {}
    table.setdefault("fonts", {})
    for font in fonts:
        levels = measure(font)
        ref = statistics.median(v for k, v in levels.items() if k != "drums")
        spread = sorted(levels.items(), key=lambda kv: kv[1])
        print(f"{Path(font).name}: median {ref:.1f} LUFS; quietest "
              + ", ".join(f"{k} {v:.1f}" for k, v in spread[:3]) + "; loudest "
              + ", ".join(f"{k} {v:.1f}" for k, v in spread[-3:]))
        table["fonts"][Path(font).name] = levels
    if args.write:
        table["about"] = ("Integrated loudness (LUFS) of each General MIDI program, and the drum "
                          "kit, playing benchmarks/program_levels.py's reference phrase dry; "
                          "written by that script. tunecraft.synth.levels trims each track to "
                          "its font's median.")
        TABLE.write_text(json.dumps(table, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        print(f"wrote {TABLE}")


if __name__ == "__main__":
    main()
