"""The demo piece: a Bach chorale from music21's bundled corpus, arranged for strings and organ.

It is real music built in code, so ``make demo`` writes something worth hearing on day one: the
four voices on violins, viola and cello, a contrabass doubling the bass an octave down, a soft
organ underneath, phrases shaped by velocity, a held tempo at each fermata and a ritardando at
the end. Phrases become sections (MIDI markers); the harmony is read into a chord timeline.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from functools import cache

import numpy as np

from .audio import Audio
from .errors import TunecraftError
from .score import (
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

log = logging.getLogger(__name__)

DEFAULT_CHORALE = "bach/bwv66.6"

# (track name, GM program, role, pan, volume, source voice index, octave shift)
_ARRANGEMENT = (
    ("Violin I", 40, "lead", 44, 110, 0, 0),
    ("Violin II", 40, "harmony", 56, 92, 1, 0),
    ("Viola", 41, "harmony", 76, 92, 2, 0),
    ("Cello", 42, "bass", 88, 100, 3, 0),
    ("Contrabass", 43, "bass", 80, 70, 3, -12),
)
_ORGAN = ("Organ", 19, "pad", 64, 52)

_QUALITY = {"major": "", "minor": "m", "diminished": "dim", "augmented": "aug"}


def _meter_for(quarter_length: float) -> tuple[int, int]:
    for den in (4, 8, 16, 32):
        num = quarter_length * den / 4
        if abs(num - round(num)) < 1e-9 and round(num) >= 1:
            return round(num), den
    raise TunecraftError(f"cannot notate a pickup of {quarter_length} beats")


@cache
def demo_score(chorale: str = DEFAULT_CHORALE, *, bpm: float = 76.0) -> Score:
    """Arrange a chorale from music21's corpus. Deterministic; cached per process."""
    from music21 import corpus, expressions

    try:
        src = corpus.parse(chorale)
    except Exception as exc:  # music21 raises several kinds for a missing work
        raise TunecraftError(f"chorale {chorale!r} is not in music21's corpus ({exc})") from None
    parts = list(src.parts)
    if len(parts) < 4:
        raise TunecraftError(f"{chorale}: expected four voices, found {len(parts)}")

    first_measure = parts[0].getElementsByClass("Measure").first()
    ts = first_measure.timeSignature or parts[0].recurse().getElementsByClass("TimeSignature")[0]
    bar = ts.barDuration.quarterLength
    pickup = first_measure.duration.quarterLength
    meters = [TimeSignature(0.0, ts.numerator, ts.denominator)]
    if 0 < pickup < bar:  # an upbeat becomes a short first bar, so the bar lines stay true
        num, den = _meter_for(pickup)
        meters = [TimeSignature(0.0, num, den), TimeSignature(pickup, ts.numerator, ts.denominator)]

    voices: list[list[tuple[int, float, float]]] = []
    fermata_ends: set[float] = set()
    fermata_spans: list[tuple[float, float]] = []
    for part in parts[:4]:
        notes = []
        for n in part.stripTies().flatten().notes:
            start, dur = float(n.offset), float(n.quarterLength)
            if dur <= 0:
                continue
            for p in n.pitches:
                notes.append((p.midi, start, dur))
            if any(isinstance(e, expressions.Fermata) for e in n.expressions):
                fermata_ends.add(snap(start + dur))
                fermata_spans.append((snap(start), snap(start + dur)))
        voices.append(notes)
    end = max(s + d for v in voices for _, s, d in v)
    upbeat = pickup if 0 < pickup < bar else 0.0
    length = upbeat + math.ceil((end - upbeat) / bar - 1e-9) * bar

    # Phrases end at fermatas (and at the end); each becomes a section.
    bounds = [*sorted(b for b in fermata_ends if 0 < b < end - 1e-06), length]
    sections, starts = [], [0.0, *bounds[:-1]]
    for i, (a, b) in enumerate(zip(starts, bounds, strict=True), 1):
        sections.append(Section(f"phrase {i}", a, b - a))

    def shaped_velocity(t: float) -> int:
        """An arch per phrase: softer at the ends, fuller in the middle; the last phrase louder."""
        for i, s in enumerate(sections):
            if s.start <= t < s.end:
                pos = (t - s.start) / s.length
                lift = 6 if i == len(sections) - 1 else 0
                return round(62 + lift + 24 * math.sin(math.pi * pos))
        return 70

    tracks = []
    for name, program, role, pan, volume, voice, shift in _ARRANGEMENT:
        notes = tuple(Note(p + shift, s, d, shaped_velocity(s)) for p, s, d in voices[voice])
        tracks.append(Track(name, notes, program=program, role=role, pan=pan, volume=volume))
    o_name, o_prog, o_role, o_pan, o_vol = _ORGAN
    organ_notes = tuple(Note(p, s, d, max(40, shaped_velocity(s) - 18))
                        for v in voices for p, s, d in v)
    tracks.append(Track(o_name, organ_notes, program=o_prog, role=o_role, pan=o_pan,
                        volume=o_vol))

    # Tempo: held fermatas (half speed while they sound) and a ritardando into the last chord.
    tempo_points: dict[float, float] = {0.0: bpm}
    for a, b in sorted(fermata_spans):
        tempo_points[a] = round(bpm * 0.5, 2)
        if b < end - 1e-6:
            tempo_points.setdefault(b, bpm)
    last_fermata = max((a for a, _ in fermata_spans), default=end)
    for k, beat in enumerate(range(int(last_fermata) - 3, int(last_fermata))):
        if beat > 0:
            tempo_points[float(beat)] = round(bpm * (0.94 - 0.08 * k), 2)
    tempos = tuple(TempoChange(b, t) for b, t in sorted(tempo_points.items()))

    key = src.analyze("key")
    keysig = KeySignature(0.0, key.tonic.pitchClass, "minor" if key.mode == "minor" else "major")

    chords: list[Chord] = []
    for c in src.chordify().flatten().getElementsByClass("Chord"):
        start, dur = float(c.offset), float(c.quarterLength)
        if dur <= 0 or len(c.pitches) < 3:
            continue
        quality = "7" if c.isDominantSeventh() else _QUALITY.get(c.quality)
        if quality is None:
            continue
        root = c.root().pitchClass
        if chords and chords[-1].root == root and chords[-1].quality == quality and \
                abs(chords[-1].end - start) < 1e-6:
            prev = chords.pop()
            chords.append(Chord(prev.start, prev.duration + dur, root, quality))
        elif not chords or start >= chords[-1].end - 1e-6:
            chords.append(Chord(start, dur, root, quality))

    title = (src.metadata.title if src.metadata and src.metadata.title else
             "Chorale " + chorale.split("/")[-1].upper().replace("BWV", "BWV "))
    return Score(tracks=tuple(tracks), tempos=tempos, time_signatures=tuple(meters),
                 key_signatures=(keysig,), sections=tuple(sections), chords=tuple(chords),
                 title=f"{title} (J. S. Bach, arranged by tunecraft)", length=length)


