"""WORLD analysis and synthesis (``pyworld``): the pitch contour, the spectral envelope and
the aperiodicity of a voice, changed and put back together.

Used to move a voice's pitch (SSML ``prosody pitch``, ``convert-voice --pitch``), to warp its
formants (``--formant``: a smaller or larger vocal tract) and to sing (each syllable's pitch
set to its note, its vowel stretched to the note's length).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from ..errors import RenderError

log = logging.getLogger(__name__)

FRAME_MS = 5.0
F0_FLOOR = 60.0
F0_CEIL = 800.0


def _pyworld():
    import warnings

    try:
        with warnings.catch_warnings():  # pyworld imports pkg_resources, deprecated
            warnings.simplefilter("ignore")
            import pyworld
    except ImportError:
        raise RenderError("changing a voice's pitch needs pyworld "
                          "(`pip install tunecraft[voice]`)") from None
    return pyworld


@dataclass(frozen=True, eq=False)
class Analysis:
    """A voice taken apart: F0 per frame (0 where unvoiced), the smooth spectral envelope and
    the aperiodicity per frame, at ``FRAME_MS`` frames."""

    f0: np.ndarray
    sp: np.ndarray
    ap: np.ndarray
    sample_rate: int

    @property
    def frames(self) -> int:
        return int(self.f0.size)


def analyse(x: np.ndarray, sample_rate: int, *, precise: bool = False) -> Analysis:
    """WORLD analysis. ``precise`` uses Harvest for F0 (robust, about 4x slower than DIO
    with StoneMask, which is the default)."""
    pw = _pyworld()
    x = np.ascontiguousarray(x, dtype=np.float64)
    if precise:
        f0, t = pw.harvest(x, sample_rate, f0_floor=F0_FLOOR, f0_ceil=F0_CEIL,
                           frame_period=FRAME_MS)
    else:
        f0, t = pw.dio(x, sample_rate, f0_floor=F0_FLOOR, f0_ceil=F0_CEIL,
                       frame_period=FRAME_MS)
        f0 = pw.stonemask(x, f0, t, sample_rate)
    fft = pw.get_cheaptrick_fft_size(sample_rate, F0_FLOOR)
    sp = pw.cheaptrick(x, f0, t, sample_rate, f0_floor=F0_FLOOR, fft_size=fft)
    ap = pw.d4c(x, f0, t, sample_rate, fft_size=fft)
    return Analysis(f0, sp, ap, sample_rate)


def synthesize(a: Analysis, frames_out: int | None = None) -> np.ndarray:
    """Samples from an analysis (float32), cut or padded to ``frames_out`` samples."""
    pw = _pyworld()
    y = pw.synthesize(np.ascontiguousarray(a.f0, dtype=np.float64),
                      np.ascontiguousarray(a.sp, dtype=np.float64),
                      np.ascontiguousarray(a.ap, dtype=np.float64), a.sample_rate, FRAME_MS)
    y = y.astype(np.float32)
    if frames_out is not None:
        y = y[:frames_out] if y.size >= frames_out else np.pad(y, (0, frames_out - y.size))
    return y


def warp_envelope(sp: np.ndarray, ratio: float) -> np.ndarray:
    """The spectral envelope with its frequency axis scaled by ``ratio`` (>1 moves formants
    up: a smaller vocal tract)."""
    if abs(ratio - 1.0) < 1e-6:
        return sp
    bins = sp.shape[1]
    src = np.arange(bins) / ratio  # the bin each output bin reads
    lo = np.clip(np.floor(src).astype(int), 0, bins - 1)
    hi = np.clip(lo + 1, 0, bins - 1)
    w = np.clip(src - lo, 0.0, 1.0)
    out = sp[:, lo] * (1 - w) + sp[:, hi] * w
    beyond = src > bins - 1
    if beyond.any():  # above the old top: the top bin's level
        out[:, beyond] = sp[:, -1:]
    return np.ascontiguousarray(out)


def shift(x: np.ndarray, sample_rate: int, *, semitones: float = 0.0, formant: float = 1.0,
          precise: bool = False) -> np.ndarray:
    """``x`` with its pitch moved by ``semitones`` and its formants scaled by ``formant``;
    the same length."""
    if x.size == 0 or (abs(semitones) < 1e-6 and abs(formant - 1.0) < 1e-6):
        return np.asarray(x, dtype=np.float32)
    a = analyse(x, sample_rate, precise=precise)
    f0 = a.f0 * 2.0 ** (semitones / 12.0)
    sp = warp_envelope(a.sp, formant)
    return synthesize(Analysis(f0, sp, a.ap, sample_rate), x.size)
