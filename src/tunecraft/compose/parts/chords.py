"""Chord parts: comping (block chords, pulses, strums, stabs, skanks, montunos...), sustained
pads, strings and drones, and arpeggios (Alberti bass, broken chords, fingerpicking)."""

from __future__ import annotations

import logging

from ...score import Note
from ...score.types import EPS as _EPS
from ...styles import (
    rhythm_events,
)
from ...styles.model import DEFAULT_VELOCITIES
from ..plan import PartSpec, Plan
from .common import (
    _TICK,
    ANTICIPATING_PATTERNS,
    ARP_PATTERNS,
    OFFBEAT_PATTERNS,
    STACCATO_PATTERNS,
    _Bar,
    _bars,
    _chord_index,
    _chord_register,
    _ending_start,
    _energy_scale,
    _finish,
    _on_pulse,
    _plays_ending,
    _pulses,
    _rhythm_grid,
    _swing,
    _vel,
    _voicings,
)

log = logging.getLogger(__name__)

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
