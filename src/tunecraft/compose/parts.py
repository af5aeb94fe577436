"""Part writers: one instrument's notes for a whole piece, from the plan and the style.

:func:`write_part` dispatches on the part's role (and, where it matters, its pattern):

* ``harmony``/``chords``: comping by ``part.pattern`` and ``part.rhythm`` (block chords, pulses,
  strums, stabs, skanks, montunos, oompah/waltz after-beats, power chords, tremolo...), with
  voice leading between consecutive voicings and anticipations in syncopated styles;
* ``pad``/``strings``/``fx``: sustained voicings, common tones held, a string crescendo into a
  louder section;
* ``arp`` (and any part whose pattern is an arpeggio, Alberti bass, broken chord or fingerpicking):
  chord tones in order, restarting at each chord change;
* ``bass``: the style's bass pattern for each section (a walking line where the part walks);
* ``drums``: the style's groove per section, fills before each new section and every
  ``fill_every`` bars, crashes on section starts, a snare roll out of a build into a chorus/drop;
* ``percussion``: hand percussion from the groove's percussion voices, or a light pattern;
* ``counter`` (and ``line`` patterns on other roles): a line that answers the melody.

Section energy shapes every part: sparser and softer below the style's energy, fuller above it.
Every part ends on the final chord, held from its downbeat. :func:`humanize` then moves timing and
velocity a little, deterministically for the plan's seed.

All times are in beats; the output of both functions is a sorted tuple of valid notes inside
``[0, plan.length]``.
"""

from __future__ import annotations

import bisect
import itertools
import logging
import math
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from ..errors import ParameterError
from ..score import Chord, Note, TimeSignature
from ..score.types import EPS as _EPS
from ..styles import (
    BassPattern,
    DrumVoice,
    Groove,
    bass_events,
    groove_events,
    rhythm_events,
    swing_time,
    voice_chord,
)
from ..styles.model import DEFAULT_VELOCITIES
from .plan import PartSpec, Plan, SectionPlan

log = logging.getLogger(__name__)

__all__ = ["humanize", "write_part"]

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


# ----------------------------------------------------------------------------------------------
# Chord parts: comping


def _comp_hits(plan: Plan, part: PartSpec, bar: _Bar, grid: str) -> list[tuple[float, float, int]]:
    """The bar's strikes (start, duration, velocity), thinned at low energy."""
    pattern = part.pattern or "block"
    if pattern == "tremolo":
        steps = round(plan.bar_beats * 4)
        grid = "x" + "." * (steps - 1) if bar.level == "low" else "x" + "o" * (steps - 1)
    hits = rhythm_events(grid, bar.start, plan.bar_beats, swing=plan.swing,
                         swing_unit=plan.swing_unit)
    pulses = _pulses(plan.meter)
    if bar.level == "low" and pattern not in OFFBEAT_PATTERNS | {"tremolo", "waltz"}:
        kept = [h for h in hits if _on_pulse(h[0] - bar.start, pulses)]
        if kept:
            starts = [h[0] for h in kept] + [bar.start + plan.bar_beats]
            hits = [(t, max(d, starts[i + 1] - t) if pattern not in STACCATO_PATTERNS else d, v)
                    for i, (t, d, v) in enumerate(kept)]
    if pattern in STACCATO_PATTERNS:
        hits = [(t, min(d, 0.5 if pattern == "marcato" else 0.3), v) for t, d, v in hits]
    return hits


def _comp(plan: Plan, part: PartSpec) -> tuple[Note, ...]:
    """Block chords on the part's rhythm, voice-led, following every chord change."""
    pattern = part.pattern or "block"
    low, high = _chord_register(part)
    voicings = _voicings(plan, low, high, power=pattern == "power")
    grid = _rhythm_grid(plan, part)
    ending = _ending_start(plan)
    notes: list[Note] = []
    for bar in _bars(plan, part):
        scale = _energy_scale(bar.section.energy) * (0.85 if pattern != "power" else 0.95)
        sec_end = min(bar.section.end, ending)
        hits = _comp_hits(plan, part, bar, grid)
        pulses = _pulses(plan.meter)
        for t, d, v in hits:
            if t >= sec_end - _EPS:
                continue
            end = min(t + d, sec_end)
            ci = _chord_index(plan, t)
            nxt = plan.chords[ci + 1].start if ci + 1 < len(plan.chords) else None
            # Syncopated comping pushes the next chord: an off-beat strike held into it.
            if (pattern in ANTICIPATING_PATTERNS and nxt is not None and nxt < sec_end - _EPS
                    and not _on_pulse(t - bar.start, pulses)
                    and nxt - t <= 1.0 + _EPS and end >= nxt - _EPS):
                ci += 1
                end = min(max(end, nxt), sec_end)
            else:
                # A strike held over a chord change stops there; the new chord is struck.
                while ci + 1 < len(plan.chords) and plan.chords[ci + 1].start < end - _EPS:
                    change = plan.chords[ci + 1].start
                    notes += _strike(voicings[ci], t, change - t, v * scale, pattern, bar)
                    ci += 1
                    if any(abs(h[0] - change) < _EPS for h in hits):
                        t = end  # the rhythm strikes the new chord itself
                        break
                    t, v = change, DEFAULT_VELOCITIES["o"]
            if t < end - _EPS:
                notes += _strike(voicings[ci], t, end - t, v * scale, pattern, bar)
    if _plays_ending(plan, part):
        ci = _chord_index(plan, ending)
        notes += [Note(p, ending, plan.length - ending, _vel(96 * _energy_scale(0.5)))
                  for p in voicings[ci]]
    return _finish(notes, plan)


