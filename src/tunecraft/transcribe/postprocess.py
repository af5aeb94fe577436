"""Cleaning raw Basic Pitch notes: framework-free rules on note lists (numpy at most).

Raw Basic Pitch output on clean synthesized piano holds up to two notes per real one. The
ghosts have recognisable shapes, and each rule below removes one shape. They run in this order
on notes in seconds (:class:`RawNote`); every threshold is a field of
:class:`~tunecraft.transcribe.TranscribeOptions` or a module constant here:

1. ``fragments`` (``merge_gap_ms`` = 60): a note of the same pitch starting at most this long
   after another ends (or while it still sounds), **without a new attack** (its onset activation
   below ``ATTACK_RATIO`` = 0.8 of the first note's), continues it: the two become one note.
   Real repeated notes have attacks as strong as the first and are kept apart.
2. ``retriggers`` (``retrigger_ms`` = 90): a second start of the same pitch this soon after the
   first is the same key heard twice (the onset detector fired on both sides of the attack):
   one note, spanning both.
3. ``short`` (``min_note_ms`` = 80): notes shorter than this (after merging) are clicks and
   onset transients. An eighth note at 200 bpm lasts 150 ms.
4. ``harmonics`` (``harmonic_ratio`` = 0.6): a note 12, 19, 24, 28, 31 or 36 semitones (the
   2nd-6th and 8th partials) above a lower note that sounds when it starts (the lower one began
   at most ``HARMONIC_ONSET_S`` = 60 ms after it) and whose strength (mean frame activation)
   is below ``harmonic_ratio`` times the lower note's is that note's overtone.
5. ``quiet`` (``relative_floor`` = 0.5): a note weaker than this fraction of the strongest note
   sounding at its start (within ``NEIGHBOUR_S`` = 50 ms) is a ghost (bleed, sympathetic
   resonance, an overtone of a note of another pitch class).

The defaults were tuned on pieces rendered in the tests (FluidSynth's FluidR3 and
TinySoundFont's TimGM6mb pianos, one to three voices, and the 4- and 8-track band of the test
builders): see ``benchmarks/transcribe.py`` for the note F1 they give.
"""

from __future__ import annotations

import bisect
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace

#: A continuation's onset activation is below this fraction of the note it continues.
ATTACK_RATIO = 0.8
#: Intervals (semitones) of the partials that show up as ghost notes above a real one.
HARMONIC_INTERVALS = frozenset({12, 19, 24, 28, 31, 36})
#: A harmonic starts at most this long before its fundamental (seconds).
HARMONIC_ONSET_S = 0.06
#: Notes "sounding at the start" of another: their span covers its start within this (seconds).
NEIGHBOUR_S = 0.05

RULES = ("fragments", "retriggers", "short", "harmonics", "quiet")


@dataclass(frozen=True)
class RawNote:
    """A note as Basic Pitch decodes it, in seconds, before any cleaning.

    ``amplitude`` is the mean frame activation over the note (0-1); ``onset`` the peak onset
    activation at its start (0-1; low for notes found without an attack); ``bends`` the pitch
    bend curve in thirds of a semitone, one value per model frame, when asked for.
    """

    start: float
    end: float
    pitch: int
    amplitude: float
    onset: float = 1.0
    bends: tuple[int, ...] | None = None

    @property
    def duration(self) -> float:
        return self.end - self.start


def _sorted(notes: Sequence[RawNote]) -> list[RawNote]:
    return sorted(notes, key=lambda n: (n.start, n.pitch, n.end, -n.amplitude))


def _join(a: RawNote, b: RawNote) -> RawNote:
    """``a`` extended over ``b`` (the strength is the duration-weighted mean)."""
    da, db = max(a.duration, 1e-9), max(b.duration, 1e-9)
    amp = (a.amplitude * da + b.amplitude * db) / (da + db)
    bends = a.bends
    if a.bends is not None and b.bends is not None and b.end > a.end:
        bends = a.bends + b.bends
    return replace(a, end=max(a.end, b.end), amplitude=amp, onset=max(a.onset, b.onset),
                   bends=bends)