# ----------------------------------------------------------------------------------------------
# Example inputs for the README: a tune as MIDI, hummed, whistled and played; a song; lyrics.

#: Ode to Joy in D major as (MIDI pitch, beats).
ODE_TO_JOY = ((66, 1), (66, 1), (67, 1), (69, 1), (69, 1), (67, 1), (66, 1), (64, 1),
              (62, 1), (62, 1), (64, 1), (66, 1), (66, 1.5), (64, 0.5), (64, 2),
              (66, 1), (66, 1), (67, 1), (69, 1), (69, 1), (67, 1), (66, 1), (64, 1),
              (62, 1), (62, 1), (64, 1), (66, 1), (64, 1.5), (62, 0.5), (62, 2))

EXAMPLE_LYRICS = """Morning light across the water
every road is calling me

[chorus]
Sing it loud and sing it slowly
we are going home tonight
"""

EXAMPLE_STORY = """0:00 time to meditate
0:15 time to wake up
0:30 time to run
"""

EXAMPLE_FILES = ("tune.mid", "hum.wav", "whistle.mp3", "take.wav", "song.mid", "lyrics.txt",
                 "story.txt")


def tune_notes(tune: Sequence[tuple[int | None, float]], bpm: float, lead_in: float = 0.4,
               *, legato: float = 0.92) -> list[tuple[float, float, int]]:
    """``(pitch, beats)`` pairs as (onset s, offset s, pitch) from ``lead_in``, each note
    sounding ``legato`` of its length (a breath between notes below 1)."""
    out, t = [], lead_in
    for pitch, beats in tune:
        dur = beats * 60.0 / bpm
        if pitch is not None:
            out.append((t, t + dur * legato, pitch))
        t += dur
    return out


