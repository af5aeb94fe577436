"""Text to music speed: prompt -> mastered WAV + MIDI + MusicXML + JSON.

Prints, for 30 s and 180 s pieces: the wall time of a cold CLI run (a fresh process, as a user
types it), the wall time warm in one process, seconds of music per wall second, and the peak
memory of the CLI process. Medians of several runs; the machine is noisy.

    .venv/bin/python benchmarks/generate.py [--runs 3] [--backend auto] [--soundfont F.sf2]

Targets (issue 3, 2-core CPU): 30 s in under 2 s from a cold CLI; 3 minutes in under 10 s.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROMPT = "upbeat pop song with piano, bass, drums and a synth lead"


def cold(seconds: int, runs: int, backend: str, out: Path,
         soundfont: str | None = None) -> tuple[list[float], float]:
    exe = str(Path(sys.executable).parent / "tunecraft")
    times, peak = [], 0.0
    for i in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        t = time.perf_counter()
        font = ["--soundfont", soundfont] if soundfont else []
        subprocess.run([exe, "generate", PROMPT, "--duration", str(seconds), "--seed", str(i),
                        "--backend", backend, *font, "--quiet",
                        "-o", str(out / f"cold{seconds}-{i}.wav")],
                       check=True, env={**os.environ, "NUMBA_CACHE_DIR": str(out / "numba")})
        times.append(time.perf_counter() - t)
        peak = max(peak, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, before)
    return times, peak / 1024


def warm(seconds: int, runs: int, backend: str, out: Path,
         soundfont: str | None = None) -> list[float]:
    from tunecraft.api import generate
    from tunecraft.synth import RenderOptions

    opts = None if backend == "auto" and not soundfont else RenderOptions(
        backend=backend, soundfont=soundfont)
    generate(PROMPT, duration=seconds, seed=99, options=opts).save(out / f"warmup{seconds}.wav")
    times = []
    for i in range(runs):
        t = time.perf_counter()
        take = generate(PROMPT, duration=seconds, seed=i, options=opts)
        take.save(out / f"warm{seconds}-{i}.wav")
        times.append(time.perf_counter() - t)
    return times


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--backend", default="auto")
    ap.add_argument("--soundfont", help="a SoundFont file (default: the backend's best)")
    ap.add_argument("--seconds", type=int, nargs="+", default=[30, 180])
    args = ap.parse_args()
    print(f"generate benchmark: {PROMPT!r}, backend {args.backend}, soundfont "
          f"{args.soundfont or 'default'}, median of {args.runs} runs; {os.cpu_count()} CPUs")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        for seconds in args.seconds:
            c, peak = cold(seconds, args.runs, args.backend, out, args.soundfont)
            w = warm(seconds, args.runs, args.backend, out, args.soundfont)
            mc, mw = statistics.median(c), statistics.median(w)
            print(f"  {seconds:>4} s of music: cold CLI {mc:5.2f} s "
                  f"({seconds / mc:5.1f}x realtime; "
                  f"runs {', '.join(f'{x:.2f}' for x in c)}), warm in process {mw:5.2f} s "
                  f"({seconds / mw:5.1f}x), peak RSS of the CLI {peak:.0f} MiB")


if __name__ == "__main__":
    main()