def _strike(voicing: tuple[int, ...], start: float, duration: float, velocity: float,
            pattern: str, bar: _Bar) -> list[Note]:
    """One struck chord, shaped by the pattern (montuno splits it, strum thins upstrokes)."""
    if duration <= _TICK:
        return []
    pitches = list(voicing)
    if pattern in ("montuno", "guajeo") and len(pitches) >= 3:
        # Alternate the outer voices (octave-like) with the inner ones, montuno-style.
        step = round((start - bar.start) * 2)
        pitches = [pitches[0], pitches[-1]] if step % 2 == 0 else pitches[1:-1]
    elif pattern == "strum" and len(pitches) > 3 and abs((start - bar.start) % 1.0) > _EPS:
        pitches = pitches[-3:]  # an upstroke catches the top strings
        velocity *= 0.9
    return [Note(p, start, duration, _vel(velocity)) for p in pitches]


# ----------------------------------------------------------------------------------------------
# Sustained parts: pads, strings, drones


def _sustain(plan: Plan, part: PartSpec) -> tuple[Note, ...]:
    """Held voicings: common tones tie over chord changes; strings swell into louder sections."""
    if part.pattern == "drone":
        return _drone(plan, part)
    low, high = _chord_register(part)
    voicings = _voicings(plan, low, high)
    ending = _ending_start(plan)
    notes: list[list] = []  # [pitch, start, end, velocity]
    for si, section in enumerate(plan.sections):
        if not part.plays_in(section.kind):
            continue
        base = 0.55 + 0.4 * section.energy
        sounding: dict[int, list] = {}
        end_of_section = min(section.end, ending)
        for ci, chord in enumerate(plan.chords):
            s, e = max(chord.start, section.start), min(chord.end, end_of_section)
            if e - s <= _EPS:
                continue
            nxt_sounding: dict[int, list] = {}
            for p in voicings[ci]:
                if p in sounding and abs(sounding[p][2] - s) < _EPS:
                    sounding[p][2] = e  # a common tone is held, not struck again
                    nxt_sounding[p] = sounding[p]
                else:
                    n = [p, s, e, _vel(96 * base * (0.85 if s == section.start else 1.0))]
                    notes.append(n)
                    nxt_sounding[p] = n
            sounding = nxt_sounding
        nxt = plan.sections[si + 1] if si + 1 < len(plan.sections) else None
        if (part.role == "strings" and nxt is not None and nxt.energy > section.energy + 0.1
                and part.plays_in(nxt.kind)):
            notes = _swell(notes, plan, max(section.end - plan.bar_beats, section.start),
                           end_of_section, base)
    if _plays_ending(plan, part):
        ci = _chord_index(plan, ending)
        notes += [[p, ending, plan.length, _vel(88)] for p in voicings[ci]]
    return _finish([Note(p, s, e - s, v) for p, s, e, v in notes if e - s > _EPS], plan)


def _swell(notes: list[list], plan: Plan, start: float, end: float, base: float) -> list[list]:
    """A crescendo of repeated pulses over the last bar of a section (a string build)."""
    if end - start <= _EPS:
        return notes
    out: list[list] = []
    held = []
    for n in notes:
        if n[1] < end - _EPS and n[2] > start + _EPS:
            if n[1] < start - _EPS:
                out.append([n[0], n[1], start, n[3]])
            held.append(n)
        else:
            out.append(n)
    pulses = [start + p for p in _pulses(plan.meter) if start + p < end - _EPS]
    for k, t in enumerate(pulses):
        t_end = pulses[k + 1] if k + 1 < len(pulses) else end
        v = 96 * base * (0.7 + 0.5 * (k + 1) / len(pulses))
        for n in held:
            if n[1] <= t + _EPS and n[2] >= t_end - _EPS:
                out.append([n[0], t, t_end, _vel(v)])
            elif n[1] > t - _EPS and n[1] < t_end - _EPS:
                out.append([n[0], n[1], min(n[2], t_end), _vel(v)])
    return out


def _drone(plan: Plan, part: PartSpec) -> tuple[Note, ...]:
    """The key's tonic and fifth, held through each section the part plays in."""
    low, high = part.low, part.high
    tonic = low + (plan.key.tonic - low) % 12
    pitches = [tonic] + ([tonic + 7] if tonic + 7 <= high else [])
    notes = []
    for section in plan.sections:
        if part.plays_in(section.kind):
            v = _vel(70 + 30 * section.energy)
            notes += [Note(p, section.start, section.length, v) for p in pitches]
    return _finish(notes, plan)


