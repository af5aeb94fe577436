"""What an excluded word means ("no drums", "sin voz", "sem guitarra"): which tracks it rules
out. The composer leaves those instruments out and the self-check verifies it, with one rule."""

from __future__ import annotations

from typing import Any

from ..gm import FAMILIES, program_family
from ..score.types import Track

# Excluded words that name more than a GM family: program sets and roles per word.
_VOCAL_PROGRAMS = frozenset({52, 53, 54})  # Choir Aahs, Voice Oohs, Synth Voice
_STRING_PROGRAMS = frozenset(range(40, 47)) | frozenset(range(48, 52))  # not Timpani (47)
_EXCLUSION_ALIASES = {"vocals": "vocal", "voice": "vocal", "voices": "vocal", "drum": "drums",
                      "kit": "drums", "pianos": "piano", "guitars": "guitar"}


def is_kit(track: Track) -> bool:
    """A drum kit (not a percussion part such as timpani or congas)."""
    return track.is_drum and track.role != "percussion"


def excluded_by(term: str, track: Track) -> bool:
    """Whether ``track`` is what an excluded word (name, family or role) names."""
    term = _EXCLUSION_ALIASES.get(term, term)
    if term == "drums":
        return is_kit(track)
    if term == "percussion":
        return (track.is_drum and track.role == "percussion") or track.role == "percussion"
    if track.role == term:
        return True
    if term == "vocal":
        return (not track.is_drum and track.program in _VOCAL_PROGRAMS) or any(
            n.lyric for n in track.notes)
    if track.is_drum:
        return False
    if term == "strings":
        return track.program in _STRING_PROGRAMS
    if term in FAMILIES:
        return program_family(track.program) == term
    entry = _lexicon_instrument(term)
    if entry is not None:
        return not entry["drum"] and track.program == entry["program"]
    return track.name.strip().lower() == term


def _lexicon_instrument(name: str) -> dict[str, Any] | None:
    from ..understand import lexicon

    return lexicon.load().instruments.get(name)
