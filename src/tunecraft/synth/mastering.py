"""Mastering: loudness normalisation (EBU R128) under a true-peak ceiling.

:func:`master` sets the integrated loudness (ITU-R BS.1770-4) to a target; where the gain
would push the true peak over the ceiling, a look-ahead limiter (numpy, below) holds the peaks
down and the gain is raised again until the loudness is on target. A final safety gain
guarantees the ceiling: the result never exceeds it and never clips.

Loudness is measured as pyloudnorm's ``Meter`` measures it (the same K-weighting filters and
gates; the tests compare the two to 1e-6 LU), in numpy only: the filters run as an FFT
convolution with their impulse response, so neither ``scipy.signal`` (a second on a cold start)
nor any private module of a third-party package is loaded. True peak is estimated the BS.1770
way: 4x oversampling with a 49-tap interpolation filter.
"""

from __future__ import annotations

import functools
import logging
import math
import weakref
from collections.abc import Sequence

import numpy as np

from ..audio import Audio
from ..errors import ParameterError

log = logging.getLogger(__name__)

OVERSAMPLE = 4
LOOKAHEAD_S = 0.005  # limiter look-ahead (its attack)
RELEASE_DB_PER_S = 80.0  # limiter recovery speed
LIMIT_MARGIN_DB = 0.3  # the limiter aims this far below the ceiling
LOUDNESS_TOLERANCE_LU = 0.1
MAX_PASSES = 6
MAX_GAIN_DB = 60.0  # never amplify more than this (near-silent input stays quiet)
MAX_LIMITING_DB = 18.0  # never push the loudest peak more than this into the limiter


def _lowpass_taps(numtaps: int, cutoff: float, beta: float) -> np.ndarray:
    """A windowed-sinc low-pass (Kaiser window), unity gain at DC: what
    ``scipy.signal.firwin(numtaps, cutoff, window=("kaiser", beta))`` computes, in numpy, so
    that mastering does not pay for importing scipy.signal (about half a second)."""
    m = np.arange(numtaps) - (numtaps - 1) / 2
    h = cutoff * np.sinc(cutoff * m) * np.kaiser(numtaps, beta)
    return h / h.sum()


@functools.cache
def _interpolation_phases() -> tuple[np.ndarray, ...]:
    """The three fractional phases (1/4, 2/4, 3/4) of a 49-tap 4x interpolation filter."""
    h = _lowpass_taps(12 * OVERSAMPLE + 1, 1.0 / OVERSAMPLE, 5.0) * OVERSAMPLE
    return tuple(h[q::OVERSAMPLE].astype(np.float32) for q in range(1, OVERSAMPLE))


def _forward_min(x: np.ndarray, span: int) -> np.ndarray:
    """``out[n] = min(x[n : n + span])``, the end padded with the last value (what
    ``scipy.ndimage.minimum_filter1d(x, span, mode="nearest", origin=-(span // 2))`` gives)."""
    padded = np.concatenate((x, np.full(span - 1, x[-1], dtype=x.dtype)))
    return np.lib.stride_tricks.sliding_window_view(padded, span).min(axis=1)


_IMPULSE = 1 << 16  # samples of the K-weighting's impulse response computed at most
_TAIL = 1e-18  # ... of which those after the last above this (relative) are dropped
_FFT_SIZE = 1 << 16  # the overlap-add convolution's FFT length (at least twice the response)


@functools.cache
def _k_impulse(sample_rate: int) -> np.ndarray:
    """The K-weighting's impulse response (both stages), computed once per rate by running the
    biquads over a unit impulse, up to where it has decayed below 1e-18 of its peak (about
    8,000 samples at 44.1 kHz: the slowest pole is the 38 Hz high-pass), so convolving with
    it is the IIR filter to float64 rounding."""
    h = np.zeros(_IMPULSE, np.float64)
    h[0] = 1.0
    for b0, b1, b2, _, a1, a2 in _k_weighting(sample_rate).tolist():
        out = [0.0] * _IMPULSE
        z1 = z2 = 0.0
        for n, v in enumerate(h.tolist()):  # direct form II transposed, as scipy's sosfilt
            y = b0 * v + z1
            z1 = b1 * v - a1 * y + z2
            z2 = b2 * v - a2 * y
            out[n] = y
        h = np.array(out, np.float64)
    keep = int(np.flatnonzero(np.abs(h) > _TAIL * np.abs(h).max())[-1]) + 1
    return h[:keep]


