"""Learned melodies: the lead line of a plan sampled from a trained model (``--melody-engine
learned``).

:func:`write_learned_melody` asks the model (by default the one shipped with tunecraft, trained
on folk tunes and chorale sopranos) for a tune per **section kind**, then fits it to the plan:

* **Form.** Each section kind (verse, chorus...) is sampled once, for the longest section of
  that kind, in the plan's meter (the model is primed with its ``TimeSig`` token); every section
  of the kind plays the same tune, cut to its length, so choruses really repeat. Each kind's
  seed comes from ``plan.rng("learned", kind)``: the same plan gives the same tune.
* **Key.** A few candidates are drawn per kind and the one that fits a key best and moves most
  by step is kept (Krumhansl-Schmuckler correlation plus the share of steps); it is
  transposed so that its key's tonic is the plan's tonic; a major tune in a minor plan (or the
  reverse) has its third, sixth and seventh degrees moved to the plan's mode; any note still
  outside the plan's scale moves by a semitone into it (towards the note before it).
* **Register.** The tune is moved by octaves to sit in the middle of the part's range; a note
  still outside takes the octave in range nearest the note before it.
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
from .plan import PartSpec, Plan, SectionPlan

log = logging.getLogger(__name__)

__all__ = ["fit_to_key", "fit_to_register", "write_learned_melody"]

CANDIDATES = 3
TRIES = 3


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


def fit_to_register(notes: Sequence[Note], low: int, high: int) -> list[Note]:
    """Move a tune by octaves into ``low..high`` (centred); an outlier takes the octave in range
    nearest the note before it."""
    if not notes:
        return []
    ps = sorted(n.pitch for n in notes)
    median = ps[len(ps) // 2]
    centre = (low + high) / 2
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


def _sample_kind(lm: Any, plan: Plan, part: PartSpec, kind: str, bars: int) -> list[Note]:
    """The best of a few sampled tunes for a section kind, fitted to key and register."""
    from ..models.sampling import sample_notes

    rng = plan.rng("learned", kind)
    length = bars * plan.bar_beats
    candidates: list[tuple[float, list[Note]]] = []
    for _ in range(CANDIDATES * TRIES):
        seed = rng.randrange(2**31)
        notes, _ = sample_notes(lm, bars=bars, meter=plan.meter, temperature=0.9, top_p=0.92,
                                seed=seed)
        notes = monophonic(notes, end=length)
        if len(notes) < bars:  # fewer than a note a bar: not a tune
            continue
        _, fit = _key_fit(notes)
        moves = [abs(y.pitch - x.pitch) for x, y in pairwise(notes)]
        steps = sum(m <= 2 for m in moves) / max(len(moves), 1)
        candidates.append((fit + steps, notes))
        if len(candidates) >= CANDIDATES:
            break
    if not candidates:
        return []
    _, best = max(candidates, key=lambda c: c[0])
    return fit_to_register(fit_to_key(best, plan.key), part.low, part.high)


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
    for s in played:
        bars[s.kind] = max(bars.get(s.kind, 0), s.bars)
    tunes: dict[str, list[Note]] = {k: _sample_kind(lm, plan, part, k, b)
                                    for k, b in bars.items()}
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
        notes += _place(tune, s)
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
