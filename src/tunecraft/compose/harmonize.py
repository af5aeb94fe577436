"""Chords under a given melody: a Viterbi search over the key's chords and the style's colours.

:func:`harmonize` gives one chord per bar, or one per half bar where the melody asks for it
(a change in mid-bar costs less in styles with a faster harmonic rhythm). The candidates are the
key's diatonic triads and dominant seventh plus every chord the style's progression pools use
(secondary dominants, bVII, iv in major, ii7 and maj7 colours in jazz...), each realised with
:func:`tunecraft.styles.realize`.

The score of a path is the sum of

* **fit** (per slot): each melody note sounding in the slot, weighted by how long it sounds
  there and how strong its start is (the slot's downbeat > a beat > off the beat), counts +1
  as a chord tone, -0.35 as a passing tone of the key, -0.6 outside the key and -1.2 when it
  clashes a half step against a chord tone on the downbeat;
* **moves**: the log-frequency of the move in the style's progression pools (all sections, the
  loop back included), plus V -> I and IV -> I rewarded, secondary dominants resolving;
* **form**: the first chord and the ends of 8-bar phrases prefer the tonic, the ends of 4-bar
  phrases a half cadence (V) or the tonic, the bar before the end the dominant, and the very
  last chord is the tonic.

Deterministic: the seed only breaks exact ties.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Sequence

from ..errors import ParameterError
from ..score import Chord, KeySignature, Note, TimeSignature
from ..styles import Style, parse_numeral, realize, split_slot

__all__ = ["chord_tone_ratio", "harmonize"]

_BASE = {
    "major": ("I", "ii", "iii", "IV", "V", "vi", "V7", "V7/V", "V7/vi", "V7/ii", "bVII", "iv",
              "V7/IV"),
    "minor": ("i", "iv", "v", "V", "VI", "III", "VII", "V7", "iio", "IV", "V7/iv", "bII"),
}
_DIATONIC = {"major": {"I", "ii", "iii", "IV", "V", "vi", "V7"},
             "minor": {"i", "iv", "v", "V", "VI", "III", "VII", "V7", "iio"}}
_MAX_CANDIDATES = 18


class _Cand:
    __slots__ = ("colour", "freq", "numeral", "pcs", "quality", "root")

    def __init__(self, numeral: str, key: KeySignature, freq: float, diatonic: bool) -> None:
        chord = realize(numeral, key.tonic, key.mode)
        self.numeral = numeral
        self.root = (chord.root - key.tonic) % 12
        self.quality = chord.quality
        self.pcs = frozenset(chord.pitch_classes)
        self.freq = freq
        self.colour = not diatonic

    @property
    def ident(self) -> tuple[int, str]:
        return self.root, self.quality


def _pool_numerals(style: Style, mode: str) -> tuple[Counter[tuple[int, str]],
                                                     Counter[tuple[tuple[int, str], ...]],
                                                     dict[tuple[int, str], str]]:
    """Chord frequencies, move counts and a numeral per chord from the style's pools."""
    freq: Counter[tuple[int, str]] = Counter()
    moves: Counter[tuple[tuple[int, str], ...]] = Counter()
    spelled: dict[tuple[int, str], str] = {}
    pools = style.harmony.pools.get(mode) or style.harmony.pools.get("major") or {}
    progs = [p for progs in pools.values() for p in progs]
    progs += list(style.harmony.cadences.get(mode) or ())
    for prog in progs:
        seq: list[tuple[int, str]] = []
        for slot in prog:
            for numeral in split_slot(slot):
                plain = numeral.split("/")[0] if numeral.split("/")[-1] in ("3", "5", "7") \
                    else numeral
                try:
                    root, quality, _ = parse_numeral(plain, mode)
                except ParameterError:
                    continue
                ident = (root % 12, quality)
                spelled.setdefault(ident, plain)
                seq.append(ident)
        freq.update(seq)
        for a, b in zip(seq, seq[1:] + seq[:1], strict=True):
            moves[(a, b)] += 1
    return freq, moves, spelled


