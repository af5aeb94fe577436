"""The melody writer: tunes built from motifs that return, develop and cadence.

:func:`write_melody` writes the lead line of a :class:`~tunecraft.compose.plan.Plan`. How it
works, as a composer would describe it:

* **Motifs.** Every section kind (verse, chorus, bridge...) gets its own motif of one bar, or two
  bars when the style's melodies are sparse or the bar is short (2/4): a rhythm drawn from the
  style's density and syncopation on the metre's grid, a contour of scale steps drawn from its
  step/leap balance, and the chord degree it starts on.
* **Phrases** last ``phrase_bars`` bars (clamped to 2-8) and are a chain of motif-long cells: the
  motif, its *sequence* (the same shape moved by scale steps to the same degree of the next
  chord), a development (a literal repeat, the *inversion*, a *rhythmic variation* or a *tail
  change*) and a *cadence* (the motif's head, then a long note on a chord tone, then a breath).
  Eight-bar phrases are two halves, the first ending on a half cadence, the second bringing the
  motif back. Even phrases end on an open cadence (the third or fifth of the chord), odd ones on
  a closed one (the tonic when the chord holds it); the last phrase of the piece ends on the
  tonic, held to the end. A section's second phrase restates the motif (a parallel period) or,
  with less repetition, a developed form of it.
* **Harmony.** Notes on strong beats (the downbeat, the mid-bar beat), long notes, leaps and the
  first note of every cell are chord tones of the chord that sounds there (a note tied over a
  chord change belongs to the new chord: an anticipation); the rest are scale tones reached by
  step (passing and neighbour notes). Leaps never exceed ``max_leap`` and a leap of a fourth or
  more is answered by a step the other way. Melodic augmented seconds appear only where the
  style's scale has them.
* **Form.** A section kind is the same melody every time it returns (chords permitting: the plan
  gives a kind the same progression, except where the piece's final cadence replaces the last
  chords). The chorus (or drop, or the piece's main strain) is the hook: it sits higher in the
  range and repeats more than the verse. **Final lift:** in the last occurrence of the hook or
  chorus/drop (when it occurs more than once) the last phrase goes up an octave when the part's
  register allows; otherwise its climax note is raised to the next chord tone above. The intro
  plays the hook's motif softly into a half cadence in its last bars (intros under four bars
  rest); the outro echoes the hook's motif and resolves to the tonic, held to the end.
* **Rhythm and dynamics.** Section energy nudges density (more notes at high energy);
  ``rest_probability`` leaves breaths inside phrases; notes are legato up to the next note except
  before rests; the shortest note is a sixteenth (an eighth in compound metres). Swung styles
  have their off-beats moved with :func:`~tunecraft.styles.events.swing_time`. Velocity follows
  an arc over each phrase, loudest at its climax, scaled by the section's energy.

All randomness comes from ``plan.rng("melody", ...)``: the same plan gives the same tune.
"""

from __future__ import annotations

import bisect
import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from ..score.types import EPS as _EPS
from ..score.types import Chord, Note, TimeSignature
from ..styles.events import swing_time
from ..styles.model import MelodyCharacter
from .plan import PartSpec, Plan, SectionPlan

__all__ = ["HOOK_KINDS", "Motif", "fit_motif", "hook_motif", "write_melody"]


# The section kind that carries the hook: the first of these the form has.
HOOK_KINDS = ("chorus", "drop", "head", "a", "verse")
_EDGE_KINDS = ("intro", "outro")


# ----------------------------------------------------------------------------------------------
# The metre


@dataclass(frozen=True, slots=True)
class _Grid:
    """Where notes may fall in a bar and how strong each place is (times in beats)."""

    bar: float
    step: float  # the shortest note: a 16th, or an 8th in compound metres
    pulse: float  # the felt beat: a quarter, or a dotted quarter in compound metres
    half: float  # the subdivision of the pulse that counts as an off-beat
    groups: tuple[float, ...]  # starts of the beats (beat groups in 7/8)
    strong: tuple[float, ...]  # the downbeat and the mid-bar strong beat, if any
    compound: bool

    @property
    def positions(self) -> tuple[float, ...]:
        return tuple(i * self.step for i in range(max(1, round(self.bar / self.step))))

    def level(self, offset: float) -> int:
        """4 downbeat, 3 mid-bar strong beat, 2 beat, 1 off-beat, 0 anything finer."""
        o = offset % self.bar
        if o < _EPS or self.bar - o < _EPS:
            return 4
        if any(abs(o - s) < _EPS for s in self.strong):
            return 3
        if any(abs(o - g) < _EPS for g in self.groups):
            return 2
        r = o % self.half
        return 1 if r < _EPS or self.half - r < _EPS else 0


