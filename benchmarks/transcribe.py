"""Transcription speed and note F1 on rendered pieces of increasing polyphony.

    NUMBA_CACHE_DIR=.cache/numba .venv/bin/python benchmarks/transcribe.py [--runs 3]

Each piece is rendered dry (reverb 0, mastered) with FluidSynth (FluidR3 GM) and with
TinySoundFont (TimGM6mb), then transcribed with the default options. Speed is seconds of audio
per wall second, the median of ``--runs`` calls after a warm-up; the first call of the process
(imports, the ONNX session, librosa's numba code) is timed on its own. Note F1 is mir_eval's
onset-only score (50 ms tolerance, offsets ignored) against the score's pitched notes (drums
are left out of the reference; the transcription has no way to leave them out).

Pieces: a piano melody (1 voice, 18 notes), melody and bass (2 voices), the Bach chorale of
``tunecraft.demo.demo_score()`` (4 voices, its first 20 s) and ``band_score`` from the test
builders (8 tracks with drums, 8 bars at 120 bpm).
"""

from __future__ import annotations

import argparse
import logging
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "tests" / "transcribe"))

CHORALE_SECONDS = 20.0


def pieces():
    from transcribe_pieces import duet_piece, melody_piece

    from builders import band_score
    from tunecraft.demo import demo_score

    return [("1 voice: piano melody", melody_piece(), None),
            ("2 voices: melody + bass", duet_piece(), None),
            ("4 voices: chorale (20 s)", demo_score(), CHORALE_SECONDS),
            ("8 tracks: band_score", band_score(8, bpm=120.0), None)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING)

    import numpy as np
    from transcribe_pieces import note_f1

    from tunecraft.audio import Audio
    from tunecraft.synth import RenderOptions, available_backends, render
    from tunecraft.transcribe import transcribe

    rows = []
    first_call = None
    for backend in ("fluidsynth", "tinysoundfont"):
        if backend not in available_backends():
            print(f"{backend}: not available, skipped")
            continue
        for name, score, until in pieces():
            audio = render(score, RenderOptions(backend=backend, reverb=0.0))
            if until is not None:
                audio = Audio(np.ascontiguousarray(
                    audio.samples[:, :round(until * audio.sample_rate)]), audio.sample_rate)
            t0 = time.perf_counter()
            result = transcribe(audio)
            if first_call is None:
                first_call = time.perf_counter() - t0
            times = []
            for _ in range(args.runs):
                t0 = time.perf_counter()
                result = transcribe(audio)
                times.append(time.perf_counter() - t0)
            p, r, f = note_f1(score, result.score, until=until)
            ref = sum(1 for t in score.tracks if not t.is_drum for n in t.notes
                      if until is None or score.seconds_at(n.start) < until)
            rows.append((backend, name, audio.duration, ref, result.notes_raw,
                         result.notes_kept, p, r, f, audio.duration / statistics.median(times),
                         result.bpm))
    print(f"first call in this process (imports, ONNX session, numba cache): {first_call:.2f} s")
    head = (f"{'backend':<14}{'piece':<26}{'audio s':>8}{'ref':>5}{'raw':>5}{'kept':>5}"
            f"{'P':>6}{'R':>6}{'F1':>6}{'x realtime':>11}{'bpm':>8}")
    print(head)
    print("-" * len(head))
    for b, name, dur, ref, raw, kept, p, r, f, speed, bpm in rows:
        print(f"{b:<14}{name:<26}{dur:>8.1f}{ref:>5}{raw:>5}{kept:>5}{p:>6.2f}{r:>6.2f}"
              f"{f:>6.2f}{speed:>11.1f}{bpm:>8.1f}")


if __name__ == "__main__":
    main()