# ----------------------------------------------------------------------------------------------
# Arpeggios


_ORDERS = {
    "alberti": (0, -1, 1, -1),
    "broken": (0, 1, 2, 1),
    "fingerpick": (0, 2, 1, 3, 0, 3, 1, 2),
}


def _arp_tones(voicing: tuple[int, ...], high: int, pattern: str) -> list[int]:
    if pattern == "alberti":
        return list(voicing[:3]) if len(voicing) >= 3 else list(voicing)
    tones = list(voicing) + [p + 12 for p in voicing if p + 12 <= high]
    return sorted(set(tones))


def _arp_index(pattern: str, k: int, n: int) -> int:
    if pattern in _ORDERS:
        i = _ORDERS[pattern][k % len(_ORDERS[pattern])]
        return i % n if i >= 0 else n + i
    if pattern == "arpeggio_down":
        return n - 1 - k % n
    if pattern == "arpeggio_updown" and n > 1:
        period = 2 * n - 2
        j = k % period
        return j if j < n else period - j
    return k % n


def _arp_hits(plan: Plan, part: PartSpec, bar: _Bar) -> list[tuple[float, float, int]]:
    """Where the arpeggio's notes fall: the part's rhythm, or 8ths/16ths by energy and tempo."""
    r = part.rhythm
    if r and abs(len(r) / max(part.rhythm_steps_per_beat, 1) - plan.bar_beats) < _EPS and \
            set(r) - set("-_"):
        hits = rhythm_events(r, bar.start, plan.bar_beats, swing=plan.swing,
                             swing_unit=plan.swing_unit)
        if bar.level == "low" and len(hits) > plan.bar_beats * 2:
            hits = [h for k, h in enumerate(hits) if k % 2 == 0]
        return hits
    step = 0.25 if bar.level == "high" and plan.bpm <= 132 else 0.5
    n = round(plan.bar_beats / step)
    out = []
    for k in range(n):
        off = k * step
        v = DEFAULT_VELOCITIES["x"] if _on_pulse(off, _pulses(plan.meter)) else \
            DEFAULT_VELOCITIES["o"]
        t = _swing(plan, bar.start, off)
        t_next = _swing(plan, bar.start, off + step) if k + 1 < n else bar.start + plan.bar_beats
        out.append((t, t_next - t, v))
    return out


def _arp(plan: Plan, part: PartSpec) -> tuple[Note, ...]:
    """Chord tones one at a time in the pattern's order, starting afresh at each chord."""
    pattern = part.pattern if part.pattern in ARP_PATTERNS else "arpeggio_up"
    low, high = _chord_register(part)
    span_high = min(high, low + 24) if pattern not in ("alberti", "fingerpick") else high
    voicings = _voicings(plan, low, max(span_high - 12, low + 12))
    ending = _ending_start(plan)
    notes: list[Note] = []
    last_ci, k = -1, 0
    for bar in _bars(plan, part):
        scale = _energy_scale(bar.section.energy) * 0.85
        sec_end = min(bar.section.end, ending)
        for t, d, v in _arp_hits(plan, part, bar):
            if t >= sec_end - _EPS:
                continue
            ci = _chord_index(plan, t)
            if ci != last_ci:
                last_ci, k = ci, 0
            tones = _arp_tones(voicings[ci], high, pattern)
            if pattern == "fingerpick":  # the thumb plays the chord's bass on the beat
                chord = plan.chords[ci]
                pc = chord.bass if chord.bass is not None else chord.root
                bass = low + (pc - low) % 12
                if bass not in tones and bass < tones[0]:
                    tones = [bass, *tones]
            pitch = tones[_arp_index(pattern, k, len(tones))]
            k += 1
            end = min(t + d * (1.0 if pattern in ("alberti", "broken") else 0.95), sec_end)
            if end - t > _TICK:
                notes.append(Note(pitch, t, end - t, _vel(v * scale)))
    if _plays_ending(plan, part):
        ci = _chord_index(plan, ending)
        tones = sorted(voicings[ci])
        roll = min(0.125, (plan.length - ending) / (len(tones) + 1))
        notes += [Note(p, ending + j * roll, plan.length - ending - j * roll, _vel(80))
                  for j, p in enumerate(tones)]
    return _finish(notes, plan)


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


# ----------------------------------------------------------------------------------------------
# Drums


