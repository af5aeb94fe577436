"""Hummed and whistled melodies: monophonic pitch tracking, notes, tempo, meter and key.

>>> from tunecraft.transcribe.hum import track_melody
>>> heard = track_melody("hum.wav")                                  # doctest: +SKIP
>>> heard.bpm, heard.key.name, str(heard.meter), len(heard.notes_seconds)  # doctest: +SKIP

The steps (all in this module, librosa imported on first use):

1. **Pitch**: ``librosa.pyin`` at 16 kHz with a 16 ms hop. A quick ``yin`` pass first finds the
   singer's range so pYIN searches only that band (65 Hz - 2 kHz overall: low male hums to
   whistles), which makes it several times faster. Frames pYIN calls unvoiced, and frames more
   than 40 dB below the loudest one (breath noise, room tone), are rests.
2. **Drift**: the offset of every voiced frame from the nearest semitone is averaged on the unit
   circle over a sliding ~2.5 s window (vibrato and melody cancel out, a slow drift stays) and
   removed, so a singer who goes 30 cents flat by the end of a phrase still lands on the notes.
   ``tuning_cents`` is the mean offset.
3. **Notes**: within each voiced stretch a Viterbi pass over semitone states (a Gaussian cost
   wide enough for +/-50 cent vibrato, a fixed price for any change) gives the stable pitch; a
   change must hold ``split_ms`` or it is folded back (so a glide between two pitches is no note
   of its own, whatever interval it crosses); an unvoiced gap or a deep dip in loudness ends a
   note (repeated notes). A note starts where its voicing starts (soft attacks), its pitch is
   the median of its frames away from the edges (vibrato, scoops), and notes shorter than
   ``min_note_ms`` are dropped.
4. **Tempo**: the tempo in 60-180 bpm whose eighth-note grid the note starts fit best (mean
   phase vector of the starts, weighted by a broad prior around 100 bpm against octave errors).
5. **Meter and key**: 3/4 or 6/8 when long notes fall on a three-beat bar clearly better than
   on a four-beat bar, else 4/4; the bar line is put where the long notes fall. The key is
   :func:`tunecraft.analysis.key_estimate` of the notes.
6. **Grid**: notes snapped to sixteenths, or to eighth-note triplets when those fit clearly
   better; one lead track.

MIDI and MusicXML melodies come in through :func:`melody_from_score` (the lead line of a score).
"""

from __future__ import annotations

import cmath
import logging
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..audio import Audio
from ..errors import InputFileError, ParameterError
from ..score.types import (
    KeySignature,
    Note,
    Score,
    TempoChange,
    TimeSignature,
    Track,
    note_name,
    snap,
)

log = logging.getLogger(__name__)

__all__ = ["MAX_MELODY_SECONDS", "HeardMelody", "HumOptions", "melody_from_score",
           "track_melody"]

#: Longest audio :func:`track_melody` accepts (10 minutes).
MAX_MELODY_SECONDS = 600.0
_SR = 16000
_HOP = 256
_FRAME = 1024
_SILENCE_DB = -50.0
_TEMPO_PRIOR_BPM = 100.0


