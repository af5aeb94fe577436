"""Transforms: each takes a score and returns a new one; nothing is changed in place."""

from __future__ import annotations

import math
from dataclasses import replace

from ..errors import ScoreError
from .types import (
    _HALF_TICK,
    TICKS_PER_BEAT,
    Chord,
    KeySignature,
    Note,
    Score,
    Section,
    TempoChange,
    TimeSignature,
    Track,
    snap,
)


def transpose(score: Score, semitones: int) -> Score:
    """Move every pitched note, the key and the chord symbols by ``semitones``; drums stay put."""
    if semitones == 0:
        return score
    tracks = []
    for t in score.tracks:
        if t.is_drum:
            tracks.append(t)
            continue
        notes = []
        for n in t.notes:
            p = n.pitch + semitones
            if not 0 <= p <= 127:
                raise ScoreError(f"transposing by {semitones} moves {n.name} in track "
                                 f"{t.name!r} outside the MIDI range 0-127")
            notes.append(replace(n, pitch=p))
        tracks.append(t.with_notes(notes))
    keys = tuple(replace(k, tonic=(k.tonic + semitones) % 12) for k in score.key_signatures)
    chords = tuple(replace(c, root=(c.root + semitones) % 12,
                           bass=None if c.bass is None else (c.bass + semitones) % 12)
                   for c in score.chords)
    return replace(score, tracks=tuple(tracks), key_signatures=keys, chords=chords)


def _map_at(changes: tuple, start: float, end: float) -> list:
    """The changes in force from ``start`` to ``end``, shifted so ``start`` becomes beat 0."""
    current = changes[0]
    out = []
    for c in changes:
        if c.beat <= start + _HALF_TICK:
            current = c
        elif c.beat < end - _HALF_TICK:
            out.append(replace(c, beat=c.beat - start))
    return [replace(current, beat=0.0), *out]


def slice_score(score: Score, start: float, end: float) -> Score:
    """The span ``[start, end)`` in beats as a score of its own, starting at beat 0.

    Notes that start in the span are kept; a note that rings past ``end`` is cut there.
    Sections and chords are clipped to the span. ``start`` should be a bar line when the meter
    map must stay valid.
    """
    start, end = snap(start), snap(end)
    if not 0 <= start < end:
        raise ScoreError(f"cannot slice beats {start:g}-{end:g}: need 0 <= start < end")
    tracks = []
    for t in score.tracks:
        notes = [replace(n, start=n.start - start, duration=min(n.end, end) - n.start)
                 for n in t.notes if start - _HALF_TICK <= n.start < end - _HALF_TICK]
        tracks.append(t.with_notes(notes))

    def clip(items, make):
        out = []
        for it in items:
            s, e = max(it.start, start), min(it.end, end)
            if e - s > _HALF_TICK:
                out.append(make(it, s - start, e - s))
        return tuple(out)

    return Score(
        tracks=tuple(tracks),
        tempos=tuple(_map_at(score.tempos, start, end)),
        time_signatures=tuple(_map_at(score.time_signatures, start, end)),
        key_signatures=tuple(_map_at(score.key_signatures, start, end)),
        sections=clip(score.sections, lambda s, a, n: Section(s.name, a, n)),
        chords=clip(score.chords, lambda c, a, n: replace(c, start=a, duration=n)),
        title=score.title,
        length=end - start,
    )


def concat(first: Score, *rest: Score) -> Score:
    """Play scores one after another. Tracks with the same name, program and drum flag join."""
    out = first
    for nxt in rest:
        offset = float(out.length or 0.0)
        by_key = {(t.name, t.program, t.is_drum): i for i, t in enumerate(out.tracks)}
        tracks = list(out.tracks)
        for t in nxt.tracks:
            shifted = [replace(n, start=n.start + offset) for n in t.notes]
            i = by_key.get((t.name, t.program, t.is_drum))
            if i is None:
                by_key[(t.name, t.program, t.is_drum)] = len(tracks)
                tracks.append(t.with_notes(shifted))
            else:
                tracks[i] = tracks[i].with_notes(tracks[i].notes + tuple(shifted))

        def shift(items, _offset=offset):
            return tuple(replace(x, beat=x.beat + _offset) for x in items)

        out = Score(
            tracks=tuple(tracks),
            tempos=out.tempos + shift(nxt.tempos),
            time_signatures=out.time_signatures + shift(nxt.time_signatures),
            key_signatures=out.key_signatures + shift(nxt.key_signatures),
            sections=out.sections + tuple(replace(s, start=s.start + offset)
                                          for s in nxt.sections),
            chords=out.chords + tuple(replace(c, start=c.start + offset) for c in nxt.chords),
            title=out.title or nxt.title,
            length=offset + float(nxt.length or 0.0),
        )
    return out


def quantize(score: Score, grid: float = 0.25, *, drums: bool = True) -> Score:
    """Snap note starts and ends to a grid (in beats: 0.25 is a sixteenth note).

    A note never shrinks below one grid step. Quantizing twice changes nothing more.
    """
    if not (grid > 0 and math.isfinite(grid)) or grid * TICKS_PER_BEAT < 1:
        raise ScoreError(f"quantize grid {grid!r} must be at least 1/{TICKS_PER_BEAT} beat")

    def q(x: float) -> float:
        return snap(round(x / grid) * grid)

    tracks = []
    for t in score.tracks:
        if t.is_drum and not drums:
            tracks.append(t)
            continue
        notes = []
        for n in t.notes:
            s = q(n.start)
            e = max(q(n.end), snap(s + grid))
            notes.append(replace(n, start=s, duration=e - s))
        tracks.append(t.with_notes(notes))
    length = max(float(score.length or 0.0), *(t.end for t in tracks), 0.0)
    return replace(score, tracks=tuple(tracks), length=length)


def retempo(score: Score, bpm: float) -> Score:
    """Set the opening tempo to ``bpm``; later tempo changes keep their ratio to it.

    Musical time is untouched: the same notes on the same beats, faster or slower in seconds.
    """
    factor = bpm / score.tempos[0].bpm
    tempos = tuple(TempoChange(t.beat, round(t.bpm * factor, 6)) for t in score.tempos)
    return replace(score, tempos=tempos)


def merge(base: Score, other: Score) -> Score:
    """Lay the tracks of ``other`` over ``base``; tempo, meter and key maps come from ``base``.

    Sections and chords come from ``base`` unless it has none.
    """
    return Score(
        tracks=base.tracks + other.tracks,
        tempos=base.tempos,
        time_signatures=base.time_signatures,
        key_signatures=base.key_signatures,
        sections=base.sections or other.sections,
        chords=base.chords or other.chords,
        title=base.title or other.title,
        length=max(float(base.length or 0.0), float(other.length or 0.0)),
    )


__all__ = [
    "Chord",
    "KeySignature",
    "Note",
    "Section",
    "TimeSignature",
    "Track",
    "concat",
    "merge",
    "quantize",
    "retempo",
    "slice_score",
    "transpose",
]
