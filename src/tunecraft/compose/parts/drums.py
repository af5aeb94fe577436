"""Drums and percussion: the style's grooves, fills, crashes and rolls, hand percussion; and
:func:`fill_notes`, a bar of fill for other modules (story mode's transitions)."""

from __future__ import annotations

import logging
import random
from collections.abc import Sequence

from ...score import Note
from ...score.types import EPS as _EPS
from ...styles import (
    DrumVoice,
    Groove,
    groove_events,
)
from ...styles.model import DEFAULT_VELOCITIES
from ..plan import PartSpec, Plan
from .common import (
    _TICK,
    CRASH,
    HAND_PERCUSSION,
    HAT_KEYS,
    KICKS,
    SNARES,
    _Bar,
    _bars,
    _ending_start,
    _energy_scale,
    _finish,
    _meter_name,
    _on_pulse,
    _plays_ending,
    _pulses,
    _swing,
    _vel,
)

log = logging.getLogger(__name__)

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


def fill_notes(plan: Plan, bar_start: float, rng: random.Random, *,
               scale: float = 1.0) -> tuple[Note, ...]:
    """One bar of drum fill from ``bar_start`` (in the plan's beats): one of the style's fills
    for the meter (a plain tom fill when it has none), chosen with ``rng``, velocities scaled
    by ``scale``; each hit a sixteenth long at most, cut at the bar's end. Story mode's
    transitions drum into the next segment with it."""
    fills = plan.style.fills(_meter_name(plan.meter)) or (_fallback_fill(plan),)
    hits = _groove_hits(plan, rng.choice(fills), bar_start)
    end = bar_start + plan.bar_beats
    return tuple(Note(k, t, min(0.125, end - t), _vel(v * scale)) for k, t, v in hits
                 if bar_start - _EPS <= t < end - _EPS)

