"""Hypothesis strategies for scores: any valid score a MIDI file can hold exactly."""

from __future__ import annotations

from hypothesis import strategies as st

from tunecraft.score import (
    KeySignature,
    Note,
    Score,
    Section,
    TempoChange,
    TimeSignature,
    Track,
)

GRID = 48  # positions on a 1/48-beat grid: sixteenths, triplets, thirty-seconds
METERS = [(4, 4), (3, 4), (2, 4), (6, 8), (5, 4), (7, 8), (12, 8), (2, 2)]


@st.composite
def tracks(draw, *, is_drum: bool | None = None, max_notes: int = 30, lyrics: bool = False):
    drum = draw(st.booleans()) if is_drum is None else is_drum
    raw = draw(st.lists(st.tuples(
        st.integers(35 if drum else 0, 81 if drum else 127),
        st.integers(0, 64 * GRID), st.integers(1, 8 * GRID), st.integers(1, 127)),
        max_size=max_notes))
    # No two notes of one pitch overlap (MIDI cannot tell them apart).
    busy: dict[int, int] = {}
    notes = []
    for pitch, start, dur, vel in sorted(raw, key=lambda r: r[1]):
        if start < busy.get(pitch, -1):
            continue
        busy[pitch] = start + dur
        notes.append((pitch, start, dur, vel))
    lyric_words = ["la", "sol", "ah", "love", "oh", "día", "coração"]
    made = []
    onsets_with_lyric: set[int] = set()
    for i, (pitch, start, dur, vel) in enumerate(notes):
        lyric = None
        if lyrics and start not in onsets_with_lyric and draw(st.booleans()):
            onsets_with_lyric.add(start)
            lyric = lyric_words[i % len(lyric_words)]
        made.append(Note(pitch, start / GRID, dur / GRID, vel, lyric))
    if lyrics:  # a lyric sits on the highest note sounding at its onset
        top: dict[float, int] = {}
        for n in made:
            top[n.start] = max(top.get(n.start, -1), n.pitch)
        made = [n if n.lyric is None or n.pitch == top[n.start] else
                Note(n.pitch, n.start, n.duration, n.velocity, None) for n in made]
    name = draw(st.sampled_from(["Piano", "Bass", "Strings", "Lead", "Pad", "Drums"]))
    role = "drums" if drum else draw(st.sampled_from(["lead", "harmony", "bass", "pad",
                                                       "vocal"]))
    return Track(name=name, notes=tuple(made), program=0 if drum else draw(st.integers(0, 127)),
                 is_drum=drum, role=role, volume=draw(st.integers(0, 127)),
                 pan=draw(st.integers(0, 127)))


@st.composite
def scores(draw, *, max_tracks: int = 4, lyrics: bool = False):
    trks = draw(st.lists(tracks(lyrics=lyrics), min_size=1, max_size=max_tracks))
    # Unique names, as a DAW would show them.
    named = []
    for i, t in enumerate(trks):
        named.append(Track(f"{t.name} {i + 1}", t.notes, t.program, t.is_drum, t.role,
                           t.volume, t.pan))
    # Meter map: a few meters, each lasting whole bars.
    meters, beat = [], 0.0
    for num, den in draw(st.lists(st.sampled_from(METERS), min_size=1, max_size=3)):
        if meters and (num, den) == (meters[-1].numerator, meters[-1].denominator):
            continue
        meters.append(TimeSignature(beat, num, den))
        beat += draw(st.integers(1, 6)) * num * 4 / den
    tempo_beats = sorted(set(draw(st.lists(st.integers(1, 80), max_size=3))))
    tempos = [TempoChange(0, draw(st.integers(2000, 30000)) / 100)]
    tempos += [TempoChange(b, draw(st.integers(2000, 30000)) / 100) for b in tempo_beats]
    keys = [KeySignature(0, draw(st.integers(0, 11)), draw(st.sampled_from(["major", "minor"])))]
    if draw(st.booleans()):
        keys.append(KeySignature(draw(st.integers(1, 60)), draw(st.integers(0, 11)),
                                 draw(st.sampled_from(["major", "minor"]))))
    draft = Score(tracks=tuple(named), tempos=tuple(tempos), time_signatures=tuple(meters),
                  key_signatures=tuple(keys))
    bars = draft.bar_lines()
    cuts = sorted(set([*draw(st.lists(st.sampled_from(bars), max_size=4)), 0.0])) if bars \
        else [0.0]
    names = ["intro", "verse 1", "chorus", "verse 2", "bridge", "outro"]
    length = float(draft.length or 0.0)
    sections = tuple(Section(names[i % len(names)], a, b - a)
                     for i, (a, b) in enumerate(zip(cuts, [*cuts[1:], length], strict=True))
                     if b > a)
    # Map changes at or after the end change nothing audible; keep them inside the piece.
    return draft.replace(sections=sections, length=draft.length,
                         time_signatures=tuple(t for t in draft.time_signatures
                                               if t.beat < length or t.beat == 0),
                         tempos=tuple(t for t in draft.tempos if t.beat < length or t.beat == 0),
                         key_signatures=tuple(k for k in draft.key_signatures
                                              if k.beat < length or k.beat == 0))
