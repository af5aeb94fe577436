"""Audio: float32 samples shaped ``[channels, frames]`` and a sample rate."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .errors import ParameterError


@dataclass(frozen=True, eq=False)
class Audio:
    """An immutable block of audio. ``samples`` is float32 ``[channels, frames]``, read-only."""

    samples: np.ndarray
    sample_rate: int = 44100

    def __post_init__(self) -> None:
        s = np.asarray(self.samples, dtype=np.float32)
        if s.ndim == 1:
            s = s[np.newaxis, :]
        if s.ndim != 2 or s.shape[0] < 1:
            raise ParameterError(f"audio must be [channels, frames], got shape {s.shape}")
        if not isinstance(self.sample_rate, int) or not 1000 <= self.sample_rate <= 384000:
            raise ParameterError(f"sample rate {self.sample_rate!r} is outside 1000-384000 Hz")
        # The Audio takes ownership: the array is made read-only rather than copied, so large
        # renders are not held twice. Callers hand over arrays they no longer write to.
        if not s.flags.c_contiguous:
            s = np.ascontiguousarray(s)
        s.setflags(write=False)
        object.__setattr__(self, "samples", s)

    @property
    def channels(self) -> int:
        return int(self.samples.shape[0])

    @property
    def frames(self) -> int:
        return int(self.samples.shape[1])

    @property
    def duration(self) -> float:
        """Length in seconds."""
        return self.frames / self.sample_rate

    @property
    def peak(self) -> float:
        """Largest absolute sample value (1.0 is full scale)."""
        return float(np.max(np.abs(self.samples))) if self.frames else 0.0

    def to_stereo(self) -> Audio:
        if self.channels == 2:
            return self
        if self.channels == 1:
            return Audio(np.repeat(self.samples, 2, axis=0), self.sample_rate)
        return Audio(self.samples[:2], self.sample_rate)

    def mono(self) -> np.ndarray:
        return self.samples.mean(axis=0)

    @staticmethod
    def silence(seconds: float, sample_rate: int = 44100, channels: int = 2) -> Audio:
        return Audio(np.zeros((channels, round(seconds * sample_rate)), np.float32), sample_rate)
