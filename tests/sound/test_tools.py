"""separate, denoise and mix on signals made here, measured against what went in."""

from __future__ import annotations

import numpy as np
import pytest

from tunecraft.audio import Audio
from tunecraft.errors import ParameterError

pytest.importorskip("librosa", reason="the analysis extra (librosa) is not installed")

SR = 22050


def _drums(seconds: float, rng: np.random.Generator) -> np.ndarray:
    """Noise hits, four a second, each decaying in 40 ms."""
    x = np.zeros(int(seconds * SR))
    for start in np.arange(0, seconds, 0.25):
        k = int(start * SR)
        hit = rng.standard_normal(int(0.12 * SR)) * np.exp(-np.arange(int(0.12 * SR)) / (0.04 * SR))
        x[k:k + len(hit)] += hit[: len(x) - k]
    return x * 0.3


def _tone(seconds: float) -> np.ndarray:
    t = np.arange(int(seconds * SR)) / SR
    return 0.2 * (np.sin(2 * np.pi * 220 * t) + 0.5 * np.sin(2 * np.pi * 330 * t))


def _share(part: np.ndarray, ref: np.ndarray) -> float:
    """How much of a part is ``ref``: the energy of its projection on ref over its energy."""
    part = part.mean(axis=0) if part.ndim == 2 else part
    proj = np.dot(part, ref) / np.dot(ref, ref) * ref
    return float(np.sum(proj ** 2) / (np.sum(part ** 2) + 1e-20))


def test_separate_recovers_drums_and_the_tone(rng):
    from tunecraft.sound.tools import separate

    drums, tone = _drums(4, rng), _tone(4)
    result = separate(Audio(np.stack([drums + tone, drums + tone]).astype(np.float32), SR))
    parts = result.parts
    assert set(parts) == {"drums", "harmonic", "vocals", "accompaniment"}
    assert all(a.frames == len(drums) for a in parts.values())
    # Each part holds mostly its own source, far more than the other.
    assert _share(parts["drums"].samples, drums) > 0.8
    assert _share(parts["harmonic"].samples, tone) > 0.9
    assert _share(parts["drums"].samples, tone) < 0.1
    assert _share(parts["harmonic"].samples, drums) < 0.1


def test_the_vocal_estimate_keeps_what_does_not_repeat(rng):
    """A loop repeated under a melody that never repeats: the melody goes to "vocals"."""
    from tunecraft.sound.tools import separate

    seconds = 8
    t = np.arange(int(seconds * SR)) / SR
    loop = np.tile(_drums(1, rng) + _tone(1), seconds)[: len(t)]
    f = 600 + 200 * np.sin(2 * np.pi * 0.37 * t) + 100 * t
    voice = 0.15 * np.sin(2 * np.pi * np.cumsum(f) / SR)
    parts = separate(Audio((loop + voice).astype(np.float32), SR)).parts
    assert _share(parts["vocals"].samples, voice) > 2 * _share(parts["accompaniment"].samples,
                                                               voice)
    assert _share(parts["accompaniment"].samples, loop) > _share(parts["vocals"].samples, loop)


def _speechlike(seconds: float) -> np.ndarray:
    """Voiced syllables: a 120-180 Hz glottal buzz through two formants, 4 a second."""
    from scipy import signal

    t = np.arange(int(seconds * SR)) / SR
    f0 = 150 + 30 * np.sin(2 * np.pi * 0.7 * t)
    buzz = signal.sawtooth(2 * np.pi * np.cumsum(f0) / SR)
    voiced = sum(signal.sosfilt(signal.butter(2, (f * 0.9, f * 1.1), "bandpass", fs=SR,
                                              output="sos"), buzz) for f in (700, 1200))
    syllables = np.clip(np.sin(2 * np.pi * 4 * t), 0, None) ** 2
    syllables[int(0.4 * len(t)):int(0.55 * len(t))] = 0  # a pause: only noise is heard
    return voiced * syllables * 0.5


def _snr(clean: np.ndarray, noisy: np.ndarray) -> float:
    return 10 * np.log10(np.sum(clean ** 2) / np.sum((noisy - clean) ** 2))


def test_denoise_raises_the_snr_of_speech_in_noise(rng):
    pytest.importorskip("noisereduce", reason="the sound extra (noisereduce) is not installed")
    from tunecraft.sound.tools import denoise

    clean = _speechlike(4)
    noisy = clean + rng.standard_normal(len(clean)) * 0.03
    before = _snr(clean, noisy)
    result = denoise(Audio(noisy.astype(np.float32), SR))
    after = _snr(clean, result.audio.samples[0])
    assert after > before + 4, (before, after)
    assert result.reduced_db > 0
    with pytest.raises(ParameterError, match="between 0 and 1"):
        denoise(Audio(noisy.astype(np.float32), SR), strength=2)


def _level_db(x: np.ndarray) -> float:
    return 20 * np.log10(np.sqrt(np.mean(x ** 2)) + 1e-12)


def test_mix_ducks_the_bed_under_the_voice(rng):
    from tunecraft.sound.tools import Layer, mix

    sr = 44100
    seconds = 6
    t = np.arange(seconds * sr) / sr
    bed = (0.2 * np.sin(2 * np.pi * 110 * t)).astype(np.float32)
    voice = np.zeros_like(bed)
    on = (t >= 2) & (t < 4)
    voice[on] = 0.3 * np.sin(2 * np.pi * 1000 * t[on])
    out = mix([Layer(Audio(voice, sr), "voice"), Layer(Audio(bed, sr), "bed", duck=True)],
              duck_db=12)
    x = out.audio.samples.mean(axis=0)
    # The bed alone, measured at 110 Hz by projection onto the bed's own sine.
    ref = np.sin(2 * np.pi * 110 * t)

    def bed_level(a, b):
        s = slice(int(a * sr), int(b * sr))
        return 20 * np.log10(abs(np.dot(x[s], ref[s])) / np.dot(ref[s], ref[s]) + 1e-12)

    drop = bed_level(0.5, 1.5) - bed_level(2.6, 3.6)
    assert drop == pytest.approx(12, abs=1.5)
    assert bed_level(5.0, 5.9) == pytest.approx(bed_level(0.5, 1.5), abs=1.0)  # it comes back
    assert out.duck_db == 12


def test_mix_places_offsets_fades_and_levels():
    from tunecraft.sound.tools import Layer, mix

    sr = 44100
    a = Audio(np.full((1, sr * 2), 0.1, np.float32) * np.sin(np.arange(sr * 2) * 0.05), sr)
    out = mix([Layer(a, "a", fade_in=1.0), Layer(a, "b", offset=3.0, gain_db=-6)],
              target_lufs=-20)
    x = out.audio.samples
    assert x.shape == (2, sr * 5)
    assert np.abs(x[:, int(2.2 * sr):int(2.8 * sr)]).max() < 1e-3  # the gap between them
    first = _level_db(x[0, int(0.05 * sr):int(0.2 * sr)])
    full = _level_db(x[0, int(1.2 * sr):int(1.8 * sr)])
    second = _level_db(x[0, int(3.2 * sr):int(4.8 * sr)])
    assert full - first > 10  # faded in
    assert full - second == pytest.approx(6, abs=0.5)
    with pytest.raises(ParameterError, match="every layer ducks"):
        mix([Layer(a, "a", duck=True)])
    with pytest.raises(ParameterError, match="gain"):
        mix([Layer(a, "a", gain_db=90)])
