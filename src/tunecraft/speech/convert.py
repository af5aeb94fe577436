"""Voice conversion: another pitch, another vocal tract, or the voice of a reference.

WORLD analysis (Harvest F0, CheapTrick envelope, D4C aperiodicity), then the F0 moved by
semitones and the spectral envelope's frequency axis scaled by the formant ratio, then
synthesis at the input's length. ``like`` measures a reference voice: its F0 (median and
spread, in semitones) and its formant scale against the input (the warp of the input's mean
log envelope that best matches the reference's, searched from 0.75 to 1.33).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import numpy as np

from ..audio import Audio
from ..errors import ParameterError
from . import world

log = logging.getLogger(__name__)

PRESETS = {  # (semitones, formant ratio)
    "higher": (4.0, 1.08),
    "lower": (-4.0, 0.93),
    "child": (8.0, 1.25),
    "deep": (-7.0, 0.85),
}
MAX_SECONDS = 30 * 60.0


@dataclass(frozen=True, eq=False)
class Converted:
    audio: Audio
    semitones: float
    formant: float
    spread: float = 1.0  # the F0's spread around its median, scaled by this

    def summary(self) -> dict:
        return {"pitch_semitones": round(self.semitones, 3), "formant_ratio":
                round(self.formant, 4), "f0_spread": round(self.spread, 3),
                "seconds": round(self.audio.duration, 3), "sample_rate": self.audio.sample_rate}


def _voiced(a: world.Analysis) -> np.ndarray:
    return a.f0 > 0


def _mean_envelope(a: world.Analysis) -> np.ndarray:
    v = _voiced(a)
    frames = a.sp[v] if v.sum() >= 5 else a.sp
    return np.mean(np.log(frames + 1e-20), axis=0)


def formant_scale(a: world.Analysis, ref: world.Analysis) -> float:
    """The envelope warp that makes ``a`` sound most like ``ref``'s vocal tract."""
    target = _mean_envelope(ref)
    best, best_err = 1.0, math.inf
    bins = a.sp.shape[1]
    top = int(bins * 5000 / (a.sample_rate / 2))  # the formant region, to 5 kHz
    for r in np.exp(np.linspace(math.log(0.75), math.log(1.33), 41)):
        warped = world.warp_envelope(np.exp(_mean_envelope(a))[np.newaxis, :], float(r))[0]
        d = np.log(warped + 1e-20)[:top] - target[:top]
        err = float(np.mean((d - d.mean()) ** 2))  # level does not count, shape does
        if err < best_err:
            best, best_err = float(r), err
    return best


def _f0_stats(a: world.Analysis) -> tuple[float, float]:
    v = a.f0[a.f0 > 0]
    if v.size < 5:
        raise ParameterError("no voice was heard (no pitched frames)")
    st = 12 * np.log2(v)
    return float(np.median(st)), float(np.std(st))


def check_request(*, pitch: float | None, formant: float | None, like: bool,
                  to: str | None) -> None:
    """Refuse an impossible conversion before any audio is read."""
    if to is not None and to not in PRESETS:
        raise ParameterError(f"unknown preset {to!r}; choose {', '.join(PRESETS)}")
    if to is not None and like:
        raise ParameterError("give a preset or a reference voice, not both")
    for name, value, lo, hi in (("pitch", pitch, -24.0, 24.0), ("formant", formant, 0.5, 2.0)):
        if value is not None and not (math.isfinite(value) and lo <= value <= hi):
            raise ParameterError(f"{name} {value!r} is outside {lo:g} to {hi:g}")
    if pitch is None and formant is None and not like and to is None:
        raise ParameterError("say how to change the voice: --pitch, --formant, --like or --to")


def convert_voice(audio: Audio, *, pitch: float | None = None, formant: float | None = None,
                  like: Audio | None = None, to: str | None = None) -> Converted:
    """``audio`` (a voice) with its pitch moved by ``pitch`` semitones and its formants scaled
    by ``formant``; or shaped ``like`` a reference voice; or by a preset ``to`` (higher,
    lower, child, deep). Values given beside ``like`` or ``to`` override theirs. Same length
    and sample rate as the input, mono."""
    check_request(pitch=pitch, formant=formant, like=like is not None, to=to)
    if audio.duration > MAX_SECONDS:
        raise ParameterError(f"the audio lasts {audio.duration / 60:.0f} min; at most "
                             f"{MAX_SECONDS / 60:.0f} min are converted at once")
    x = audio.mono().astype(np.float64)
    sr = audio.sample_rate
    if not np.any(x):
        raise ParameterError("the audio is silent: there is no voice to convert")
    a = world.analyse(x, sr, precise=True)
    semis, ratio, spread = 0.0, 1.0, 1.0
    if to is not None:
        semis, ratio = PRESETS[to]
    if like is not None:
        if like.sample_rate != sr:  # one analysis at the input's rate serves both measures
            from ..io.audio import resample

            like = resample(like, sr)
        r = world.analyse(like.mono().astype(np.float64), sr, precise=True)
        m_in, s_in = _f0_stats(a)
        m_ref, s_ref = _f0_stats(r)
        semis = m_ref - m_in
        spread = float(np.clip(s_ref / s_in, 0.25, 4.0)) if s_in > 1e-6 else 1.0
        ratio = formant_scale(a, r)
    if pitch is not None:
        semis = pitch
    if formant is not None:
        ratio = formant
    f0 = a.f0.copy()
    v = f0 > 0
    if v.any():
        st = 12 * np.log2(f0[v])
        centre = float(np.median(st))
        f0[v] = 2.0 ** ((centre + (st - centre) * spread + semis) / 12.0)
    y = world.synthesize(world.Analysis(f0, world.warp_envelope(a.sp, ratio), a.ap, sr),
                         audio.frames)
    # The input's level: the same RMS over the voice.
    rms_in = float(np.sqrt(np.mean(x ** 2)))
    rms_out = float(np.sqrt(np.mean(y.astype(np.float64) ** 2)))
    if rms_out > 0:
        y = y * np.float32(rms_in / rms_out)
    peak = float(np.max(np.abs(y)))
    if peak > 0.999:
        y = y * np.float32(0.999 / peak)
    return Converted(Audio(y[np.newaxis, :], sr), semis, ratio, spread)