def _candidates(style: Style, key: KeySignature) -> tuple[list[_Cand], Counter]:
    freq, moves, spelled = _pool_numerals(style, key.mode)
    total = sum(freq.values()) or 1
    cands: dict[tuple[int, str], _Cand] = {}
    for numeral in _BASE[key.mode]:
        c = _Cand(numeral, key, freq.get(_ident(numeral, key.mode), 0) / total,
                  numeral in _DIATONIC[key.mode])
        cands.setdefault(c.ident, c)
    for ident, n in freq.most_common():
        if ident in cands or len(cands) >= _MAX_CANDIDATES:
            continue
        numeral = spelled[ident]
        c = _Cand(numeral, key, n / total, False)
        if len(c.pcs) >= 3:
            # A style's favourite colour (ii7, maj7...) is no colour in that style.
            c.colour = n / total < 0.04
            cands[ident] = c
    return list(cands.values()), moves


def _ident(numeral: str, mode: str) -> tuple[int, str]:
    root, quality, _ = parse_numeral(numeral, mode)
    return root % 12, quality


def _slot_notes(notes: Sequence[Note], start: float, end: float, meter: TimeSignature
                ) -> list[tuple[int, float]]:
    """(pitch class, weight) of the notes sounding in [start, end)."""
    out = []
    beat = 4.0 / meter.denominator * (3 if meter.denominator == 8 and meter.numerator % 3 == 0
                                      else 1)
    for n in notes:
        overlap = min(n.end, end) - max(n.start, start)
        if overlap <= 1e-9:
            continue
        if abs(n.start - start) < 1e-6:
            strength = 1.7
        elif n.start < start:
            strength = 1.1  # held over the slot's downbeat
        elif abs((n.start - start) / beat - round((n.start - start) / beat)) < 1e-6:
            strength = 1.2
        else:
            strength = 0.7
        out.append((n.pitch % 12, min(overlap, 2.0) * strength))
    return out


def _fit(cand: _Cand, tones: list[tuple[int, float]], scale: frozenset[int], tonic: int,
         slot_start_tones: set[int]) -> float:
    score = 0.0
    for pc, w in tones:
        rel = (pc - tonic) % 12
        del rel
        if pc in cand.pcs:
            score += w
        elif pc in slot_start_tones and any((pc - t) % 12 in (1, 11) for t in cand.pcs):
            score -= 1.2 * w
        elif pc in scale:
            score -= 0.35 * w
        else:
            score -= 0.6 * w
    return score


