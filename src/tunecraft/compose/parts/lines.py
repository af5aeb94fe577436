"""Single lines: counter-melodies that answer the tune, riffs, and the voices of a chorale
texture (a string quartet's inner parts, a choir's alto, tenor and bass)."""

from __future__ import annotations

import bisect
import itertools
import logging
import math
import random
from collections.abc import Sequence

from ...score import Note
from ...score.types import EPS as _EPS
from ..plan import PartSpec, Plan
from .common import (
    _TICK,
    _bars,
    _chord_index,
    _chord_register,
    _ending_start,
    _energy_scale,
    _finish,
    _on_pulse,
    _plays_ending,
    _pulses,
    _swing,
    _vel,
    _voicings,
)

log = logging.getLogger(__name__)

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




def voice_pitch(pcs: Sequence[int], low: int, high: int, prev: int | None, *, ceiling: int,
                floor: int, want: set[int]) -> int | None:
    """The pitch for one voice of a chorale texture on a chord: a chord tone (of ``pcs``) in
    ``low``-``high`` nearest the voice's last pitch (or the middle of its range), a little
    against standing still, preferring the tones in ``want`` (those the other voices leave
    out), and far against reaching the tune above (``ceiling`` and up) or the voice below
    (``floor`` and down). None when no chord tone lies in the range."""
    best, best_cost = None, math.inf
    for p in range(low, high + 1):
        if p % 12 not in pcs:
            continue
        cost = abs(p - prev) + 1.5 * (p == prev) if prev is not None \
            else abs(p - (low + high) / 2) * 0.5
        if p >= ceiling:
            cost += 20 + (p - ceiling)
        if p <= floor:
            cost += 20 + (floor - p)
        if p % 12 not in want:
            cost += 3
        if cost < best_cost:
            best, best_cost = p, cost
    return best


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
            ceiling = top.pitch if top is not None and not bass else high + 1
            best = voice_pitch(tuple(want) if bass else pcs, low, high, prev, ceiling=ceiling,
                               floor=low - 1, want=want)
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
