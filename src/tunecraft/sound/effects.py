"""Sound effects and ambiences made procedurally from seeded noise, impulses and oscillators.

Each sound is a small recipe that imitates how the real thing makes its sound: rain is
broadband noise with dense drop transients, thunder is low rumbling bursts, birdsong is fast
tonal chirps between 2 and 7 kHz, a clock ticks once a second. A request in English, Spanish or
Portuguese ("lluvia con truenos", "chuva e vento") is read into layers; any length; with
``loop`` the end runs into the start without a seam (the last half second is crossfaded
into the first).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import signal

from ..audio import Audio
from ..errors import ParameterError

SAMPLE_RATE = 44100
MAX_SECONDS = 600.0
LOOP_FADE = 0.5
TARGET_LUFS = -20.0

Recipe = Callable[[np.random.Generator, int, int], np.ndarray]


# ----------------------------------------------------------------------------------------------
# Building blocks


def _sos(kind: str, freq: Any, sr: int, order: int = 4) -> np.ndarray:
    return signal.butter(order, freq, btype=kind, fs=sr, output="sos")


def _filt(x: np.ndarray, kind: str, freq: Any, sr: int, order: int = 4) -> np.ndarray:
    return signal.sosfilt(_sos(kind, freq, sr, order), x, axis=-1)


def _pink(rng: np.random.Generator, n: int) -> np.ndarray:
    """Noise falling 3 dB an octave (shaped in the frequency domain)."""
    spec = np.fft.rfft(rng.standard_normal(n))
    f = np.arange(len(spec), dtype=float)
    f[0] = 1.0
    x = np.fft.irfft(spec / np.sqrt(f), n)
    return x / (np.std(x) + 1e-12)


def _brown(rng: np.random.Generator, n: int, sr: int) -> np.ndarray:
    x = _filt(rng.standard_normal(n), "lowpass", 120, sr, 2)
    return x / (np.std(x) + 1e-12)


def _lfo(rng: np.random.Generator, n: int, sr: int, rate: float) -> np.ndarray:
    """A smooth random curve between 0 and 1 changing about ``rate`` times a second."""
    points = max(4, int(n / sr * rate) + 4)
    knots = rng.random(points)
    t = np.linspace(0, points - 3, n)
    return np.interp(t, np.arange(points), knots)


def _env(length: int, attack: int, decay: float) -> np.ndarray:
    """A percussive envelope: a linear attack, then an exponential fall (``decay`` in samples
    to -60 dB)."""
    a = np.linspace(0, 1, max(attack, 1), endpoint=False)
    d = np.exp(-6.9 * np.arange(max(length - len(a), 1)) / max(decay, 1.0))
    return np.concatenate([a, d])[:length]


def _place(out: np.ndarray, start: int, event: np.ndarray) -> None:
    """Add ``event`` at ``start``, wrapping past the end (so loops keep an even density)."""
    n = out.shape[-1]
    for offset in range(0, len(event), n):
        part = event[offset:offset + n]
        s = (start + offset) % n
        first = min(len(part), n - s)
        out[s:s + first] += part[:first]
        if first < len(part):
            out[:len(part) - first] += part[first:]


def _times(rng: np.random.Generator, n: int, sr: int, per_second: float) -> np.ndarray:
    """Event starts of a Poisson process."""
    count = rng.poisson(per_second * n / sr)
    return np.sort(rng.integers(0, n, count))


def _tone(freqs: np.ndarray, sr: int) -> np.ndarray:
    return np.sin(2 * np.pi * np.cumsum(freqs) / sr)


# ----------------------------------------------------------------------------------------------
# Recipes: (rng, frames, sample_rate) -> mono samples


def rain(rng: np.random.Generator, n: int, sr: int) -> np.ndarray:
    bed = _filt(_pink(rng, n), "bandpass", (400, 12000), sr) * 0.3
    drops = np.zeros(n)
    for t in _times(rng, n, sr, 180.0):
        length = int(sr * rng.uniform(0.004, 0.02))
        burst = rng.standard_normal(length) * _env(length, 8, length * 0.6)
        _place(drops, int(t), burst * rng.uniform(0.2, 1.0))
    drops = _filt(drops, "highpass", 1500, sr, 2)
    return bed + drops * 3.0


def thunder(rng: np.random.Generator, n: int, sr: int) -> np.ndarray:
    out = _brown(rng, n, sr) * 0.05
    count = max(1, round(n / sr / 7))
    starts = (np.arange(count) + rng.uniform(0.1, 0.7, count)) * n / count
    for s in starts:
        length = int(sr * rng.uniform(3.0, 5.0))
        rumble = _brown(rng, length, sr) * _env(length, int(sr * 0.15), length * 0.9)
        rumble *= 0.6 + 0.4 * _lfo(rng, length, sr, 6.0)
        crack = _filt(rng.standard_normal(length), "bandpass", (60, 600), sr, 2)
        crack *= _env(length, int(sr * 0.01), sr * 0.6) * 0.5
        _place(out, int(s), (rumble + crack) * rng.uniform(0.7, 1.0))
    return out


def wind(rng: np.random.Generator, n: int, sr: int) -> np.ndarray:
    base = _pink(rng, n)
    # Two bands whose loudness moves slowly: gusts.
    low = _filt(base, "bandpass", (150, 600), sr, 2)
    high = _filt(base, "bandpass", (600, 2400), sr, 2)
    gust = 0.25 + 0.75 * _lfo(rng, n, sr, 0.3) ** 1.5
    whistle = 0.2 + 0.8 * _lfo(rng, n, sr, 0.2)
    return (low * gust + high * gust * whistle * 0.4) * 1.5


def waves(rng: np.random.Generator, n: int, sr: int) -> np.ndarray:
    wash = _filt(_pink(rng, n), "bandpass", (100, 5000), sr, 2)
    period = rng.uniform(6.0, 9.0)
    t = np.arange(n) / sr
    phase = (t / period + rng.random()) % 1.0
    swell = np.where(phase < 0.35, phase / 0.35, np.exp(-(phase - 0.35) * 5.0))
    return wash * (0.08 + swell ** 2)


def fire(rng: np.random.Generator, n: int, sr: int) -> np.ndarray:
    roar = _brown(rng, n, sr) * 0.5 * (0.7 + 0.3 * _lfo(rng, n, sr, 2.0))
    hiss = _filt(rng.standard_normal(n), "highpass", 3000, sr, 2) * 0.03
    crackle = np.zeros(n)
    for t in _times(rng, n, sr, 14.0):
        length = int(sr * rng.uniform(0.002, 0.008))
        pop = rng.standard_normal(length) * _env(length, 2, length * 0.5)
        _place(crackle, int(t), pop * rng.uniform(0.5, 2.5))
    return roar + hiss + _filt(crackle, "highpass", 800, sr, 2) * 2.0


def birds(rng: np.random.Generator, n: int, sr: int) -> np.ndarray:
    out = _filt(_pink(rng, n), "bandpass", (200, 3000), sr, 2) * 0.004
    for t in _times(rng, n, sr, 0.8):
        phrase = np.zeros(int(sr * 1.5))
        base = rng.uniform(2500, 5000)
        pos = 0
        for _ in range(rng.integers(3, 9)):
            length = int(sr * rng.uniform(0.04, 0.12))
            if pos + length >= len(phrase):
                break
            sweep = np.linspace(0, 1, length)
            f = base * (1 + rng.uniform(-0.3, 0.4) * sweep) \
                * (1 + 0.06 * np.sin(2 * np.pi * rng.uniform(30, 70) * sweep * length / sr))
            phrase[pos:pos + length] += _tone(f, sr) * np.sin(np.pi * sweep) ** 2
            pos += length + int(sr * rng.uniform(0.02, 0.08))
        _place(out, int(t), phrase * rng.uniform(0.3, 1.0))
    return out


def crowd(rng: np.random.Generator, n: int, sr: int) -> np.ndarray:
    out = np.zeros(n)
    for _ in range(16):
        voice = _filt(rng.standard_normal(n), "bandpass", tuple(sorted(
            (rng.uniform(250, 500), rng.uniform(1500, 3200)))), sr, 2)
        syllables = _lfo(rng, n, sr, rng.uniform(3.5, 6.0)) ** 3
        out += voice * syllables
    return out


def traffic(rng: np.random.Generator, n: int, sr: int) -> np.ndarray:
    out = _brown(rng, n, sr) * 0.6
    for start in _times(rng, n, sr, 0.25):
        length = int(sr * rng.uniform(3.0, 6.0))
        u = np.linspace(-1, 1, length)
        engine = _filt(rng.standard_normal(length), "bandpass", (60, 900), sr, 2)
        _place(out, int(start), engine * 1.5 / (1 + 12 * u ** 2))
    for start in _times(rng, n, sr, 0.03):
        length = int(sr * 0.4)
        f = np.full(length, rng.choice([392.0, 440.0]))
        horn = np.sign(_tone(f, sr)) * 0.5 + np.sign(_tone(f * 1.26, sr)) * 0.5
        _place(out, int(start), _filt(horn, "lowpass", 3000, sr, 2) * 0.2)
    return out


def footsteps(rng: np.random.Generator, n: int, sr: int) -> np.ndarray:
    out = _filt(rng.standard_normal(n), "lowpass", 400, sr, 2) * 0.003
    step = 1 / rng.uniform(1.7, 2.1)
    for i, s in enumerate(np.arange(0, n / sr, step)):
        length = int(sr * 0.18)
        thump = _filt(rng.standard_normal(length), "lowpass", 250, sr, 2)
        scuff = _filt(rng.standard_normal(length), "bandpass", (1500, 5000), sr, 2) * 0.25
        hit = (thump + scuff) * _env(length, int(sr * 0.004), sr * 0.08)
        _place(out, int((s + rng.normal(0, 0.01)) * sr) % n, hit * (1.0 if i % 2 else 0.8))
    return out


def clock(rng: np.random.Generator, n: int, sr: int) -> np.ndarray:
    out = rng.standard_normal(n) * 0.0005
    for i, s in enumerate(np.arange(0, n / sr, 1.0)):
        length = int(sr * 0.03)
        centre = 3200.0 if i % 2 == 0 else 2500.0
        tick = _filt(rng.standard_normal(length), "bandpass", (centre * 0.8, centre * 1.25),
                     sr, 2)
        tick = tick * _env(length, 4, sr * 0.012)
        tick += _tone(np.full(length, centre), sr) * _env(length, 4, sr * 0.02) * 0.5
        _place(out, int(s * sr), tick)
    return out


def heartbeat(rng: np.random.Generator, n: int, sr: int) -> np.ndarray:
    out = rng.standard_normal(n) * 0.0003
    period = 60.0 / rng.uniform(62, 76)
    for s in np.arange(0, n / sr, period):
        for delay, level, f in ((0.0, 1.0, 55.0), (0.28, 0.7, 48.0)):
            length = int(sr * 0.15)
            beat = _tone(np.linspace(f * 1.3, f, length), sr) * _env(length, int(sr * 0.01),
                                                                   sr * 0.12)
            _place(out, int((s + delay) * sr), beat * level)
    return out


def whoosh(rng: np.random.Generator, n: int, sr: int) -> np.ndarray:
    """A noise sweep up and back down, its loudness swelling to the middle (a pass-by)."""
    u = np.linspace(0, 1, n)
    bell = np.sin(np.pi * u) ** 2
    return _swept(rng, n, sr, 300 * (1 + 15 * bell)) * bell


def riser(rng: np.random.Generator, n: int, sr: int) -> np.ndarray:
    """Rising noise and a rising tone, growing to the end."""
    u = np.linspace(0, 1, n)
    rise = u ** 2
    f = 200 * 2 ** (5 * u)
    return (_swept(rng, n, sr, 300 * 2 ** (5 * u)) + _tone(f, sr) * 0.3) * (0.05 + rise)


def impact(rng: np.random.Generator, n: int, sr: int) -> np.ndarray:
    """A hit at the start: a falling low sine, a noise burst and a long tail."""
    length = min(n, int(sr * 4.0))
    boom = _tone(np.geomspace(90, 32, length), sr) * _env(length, int(sr * 0.003), sr * 2.5)
    noise = _filt(rng.standard_normal(length), "lowpass", 2500, sr, 2)
    noise *= _env(length, int(sr * 0.002), sr * 0.35) * 0.6
    out = np.zeros(n)
    out[:length] = boom + noise
    return out


def _swept(rng: np.random.Generator, n: int, sr: int, centre: np.ndarray) -> np.ndarray:
    """Noise through a band-pass whose centre follows ``centre`` (blocks of 1,024 frames)."""
    noise = rng.standard_normal(n)
    out = np.zeros(n)
    block = 1024
    window = np.hanning(2 * block)
    for start in range(-block, n, block):
        lo, hi = max(start, 0), min(start + 2 * block, n)
        if hi <= lo:
            continue
        c = float(np.clip(centre[min((lo + hi) // 2, n - 1)], 80, sr * 0.4))
        seg = noise[lo:hi]
        spec = np.fft.rfft(seg)
        f = np.fft.rfftfreq(len(seg), 1 / sr)
        spec *= np.exp(-0.5 * (np.log2(np.maximum(f, 1) / c) / 0.5) ** 2)
        w = window[lo - start:hi - start]
        out[lo:hi] += np.fft.irfft(spec, len(seg)) * w
    return out


# ----------------------------------------------------------------------------------------------
# The catalogue and the words for each sound


@dataclass(frozen=True)
class SoundKind:
    name: str
    recipe: Recipe
    about: str
    words: tuple[str, ...]
    one_shot: bool = False  # shaped over its whole length (a whoosh, a hit); never looped


SOUNDS: dict[str, SoundKind] = {s.name: s for s in (
    SoundKind("rain", rain, "rain: broadband hiss and dense drops",
              ("rain", "rainy", "raining", "drizzle", "lluvia", "llovizna", "lloviendo", "chuva",
               "chuvisco", "chovendo")),
    SoundKind("thunder", thunder, "thunder: low rumbling bursts",
              ("thunder", "thunderstorm", "trueno", "truenos", "tronada", "trovao", "trovoes",
               "trovoada")),
    SoundKind("wind", wind, "wind: gusts of filtered noise",
              ("wind", "windy", "breeze", "gale", "viento", "brisa", "ventarron", "vento",
               "ventania")),
    SoundKind("waves", waves, "waves: swells of surf every 6-9 s",
              ("waves", "wave", "ocean", "sea", "surf", "beach", "shore", "olas", "ola", "mar",
               "oceano", "playa", "ondas", "onda", "praia")),
    SoundKind("fire", fire, "fire: a low roar and crackles",
              ("fire", "campfire", "fireplace", "bonfire", "crackling", "fuego", "hoguera",
               "chimenea", "fogata", "fogo", "fogueira", "lareira")),
    SoundKind("birds", birds, "birdsong: chirps between 2 and 7 kHz",
              ("birds", "bird", "birdsong", "chirping", "pajaros", "pajaro", "aves", "canto",
               "passaros", "passarinhos", "passaro")),
    SoundKind("crowd", crowd, "a crowd murmuring",
              ("crowd", "people", "chatter", "murmur", "audience", "multitud", "gente",
               "publico", "muchedumbre", "multidao", "plateia", "pessoas")),
    SoundKind("traffic", traffic, "city traffic: rumble, passing cars, a horn",
              ("traffic", "city", "cars", "street", "urban", "trafico", "ciudad", "coches",
               "calle", "transito", "cidade", "carros", "rua")),
    SoundKind("footsteps", footsteps, "footsteps, about two a second",
              ("footsteps", "steps", "walking", "pasos", "caminando", "passos", "andando")),
    SoundKind("clock", clock, "a clock ticking once a second",
              ("clock", "ticking", "tick", "tock", "reloj", "tictac", "relogio")),
    SoundKind("heartbeat", heartbeat, "a heartbeat, 62-76 a minute",
              ("heartbeat", "heart", "pulse", "latido", "latidos", "corazon", "batimento",
               "batimentos", "coracao")),
    SoundKind("whoosh", whoosh, "a whoosh: a noise sweep up and down", (
        "whoosh", "swoosh", "swish", "woosh", "zumbido", "silbido", "zunido", "sopro"),
        one_shot=True),
    SoundKind("riser", riser, "a riser: noise and a tone climbing to the end",
              ("riser", "rise", "build-up", "buildup", "uplifter", "subida", "ascenso",
               "subida"), one_shot=True),
    SoundKind("impact", impact, "an impact: a boom with a long tail",
              ("impact", "hit", "boom", "explosion", "slam", "golpe", "impacto", "explosion",
               "estrondo", "pancada", "explosao"), one_shot=True),
)}

# Words that stand for several sounds at once.
COMBOS: dict[str, tuple[str, ...]] = {
    "storm": ("rain", "thunder", "wind"), "tormenta": ("rain", "thunder", "wind"),
    "tempestad": ("rain", "thunder", "wind"), "tempestade": ("rain", "thunder", "wind"),
    "temporal": ("rain", "wind"), "forest": ("birds", "wind"), "bosque": ("birds", "wind"),
    "selva": ("birds", "wind"), "floresta": ("birds", "wind"), "mata": ("birds", "wind"),
}

_WORDS = {w: (s.name,) for s in SOUNDS.values() for w in s.words} | COMBOS


def _fold(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text.lower())
                   if not unicodedata.combining(c))


def sounds_in(text: str) -> tuple[str, ...]:
    """The sounds a request names, in order, each once ("rain and thunder" -> rain, thunder)."""
    found: list[str] = []
    for word in re.findall(r"[a-z][a-z\-]*", _fold(text)):
        for name in _WORDS.get(word, _WORDS.get(word.rstrip("s"), ())):
            if name not in found:
                found.append(name)
    return tuple(found)


# ----------------------------------------------------------------------------------------------
# Making a sound


@dataclass(frozen=True)
class Sound:
    """A made sound: the audio and what it holds (for the ``.json`` written beside it)."""

    audio: Audio
    layers: tuple[str, ...]
    seed: int
    loop: bool
    request: str

    def summary(self) -> dict[str, Any]:
        return {"kind": "sound", "request": self.request, "layers": list(self.layers),
                "seed": self.seed, "loop": self.loop, "seconds": round(self.audio.duration, 3),
                "sample_rate": self.audio.sample_rate}


def _seamless(x: np.ndarray, n: int, fade: int) -> np.ndarray:
    """``x`` has ``n + fade`` frames; its last ``fade`` frames are crossfaded (equal power)
    into its first, so frame n-1 runs into frame 0 as it ran into frame n."""
    out = x[..., :n].copy()
    u = np.linspace(0, np.pi / 2, fade)
    out[..., :fade] = x[..., n:n + fade] * np.cos(u) + x[..., :fade] * np.sin(u)
    return out


def make_sound(request: str, *, duration: float = 10.0, seed: int = 0, loop: bool = False,
               sample_rate: int = SAMPLE_RATE) -> Sound:
    """The sounds named in ``request`` ("rain and thunder", "olas del mar", "um relógio"),
    layered, ``duration`` seconds long, stereo, at -20 LUFS."""
    from ..synth.mastering import measure_loudness

    layers = sounds_in(request)
    if not layers:
        raise ParameterError(f"no sound I can make in {request.strip()[:60]!r}; try one of: "
                             f"{', '.join(SOUNDS)} (or storm, forest)")
    if not 0.1 <= duration <= MAX_SECONDS:
        raise ParameterError(f"a sound lasts 0.1-{MAX_SECONDS:g} seconds, not {duration:g}")
    if loop and all(SOUNDS[name].one_shot for name in layers):
        raise ParameterError(f"{' and '.join(layers)} is a one-shot sound; it cannot loop")
    n = round(duration * sample_rate)
    fade = min(int(LOOP_FADE * sample_rate), n // 4) if loop else 0
    mix = np.zeros((2, n + fade))
    for i, name in enumerate(layers):
        kind = SOUNDS[name]
        sub = np.random.default_rng([seed, i, sum(map(ord, name))])
        # Two channels from one recipe with their own noise: wide, never phasey.
        left = kind.recipe(sub, n + fade, sample_rate)
        right = kind.recipe(np.random.default_rng([seed, i, 7, sum(map(ord, name))]),
                            n + fade, sample_rate)
        mono = (left + right) / 2
        width = 0.6 if not kind.one_shot else 0.3
        layer = np.stack([mono + width * (left - mono), mono + width * (right - mono)])
        layer /= np.sqrt(np.mean(layer ** 2)) + 1e-12
        level = 1.0 if i == 0 else 0.7  # the first named leads
        mix += layer * level
    if loop:
        mix = _seamless(mix, n, fade)
    audio = Audio(mix.astype(np.float32), sample_rate)
    gain = 10 ** ((TARGET_LUFS - measure_loudness(audio)) / 20)
    peak = float(np.max(np.abs(mix))) * gain
    if peak > 0.89:  # -1 dBFS: a plain gain, so a loop stays seamless
        gain *= 0.89 / peak
    return Sound(Audio((mix * gain).astype(np.float32), sample_rate), layers, seed, loop,
                 request.strip())