def _beat_groups(units: int) -> list[int]:
    """An irregular bar of ``units`` eighths as twos with a three at the end (7 -> 2+2+3)."""
    if units <= 3:
        return [units]
    groups = [2] * (units // 2)
    if units % 2:
        groups[-1] = 3
    return groups


def metre_grid(meter: TimeSignature) -> _Grid:
    """The melodic grid of a metre: 4/4, 3/4, 2/4, 6/8, 12/8, 7/8, 5/4, 2/2..."""
    num, den = meter.numerator, meter.denominator
    unit = 4 / den
    bar = num * unit
    if den >= 8 and num % 3 == 0 and num > 3:  # compound: 6/8, 9/8, 12/8
        sizes = [3] * (num // 3)
        compound, step, half = True, unit, unit
    elif den >= 8:  # irregular: 5/8, 7/8, 11/8
        sizes = _beat_groups(num)
        compound, step, half = False, min(0.25, unit / 2), unit
    else:  # simple: 2/4, 3/4, 4/4, 5/4, 2/2
        sizes = [1] * num
        compound, step, half = False, 0.25, unit / 2
    starts = [sum(sizes[:i]) * unit for i in range(len(sizes))]
    strong = [0.0]
    if len(starts) >= 4 and len(starts) % 2 == 0:  # 4/4, 12/8, 2/2: the middle of the bar
        strong.append(starts[len(starts) // 2])
    elif len(starts) >= 5:  # 5/4 as 3+2, 7/4 as 4+3
        strong.append(starts[(len(starts) + 1) // 2])
    pulse = sizes[0] * unit if compound else (unit if den <= 4 else 2 * unit)
    return _Grid(bar, step, pulse, half, tuple(starts), tuple(strong), compound)


# ----------------------------------------------------------------------------------------------
# Motifs and phrase skeletons (pitch-free: rhythm, scale steps, chord degrees)


@dataclass(frozen=True, slots=True)
class _Motif:
    """A rhythm and a contour: ``events`` are ``(offset, step, rest)`` within ``bars`` bars.

    ``step`` is the scale-step move into the note from the one before (0 for the first note,
    which is placed on chord degree ``degree``: 0 root, 1 third, 2 fifth).
    """

    events: tuple[tuple[float, int, bool], ...]
    bars: int
    degree: int


@dataclass(frozen=True, slots=True)
class _Ev:
    """One event of a phrase skeleton, ``at`` beats after the phrase start."""

    at: float
    step: int = 0
    rest: bool = False
    anchor: str | None = None  # "fresh" (phrase start), "seq" (a sequence), "repeat"
    degree: int = 0
    shift: int = 1  # which way a sequence over an unchanged chord moves
    height: float = 0.0  # the phrase's arch here, as a share of the range above its start
    cadence: str | None = None  # "open", "closed"
    until: float | None = None  # a held note's end (the breath after a cadence)


@dataclass(frozen=True, slots=True)
class _Profile:
    """How a section kind shapes its tune: density factor, tessitura (share of range), repeats."""

    density: float = 1.0
    tessitura: float = 0.0
    repetition: float = 0.0


_PROFILES: dict[str, _Profile] = {
    "verse": _Profile(1.0, -0.22, 0.0),
    "pre_chorus": _Profile(1.05, 0.05, 0.0),
    "chorus": _Profile(0.8, 0.3, 0.25),
    "post_chorus": _Profile(0.85, 0.2, 0.3),
    "drop": _Profile(0.9, 0.22, 0.25),
    "build": _Profile(1.1, 0.05, 0.1),
    "bridge": _Profile(0.9, 0.08, -0.1),
    "breakdown": _Profile(0.6, 0.0, 0.1),
    "solo": _Profile(1.3, 0.15, -0.3),
    "interlude": _Profile(0.8, 0.0, 0.0),
    "head": _Profile(1.0, 0.1, 0.15),
    "a": _Profile(1.0, 0.05, 0.15),
    "b": _Profile(1.0, 0.12, 0.0),
    "c": _Profile(1.0, 0.08, 0.0),
    "intro": _Profile(0.7, 0.0, 0.0),
    "outro": _Profile(0.7, 0.0, 0.0),
}

_WEIGHTS = {4: 12.0, 3: 6.0, 2: 4.0, 1: 2.0, 0: 0.6}


def _weighted_pick(rng: random.Random, items: Sequence[float], weights: Sequence[float]) -> float:
    total = sum(weights)
    r = rng.random() * total
    for item, w in zip(items, weights, strict=True):
        r -= w
        if r <= 0:
            return item
    return items[-1]


def _bar_rhythm(rng: random.Random, grid: _Grid, notes: float, syncopation: float,
                rest_probability: float, *, opening: bool) -> list[tuple[float, bool]]:
    """One bar of onsets ``(offset, rest)``: about ``notes`` of them, strong places preferred."""
    positions = list(grid.positions)
    k = max(1, min(len(positions), int(notes) + (rng.random() < notes - int(notes))))
    chosen: set[float] = set()
    if not opening or rng.random() > 0.35 * syncopation:
        chosen.add(0.0)
    per_pulse = k / max(1.0, grid.bar / grid.pulse)
    finer = {0: min(1.0, max(0.03, per_pulse - 1.5)), 1: min(1.0, max(0.25, per_pulse - 0.5))}
    weights = {}
    for p in positions:
        lv = grid.level(p)
        w = _WEIGHTS[lv] * finer.get(lv, 1.0)
        w *= (1 + 2.5 * syncopation) if lv <= 1 else (1 - 0.4 * syncopation)
        weights[p] = w
    while len(chosen) < k:
        free = [p for p in positions if p not in chosen]
        chosen.add(_weighted_pick(rng, free, [weights[p] for p in free]))
    events: list[tuple[float, bool]] = []
    for i, p in enumerate(sorted(chosen)):
        rest = (i > 0 and not events[-1][1] and len(chosen) > 2
                and rng.random() < 0.6 * rest_probability)
        events.append((p, rest))
    return events


def _contour(rng: random.Random, n: int, ch: MelodyCharacter, shape: str) -> list[int]:
    """Scale-step moves for ``n`` notes (the first is 0): steps, leaps answered by steps."""
    max_steps = max(2, min(4, round(ch.max_leap / 1.75)))
    steps = [0]
    height = 0
    for i in range(1, n):
        x = i / max(1, n - 1)
        prev = steps[-1]
        if abs(prev) >= 3:  # a leap of a fourth or more: step back
            step = -int(math.copysign(1, prev))
        else:
            r = rng.random()
            if r < 0.12 * ch.repetition:
                size = 0
            elif r < 0.12 * ch.repetition + ch.step_probability + 0.5 * (1 - ch.step_probability):
                size = 1
            else:
                size = rng.choice([2, 2, 2, 3, 3, 4][: 3 + max_steps])
                size = min(size, max_steps)
            up = {"arch": 0.78 if x <= 0.55 else 0.22, "valley": 0.22 if x <= 0.55 else 0.78,
                  "rise": 0.7, "fall": 0.3}[shape]
            direction = 1 if rng.random() < up else -1
            if abs(height + direction * size) > 5:
                direction = -direction
            step = direction * size
        height += step
        steps.append(step)
    return steps


def _make_motif(rng: random.Random, grid: _Grid, ch: MelodyCharacter, bars: int,
                notes_per_bar: float) -> _Motif:
    """The best of a few sketched motifs: the one whose steps and leaps fit the style."""
    sketches = [_sketch_motif(rng, grid, ch, bars, notes_per_bar) for _ in range(6)]
    return min(sketches, key=lambda m: _motif_fault(m, ch))


def _motif_fault(m: _Motif, ch: MelodyCharacter) -> float:
    """How far a motif's contour is from the style's step/leap balance (and from moving)."""
    moves = [s for _, s, r in m.events if not r][1:]
    if not moves:
        return 1.0
    steps = sum(1 for s in moves if abs(s) <= 1) / len(moves)
    fault = abs(steps - min(0.9, max(ch.step_probability, 0.6) + 0.1))
    if all(s == 0 for s in moves):
        fault += 0.5
    return fault


def _sketch_motif(rng: random.Random, grid: _Grid, ch: MelodyCharacter, bars: int,
                  notes_per_bar: float) -> _Motif:
    """A fresh motif of ``bars`` bars (the second bar of a two-bar motif answers more calmly)."""
    rhythm: list[tuple[float, bool]] = []
    for b in range(bars):
        n = notes_per_bar * (1.0 if b == 0 else 0.75)
        rhythm += [(b * grid.bar + o, r) for o, r in
                   _bar_rhythm(rng, grid, n, ch.syncopation, ch.rest_probability,
                               opening=b == 0)]
    n_notes = sum(1 for _, r in rhythm if not r)
    shape = rng.choice(("arch", "arch", "valley", "rise", "fall"))
    steps = iter(_contour(rng, n_notes, ch, shape))
    events = tuple((o, 0 if r else next(steps), r) for o, r in rhythm)
    degree = rng.choices((0, 1, 2), weights=(0.3, 0.4, 0.3))[0]
    return _Motif(events, bars, degree)


def _notes(m: _Motif) -> list[tuple[float, int, bool]]:
    return [e for e in m.events if not e[2]]


def _invert(m: _Motif) -> _Motif:
    """The motif upside down: every move reversed."""
    return replace(m, events=tuple((o, -s, r) for o, s, r in m.events))


def _vary_rhythm(rng: random.Random, grid: _Grid, m: _Motif) -> _Motif:
    """Split the longest note, or drop a short one, or push a note earlier (a syncopation)."""
    ev = list(m.events)
    length = m.bars * grid.bar
    ends = [ev[i + 1][0] if i + 1 < len(ev) else length for i in range(len(ev))]
    notes = [i for i, e in enumerate(ev) if not e[2]]
    choice = rng.random()
    longest = max(notes, key=lambda i: ends[i] - ev[i][0]) if notes else None
    if longest is not None and choice < 0.45:
        o, s, _ = ev[longest]
        mid = o + round((ends[longest] - o) / 2 / grid.step) * grid.step
        if o + grid.step - _EPS <= mid <= ends[longest] - grid.step + _EPS:
            d = rng.choice((-1, 1))
            ev.insert(longest + 1, (mid, d, False))
            nxt = next((j for j in range(longest + 2, len(ev)) if not ev[j][2]), None)
            if nxt is not None:
                o2, s2, r2 = ev[nxt]
                ev[nxt] = (o2, s2 - d, r2)
            return replace(m, events=tuple(ev))
    if len(notes) > 2 and choice < 0.75:
        i = min(notes[1:], key=lambda j: (ends[j] - ev[j][0], -j))
        o, s, _ = ev.pop(i)
        nxt = next((j for j in range(i, len(ev)) if not ev[j][2]), None)
        if nxt is not None:
            o2, s2, r2 = ev[nxt]
            ev[nxt] = (o2, s2 + s, r2)
        return replace(m, events=tuple(ev))
    for i in range(len(ev) - 1, 0, -1):  # anticipate: move a note half a beat earlier
        o, s, r = ev[i]
        new = o - grid.half
        if not r and new > ev[i - 1][0] + grid.step - _EPS:
            ev[i] = (new, s, r)
            return replace(m, events=tuple(ev))
    return m


def _change_tail(rng: random.Random, m: _Motif, ch: MelodyCharacter) -> _Motif:
    """Keep the motif's head, give it a new ending (moving the other way)."""
    notes = [i for i, e in enumerate(m.events) if not e[2]]
    if len(notes) < 3:
        return _invert(m)
    keep = len(notes) // 2
    new = _contour(rng, len(notes) - keep + 1, ch, rng.choice(("fall", "rise", "valley")))[1:]
    ev = list(m.events)
    for j, i in enumerate(notes[keep:]):
        o, _, r = ev[i]
        ev[i] = (o, new[j], r)
    return replace(m, events=tuple(ev))


def _develop(rng: random.Random, grid: _Grid, m: _Motif, ch: MelodyCharacter) -> _Motif:
    """A development of a motif: inversion, rhythmic variation or a new tail."""
    op = rng.choice(("invert", "rhythm", "tail"))
    if op == "invert":
        return _invert(m)
    if op == "rhythm":
        return _vary_rhythm(rng, grid, m)
    return _change_tail(rng, m, ch)


def _cell(m: _Motif, at: float, anchor: str, shift: int = 1,
          height: float = 0.0) -> list[_Ev]:
    """A motif placed ``at`` beats into a phrase, its first note anchored to the chord."""
    out: list[_Ev] = []
    first = True
    for o, s, r in m.events:
        if r:
            out.append(_Ev(at + o, rest=True))
        else:
            out.append(_Ev(at + o, s, anchor=anchor if first else None,
                           degree=m.degree if first else 0, shift=shift, height=height))
            first = False
    return out


def _cadence_cell(rng: random.Random, grid: _Grid, m: _Motif, at: float, bars: int,
                  kind: str, anchor: str) -> list[_Ev]:
    """The motif's head, then a long note on a chord tone, then a breath to the phrase end."""
    end = bars * grid.bar
    land = (bars - 1) * grid.bar
    if len(grid.strong) > 1 and rng.random() < 0.45:
        land += grid.strong[1]
    head: list[_Ev] = []
    length = m.bars * grid.bar
    copies = 0
    while copies * length < land - _EPS:
        cell = _cell(m, copies * length, anchor if copies == 0 else "seq")
        head += [e for e in cell if e.at < land - grid.step + _EPS]
        copies += 1
    while head and head[-1].rest:
        head.pop()
    hold = end - land
    breath = grid.pulse if hold - grid.pulse >= 1.5 * grid.pulse - _EPS else grid.half
    if hold - breath < grid.pulse - _EPS:
        breath = max(0.0, min(breath, hold - grid.pulse))
    breath = max(breath, grid.step) if hold > grid.step + _EPS else 0.0
    last = _Ev(land, -1, anchor=None if head else anchor, degree=m.degree, cadence=kind,
               until=end - breath)
    return [replace(e, at=at + e.at) for e in head] + [replace(last, at=at + last.at,
                                                               until=at + end - breath)]


def _phrase_ops(rng: random.Random, n: int, repetition: float, *, closed: bool) -> list[str]:
    """What each motif-long cell of a phrase does: motif, sequence, development, cadence."""
    def dev() -> str:
        return "repeat" if rng.random() < 0.8 * repetition else rng.choice(
            ("invert", "rhythm", "tail", "rhythm"))

    def run(k: int, end: str) -> list[str]:
        if k == 1:
            return [end]
        if k == 2:
            return ["motif", end]
        return ["motif", "sequence"] + [dev() for _ in range(k - 3)] + [end]

    last = "closed" if closed else "open"
    if n <= 4:
        return run(n, last)
    a = n // 2
    return run(a, "open") + run(n - a, last)


@dataclass(frozen=True, slots=True)
class _Phrase:
    """A phrase skeleton: events from its start, its length in beats."""

    events: tuple[_Ev, ...]
    length: float


def _phrase(rng: random.Random, grid: _Grid, motif: _Motif, ch: MelodyCharacter, bars: int,
            repetition: float, *, closed: bool) -> _Phrase:
    """A phrase of ``bars`` bars from a motif: cells of the motif's length, ending in a cadence."""
    mb = motif.bars if bars >= 2 * motif.bars else 1
    if mb != motif.bars:  # a short phrase from a long motif: its first bar
        motif = replace(motif, bars=1,
                        events=tuple(e for e in motif.events if e[0] < grid.bar - _EPS))
    n = max(1, bars // mb)
    ops = _phrase_ops(rng, n, repetition, closed=closed)
    events: list[_Ev] = []
    heights = [_arch(i / max(1, n - 1)) for i in range(n)]
    for i, op in enumerate(ops):
        at = i * mb * grid.bar
        h = heights[i]
        shift = 1 if i == 0 or h >= heights[i - 1] else -1  # sequences climb, then fall
        if op in ("open", "closed"):
            cell_bars = bars - i * mb
            events += _cadence_cell(rng, grid, motif, at, cell_bars, op,
                                    "fresh" if i == 0 else "seq")
        elif op == "motif":
            events += _cell(motif, at, "fresh" if i == 0 else "repeat")
        elif op == "sequence":
            events += _cell(motif, at, "seq", shift, h)
        elif op == "repeat":
            events += _cell(motif, at, "repeat")
        elif op == "invert":
            events += _cell(_invert(motif), at, "seq", shift, h)
        elif op == "rhythm":
            events += _cell(_vary_rhythm(rng, grid, motif), at, "repeat")
        else:
            events += _cell(_change_tail(rng, motif, ch), at, "seq", shift, h)
    return _Phrase(tuple(events), bars * grid.bar)


def _arch(x: float) -> float:
    """The height of a phrase at ``x`` (0..1): rising to its climax at 60%, falling to rest."""
    return 0.3 * (x / 0.6 if x <= 0.6 else max(0.0, (1 - x) / 0.4))


def _phrase_lengths(bars: int, phrase_bars: int) -> list[int]:
    """A section's bars as phrases: whole phrases, a short one at the end (a lone bar joins)."""
    if bars <= phrase_bars:
        return [bars]
    out = [phrase_bars] * (bars // phrase_bars)
    rest = bars % phrase_bars
    if rest >= 2:
        out.append(rest)
    elif rest == 1:
        out[-1] += 1
    return out


# ----------------------------------------------------------------------------------------------
# Pitches


@dataclass(frozen=True, slots=True)
class _Pitches:
    """The pitch space of the tune: the scale, the comfortable range and the part's register."""

    tonic: int
    scale: frozenset[int]  # pitch classes
    lo: int  # the tune's range (the style's span around a comfortable centre)
    hi: int
    low: int  # the part's register
    high: int
    max_leap: int

    @property
    def centre(self) -> float:
        return (self.lo + self.hi) / 2

    def scale_pitches(self) -> list[int]:
        return [p for p in range(self.lo, self.hi + 1) if p % 12 in self.scale]

    def in_scale(self, p: int) -> bool:
        return p % 12 in self.scale

    def aug_second(self, a: int, b: int, chord: Sequence[int] = ()) -> bool:
        """A 3-semitone move touching a note outside the scale (an augmented second).

        Two tones of one chord a minor third apart are a third, not a second: allowed.
        """
        if abs(a - b) != 3 or (self.in_scale(a) and self.in_scale(b)):
            return False
        return not (a % 12 in chord and b % 12 in chord)


def _pitch_space(plan: Plan, part: PartSpec, ch: MelodyCharacter) -> _Pitches:
    """The style's melodic range placed around the middle of the part's register."""
    low, high = part.low, part.high
    if high - low < 12:  # a register narrower than an octave: widen it upwards
        high = min(127, low + 12)
    span = max(7, min(int(ch.range), high - low))
    centre = (low + high) / 2 + 1  # a touch above the middle: leads sing out
    lo = max(low, round(centre - span / 2))
    hi = lo + span
    if hi > high:
        hi, lo = high, high - span
    scale = frozenset((plan.key.tonic + s) % 12 for s in ch.scale(plan.key.mode))
    return _Pitches(plan.key.tonic, scale, lo, hi, low, high, max(2, int(ch.max_leap)))


@dataclass(frozen=True, slots=True)
class _Slot:
    """A note to be pitched: absolute times, metric level and what the skeleton asks of it."""

    start: float
    end: float
    level: int
    ev: _Ev
    phrase: int  # index of its phrase in the section
    heard: bool = False  # on a strong beat or long: the harmony is heard in it


def _pick(space: _Pitches, pcs: Sequence[int], target: float, prev: int | None,
          want: int = 0, smooth: float = 0.0) -> int:
    """The pitch of one of ``pcs`` best placed near ``target`` after ``prev``.

    Pitches inside the tune's range are preferred, the part's register is the limit. ``want``
    (+1/-1) asks for a small move in that direction (a leap's answer); ``smooth`` weighs
    closeness to ``prev``.
    """
    pool = [p for p in range(space.low, space.high + 1) if p % 12 in pcs]
    if not pool:
        return int(min(max(round(target), space.low), space.high))

    def cost(p: int) -> float:
        c = abs(p - target) + 1.5 * (max(0, space.lo - p) + max(0, p - space.hi))
        if not space.in_scale(p):
            c += 0.6
        if prev is not None:
            d = p - prev
            c += smooth * abs(d)
            if abs(d) > space.max_leap:
                c += 20 + abs(d)
            if space.aug_second(prev, p, pcs):
                c += 12
            if abs(d) == 6:
                c += 3
            if want and (d * want <= 0 or abs(d) > 4):
                c += 5
        return c

    return min(pool, key=lambda p: (cost(p), abs(p - space.centre), p))


def _scale_move(space: _Pitches, prev: int, step: int) -> int:
    """``step`` scale steps from ``prev`` inside the tune's range (bouncing off its edges)."""
    sp = space.scale_pitches()
    if not sp:
        return prev
    if step == 0:
        return prev
    if prev in sp:
        base = sp.index(prev)
    elif step > 0:
        base = bisect.bisect_right(sp, prev) - 1
    else:
        base = bisect.bisect_left(sp, prev)
    for j in (base + step, base - step):
        if 0 <= j < len(sp):
            return sp[j]
    return sp[min(max(base, 0), len(sp) - 1)]


def _answer(space: _Pitches, prev: int, want: int, pcs: Sequence[int], *,
            need_chord: bool) -> int | None:
    """A move back in direction ``want`` after a leap: the nearest chord tone that way (a step
    or a third; over a bare fifth it may be further), or a scale step where no harmony needs
    to be heard."""
    reach = range(1, space.max_leap + 1)
    near = [prev + want * d for d in reach if space.low <= prev + want * d <= space.high]
    chord = [p for p in near if p % 12 in pcs and not space.aug_second(prev, p, pcs)]
    if chord and abs(chord[0] - prev) <= 2:
        return chord[0]
    if not need_chord:
        for p in near[:2]:
            if space.in_scale(p) and not space.aug_second(prev, p, pcs):
                return p
    return chord[0] if chord else None


def _realise(slots: Sequence[_Slot], chord_of: Callable[[float, float], Chord],
             space: _Pitches, centre: float, final_tonic: bool,
             keep_contour: bool = False, anchor_shift: float = 0.0) -> list[int]:
    """Pitch a section's notes: chord tones where the harmony is heard, scale steps between.

    A cell's first note takes its chord degree: near the tessitura at a phrase start, the
    motif's first pitch moved with the chord root in a repeat, and in a sequence the motif's
    shape moved to the new chord (a chord tone up or down when the chord stays).
    """
    pitches: list[int] = []
    prev: int | None = None
    prev_move = 0
    phrase_anchor: tuple[int, int] | None = None  # (pitch, chord root) of the phrase's motif
    cell_anchor: tuple[int, int] | None = None  # the same for the last cell
    upper, lower = centre + 0.25 * (space.hi - space.lo), centre - 0.25 * (space.hi - space.lo)
    for i, s in enumerate(slots):
        ev = s.ev
        chord = chord_of(s.start, s.end)
        pcs = chord.pitch_classes
        step = ev.step
        # (``keep_contour``: a given motif keeps its shape; the range edges still bounce.)
        high_up = not keep_contour and prev is not None and prev > upper and step > 0
        low_down = not keep_contour and prev is not None and prev < lower and step < 0
        if high_up or low_down:
            step = -step  # gravity: turn back towards the tessitura
        want = -int(math.copysign(1, prev_move)) if abs(prev_move) >= 5 else 0
        if want:
            step = want
        target: float = centre
        if prev is not None:
            target = _scale_move(space, prev, step)
            while abs(step) > 1 and (abs(target - prev) > space.max_leap
                                     or abs(target - prev) == 6):  # no tritone leaps
                step -= int(math.copysign(1, step))
                target = _scale_move(space, prev, step)
        last = final_tonic and i == len(slots) - 1
        need_chord = True
        if last:
            p = _pick(space, (space.tonic,), target, prev, want, smooth=0.2)
        elif ev.cadence is not None:
            tones: Sequence[int] = pcs
            if ev.cadence == "closed":
                tones = (space.tonic,) if space.tonic in pcs else (chord.root,)
            elif len(pcs) >= 3:
                tones = tuple(pcs[1:3])
            p = _pick(space, tones, 0.5 * target + 0.5 * centre, prev, want)
            if prev is not None and abs(p - prev) > space.max_leap:  # out of reach: any tone
                p = _pick(space, pcs, 0.5 * target + 0.5 * centre, prev, want)
        elif ev.anchor is not None:
            pc = pcs[ev.degree % len(pcs)]
            if ev.anchor == "fresh" or phrase_anchor is None or cell_anchor is None:
                home = centre - anchor_shift  # room for a given motif's rise (or fall)
                ref = home if prev is None else 0.3 * prev + 0.7 * home
                p = _pick(space, (pc,), ref, prev, want, smooth=0.3)
            elif ev.anchor == "repeat":
                move = (chord.root - phrase_anchor[1] + 6) % 12 - 6
                p = _pick(space, (pc,), phrase_anchor[0] + move, prev, want)
            else:
                move = (chord.root - cell_anchor[1] + 6) % 12 - 6
                seq = cell_anchor[0] + (move or 3 * ev.shift)
                arch = phrase_anchor[0] + ev.height * (space.hi - space.lo)
                ref = 0.5 * seq + 0.3 * arch + 0.2 * centre
                p = _pick(space, pcs, ref, prev, want, smooth=0.3)
            if prev is not None and abs(p - prev) > space.max_leap:
                p = _pick(space, pcs, p, prev, want, smooth=0.3)
            cell_anchor = (p, chord.root)
            if ev.anchor == "fresh" or phrase_anchor is None:
                phrase_anchor = cell_anchor
        else:
            structural = s.heard or (prev is not None and abs(target - prev) > 2)
            need_chord = s.level >= 3
            p = int(target)
            if prev is not None and space.aug_second(prev, p, pcs):
                structural = True
            if structural and p % 12 not in pcs:
                p = _pick(space, pcs, target, prev, want)
        if want and not last and prev is not None and (
                (p - prev) * want <= 0 or abs(p - prev) > 2):
            p = _answer(space, prev, want, pcs, need_chord=need_chord) or p
        if prev is not None:
            prev_move = p - prev
        prev = p
        pitches.append(p)
    if final_tonic:
        _approach(space, pitches)
    _no_parallels(space, pitches, slots, chord_of, keep_last=final_tonic)
    return pitches


def moves_with_the_roots(before: int, a: Chord, pitch: int, b: Chord) -> bool:
    """Whether a tune moving from ``before`` over chord ``a`` to ``pitch`` over chord ``b``
    goes with the roots (the bass, the shorter way) from an octave or fifth above one to the
    same interval above the next: parallel octaves or fifths with the bass."""
    if a.root == b.root or pitch == before:
        return False
    interval = (before - a.root) % 12
    bass = (b.root - a.root + 6) % 12 - 6  # the root's move, the shorter way
    return interval in (0, 7) and (pitch - b.root) % 12 == interval and \
        (pitch - before) * bass > 0


def _no_parallels(space: _Pitches, pitches: list[int], slots: Sequence[_Slot],
                  chord_of: Callable[[float, float], Chord], *, keep_last: bool) -> None:
    """No parallel octaves or fifths with the bass: where the chord changes under the tune
    and the tune would move with the bass (its root, the shorter way) from an octave or fifth
    above it to the same interval, the tune takes the new chord's third instead (the nearest,
    within a major third, inside the tune's range and a leap's reach of its neighbours), as
    a voice-leading teacher would ask, and a leap it makes turns back after. Cadence notes,
    the first note of a repeated motif and the final tonic stay."""
    for i in range(1, len(pitches)):
        ev = slots[i].ev
        if (keep_last and i == len(pitches) - 1) or ev.cadence is not None \
                or ev.anchor == "repeat":  # the motif said again stays the motif
            continue
        a, b = chord_of(slots[i - 1].start, slots[i - 1].end), chord_of(slots[i].start,
                                                                      slots[i].end)
        if slots[i].start <= slots[i - 1].start or not moves_with_the_roots(
                pitches[i - 1], a, pitches[i], b):
            continue
        third = (b.root + b.intervals[1]) % 12 if len(b.intervals) > 1 else None
        if third is None:
            continue
        nxt = pitches[i + 1] if i + 1 < len(pitches) else None
        options = [q for q in range(pitches[i] - 4, pitches[i] + 5)
                   if q % 12 == third and space.lo <= q <= space.hi
                   and abs(q - pitches[i - 1]) <= space.max_leap
                   and (nxt is None or abs(nxt - q) <= space.max_leap)
                   and (abs(q - pitches[i - 1]) < 5  # a leap only if the next note turns
                        or (nxt is not None and (nxt - q) * (q - pitches[i - 1]) < 0))]
        if options:
            pitches[i] = min(options, key=lambda q: (abs(q - pitches[i]), q))


def _approach(space: _Pitches, pitches: list[int]) -> None:
    """Lead into the final tonic by step when it is out of a leap's reach (2-1 or 7-1)."""
    for i in range(len(pitches) - 2, max(-1, len(pitches) - 5), -1):
        if abs(pitches[i] - pitches[i + 1]) <= space.max_leap:
            return
        side = 1 if pitches[i] > pitches[i + 1] else -1
        near = [pitches[i + 1] + side * d for d in (1, 2)]
        pitches[i] = next((q for q in reversed(near) if space.in_scale(q)), near[-1])


# ----------------------------------------------------------------------------------------------
# Assembly


@dataclass(frozen=True, slots=True)
class _Voice:
    """Everything fixed for one call: the plan, the part, the character and derived facts."""

    plan: Plan
    grid: _Grid
    ch: MelodyCharacter
    space: _Pitches
    phrase_bars: int
    hook: str
    energy: dict[str, float]  # a kind's energy (its first occurrence): density is per kind
    motif: _Motif | None = None  # a given hook motif (story mode: shared across segments)
    develop: bool = False  # other kinds develop the given motif (continuation)


def _hook_kind(sections: Sequence[SectionPlan]) -> str:
    kinds = [s.kind for s in sections]
    for k in HOOK_KINDS:
        if k in kinds:
            return k
    middle = [k for k in kinds if k not in _EDGE_KINDS]
    return max(middle, key=kinds.count) if middle else kinds[0]


def _notes_per_bar(v: _Voice, kind: str) -> float:
    prof = _PROFILES.get(kind, _Profile())
    energy = v.energy.get(kind, 0.5)
    per_beat = v.ch.density * prof.density * (0.8 + 0.4 * energy)
    return max(1.0, per_beat * v.grid.bar)


def _motif_bars(v: _Voice, kind: str) -> int:
    sparse = _notes_per_bar(v, kind) < 2.5 or v.grid.bar <= 2 + _EPS
    return 2 if sparse and v.phrase_bars >= 4 else 1


def _motif(v: _Voice, kind: str) -> _Motif:
    if v.motif is not None and kind == v.hook:
        return v.motif
    rng = v.plan.rng("melody", kind, "motif")
    if v.motif is not None and v.develop:
        return _develop(rng, v.grid, v.motif, v.ch)
    return _make_motif(rng, v.grid, v.ch, _motif_bars(v, kind), _notes_per_bar(v, kind))


def _repetition(v: _Voice, kind: str) -> float:
    return min(1.0, max(0.0, v.ch.repetition + _PROFILES.get(kind, _Profile()).repetition))


def _kind_phrase(v: _Voice, kind: str, index: int, bars: int) -> _Phrase:
    """Phrase ``index`` (of ``bars`` bars) of a section kind: the same every time it returns."""
    rng = v.plan.rng("melody", kind, "phrase", index, bars)
    motif = _motif(v, kind)
    rep = _repetition(v, kind)
    if index % 2 == 1 and rng.random() >= rep:
        motif = _develop(rng, v.grid, motif, v.ch)
    elif index >= 2 and rng.random() >= 0.5 + rep / 2:
        motif = _develop(rng, v.grid, motif, v.ch)
    return _phrase(rng, v.grid, motif, v.ch, bars, rep, closed=index % 2 == 1)


def _edge_phrases(v: _Voice, s: SectionPlan) -> list[tuple[float, _Phrase]]:
    """Intro: the hook's motif softly into a half cadence. Outro: its echo, resolving."""
    motif = _motif(v, v.hook)
    mb = motif.bars if s.bars >= 2 * motif.bars else 1
    unit = 2 * mb
    if s.kind == "intro":
        if s.bars < 4:
            return []
        count = 1
    else:
        count = max(1, min(2, s.bars // unit))
    out = []
    for j in range(count):
        bars = unit if s.bars >= unit else s.bars
        start_bar = s.bars - (count - j) * bars
        rng = v.plan.rng("melody", s.kind, "phrase", j, bars)
        ph = _phrase(rng, v.grid, motif, v.ch, bars, 1.0,
                     closed=s.kind == "outro" and j == count - 1)
        out.append((start_bar * v.grid.bar, ph))
    return out


def _section_phrases(v: _Voice, s: SectionPlan) -> list[tuple[float, _Phrase]]:
    """The phrases of a section, with their offsets from its start."""
    if s.kind in _EDGE_KINDS and s.kind != v.hook:
        return _edge_phrases(v, s)
    out = []
    at = 0.0
    for i, bars in enumerate(_phrase_lengths(s.bars, v.phrase_bars)):
        out.append((at, _kind_phrase(v, s.kind, i, bars)))
        at += bars * v.grid.bar
    return out


def _swing(v: _Voice, t: float) -> float:
    """Swing an absolute time (bars start on the grid, so offsets are taken within the bar)."""
    if v.plan.swing <= 0.5 or v.grid.compound:
        return t
    bar_start = math.floor(t / v.grid.bar + _EPS) * v.grid.bar
    return bar_start + swing_time(t - bar_start, v.plan.swing, v.plan.swing_unit)


def _slots(v: _Voice, s: SectionPlan, phrases: list[tuple[float, _Phrase]]) -> list[_Slot]:
    """Timed notes of a section: legato to the next event, held notes to their breath."""
    timed: list[tuple[float, _Ev, int]] = []
    for k, (off, ph) in enumerate(phrases):
        for e in ph.events:
            timed.append((s.start + off + e.at, e, k))
    timed.sort(key=lambda x: x[0])
    slots: list[_Slot] = []
    for i, (t, e, k) in enumerate(timed):
        if e.rest:
            continue
        start = _swing(v, t)
        nxt = _swing(v, timed[i + 1][0]) if i + 1 < len(timed) else s.end
        end = min(nxt, s.end)
        if e.until is not None:
            end = min(end, _swing(v, s.start + phrases[k][0] + e.until))
        if end - start < 1 / 8 - _EPS:
            continue
        level = v.grid.level(t - s.start)
        heard = level >= 3 or end - start >= 1.5 * v.grid.pulse - _EPS
        slots.append(_Slot(start, end, level, e, k, heard))
    return slots


def _chord_lookup(chords: Sequence[Chord]) -> Callable[[float, float], Chord]:
    """The chord a note belongs to: the one at its start, or the next if it is tied into it."""
    starts = [c.start for c in chords]

    def at(t: float) -> Chord:
        i = bisect.bisect_right(starts, t + _EPS) - 1
        return chords[max(0, i)]

    def of(start: float, end: float) -> Chord:
        first = at(start)
        later = at(end - _EPS)
        if later is not first and end - later.start > later.start - start:
            return later  # an anticipation: the note belongs to the chord it is tied into
        return first

    return of


def _velocities(slots: Sequence[_Slot], pitches: Sequence[int], energy: float,
                scale: float) -> list[int]:
    """An arc over each phrase, loudest at its climax, scaled by the section's energy."""
    out = [0] * len(slots)
    base = 58 + 44 * energy
    by_phrase: dict[int, list[int]] = {}
    for i, s in enumerate(slots):
        by_phrase.setdefault(s.phrase, []).append(i)
    for idx in by_phrase.values():
        t0, t1 = slots[idx[0]].start, max(slots[i].end for i in idx)
        peak = max(idx, key=lambda i: (pitches[i], -i))
        cx = min(0.85, max(0.2, (slots[peak].start - t0) / max(t1 - t0, _EPS)))
        for i in idx:
            x = (slots[i].start - t0) / max(t1 - t0, _EPS)
            arc = 1 - abs(x - cx) / max(cx, 1 - cx)
            accent = {4: 4, 3: 3, 2: 1, 1: 0, 0: -3}[slots[i].level]
            v = (base - 8 + 16 * arc + accent) * scale
            out[i] = int(min(120, max(30, round(v))))
    return out


def _lift(space: _Pitches, pitches: list[int], idx: Sequence[int], slots: Sequence[_Slot],
          chord_of: Callable[[float, float], Chord]) -> None:
    """The final chorus's last phrase: an octave up if it fits, else a higher climax note."""
    if not idx:
        return
    if all(pitches[i] + 12 <= space.high for i in idx):
        for i in idx:
            pitches[i] += 12
        return
    for i in sorted(idx, key=lambda j: (-pitches[j], j)):
        pcs = chord_of(slots[i].start, slots[i].end).pitch_classes
        above = [p for p in range(pitches[i] + 1, pitches[i] + 8) if p % 12 in pcs]
        for p in above:
            if p > space.high:
                break
            ok = all(abs(p - pitches[j]) <= space.max_leap
                     for j in (i - 1, i + 1) if 0 <= j < len(pitches))
            if ok:
                pitches[i] = p
                return


def write_melody(plan: Plan, part: PartSpec, *,
                 character: MelodyCharacter | None = None,
                 motif: Motif | None = None,
                 develop_motif: bool = False) -> tuple[Note, ...]:
    """The melody of ``part`` over ``plan``: motifs that return, develop and cadence.

    ``character`` defaults to the plan's style melody. ``motif`` (from :func:`hook_motif`,
    fitted with :func:`fit_motif`) replaces the hook's own motif: the tune of another piece
    comes back here, in this plan's key, chords and metre; with ``develop_motif`` the other
    section kinds get developments of it (inversion, rhythmic variation, a new tail) instead of
    motifs of their own (continuation: the whole tune grows from the input's motif). Notes are
    in beats, monophonic, sorted, inside the part's register and inside the piece; the tune of
    a section kind is the same each time it returns (see the module docstring for the final
    lift, the intro and the outro).
    """
    ch = character or plan.style.melody
    if not plan.sections:
        return ()
    grid = metre_grid(plan.meter)
    energy: dict[str, float] = {}
    for s in plan.sections:
        energy.setdefault(s.kind, s.energy)
    v = _Voice(plan, grid, ch, _pitch_space(plan, part, ch), max(2, min(8, int(ch.phrase_bars))),
               _hook_kind(plan.sections), energy, motif, develop_motif and motif is not None)
    chord_of = _chord_lookup(sorted(plan.chords, key=lambda c: c.start))
    played = [s for s in plan.sections if part.plays_in(s.kind)]
    counts = {k: sum(1 for s in plan.sections if s.kind == k) for k in energy}
    notes: list[Note] = []
    for n, s in enumerate(played):
        phrases = _section_phrases(v, s)
        slots = _slots(v, s, phrases)
        if not slots:
            continue
        last_section = n == len(played) - 1
        if last_section:  # the piece's last note is the tonic, held to the end
            slots[-1] = replace(slots[-1], end=s.end)
        prof = _PROFILES.get(s.kind, _Profile())
        centre = v.space.centre + prof.tessitura * (v.space.hi - v.space.lo)
        pitches = _realise(slots, chord_of, v.space, centre, last_section,
                           keep_contour=v.motif is not None,
                           anchor_shift=_motif_middle(v.motif) if v.motif is not None else 0.0)
        lift_kind = s.kind in ("chorus", "drop") or s.kind == v.hook
        if lift_kind and s.final and counts[s.kind] > 1 and s.kind not in _EDGE_KINDS:
            last_phrase = slots[-1].phrase
            _lift(v.space, pitches, [i for i, x in enumerate(slots) if x.phrase == last_phrase],
                  slots, chord_of)
        scale = 0.78 if s.kind == "intro" else (0.9 if s.kind == "outro" else 1.0)
        vels = _velocities(slots, pitches, s.energy, scale)
        for x, p, vel in zip(slots, pitches, vels, strict=True):
            notes.append(Note(int(p), x.start, x.end - x.start, vel))
    notes.sort(key=lambda nt: nt.start)
    return _monophonic(notes, plan.length)


def _monophonic(notes: list[Note], length: float) -> tuple[Note, ...]:
    """Trim any overlap and anything past the end of the piece."""
    out: list[Note] = []
    for i, n in enumerate(notes):
        end = min(n.end, length, notes[i + 1].start if i + 1 < len(notes) else length)
        if n.start >= length - _EPS or end - n.start < 1 / 16:
            continue
        out.append(replace(n, duration=end - n.start))
    return tuple(out)


# ----------------------------------------------------------------------------------------------
# Motifs shared between pieces (story mode)

Motif = _Motif  # public name: a motif is opaque outside this module (rhythm, steps, degree)


def hook_motif(plan: Plan, part: PartSpec, *,
               character: MelodyCharacter | None = None) -> Motif:
    """The motif :func:`write_melody` would give this plan's hook (chorus, drop, A strain...)."""
    ch = character or plan.style.melody
    if not plan.sections:
        raise ValueError("a plan without sections has no hook")
    energy: dict[str, float] = {}
    for s in plan.sections:
        energy.setdefault(s.kind, s.energy)
    v = _Voice(plan, metre_grid(plan.meter), ch, _pitch_space(plan, part, ch),
               max(2, min(8, int(ch.phrase_bars))), _hook_kind(plan.sections), energy)
    return _motif(v, v.hook)


def _motif_middle(motif: Motif) -> float:
    """Semitones from a motif's first note to the middle of its span (a scale step ~1.7)."""
    h, heights = 0, [0]
    for _, step, _ in _notes(motif)[1:]:
        h += step
        heights.append(h)
    return 1.7 * (max(heights) + min(heights)) / 2


def motif_notes(motif: Motif) -> int:
    """How many notes (not rests) a motif has."""
    return len(_notes(motif))


def fit_motif(motif: Motif, source: TimeSignature, meter: TimeSignature, *,
              augment: int = 1) -> Motif:
    """A motif written in ``source`` re-rhythmed for ``meter``.

    Each event keeps its place as a share of the motif (snapped to the new metre's grid); the
    contour (scale steps) and the chord degree of the first note stay, so the tune comes back
    in any key. ``augment`` 2 plays it in notes twice as long over twice as many bars (a calm
    statement of a busy motif). Events that would collide on the new grid merge (their steps
    add up), so the overall shape survives.
    """
    if augment not in (1, 2):
        raise ValueError("augment must be 1 or 2")
    grid = metre_grid(meter)
    bars = motif.bars * augment
    total = motif.bars * source.bar_beats
    length = bars * grid.bar
    out: list[tuple[float, int, bool]] = []
    for o, s, r in motif.events:
        at = round(o / total * length / grid.step) * grid.step
        at = min(at, length - grid.step)
        if out and at <= out[-1][0] + _EPS:
            po, ps, pr = out[-1]
            if not r:
                out[-1] = (po, s if pr else ps + s, False)
            continue
        out.append((at, s, r))
    return _Motif(tuple(out), bars, motif.degree)
