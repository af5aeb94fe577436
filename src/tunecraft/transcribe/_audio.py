"""Audio in for the listeners (Basic Pitch, the hum tracker): mono float32 at one rate."""

from __future__ import annotations

import os
from collections.abc import Callable

import numpy as np

from ..audio import Audio
from ..errors import InputFileError, ParameterError


def load_mono(source: str | os.PathLike[str] | Audio, *, sample_rate: int, max_seconds: float,
              too_long: Callable[[str, float], InputFileError], empty: str,
              wants: str) -> tuple[np.ndarray, str]:
    """Mono float32 samples at ``sample_rate`` and a name for messages.

    A file or an :class:`Audio` longer than ``max_seconds`` raises ``too_long(name, seconds)``;
    an empty one ``InputFileError(name, empty)``; anything else than a path or an Audio a
    ParameterError saying what the caller ``wants``.
    """
    if isinstance(source, Audio):
        label = "<audio>"
        if source.frames == 0:
            raise InputFileError(label, empty)
        if source.duration > max_seconds:
            raise too_long(label, source.duration)
        if not np.isfinite(source.samples).all():
            raise InputFileError(label, "the audio holds invalid samples (NaN or infinity)")
        from ..io.audio import resample

        y = resample(Audio(source.samples.mean(axis=0, keepdims=True), source.sample_rate),
                     sample_rate).samples[0]
        return np.ascontiguousarray(y, dtype=np.float32), label
    if not isinstance(source, (str, os.PathLike)):
        raise ParameterError(f"{wants} an audio file path or an Audio, got "
                             f"{type(source).__name__}")
    from ..io.audio import read_audio
    from ..io.files import check_input

    check_input(source)
    try:  # the length from the header, before decoding a long file
        import soundfile

        seconds = float(soundfile.info(str(source)).duration)
    except Exception:
        seconds = None
    if seconds is not None and seconds > max_seconds:
        raise too_long(str(source), seconds)
    audio = read_audio(source, sample_rate=sample_rate, mono=True, max_seconds=max_seconds)
    if audio.frames == 0:
        raise InputFileError(source, empty)
    return np.ascontiguousarray(audio.samples[0], dtype=np.float32), str(source)
