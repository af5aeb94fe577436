"""Melody conditioning: how well an arrangement keeps a hummed or whistled tune.

    NUMBA_CACHE_DIR=.cache/numba .venv/bin/python benchmarks/melody_conditioning.py [--tunes 10]

Tunes: the first ``--tunes`` songs of music21's Essen folk corpus (``essenFolksong/altdeu10``),
their top line, the first 20 s at a tempo of 84-124 bpm (varied per tune), sung in code by
``sing`` of tests/transcribe/test_hum.py (voice-like hums: harmonics, formants, 5-6 Hz
+/-40 cent vibrato, 30 cent drift, glides, soft attacks, breath noise; every third tune
whistled two octaves up, one when two would pass C7). Each is arranged with a different seed prompt
(:func:`tunecraft.arrange`, rendered with FluidSynth, stems on).

Columns:

* ``heard F1``: the heard notes (seconds) against the tune sung (mir_eval onset-only F1,
  100 ms onset tolerance, pitch within 50 cents, after the known whistle octave).
* ``lead F1``: the output lead's notes in the ``melody`` section against the quantized heard
  notes (the input score), both in seconds from the tune's start, 50 ms, pitch within 50 cents
  after the lead's octave shift; this checks "the tune is kept note for note".
* ``chroma``: MusicGen's melody metric: cosine similarity of chromagrams, input audio vs the
  rendered lead stem. Both mono at 22.05 kHz, ``librosa.feature.chroma_stft`` (n_fft 4096,
  hop 2048 = 93 ms), each frame normalised to unit length; the stem is cut from the start of
  the ``melody`` section and the input from the heard beat 0 (``HeardMelody.origin``), so frame
  k of both is the same beat at the heard tempo; the mean cosine over the frames where the
  input is voiced (frame RMS within 30 dB of the loudest) and the stem is not silent, up to
  the end of the tune.
* ``tempo``, ``key``: heard vs the tune's (key right, or relative: "rel").

Timing: ``tunecraft.arrange`` on a 20 s hum file (hearing + arranging + rendering with
stems off), the median of 3 after one warm-up, with the stages timed apart.
"""

from __future__ import annotations

import argparse
import logging
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "tests" / "transcribe"))

SECONDS = 20.0
PROMPTS = ["string quartet", "a cappella choir", "opera", "guitar solo", "jazz with saxophone",
           "tribal sounds with flutes", "electronic synth lead"]


def folk_tunes(n: int) -> list[tuple[str, list[tuple[int, float, float]], float]]:
    """(name, [(pitch, start beat, beats)], bpm) of the first n Essen tunes, up to 20 s."""
    from music21 import corpus

    opus = corpus.parse("essenFolksong/altdeu10")
    out = []
    for i, s in enumerate(opus.scores):
        if len(out) >= n:
            break
        bpm = 84.0 + 8 * (len(out) % 6)
        notes = []
        for el in s.flatten().notes:
            p = el.pitches[-1].midi
            start, dur = float(el.offset), float(el.quarterLength)
            if start * 60 / bpm > SECONDS - 0.5:
                break
            if dur > 0:
                notes.append((p, start, dur))
        if len({p for p, _, _ in notes}) >= 3:
            title = (s.metadata.title if s.metadata and s.metadata.title else f"tune {i}")
            out.append((title[:22], notes, bpm))
    return out


