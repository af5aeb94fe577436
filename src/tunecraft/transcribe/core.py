"""Audio -> Score: Basic Pitch, cleaning, tempo and grid."""

from __future__ import annotations

import cmath
import logging
import math
import os
import time

import numpy as np

from ..audio import Audio
from ..errors import InputFileError, ParameterError
from ..score.types import Note, Score, TempoChange, Track, snap
from .options import TranscribeOptions, Transcription
from .postprocess import RawNote, clean

log = logging.getLogger(__name__)

#: Quantize only when the note starts fit the beat grid at least this well (0-1, the length of
#: the mean phase vector of the starts on the grid; scattered starts give about 0).
MIN_GRID_FIT = 0.5
#: Tempo used when none can be estimated (too short, no pulse).
FALLBACK_BPM = 120.0
#: The estimate is folded by octaves into this range (bpm).
BPM_RANGE = (60.0, 200.0)
#: A grid offset smaller than this (seconds) is left alone rather than given a lead-in beat.
MIN_LEAD_IN = 0.02

#: Audio whose loudest 50 ms stays below this level (dBFS RMS) is silence: Basic Pitch is
#: nearly level-blind and finds "notes" in faint hiss.
SILENCE_DB = -50.0

_SAMPLE_RATE = 22050


def _loudest_rms_db(y: np.ndarray) -> float:
    block = _SAMPLE_RATE // 20
    n = max(1, y.shape[0] // block)
    frames = np.resize(y, n * block).reshape(n, block) if y.shape[0] >= block else y[None, :]
    rms = float(np.sqrt(np.max(np.mean(frames.astype(np.float64) ** 2, axis=1))))
    return 20 * math.log10(rms) if rms > 0 else -math.inf


def _load(source: str | os.PathLike[str] | Audio, max_seconds: float) -> tuple[np.ndarray, str]:
    """Mono float32 samples at 22.05 kHz and a name for messages."""
    from ._audio import load_mono

    def too_long(label: str, seconds: float) -> InputFileError:
        return InputFileError(label, f"the audio lasts {seconds:.1f} s; the limit is "
                                     f"{max_seconds:g} s")

    return load_mono(source, sample_rate=_SAMPLE_RATE, max_seconds=max_seconds,
                     too_long=too_long, empty="the audio is empty", wants="transcribe needs")


def _fold(bpm: float) -> float:
    lo, hi = BPM_RANGE
    while bpm < lo:
        bpm *= 2
    while bpm >= hi:
        bpm /= 2
    return bpm


def _grid_fit(onsets: np.ndarray, step: float) -> tuple[float, float]:
    """(fit 0-1, offset in seconds 0..step) of onset times on a grid of ``step`` seconds."""
    if onsets.size == 0:
        return 0.0, 0.0
    z = complex(np.mean(np.exp(2j * np.pi * onsets / step)))
    offset = (cmath.phase(z) / (2 * np.pi)) % 1.0 * step
    return abs(z), offset


def _tempo(y: np.ndarray, onsets: np.ndarray, options: TranscribeOptions
           ) -> tuple[float, float, float]:
    """(bpm, grid fit, grid offset in seconds) for the note starts ``onsets``."""
    if options.bpm is not None:
        bpm = options.bpm
    else:
        from ..analysis import tempo_estimate

        est = tempo_estimate(Audio(y, _SAMPLE_RATE))
        bpm = _fold(est) if math.isfinite(est) and est > 0 else FALLBACK_BPM
        # Refine within 4 %: the tempo whose grid the note starts fit best (librosa's estimate
        # is quantised by its frame rate: about 1 % at 120 bpm).
        if onsets.size >= 4:
            best = (_grid_fit(onsets, options.grid * 60.0 / bpm)[0], bpm)
            for f in np.linspace(0.96, 1.04, 81):
                fit = _grid_fit(onsets, options.grid * 60.0 / (bpm * f))[0]
                if fit > best[0] + 1e-3:
                    best = (fit, bpm * f)
            whole = float(round(best[1]))  # prefer a whole bpm that fits as well
            if _grid_fit(onsets, options.grid * 60.0 / whole)[0] >= best[0] - 0.01:
                bpm = whole
            else:
                bpm = round(best[1], 2)
    fit, offset = _grid_fit(onsets, options.grid * 60.0 / bpm)
    return bpm, fit, offset


def _tempo_map(bpm: float, lead_in: float) -> tuple[tuple[TempoChange, ...], object]:
    """The tempo map and a seconds -> beats function: with a lead-in, beat 0 to 1 lasts one
    beat plus ``lead_in`` seconds, so the grid lines up with the music after it."""
    period = 60.0 / bpm
    if lead_in <= 0:
        return (TempoChange(0, bpm),), lambda t: t / period
    first = period + lead_in

    def to_beats(t: float) -> float:
        return t / first if t < first else 1.0 + (t - first) / period

    return (TempoChange(0, round(60.0 / first, 4)), TempoChange(1, bpm)), to_beats


def _to_notes(raw: list[RawNote], to_beats, *, quantize: bool, grid: float
              ) -> tuple[list[Note], list[tuple[float, ...] | None]]:
    """Notes in beats (snapped to ``grid`` when asked), same-pitch overlaps resolved, in the
    order a Track keeps them, with each note's bends beside it."""
    rows: list[tuple[float, float, int, int, tuple[float, ...] | None]] = []
    for r in raw:
        s, e = to_beats(r.start), to_beats(r.end)
        if quantize:
            s = round(s / grid) * grid
            e = max(round(e / grid) * grid, s + grid)
        e = max(e, s + 1e-3)
        vel = int(min(127, max(1, round(127 * r.amplitude))))
        bends = None if r.bends is None else tuple(b / 3.0 for b in r.bends)
        rows.append((snap(s), snap(e), r.pitch, vel, bends))
    rows.sort(key=lambda x: (x[2], x[0], -x[1]))
    kept: list[list] = []
    for row in rows:
        if kept and kept[-1][2] == row[2] and row[0] <= kept[-1][0]:
            continue  # same pitch, same start: keep the longer
        if kept and kept[-1][2] == row[2] and row[0] < kept[-1][1]:
            kept[-1][1] = row[0]  # a key cannot sound twice: end the earlier one here
        kept.append(list(row))
    kept = [k for k in kept if k[1] - k[0] > 0]
    kept.sort(key=lambda x: (x[0], x[2], x[1] - x[0]))
    notes = [Note(k[2], k[0], k[1] - k[0], k[3]) for k in kept]
    return notes, [k[4] for k in kept]


def transcribe(source: str | os.PathLike[str] | Audio, *,
               options: TranscribeOptions | None = None,
               instrument_program: int = 0) -> Transcription:
    """Transcribe the pitched notes of an audio file (or an :class:`Audio`) into a score.

    Basic Pitch (on ONNX Runtime) detects the notes; :mod:`.postprocess` removes its ghosts
    (fragments, re-triggers, short notes, harmonics, quiet notes); the tempo is estimated with
    librosa and refined on the note starts, seconds become beats at that tempo, and the notes
    are snapped to ``options.grid`` when their starts fit such a grid (``tempo_fit`` >= 0.5).
    When the grid is offset from time 0 (music that does not start on a beat of the grid) the
    first beat is lengthened by the offset with a tempo change at beat 1, so every note keeps its
    time in seconds. The score has one track with ``instrument_program`` (General MIDI).

    Raises:
        InputFileError: missing, empty, corrupt or over-long audio, or no notes heard in it.
        ParameterError: bad options or program.
    """
    options = options or TranscribeOptions()
    if not isinstance(options, TranscribeOptions):
        raise ParameterError(f"options must be TranscribeOptions, got {type(options).__name__}")
    if (isinstance(instrument_program, bool) or not isinstance(instrument_program, int)
            or not 0 <= instrument_program <= 127):
        raise ParameterError(f"instrument program {instrument_program!r} is outside 0-127")
    t0 = time.perf_counter()
    y, label = _load(source, options.max_seconds)
    seconds = y.shape[0] / _SAMPLE_RATE
    if _loudest_rms_db(y) < SILENCE_DB:
        raise InputFileError(label, "no notes were heard (the audio is silent or below "
                                    f"{SILENCE_DB:g} dBFS)")

    from . import model

    activations = model.infer(y)
    raw = model.decode(activations, onset_threshold=options.onset_threshold,
                       frame_threshold=options.frame_threshold, min_frames=2,
                       min_pitch=options.min_pitch, max_pitch=options.max_pitch,
                       pitch_bends=options.pitch_bends)
    if options.clean:
        kept, removed = clean(raw, merge_gap=options.merge_gap_ms / 1000,
                              retrigger=options.retrigger_ms / 1000,
                              min_duration=options.min_note_ms / 1000,
                              harmonic_ratio=options.harmonic_ratio,
                              relative_floor=options.relative_floor)
    else:
        kept = [r for r in raw if r.duration * 1000 >= options.min_note_ms]
        removed = {"short": len(raw) - len(kept)}
    if not kept:
        raise InputFileError(label, "no notes were heard")

    onsets = np.array([r.start for r in kept])
    bpm, fit, offset = _tempo(y, onsets, options)
    step = options.grid * 60.0 / bpm
    do_quantize = options.quantize and fit >= MIN_GRID_FIT
    lead_in = offset if do_quantize and MIN_LEAD_IN < offset < step - MIN_LEAD_IN else 0.0
    tempos, to_beats = _tempo_map(bpm, lead_in)
    notes, bends = _to_notes(kept, to_beats, quantize=do_quantize, grid=options.grid)
    if options.quantize and not do_quantize:
        log.info("%s: the notes do not fit a %g-beat grid at %.1f bpm (fit %.2f); kept "
                 "unquantized", label, options.grid, bpm, fit)
    track = Track(name="Transcription", notes=tuple(notes), program=instrument_program,
                  role="lead")
    score = Score(tracks=(track,), tempos=tempos,
                  title=os.path.splitext(os.path.basename(label))[0] if label != "<audio>"
                  else "")
    result = Transcription(
        score=score, bpm=float(bpm), notes_raw=len(raw), notes_kept=len(notes),
        seconds=seconds, quantized=do_quantize, tempo_fit=round(float(fit), 4),
        removed=tuple(sorted(removed.items())),
        pitch_bends=tuple(b or () for b in bends) if options.pitch_bends else None)
    log.info("%s: %s (%.2f s)", label, result.summary(), time.perf_counter() - t0)
    return result