def _fallback_groove(plan: Plan) -> Groove:
    """Kick on the downbeat, snare on the back pulses, hats on eighths (any meter)."""
    meter = plan.meter
    steps = round(meter.bar_beats * 2)
    pulses = [round(p * 2) for p in _pulses(meter)]
    kick, snare = ["-"] * steps, ["-"] * steps
    kick[0] = "x"
    for i, p in enumerate(pulses[1:], 1):
        (snare if i % 2 else kick)[p] = "o"
    if len(pulses) == 3 and meter.denominator == 4:  # a waltz: soft snares on 2 and 3
        snare = ["-"] * steps
        snare[pulses[1]], snare[pulses[2]] = ".", "."
    hat = "".join("x" if i in pulses else "o" for i in range(steps))
    voices = (DrumVoice("kick", 36, "".join(kick), 2), DrumVoice("snare", 38, "".join(snare), 2),
              DrumVoice("hat", 42, hat, 2))
    return Groove("fallback", ("verse",), _meter_name(meter), 2, voices)


def _fallback_fill(plan: Plan) -> Groove:
    """Sixteenth snares then a tom run down over the last pulse."""
    meter = plan.meter
    steps = round(meter.bar_beats * 4)
    last = round(_pulses(meter)[-1] * 4)
    snare = ["-"] * steps
    toms = ["-"] * steps
    for i in range(last, steps):
        if i < (last + steps) // 2:
            snare[i] = "o"
        else:
            toms[i] = "o"
    snare[0] = "x"
    return Groove("fallback_fill", (), _meter_name(meter), 4,
                  (DrumVoice("snare", 38, "".join(snare), 4),
                   DrumVoice("tom_low", 45, "".join(toms), 4)))


def _groove_hits(plan: Plan, groove: Groove, bar_start: float) -> list[tuple[int, float, int]]:
    return groove_events(groove, bar_start, plan.bar_beats, velocities=plan.style.drums.velocities,
                         swing=plan.swing, swing_unit=plan.swing_unit)


def _shape_drums(hits: list[tuple[int, float, int]], plan: Plan, bar: _Bar,
                 groove_keys: frozenset[int]) -> list[tuple[int, float, int]]:
    """Energy: at low energy hats fall to the beat and ghosts drop out; at high energy an open
    hat closes every second bar and a tambourine joins the backbeat."""
    pulses = _pulses(plan.meter)
    unit = 4 / plan.meter.denominator if plan.meter.denominator >= 8 else 1.0
    if bar.level == "low":
        def keep(h: tuple[int, float, int]) -> bool:
            off = h[1] - bar.start
            if h[0] in HAT_KEYS and abs(off / unit - round(off / unit)) > 1e-3:
                return False
            return h[2] >= 40 or h[0] in KICKS
        hits = [h for h in hits if keep(h)] or hits[:1]
    elif bar.level == "high" and plan.swing <= 0.55 and plan.style.drums.kit:
        if 42 in groove_keys and 46 not in groove_keys and bar.index % 2 == 1:
            t = bar.start + plan.bar_beats - 0.5
            hits = [h for h in hits if not (h[0] == 42 and abs(h[1] - t) < _EPS)]
            hits.append((46, t, DEFAULT_VELOCITIES["o"]))
        backbeat = [bar.start + p for i, p in enumerate(pulses) if i % 2 == 1]
        has_backbeat = any(h[0] in SNARES and any(abs(h[1] - b) < _EPS for b in backbeat)
                           for h in hits)
        if has_backbeat and 54 not in groove_keys and len(pulses) in (2, 4):
            hits += [(54, b, 70) for b in backbeat]
    return hits


def _roll(plan: Plan, bar_start: float, *, first: bool) -> list[tuple[int, float, int]]:
    """A snare roll over one bar: 16ths then 32nds rising to the downbeat (8ths then 16ths in
    the bar before, when ``first``)."""
    bpb = plan.bar_beats
    half = bpb / 2
    slow, fast = (0.5, 0.25) if first else (0.25, 0.125)
    v0, v1 = (44, 84) if first else (64, 124)
    times = [k * slow for k in range(round(half / slow))]
    times += [half + k * fast for k in range(round((bpb - half) / fast))]
    return [(38, bar_start + t, _vel(v0 + (v1 - v0) * t / bpb)) for t in times]


