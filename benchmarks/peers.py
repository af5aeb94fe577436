"""tunecraft against a neural peer, on this CPU, in one run.

    .venv/bin/python benchmarks/peers.py [--runs 3] [--seconds 10,30] [--batch 6]

- tunecraft's symbolic engine: compose and render (FluidSynth) 10 s and 30 s pieces: seconds
  of audio per wall second (median of --runs).
- FluidSynth alone, the floor: rendering the same scores, nothing composed.
- MusicGen-small's architecture (the published sizes: T5-base text encoder, a 24-layer
  1024-wide decoder with 16 heads, 4 codebooks of 2048, EnCodec 32 kHz at 50 frames a
  second) with random weights (compute does not depend on their values), classifier-free
  guidance 3, sampling: the same durations, one run each (they take minutes).
- Batch throughput (pieces a minute) for --batch requests of 30 s: local processes and a
  local Ray, 2 workers each.

Run it on an idle machine: anything else running slows the neural model most.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from tunecraft import api

PROMPT = "a calm piano piece with strings"


def timed(fn, runs: int) -> tuple[float, object]:
    values, last = [], None
    for _ in range(runs):
        t = time.perf_counter()
        last = fn()
        values.append(time.perf_counter() - t)
    return statistics.median(values), last


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--seconds", default="10,30")
    ap.add_argument("--batch", type=int, default=6)
    ap.add_argument("--skip-neural", action="store_true")
    args = ap.parse_args()
    durations = [float(x) for x in args.seconds.split(",")]
    api.warm()
    results: dict[str, dict[float, float]] = {"tunecraft": {}, "fluidsynth": {},
                                              "musicgen-small": {}}
    for seconds in durations:
        wall, take = timed(lambda s=seconds: api.generate(PROMPT, duration=s, seed=1),
                           args.runs)
        audio = take.audio.duration
        results["tunecraft"][seconds] = audio / wall
        print(f"tunecraft {seconds:g} s: {wall:.2f} s wall for {audio:.1f} s of audio -> "
              f"{audio / wall:.1f} s of audio a second (median of {args.runs}, "
              f"{take.backend})")
        rwall, rendered = timed(lambda t=take: api.render(t.score), args.runs)
        results["fluidsynth"][seconds] = rendered.duration / rwall
        print(f"  FluidSynth alone: {rwall:.2f} s -> {rendered.duration / rwall:.1f} s of "
              "audio a second")
    if not args.skip_neural:
        import torch

        from tunecraft.engines.random_models import make

        t = time.perf_counter()
        model, tokenizer = make(size="small")
        params = sum(p.numel() for p in model.parameters()) / 1e6
        print(f"MusicGen-small architecture, random weights: {params:.0f} M parameters, built "
              f"in {time.perf_counter() - t:.1f} s; torch {torch.__version__}, "
              f"{torch.get_num_threads()} threads")
        inputs = tokenizer([PROMPT], return_tensors="pt")
        for seconds in durations:
            tokens = int(seconds * 50) + 3
            torch.manual_seed(0)
            t = time.perf_counter()
            with torch.no_grad():
                out = model.generate(**inputs, do_sample=True, guidance_scale=3.0,
                                     max_new_tokens=tokens)
            wall = time.perf_counter() - t
            audio = out.shape[-1] / 32000
            results["musicgen-small"][seconds] = audio / wall
            print(f"musicgen-small {seconds:g} s: {wall:.1f} s wall for {audio:.1f} s of "
                  f"audio -> {audio / wall:.3f} s of audio a second ({tokens} steps, "
                  f"{wall / tokens * 1000:.0f} ms a step)")
            print(f"  tunecraft is {results['tunecraft'][seconds] / (audio / wall):.0f}x "
                  "faster")
        del model
    if args.batch:
        with tempfile.TemporaryDirectory() as tmp:
            lines = [f"{PROMPT}, take {i}" for i in range(args.batch)]
            file = Path(tmp) / "batch.txt"
            file.write_text("\n".join(lines) + "\n", encoding="utf-8")
            for engine in ("local", "ray"):
                t = time.perf_counter()
                result = api.batch(file, Path(tmp) / engine, duration=30, engine=engine,
                                   workers=2)
                wall = time.perf_counter() - t
                print(f"batch of {args.batch} x 30 s, {engine}, 2 workers: {wall:.1f} s -> "
                      f"{result.made / wall * 60:.1f} pieces a minute"
                      + (" (including starting Ray)" if engine == "ray" else ""))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