def _number(name: str, value: object, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ParameterError(f"hum option {name} must be a number, got {value!r}")
    if not low <= value <= high:
        raise ParameterError(f"hum option {name}={value:g} is outside {low:g} to {high:g}")
    return float(value)


@dataclass(frozen=True, kw_only=True)
class HumOptions:
    """How to hear a hummed, sung or whistled melody.

    Attributes:
        fmin, fmax: the pitch range searched, in Hz (65 Hz is a low C2 hum, 2 kHz a high
            whistle).
        min_note_ms: shorter notes are dropped.
        split_semitones: a pitch change this large (semitones)...
        split_ms: ...held this long (milliseconds) starts a new note; shorter moves are glides,
            scoops or vibrato.
        dip_db: a loudness dip this deep inside a voiced stretch separates two notes (a
            repeated note sung "da-da").
        drift_seconds: the window of the slow tuning tracker (seconds); 0 turns it off and
            removes one fixed offset instead.
        bpm: the tempo to write; None estimates it from the note starts.
        meter: (numerator, denominator) to use; None guesses 4/4, 3/4 or 6/8.
        grid: quantization step in beats; None picks sixteenths or eighth-note triplets.
        quantize: snap notes to the grid (the seconds in ``notes_seconds`` are never snapped).
        program: General MIDI program of the melody track (53, "Voice Oohs").
        max_seconds: refuse longer audio.
    """

    fmin: float = 65.0
    fmax: float = 2000.0
    min_note_ms: float = 80.0
    split_semitones: float = 0.6
    split_ms: float = 60.0
    dip_db: float = 9.0
    drift_seconds: float = 2.5
    bpm: float | None = None
    meter: tuple[int, int] | None = None
    grid: float | None = None
    quantize: bool = True
    program: int = 53
    max_seconds: float = MAX_MELODY_SECONDS

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        set_(self, "fmin", _number("fmin", self.fmin, 30.0, 4000.0))
        set_(self, "fmax", _number("fmax", self.fmax, 60.0, 5000.0))
        if self.fmin * 1.5 > self.fmax:
            raise ParameterError(f"hum option fmin={self.fmin:g} Hz must be well below "
                                 f"fmax={self.fmax:g} Hz")
        set_(self, "min_note_ms", _number("min_note_ms", self.min_note_ms, 10.0, 2000.0))
        set_(self, "split_semitones", _number("split_semitones", self.split_semitones, 0.2, 3.0))
        set_(self, "split_ms", _number("split_ms", self.split_ms, 0.0, 1000.0))
        set_(self, "dip_db", _number("dip_db", self.dip_db, 1.0, 60.0))
        set_(self, "drift_seconds", _number("drift_seconds", self.drift_seconds, 0.0, 60.0))
        set_(self, "max_seconds", _number("max_seconds", self.max_seconds, 1.0, 24 * 3600.0))
        if self.bpm is not None:
            set_(self, "bpm", _number("bpm", self.bpm, 20.0, 400.0))
        if self.grid is not None:
            set_(self, "grid", _number("grid", self.grid, 1 / 16, 2.0))
        if self.meter is not None:
            m = tuple(self.meter)
            if (len(m) != 2 or not all(isinstance(x, int) and not isinstance(x, bool) for x in m)
                    or not 1 <= m[0] <= 32 or m[1] not in (2, 4, 8, 16)):
                raise ParameterError(f"hum option meter={self.meter!r} must be like (3, 4)")
            set_(self, "meter", m)
        if not isinstance(self.quantize, bool):
            raise ParameterError(f"hum option quantize must be True or False, got "
                                 f"{self.quantize!r}")
        if isinstance(self.program, bool) or not isinstance(self.program, int) \
                or not 0 <= self.program <= 127:
            raise ParameterError(f"hum option program={self.program!r} is outside 0-127")

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


@dataclass(frozen=True)
class HeardMelody:
    """A melody as heard.

    Attributes:
        score: one lead track of the notes in beats at ``bpm`` (quantized unless asked not
            to), beat 0 on a bar line (a pickup starts later in bar 1), with the key and meter.
        notes_seconds: ``(onset_s, offset_s, midi_pitch)`` per note in the source's time, the
            pitch a float (tuning drift removed), in the order of the score's notes.
        bpm: tempo in quarter notes per minute.
        key, meter: as estimated (or given).
        tuning_cents: the mean offset of the singing from equal temperament (A=440), cents.
        voiced_ratio: the share of the audio's frames with a pitch (1 for a score).
        origin: seconds of the source at beat 0 of ``score`` (negative when the first bar line
            falls before the recording began).
    """

    score: Score
    notes_seconds: tuple[tuple[float, float, float], ...]
    bpm: float
    key: KeySignature
    meter: TimeSignature
    tuning_cents: float = 0.0
    voiced_ratio: float = 1.0
    origin: float = 0.0

    @property
    def notes(self) -> tuple[Note, ...]:
        return self.score.tracks[0].notes if self.score.tracks else ()

    def to_dict(self) -> dict[str, Any]:
        """What was heard, for a person: notes with times and names, tempo, key, meter."""
        notes = []
        for n, (on, off, p) in zip(self.notes, self.notes_seconds, strict=False):
            notes.append({"name": n.name, "pitch": n.pitch, "beat": n.start,
                          "beats": n.duration, "onset_seconds": round(on, 3),
                          "offset_seconds": round(off, 3), "sung_pitch": round(p, 2)})
        return {"notes": notes, "note_count": len(self.notes), "bpm": round(self.bpm, 2),
                "key": self.key.name, "meter": str(self.meter),
                "tuning_cents": round(self.tuning_cents, 1),
                "voiced_ratio": round(self.voiced_ratio, 3),
                "origin_seconds": round(self.origin, 3),
                "range": [note_name(min(n.pitch for n in self.notes)),
                          note_name(max(n.pitch for n in self.notes))] if self.notes else []}


# ----------------------------------------------------------------------------------------------
# Loading


def _load(source: str | os.PathLike[str] | Audio, max_seconds: float) -> tuple[np.ndarray, str]:
    from ._audio import load_mono

    def too_long(label: str, seconds: float) -> InputFileError:
        return InputFileError(label, f"too long for a melody: it lasts {seconds / 60:.1f} "
                                     f"minutes; hum or whistle a tune of up to "
                                     f"{max_seconds / 60:g} minutes")

    return load_mono(source, sample_rate=_SR, max_seconds=max_seconds, too_long=too_long,
                     empty="no melody was heard: the audio is empty",
                     wants="a melody must be")


# ----------------------------------------------------------------------------------------------
# Frames -> notes


def _frame_db(y: np.ndarray, n_frames: int) -> np.ndarray:
    """RMS level (dBFS) of each analysis frame, centred like librosa's frames."""
    pad = np.pad(y.astype(np.float64), (_FRAME // 2, _FRAME // 2))
    idx = np.arange(n_frames) * _HOP
    c = np.concatenate([[0.0], np.cumsum(pad**2)])
    lo = np.clip(idx + _FRAME // 4, 0, len(pad))
    hi = np.clip(idx + 3 * _FRAME // 4, 0, len(pad))
    ms = (c[hi] - c[lo]) / np.maximum(hi - lo, 1)
    return 10 * np.log10(np.maximum(ms, 1e-12))


def _pitch_track(y: np.ndarray, options: HumOptions) -> tuple[np.ndarray, np.ndarray]:
    """(midi float per frame, nan where unvoiced; voiced probability per frame)."""
    import librosa

    # A cheap first pass finds the singer's range; pYIN then searches only that band.
    rough = librosa.yin(y, fmin=options.fmin, fmax=options.fmax, sr=_SR, frame_length=_FRAME,
                        hop_length=_HOP, trough_threshold=0.1)
    db = _frame_db(y, rough.shape[0])
    good = rough[(db > db.max() - 30)] if rough.size else rough
    if good.size >= 5:
        lo, hi = np.percentile(good, [5, 95])
        fmin = max(options.fmin, float(lo) / 2 ** 0.75)
        fmax = min(options.fmax, float(hi) * 2 ** 0.75)
        if fmax < fmin * 2:
            fmin, fmax = max(options.fmin, fmin / 1.4), min(options.fmax, fmax * 1.4)
    else:
        fmin, fmax = options.fmin, options.fmax
    f0, voiced, prob = librosa.pyin(y, fmin=fmin, fmax=fmax, sr=_SR, frame_length=_FRAME,
                                    hop_length=_HOP, resolution=0.1, center=True)
    midi = np.where(voiced & np.isfinite(f0), 69 + 12 * np.log2(np.maximum(f0, 1e-6) / 440.0),
                    np.nan)
    return midi, np.nan_to_num(prob)


def _tuning_curve(midi: np.ndarray, seconds: float, hop_s: float) -> tuple[np.ndarray, float]:
    """The slow offset from equal temperament per frame (semitones) and its mean (cents)."""
    voiced = np.isfinite(midi)
    z = np.zeros(midi.shape, dtype=complex)
    z[voiced] = np.exp(2j * np.pi * midi[voiced])
    mean = complex(z[voiced].mean()) if voiced.any() else 0j
    fixed = cmath.phase(mean) / (2 * np.pi) if abs(mean) > 1e-9 else 0.0
    if seconds <= 0:
        return np.full(midi.shape, fixed), 100 * fixed
    width = max(3, round(seconds / hop_s))
    kernel = np.hanning(width + 2)[1:-1]
    num = np.convolve(z, kernel, mode="same")
    den = np.convolve(voiced.astype(float), kernel, mode="same")
    # Where too few voiced frames fall in the window, lean on the global offset.
    weight = np.clip(den / (0.25 * kernel.sum()), 0, 1)
    local = np.where(np.abs(num) > 1e-9, num / np.maximum(np.abs(num), 1e-9), 0)
    unit = mean / abs(mean) if abs(mean) > 1e-9 else 1
    blend = weight * local + (1 - weight) * unit
    # The local offset is measured against the global one and kept within half a semitone of
    # it. Unwrapping the raw angle instead let one noisy window (a breath, a glide) add a whole
    # cycle that stayed for the rest of the tune: every later note a semitone off.
    curve = fixed + np.angle(blend * np.conj(unit)) / (2 * np.pi)
    return curve, 100 * fixed


def _viterbi_semitones(x: np.ndarray, sigma: float, change: float) -> np.ndarray:
    """The most likely semitone per frame for the pitch ``x`` (semitones, no nans)."""
    lo, hi = int(np.floor(x.min())) - 1, int(np.ceil(x.max())) + 1
    states = np.arange(lo, hi + 1, dtype=float)
    cost = (x[:, None] - states[None, :]) ** 2 / (2 * sigma**2)
    n, k = cost.shape
    acc = cost[0].copy()
    back = np.zeros((n, k), dtype=np.int32)
    for t in range(1, n):
        best = int(np.argmin(acc))
        stay = acc
        move = acc[best] + change
        take_move = move < stay
        back[t] = np.where(take_move, best, np.arange(k))
        acc = np.where(take_move, move, stay) + cost[t]
    path = np.empty(n, dtype=np.int32)
    path[-1] = int(np.argmin(acc))
    for t in range(n - 1, 0, -1):
        path[t - 1] = back[t, path[t]]
    return states[path]


@dataclass
class _Seg:
    start: int  # frame index
    end: int  # exclusive
    pitch: float  # semitone state


def _segments(midi: np.ndarray, db: np.ndarray, options: HumOptions, hop_s: float
              ) -> list[tuple[int, int, float]]:
    """(first frame, end frame, median pitch) per note."""
    voiced = np.isfinite(midi)
    min_split = max(1, round(options.split_ms / 1000 / hop_s))
    min_note = max(1, round(options.min_note_ms / 1000 / hop_s))
    # Bridge unvoiced blips of one frame inside a note (a pYIN hiccup, not a breath).
    v = voiced.copy()
    for i in range(1, len(v) - 1):
        if not v[i] and v[i - 1] and v[i + 1] and abs(midi[i - 1] - midi[i + 1]) < 0.5:
            v[i] = True
            midi[i] = 0.5 * (midi[i - 1] + midi[i + 1])
    runs: list[tuple[int, int]] = []
    i = 0
    while i < len(v):
        if v[i]:
            j = i
            while j < len(v) and v[j]:
                j += 1
            runs.append((i, j))
            i = j
        else:
            i += 1
    sigma = max(0.2, options.split_semitones * 0.6)
    change = 0.5 * min_split * (options.split_semitones / sigma) ** 2
    out: list[tuple[int, int, float]] = []
    for a, b in runs:
        if b - a < min_note:
            continue
        x = midi[a:b]
        states = _viterbi_semitones(x, sigma, change)
        segs: list[_Seg] = []
        for t, s in enumerate(states):
            if segs and segs[-1].pitch == s:
                segs[-1].end = a + t + 1
            else:
                segs.append(_Seg(a + t, a + t + 1, s))
        # Fold changes shorter than split_ms back into a neighbour (glides, scoops, vibrato).
        changed = True
        while changed and len(segs) > 1:
            changed = False
            for k, s in enumerate(segs):
                if s.end - s.start >= min_split:
                    continue
                prev = segs[k - 1] if k > 0 else None
                nxt = segs[k + 1] if k + 1 < len(segs) else None
                target = min((c for c in (prev, nxt) if c is not None),
                             key=lambda c: (abs(c.pitch - s.pitch), -(c.end - c.start)))
                if target is prev:
                    prev.end = s.end
                else:
                    nxt.start = s.start
                del segs[k]
                if prev is not None and nxt is not None and prev.pitch == nxt.pitch \
                        and target is prev and prev.end == nxt.start:
                    prev.end = nxt.end
                    segs.remove(nxt)
                changed = True
                break
        # A deep dip in loudness inside one pitch is a re-sung note.
        split: list[_Seg] = []
        for s in segs:
            split.extend(_split_on_dips(s, db, options.dip_db, min_note))
        for s in split:
            if s.end - s.start < min_note:
                continue
            edge = min(3, (s.end - s.start) // 4)
            core = midi[s.start + edge: s.end - edge]
            core = core[np.isfinite(core)]
            if core.size == 0:
                continue
            out.append((s.start, s.end, float(np.median(core))))
    # Adjacent notes that ended up on one pitch with no gap and no dip: one note.
    merged: list[tuple[int, int, float]] = []
    for s in out:
        if merged and merged[-1][1] == s[0] and round(merged[-1][2]) == round(s[2]) \
                and not _dip_between(db, merged[-1], s, options.dip_db):
            p = merged[-1]
            merged[-1] = (p[0], s[1], (p[2] * (p[1] - p[0]) + s[2] * (s[1] - s[0]))
                          / (s[1] - p[0]))
        else:
            merged.append(s)
    return merged


def _dip_between(db: np.ndarray, a: tuple[int, int, float], b: tuple[int, int, float],
                 depth: float) -> bool:
    lo = max(a[1] - 3, a[0])
    hi = min(b[0] + 3, b[1])
    valley = db[lo:hi].min() if hi > lo else 0.0
    return min(db[a[0]:a[1]].max(), db[b[0]:b[1]].max()) - valley >= depth


def _split_on_dips(s: _Seg, db: np.ndarray, depth: float, min_note: int) -> list[_Seg]:
    seg = db[s.start:s.end]
    if seg.size < 2 * min_note:
        return [s]
    out: list[_Seg] = []
    start = s.start
    t = s.start + min_note
    while t < s.end - min_note:
        left = db[start:t].max()
        right = db[t:min(s.end, t + 2 * min_note)].max()
        if db[t] <= db[t - 1] and db[t] <= db[t + 1] and min(left, right) - db[t] >= depth:
            out.append(_Seg(start, t, s.pitch))
            # The new note starts where the level rises again.
            start = t
            t += min_note
        else:
            t += 1
    out.append(_Seg(start, s.end, s.pitch))
    return out


# ----------------------------------------------------------------------------------------------
# Tempo, meter, grid


def _fit(onsets: np.ndarray, step: float, weights: np.ndarray | None = None
         ) -> tuple[float, float]:
    """(fit 0-1, offset seconds) of onsets on a grid of ``step`` seconds."""
    w = np.ones_like(onsets) if weights is None else weights
    z = complex(np.sum(w * np.exp(2j * np.pi * onsets / step)) / max(np.sum(w), 1e-9))
    return abs(z), (cmath.phase(z) / (2 * np.pi)) % 1.0 * step


def _tempo(onsets: np.ndarray) -> float:
    """The tempo in 60-180 bpm whose eighth-note grid the onsets fit best."""
    if onsets.size < 3:
        return 120.0
    cands = np.arange(60.0, 180.01, 0.25)
    scores = []
    for bpm in cands:
        f8 = _fit(onsets, 30.0 / bpm)[0]
        f4 = _fit(onsets, 60.0 / bpm)[0]
        prior = math.exp(-0.5 * (math.log2(bpm / _TEMPO_PRIOR_BPM) / 0.6) ** 2)
        scores.append((0.75 * f8 + 0.25 * f4) * (0.6 + 0.4 * prior))
    best = float(cands[int(np.argmax(scores))])
    # Prefer a whole number when it fits as well.
    whole = float(round(best))
    if _fit(onsets, 30.0 / whole)[0] >= _fit(onsets, 30.0 / best)[0] - 0.01:
        return whole
    return best


#: Metric weight of each eighth-note position in a bar, per meter (beats are quarter notes).
_TEMPLATES = {
    (4, 4): (1.0, 0.0, 0.2, 0.0, 0.55, 0.0, 0.2, 0.0),
    (3, 4): (1.0, 0.0, 0.25, 0.0, 0.25, 0.0),
    (6, 8): (1.0, 0.0, 0.0, 0.55, 0.0, 0.0),
}


def _meter_and_downbeat(onsets: np.ndarray, lengths: np.ndarray, period: float, offset: float,
                        forced: tuple[int, int] | None) -> tuple[tuple[int, int], float]:
    """The meter and the time (s) of one bar line.

    Each note start is weighted by its length (long notes fall on strong beats) and scored
    against the meter's metric template at every eighth-note phase, less the template's mean
    (so meters compare fairly); the first and last notes on a downbeat earn a little (a tune
    starts on the one unless the pickup is clear, and ends on it).
    """
    beats = (onsets - offset) / period
    weight = 1.0 + 0.5 * np.minimum(lengths / period, 2.0)
    weight = weight / weight.sum()
    slots = np.round(beats * 2).astype(int)  # eighth-note positions
    results: dict[tuple[int, int], tuple[float, int]] = {}
    for meter, template in _TEMPLATES.items():
        if forced is not None and meter != tuple(forced):
            continue
        size = len(template)
        tmpl = np.array(template)
        best = (-math.inf, 0)
        for phase in range(size):
            pos = (slots - phase) % size
            score = float(np.sum(weight * tmpl[pos])) - float(tmpl.mean())
            score += 0.08 * (pos[0] == 0) + 0.04 * (pos[-1] == 0)
            best = max(best, (score, phase))
        results[meter] = best
    if forced is not None:
        meter = tuple(forced)
        if meter not in results:  # a meter without a template: the bar line on the first note
            return meter, float(onsets.min())  # type: ignore[return-value]
    else:
        meter = (4, 4)
        for m in ((3, 4), (6, 8)):
            if results[m][0] > results[meter][0] + 0.05:
                meter = m
    phase = results[meter][1]
    return meter, offset + phase * 0.5 * period  # type: ignore[return-value]


def _quantize(rows: list[tuple[float, float, int, float]], grid: float
              ) -> list[tuple[float, float, int]]:
    """(start, end, pitch) snapped to ``grid`` beats, monophonic, each at least one step."""
    out: list[tuple[float, float, int]] = []
    for s, e, p, _ in rows:
        qs = round(s / grid) * grid
        qe = max(round(e / grid) * grid, qs + grid)
        if out and qs <= out[-1][0]:
            qs = out[-1][0] + grid  # two starts on one grid line: push the later one on
            qe = max(qe, qs + grid)
        if out and out[-1][1] > qs:
            out[-1] = (out[-1][0], qs, out[-1][2])
        out.append((qs, qe, p))
    return out


def _build(rows: list[tuple[float, float, float]], *, bpm: float, meter: tuple[int, int],
           grid: float | None, quantize: bool, program: int, origin: float, tuning: float,
           voiced_ratio: float) -> HeardMelody:
    """Seconds -> beats (beat 0 at ``origin``), grid, key; one lead track."""
    from ..analysis import key_estimate

    period = 60.0 / bpm
    beat_rows = [((on - origin) / period, (off - origin) / period, round(p), p)
                 for on, off, p in rows]
    if grid is None:
        starts = np.array([r[0] for r in beat_rows])
        f16 = _fit(starts, 0.25)[0]
        f12 = _fit(starts, 1 / 3)[0]
        f8 = _fit(starts, 0.5)[0]
        grid = 1 / 3 if (f12 > f16 + 0.1 and f12 > f8 + 0.1) else 0.25
    if quantize:
        cells = _quantize(beat_rows, grid)
    else:
        cells = []
        for s, e, p, _ in beat_rows:
            if cells and cells[-1][1] > s:
                cells[-1] = (cells[-1][0], s, cells[-1][2])
            cells.append((s, max(e, s + 1e-3), p))
    notes = []
    for (s, e, p), row in zip(cells, rows, strict=True):
        p = min(127, max(0, p))
        notes.append(Note(p, snap(max(s, 0.0)), max(snap(e) - snap(max(s, 0.0)), grid / 4), 90))
        del row
    ts = TimeSignature(0.0, meter[0], meter[1])
    probe = Score(tracks=(Track("Melody", tuple(notes), program=program, role="lead"),))
    tonic, mode, _ = key_estimate(probe)
    key = KeySignature(0.0, tonic, mode)
    track = Track("Melody", tuple(notes), program=program, role="lead")
    score = Score(tracks=(track,), tempos=(TempoChange(0.0, round(bpm, 3)),),
                  time_signatures=(ts,), key_signatures=(key,), title="melody heard")
    order = sorted(range(len(rows)), key=lambda i: (notes[i].start, notes[i].pitch))
    secs = tuple((round(rows[i][0], 4), round(rows[i][1], 4), round(rows[i][2], 3))
                 for i in order)
    return HeardMelody(score=score, notes_seconds=secs, bpm=float(bpm), key=key, meter=ts,
                       tuning_cents=float(tuning), voiced_ratio=float(voiced_ratio),
                       origin=float(origin))


def _place(rows: list[tuple[float, float, float]], options: HumOptions
           ) -> tuple[float, tuple[int, int], float]:
    """(bpm, meter, origin in seconds) for notes heard at these times."""
    onsets = np.array([r[0] for r in rows])
    lengths = np.array([r[1] - r[0] for r in rows])
    iois = np.diff(np.append(onsets, onsets[-1] + lengths[-1]))
    bpm = options.bpm if options.bpm is not None else _tempo(onsets)
    period = 60.0 / bpm
    _, offset = _fit(onsets, period)
    meter, downbeat = _meter_and_downbeat(onsets, np.maximum(iois, lengths), period, offset,
                                          options.meter)
    bar = TimeSignature(0.0, *meter).bar_beats * period
    first = onsets.min()
    # Beat 0 is the bar line at or before the first note (a pickup sits late in bar 1); a
    # note sung a hair before its bar line still belongs to that bar.
    tol = 0.15 * period
    origin = downbeat - math.ceil((downbeat - first - tol) / bar) * bar
    return float(bpm), meter, float(origin)


# ----------------------------------------------------------------------------------------------
# Public


def track_melody(source: str | os.PathLike[str] | Audio, *,
                 options: HumOptions | None = None) -> HeardMelody:
    """Hear the tune of a hummed, sung or whistled recording (or an :class:`Audio`).

    Returns a :class:`HeardMelody`: the notes on a grid in a one-track score, the notes in
    seconds, the tempo, meter, key and tuning offset. See the module text for the method.

    Raises:
        InputFileError: a missing or unreadable file; silence, noise or speech with no tune
            ("no melody was heard: ..."); a single note ("only one note was heard: ..."); audio
            longer than ``options.max_seconds`` ("too long for a melody: ...").
        ParameterError: bad options.
    """
    options = options or HumOptions()
    if not isinstance(options, HumOptions):
        raise ParameterError(f"options must be HumOptions, got {type(options).__name__}")
    y, label = _load(source, options.max_seconds)
    peak_db = _loudest_db(y)
    if peak_db < _SILENCE_DB:
        raise InputFileError(label, f"no melody was heard: the audio is silent (below "
                                    f"{_SILENCE_DB:g} dBFS)")
    if y.shape[0] < _FRAME * 2:
        raise InputFileError(label, "no melody was heard: the audio is too short")
    y = y / max(float(np.max(np.abs(y))), 1e-9) * 0.5
    midi, prob = _pitch_track(y, options)
    hop_s = _HOP / _SR
    db = _frame_db(y, midi.shape[0])
    midi = np.where(db < db.max() - 40.0, np.nan, midi)
    # pYIN calls a few frames of noise voiced; a tune is a stretch of confident frames.
    midi = np.where(prob < 0.05, np.nan, midi)
    voiced_ratio = float(np.mean(np.isfinite(midi))) if midi.size else 0.0
    if np.sum(np.isfinite(midi)) * hop_s < 0.25:
        raise InputFileError(label, "no melody was heard: nothing in the audio has a steady "
                                    "pitch (is it noise, or speech?); hum or whistle a tune")
    curve, tuning = _tuning_curve(midi, options.drift_seconds, hop_s)
    corrected = midi - curve
    segs = _segments(corrected.copy(), db, options, hop_s)
    rows = [(a * hop_s, b * hop_s, p) for a, b, p in segs]
    # A note nobody can hear as a tune: unsure frames (noise) dominate.
    rows = [r for r, (a, b, _) in zip(rows, segs, strict=True)
            if float(np.mean(prob[a:b])) >= 0.15]
    if not rows:
        raise InputFileError(label, "no melody was heard: nothing in the audio holds a pitch "
                                    "long enough to be a note; hum or whistle a tune")
    if len(rows) < 2 or len({round(p) for _, _, p in rows}) < 2:
        raise InputFileError(label, "only one note was heard: hum a tune of a few notes")
    bpm, meter, origin = _place(rows, options)
    heard = _build(rows, bpm=bpm, meter=meter, grid=options.grid, quantize=options.quantize,
                   program=options.program, origin=origin, tuning=tuning,
                   voiced_ratio=voiced_ratio)
    log.info("heard %d notes at %.1f bpm in %s, %s", len(rows), bpm, heard.key.name, meter)
    return heard


def _loudest_db(y: np.ndarray) -> float:
    block = _SR // 20
    n = max(1, y.shape[0] // block)
    frames = y[: n * block].reshape(n, block) if y.shape[0] >= block else y[None, :]
    rms = float(np.sqrt(np.max(np.mean(frames.astype(np.float64) ** 2, axis=1))))
    return 20 * math.log10(rms) if rms > 0 else -math.inf


def _lead_track(score: Score) -> Track:
    """The track that carries the tune: a lead/melody/vocal role first, else the highest,
    most melodic one (many notes, few chords, moving by steps)."""
    pitched = [t for t in score.tracks if not t.is_drum and t.notes]
    if not pitched:
        raise InputFileError("<score>", "no melody was heard: the score has no pitched notes")
    named = [t for t in pitched if t.role in ("lead", "melody", "vocal")]
    if named:
        return max(named, key=lambda t: len(t.notes))

    def merit(t: Track) -> float:
        starts: dict[float, int] = {}
        for n in t.notes:
            starts[n.start] = starts.get(n.start, 0) + 1
        chordiness = sum(c > 1 for c in starts.values()) / max(len(starts), 1)
        mean = float(np.mean([n.pitch for n in t.notes]))
        line = _skyline(t.notes)
        steps = np.abs(np.diff([n.pitch for n in line])) if len(line) > 1 else np.array([0])
        stepwise = float(np.mean(steps <= 4))
        return mean / 12 + 2 * stepwise - 2 * chordiness + min(len(starts), 64) / 64

    return max(pitched, key=merit)


def _skyline(notes: Sequence[Note]) -> list[Note]:
    """The top line: at each start the highest note, cut where the next one starts."""
    by_start: dict[float, Note] = {}
    for n in notes:
        if n.start not in by_start or n.pitch > by_start[n.start].pitch:
            by_start[n.start] = n
    line = [by_start[s] for s in sorted(by_start)]
    out: list[Note] = []
    for i, n in enumerate(line):
        end = n.end
        if i + 1 < len(line):
            end = min(end, line[i + 1].start)
        if end - n.start > 1e-6:
            out.append(Note(n.pitch, n.start, end - n.start, n.velocity, n.lyric))
    return out


def melody_from_score(score: Score, *, program: int = 53) -> HeardMelody:
    """The lead line of a score (MIDI, MusicXML) as a :class:`HeardMelody`.

    The lead is a track with a lead/melody/vocal role, else the highest, most melodic
    monophonic-ish track; chords in it are reduced to their top note (skyline). The tempo and
    meter are the score's first; the key is estimated from the line (a score's key signature
    is often missing). Beats keep the score's bar lines.
    """
    if not isinstance(score, Score):
        raise ParameterError(f"melody_from_score needs a Score, got {type(score).__name__}")
    from ..analysis import key_estimate

    track = _lead_track(score)
    line = _skyline(track.notes)
    if len({n.pitch for n in line}) < 2:
        raise InputFileError("<score>", "only one note was heard: the melody needs a few notes")
    bar = score.time_signature.bar_beats
    first_bar = math.floor(line[0].start / bar + 1e-9) * bar
    line = [Note(n.pitch, n.start - first_bar, n.duration, n.velocity, n.lyric) for n in line]
    ts = TimeSignature(0.0, score.time_signature.numerator, score.time_signature.denominator)
    probe = Score(tracks=(Track("Melody", tuple(line), program=program, role="lead"),))
    tonic, mode, _ = key_estimate(probe)
    key = KeySignature(0.0, tonic, mode)
    bpm = float(score.bpm_at(first_bar))
    out = Score(tracks=(Track("Melody", tuple(line), program=program, role="lead"),),
                tempos=(TempoChange(0.0, bpm),), time_signatures=(ts,), key_signatures=(key,),
                title=score.title or "melody")
    secs = tuple((round(score.seconds_at(n.start + first_bar), 4),
                  round(score.seconds_at(n.end + first_bar), 4), float(n.pitch))
                 for n in out.tracks[0].notes)
    return HeardMelody(score=out, notes_seconds=secs, bpm=bpm, key=key, meter=ts,
                       tuning_cents=0.0, voiced_ratio=1.0,
                       origin=round(score.seconds_at(first_bar), 4))