def _drums(plan: Plan, part: PartSpec) -> tuple[Note, ...]:
    """Grooves per section, fills into each new section and every ``fill_every`` bars, crashes
    on section starts, a roll out of a build into a chorus or drop, a final hit."""
    style = plan.style
    meter = _meter_name(plan.meter)
    fills = style.fills(meter) or (_fallback_fill(plan),)
    ending = _ending_start(plan)
    pulses = _pulses(plan.meter)
    hits: list[tuple[int, float, int]] = []
    sections = plan.sections
    for bar in _bars(plan, part):
        sec = bar.section
        si = sections.index(sec)
        nxt = sections[si + 1] if si + 1 < len(sections) else None
        groove = style.groove(sec.kind, meter)
        if groove is None:
            if style.drums.kit:
                log.debug("%s has no groove for %s in %s; a plain one instead", style.id,
                          sec.kind, meter)
            groove = _fallback_groove(plan)
        if bar.start >= ending - _EPS:
            continue
        bar_hits = _groove_hits(plan, groove, bar.start)
        rolling = (sec.kind == "build" and nxt is not None and nxt.kind in ("chorus", "drop"))
        rng = plan.rng("fill", sec.name, bar.index)
        if rolling and (bar.last_in_section or (bar.index == sec.bars - 2 and sec.bars >= 4)):
            bar_hits = [h for h in bar_hits if h[0] in KICKS] + _roll(
                plan, bar.start, first=not bar.last_in_section)
        elif bar.last_in_section and nxt is not None:
            bar_hits = _groove_hits(plan, rng.choice(fills), bar.start)
        elif style.drums.fill_every > 0 and (bar.index + 1) % style.drums.fill_every == 0 \
                and not bar.last_in_section:
            cut = bar.start + pulses[-1]
            fill = [h for h in _groove_hits(plan, rng.choice(fills), bar.start) if h[1] >= cut]
            if fill:
                bar_hits = [h for h in bar_hits if h[1] < cut - _EPS] + fill
        else:
            bar_hits = _shape_drums(bar_hits, plan, bar, groove.keys)
        scale = _energy_scale(sec.energy)
        hits += [(k, t, _vel(v * scale)) for k, t, v in bar_hits if t < min(sec.end, ending)]
        if bar.index == 0:
            prev = sections[si - 1] if si > 0 else None
            after_roll = prev is not None and prev.kind == "build" and sec.kind in ("chorus",
                                                                                    "drop")
            if (style.drums.crash_on_section_start and (si > 0 or bar.level != "low")) or \
                    after_roll:
                hits = [h for h in hits if not (h[0] in (42, 44) and abs(h[1] - sec.start) < _EPS)]
                hits += [(CRASH, sec.start, _vel(118 * scale)), (36, sec.start, _vel(110 * scale))]
    if _plays_ending(plan, part):
        hits += [(CRASH, ending, 118), (36, ending, 112)]
    return _drum_notes(hits, plan)


def _drum_notes(hits: list[tuple[int, float, int]], plan: Plan) -> tuple[Note, ...]:
    """Short notes (at most an eighth of a beat, never into the next stroke of the same drum)."""
    best: dict[tuple[int, int], int] = {}
    for k, t, v in hits:
        if 0 <= t < plan.length - _TICK:
            key = (k, round(t * 960))
            best[key] = max(best.get(key, 0), v)
    ordered = sorted(best.items())
    notes = []
    for i, ((k, tick), v) in enumerate(ordered):
        t = tick / 960
        d = 0.125
        if i + 1 < len(ordered) and ordered[i + 1][0][0] == k:
            d = min(d, (ordered[i + 1][0][1] - tick) / 960)
        d = min(d, plan.length - t)
        if d >= _TICK:
            notes.append(Note(k, t, d, v))
    return _finish(notes, plan, drums=True)


def _percussion(plan: Plan, part: PartSpec) -> tuple[Note, ...]:
    """Hand percussion: the groove's shakers, congas and bells, or a light pattern of its own."""
    meter = _meter_name(plan.meter)
    ending = _ending_start(plan)
    pulses = _pulses(plan.meter)
    hits: list[tuple[int, float, int]] = []
    for bar in _bars(plan, part):
        if bar.start >= ending - _EPS:
            continue
        groove = plan.style.groove(bar.section.kind, meter)
        own = [h for h in _groove_hits(plan, groove, bar.start)
               if h[0] in HAND_PERCUSSION] if groove else []
        if not own:
            own = _light_percussion(plan, bar, pulses)
        if bar.level == "low":
            own = [h for h in own if h[2] >= 50 or h[0] != 70]
        scale = _energy_scale(bar.section.energy) * 0.9
        hits += [(k, t, _vel(v * scale)) for k, t, v in own
                 if t < min(bar.section.end, ending)]
    return _drum_notes(hits, plan)


def _light_percussion(plan: Plan, bar: _Bar,
                      pulses: Sequence[float]) -> list[tuple[int, float, int]]:
    """Shaker on eighths (sixteenths when the section is high), congas answering off the beat."""
    step = 0.25 if bar.level == "high" and plan.bpm < 130 else 0.5
    out = []
    n = round(plan.bar_beats / step)
    for k in range(n):
        off = k * step
        v = 72 if _on_pulse(off, pulses) else (58 if abs(off % 0.5) < _EPS else 42)
        out.append((70, _swing(plan, bar.start, off), v))
    bounds = [*pulses, plan.bar_beats]
    for i, p in enumerate(pulses):
        mid = (p + bounds[i + 1]) / 2
        out.append((62 if i % 2 == 0 else 63, _swing(plan, bar.start, p if i % 2 == 0 else mid),
                    76))
    out.append((64, _swing(plan, bar.start, (pulses[-1] + plan.bar_beats) / 2), 84))
    return sorted(out, key=lambda h: h[1])


# ----------------------------------------------------------------------------------------------
# Counter-lines and riffs