def sing(notes: list[tuple[float, float, int]], *, kind: str = "hum", seed: int = 0,
         sr: int = 22050, vibrato_cents: float = 40.0, drift_cents: float = 30.0,
         glide_ms: float = 70.0, noise_db: float = -32.0, transpose: int = 0,
         tail: float = 0.5) -> Audio:
    """A voice-like (``kind="hum"``) or whistled (``"whistle"``) rendition of the notes.

    Notes closer than 40 ms are sung legato: the pitch glides into the next note over
    ``glide_ms`` (starting at its onset) with no break in the sound; a repeated pitch or a
    longer gap gets a short breath (the level drops and only breath noise is left).
    """
    rng = np.random.default_rng(seed)
    total = max(off for _, off, _ in notes) + tail
    n = int(total * sr)
    t = np.arange(n) / sr
    shift = transpose + (24 if kind == "whistle" else 0)
    # Pitch contour (semitones) and loudness envelope.
    pitch = np.full(n, float(notes[0][2] + shift))
    env = np.zeros(n)
    attack = 0.06 if kind == "hum" else 0.03
    for i, (on, off, p) in enumerate(notes):
        p = p + shift
        prev = notes[i - 1] if i else None
        nxt = notes[i + 1] if i + 1 < len(notes) else None
        a, b = int(on * sr), int(off * sr)
        legato = prev is not None and on - prev[1] < 0.04 and prev[2] != notes[i][2]
        pitch[a:b] = p
        if legato:
            g = min(int(glide_ms / 1000 * sr), (b - a) // 2)
            start = float(prev[2] + shift)
            x = np.linspace(0, 1, g)
            pitch[a:a + g] = start + (p - start) * (0.5 - 0.5 * np.cos(np.pi * x))
        # Articulation: a breath before a repeated pitch or after a gap.
        release = nxt is None or nxt[2] == notes[i][2] or nxt[0] - off >= 0.04
        seg = np.ones(b - a)
        if not legato:
            k = min(int(attack * sr), len(seg) // 2)
            seg[:k] = np.sin(0.5 * np.pi * np.linspace(0, 1, k)) ** 2
        if release:
            k = min(int(0.07 * sr), len(seg) // 3)
            seg[len(seg) - k:] *= np.linspace(1, 0, k) ** 1.5
        env[a:b] = np.maximum(env[a:b], seg * rng.uniform(0.75, 1.0))
    # Pitch wanders: vibrato, a slow drift, a little jitter.
    rate = rng.uniform(5.0, 6.0)
    vib = vibrato_cents / 100 * np.sin(2 * np.pi * rate * t + rng.uniform(0, 2 * np.pi))
    vib *= np.clip(t / 0.3, 0, 1)
    drift = drift_cents / 100 * (t / total) * rng.choice([-1, 1])
    jitter = np.convolve(rng.normal(0, 0.03, n), np.ones(200) / 200, mode="same")
    f0 = 440.0 * 2 ** ((pitch + vib + drift + jitter - 69) / 12)
    phase = 2 * np.pi * np.cumsum(f0) / sr
    y = np.zeros(n)
    if kind == "whistle":
        y += np.sin(phase) + 0.04 * np.sin(2 * phase)
    else:
        fc = (500.0, 1100.0, 2500.0)  # "oo/ah" formants
        for h in range(1, 40):
            fh = h * f0
            if np.min(fh) > 6000:
                break
            tilt = h ** -1.0
            formant = sum(np.exp(-0.5 * ((fh - c) / 180.0) ** 2) * w
                          for c, w in zip(fc, (1.0, 0.6, 0.25), strict=True))
            y += tilt * (0.3 + formant) * np.sin(h * phase + rng.uniform(0, 2 * np.pi))
    y *= env
    # Breath noise: a floor all along, louder in the breaths between phrases.
    noise = rng.normal(0, 1, n)
    noise = np.convolve(noise, np.ones(3) / 3, mode="same")
    floor = 10 ** (noise_db / 20) * (1 + 2 * (env < 0.05))
    y = y / max(np.max(np.abs(y)), 1e-9) * 0.5 + noise * floor * 0.5
    return Audio(y.astype(np.float32)[None, :], sr)
