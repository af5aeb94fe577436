"""Styles as data: one TOML file per style, read into typed, validated objects.

A style file (``styles/data/<id>.toml``, or any file of the same format a user passes by path)
gives a genre's tempo range, meters, swing, chord-progression pools per section type as Roman
numerals, drum grooves as step grids, bass patterns, default instruments per role, melody
character, form and mix. ``FORMAT.md`` beside this module documents every key. Adding a style
is adding a file.

    >>> from tunecraft.styles import load_style, realize_progression
    >>> rock = load_style("rock")
    >>> [c.symbol for c in realize_progression(rock.progressions("chorus")[0], "E", "major")][:2]
    ['E', 'B']

Nothing is read at import time; files are parsed on first use and cached.
"""

from __future__ import annotations

from .events import (
    DrumEvent,
    NoteEvent,
    bass_events,
    chord_at,
    groove_events,
    rhythm_events,
    swing_time,
    voice_chord,
)
from .loader import all_styles, find_style, load_style, parse_style, style_ids
from .model import (
    COMP_PATTERNS,
    DRUM_VOICES,
    ORNAMENTS,
    SCALES,
    SECTION_FALLBACKS,
    SECTION_TYPES,
    BassPattern,
    DrumSettings,
    DrumVoice,
    FormTemplate,
    Groove,
    HarmonySettings,
    InstrumentDefault,
    MelodyCharacter,
    MixSettings,
    Style,
    StyleError,
    TempoRange,
    parse_meter,
)
from .numerals import NumeralError, parse_numeral, realize, realize_progression, split_slot

__all__ = [
    "COMP_PATTERNS",
    "DRUM_VOICES",
    "ORNAMENTS",
    "SCALES",
    "SECTION_FALLBACKS",
    "SECTION_TYPES",
    "BassPattern",
    "DrumEvent",
    "DrumSettings",
    "DrumVoice",
    "FormTemplate",
    "Groove",
    "HarmonySettings",
    "InstrumentDefault",
    "MelodyCharacter",
    "MixSettings",
    "NoteEvent",
    "NumeralError",
    "Style",
    "StyleError",
    "TempoRange",
    "all_styles",
    "bass_events",
    "chord_at",
    "find_style",
    "groove_events",
    "load_style",
    "parse_meter",
    "parse_numeral",
    "parse_style",
    "realize",
    "realize_progression",
    "rhythm_events",
    "split_slot",
    "style_ids",
    "swing_time",
    "voice_chord",
]
