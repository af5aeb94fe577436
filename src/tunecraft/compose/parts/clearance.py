"""The accompaniment yields to the tune: an arranger's clean-up once every part is written.

Two rules, both from how real accompaniments sit under a melody (in Bach's chorales the soprano
is the top voice 99% of the time, and a semitone rub against it sounds at 4% of its notes):

1. **Under the tune.** A note of a chord, pad, string, arpeggio or counter-line part that
   would sound above the tune while the tune plays moves down by octaves until it is under it.
   If that would take it below the part's floor, the voice is left out: a chord that loses one
   voice still sounds, a line that sits over the singer does not.
2. **No semitone rubs.** Where the tune sounds a minor 2nd or a minor 9th against an
   accompanying note (the tune's passing F over a held E), that voice stops where the tune
   note begins. A struck chord does not resume the voice; a pad or string chord takes it back
   when the tune has moved on and at least a beat of the chord is left. The harmony stays
   what it was: the voice is dropped, not moved to another note.

The bass is not touched (it carries the harmony; a tune note a semitone over the root is the
tune's business), nor are drums and pitched percussion.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence

from ...score import Note
from ...score.types import EPS

#: Roles that yield to the tune.
YIELDING_ROLES = frozenset({"counter", "chords", "harmony", "pad", "strings", "arp"})
_SUSTAINED = frozenset({"pad", "strings"})
_RUBS = (1, 13)  # semitones: a minor 2nd, a minor 9th
_MIN_PIECE = 0.125  # beats: a shorter remainder of a note is not worth sounding
_MIN_TAIL = 1.0  # beats of a held chord worth taking back after the tune has moved on


class _Tune:
    """The tune's notes by onset, to find the ones sounding over a stretch of time."""

    def __init__(self, tune: Sequence[Note]) -> None:
        self.notes = sorted(tune, key=lambda n: (n.start, n.pitch))
        self.starts = [n.start for n in self.notes]
        self.longest = max((n.duration for n in self.notes), default=0.0)

    def over(self, start: float, end: float) -> list[Note]:
        """The tune notes that sound during [start, end)."""
        lo = bisect.bisect_left(self.starts, start - self.longest - EPS)
        hi = bisect.bisect_left(self.starts, end - EPS)
        return [n for n in self.notes[lo:hi] if n.end > start + EPS and n.start < end - EPS]


def clear_of_tune(notes: Sequence[Note], tune: Sequence[Note], *, role: str,
                  floor: int) -> tuple[Note, ...]:
    """``notes`` of an accompanying part, kept under ``tune`` and free of semitone rubs
    against it (see the module's rules). ``floor`` is the lowest pitch an octave-lowered
    note may take. Parts in other roles, or with no tune, come back unchanged."""
    if role not in YIELDING_ROLES or not tune or not notes:
        return tuple(notes)
    melody = _Tune(tune)
    out: list[Note] = []
    for note in notes:
        over = melody.over(note.start, note.end)
        if not over:
            out.append(note)
            continue
        pitch = note.pitch
        lowest = min(n.pitch for n in over)
        while pitch > lowest:
            pitch -= 12
        if pitch < floor:
            continue
        clashes = [n for n in over if n.pitch - pitch in _RUBS]
        if not clashes:
            out.append(note if pitch == note.pitch else _moved(note, pitch, note.start, note.end))
            continue
        first = min(n.start for n in clashes)
        if first - note.start >= _MIN_PIECE:
            out.append(_moved(note, pitch, note.start, first))
        if role in _SUSTAINED:
            resume = max(n.end for n in clashes)
            if note.end - resume >= _MIN_TAIL and not any(
                    n.pitch - pitch in _RUBS for n in melody.over(resume, note.end)):
                out.append(_moved(note, pitch, resume, note.end))
    return _without_doublings(out)


def _moved(note: Note, pitch: int, start: float, end: float) -> Note:
    return Note(pitch, start, end - start, note.velocity, note.lyric)


def _without_doublings(notes: list[Note]) -> tuple[Note, ...]:
    """One note per pitch and onset: a voice lowered an octave may land on another voice."""
    seen: set[tuple[int, int]] = set()
    out = []
    for n in sorted(notes, key=lambda n: (n.start, n.pitch, -n.duration)):
        key = (n.pitch, round(n.start * 960))
        if key not in seen:
            seen.add(key)
            out.append(n)
    return tuple(out)
