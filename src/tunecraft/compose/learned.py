"""Learned melodies: the lead line of a plan sampled from a trained model (``--melody-engine
learned``).

:func:`write_learned_melody` asks the model (by default the one shipped with tunecraft, trained
on folk tunes and chorale sopranos) for a tune per **section kind**, then fits it to the plan:

* **Form.** Each section kind (verse, chorus...) is sampled once, for the longest section of
  that kind, in the plan's meter (the model is primed with its ``TimeSig`` token); every section
  of the kind plays the same tune, cut to its length, so choruses really repeat. Each kind's
  seed comes from ``plan.rng("learned", kind)``: the same plan gives the same tune.
* **Key.** A few candidates are drawn per kind (see *Chords* for the one kept); each is
  transposed so that its key's tonic is the plan's tonic; a major tune in a minor plan (or the
  reverse) has its third, sixth and seventh degrees moved to the plan's mode; any note still
  outside the plan's scale moves by a semitone into it (towards the note before it).
* **Register.** The tune is moved by octaves to sit in the middle of the part's range; a note
  still outside takes the octave in range nearest the note before it.
* **Motif.** A kind of four bars or more is sampled as an antecedent and a consequent: the
  consequent starts with the antecedent's first bar (or two) and the model continues from
  there, so the figure the tune opens with comes back, as it does in the folk tunes the model
  learned from.
* **Leaps.** A leap wider than a fifth takes the other octave of its note where that is a
  smaller move and in range (the pitch class, and so the harmony, is kept).
* **Chords.** On the strong beats (the bar's first and middle pulses) and on notes held a beat
  or more, a note outside the chord sounding there moves to the nearest chord tone (towards
  the note before it on a tie), and one that would move with the bass from an octave or fifth
  to the same takes another chord tone: the accompaniment and the tune agree where the ear
  checks.
  Among the candidates the one that fits a key best, moves most by step and least by leap
  and needs the fewest such moves wins.
* **Chorus.** The chorus is placed a few semitones higher in the part's range than the verse,
  and a chorus whose middle is still less than three semitones above the verse's moves up
  the scale by a third to a fifth (then fits the chords again): the chorus lifts.
* **Ending.** The piece's last note is the tonic (the nearest one in range), held to the end.
* **Monophony.** One note at a time: at a shared onset the top note is kept, and a note is cut
  where the next begins.

A kind the model cannot fill (no notes after a few tries) falls back to the rule-based writer
for its sections.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace
from itertools import pairwise
from pathlib import Path
from typing import Any

from ..score.types import EPS as _EPS
from ..score.types import KeySignature, Note
from .melody import moves_with_the_roots
from .plan import PartSpec, Plan, SectionPlan

log = logging.getLogger(__name__)

__all__ = ["fit_to_chords", "fit_to_key", "fit_to_register", "smooth_leaps",
           "write_learned_melody"]

CANDIDATES = 3
TRIES = 3
MAX_LEAP = 7  # semitones: wider leaps take the other octave where it is nearer
# Where a kind's tune sits in the part's range, in semitones from its middle.
_TESSITURA = {"chorus": 4, "drop": 4, "verse": -2, "pre_chorus": 1, "bridge": 0}


def monophonic(notes: Sequence[Note], end: float | None = None) -> list[Note]:
    """One note at a time: the top note of a shared onset, each cut where the next begins."""
    by_start: dict[float, Note] = {}
    for n in notes:
        cur = by_start.get(n.start)
        if cur is None or n.pitch > cur.pitch:
            by_start[n.start] = n
    ordered = [by_start[s] for s in sorted(by_start)]
    out = []
    for i, n in enumerate(ordered):
        stop = ordered[i + 1].start if i + 1 < len(ordered) else (end if end is not None
                                                                    else n.end)
        stop = min(n.end, stop)
        if stop - n.start > 1 / 32:
            out.append(replace(n, duration=stop - n.start))
    return out


def _key_fit(notes: Sequence[Note]) -> tuple[KeySignature, float]:
    """The key of the notes and how well they fit it (the one key finder's correlation)."""
    from ..analysis import key_of_notes

    tonic, mode, r = key_of_notes(notes)
    return KeySignature(0.0, tonic, mode), (r if notes else -1.0)


def fit_to_key(notes: Sequence[Note], key: KeySignature) -> list[Note]:
    """Transpose a tune into ``key``, map its mode, and move out-of-scale notes into the scale."""
    if not notes:
        return []
    found, _ = _key_fit(notes)
    shift = (key.tonic - found.tonic) % 12
    if shift > 6:
        shift -= 12
    pitches = [n.pitch + shift for n in notes]
    if found.mode != key.mode:  # major <-> minor: move the 3rd, 6th and 7th degrees
        moves = {4: -1, 9: -1, 11: -1} if key.mode == "minor" else {3: 1, 8: 1, 10: 1}
        pitches = [p + moves.get((p - key.tonic) % 12, 0) for p in pitches]
    scale = set(key.scale)
    out_p: list[int] = []
    for p in pitches:
        if p % 12 not in scale:
            prev = out_p[-1] if out_p else p
            options = [q for q in (p - 1, p + 1) if q % 12 in scale]
            p = min(options, key=lambda q: (abs(q - prev), q)) if options else p
        out_p.append(p)
    return [replace(n, pitch=max(0, min(127, p))) for n, p in zip(notes, out_p, strict=True)]


def fit_to_register(notes: Sequence[Note], low: int, high: int, *,
                    centre: float | None = None) -> list[Note]:
    """Move a tune by octaves into ``low..high``, its middle note nearest ``centre`` (default:
    the middle of the range); an outlier takes the octave in range nearest the note before."""
    if not notes:
        return []
    ps = sorted(n.pitch for n in notes)
    median = ps[len(ps) // 2]
    centre = (low + high) / 2 if centre is None else centre
    best = min(range(-5, 6), key=lambda k: (
        sum(1 for p in ps if not low <= p + 12 * k <= high), abs(median + 12 * k - centre)))
    out: list[Note] = []
    for n in notes:
        p = n.pitch + 12 * best
        if not low <= p <= high:  # the octave in range nearest the note before
            options = [q for q in range(p % 12, 128, 12) if low <= q <= high]
            prev = out[-1].pitch if out else p
            if options:
                p = min(options, key=lambda q: (abs(q - prev), q))
        out.append(replace(n, pitch=p))
    return out


def _nearest_tonic(pitch: int, tonic: int, low: int, high: int) -> int:
    cands = [p for p in range(max(0, low), min(127, high) + 1) if p % 12 == tonic]
    if not cands:
        return pitch
    return min(cands, key=lambda p: (abs(p - pitch), p))


def _strong(plan: Plan, t: float, duration: float) -> bool:
    """Whether the ear checks a note against the chord: on the bar's first or middle pulse,
    or held a beat or more."""
    from .parts.common import _pulses

    pulses = _pulses(plan.meter)
    strong = pulses[::2] if len(pulses) > 2 else pulses[:1]
    at = t % plan.bar_beats
    return duration >= 1.0 - _EPS or any(abs(at - p) < 1 / 32 for p in strong)


def fit_to_chords(notes: Sequence[Note], plan: Plan, offset: float, low: int,
                  high: int) -> tuple[list[Note], int]:
    """Strong-beat and held notes outside the chord sounding there move to the nearest chord
    tone in ``low..high`` (towards the note before on a tie). ``offset`` places the tune in the
    piece. Returns the notes and how many moved."""
    out: list[Note] = []
    moved = 0
    for n in notes:
        pitch = n.pitch
        if _strong(plan, offset + n.start, n.duration):
            chord = plan.chord_at(offset + n.start + _EPS)
            pcs = chord.pitch_classes
            prev = out[-1] if out else None
            if pitch % 12 not in pcs or (prev is not None and _parallel(
                    plan, prev, offset + prev.start, pitch, offset + n.start)):
                ref = prev.pitch if prev is not None else pitch
                options = [q for q in range(max(low, pitch - 4), min(high, pitch + 4) + 1)
                           if q % 12 in pcs and (prev is None or not _parallel(
                               plan, prev, offset + prev.start, q, offset + n.start))]
                if options:  # the chord tone that keeps the line smoothest
                    pitch = min(options, key=lambda q: (abs(q - ref) + abs(q - pitch), q))
                    moved += 1
        out.append(replace(n, pitch=pitch))
    return out, moved


def _parallel(plan: Plan, before: Note, at_before: float, pitch: int, at: float) -> bool:
    """Whether moving from ``before`` to ``pitch`` at beat ``at`` moves in parallel octaves or
    fifths with the chord roots (:func:`.melody.moves_with_the_roots`)."""
    return moves_with_the_roots(before.pitch, plan.chord_at(at_before + _EPS), pitch,
                                plan.chord_at(at + _EPS))


def smooth_leaps(notes: Sequence[Note], low: int, high: int) -> list[Note]:
    """A leap wider than :data:`MAX_LEAP` takes the other octave of its note where that is a
    smaller move and stays in ``low..high``."""
    out: list[Note] = []
    for n in notes:
        p = n.pitch
        if out and abs(p - out[-1].pitch) > MAX_LEAP:
            prev = out[-1].pitch
            for q in (p - 12, p + 12):
                if low <= q <= high and abs(q - prev) < abs(p - prev):
                    p = q
        out.append(replace(n, pitch=p))
    return out


def _draw_tune(lm: Any, plan: Plan, bars: int, seed: int) -> list[Note]:
    """A tune of ``bars`` bars; four bars or more as antecedent and consequent, the consequent
    opening with the antecedent's first bar (two in an eight-bar tune) and continued by the
    model from there."""
    from ..models.sampling import sample_notes

    bar = plan.bar_beats
    if bars < 4:
        notes, _ = sample_notes(lm, bars=bars, meter=plan.meter, temperature=0.9, top_p=0.92,
                                seed=seed)
        return monophonic(notes, end=bars * bar)
    half = bars // 2
    head = max(1, half // 2)
    first, _ = sample_notes(lm, bars=half, meter=plan.meter, temperature=0.9, top_p=0.92,
                            seed=seed)
    first = monophonic(first, end=half * bar)
    again = [replace(n, start=n.start + half * bar) for n in first if n.start < head * bar - _EPS]
    again = monophonic(again, end=(half + head) * bar)
    rest_bars = bars - half - head
    rest: list[Note] = []
    if rest_bars > 0:
        cont, start = sample_notes(lm, bars=rest_bars, meter=plan.meter,
                                   prompt=[*first, *again], temperature=0.9, top_p=0.92,
                                   seed=seed + 1)
        shift = (half + head) * bar - start
        rest = [replace(n, start=n.start + shift) for n in cont]
    return monophonic([*first, *again, *rest], end=bars * bar)


def _sample_kind(lm: Any, plan: Plan, part: PartSpec, kind: str, bars: int,
                 offset: float) -> list[Note]:
    """The best of a few sampled tunes for a section kind, fitted to key, register and the
    chords of its first section (at ``offset``)."""
    rng = plan.rng("learned", kind)
    low, high = part.low, part.high
    centre = (low + high) / 2 + _TESSITURA.get(kind, 0)
    candidates: list[tuple[float, list[Note]]] = []
    for _ in range(CANDIDATES * TRIES):
        seed = rng.randrange(2**31)
        notes = _draw_tune(lm, plan, bars, seed)
        if len(notes) < bars:  # fewer than a note a bar: not a tune
            continue
        _, fit = _key_fit(notes)
        moves = [abs(y.pitch - x.pitch) for x, y in pairwise(notes)]
        steps = sum(m <= 2 for m in moves) / max(len(moves), 1)
        placed = smooth_leaps(fit_to_register(fit_to_key(notes, plan.key), low, high,
                                              centre=centre), low, high)
        placed, moved = fit_to_chords(placed, plan, offset, low, high)
        leaps = sum(abs(y.pitch - x.pitch) > 4 for x, y in pairwise(placed)) / len(placed)
        candidates.append((fit + steps - moved / len(placed) - leaps, placed))
        if len(candidates) >= CANDIDATES:
            break
    if not candidates:
        return []
    return max(candidates, key=lambda c: c[0])[1]


def _lifted(tune: list[Note], verse: Sequence[Note], plan: Plan, part: PartSpec,
            offset: float) -> list[Note]:
    """The chorus a third to a fifth above the verse: a chorus tune whose middle is less than
    three semitones above the verse's moves up the scale by two to four degrees (as far as
    the part's range allows), then fits the chords again."""
    def middle(notes: Sequence[Note]) -> float:
        return sum(n.pitch for n in notes) / len(notes)

    if middle(tune) >= middle(verse) + 3:
        return tune
    scale = sorted(plan.key.scale)
    best = tune
    for degrees in (2, 3, 4):
        moved = [replace(n, pitch=_up_the_scale(n.pitch, degrees, scale)) for n in tune]
        if max(n.pitch for n in moved) > part.high:
            break
        best = moved
        if middle(moved) >= middle(verse) + 3:
            break
    return fit_to_chords(best, plan, offset, part.low, part.high)[0]


def _up_the_scale(pitch: int, degrees: int, scale: Sequence[int]) -> int:
    """``pitch`` moved up ``degrees`` notes of the scale (pitch classes ``scale``)."""
    for _ in range(degrees):
        pitch += 1
        while pitch % 12 not in scale:
            pitch += 1
    return pitch


def write_learned_melody(plan: Plan, part: PartSpec, *,
                         model_dir: str | Path | None = None) -> tuple[Note, ...]:
    """The lead line of ``plan`` sampled from a model (default: the shipped one), fitted to it.

    Notes are in beats, monophonic, sorted, in the plan's key (scale), inside the part's
    register and the piece; each section kind plays the same tune every time; the last note is
    the tonic.
    """
    from ..models.store import load_model

    played = [s for s in plan.sections if part.plays_in(s.kind)]
    if not played:
        return ()
    lm = load_model(model_dir)
    bars: dict[str, int] = {}
    first: dict[str, float] = {}
    for s in played:
        bars[s.kind] = max(bars.get(s.kind, 0), s.bars)
        first.setdefault(s.kind, s.start)
    tunes: dict[str, list[Note]] = {k: _sample_kind(lm, plan, part, k, b, first[k])
                                    for k, b in bars.items()}
    for kind in ("chorus", "drop"):
        if tunes.get(kind) and tunes.get("verse"):
            tunes[kind] = _lifted(tunes[kind], tunes["verse"], plan, part, first[kind])
    fallback: tuple[Note, ...] | None = None
    notes: list[Note] = []
    for s in played:
        tune = tunes[s.kind]
        if not tune:
            if fallback is None:
                from .melody import write_melody

                log.info("the model wrote no tune for %s; using the rule-based melody", s.kind)
                fallback = write_melody(plan, part)
            notes += [n for n in fallback if s.start - _EPS <= n.start < s.end - _EPS]
            continue
        # Fitted again where it is placed: a longer or shorter repeat has its cadence
        # elsewhere (the notes over the same chords do not move).
        notes += fit_to_chords(_place(tune, s), plan, 0.0, part.low, part.high)[0]
    notes.sort(key=lambda n: n.start)
    notes = monophonic(notes, end=plan.length)
    if notes:
        last = notes[-1]
        end = played[-1].end
        notes[-1] = replace(last, pitch=_nearest_tonic(last.pitch, plan.key.tonic, part.low,
                                                       part.high),
                            duration=max(end - last.start, 1 / 16))
    return tuple(n for n in notes if n.start < plan.length - _EPS)


def _place(tune: Sequence[Note], s: SectionPlan) -> list[Note]:
    """A kind's tune in one section: shifted to its start, cut at its end."""
    out = []
    for n in tune:
        if n.start >= s.length - _EPS:
            continue
        dur = min(n.duration, s.length - n.start)
        out.append(replace(n, start=s.start + n.start, duration=dur))
    return out
