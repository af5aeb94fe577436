"""What every part writer shares: constants, the bars a part plays, pulses, velocities,
voicings, rhythm grids, and the final tidy-up of a part's notes."""

from __future__ import annotations

import bisect
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from ...score import Chord, Note, TimeSignature
from ...score.types import EPS as _EPS
from ...styles import (
    swing_time,
    voice_chord,
)
from ..plan import PartSpec, Plan, SectionPlan

log = logging.getLogger(__name__)

_TICK = 1 / 960
CHORD_FLOOR = 40  # E2: no chord part voices below it

MELODY_ROLES = frozenset({"lead", "melody", "vocal"})
CHORD_ROLES = frozenset({"harmony", "chords"})
SUSTAIN_ROLES = frozenset({"pad", "strings", "fx"})
ARP_PATTERNS = frozenset({"arpeggio_up", "arpeggio_down", "arpeggio_updown", "alberti", "broken",
                          "fingerpick"})
LINE_PATTERNS = frozenset({"line", "counterpoint", "walking"})
SUSTAIN_PATTERNS = frozenset({"sustain", "drone"})
OFFBEAT_PATTERNS = frozenset({"skank", "chop", "oompah"})
STACCATO_PATTERNS = frozenset({"stabs", "skank", "chop", "pizzicato", "oompah", "marcato"})
ANTICIPATING_PATTERNS = frozenset({"comp", "montuno", "guajeo", "stabs", "strum", "tumbao"})

HAT_KEYS = frozenset({42, 44, 46, 51, 53, 54, 69, 70, 81})
HAND_PERCUSSION = frozenset({54, 56, 58, 60, 61, 62, 63, 64, 65, 66, 67, 68, 69, 70, 73, 74, 75,
                             76, 77, 78, 79, 80, 81})
KICKS = frozenset({35, 36})
SNARES = frozenset({37, 38, 39, 40})
TOMS = (50, 48, 47, 45, 43, 41)  # high to low
CRASH = 49
DRUM_RANGE = (35, 81)


# ----------------------------------------------------------------------------------------------
# Shared helpers


@dataclass(frozen=True, slots=True)
class _Bar:
    """One bar a part plays: where it is, its section and how intense that section is."""

    section: SectionPlan
    index: int  # bar index within the section
    start: float
    level: str  # "low", "mid" or "high"

    @property
    def last_in_section(self) -> bool:
        return self.index == self.section.bars - 1


def _meter_name(meter: TimeSignature) -> str:
    return f"{meter.numerator}/{meter.denominator}"


