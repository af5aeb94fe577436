"""A zero-dependency additive synthesizer (numpy only).

Each note is a few harmonics under an ADSR envelope; the General MIDI family of the track's
program picks the harmonic recipe and envelope (plucked families decay while held, pads swell).
Drums are short deterministic noise bursts and pitched thumps chosen by drum key. Sample-accurate
and fast: one numpy expression per distinct note, cached within a track.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from ...gm import FAMILIES
from ...score import Score, Track
from .base import Backend, NoteSpan, note_spans

LEVEL = 0.25  # peak of one note at full velocity


def probe(*, default_font: bool = True) -> str | None:
    """Why this backend cannot run here (never: it needs only numpy)."""
    return None


@dataclass(frozen=True, slots=True)
class Timbre:
    """Harmonic amplitudes and envelope (seconds; ``hold_decay`` is a time constant)."""

    harmonics: tuple[float, ...]
    attack: float
    decay: float
    sustain: float
    release: float
    hold_decay: float | None = None


_SAW = (1.0, 0.5, 0.33, 0.25, 0.2, 0.16)
_TIMBRES: dict[str, Timbre] = {
    "piano": Timbre((1.0, 0.45, 0.25, 0.12, 0.06), 0.003, 0.3, 0.45, 0.15, 1.5),
    "chromatic percussion": Timbre((1.0, 0.05, 0.3, 0.0, 0.1), 0.001, 0.1, 0.3, 0.3, 0.7),
    "organ": Timbre((1.0, 0.7, 0.5, 0.3, 0.2, 0.1), 0.01, 0.02, 0.9, 0.05),
    "guitar": Timbre((1.0, 0.5, 0.3, 0.2, 0.1), 0.002, 0.2, 0.35, 0.1, 1.2),
    "bass": Timbre((1.0, 0.55, 0.2, 0.1), 0.004, 0.15, 0.7, 0.06, 2.5),
    "strings": Timbre(_SAW, 0.08, 0.1, 0.85, 0.25),
    "ensemble": Timbre(_SAW, 0.12, 0.1, 0.85, 0.3),
    "brass": Timbre((1.0, 0.8, 0.6, 0.4, 0.25, 0.15), 0.03, 0.1, 0.8, 0.1),
    "reed": Timbre((1.0, 0.2, 0.6, 0.15, 0.35, 0.1), 0.02, 0.05, 0.85, 0.08),
    "pipe": Timbre((1.0, 0.15, 0.05), 0.04, 0.05, 0.9, 0.1),
    "synth lead": Timbre(_SAW[:5], 0.005, 0.05, 0.8, 0.08),
    "synth pad": Timbre((1.0, 0.4, 0.2, 0.1), 0.3, 0.2, 0.8, 0.5),
    "synth effects": Timbre((1.0, 0.3, 0.3, 0.2), 0.1, 0.3, 0.6, 0.4),
    "ethnic": Timbre((1.0, 0.6, 0.4, 0.3, 0.1), 0.002, 0.2, 0.3, 0.15, 1.0),
    "percussive": Timbre((1.0, 0.2, 0.1), 0.001, 0.1, 0.2, 0.15, 0.4),
    "sound effects": Timbre((1.0, 0.5, 0.5, 0.5), 0.05, 0.1, 0.7, 0.2),
}


def _tone(freq: float, hold: int, timbre: Timbre, amp: float, sr: int) -> np.ndarray:
    """One note: ``hold`` frames held, then its release."""
    rel = max(1, round(timbre.release * sr))
    n = hold + rel
    t = np.arange(n, dtype=np.float64) / sr
    a, d = timbre.attack, timbre.decay
    env = np.interp(t, (0.0, a, a + d), (0.0, 1.0, timbre.sustain))
    if timbre.hold_decay is not None:
        env *= np.exp(-t / timbre.hold_decay)
    level = env[hold - 1] if hold > 0 else 0.0
    x = np.linspace(0.0, 1.0, rel, endpoint=False)
    env[hold:] = level * (1.0 - x) ** 2
    wave = np.zeros(n, dtype=np.float64)
    phase = 2.0 * np.pi * freq * t
    for k, h in enumerate(timbre.harmonics, start=1):
        if k * freq >= 0.45 * sr:
            break
        wave += h * np.sin(k * phase)
    norm = sum(timbre.harmonics) ** 0.5
    return (wave * env * (amp / norm)).astype(np.float32)


def _drum(key: int, sr: int) -> np.ndarray:
    """A one-shot drum sound at full velocity for a General MIDI drum key."""
    rng = np.random.default_rng(key)

    def span(seconds: float) -> np.ndarray:
        return np.arange(round(seconds * sr), dtype=np.float64) / sr

    def noise(t: np.ndarray, bright: bool = False) -> np.ndarray:
        w = rng.standard_normal(t.size)
        return np.diff(w, prepend=0.0) * 0.5 if bright else w

    def thump(t: np.ndarray, f_lo: float, f_hi: float, sweep: float) -> np.ndarray:
        f = f_lo + (f_hi - f_lo) * np.exp(-t / sweep)
        return np.sin(2.0 * np.pi * np.cumsum(f) / sr)

    if key in (35, 36):  # kick
        t = span(0.45)
        x = thump(t, 48.0, 150.0, 0.035) * np.exp(-t / 0.22)
        x += noise(t) * np.exp(-t / 0.004) * 0.3
    elif key in (38, 40):  # snare
        t = span(0.35)
        x = noise(t) * np.exp(-t / 0.11) * 0.55 + thump(t, 180.0, 240.0, 0.01) * np.exp(
            -t / 0.07) * 0.6
    elif key == 37:  # side stick
        t = span(0.08)
        x = noise(t, True) * np.exp(-t / 0.01) + thump(t, 400.0, 500.0, 0.005) * np.exp(-t / 0.02)
    elif key == 39:  # hand clap: three quick bursts and a short tail
        t = span(0.3)
        gate = sum(np.exp(-np.clip(t - d, 0, None) / 0.006) * (t >= d) for d in (0, 0.011, 0.023))
        x = noise(t, True) * (gate * 0.6 + np.exp(-t / 0.08) * 0.4)
    elif key in (42, 44):  # closed / pedal hi-hat
        t = span(0.12)
        x = noise(t, True) * np.exp(-t / 0.025) * 0.7
    elif key == 46:  # open hi-hat
        t = span(0.7)
        x = noise(t, True) * np.exp(-t / 0.22) * 0.6
    elif key in (49, 52, 55, 57):  # crashes
        t = span(2.5)
        x = noise(t, True) * np.exp(-t / 0.8) * 0.6
    elif key in (51, 53, 59):  # rides
        t = span(1.5)
        x = noise(t, True) * np.exp(-t / 0.5) * 0.35 + np.sin(2 * np.pi * 3100.0 * t) * np.exp(
            -t / 0.4) * 0.15
    elif key in (41, 43, 45, 47, 48, 50):  # toms, low to high
        t = span(0.5)
        f0 = 70.0 * 2.0 ** ((key - 41) / 9.0)
        x = thump(t, f0, f0 * 1.6, 0.02) * np.exp(-t / 0.2) + noise(t) * np.exp(-t / 0.01) * 0.2
    else:  # hand percussion, bells, blocks: a short pitched tick
        t = span(0.25)
        f0 = 440.0 * 2.0 ** ((key + 12 - 69) / 12.0)
        x = np.sin(2 * np.pi * f0 * t) * np.exp(-t / 0.06) * 0.6 + noise(t, True) * np.exp(
            -t / 0.015) * 0.4
    return (x * LEVEL * 1.6).astype(np.float32)


class SineBackend(Backend):
    """Additive synthesis with numpy: no SoundFont, no native library."""

    name: ClassVar[str] = "sine"
    thread_safe: ClassVar[bool] = True

    def render_track(self, score: Score, track: Track, *, frames: int) -> np.ndarray:
        sr = self.sample_rate
        out = np.zeros(frames, dtype=np.float32)
        spans = note_spans(score, track, sr)
        cache: dict[tuple[int, ...], np.ndarray] = {}
        timbre = _TIMBRES[FAMILIES[track.program // 8]]
        for s in spans:
            if s.start >= frames:
                continue
            wave = self._drum_hit(s, cache) if track.is_drum else self._note(s, timbre, cache)
            stop = min(frames, s.start + wave.size)
            out[s.start:stop] += wave[: stop - s.start]
        return np.stack((out, out))

    def _note(self, s: NoteSpan, timbre: Timbre, cache: dict[tuple[int, ...], np.ndarray],
              ) -> np.ndarray:
        key = (s.pitch, s.velocity, s.end - s.start)
        wave = cache.get(key)
        if wave is None:
            freq = 440.0 * 2.0 ** ((s.pitch - 69) / 12.0)
            amp = LEVEL * (s.velocity / 127.0) ** 1.5
            wave = cache[key] = _tone(freq, s.end - s.start, timbre, amp, self.sample_rate)
        return wave

    def _drum_hit(self, s: NoteSpan, cache: dict[tuple[int, ...], np.ndarray]) -> np.ndarray:
        key = (s.pitch, s.velocity)
        wave = cache.get(key)
        if wave is None:
            base = cache.get((s.pitch,))
            if base is None:
                base = cache[(s.pitch,)] = _drum(s.pitch, self.sample_rate)
            wave = cache[key] = base * np.float32((s.velocity / 127.0) ** 1.5)
        return wave
