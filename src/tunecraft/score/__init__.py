"""The score model: frozen types in musical time and the transforms over them."""

from __future__ import annotations

from .transforms import concat, merge, quantize, retempo, slice_score, transpose
from .types import (
    CHORD_QUALITIES,
    ROLES,
    SCHEMA,
    TICKS_PER_BEAT,
    Chord,
    KeySignature,
    Note,
    Score,
    Section,
    TempoChange,
    TimeSignature,
    Track,
    note_name,
    parse_pitch_class,
    snap,
)

__all__ = [
    "CHORD_QUALITIES",
    "ROLES",
    "SCHEMA",
    "TICKS_PER_BEAT",
    "Chord",
    "KeySignature",
    "Note",
    "Score",
    "Section",
    "TempoChange",
    "TimeSignature",
    "Track",
    "concat",
    "merge",
    "note_name",
    "parse_pitch_class",
    "quantize",
    "retempo",
    "slice_score",
    "snap",
    "transpose",
]