@functools.cache
def _k_spectrum(sample_rate: int, size: int) -> np.ndarray:
    return np.fft.rfft(_k_impulse(sample_rate), size)


def _k_filter(x: np.ndarray, sample_rate: int) -> np.ndarray:
    """A float64 signal through the K-weighting (zero initial state): what
    ``scipy.signal.sosfilt(_k_weighting(rate), x)`` gives, by overlap-add FFT convolution
    with the impulse response, so mastering needs neither ``scipy.signal`` (a second on a
    cold start) nor any private module of scipy."""
    x = np.asarray(x, dtype=np.float64)
    frames = x.shape[0]
    taps = _k_impulse(sample_rate).shape[0]
    whole = 1 << (frames + taps - 2).bit_length()  # one FFT holds a short signal whole
    size = max(min(_FFT_SIZE, whole), 1 << (2 * taps - 1).bit_length()) if whole > _FFT_SIZE \
        else whole
    block = size - taps + 1
    spectrum = _k_spectrum(sample_rate, size)
    y = np.zeros(frames + size, np.float64)
    for start in range(0, frames, block):
        y[start:start + size] += np.fft.irfft(np.fft.rfft(x[start:start + block], size)
                                              * spectrum, size)
    return y[:frames]


_BLOCK = 12  # frames per row of the block-Toeplitz product in _peak_envelope
_ROWS = 1024  # rows per matrix product (keeps the temporaries in cache)


@functools.cache
def _phase_matrices() -> tuple[np.ndarray, np.ndarray]:
    """The interpolation phases as two block-Toeplitz matrices (see :func:`_peak_envelope`)."""
    taps = _interpolation_phases()
    r = _BLOCK
    size = taps[0].size  # 12
    now = np.zeros((r, len(taps) * r), np.float32)
    nxt = np.zeros_like(now)
    for q, t in enumerate(taps):
        for col in range(r):
            for i in range(r):
                if 0 <= i - col < size:
                    now[i, q * r + col] = t[size - 1 - (i - col)]
                if 0 <= r + i - col < size:
                    nxt[i, q * r + col] = t[size - 1 - (r + i - col)]
    return now, nxt