def _merge_same_pitch(notes: list[RawNote], joins) -> tuple[list[RawNote], int]:
    """Walk each pitch's notes in time order; ``joins(prev, cur)`` says whether cur is prev."""
    by_pitch: dict[int, list[RawNote]] = {}
    for n in notes:
        by_pitch.setdefault(n.pitch, []).append(n)
    out: list[RawNote] = []
    removed = 0
    for group in by_pitch.values():
        group.sort(key=lambda n: (n.start, n.end))
        cur = group[0]
        for n in group[1:]:
            if joins(cur, n):
                cur = _join(cur, n)
                removed += 1
            else:
                out.append(cur)
                cur = n
        out.append(cur)
    return _sorted(out), removed


def merge_fragments(notes: Sequence[RawNote], *, max_gap: float,
                    attack_ratio: float = ATTACK_RATIO) -> tuple[list[RawNote], int]:
    """Join same-pitch notes split by a gap of at most ``max_gap`` seconds (or overlapping)
    when the later one has no attack of its own. Returns (notes, how many were absorbed)."""
    return _merge_same_pitch(list(notes), lambda a, b: (b.start - a.end <= max_gap
                                                        and b.onset < attack_ratio * a.onset))


def merge_retriggers(notes: Sequence[RawNote], *, window: float) -> tuple[list[RawNote], int]:
    """Join a same-pitch note starting within ``window`` seconds of the previous start."""
    return _merge_same_pitch(list(notes), lambda a, b: b.start - a.start < window)


def drop_short(notes: Sequence[RawNote], *, min_duration: float) -> tuple[list[RawNote], int]:
    kept = [n for n in notes if n.duration >= min_duration]
    return kept, len(notes) - len(kept)


def drop_harmonics(notes: Sequence[RawNote], *, ratio: float,
                   intervals: frozenset[int] = HARMONIC_INTERVALS,
                   onset_window: float = HARMONIC_ONSET_S) -> tuple[list[RawNote], int]:
    """Drop notes that are a quieter partial of a lower note sounding when they start."""
    notes = _sorted(notes)
    by_pitch: dict[int, list[RawNote]] = {}
    for n in notes:
        by_pitch.setdefault(n.pitch, []).append(n)
    starts = {p: [n.start for n in group] for p, group in by_pitch.items()}
    kept = []
    for hi in notes:
        harmonic = False
        for interval in intervals:
            group = by_pitch.get(hi.pitch - interval)
            if not group:
                continue
            j = bisect.bisect_right(starts[hi.pitch - interval], hi.start + onset_window)
            for lo in group[max(j - 3, 0):j]:
                if lo.end > hi.start + NEIGHBOUR_S and hi.amplitude < ratio * lo.amplitude:
                    harmonic = True
                    break
            if harmonic:
                break
        if not harmonic:
            kept.append(hi)
    return kept, len(notes) - len(kept)


def drop_quiet(notes: Sequence[RawNote], *, floor: float,
               window: float = NEIGHBOUR_S) -> tuple[list[RawNote], int]:
    """Drop notes weaker than ``floor`` times the strongest note sounding at their start."""
    notes = _sorted(notes)
    if not notes:
        return [], 0
    starts = [n.start for n in notes]
    longest = max(n.duration for n in notes)
    kept = []
    for n in notes:
        lo = bisect.bisect_left(starts, n.start - longest - window)
        hi = bisect.bisect_right(starts, n.start + window)
        loudest = max(m.amplitude for m in notes[lo:hi] if m.end >= n.start - window)
        if n.amplitude >= floor * loudest:
            kept.append(n)
    return kept, len(notes) - len(kept)


def clean(notes: Sequence[RawNote], *, merge_gap: float = 0.06, retrigger: float = 0.09,
          min_duration: float = 0.08, harmonic_ratio: float = 0.6, relative_floor: float = 0.5,
          ) -> tuple[list[RawNote], dict[str, int]]:
    """All the rules in order (times in seconds). Returns (kept notes, removed per rule)."""
    removed: Counter[str] = Counter()
    out = _sorted(notes)
    if not out:
        return [], {r: 0 for r in RULES}
    out, removed["fragments"] = merge_fragments(out, max_gap=merge_gap)
    out, removed["retriggers"] = merge_retriggers(out, window=retrigger)
    out, removed["short"] = drop_short(out, min_duration=min_duration)
    out, removed["harmonics"] = drop_harmonics(out, ratio=harmonic_ratio)
    out, removed["quiet"] = drop_quiet(out, floor=relative_floor)
    return out, {r: removed[r] for r in RULES}