def _pulses(meter: TimeSignature) -> tuple[float, ...]:
    """The felt beats of a bar, in beats from its start (6/8: two dotted quarters; 7/8: 2+2+3)."""
    num, den = meter.numerator, meter.denominator
    unit = 4 / den
    if den >= 8 and num > 3 and num % 3 == 0:
        return tuple(i * 3 * unit for i in range(num // 3))
    if den >= 8 and num > 3:
        groups = [2] * ((num - 3) // 2) + [3] if (num - 3) % 2 == 0 else [2] * (num // 2)
        out, t = [], 0.0
        for g in groups:
            out.append(t)
            t += g * unit
        return tuple(out)
    return tuple(i * unit for i in range(num))


def _level(plan: Plan, section: SectionPlan) -> str:
    """How intense a section is against the style's own energy: "low", "mid" or "high"."""
    rel = section.energy - plan.style.energy
    if rel < -0.08:
        return "low"
    if rel > 0.12 or (section.kind in ("chorus", "drop") and rel > 0.05):
        return "high"
    return "mid"


def _vel(value: float) -> int:
    return max(1, min(127, round(value)))


def _energy_scale(energy: float) -> float:
    """Velocity factor for a section's energy (0.5 -> about 0.88, 1.0 -> 1.1)."""
    return 0.65 + 0.45 * energy


def _ending_start(plan: Plan) -> float:
    """Where the final held chord begins: the last bar, or the last chord if it starts later."""
    last_bar = plan.length - plan.bar_beats
    last_chord = plan.chords[-1].start if plan.chords else last_bar
    return max(last_bar, last_chord)


def _plays_ending(plan: Plan, part: PartSpec) -> bool:
    return bool(plan.sections) and part.plays_in(plan.sections[-1].kind)


def _bars(plan: Plan, part: PartSpec) -> Iterator[_Bar]:
    """Every bar in the sections the part plays in."""
    for section in plan.sections:
        if not part.plays_in(section.kind):
            continue
        level = _level(plan, section)
        for i in range(section.bars):
            yield _Bar(section, i, section.start + i * section.bar_beats, level)


def _swing(plan: Plan, bar_start: float, offset: float) -> float:
    return bar_start + (swing_time(offset, plan.swing, plan.swing_unit)
                        if plan.swing > 0.5 else offset)


def _chord_index(plan: Plan, beat: float) -> int:
    return max(0, bisect.bisect_right(plan.chord_starts, beat + _EPS) - 1)


def _chord_register(part: PartSpec) -> tuple[int, int]:
    """A chord part's register, never below E2 and at least an octave wide."""
    low = max(part.low, CHORD_FLOOR)
    high = max(part.high, low + 12)
    if high > 127:
        low, high = 115, 127
    return low, high


def _voicings(plan: Plan, low: int, high: int, *, power: bool = False) -> list[tuple[int, ...]]:
    """One voicing per chord of the plan, each moving as little as possible from the one before."""
    out: list[tuple[int, ...]] = []
    prev: tuple[int, ...] | None = None
    for chord in plan.chords:
        v = _power_voicing(chord, low, high, prev) if power else voice_chord(
            chord, low, high, previous=prev)
        out.append(v)
        prev = v
    return out


def _power_voicing(chord: Chord, low: int, high: int,
                   prev: tuple[int, ...] | None) -> tuple[int, ...]:
    """Root, fifth and octave; the root nearest the previous one, low in the register."""
    fifth = next((i for i in (7, 6, 8) if i in chord.intervals), 7)
    pc = chord.bass if chord.bass is not None else chord.root
    roots = [p for p in range(low, high - fifth + 1) if p % 12 == pc]
    if not roots:
        return voice_chord(chord, low, high)
    target = prev[0] if prev else low + 5
    root = min(roots, key=lambda p: (abs(p - target), p))
    notes = [root, root + fifth] + ([root + 12] if root + 12 <= high else [])
    return tuple(notes)


def _default_rhythm(pattern: str | None, meter: TimeSignature) -> str:
    """A one-bar comping grid (four steps a beat) for a meter the style wrote no rhythm for."""
    steps = round(meter.bar_beats * 4)
    pulses = [round(p * 4) for p in _pulses(meter)]
    if pattern in SUSTAIN_PATTERNS:
        return "x" + "-" * (steps - 1)
    if pattern in OFFBEAT_PATTERNS or pattern == "waltz":
        grid = ["_"] * steps
        bounds = [*pulses, steps]
        for i, p in enumerate(pulses):
            if pattern == "waltz":
                if i > 0:
                    grid[p] = "x" if i == 1 else "o"
                    if p + 1 < steps:
                        grid[p + 1] = "-"
                continue
            mid = (p + bounds[i + 1]) // 2
            grid[mid] = "x" if i % 2 else "o"
            if mid + 1 < bounds[i + 1]:
                grid[mid + 1] = "-"
        return "".join(grid)
    grid = ["-"] * steps
    for i, p in enumerate(pulses):
        grid[p] = "x" if i == 0 else "o"
    return "".join(grid)


def _rhythm_grid(plan: Plan, part: PartSpec) -> str:
    """The part's rhythm when it fits the plan's meter, else a default for the meter."""
    r = part.rhythm
    if r and part.rhythm_steps_per_beat > 0 and \
            abs(len(r) / part.rhythm_steps_per_beat - plan.bar_beats) < _EPS:
        return r
    if r:
        log.debug("%s: rhythm %r does not fit %s; using a default", part.name, r,
                  _meter_name(plan.meter))
    return _default_rhythm(part.pattern, plan.meter)


def _on_pulse(offset: float, pulses: Sequence[float]) -> bool:
    return any(abs(offset - p) < 1e-3 for p in pulses)


def _finish(notes: list[Note], plan: Plan, *, drums: bool = False) -> tuple[Note, ...]:
    """Clip to the piece, drop empty notes, keep drums in range, untangle same-pitch overlaps."""
    end = plan.length
    clean: list[tuple[int, float, float, int, str | None]] = []
    for n in notes:
        if drums and not DRUM_RANGE[0] <= n.pitch <= DRUM_RANGE[1]:
            log.debug("drum key %d is outside %d-%d; left out", n.pitch, *DRUM_RANGE)
            continue
        s = max(0.0, n.start)
        e = min(n.start + n.duration, end)
        if e - s < _TICK or s >= end - _TICK / 2:
            continue
        clean.append((n.pitch, s, e, n.velocity, n.lyric))
    clean.sort(key=lambda x: (x[0], x[1], -x[3]))
    out: list[Note] = []
    for i, (p, s, e, v, lyric) in enumerate(clean):
        if i and clean[i - 1][0] == p and abs(clean[i - 1][1] - s) < _TICK:
            continue  # the same note twice: keep the louder (sorted first)
        j = i + 1
        while j < len(clean) and clean[j][0] == p and abs(clean[j][1] - s) < _TICK:
            j += 1
        if j < len(clean) and clean[j][0] == p:
            e = min(e, clean[j][1])
        if e - s >= _TICK:
            out.append(Note(p, s, e - s, v, lyric))  # a sung syllable stays on its note
    out.sort(key=lambda n: (n.start, n.pitch))
    return tuple(out)