def _peak_envelope(x: np.ndarray) -> np.ndarray:
    """Per frame n, the largest absolute value of the 4x-oversampled signal over [n, n + 1).

    Polyphase: phase q of the interpolation filter gives the signal at n + q/4 (phase 0 is the
    frame itself). Each phase is a 12-tap convolution per channel, computed for 12 frames at a
    time as two small matrix products (float32 BLAS) over the frames cut into rows of 12.
    """
    x = np.asarray(x, dtype=np.float32)
    if x.ndim == 1:
        x = x[np.newaxis]
    frames = x.shape[1]
    env = np.abs(x).max(axis=0) if frames else np.zeros(0, np.float32)
    if frames == 0:
        return env
    now, nxt = _phase_matrices()
    r, phases = _BLOCK, len(_interpolation_phases())
    rows = -(-frames // r)
    out = np.zeros(rows * r, np.float32)
    out[:frames] = env
    lead = r // 2 - 1  # frame n needs frames n - 5 .. n + 6: padded, rows b and b + 1
    padded = np.zeros((rows + 1) * r, np.float32)
    for channel in x:
        padded[lead:lead + frames] = channel
        blocks = padded.reshape(rows + 1, r)
        for a in range(0, rows, _ROWS):
            b = min(rows, a + _ROWS)
            y = blocks[a:b] @ now
            y += blocks[a + 1:b + 1] @ nxt
            np.abs(y, out=y)
            y3 = y.reshape(b - a, phases, r).max(axis=1).ravel()
            np.maximum(out[a * r:b * r], y3, out=out[a * r:b * r])
    return out[:frames]


def _db(value: float) -> float:
    return 20.0 * math.log10(value) if value > 0 else -math.inf


def _check(audio: Audio) -> Audio:
    if not isinstance(audio, Audio):
        raise ParameterError(f"expected Audio, got {type(audio).__name__}")
    return audio


# Measures :func:`master` made of the audio it returned: (loudness, true peak or None).
_known: weakref.WeakKeyDictionary[Audio, tuple[float, float | None]] = \
    weakref.WeakKeyDictionary()


def true_peak_dbtp(audio: Audio) -> float:
    """True peak in dBTP (4x oversampled, BS.1770); -inf for silence."""
    known = _known.get(audio) if isinstance(audio, Audio) else None
    if known is not None and known[1] is not None:
        return known[1]
    x = _check(audio).samples
    if x.shape[1] == 0:
        return -math.inf
    return _db(float(_peak_envelope(x).max()))


@functools.cache
def _k_weighting(sample_rate: int) -> np.ndarray:
    """The BS.1770 K-weighting at ``sample_rate`` as second-order sections: pyloudnorm's two
    stages (a +4 dB high shelf at 1500 Hz, Q 1/sqrt 2, and a high-pass at
    38 Hz, Q 0.5), designed with the same formulas for any sample rate."""
    rows = []
    for kind, gain_db, q, fc in (("high_shelf", 4.0, 1 / math.sqrt(2), 1500.0),
                                 ("high_pass", 0.0, 0.5, 38.0)):
        a_ = 10 ** (gain_db / 40.0)
        w0 = 2.0 * math.pi * fc / sample_rate
        alpha = math.sin(w0) / (2.0 * q)
        cw, sa = math.cos(w0), 2 * math.sqrt(a_) * alpha
        if kind == "high_shelf":
            b = (a_ * ((a_ + 1) + (a_ - 1) * cw + sa), -2 * a_ * ((a_ - 1) + (a_ + 1) * cw),
                 a_ * ((a_ + 1) + (a_ - 1) * cw - sa))
            a = ((a_ + 1) - (a_ - 1) * cw + sa, 2 * ((a_ - 1) - (a_ + 1) * cw),
                 (a_ + 1) - (a_ - 1) * cw - sa)
        else:
            b = ((1 + cw) / 2, -(1 + cw), (1 + cw) / 2)
            a = (1 + alpha, -2 * cw, 1 - alpha)
        rows.append([*(v / a[0] for v in b), *(v / a[0] for v in a)])
    return np.array(rows, dtype=np.float64)


_WEIGHTS = (1.0, 1.0, 1.0, 1.41, 1.41)  # BS.1770 channel weights: L, R, C, Ls, Rs
_GATE_S, _GATE_STEP = 0.400, 0.25  # 400 ms gating blocks, 75 % overlap


def _blocks(frames: int, sample_rate: int) -> tuple[np.ndarray, np.ndarray, int]:
    """The gating blocks as pyloudnorm cuts them: (first sample, end sample) of each, and the
    length of the (silence-padded) signal they cover."""
    n = max(frames, math.ceil(_GATE_S * sample_rate))
    blocks = int(np.round((n / sample_rate - _GATE_S) / (_GATE_S * _GATE_STEP))) + 1
    j = np.arange(blocks, dtype=np.float64)
    lower = (_GATE_S * (j * _GATE_STEP) * sample_rate).astype(np.int64)
    upper = (_GATE_S * (j * _GATE_STEP + 1) * sample_rate).astype(np.int64)
    return np.minimum(lower, n), np.minimum(upper, n), n


def _energy(x: np.ndarray, sample_rate: int, n: int) -> np.ndarray:
    """The channel-weighted K-weighted energy of each sample, padded with silence to ``n``."""
    energy = np.zeros(n, np.float64)
    channel = np.zeros_like(energy)
    frames = x.shape[1]
    for c in range(min(x.shape[0], len(_WEIGHTS))):  # one channel at a time: less memory
        channel[:frames] = x[c]
        y = _k_filter(channel, sample_rate)
        np.square(y, out=y)
        if _WEIGHTS[c] != 1.0:
            y *= _WEIGHTS[c]
        energy += y
        del y
    return energy


def _gated(z: np.ndarray) -> float:
    """BS.1770's absolute (-70 LUFS) and relative (-10 LU) gates over block mean squares."""
    with np.errstate(divide="ignore", invalid="ignore"):
        levels = -0.691 + 10.0 * np.log10(z)
        gated = z[levels >= -70.0]
        if gated.size == 0:
            return -math.inf
        relative = -0.691 + 10.0 * math.log10(float(np.mean(gated))) - 10.0
        final = z[(levels > relative) & (levels > -70.0)]
        value = -0.691 + 10.0 * math.log10(float(np.mean(final))) if final.size else -math.inf
    return value if math.isfinite(value) else -math.inf


def _loudness(x: np.ndarray, sample_rate: int) -> float:
    """Integrated loudness (ITU-R BS.1770-4), computed as pyloudnorm's ``Meter`` does.

    The same K-weighting filters (float64), 400 ms gating blocks with 75 % overlap, and the
    absolute (-70 LUFS) and relative (-10 LU) gates; the block energies come from one
    cumulative sum instead of a loop per block.
    """
    x = np.asarray(x)
    return _Meter(x[np.newaxis] if x.ndim == 1 else x, sample_rate).loudness


class _Meter:
    """The loudness of ``x * gain`` with the limiter's pieces applied, without filtering the
    whole signal again for each pass of :func:`master`.

    The K-weighting is linear: K(g x + d) = g K(x) + K(d), where d (what the limiter takes off)
    is zero away from the peaks. So the cumulative energy of K(x) is kept at the gating blocks'
    edges only, and each pass filters just the stretches around the limited pieces (each with
    its filter's tail) to correct it. Where the limiter works on more than half of the
    signal, or in so many places that filtering them costs more, the whole result is measured
    instead.
    """

    def __init__(self, x: np.ndarray, sample_rate: int) -> None:
        self.x, self.sr = x, sample_rate
        self.lower, self.upper, self.n = _blocks(x.shape[1], sample_rate)
        self.edges = np.unique(np.concatenate((self.lower, self.upper)))
        self.at_lower = np.searchsorted(self.edges, self.lower)
        self.at_upper = np.searchsorted(self.edges, self.upper)
        if not np.any(x):  # silence: nothing to filter, no loudness
            self.cum = np.zeros(self.edges.size)
            self.loudness = -math.inf
            return
        cum = np.concatenate(([0.0], np.cumsum(_energy(x, sample_rate, self.n))))
        self.cum = cum[self.edges]
        del cum
        self.loudness = self._value(self.cum)

    def _value(self, cum_at_edges: np.ndarray) -> float:
        z = (cum_at_edges[self.at_upper] - cum_at_edges[self.at_lower]) / (_GATE_S * self.sr)
        return _gated(z)

    def limited(self, gain: float, pieces: Sequence[tuple[int, np.ndarray]],
                out: np.ndarray) -> float:
        """The loudness of ``out``: ``x * gain`` times each piece's gain curve from its start
        (what :func:`master` wrote)."""
        taps = _k_impulse(self.sr).shape[0]
        groups: list[list[tuple[int, np.ndarray]]] = []
        for a, curve in sorted(pieces, key=lambda p: p[0]):
            if groups and a < groups[-1][-1][0] + groups[-1][-1][1].size + taps:
                groups[-1].append((a, curve))
            else:
                groups.append([(a, curve)])
        spans = [(g[0][0], min(g[-1][0] + g[-1][1].size + taps - 1, self.n)) for g in groups]
        # Each stretch costs four filterings of at least an FFT of twice the filter's length;
        # where they add up to more than filtering the whole result, measure that instead (a
        # five-minute song limited in 1,400 places took 3.4 s the one way, 1.2 s the other).
        stretches = sum(4 * (1 << (e - max(0, a - taps + 1) + taps - 2).bit_length())
                        for a, e in spans)
        whole = 2 * -(-self.n // (_FFT_SIZE - taps + 1)) * _FFT_SIZE
        if sum(e - a for a, e in spans) > self.n // 2 or stretches > whole:
            return _loudness(out, self.sr)
        cum = self.cum * (gain * gain)
        x = self.x
        frames = x.shape[1]
        for group, (a, e) in zip(groups, spans, strict=True):
            lo = max(0, a - taps + 1)
            delta = np.zeros(e - a, np.float64)
            for c in range(min(x.shape[0], len(_WEIGHTS))):
                xs = np.zeros(e - lo, np.float64)
                stop = min(e, frames)
                xs[:stop - lo] = x[c, lo:stop]
                ds = np.zeros(e - lo, np.float64)
                for start, curve in group:
                    seg = slice(start - lo, start - lo + curve.size)
                    ds[seg] = xs[seg] * gain * (curve.astype(np.float64) - 1.0)
                y = _k_filter(xs, self.sr)[a - lo:]
                k = _k_filter(ds, self.sr)[a - lo:]
                delta += _WEIGHTS[c] * (2.0 * gain * y * k + k * k)
            running = np.concatenate(([0.0], np.cumsum(delta)))
            cum += running[np.clip(self.edges - a, 0, e - a)]
        return self._value(cum)


def measure_loudness(audio: Audio) -> float:
    """Integrated loudness in LUFS (EBU R128 / ITU-R BS.1770-4); -inf for silence."""
    known = _known.get(audio) if isinstance(audio, Audio) else None
    if known is not None:
        return known[0]
    audio = _check(audio)
    return _loudness(audio.samples, audio.sample_rate)


def _limiter_segments(env: np.ndarray, threshold: float, sample_rate: int,
                      ) -> list[tuple[int, np.ndarray]]:
    """Where the limiter's gain is below 1: ``(start, gain)`` pieces, 1 everywhere else.

    The gain keeps ``env * gain`` at or below ``threshold`` everywhere. Look-ahead: it reaches
    each peak's required reduction ``span`` frames early (a forward sliding minimum, then a
    moving average over the same span, which can only stay below the requirement); it recovers
    at ``RELEASE_DB_PER_S``. Each piece runs from well before a group of peaks over the
    threshold to well after its recovery, so it is computed on that piece alone.
    """
    env = np.asarray(env)
    n = env.size
    if n == 0:
        return []
    over = np.flatnonzero(env > threshold)
    over = np.union1d(over, over + 1)  # a peak in (n-1, n) binds n
    over = over[over < n]
    if over.size == 0:
        return []
    span = max(1, round(LOOKAHEAD_S * sample_rate)) | 1  # odd
    rate = RELEASE_DB_PER_S / sample_rate
    worst = np.maximum(env[over], env[np.maximum(over - 1, 0)]).astype(np.float64)
    recovery = np.ceil(20.0 * np.log10(worst / threshold) / rate).astype(np.int64)
    starts = np.maximum(over - 3 * span, 0)
    ends = np.minimum(over + recovery + 3 * span + 2, n)
    reach = np.maximum.accumulate(ends)
    first = np.flatnonzero(np.concatenate(([True], starts[1:] > reach[:-1])))
    pieces = []
    for k, i in enumerate(first):
        a = int(starts[i])
        b = int(reach[first[k + 1] - 1] if k + 1 < first.size else reach[-1])
        lo = max(a - 1, 0)
        e = env[lo:b].astype(np.float64)
        e = np.maximum(e[1:], e[:-1]) if lo < a else np.concatenate((e[:1], np.maximum(
            e[1:], e[:-1])))
        need = np.minimum(1.0, threshold / np.maximum(e, 1e-12))
        ahead = _forward_min(need, span)
        # Release: gain may rise at most RELEASE_DB_PER_S (a min-plus convolution with a ramp).
        ramp = rate * np.arange(need.size, dtype=np.float64)
        held_db = np.minimum(np.minimum.accumulate(20.0 * np.log10(ahead) - ramp) + ramp, 0.0)
        held = 10.0 ** (held_db / 20.0)
        # Attack: average over the look-ahead span (window [n - span + 1, n]).
        csum = np.cumsum(np.concatenate((np.full(span, held[0]), held)))
        pieces.append((a, (csum[span:] - csum[:-span]) / span))
    return pieces


def _limiter_gain(env: np.ndarray, threshold: float, sample_rate: int) -> np.ndarray:
    """A smooth gain curve that keeps ``env * gain`` at or below ``threshold`` everywhere
    (see :func:`_limiter_segments`)."""
    gain = np.ones(np.asarray(env).size, dtype=np.float64)
    for a, piece in _limiter_segments(env, threshold, sample_rate):
        gain[a:a + piece.size] = piece
    return gain


def master(audio: Audio, *, target_lufs: float = -14.0, ceiling_dbtp: float = -1.0) -> Audio:
    """Normalise ``audio`` to ``target_lufs`` with its true peak at or below ``ceiling_dbtp``.

    Silence comes back unchanged (there is no loudness to set). The loudness lands within
    0.1 LU of the target unless reaching it would take more than ``MAX_LIMITING_DB`` of
    limiting on the loudest peak (then it stays below the target, with a warning).
    """
    audio = _check(audio)
    if not math.isfinite(target_lufs) or not math.isfinite(ceiling_dbtp) or ceiling_dbtp > 0:
        raise ParameterError(f"cannot master to {target_lufs} LUFS under {ceiling_dbtp} dBTP")
    sr = audio.sample_rate
    x = audio.samples  # float32; gain curves are computed in float64
    if not np.isfinite(x).all():
        raise ParameterError("audio to master holds NaN or infinite samples")
    meter = _Meter(x, sr)
    start = meter.loudness
    if start == -math.inf and np.any(x):
        # Quieter than the -70 LUFS gate (one soft note): measure it raised to -20 dBFS peak.
        lift = 0.1 / float(np.max(np.abs(x)))
        start = _loudness(x * np.float32(lift), sr) - _db(lift)
    if start == -math.inf:
        log.info("mastering: the mix is silent; left unchanged")
        return audio
    ceiling = 10.0 ** (ceiling_dbtp / 20.0)
    threshold = ceiling * 10.0 ** (-LIMIT_MARGIN_DB / 20.0)
    env = _peak_envelope(x)
    top = float(env.max())
    # The most gain allowed: the limiter may take at most MAX_LIMITING_DB off the loudest peak.
    most_db = min(MAX_GAIN_DB, _db(threshold / top) + MAX_LIMITING_DB)
    gain_db = min(target_lufs - start, most_db)
    out = np.empty_like(x)  # the result, rewritten by each pass
    loudness = start
    tried: list[tuple[float, float]] = []  # (gain, loudness) of each pass
    for _ in range(MAX_PASSES):
        gain = 10.0 ** (gain_db / 20.0)
        np.multiply(x, np.float32(gain), out=out)
        if top * gain <= threshold:
            loudness = start + gain_db  # loudness scales exactly
        else:  # limit: the gain curve differs from 1 only around the peaks
            pieces = _limiter_segments(env * gain, threshold, sr)
            for a, piece in pieces:
                b = a + piece.size
                np.multiply(x[:, a:b], (gain * piece).astype(np.float32), out=out[:, a:b])
            loudness = meter.limited(gain, pieces, out)
        miss = target_lufs - loudness
        if abs(miss) <= LOUDNESS_TOLERANCE_LU or gain_db >= most_db:
            break
        # Limiting takes back part of each extra dB: step by the slope seen so far (secant).
        slope = 1.0
        if tried and gain_db != tried[-1][0]:
            slope = min(1.0, max(0.05, (loudness - tried[-1][1]) / (gain_db - tried[-1][0])))
        tried.append((gain_db, loudness))
        gain_db = min(gain_db + miss / slope, most_db)
    del env
    if target_lufs - loudness > 0.5:
        log.warning("mastering: the mix reaches only %.1f LUFS (target %.1f) without limiting "
                    "it more than %.0f dB", loudness, target_lufs, MAX_LIMITING_DB)
    # Safety: measure the result itself; scale down until the ceiling holds in float32.
    measured_peak: float | None = None
    for _ in range(4):
        peak = float(_peak_envelope(out).max())
        if peak <= ceiling and float(np.abs(out).max()) < 1.0:
            measured_peak = peak
            break
        scale = min(ceiling / peak, 0.999) * (1 - 1e-6)
        out *= np.float32(scale)
        loudness += _db(scale)
    log.info("mastering: %.1f LUFS -> %.1f LUFS (gain %+.1f dB), true peak %.2f dBTP",
             start, loudness, gain_db, _db(peak))
    result = Audio(out, sr)
    # What mastering measured of its result, so the bundle's summary need not measure again
    # (0.3 s of a 30-second piece): the loudness of its last pass, the true peak it checked.
    _known[result] = (loudness, None if measured_peak is None else _db(measured_peak))
    return result