def chroma_similarity(inp, out, origin: float, start_s: float, length_s: float) -> float:
    import librosa

    from tunecraft.io.audio import resample

    sr = 22050

    def mono(a):
        return resample(a, sr).samples.mean(axis=0) if a.sample_rate != sr else \
            a.samples.mean(axis=0)

    x = mono(inp)
    y = mono(out)
    a = round(origin * sr)
    x = np.concatenate([np.zeros(-a), x]) if a < 0 else x[a:]
    y = y[round(start_s * sr):]
    n = min(len(x), len(y), int(length_s * sr))
    x, y = x[:n], y[:n]
    kw = dict(sr=sr, n_fft=4096, hop_length=2048)
    cx = librosa.feature.chroma_stft(y=x, **kw)
    cy = librosa.feature.chroma_stft(y=y, **kw)
    rx = librosa.feature.rms(y=x, frame_length=4096, hop_length=2048)[0]
    ry = librosa.feature.rms(y=y, frame_length=4096, hop_length=2048)[0]
    m = min(cx.shape[1], cy.shape[1])
    keep = (rx[:m] > rx.max() * 10 ** (-30 / 20)) & (ry[:m] > ry.max() * 1e-3)
    cx = cx[:, :m] / np.maximum(np.linalg.norm(cx[:, :m], axis=0), 1e-9)
    cy = cy[:, :m] / np.maximum(np.linalg.norm(cy[:, :m], axis=0), 1e-9)
    return float(np.mean(np.sum(cx * cy, axis=0)[keep])) if keep.any() else float("nan")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tunes", type=int, default=10)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING)
    import soundfile as sf
    from test_hum import f1, sing

    import tunecraft.api as api
    from tunecraft.evaluate.adherence import key_estimate
    from tunecraft.score import Note, Score, Track
    from tunecraft.transcribe.hum import track_melody

    rows = []
    print(f"{'tune':<23}{'sung':<8}{'prompt':<26}{'notes':>6}{'heard F1':>9}{'lead F1':>8}"
          f"{'chroma':>8}{'tempo':>12}{'key':>16}")
    for i, (name, tune, bpm) in enumerate(folk_tunes(args.tunes)):
        kind = "whistle" if i % 3 == 2 else "hum"
        beat = 60.0 / bpm
        ref = [(0.4 + s * beat, 0.4 + (s + d) * beat, p) for p, s, d in tune]
        # A whistle sits two octaves up, or one when that would pass C7 (2 kHz).
        octave = 0 if kind == "hum" else 24 if max(p for *_, p in ref) + 24 <= 96 else 12
        audio = sing(ref, kind=kind, seed=i, transpose=octave - (24 if kind == "whistle"
                                                                 else 0))
        heard = track_melody(audio)
        heard_f1 = f1([(a, b, p + octave) for a, b, p in ref], list(heard.notes_seconds))
        prompt = PROMPTS[i % len(PROMPTS)]
        r = api.arrange(heard, prompt, seed=i, stems=True)
        how = r.meta["conditioning"]
        lead_stem = r.stems[how["lead"]]
        start = how["melody_start_beat"]
        t0 = r.score.seconds_at(start)
        period = 60.0 / heard.bpm
        inp = [(n.start * period, n.end * period, n.pitch + how["octave_shift"])
               for n in heard.notes]
        tune_end = max(n.end for n in heard.notes)
        out = [(r.score.seconds_at(n.start) - t0, r.score.seconds_at(n.end) - t0, n.pitch)
               for n in r.score.track(how["lead"]).notes
               if start <= n.start < start + tune_end]
        lead_f1 = f1(inp, out, onset_tol=0.05)
        chroma = chroma_similarity(audio, lead_stem, heard.origin, t0, tune_end * period)
        truth = Score(tracks=(Track("t", tuple(Note(p, s, d) for p, s, d in tune)),))
        tonic, mode, _ = key_estimate(truth)
        rel = (tonic + 9) % 12 if mode == "major" else (tonic + 3) % 12
        key_ok = ("ok" if heard.key.tonic == tonic and heard.key.mode == mode else
                  "rel" if heard.key.tonic in (tonic, rel) else "WRONG")
        rows.append((heard_f1, lead_f1, chroma, abs(heard.bpm / bpm - 1) <= 0.05, key_ok))
        print(f"{name:<23}{kind:<8}{prompt:<26}{len(tune):>6}{heard_f1:>9.3f}{lead_f1:>8.3f}"
              f"{chroma:>8.3f}{heard.bpm:>6.1f}/{bpm:<5.0f}"
              f"{heard.key.name + ' ' + key_ok:>16}")
    h, lf, c = (np.mean([r[k] for r in rows]) for k in range(3))
    print(f"{'mean':<57}{h:>9.3f}{lf:>8.3f}{c:>8.3f}  tempo within 5%: "
          f"{sum(r[3] for r in rows)}/{len(rows)}, key right or relative: "
          f"{sum(r[4] != 'WRONG' for r in rows)}/{len(rows)}")

    # Time to arrange 20 s of humming.
    name, tune, bpm = folk_tunes(1)[0]
    beat = 60.0 / bpm
    ref = [(0.4 + s * beat, 0.4 + (s + d) * beat, p) for p, s, d in tune]
    audio = sing(ref, seed=0, tail=max(0.5, SECONDS - ref[-1][1]))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "hum.wav"
        sf.write(path, audio.samples[0], audio.sample_rate)
        api.arrange(path, "string quartet", seed=0)  # warm-up
        totals, hears, arrs, rends = [], [], [], []
        for run in range(args.runs):
            t = time.perf_counter()
            heard = track_melody(path)
            t1 = time.perf_counter()
            r = api.arrange(heard, "string quartet", seed=run, render=False)
            t2 = time.perf_counter()
            api.render_stems(r.score)
            t3 = time.perf_counter()
            api.arrange(path, "string quartet", seed=run)
            t4 = time.perf_counter()
            hears.append(t1 - t)
            arrs.append(t2 - t1)
            rends.append(t3 - t2)
            totals.append(t4 - t3)
    print(f"\narrange {audio.duration:.1f} s of humming (string quartet, FluidSynth), median of "
          f"{args.runs}: total {statistics.median(totals):.2f} s = hearing "
          f"{statistics.median(hears):.2f} s + arranging {statistics.median(arrs):.3f} s + "
          f"rendering {statistics.median(rends):.2f} s")


if __name__ == "__main__":
    main()
