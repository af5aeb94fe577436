"""Bass lines: the style's bass pattern per section, or a walking line where the part walks."""

from __future__ import annotations

import logging
import random

from ...score import Note
from ...score.types import EPS as _EPS
from ...styles import (
    BassPattern,
    bass_events,
)
from ..plan import PartSpec, Plan, SectionPlan
from .common import (
    _Bar,
    _bars,
    _ending_start,
    _energy_scale,
    _finish,
    _meter_name,
    _plays_ending,
    _pulses,
    _vel,
)

log = logging.getLogger(__name__)

# ----------------------------------------------------------------------------------------------
# Bass


def _fallback_bass(plan: Plan, kind: str) -> BassPattern:
    """Root on the downbeat, the fifth on the other strong pulse: fits any meter."""
    steps = round(plan.bar_beats * 4)
    pulses = [round(p * 4) for p in _pulses(plan.meter)]
    grid = ["-"] * steps
    grid[0] = "R"
    if len(pulses) > 1:
        grid[pulses[len(pulses) // 2]] = "5"
    return BassPattern("fallback", (kind,), _meter_name(plan.meter), 4, "".join(grid))


def _walks(plan: Plan, part: PartSpec, pattern: BassPattern, section: SectionPlan) -> bool:
    """A part that walks does so where its pattern already moves on every beat, and in solos."""
    if part.pattern != "walking" or plan.meter.denominator != 4:
        return False
    if section.kind == "solo":
        return True
    per_beat = len(pattern.grid) / plan.bar_beats
    onsets = [i / per_beat for i, c in enumerate(pattern.grid) if c not in "-_"]
    return all(any(abs(o - b) < _EPS for o in onsets) for b in range(int(plan.bar_beats)))


def _walk_bar(plan: Plan, part: PartSpec, bar: _Bar, prev: int | None,
              rng: random.Random) -> list[tuple[int, float, float, int]]:
    """Quarter notes: the root on each chord change, chord and scale tones between, and a
    chromatic or diatonic approach into the next chord."""
    low, high = part.low, min(part.high, part.low + 24)
    scale = set(plan.key.scale)
    out = []
    beats = round(plan.bar_beats)
    for b in range(beats):
        t = bar.start + b
        chord = plan.chord_at(t)
        nxt = plan.chord_at(t + 1) if t + 1 < plan.length else chord
        change_next = abs(nxt.start - (t + 1)) < _EPS or b == beats - 1
        if abs(chord.start - t) < _EPS or b == 0 or prev is None:
            pc = chord.bass if chord.bass is not None else chord.root
            cands = [p for p in range(low, high + 1) if p % 12 == pc]
            target = prev if prev is not None else low + 7
            pitch = min(cands, key=lambda p: (abs(p - target), p))
        elif change_next:
            roots = [p for p in range(low, high + 1) if p % 12 == nxt.root]
            goal = min(roots, key=lambda p: (abs(p - prev), p))
            options = [goal - 1, goal + 1] + [goal + d for d in (-2, 2) if (goal + d) % 12 in scale]
            options = [p for p in options if low <= p <= high and p != prev]
            pitch = rng.choice(options) if options else goal
        else:
            tones = {(chord.root + i) % 12 for i in chord.intervals} | scale
            cands = [p for p in range(low, high + 1) if p % 12 in tones and 1 <= abs(p - prev) <= 5]
            chord_tones = [p for p in cands if p % 12 in chord.pitch_classes]
            pool = chord_tones if chord_tones and rng.random() < 0.65 else cands
            pitch = rng.choice(pool) if pool else prev
        out.append((pitch, t, 1.0, 92 if b == 0 else 84))
        prev = pitch
    return out


def _bass(plan: Plan, part: PartSpec) -> tuple[Note, ...]:
    """The style's bass pattern for each section (or a walking line), over the plan's chords."""
    meter = _meter_name(plan.meter)
    ending = _ending_start(plan)
    notes: list[Note] = []
    prev: int | None = None
    for bar in _bars(plan, part):
        pattern = plan.style.bass_pattern(bar.section.kind, meter)
        if pattern is None:
            log.debug("%s has no bass pattern for %s in %s; root and fifth instead",
                      plan.style.id, bar.section.kind, meter)
            pattern = _fallback_bass(plan, bar.section.kind)
        if part.pattern == "drone":
            steps = round(plan.bar_beats * 4)
            pattern = BassPattern("drone", (), meter, 4, "R" + "-" * (steps - 1))
        scale = _energy_scale(bar.section.energy)
        sec_end = min(bar.section.end, ending)
        if _walks(plan, part, pattern, bar.section):
            rng = plan.rng("walk", part.name, round(bar.start * 960))
            events = _walk_bar(plan, part, bar, prev, rng)
        else:
            bar_end = bar.start + plan.bar_beats
            nxt = plan.chord_at(bar_end) if bar_end < plan.length - _EPS else None
            events = bass_events(pattern, plan.chords, bar.start, plan.bar_beats,
                                 low=part.low, high=part.high, next_chord=nxt,
                                 swing=plan.swing, swing_unit=plan.swing_unit)
        for pitch, t, d, v in events:
            if t >= sec_end - _EPS:
                continue
            end = min(t + d * 0.96, sec_end)
            notes.append(Note(pitch, t, end - t, _vel(v * scale)))
            prev = pitch
    if _plays_ending(plan, part):
        chord = plan.chord_at(ending)
        pc = chord.bass if chord.bass is not None else chord.root
        pitch = part.low + (pc - part.low) % 12
        notes.append(Note(pitch, ending, plan.length - ending, 100))
    return _finish(notes, plan)
