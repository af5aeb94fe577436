"""Small scores built in code, shared by the tests and the benchmarks.

``add_track(score, name, [(pitch, start, duration, velocity), ...])`` in the spirit of note-seq's
test builders; ``band_score`` makes a full multi-track arrangement of any length.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence

from tunecraft.score import (
    Chord,
    KeySignature,
    Note,
    Score,
    Section,
    TempoChange,
    TimeSignature,
    Track,
)

NoteTuple = tuple[int, float, float, int]


def track(name: str, notes: Iterable[Sequence], *, program: int = 0, is_drum: bool = False,
          role: str = "harmony", volume: int = 100, pan: int = 64) -> Track:
    """A track from ``(pitch, start, duration[, velocity[, lyric]])`` tuples."""
    return Track(name=name, notes=tuple(Note(*n) for n in notes), program=program,
                 is_drum=is_drum, role=role, volume=volume, pan=pan)


def melody_score(bpm: float = 120.0) -> Score:
    """One bar of C major scale on a piano, 4/4."""
    notes = [(p, i * 0.5, 0.5, 80) for i, p in enumerate((60, 62, 64, 65, 67, 69, 71, 72))]
    return Score(tracks=(track("Piano", notes, role="lead"),), tempos=(TempoChange(0, bpm),))


_PROGRESSION = (("C", 0, ""), ("A", 9, "m"), ("F", 5, ""), ("G", 7, ""))


def band_score(bars: int = 8, *, bpm: float = 120.0, n_tracks: int = 8, seed: int = 0) -> Score:
    """A pop arrangement in C major, 4/4: lead, pad, chords, bass, drums, arp, counter, strings.

    ``n_tracks`` (1-8) keeps the first tracks of that list. Sections of 4 bars alternate verse and
    chorus. Deterministic for a seed.
    """
    rng = random.Random(seed)
    lead, pad, keys, bass, drums, arp, counter, strings = ([] for _ in range(8))
    chords = []
    for bar in range(bars):
        _, root, quality = _PROGRESSION[bar % 4]
        t0 = bar * 4.0
        chords.append(Chord(t0, 4.0, root, quality))
        triad = [48 + root + i for i in ((0, 3, 7) if quality == "m" else (0, 4, 7))]
        for p in triad:
            pad.append((p + 12, t0, 4.0, 60))
            strings.append((p + 12, t0, 4.0, 55))
        for beat in range(4):
            keys.extend((p, t0 + beat, 0.9, 70) for p in triad)
            bass.append((36 + root, t0 + beat, 0.9, 95))
            drums.append((36 if beat % 2 == 0 else 38, t0 + beat, 0.25, 100))
            for half in (0.0, 0.5):
                drums.append((42, t0 + beat + half, 0.25, 70))
        for step in range(8):
            arp.append((triad[step % 3] + 24, t0 + step * 0.5, 0.5, 65))
        for beat in range(4):
            lead.append((60 + rng.choice((0, 2, 4, 5, 7, 9, 11, 12)), t0 + beat, 1.0, 90))
        counter.append((67 + rng.choice((0, 2, 4)), t0 + 2, 2.0, 70))
    parts = [
        track("Lead", lead, program=73, role="lead", pan=64),
        track("Pad", pad, program=89, role="pad", volume=80, pan=40),
        track("Keys", keys, program=0, role="chords", pan=80),
        track("Bass", bass, program=33, role="bass"),
        track("Drums", drums, is_drum=True, role="drums"),
        track("Arp", arp, program=11, role="arp", volume=70, pan=100),
        track("Counter", counter, program=71, role="counter", pan=30),
        track("Strings", strings, program=48, role="strings", volume=75, pan=90),
    ][:n_tracks]
    sections = tuple(Section("verse" if (b // 16) % 2 == 0 else "chorus", b,
                             min(16.0, bars * 4.0 - b)) for b in range(0, bars * 4, 16))
    return Score(tracks=tuple(parts), tempos=(TempoChange(0, bpm),),
                 time_signatures=(TimeSignature(0, 4, 4),),
                 key_signatures=(KeySignature(0, 0, "major"),), sections=sections,
                 chords=tuple(chords), title="Band test", length=bars * 4.0)


def bars_for_seconds(seconds: float, bpm: float = 120.0, beats_per_bar: int = 4) -> int:
    return max(1, round(seconds * bpm / 60.0 / beats_per_bar))


def track_parts(parsed) -> list[list]:
    """A music21 score's parts grouped per track: a grand staff's two PartStaffs are one."""
    import music21

    groups: list[list] = []
    for p in parsed.parts:
        if isinstance(p, music21.stream.PartStaff) and groups and isinstance(
                groups[-1][0], music21.stream.PartStaff) and groups[-1][0].partName == p.partName:
            groups[-1].append(p)
        else:
            groups.append([p])
    return groups
