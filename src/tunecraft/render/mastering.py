"""Mastering: loudness normalisation (EBU R128) under a true-peak ceiling.

:func:`master` sets the integrated loudness (pyloudnorm, ITU-R BS.1770-4) to a target; where the
gain would push the true peak over the ceiling, a look-ahead limiter (numpy, below) holds the
peaks down and the gain is raised again until the loudness is on target. A final safety gain
guarantees the ceiling: the result never exceeds it and never clips.

True peak is estimated the BS.1770 way: 4x oversampling with a 49-tap interpolation filter.
"""

from __future__ import annotations

import functools
import logging
import math
import warnings

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


@functools.cache
def _interpolation_phases() -> tuple[np.ndarray, ...]:
    """The three fractional phases (1/4, 2/4, 3/4) of a 49-tap 4x interpolation filter."""
    from scipy.signal import firwin

    h = firwin(12 * OVERSAMPLE + 1, 1.0 / OVERSAMPLE, window=("kaiser", 5.0)) * OVERSAMPLE
    return tuple(h[q::OVERSAMPLE].astype(np.float32) for q in range(1, OVERSAMPLE))


def _peak_envelope(x: np.ndarray) -> np.ndarray:
    """Per frame n, the largest absolute value of the 4x-oversampled signal over [n, n + 1).

    Polyphase: phase q of the interpolation filter gives the signal at n + q/4 (phase 0 is the
    frame itself). Each phase is a 12-tap convolution per channel.
    """
    x = np.asarray(x, dtype=np.float32)
    frames = x.shape[1]
    env = np.abs(x).max(axis=0)
    delay = 12 // 2  # group delay of each phase, in frames
    for taps in _interpolation_phases():
        for channel in x:
            y = np.convolve(channel, taps)[delay: delay + frames]
            np.maximum(env, np.abs(y), out=env)
    return env


def _db(value: float) -> float:
    return 20.0 * math.log10(value) if value > 0 else -math.inf


def _check(audio: Audio) -> Audio:
    if not isinstance(audio, Audio):
        raise ParameterError(f"expected Audio, got {type(audio).__name__}")
    return audio


def true_peak_dbtp(audio: Audio) -> float:
    """True peak in dBTP (4x oversampled, BS.1770); -inf for silence."""
    x = _check(audio).samples
    if x.shape[1] == 0:
        return -math.inf
    return _db(float(_peak_envelope(x).max()))


def _loudness(x: np.ndarray, sample_rate: int) -> float:
    import pyloudnorm

    data = np.asarray(x, dtype=np.float64).T
    block = math.ceil(0.4 * sample_rate)
    if data.shape[0] < block:  # shorter than one gating block: measure it padded with silence
        data = np.pad(data, ((0, block - data.shape[0]), (0, 0)))
    if not np.any(data):
        return -math.inf
    with warnings.catch_warnings(), np.errstate(divide="ignore", invalid="ignore"):
        warnings.simplefilter("ignore")
        value = float(pyloudnorm.Meter(sample_rate).integrated_loudness(data))
    return value if math.isfinite(value) else -math.inf


def measure_loudness(audio: Audio) -> float:
    """Integrated loudness in LUFS (EBU R128 / ITU-R BS.1770-4); -inf for silence."""
    audio = _check(audio)
    return _loudness(audio.samples, audio.sample_rate)


def _limiter_gain(env: np.ndarray, threshold: float, sample_rate: int) -> np.ndarray:
    """A smooth gain curve that keeps ``env * gain`` at or below ``threshold`` everywhere.

    Look-ahead: the gain reaches each peak's required reduction ``lookahead`` frames early
    (a forward sliding minimum, then a moving average over the same span, which can only stay
    below the requirement); it recovers at ``RELEASE_DB_PER_S``.
    """
    from scipy.ndimage import minimum_filter1d

    env = np.concatenate((env[:1], np.maximum(env[1:], env[:-1])))  # a peak in (n-1, n) binds n
    need = np.minimum(1.0, threshold / np.maximum(env, 1e-12))
    if need.min() >= 1.0:
        return np.ones_like(need)
    span = max(1, round(LOOKAHEAD_S * sample_rate)) | 1  # odd
    ahead = minimum_filter1d(need, span, mode="nearest", origin=-(span // 2))  # min of [n, n+span)
    # Release: gain may rise at most RELEASE_DB_PER_S (a min-plus convolution with a ramp).
    rate = RELEASE_DB_PER_S / sample_rate
    ramp = rate * np.arange(need.size, dtype=np.float64)
    held_db = np.minimum(np.minimum.accumulate(20.0 * np.log10(ahead) - ramp) + ramp, 0.0)
    held = 10.0 ** (held_db / 20.0)
    # Attack: average over the look-ahead span (window [n - span + 1, n]).
    csum = np.cumsum(np.concatenate((np.full(span, held[0]), held)))
    return (csum[span:] - csum[:-span]) / span


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
    start = _loudness(x, sr)
    if start == -math.inf:
        log.info("mastering: the mix is silent; left unchanged")
        return audio
    ceiling = 10.0 ** (ceiling_dbtp / 20.0)
    threshold = ceiling * 10.0 ** (-LIMIT_MARGIN_DB / 20.0)
    env = _peak_envelope(x)
    # The most gain allowed: the limiter may take at most MAX_LIMITING_DB off the loudest peak.
    most_db = min(MAX_GAIN_DB, _db(threshold / float(env.max())) + MAX_LIMITING_DB)
    gain_db = min(target_lufs - start, most_db)
    y = x
    loudness = start
    tried: list[tuple[float, float]] = []  # (gain, loudness) of each pass
    for _ in range(MAX_PASSES):
        gain = 10.0 ** (gain_db / 20.0)
        if env.max() * gain <= threshold:
            y, loudness = x * np.float32(gain), start + gain_db  # loudness scales exactly
        else:
            y = x * (gain * _limiter_gain(env * gain, threshold, sr)).astype(np.float32)
            loudness = _loudness(y, sr)
        miss = target_lufs - loudness
        if abs(miss) <= LOUDNESS_TOLERANCE_LU or gain_db >= most_db:
            break
        # Limiting takes back part of each extra dB: step by the slope seen so far (secant).
        slope = 1.0
        if tried and gain_db != tried[-1][0]:
            slope = min(1.0, max(0.05, (loudness - tried[-1][1]) / (gain_db - tried[-1][0])))
        tried.append((gain_db, loudness))
        gain_db = min(gain_db + miss / slope, most_db)
    if target_lufs - loudness > 0.5:
        log.warning("mastering: the mix reaches only %.1f LUFS (target %.1f) without limiting "
                    "it more than %.0f dB", loudness, target_lufs, MAX_LIMITING_DB)
    out = np.array(y, dtype=np.float32)
    # Safety: measure the result itself; scale down until the ceiling holds in float32.
    for _ in range(4):
        peak = float(_peak_envelope(out).max())
        if peak <= ceiling and float(np.abs(out).max()) < 1.0:
            break
        out = (out * np.float32(min(ceiling / peak, 0.999) * (1 - 1e-6))).astype(np.float32)
    log.info("mastering: %.1f LUFS -> %.1f LUFS (gain %+.1f dB), true peak %.2f dBTP",
             start, loudness, gain_db, _db(peak))
    return Audio(out, sr)
