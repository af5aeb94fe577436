"""Speaking: text or SSML to a voice recording, levelled like a podcast (-16 LUFS).

Each :class:`~.ssml.Segment` is spoken by the voice for its language (:mod:`.engines`): its
``rate`` sets the voice's speed (piper's length scale, espeak-ng's words per minute), its
``pitch`` moves it by WORLD (:mod:`.world`), its ``volume`` is a gain, and its ``pause`` is
silence after it. The whole is mastered to :data:`SPEECH_LUFS` with peaks under -1 dBTP.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from ..audio import Audio
from ..errors import ParameterError
from .engines import SAMPLE_RATE, Voice, say, voice_for, voice_named
from .ssml import Segment, parse_ssml

log = logging.getLogger(__name__)

SPEECH_LUFS = -16.0
SAMPLE_RATES = (22050, 44100)
MAX_RATE = 4.0
MIN_RATE = 0.25


@dataclass(frozen=True, eq=False)
class Speech:
    """Spoken audio and what was said: the voices used, each segment's text and start time
    (seconds), and the SSML marks' times."""

    audio: Audio
    voices: tuple[str, ...]
    segments: tuple[dict, ...]
    marks: dict[str, float] = field(default_factory=dict)

    def summary(self) -> dict:
        return {"voices": list(self.voices), "seconds": round(self.audio.duration, 3),
                "sample_rate": self.audio.sample_rate, "loudness_lufs": SPEECH_LUFS,
                "segments": list(self.segments), "marks": self.marks}


def check_rate(rate: float) -> float:
    if not (isinstance(rate, int | float) and math.isfinite(rate)
            and MIN_RATE <= rate <= MAX_RATE):
        raise ParameterError(f"speaking rate {rate!r} is outside {MIN_RATE:g}-{MAX_RATE:g} "
                             "(1 is the voice's own speed)")
    return float(rate)


def check_sample_rate(sample_rate: int) -> int:
    if sample_rate not in SAMPLE_RATES:
        raise ParameterError(f"speech is written at 22050 or 44100 Hz, not {sample_rate!r}")
    return int(sample_rate)


def _segment_voice(seg: Segment, default: Voice | None) -> Voice:
    """The voice for a segment: the one SSML names (in its own language when the segment's
    differs: ``<voice name="es">`` inside English text speaks Spanish), else the request's
    voice for its language, else the best voice for the segment's language."""
    if seg.voice is not None:
        return voice_named(seg.voice)
    if default is not None and default.lang == seg.lang:
        return default
    return voice_for(seg.lang)


def speak(text: str, *, lang: str = "en", voice: str | None = None, rate: float = 1.0,
          sample_rate: int = SAMPLE_RATE, progress: Callable[[int, int], None] | None = None
          ) -> Speech:
    """Speak ``text`` (plain, or SSML when it starts with ``<``) in ``lang`` ("en", "es",
    "pt") with ``voice`` (a name from :func:`~.engines.voices`; default the best for the
    language) at ``rate`` times the voice's speed."""
    rate = check_rate(rate)
    sample_rate = check_sample_rate(sample_rate)
    default = voice_for(lang, voice)  # checks the language and the voice first
    segments = parse_ssml(text, lang=lang)  # a voice in a segment is one SSML names
    from . import world

    pieces: list[np.ndarray] = []
    used: list[str] = []
    said: list[dict] = []
    marks: dict[str, float] = {}
    at = 0
    for i, seg in enumerate(segments):
        if seg.mark is not None:
            marks[seg.mark] = round(at / SAMPLE_RATE, 3)
        if seg.text.strip():
            v = _segment_voice(seg, default)
            y = trim(say(seg.text, v, rate=min(max(seg.rate * rate, 0.1), 10.0)))
            if abs(seg.pitch) > 1e-6:
                y = world.shift(y, SAMPLE_RATE, semitones=seg.pitch)
            if seg.volume != 0.0:
                y = y * np.float32(10.0 ** (seg.volume / 20.0)) if seg.volume > -90 \
                    else np.zeros_like(y)
            said.append({"text": seg.text, "voice": v.name, "lang": seg.lang,
                         "start": round(at / SAMPLE_RATE, 3),
                         "seconds": round(y.size / SAMPLE_RATE, 3)})
            if v.name not in used:
                used.append(v.name)
            pieces.append(y.astype(np.float32, copy=False))
            at += y.size
        if seg.pause > 0:
            n = round(seg.pause * SAMPLE_RATE)
            pieces.append(np.zeros(n, np.float32))
            at += n
        if progress is not None:
            progress(i + 1, len(segments))
    y = np.concatenate(pieces) if pieces else np.zeros(0, np.float32)
    if not np.any(y):
        raise ParameterError("there is nothing to speak (the text is silent or only pauses)")
    audio = _levelled(Audio(y[np.newaxis, :], SAMPLE_RATE), sample_rate)
    return Speech(audio, tuple(used), tuple(said), marks)


def trim(y: np.ndarray, *, floor_db: float = -45.0, keep_s: float = 0.03) -> np.ndarray:
    """``y`` without the silence a voice leaves before and after the words (frames of 10 ms
    more than ``floor_db`` under the peak), keeping ``keep_s`` each side: a break then lasts
    what it says."""
    frame = SAMPLE_RATE // 100
    n = y.size // frame
    if n < 3:
        return y
    e = np.sqrt(np.mean(y[:n * frame].reshape(n, frame).astype(np.float64) ** 2, axis=1))
    loud = np.flatnonzero(e > e.max() * 10 ** (floor_db / 20))
    if loud.size == 0:
        return y
    keep = int(keep_s * SAMPLE_RATE)
    a = max(0, loud[0] * frame - keep)
    b = min(y.size, (loud[-1] + 1) * frame + keep)
    return y[a:b]


def _levelled(audio: Audio, sample_rate: int) -> Audio:
    from ..io.audio import resample
    from ..synth.mastering import master

    if sample_rate != audio.sample_rate:
        audio = resample(audio, sample_rate)
    return master(audio, target_lufs=SPEECH_LUFS, ceiling_dbtp=-1.0)
