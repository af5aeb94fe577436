"""Mastering: loudness measurement, true peak, limiting, silence."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tunecraft.audio import Audio
from tunecraft.errors import ParameterError
from tunecraft.synth import master, measure_loudness, true_peak_dbtp
from tunecraft.synth.mastering import _limiter_gain, _peak_envelope

SR = 44100


def tone(freq: float, amp: float, seconds: float = 3.0, phase: float = 0.0) -> Audio:
    t = np.arange(round(seconds * SR)) / SR
    x = (amp * np.sin(2 * np.pi * freq * t + phase)).astype(np.float32)
    return Audio(np.stack((x, x)), SR)


def test_loudness_of_a_reference_tone() -> None:
    # BS.1770: a 997 Hz sine at 0 dBFS in both channels reads 0 LUFS; at -20 dBFS, -20 LUFS.
    assert measure_loudness(tone(997.0, 0.1)) == pytest.approx(-20.0, abs=0.2)


def test_true_peak_sees_between_samples() -> None:
    # A quarter-sample-rate sine sampled at 45 degrees: samples reach 0.707, the wave 1.0.
    audio = tone(SR / 4, 0.5, phase=math.pi / 4)
    sample_peak_db = 20 * math.log10(audio.peak)
    assert sample_peak_db == pytest.approx(-9.03, abs=0.05)
    assert true_peak_dbtp(audio) == pytest.approx(-6.02, abs=0.25)


def test_silence_has_no_loudness_and_is_left_alone() -> None:
    silent = Audio.silence(2.0)
    assert measure_loudness(silent) == -math.inf
    assert true_peak_dbtp(silent) == -math.inf
    out = master(silent)
    assert np.isfinite(out.samples).all() and not out.samples.any()


def test_master_reaches_target_without_limiting() -> None:
    out = master(tone(440.0, 0.05), target_lufs=-16.0, ceiling_dbtp=-1.0)
    assert measure_loudness(out) == pytest.approx(-16.0, abs=0.1)
    assert true_peak_dbtp(out) <= -1.0


def test_master_limits_peaks_and_still_reaches_target(rng) -> None:
    # A quiet tone with loud clicks: reaching -14 LUFS needs the limiter to hold the clicks.
    x = tone(440.0, 0.05, seconds=5.0).samples.copy()
    x += (rng.standard_normal(x.shape) * 0.002).astype(np.float32)
    x[:, SR // 2::SR] = 0.9
    assert true_peak_dbtp(Audio(x, SR)) > -1.0
    out = master(Audio(x, SR), target_lufs=-14.0, ceiling_dbtp=-1.0)
    assert measure_loudness(out) == pytest.approx(-14.0, abs=0.2)
    assert true_peak_dbtp(out) <= -1.0
    assert out.peak < 1.0 and np.isfinite(out.samples).all()


def test_master_stops_short_rather_than_crush(rng) -> None:
    # A whisper with full-scale clicks: -14 LUFS would need some 25 dB of limiting on them.
    x = tone(440.0, 0.01, seconds=3.0).samples.copy()
    x[:, SR // 2::SR // 2] = 0.9
    out = master(Audio(x, SR), target_lufs=-14.0, ceiling_dbtp=-1.0)
    assert -30.0 < measure_loudness(out) < -15.0
    assert true_peak_dbtp(out) <= -1.0


def test_master_with_zero_ceiling_never_clips(rng) -> None:
    x = (rng.standard_normal((2, 2 * SR)) * 0.3).astype(np.float32)
    out = master(Audio(x, SR), target_lufs=-5.0, ceiling_dbtp=0.0)
    assert out.peak < 1.0
    assert true_peak_dbtp(out) <= 0.0


def test_master_handles_very_short_audio() -> None:
    out = master(tone(440.0, 0.2, seconds=0.1))
    assert out.frames == round(0.1 * SR)
    assert np.isfinite(out.samples).all() and true_peak_dbtp(out) <= -1.0


def test_master_refuses_nan() -> None:
    x = np.zeros((2, 1000), np.float32)
    x[0, 10] = np.nan
    with pytest.raises(ParameterError):
        master(Audio(x, SR))


def test_limiter_gain_stays_under_what_each_peak_needs(rng) -> None:
    env = np.abs(rng.standard_normal(20000)) * 0.5
    env[5000] = 4.0
    gain = _limiter_gain(env, 1.0, SR)
    assert (env * gain <= 1.0 + 1e-9).all()
    assert gain.max() <= 1.0 and gain[5000] == pytest.approx(0.25, rel=1e-6)
    assert np.abs(np.diff(gain)).max() < 0.01  # smooth: no steps


def test_peak_envelope_covers_the_samples(rng) -> None:
    x = (rng.standard_normal((2, 5000)) * 0.3).astype(np.float32)
    env = _peak_envelope(x)
    assert env.shape == (5000,)
    assert (env >= np.abs(x).max(axis=0) - 1e-7).all()


def test_loudness_matches_pyloudnorm(rng) -> None:
    import pyloudnorm

    x = (rng.standard_normal((2, 5 * SR)) * 0.1).astype(np.float32)
    x[:, SR:2 * SR] *= 0.001  # a quiet second that the gates drop
    reference = pyloudnorm.Meter(SR).integrated_loudness(x.T.astype(np.float64))
    assert measure_loudness(Audio(x, SR)) == pytest.approx(reference, abs=1e-6)


def test_peak_envelope_matches_direct_convolution(rng) -> None:
    from tunecraft.synth.mastering import _interpolation_phases

    for frames in (1, 7, 12, 13, 1000, 4099):
        x = (rng.standard_normal((2, frames)) * 0.3).astype(np.float32)
        direct = np.abs(x).max(axis=0)
        for taps in _interpolation_phases():
            for channel in x.astype(np.float64):
                y = np.convolve(channel, taps)[6:6 + frames]
                direct = np.maximum(direct, np.abs(y))
        np.testing.assert_allclose(_peak_envelope(x), direct, rtol=0, atol=1e-6)


def test_numpy_replacements_match_scipy(rng) -> None:
    """Mastering avoids importing scipy.signal and scipy.ndimage on a cold start; its own
    versions must agree with them."""
    from scipy.ndimage import minimum_filter1d
    from scipy.signal import firwin, sosfilt

    from tunecraft.synth import mastering

    np.testing.assert_allclose(mastering._lowpass_taps(49, 0.25, 5.0),
                               firwin(49, 0.25, window=("kaiser", 5.0)), atol=1e-12)
    x = rng.standard_normal(5000)
    for span in (1, 7, 221):
        np.testing.assert_array_equal(
            mastering._forward_min(x, span),
            minimum_filter1d(x, span, mode="nearest", origin=-(span // 2)))
    for rate in (44100, 22050):
        sos = mastering._k_weighting(rate)
        np.testing.assert_allclose(mastering._k_filter(x, rate), sosfilt(sos, x), atol=1e-12)
    long = rng.standard_normal(mastering._FFT_SIZE * 3 + 123)  # several overlap-add blocks
    np.testing.assert_allclose(mastering._k_filter(long, 48000),
                               sosfilt(mastering._k_weighting(48000), long), atol=1e-10)


def test_k_weighting_matches_pyloudnorm() -> None:
    import pyloudnorm

    from tunecraft.synth import mastering

    for rate in (44100, 48000, 22050):
        theirs = [np.concatenate((f.b, f.a)) for f in pyloudnorm.Meter(rate)._filters.values()]
        np.testing.assert_allclose(mastering._k_weighting(rate), np.array(theirs),
                                   atol=1e-12)


def test_the_pass_meter_matches_measuring_the_whole_result(rng, monkeypatch) -> None:
    """master() re-measures a limited pass from the stretches the limiter touched; that must
    be the loudness of the whole result (to float32 rounding)."""
    from tunecraft.synth import mastering

    whole = mastering._loudness
    x = (rng.standard_normal((2, 6 * SR)) * 0.05).astype(np.float32)
    x[:, 1000::SR] *= 12.0  # a peak a second for the limiter
    meter = mastering._Meter(x, SR)
    assert meter.loudness == pytest.approx(whole(x, SR), abs=1e-9)
    gain = 3.0
    pieces = mastering._limiter_segments(mastering._peak_envelope(x) * gain, 0.85, SR)
    assert 2 <= len(pieces) <= 8
    out = x * np.float32(gain)
    for a, piece in pieces:
        out[:, a:a + piece.size] = x[:, a:a + piece.size] * (gain * piece).astype(np.float32)
    expected = whole(out, SR)

    def refuse(*_):
        raise AssertionError("the whole result was measured again")

    monkeypatch.setattr(mastering, "_loudness", refuse)
    assert meter.limited(gain, pieces, out) == pytest.approx(expected, abs=1e-6)


@pytest.mark.parametrize("clicks", [False, True])
def test_what_master_says_of_its_result_is_what_a_fresh_measure_finds(rng, clicks) -> None:
    """The bundle's summary uses mastering's own measures of its output (no second pass):
    they must be the measures of that output, limited or not."""
    x = tone(330.0, 0.05, seconds=4.0).samples.copy()
    x += (rng.standard_normal(x.shape) * 0.002).astype(np.float32)
    if clicks:
        x[:, SR // 3::SR] = 0.9
    out = master(Audio(x, SR), target_lufs=-14.0, ceiling_dbtp=-1.0)
    fresh = Audio(out.samples.copy(), SR)  # a new object: measured from its samples
    assert measure_loudness(out) == pytest.approx(measure_loudness(fresh), abs=1e-6)
    assert true_peak_dbtp(out) == pytest.approx(true_peak_dbtp(fresh), abs=1e-6)
