"""Turning style data into timed events: drum hits, bass notes, comping rhythms, chord voicings.

Pure functions of their arguments; times are in beats (quarter notes) like the score.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ..errors import ParameterError
from ..score.types import EPS as _EPS
from ..score.types import Chord
from .model import DEFAULT_VELOCITIES, BassPattern, Groove, meter_bar_beats

__all__ = [
    "DrumEvent",
    "NoteEvent",
    "bass_events",
    "chord_at",
    "groove_events",
    "rhythm_events",
    "swing_time",
    "voice_chord",
]

DrumEvent = tuple[int, float, int]  # (GM drum key, beat, velocity)
NoteEvent = tuple[int, float, float, int]  # (pitch, beat, duration in beats, velocity)



def swing_time(offset: float, swing: float, unit: float = 0.5) -> float:
    """Move a time within a bar (in beats from a beat boundary) onto a swung grid.

    ``swing`` is the share of each pair of ``unit`` notes taken by the first: 0 or 0.5 is
    straight, 0.67 triplet swing. Times between grid points move proportionally, so sixteenths
    in a swung-eighths groove stay in order.
    """
    if swing <= 0.5:
        return offset
    pair = 2 * unit
    k, rest = divmod(offset, pair)
    if rest < unit:
        rest = rest * swing * pair / unit
    else:
        rest = swing * pair + (rest - unit) * (1 - swing) * pair / unit
    return k * pair + rest


def _bar_beats(meter: str, beats_per_bar: float | None) -> float:
    bpb = meter_bar_beats(meter) if beats_per_bar is None else float(beats_per_bar)
    if not bpb > 0:
        raise ParameterError(f"beats_per_bar must be positive, not {beats_per_bar!r}")
    return bpb


def groove_events(groove: Groove, bar_start: float, beats_per_bar: float | None = None, *,
                  velocities: Mapping[str, int] = DEFAULT_VELOCITIES, swing: float = 0.0,
                  swing_unit: float = 0.5) -> list[DrumEvent]:
    """One bar of a groove (or fill) as ``(drum_key, beat, velocity)``, sorted by time.

    Each voice's grid is spread evenly over ``beats_per_bar`` (default: the groove's meter).
    "r" plays two strokes inside its step and "t" three, growing louder. Straight grids are
    swung when ``swing`` is above 0.5; triplet grids (3, 6 or 12 steps a beat) never are.
    """
    bpb = _bar_beats(groove.meter, beats_per_bar)
    vel = {**DEFAULT_VELOCITIES, **velocities}
    out: list[DrumEvent] = []
    for voice in groove.voices:
        step = bpb / len(voice.grid)
        swung = swing > 0.5 and voice.steps_per_beat % 3 != 0
        for i, c in enumerate(voice.grid):
            if c == "-":
                continue
            offset = i * step
            if c in "rt":
                n = 2 if c == "r" else 3
                hits = [(offset + j * step / n, max(1, round(vel["o"] * (0.7 + 0.3 * j / (n - 1)))))
                        for j in range(n)]
            else:
                hits = [(offset, vel[c])]
            for t, v in hits:
                out.append((voice.key, bar_start + (swing_time(t, swing, swing_unit)
                                                    if swung else t), v))
    out.sort(key=lambda e: (e[1], e[0]))
    return out


def chord_at(chords: Sequence[Chord], beat: float) -> Chord:
    """The chord sounding at ``beat`` (the last one starting at or before it, else the first)."""
    if not chords:
        raise ParameterError("no chords to play over")
    found = chords[0]
    for c in chords:
        if c.start <= beat + _EPS:
            found = c
        else:
            break
    return found


def _in_register(pc: int, low: int, high: int) -> int:
    """The lowest pitch of pitch class ``pc`` at or above ``low``."""
    p = low + ((pc - low) % 12)
    return p if p <= high else p - 12


def _fit(p: int, low: int, high: int) -> int:
    while p > high and p - 12 >= low:
        p -= 12
    while p < low and p + 12 <= high:
        p += 12
    return p


def _chord_interval(chord: Chord, degree: str) -> int:
    iv = chord.intervals
    if degree == "3":
        return next((i for i in (3, 4, 5, 2) if i in iv), 4)
    if degree == "5":
        return next((i for i in (7, 6, 8) if i in iv), 7)
    if degree == "7":
        if chord.quality == "dim7":
            return 9
        return next((i for i in (10, 11) if i in iv), 10)
    return {"2": 2, "4": 5, "6": 9}[degree]


def bass_events(pattern: BassPattern, chords: Sequence[Chord] | Chord, bar_start: float,
                beats_per_bar: float | None = None, *, low: int = 28, high: int = 55,
                next_chord: Chord | None = None, swing: float = 0.0,
                swing_unit: float = 0.5) -> list[NoteEvent]:
    """One bar of a bass pattern over the chords sounding in it, as note events.

    ``chords`` is the chord timeline (or one chord); each note follows the chord sounding at its
    start. "a"/"A" approach by a semitone from below/above the root of the chord at the next
    note (``next_chord``, or the chord at the next bar line, for the bar's last note). Notes stay
    within ``low``-``high``; the root sits in the lowest octave of the register.
    """
    timeline = (chords,) if isinstance(chords, Chord) else tuple(chords)
    bpb = _bar_beats(pattern.meter, beats_per_bar)
    grid = pattern.grid
    step = bpb / len(grid)
    swung = swing > 0.5 and pattern.steps_per_beat % 3 != 0
    onsets = [i for i, c in enumerate(grid) if c not in "-_"]
    out: list[NoteEvent] = []

    def when(i: int) -> float:
        t = i * step
        return bar_start + (swing_time(t, swing, swing_unit) if swung else t)

    for n, i in enumerate(onsets):
        c = grid[i]
        j = i + 1
        while j < len(grid) and grid[j] == "-":
            j += 1
        start, end = when(i), (when(j) if j < len(grid) else bar_start + bpb)
        chord = chord_at(timeline, start)
        root = _in_register(chord.root, low, high)
        velocity = pattern.velocity
        if c in "R1":
            pc = chord.bass if chord.bass is not None else chord.root
            pitch = _in_register(pc, low, high)
        elif c == "8":
            pitch = root + 12 if root + 12 <= high else root
        elif c == "v":
            pitch = root - 5 if root - 5 >= low else root + 7
        elif c in "aA":
            if n + 1 < len(onsets):
                target = chord_at(timeline, when(onsets[n + 1]))
            else:
                target = next_chord or chord_at(timeline, bar_start + bpb)
            tp = _in_register(target.root, low, high)
            pitch = tp - 1 if c == "a" else tp + 1
            pitch = pitch if low <= pitch <= high else (tp + 1 if c == "a" else tp - 1)
        elif c == "x":
            pitch = _in_register(chord.root, low, high)
            end = min(end, start + min(step, 0.25))
            velocity = max(1, round(velocity * 0.55))
        else:
            pitch = _fit(root + _chord_interval(chord, c), low, high)
        if abs(i * step) < _EPS and c != "x":
            velocity = min(127, velocity + 6)
        out.append((_fit(pitch, low, high), start, end - start, velocity))
    return out


def rhythm_events(grid: str, bar_start: float, beats_per_bar: float, *,
                  velocities: Mapping[str, int] = DEFAULT_VELOCITIES, swing: float = 0.0,
                  swing_unit: float = 0.5) -> list[tuple[float, float, int]]:
    """A comping rhythm grid as ``(beat, duration, velocity)`` hits.

    "x", "o" and "." strike (accented, normal, soft); "-" holds the hit before; "_" is silence.
    """
    if not grid:
        raise ParameterError("an empty rhythm grid")
    vel = {**DEFAULT_VELOCITIES, **velocities}
    step = beats_per_bar / len(grid)
    steps_per_beat = len(grid) / beats_per_bar
    swung = swing > 0.5 and round(steps_per_beat) % 3 != 0

    def when(i: int) -> float:
        t = i * step
        return bar_start + (swing_time(t, swing, swing_unit) if swung else t)

    out = []
    for i, c in enumerate(grid):
        if c not in "xo.":
            continue
        j = i + 1
        while j < len(grid) and grid[j] == "-":
            j += 1
        end = when(j) if j < len(grid) else bar_start + beats_per_bar
        out.append((when(i), end - when(i), vel[c]))
    return out


def voice_chord(chord: Chord, low: int, high: int, *,
                previous: Sequence[int] | None = None) -> tuple[int, ...]:
    """Close-position pitches of ``chord`` inside ``low``-``high``.

    With ``previous`` (the voicing before), the inversion that moves the voices least is
    chosen (smooth voice leading); otherwise the one nearest the middle of the register.
    Slash chords put their bass note at the bottom.
    """
    if high - low < 11:
        raise ParameterError(f"register {low}-{high} is too narrow to voice a chord")
    pcs = list(dict.fromkeys(chord.pitch_classes))
    if chord.bass is not None and chord.bass in pcs:
        pcs.remove(chord.bass)
        pcs.insert(0, chord.bass)
        rotations = [pcs]
    elif chord.bass is not None:
        rotations = [[chord.bass, *pcs]]
    else:
        rotations = [pcs[k:] + pcs[:k] for k in range(len(pcs))]
    candidates: list[tuple[int, ...]] = []
    for rot in rotations:
        for bottom in range(low, low + 12):
            if bottom % 12 != rot[0]:
                continue
            b = bottom
            while b <= high:
                notes = [b]
                for pc in rot[1:]:
                    p = notes[-1] + 1 + ((pc - notes[-1] - 1) % 12)
                    notes.append(p)
                if notes[-1] <= high:
                    candidates.append(tuple(notes))
                b += 12
    if not candidates:  # a wide chord in a narrow register: drop the top note and retry
        quality = {"9": "7", "maj9": "maj7", "m9": "m7", "add9": "", "madd9": "m"}.get(
            chord.quality, "")
        if quality == chord.quality:  # nothing left to drop (a slash triad): fold into range
            bass = [chord.bass] if chord.bass is not None else []
            return tuple(sorted({_in_register(pc, low, high) for pc in bass + pcs}))
        smaller = Chord(chord.start, chord.duration, chord.root, quality, chord.bass)
        return voice_chord(smaller, low, high, previous=previous)
    if previous:
        prev = sorted(previous)

        def cost(v: tuple[int, ...]) -> float:
            s = sorted(v)
            return sum(min(abs(p - q) for q in prev) for p in s) + \
                sum(min(abs(p - q) for q in s) for p in prev)
    else:
        middle = (low + high) / 2

        def cost(v: tuple[int, ...]) -> float:
            return abs(sum(v) / len(v) - middle)
    return min(candidates, key=lambda v: (cost(v), v))
