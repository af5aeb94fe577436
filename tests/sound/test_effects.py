"""Procedural sounds: each is recognisable by its spectral signature, loops are seamless,
requests in three languages name the same sounds, a seed repeats a sound exactly."""

from __future__ import annotations

import numpy as np
import pytest

from tunecraft.errors import ParameterError
from tunecraft.sound.effects import SOUNDS, make_sound, sounds_in

SR = 44100


def _mono(name: str, seconds: float = 12.0, seed: int = 3) -> np.ndarray:
    return make_sound(name, duration=seconds, seed=seed).audio.samples.mean(axis=0)


def _band_share(x: np.ndarray, lo: float, hi: float) -> float:
    power = np.abs(np.fft.rfft(x)) ** 2
    f = np.fft.rfftfreq(len(x), 1 / SR)
    return float(power[(f >= lo) & (f < hi)].sum() / power.sum())


def _frames(x: np.ndarray, hop: int = 441) -> np.ndarray:
    """RMS per 10 ms."""
    x = x[: len(x) // hop * hop].reshape(-1, hop)
    return np.sqrt(np.mean(x ** 2, axis=1))


def _flatness(x: np.ndarray) -> float:
    """Median spectral flatness of 2,048-sample frames (1 = white noise, ~0 = a pure tone)."""
    frames = x[: len(x) // 2048 * 2048].reshape(-1, 2048) * np.hanning(2048)
    p = np.abs(np.fft.rfft(frames, axis=1)) ** 2 + 1e-20
    return float(np.median(np.exp(np.mean(np.log(p), axis=1)) / np.mean(p, axis=1)))


def _transients_per_second(x: np.ndarray, lo: float = 2000.0) -> float:
    """Sharp rises of the high band's envelope (1 ms frames), a second."""
    from scipy import signal

    hp = signal.sosfilt(signal.butter(4, lo, "highpass", fs=SR, output="sos"), x)
    env = _frames(hp, 44)
    rise = env[1:] / (np.median(env) + 1e-12)
    peaks, _ = signal.find_peaks(rise, height=3.0, distance=3)
    return len(peaks) / (len(x) / SR)


def _period(env: np.ndarray, lo: float, hi: float, hop_s: float = 0.01) -> float:
    """The strongest repetition period of an envelope between lo and hi seconds."""
    e = env - env.mean()
    ac = np.correlate(e, e, "full")[len(e) - 1:]
    lags = np.arange(len(ac)) * hop_s
    band = (lags >= lo) & (lags <= hi)
    return float(lags[band][np.argmax(ac[band])])


def test_rain_is_broadband_noise_with_dense_transients():
    x = _mono("rain")
    assert _flatness(x) > 0.2
    assert _band_share(x, 2000, 16000) > 0.3
    assert _transients_per_second(x) > 20


def test_thunder_is_low_energy_in_bursts():
    x = _mono("thunder", 20)
    assert _band_share(x, 0, 250) > 0.7
    env = _frames(x)
    assert np.max(env) > 8 * np.median(env)  # bursts over a quiet bed


def test_birdsong_is_tonal_and_high():
    x = _mono("birds")
    assert _band_share(x, 2000, 8000) > 0.8
    env = _frames(x)
    loud = env > 0.3 * env.max()
    # Chirps: tonal (a narrow peak), short, with gaps between.
    frames = x[: len(x) // 2048 * 2048].reshape(-1, 2048)
    active = frames[np.argsort(np.sum(frames ** 2, axis=1))[-20:]] * np.hanning(2048)
    p = np.abs(np.fft.rfft(active, axis=1)) ** 2
    assert np.median(p.max(axis=1) / p.mean(axis=1)) > 50
    assert 0.02 < loud.mean() < 0.6


@pytest.mark.parametrize(("name", "lo", "hi", "expected"),
                         [("clock", 0.5, 1.5, 1.0), ("footsteps", 0.3, 0.9, None)])
def test_ticking_and_steps_repeat_at_their_period(name, lo, hi, expected):
    x = _mono(name)
    period = _period(_frames(x), lo, hi)
    if expected is not None:
        assert period == pytest.approx(expected, abs=0.02)
    else:
        assert 0.45 <= period <= 0.6  # about two steps a second


def test_heartbeat_is_low_and_beats_at_a_human_rate():
    x = _mono("heartbeat")
    assert _band_share(x, 0, 150) > 0.8
    period = _period(_frames(x), 0.6, 1.2)
    assert 60 / period == pytest.approx(69, abs=9)


def test_waves_swell_slowly_and_wind_has_no_transients():
    w = _mono("waves", 30)
    period = _period(_frames(w, 4410), 4.0, 12.0, hop_s=0.1)
    assert 5.5 <= period <= 9.5
    wind = _mono("wind")
    assert _transients_per_second(wind) < 2
    assert _band_share(wind, 100, 2500) > 0.8


def test_fire_crackles_over_a_low_roar():
    x = _mono("fire")
    assert _band_share(x, 0, 300) > 0.3
    assert _transients_per_second(x, 1000) > 5


def test_crowd_energy_is_in_the_voice_band_and_traffic_rumbles():
    assert _band_share(_mono("crowd"), 250, 3500) > 0.7
    assert _band_share(_mono("traffic", 20), 0, 300) > 0.6


def test_one_shots_have_their_shapes():
    whoosh = _frames(_mono("whoosh", 4))
    peak = np.argmax(whoosh) / len(whoosh)
    assert 0.3 < peak < 0.7 and whoosh[5] < 0.2 * whoosh.max() and whoosh[-5] < 0.2 * whoosh.max()
    riser = _mono("riser", 4)
    first, last = riser[: SR], riser[-SR:]

    def centroid(x):
        p = np.abs(np.fft.rfft(x)) ** 2
        return float(np.sum(np.fft.rfftfreq(len(x), 1 / SR) * p) / p.sum())

    assert centroid(last) > 2 * centroid(first)
    assert np.sqrt(np.mean(last ** 2)) > 4 * np.sqrt(np.mean(first ** 2))
    hit = _frames(_mono("impact", 5))
    assert np.argmax(hit) < 10 and hit[300] < 0.1 * hit.max()


def test_a_loop_runs_into_its_start_without_a_seam():
    for name in ("rain", "waves", "birds"):
        made = make_sound(name, duration=6, seed=2, loop=True).audio.samples
        joined = np.concatenate([made, made], axis=1)
        jumps = np.abs(np.diff(joined, axis=1))
        seam = jumps[:, made.shape[1] - 3: made.shape[1] + 2].max()
        assert seam <= np.percentile(jumps, 99.9), name
        if name != "birds":  # steady beds: the 50 ms either side of the join are alike
            around = _frames(joined.mean(axis=0), 2205)
            k = made.shape[1] // 2205
            assert 0.5 < around[k] / around[k - 1] < 2.0, name


def test_the_words_of_three_languages_name_the_same_sounds():
    assert sounds_in("rain and thunder") == ("rain", "thunder")
    assert sounds_in("lluvia con truenos") == ("rain", "thunder")
    assert sounds_in("chuva e trovões") == ("rain", "thunder")
    assert sounds_in("olas del mar en la playa") == ("waves",)
    assert sounds_in("um relógio e batimentos do coração") == ("clock", "heartbeat")
    assert set(sounds_in("a storm")) == {"rain", "thunder", "wind"}
    assert sounds_in("a quiet violin") == ()


def test_layers_length_seed_and_level():
    a = make_sound("rain with birds", duration=3.5, seed=9)
    assert a.layers == ("rain", "birds")
    assert a.audio.frames == int(3.5 * SR) and a.audio.channels == 2
    assert np.array_equal(a.audio.samples, make_sound("rain with birds", duration=3.5,
                                                      seed=9).audio.samples)
    assert not np.array_equal(a.audio.samples, make_sound("rain with birds", duration=3.5,
                                                          seed=10).audio.samples)
    from tunecraft.synth.mastering import measure_loudness

    assert measure_loudness(a.audio) == pytest.approx(-20, abs=0.5)
    assert a.audio.peak <= 0.9


def test_impossible_requests_say_why():
    with pytest.raises(ParameterError, match="no sound I can make"):
        make_sound("a quiet violin")
    with pytest.raises(ParameterError, match=r"0\.1-600"):
        make_sound("rain", duration=0)
    with pytest.raises(ParameterError, match="one-shot"):
        make_sound("impact", loop=True)


def test_every_sound_in_the_catalogue_is_made():
    for name in SOUNDS:
        s = make_sound(name, duration=1.0, seed=1)
        assert s.audio.peak > 0.01 and np.isfinite(s.audio.samples).all(), name