def harmonize(notes: Sequence[Note], *, key: KeySignature, meter: TimeSignature, style: Style,
              length_beats: float, seed: int = 0) -> tuple[Chord, ...]:
    """Chords for ``notes`` (a melody from beat 0, bar lines every ``meter.bar_beats``) over
    ``length_beats`` (rounded up to whole bars). See the module text for the scoring."""
    if not isinstance(key, KeySignature) or not isinstance(meter, TimeSignature):
        raise ParameterError("harmonize needs a KeySignature and a TimeSignature")
    if not (isinstance(length_beats, (int, float)) and length_beats > 0):
        raise ParameterError(f"harmonize needs a positive length, not {length_beats!r}")
    bar = meter.bar_beats
    bars = max(1, math.ceil(length_beats / bar - 1e-6))
    halves = meter.numerator in (2, 4) and meter.denominator == 4
    per_bar = 2 if halves else 1
    slot_len = bar / per_bar
    n_slots = bars * per_bar
    cands, moves = _candidates(style, key)
    k = len(cands)
    scale = frozenset(key.scale) | ({(key.tonic + 11) % 12} if key.mode == "minor" else set())
    rng = random.Random(f"{seed}:harmonize")
    noise = [[rng.uniform(0, 1e-6) for _ in range(k)] for _ in range(n_slots)]
    fast = style.harmony.harmonic_rhythm >= 2
    mid_change = 0.35 if fast else 0.9
    tonic_i = next(i for i, c in enumerate(cands) if c.ident == (0, "" if key.mode == "major"
                                                                 else "m"))
    dominant = {i for i, c in enumerate(cands) if c.root == 7 and c.quality in ("", "7")}
    subdominant = {i for i, c in enumerate(cands) if c.root == 5}
    move_total = Counter()
    for (a, _), n in moves.items():
        move_total[a] += n

    def move_score(a: int, b: int) -> float:
        ca, cb = cands[a], cands[b]
        if a == b:
            return -0.15
        n = moves.get((ca.ident, cb.ident), 0)
        s = 0.5 * math.log((n + 0.5) / (move_total.get(ca.ident, 0) + 0.5 * k))
        if b == tonic_i and (a in dominant or ca.root == 11):
            s += 0.8
        elif b == tonic_i and a in subdominant:
            s += 0.4
        if ca.colour and ca.quality in ("", "7") and ca.root not in (0, 5, 7, 10):
            # A secondary dominant should resolve down a fifth.
            s += 0.8 if (cb.root - ca.root) % 12 == 5 else -1.0
        return s

    def position_bonus(slot: int, c: int) -> float:
        b, half = divmod(slot, per_bar)
        cand = cands[c]
        s = -0.6 if cand.colour else 0.0
        s += 0.15 * math.log(cand.freq + 0.02)
        if slot == 0 and c == tonic_i:
            s += 0.6
        if b == bars - 1:
            return s + (0.0 if c == tonic_i else -1e6)
        if half == 0 and b % 8 == 7 and c == tonic_i:
            s += 1.0
        elif half == 0 and b % 4 == 3 and (c in dominant or c == tonic_i):
            s += 0.4
        if b == bars - 2 and half == per_bar - 1 and c in dominant:
            s += 0.8
        return s

    emit = []
    for slot in range(n_slots):
        start = slot * slot_len
        tones = _slot_notes(notes, start, start + slot_len, meter)
        first = {n.pitch % 12 for n in notes if abs(n.start - start) < 1e-6
                 or (n.start < start < n.end)}
        emit.append([_fit(c, tones, scale, key.tonic, first) + position_bonus(slot, i)
                     + noise[slot][i] for i, c in enumerate(cands)])
    acc = list(emit[0])
    back: list[list[int]] = []
    for slot in range(1, n_slots):
        mid = slot % per_bar != 0
        row_back, row = [], []
        for b in range(k):
            best, arg = -math.inf, 0
            for a in range(k):
                if mid:
                    m = 0.0 if a == b else -mid_change + 0.5 * move_score(a, b)
                else:
                    m = move_score(a, b)
                v = acc[a] + m
                if v > best:
                    best, arg = v, a
            row.append(best + emit[slot][b])
            row_back.append(arg)
        acc = row
        back.append(row_back)
    path = [max(range(k), key=lambda i: acc[i])]
    for row_back in reversed(back):
        path.append(row_back[path[-1]])
    path.reverse()
    chords: list[Chord] = []
    for slot, c in enumerate(path):
        start = slot * slot_len
        cand = cands[c]
        if chords and slot % per_bar != 0 and path[slot - 1] == c:
            last = chords[-1]
            chords[-1] = Chord(last.start, last.duration + slot_len, last.root, last.quality)
            continue
        chords.append(realize(cand.numeral, key.tonic, key.mode, start=start,
                              duration=slot_len))
    return tuple(Chord(c.start, c.duration, c.root, c.quality) for c in chords)


def chord_tone_ratio(notes: Sequence[Note], chords: Sequence[Chord], meter: TimeSignature
                     ) -> float:
    """The share of melody notes starting on a strong beat (the bar's first beat, or the
    middle of a 4/4 bar) that are tones of the chord sounding then."""
    bar = meter.bar_beats
    strong = (0.0, bar / 2) if meter.numerator == 4 else (0.0,)
    hits = total = 0
    for n in notes:
        pos = n.start % bar
        if not any(abs(pos - s) < 1e-6 for s in strong):
            continue
        chord = next((c for c in chords if c.start - 1e-9 <= n.start < c.end), None)
        if chord is None:
            continue
        total += 1
        hits += n.pitch % 12 in chord.pitch_classes
    return hits / total if total else 1.0
