"""Render speed and memory per backend, and CLI start-up time.

    .venv/bin/python benchmarks/render.py [--runs 3] [--bars 30]

For each available backend, a child process renders ``band_score(30, bpm=120)`` (8 tracks,
60 s of music plus the release tail) once to warm up, then ``--runs`` times; it reports the
median speed in seconds of audio per wall second and its own peak resident memory
(``ru_maxrss`` of RUSAGE_SELF, read in the child, so backends do not share a figure). Then the
wall time of ``.venv/bin/tunecraft --help`` (median of 5).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))


def child(backend: str, runs: int, bars: int) -> None:
    from builders import band_score
    from tunecraft.synth import RenderOptions, render_stems

    score = band_score(bars, bpm=120)
    options = RenderOptions(backend=backend)
    rss_ready = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0 = time.perf_counter()
    first = render_stems(score, options)  # warm-up: loads the SoundFont, imports scipy...
    warm_s = time.perf_counter() - t0
    seconds = first.mix.duration
    del first
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        render_stems(score, options)
        times.append(time.perf_counter() - t0)
    print(json.dumps({
        "backend": backend, "audio_s": seconds, "times": times, "warm_s": warm_s,
        "rss_ready_kib": rss_ready,
        "rss_peak_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    }))


def cli_help(runs: int = 5) -> float | None:
    exe = ROOT / ".venv" / "bin" / "tunecraft"
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        try:
            done = subprocess.run([str(exe), "--help"], capture_output=True, timeout=60)
        except (OSError, subprocess.TimeoutExpired):
            return None
        if done.returncode != 0:
            return None
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--bars", type=int, default=30)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.runs, args.bars)
        return

    from tunecraft.synth import available_backends

    print(f"render benchmark: band_score({args.bars}, bpm=120), 8 tracks, "
          f"{args.bars * 2} s of music + tail; median of {args.runs} runs after 1 warm-up; "
          f"{os.cpu_count()} CPUs")
    print("peak memory: ru_maxrss (RUSAGE_SELF) of a fresh child process per backend")
    for backend in available_backends():
        done = subprocess.run([sys.executable, __file__, "--child", backend, "--runs",
                               str(args.runs), "--bars", str(args.bars)],
                              capture_output=True, text=True)
        if done.returncode != 0:
            print(f"  {backend:14s} FAILED: {done.stderr.strip().splitlines()[-1:]}")
            continue
        r = json.loads(done.stdout.strip().splitlines()[-1])
        median = statistics.median(r["times"])
        print(f"  {backend:14s} {r['audio_s'] / median:6.1f} s audio per wall s "
              f"(median {median:.2f} s for {r['audio_s']:.2f} s; runs "
              f"{', '.join(f'{t:.2f}' for t in r['times'])}; warm-up {r['warm_s']:.2f} s)  "
              f"peak RSS {r['rss_peak_kib'] / 1024:.0f} MiB "
              f"(after imports {r['rss_ready_kib'] / 1024:.0f} MiB)")
    help_s = cli_help()
    if help_s is None:
        print("  tunecraft --help: skipped (the CLI is not installed or failed)")
    else:
        print(f"  tunecraft --help: {help_s * 1000:.0f} ms (median of 5)")


if __name__ == "__main__":
    main()