class _Melody:
    """Quick questions about the melody: what sounds at a time, does a note start in a span."""

    def __init__(self, melody: Sequence[Note]) -> None:
        self.notes = sorted(melody, key=lambda n: (n.start, -n.pitch))
        self.starts = [n.start for n in self.notes]

    def __bool__(self) -> bool:
        return bool(self.notes)

    def sounding(self, t: float) -> Note | None:
        i = bisect.bisect_right(self.starts, t + _EPS) - 1
        while i >= 0:
            n = self.notes[i]
            if n.start <= t + _EPS < n.end:
                return n
            if n.end < t - 8:
                break
            i -= 1
        return None

    def before(self, t: float) -> Note | None:
        i = bisect.bisect_left(self.starts, t - _EPS) - 1
        return self.notes[i] if i >= 0 else None

    def onset_in(self, a: float, b: float) -> bool:
        i = bisect.bisect_left(self.starts, a - _EPS)
        return i < len(self.starts) and self.starts[i] < b - _EPS


def _counter(plan: Plan, part: PartSpec, melody: Sequence[Note]) -> tuple[Note, ...]:
    """A line that answers the melody: it moves (by chord tones, against the melody's motion)
    where the melody rests or holds, and holds a guide tone (third or seventh) while it moves."""
    mel = _Melody(melody)
    low, high = part.low, part.high
    if mel:
        pitches = sorted(n.pitch for n in mel.notes)
        target = pitches[len(pitches) // 2] - 7
    else:
        target = (low + high) // 2
    home = min(max(target, low + 4), high - 4)
    rng = plan.rng("counter", part.name)
    ending = _ending_start(plan)
    pulses = _pulses(plan.meter)
    notes: list[list] = []
    cur: list | None = None
    direction = 1
    for bar in _bars(plan, part):
        sec_end = min(bar.section.end, ending)
        slots = []
        bounds = [*pulses, plan.bar_beats]
        for i, p in enumerate(pulses):
            if bar.level == "high" and mel:
                mid = (p + bounds[i + 1]) / 2
                slots += [p, mid]
            else:
                slots.append(p)
        times = [_swing(plan, bar.start, s) for s in slots] + [bar.start + plan.bar_beats]
        scale = _energy_scale(bar.section.energy) * 0.8
        for k in range(len(slots)):
            t, t_end = times[k], min(times[k + 1], sec_end)
            if t >= sec_end - _EPS:
                break
            chord = plan.chord_at(t)
            pcs = set(chord.pitch_classes)
            busy = mel.onset_in(t, t_end) if mel else rng.random() < 0.35
            chord_start = abs(chord.start - t) < _EPS
            if busy:
                if cur is not None and cur[0] % 12 in pcs and abs(cur[2] - t) < _EPS and \
                        not chord_start:
                    cur[2] = t_end  # hold under the melody
                    continue
                if chord_start or cur is None or abs(cur[2] - t) > _EPS:
                    guides = [(chord.root + i) % 12 for i in chord.intervals[1:2] +
                              chord.intervals[3:4]]
                    ref = cur[0] if cur is not None else home
                    cands = [p for p in range(low, high + 1) if p % 12 in guides] or \
                            [p for p in range(low, high + 1) if p % 12 in pcs]
                    m = mel.sounding(t) if mel else None
                    if m is not None:  # under the melody, never doubling it
                        below = [p for p in range(low, m.pitch) if p % 12 != m.pitch % 12]
                        cands = [p for p in cands if p in below] or \
                            [p for p in below if p % 12 in pcs] or cands
                    pitch = min(cands, key=lambda p: (abs(p - ref), p))
                    cur = [pitch, t, t_end, _vel(72 * scale)]
                    notes.append(cur)
                continue
            m = mel.sounding(t) if mel else None
            prev_m = mel.before(m.start) if m is not None else None
            ceiling = m or (mel.before(t + _EPS) if mel else None)  # stay under the tune
            if m is not None and prev_m is not None and m.pitch != prev_m.pitch:
                direction = -1 if m.pitch > prev_m.pitch else 1  # contrary motion
            elif rng.random() < 0.25:
                direction = -direction
            ref = cur[0] if cur is not None else home
            if ref > high - 3:
                direction = -1
            elif ref < low + 3:
                direction = 1
            strong = slots[k] in pulses[::2]
            scale_pcs = set(plan.key.scale)
            cands = [p for p in range(low, high + 1) if p % 12 in pcs or (
                not strong and p % 12 in scale_pcs and 1 <= abs(p - ref) <= 2)]

            def cost(p: int, ref: int = ref, m: Note | None = m, direction: int = direction,
                     pcs: set[int] = pcs, ceiling: Note | None = ceiling) -> float:
                c = abs(p - (ref + 2 * direction)) + 0.1 * abs(p - home)
                if p == ref:
                    c += 3.0
                if p % 12 not in pcs:
                    c += 0.8  # a passing tone, by step, on a weak beat
                if m is not None and (p % 12 == m.pitch % 12 or p >= m.pitch):
                    c += 6
                elif ceiling is not None and p >= ceiling.pitch:
                    c += 4
                if abs(p - ref) > 7:
                    c += 5
                return c

            pitch = min(cands, key=lambda p: (cost(p), p)) if cands else ref
            v = (88 if _on_pulse(slots[k], pulses) else 76) * scale
            cur = [pitch, t, t_end, _vel(v)]
            notes.append(cur)
    if _plays_ending(plan, part) and notes:
        chord = plan.chord_at(ending)
        ref = notes[-1][0]
        cands = [p for p in range(low, high + 1) if p % 12 in chord.pitch_classes]
        if cands:
            notes.append([min(cands, key=lambda p: (abs(p - ref), p)), ending, plan.length, 76])
    return _finish([Note(p, s, e - s, v) for p, s, e, v in notes if e - s > _TICK], plan)


def _riff(plan: Plan, part: PartSpec) -> tuple[Note, ...]:
    """A one-bar figure of chord degrees, made once per section type and repeated over the
    changes (horn riffs, guitar hooks)."""
    low, high = _chord_register(part)
    voicings = _voicings(plan, low, max(high - 7, low + 12))
    ending = _ending_start(plan)
    figures: dict[str, list[tuple[float, float, int, int]]] = {}
    notes: list[Note] = []
    for bar in _bars(plan, part):
        kind = bar.section.kind
        if kind not in figures:
            figures[kind] = _riff_figure(plan, plan.rng("riff", part.name, kind))
        scale = _energy_scale(bar.section.energy) * 0.85
        sec_end = min(bar.section.end, ending)
        for off, dur, degree, v in figures[kind]:
            t = _swing(plan, bar.start, off)
            if t >= sec_end - _EPS:
                continue
            ci = _chord_index(plan, t)
            voicing = voicings[ci]
            pitch = voicing[degree % len(voicing)] + (12 if degree >= len(voicing) else 0)
            pitch = pitch if pitch <= high else pitch - 12
            notes.append(Note(pitch, t, min(dur, sec_end - t), _vel(v * scale)))
    return _finish(notes, plan)


def _riff_figure(plan: Plan, rng: random.Random) -> list[tuple[float, float, int, int]]:
    steps = round(plan.bar_beats * 2)
    onsets = sorted({0, *rng.sample(range(1, steps), k=min(steps - 1, rng.randint(2, 4)))})
    out = []
    degree = 0
    for i, s in enumerate(onsets):
        nxt = onsets[i + 1] if i + 1 < len(onsets) else steps
        dur = min(nxt - s, 2) * 0.5 * 0.9
        degree = max(0, min(4, degree + rng.choice((-1, 1, 1, 2)))) if i else rng.choice((0, 2))
        out.append((s * 0.5, dur, degree, 104 if s == 0 else 90))
    return out


# ----------------------------------------------------------------------------------------------
# The public API


def _voice(plan: Plan, part: PartSpec, melody: Sequence[Note]) -> tuple[Note, ...]:
    """One voice of a chorale texture (a quartet's violin 2 or viola, a choir's alto, tenor or
    bass): one chord tone per chord, moving to the nearest tone of the next chord and kept
    under the tune. A bass voice sings the chord's bass note; an upper inner voice (from about
    E3 up) favours the third, a lower one the fifth or the seventh, so the voices share the
    chord out. Held through the chord where the section is quiet, restruck on each felt beat
    where it is lively."""
    mel = _Melody(melody)
    low, high = part.low, part.high
    bass = part.role == "bass"
    upper = low >= 52
    ending = _ending_start(plan)
    pulses = _pulses(plan.meter)
    prev: int | None = None
    notes: list[Note] = []
    for bar in _bars(plan, part):
        sec_end = min(bar.section.end, plan.length)
        bounds = [bar.start + p for p in pulses] if bar.level == "high" and bar.start < ending \
            else [bar.start]
        cuts = sorted({*bounds, *(c.start for c in plan.chords
                                  if bar.start + _EPS < c.start < bar.start + plan.bar_beats)})
        cuts.append(bar.start + plan.bar_beats)
        scale = _energy_scale(bar.section.energy)
        for a, b in itertools.pairwise(cuts):
            b = min(b, sec_end)
            if b - a <= _EPS or a >= sec_end - _EPS:
                continue
            chord = plan.chord_at(a)
            pcs = chord.pitch_classes
            if bass:
                want = {chord.bass if chord.bass is not None else chord.root}
            else:
                third, rest = pcs[1:2], pcs[2:] or pcs[:1]
                want = set(third if upper else rest)
            top = mel.sounding(a)
            ceiling = top.pitch - 1 if top is not None and not bass else high
            best, best_cost = None, math.inf
            for p in range(low, high + 1):
                if p % 12 not in pcs or (bass and p % 12 not in want):
                    continue
                cost = (abs(p - prev) + (1.5 if p == prev else 0.0) if prev is not None
                        else abs(p - (low + high) / 2) * 0.5)
                cost += 0.0 if p % 12 in want else 3.0
                cost += 20 + (p - ceiling) if p > ceiling else 0.0
                if cost < best_cost:
                    best, best_cost = p, cost
            if best is None:
                continue
            held = notes and prev == best and abs(notes[-1].end - a) < _EPS and \
                a not in bounds[1:]
            if held:
                last = notes[-1]
                notes[-1] = Note(last.pitch, last.start, b - last.start, last.velocity)
            else:
                accent = 8 if abs(a - bar.start) < _EPS else 0
                length = (b - a) * (0.92 if len(bounds) > 1 else 1.0)
                notes.append(Note(best, a, length, _vel((76 + accent) * scale)))
            prev = best
    return tuple(notes)


def write_part(plan: Plan, part: PartSpec, *, melody: tuple[Note, ...] = ()) -> tuple[Note, ...]:
    """The notes of one part for the whole piece, sorted, inside ``[0, plan.length]``.

    ``melody`` (the lead's notes) is what a counter-line answers. Lead and vocal parts are
    written by :mod:`tunecraft.compose.melody`, not here.
    """
    if not isinstance(plan, Plan) or not isinstance(part, PartSpec):
        raise ParameterError("write_part needs a Plan and a PartSpec")
    role, pattern = part.role, part.pattern
    if role in MELODY_ROLES:
        raise ParameterError("lead parts are written by compose.melody")
    if not plan.chords or not plan.sections:
        return ()
    if pattern == "voice" and not part.is_drum:
        return _voice(plan, part, melody)
    if role == "drums" or (part.is_drum and role != "percussion"):
        if not plan.style.drums.kit:
            log.debug("%s has no drum kit; %s plays a plain groove", plan.style.id, part.name)
        return _drums(plan, part)
    if role == "percussion":
        return _percussion(plan, part)
    if role == "bass":
        return _bass(plan, part)
    if pattern in LINE_PATTERNS or (role == "counter" and pattern is None):
        return _counter(plan, part, melody)
    if pattern == "riff":
        return _riff(plan, part)
    if pattern in ARP_PATTERNS or role == "arp":
        return _arp(plan, part)
    if role in SUSTAIN_ROLES and (pattern in SUSTAIN_PATTERNS or pattern is None):
        return _sustain(plan, part)
    if pattern == "drone":
        return _drone(plan, part)
    if pattern == "sustain" and not part.rhythm:
        return _sustain(plan, part)
    return _comp(plan, part)


def _humanize_scale(part: PartSpec) -> tuple[float, float]:
    """(timing spread in ms, within-chord spread in ms) by role: drums tight, pads loose."""
    if part.role in ("drums", "percussion") or part.is_drum:
        return 4.0, 0.0
    if part.role in SUSTAIN_ROLES:
        return 12.0, 3.0
    if part.role == "bass":
        return 6.0, 0.0
    return 8.0, 2.0


def humanize(notes: tuple[Note, ...], plan: Plan, part: PartSpec) -> tuple[Note, ...]:
    """Small, seeded timing and velocity variations that keep the part valid.

    Onsets move by a few milliseconds (drums least, pads most), the notes of one chord together
    (plus a strum spread, low to high on the beat and high to low off it, for ``strum``);
    velocities move by up to 6. Nothing starts before beat 0 or ends after the piece.
    """
    if not notes:
        return ()
    rng = plan.rng("humanize", part.name)
    beats_per_ms = plan.bpm / 60000.0
    spread_ms, chord_ms = _humanize_scale(part)
    strum = part.pattern == "strum"
    by_start: dict[int, list[Note]] = {}
    for n in sorted(notes, key=lambda n: (n.start, n.pitch)):
        by_start.setdefault(round(n.start * 960), []).append(n)
    end = plan.length
    out: list[Note] = []
    for tick in sorted(by_start):
        group = by_start[tick]
        shift = max(-2.0, min(2.0, rng.gauss(0.0, 0.5))) * spread_ms * beats_per_ms
        upstroke = abs((tick / 960) % 1.0) > _EPS
        order = sorted(group, key=lambda n: n.pitch, reverse=strum and upstroke)
        per_note = min(7.0, 24.0 / max(len(order), 1)) * beats_per_ms if strum else 0.0
        for j, n in enumerate(order):
            dt = shift + j * per_note
            if chord_ms and len(order) > 1 and not strum:
                dt += rng.uniform(-chord_ms, chord_ms) * beats_per_ms
            start = max(0.0, n.start + dt)
            if n.start < _EPS:
                start = max(0.0, dt) if dt > 0 else 0.0
            note_end = min(n.end + (0.0 if part.is_drum or part.role in ("drums", "percussion")
                                    else dt * 0.5), end)
            if note_end <= start + _TICK:
                note_end = min(start + max(n.duration, _TICK), end)
            if note_end - start < _TICK:
                start = max(0.0, note_end - max(n.duration, _TICK))
            jitter = round(max(-6.0, min(6.0, rng.gauss(0.0, 2.5))))
            out.append(Note(n.pitch, start, max(note_end - start, _TICK),
                            max(1, min(127, n.velocity + jitter)), n.lyric))
    return _finish(out, plan, drums=part.is_drum or part.role in ("drums", "percussion"))

