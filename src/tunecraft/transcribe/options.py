"""Settings of one transcription and what it gives back."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from ..errors import ParameterError
from ..score.types import TICKS_PER_BEAT, Score

#: Longest audio :func:`~tunecraft.transcribe.transcribe` accepts by default (20 minutes).
MAX_SECONDS = 1200.0


def _number(name: str, value: object, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ParameterError(f"transcribe option {name} must be a number, got {value!r}")
    if not low <= value <= high:
        raise ParameterError(f"transcribe option {name}={value:g} is outside {low:g} to {high:g}")
    return float(value)


def _flag(name: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise ParameterError(f"transcribe option {name} must be True or False, got {value!r}")
    return value


@dataclass(frozen=True, kw_only=True)
class TranscribeOptions:
    """How to turn audio into notes.

    Detection (Basic Pitch's own knobs):
        onset_threshold: how sure the model must be that a note starts (0-1). Higher: fewer,
            surer notes.
        frame_threshold: how sure it must be that a note still sounds (0-1); a note ends when
            its activation stays below this.
        min_note_ms: notes shorter than this are dropped (milliseconds).
        pitch_bends: also estimate each note's pitch-bend curve (``Transcription.pitch_bends``;
            the score itself holds no bends).
        min_pitch, max_pitch: the MIDI pitch range kept (21-108 is the piano).

    Cleaning (see :mod:`tunecraft.transcribe.postprocess`; ``clean=False`` keeps the raw
    output):
        clean: remove ghost notes, harmonics and re-triggers, and merge fragments.
        merge_gap_ms: a note split by a gap this short, with no new attack, is joined.
        retrigger_ms: a second start of the same pitch this soon after the first is a duplicate.
        harmonic_ratio: an octave/twelfth/double-octave note that starts with a lower note is
            dropped when its strength is below this fraction of the lower note's.
        relative_floor: a note weaker than this fraction of the strongest note sounding
            around it is a ghost.

    Time:
        bpm: the tempo to write; None estimates it from the audio.
        quantize: snap starts and ends to ``grid`` beats when the notes fit such a grid.
        grid: the quantization step in beats (0.25 is a sixteenth note).
        max_seconds: refuse audio longer than this.
    """

    onset_threshold: float = 0.6
    frame_threshold: float = 0.3
    min_note_ms: float = 80.0
    pitch_bends: bool = False
    min_pitch: int = 21
    max_pitch: int = 108
    clean: bool = True
    merge_gap_ms: float = 60.0
    retrigger_ms: float = 90.0
    harmonic_ratio: float = 0.6
    relative_floor: float = 0.5
    bpm: float | None = None
    quantize: bool = True
    grid: float = 0.25
    max_seconds: float = MAX_SECONDS

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        set_(self, "onset_threshold", _number("onset_threshold", self.onset_threshold, 0.01, 0.99))
        set_(self, "frame_threshold", _number("frame_threshold", self.frame_threshold, 0.01, 0.99))
        set_(self, "min_note_ms", _number("min_note_ms", self.min_note_ms, 0.0, 2000.0))
        set_(self, "merge_gap_ms", _number("merge_gap_ms", self.merge_gap_ms, 0.0, 500.0))
        set_(self, "retrigger_ms", _number("retrigger_ms", self.retrigger_ms, 0.0, 500.0))
        set_(self, "harmonic_ratio", _number("harmonic_ratio", self.harmonic_ratio, 0.0, 10.0))
        set_(self, "relative_floor", _number("relative_floor", self.relative_floor, 0.0, 1.0))
        set_(self, "max_seconds", _number("max_seconds", self.max_seconds, 1.0, 24 * 3600.0))
        _flag("pitch_bends", self.pitch_bends)
        _flag("clean", self.clean)
        _flag("quantize", self.quantize)
        for name in ("min_pitch", "max_pitch"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or not 21 <= v <= 108:
                raise ParameterError(f"transcribe option {name}={v!r} must be a MIDI pitch "
                                     "from 21 (A0) to 108 (C8)")
        if self.min_pitch > self.max_pitch:
            raise ParameterError(f"transcribe option min_pitch={self.min_pitch} is above "
                                 f"max_pitch={self.max_pitch}")
        if self.bpm is not None:
            set_(self, "bpm", _number("bpm", self.bpm, 20.0, 400.0))
        grid = _number("grid", self.grid, 1.0 / TICKS_PER_BEAT, 4.0)
        set_(self, "grid", grid)

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


@dataclass(frozen=True)
class Transcription:
    """The result of :func:`~tunecraft.transcribe.transcribe`.

    Attributes:
        score: one track of the notes heard, in beats at ``bpm`` (``TempoChange(0, bpm)``,
            plus a lead-in tempo for the first beat when the grid is shifted; see
            :func:`~tunecraft.transcribe.transcribe`).
        bpm: the tempo used (estimated unless given in the options).
        notes_raw: notes Basic Pitch found before cleaning.
        notes_kept: notes in the score.
        seconds: length of the audio in seconds.
        quantized: whether the notes were snapped to the grid.
        tempo_fit: how well the note starts fit the beat grid, 0 (not at all) to 1 (exactly).
        removed: notes removed by each cleaning rule, by rule name.
        pitch_bends: with ``pitch_bends=True``, one tuple per note of ``score.tracks[0].notes``
            (same order): the bend in semitones at evenly spaced times from the note's start to
            its end (Basic Pitch's resolution is a third of a semitone). Otherwise None.
    """

    score: Score
    bpm: float
    notes_raw: int
    notes_kept: int
    seconds: float
    quantized: bool = False
    tempo_fit: float = 0.0
    removed: tuple[tuple[str, int], ...] = ()
    pitch_bends: tuple[tuple[float, ...], ...] | None = None

    def summary(self) -> str:
        return (f"{self.notes_kept} notes ({self.notes_raw} detected) in {self.seconds:.1f} s "
                f"at {self.bpm:.1f} bpm" + (", quantized" if self.quantized else ""))
