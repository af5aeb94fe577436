"""Work on recordings: split a mix into parts, reduce noise, layer files into a mastered mix.

``separate`` uses librosa's decompositions: harmonic-percussive separation by median filtering
(drums against the rest) and a REPET-SIM style vocal estimate (a soft mask against the
nearest-neighbour filtered spectrogram: what repeats is accompaniment, what does not is the
voice; neighbours found on a log-mel picture and averaged, not the median, for speed).
``denoise`` is spectral gating (noisereduce). ``mix`` places layers with levels,
offsets and fades, ducks a bed under the other layers, and masters the sum.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..audio import Audio
from ..errors import ParameterError

log = logging.getLogger(__name__)

MAX_SECONDS = 1200.0
PARTS = ("drums", "harmonic", "vocals", "accompaniment")


@dataclass(frozen=True)
class Separation:
    """The parts of a mix, each as long as the input."""

    parts: dict[str, Audio]

    def summary(self) -> dict[str, Any]:
        return {"kind": "separation", "parts": {name: round(_rms_db(a), 2)
                                                for name, a in self.parts.items()}}


def _rms_db(audio: Audio) -> float:
    rms = float(np.sqrt(np.mean(np.square(audio.samples, dtype=np.float64))))
    return 20 * np.log10(max(rms, 1e-10))


def separate(audio: Audio, *, vocals: bool = True, margin: float = 1.0) -> Separation:
    """Drums (percussive) and harmonic parts by median-filtering HPSS; with ``vocals`` also a
    vocal / accompaniment estimate. At the default ``margin`` of 1 each pair of parts sums
    back to the mix; a wider margin (up to 8) leaves less bleed and more in neither."""
    import librosa

    if not 1.0 <= margin <= 8.0:
        raise ParameterError(f"the separation margin is 1-8, not {margin:g}")
    if audio.duration < 0.5:
        raise ParameterError(f"the mix is {audio.duration:.2f} s long; separating needs at "
                             "least half a second")
    n_fft, hop = 2048, 512
    specs = [librosa.stft(ch, n_fft=n_fft, hop_length=hop)
             for ch in audio.samples.astype(np.float32)]
    # The masks come from the channels' mean magnitude, once; each channel is cut by them.
    mag = np.mean([np.abs(sp) for sp in specs], axis=0)
    harm_mask, perc_mask = librosa.decompose.hpss(mag, margin=margin, mask=True)
    masks = {"drums": perc_mask, "harmonic": harm_mask}
    if vocals:
        frames = mag.shape[1]
        width = int(min(max(frames // 8, 3), librosa.time_to_frames(
            2.0, sr=audio.sample_rate, hop_length=hop)))
        if frames > 2 * width + 1:
            # Frames alike are found on a 64-band log-mel picture (cheap), and averaged on
            # the full spectrum (the median REPET-SIM uses costs 30 times more here).
            mel = librosa.power_to_db(librosa.feature.melspectrogram(
                S=mag ** 2, sr=audio.sample_rate, n_mels=64))
            rec = librosa.segment.recurrence_matrix(mel, width=width, metric="cosine",
                                                    sparse=True)
            similar = librosa.decompose.nn_filter(mag, rec=rec, aggregate=np.mean)
        else:
            similar = mag
        similar = np.minimum(mag, similar)
        masks["vocals"] = librosa.util.softmask(mag - similar, margin * (similar + 1e-9),
                                                power=2)
        masks["accompaniment"] = librosa.util.softmask(similar,
                                                       margin * (mag - similar + 1e-9), power=2)
    n = audio.frames
    parts = {name: [librosa.istft(m * sp, hop_length=hop, n_fft=n_fft, length=n)
                    for sp in specs] for name, m in masks.items()}
    sr = audio.sample_rate
    return Separation({name: Audio(np.stack(chs).astype(np.float32), sr)
                       for name, chs in parts.items() if chs})


# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cleaned:
    audio: Audio
    reduced_db: float

    def summary(self) -> dict[str, Any]:
        return {"kind": "denoise", "removed_db": round(self.reduced_db, 2),
                "seconds": round(self.audio.duration, 3)}


def denoise(audio: Audio, *, strength: float = 1.0, stationary: bool = True,
            noise: Audio | None = None) -> Cleaned:
    """Spectral gating: each frequency's noise floor is estimated (from ``noise``, a sample
    of the noise alone, else from the recording itself) and what stays near it is turned down
    by ``strength`` (0-1). ``stationary=False`` follows a floor that changes over time."""
    import noisereduce

    if not 0.0 < strength <= 1.0:
        raise ParameterError(f"the denoise strength is between 0 and 1, not {strength:g}")
    if audio.duration < 0.25:
        raise ParameterError("the recording is too short to tell its noise from the rest")
    noise_clip = None
    if noise is not None:
        if noise.sample_rate != audio.sample_rate:
            from ..io.audio import resample

            noise = resample(noise, audio.sample_rate)
        noise_clip = noise.samples.mean(axis=0)
    out = []
    for channel in audio.samples:
        out.append(noisereduce.reduce_noise(
            y=channel.astype(np.float32), sr=audio.sample_rate, y_noise=noise_clip,
            stationary=stationary, prop_decrease=strength, n_jobs=1))
    cleaned = Audio(np.stack(out).astype(np.float32), audio.sample_rate)
    return Cleaned(cleaned, _rms_db(audio) - _rms_db(cleaned))


# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Layer:
    """One input of a mix: level in dB, where it starts, fades, and whether it ducks under
    the other layers (a music bed under a voice)."""

    audio: Audio
    name: str = ""
    gain_db: float = 0.0
    offset: float = 0.0
    fade_in: float = 0.0
    fade_out: float = 0.0
    duck: bool = False


@dataclass(frozen=True)
class Mixed:
    audio: Audio
    layers: tuple[dict[str, Any], ...] = field(default=())
    duck_db: float = 0.0

    def summary(self) -> dict[str, Any]:
        return {"kind": "mix", "layers": list(self.layers), "duck_db": self.duck_db,
                "seconds": round(self.audio.duration, 3)}


def _follow(values: np.ndarray, rise: float, fall: float) -> np.ndarray:
    """A one-pole follower over 10 ms frames: time constants in seconds for rising and
    falling values."""
    up, down = np.exp(-1 / (rise * 100)), np.exp(-1 / (fall * 100))
    out = np.empty_like(values)
    level = float(values[0]) if len(values) else 0.0
    for i, v in enumerate(values):
        coef = up if v > level else down
        level = coef * level + (1 - coef) * v
        out[i] = level
    return out


def _duck_gain(key: np.ndarray, sr: int, depth_db: float) -> np.ndarray:
    """Per-sample gain for a ducked bed: ``depth_db`` down while ``key`` sounds (within 24 dB
    of its loudest moment), down in 50 ms, back up with a 300 ms release."""
    hop = max(1, sr // 100)
    frames = np.sqrt(np.mean(np.square(np.pad(key, (0, -len(key) % hop)).reshape(-1, hop)),
                             axis=1))
    env = _follow(frames, 0.005, 0.05)
    threshold = max(float(np.max(env)) * 10 ** (-24 / 20), 1e-4)
    target = -depth_db * np.clip(env / threshold, 0, 1)
    smoothed = _follow(target, 0.3, 0.05)  # gain falls (ducks) fast, rises (releases) slowly
    return np.repeat(10 ** (smoothed / 20), hop)[:len(key)]


def mix(layers: list[Layer], *, duck_db: float = 12.0, target_lufs: float = -14.0,
        sample_rate: int = 44100) -> Mixed:
    """Layers summed at their offsets and levels, ducked layers turned down by ``duck_db``
    while the others sound, mastered to ``target_lufs`` at -1 dBTP."""
    from ..io.audio import resample
    from ..synth.mastering import master

    if not layers:
        raise ParameterError("a mix needs at least one file")
    if len(layers) > 16:
        raise ParameterError(f"a mix takes at most 16 files, not {len(layers)}")
    if not 0 <= duck_db <= 40:
        raise ParameterError(f"ducking is 0-40 dB, not {duck_db:g}")
    placed: list[np.ndarray] = []
    for layer in layers:
        if not -60 <= layer.gain_db <= 24:
            raise ParameterError(f"{layer.name or 'a layer'}: gain {layer.gain_db:g} dB is "
                                 "outside -60..+24")
        for what, v in (("offset", layer.offset), ("fade in", layer.fade_in),
                        ("fade out", layer.fade_out)):
            if not 0 <= v <= MAX_SECONDS:
                raise ParameterError(f"{layer.name or 'a layer'}: {what} {v:g} s is outside "
                                     f"0-{MAX_SECONDS:g}")
        a = layer.audio if layer.audio.sample_rate == sample_rate else resample(layer.audio,
                                                                                 sample_rate)
        x = a.samples.astype(np.float64)
        x = np.repeat(x, 2, axis=0) if x.shape[0] == 1 else x[:2]
        x = x * 10 ** (layer.gain_db / 20)
        n = x.shape[1]
        k = min(n, int(layer.fade_in * sample_rate))
        if k:
            x[:, :k] *= np.linspace(0, 1, k)
        k = min(n, int(layer.fade_out * sample_rate))
        if k:
            x[:, n - k:] *= np.linspace(1, 0, k)
        placed.append(np.pad(x, ((0, 0), (int(layer.offset * sample_rate), 0))))
    total = max(p.shape[1] for p in placed)
    placed = [np.pad(p, ((0, 0), (0, total - p.shape[1]))) for p in placed]
    ducked = [i for i, layer in enumerate(layers) if layer.duck]
    over = [i for i, layer in enumerate(layers) if not layer.duck]
    if ducked and not over:
        raise ParameterError("every layer ducks: name the layers to duck under the others, "
                             "not all of them")
    out = sum(p for i, p in enumerate(placed) if i not in ducked)
    if ducked and duck_db > 0:
        gain = _duck_gain(np.mean(out, axis=0), sample_rate, duck_db)
        for i in ducked:
            out = out + placed[i] * gain
    elif ducked:
        out = out + sum(placed[i] for i in ducked)
    mastered = master(Audio(out.astype(np.float32), sample_rate), target_lufs=target_lufs)
    info = tuple({"name": layer.name, "gain_db": layer.gain_db, "offset": layer.offset,
                  "fade_in": layer.fade_in, "fade_out": layer.fade_out, "duck": layer.duck}
                 for layer in layers)
    return Mixed(mastered, info, duck_db if ducked else 0.0)
