"""Settings of one render and what a render gives back."""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from ..audio import Audio
from ..errors import ParameterError

BACKEND_NAMES = ("fluidsynth", "tinysoundfont", "sine")
"""Synthesizer backends in order of preference (best sound first)."""


def _check_range(name: str, value: object, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ParameterError(f"render option {name} must be a number, got {value!r}")
    if not low <= value <= high:
        raise ParameterError(f"render option {name}={value:g} is outside {low:g} to {high:g}")
    return float(value)


@dataclass(frozen=True, kw_only=True)
class RenderOptions:
    """How to turn a score into audio.

    Attributes:
        backend: "auto" (fluidsynth, else tinysoundfont, else sine) or one backend by name.
        soundfont: a .sf2/.sf3 file for the SoundFont backends; None uses the backend's default
            General MIDI font.
        sample_rate: output sample rate in Hz.
        reverb: reverb send 0-1 (scaled per track by its role: drums and bass drier, pads and
            strings wetter).
        chorus: chorus mix 0-1 for melodic tracks (0 turns chorus off).
        master: loudness-normalise and limit the mix; False returns the raw sum of the stems.
        target_lufs: integrated loudness of the mastered mix (EBU R128), in LUFS.
        ceiling_dbtp: true-peak ceiling of the mastered mix, in dBTP.
        tail_seconds: time after the end of the score for releases and reverb to ring out.
    """

    backend: str = "auto"
    soundfont: str | None = None
    sample_rate: int = 44100
    reverb: float = 0.2
    chorus: float = 0.0
    master: bool = True
    target_lufs: float = -14.0
    ceiling_dbtp: float = -1.0
    tail_seconds: float = 1.75

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        if not isinstance(self.backend, str) or self.backend not in ("auto", *BACKEND_NAMES):
            raise ParameterError(f"unknown render backend {self.backend!r} "
                                 f"(choose auto, {', '.join(BACKEND_NAMES)})")
        if self.soundfont is not None:
            if not isinstance(self.soundfont, (str, os.PathLike)) or not str(self.soundfont):
                raise ParameterError(f"soundfont must be a file path, got {self.soundfont!r}")
            set_(self, "soundfont", os.fspath(self.soundfont))
        if (isinstance(self.sample_rate, bool) or not isinstance(self.sample_rate, int)
                or not 8000 <= self.sample_rate <= 192000):
            raise ParameterError(f"sample rate {self.sample_rate!r} must be a whole number of "
                                 "Hz from 8000 to 192000")
        if not isinstance(self.master, bool):
            raise ParameterError(f"render option master must be True or False, got "
                                 f"{self.master!r}")
        set_(self, "reverb", _check_range("reverb", self.reverb, 0.0, 1.0))
        set_(self, "chorus", _check_range("chorus", self.chorus, 0.0, 1.0))
        set_(self, "target_lufs", _check_range("target_lufs", self.target_lufs, -60.0, -3.0))
        set_(self, "ceiling_dbtp", _check_range("ceiling_dbtp", self.ceiling_dbtp, -20.0, 0.0))
        set_(self, "tail_seconds", _check_range("tail_seconds", self.tail_seconds, 0.0, 30.0))


@dataclass(frozen=True)
class Rendered:
    """The result of :func:`~tunecraft.synth.render_stems`.

    Attributes:
        mix: the mastered stereo mix (the premaster itself when mastering is off).
        premaster: the sum of the stems (to float32 rounding), before loudness normalisation
            and limiting.
        stems: each track's processed signal (dry plus its own reverb), keyed by unique track
            name, all of the same length as the mix. A render computes each stem when it is
            first asked for (``dict(rendered.stems)`` makes them all).
        backend: the synthesizer that rendered the notes.
        soundfont: the file name of the SoundFont it played ("" for the sine backend).
    """

    mix: Audio
    premaster: Audio
    stems: Mapping[str, Audio] = field(default_factory=dict)
    backend: str = ""
    soundfont: str = ""

    @property
    def renderer(self) -> str:
        """What played the notes, as the bundle records it: "fluidsynth
        (MuseScore_General_Full.sf2)". Same seed, other SoundFont: other audio."""
        return f"{self.backend} ({self.soundfont})" if self.soundfont else self.backend

    @property
    def sample_rate(self) -> int:
        return self.mix.sample_rate

    @property
    def duration(self) -> float:
        return self.mix.duration
