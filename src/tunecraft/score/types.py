"""The score: tracks of notes in musical time, plus the maps that give it meaning.

Every stage of tunecraft speaks this one schema. All types are frozen dataclasses holding tuples;
a transform returns a new object. Times are in **beats** (a quarter note is one beat) on a grid of
``1/TICKS_PER_BEAT``: values are snapped to that grid when an object is made, so a score survives a
trip through MIDI exactly. Seconds are derived from the tempo map.
"""

from __future__ import annotations

import bisect
import itertools
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from ..errors import ScoreError

SCHEMA = "tunecraft.score/1"
TICKS_PER_BEAT = 960
#: Times (beats or seconds) closer than this are the same time: a millionth of a beat, far
#: below a MIDI tick. The one tolerance for comparing times in tunecraft.
EPS = 1e-6
_HALF_TICK = 0.5 / TICKS_PER_BEAT  # what a MIDI file cannot tell apart

ROLES = frozenset(
    {"lead", "melody", "harmony", "chords", "bass", "drums", "percussion", "pad", "arp",
     "counter", "strings", "fx", "vocal"}
)  # fmt: skip

PITCH_NAMES_SHARP = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")
PITCH_NAMES_FLAT = ("C", "Db", "D", "Eb", "E", "F", "Gb", "G", "Ab", "A", "Bb", "B")
# Conventional spelling of a key's tonic (fewest accidentals in the signature).
_MAJOR_TONIC = ("C", "Db", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")
_MINOR_TONIC = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "G#", "A", "Bb", "B")
_LETTER_PC = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}


def snap(beats: float) -> float:
    """Snap a time in beats to the score grid (1/960 of a beat)."""
    return round(beats * TICKS_PER_BEAT) / TICKS_PER_BEAT


def to_ticks(beats: float) -> int:
    return round(beats * TICKS_PER_BEAT)


def pitch_class_name(pc: int, *, flats: bool = False) -> str:
    return (PITCH_NAMES_FLAT if flats else PITCH_NAMES_SHARP)[pc % 12]


def note_name(pitch: int) -> str:
    """MIDI pitch to scientific pitch name: 60 -> "C4"."""
    return f"{PITCH_NAMES_SHARP[pitch % 12]}{pitch // 12 - 1}"


def parse_pitch_class(text: str) -> int:
    """"C", "F#", "Bb", "B flat", "E♭", "do", "ré", "sol#" -> pitch class 0-11."""
    t = text.strip().lower().replace("♯", "#").replace("♭", "b")
    t = re.sub(r"\s*(sharp|sostenido|sustenido)$", "#", t)
    t = re.sub(r"\s*(flat|bemol|bemól)$", "b", t)
    solfege = {"do": "c", "re": "d", "ré": "d", "mi": "e", "fa": "f", "sol": "g", "la": "a",
               "si": "b", "ti": "b"}  # fmt: skip
    m = re.fullmatch(r"(do|ré|re|mi|fa|sol|la|si|ti|[a-g])\s*(#{1,2}|b{1,2})?", t)
    if not m:
        raise ScoreError(f"{text!r} is not a note name (try C, F#, Bb)")
    letter = solfege.get(m.group(1), m.group(1)).upper()
    acc = m.group(2) or ""
    return (_LETTER_PC[letter] + acc.count("#") - acc.count("b")) % 12


# ----------------------------------------------------------------------------------------------
# Events


@dataclass(frozen=True, slots=True)
class Note:
    """One note. ``start`` and ``duration`` in beats; ``lyric`` is the syllable sung on it."""

    pitch: int
    start: float
    duration: float
    velocity: int = 90
    lyric: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.pitch, int) or not 0 <= self.pitch <= 127:
            raise ScoreError(f"pitch {self.pitch!r} is outside the MIDI range 0-127")
        if not isinstance(self.velocity, int) or not 1 <= self.velocity <= 127:
            raise ScoreError(f"velocity {self.velocity!r} is outside 1-127")
        if not (math.isfinite(self.start) and math.isfinite(self.duration)):
            raise ScoreError(f"note {note_name(self.pitch)} has a time that is not a number")
        if self.start < -_HALF_TICK:
            raise ScoreError(f"note {note_name(self.pitch)} starts before the beginning "
                             f"(beat {self.start:g})")
        if self.duration <= 0:
            raise ScoreError(f"note {note_name(self.pitch)} at beat {self.start:g} has a "
                             f"duration of {self.duration:g} beats; durations must be positive")
        object.__setattr__(self, "start", snap(self.start))
        d = snap(self.duration)
        object.__setattr__(self, "duration", d if d > 0 else 1 / TICKS_PER_BEAT)

    @property
    def end(self) -> float:
        return self.start + self.duration

    @property
    def name(self) -> str:
        return note_name(self.pitch)


@dataclass(frozen=True, slots=True)
class TempoChange:
    """From ``beat`` on, the tempo is ``bpm`` quarter notes per minute."""

    beat: float
    bpm: float

    def __post_init__(self) -> None:
        if not (isinstance(self.bpm, (int, float)) and math.isfinite(self.bpm)
                and 4 <= self.bpm <= 1000):
            raise ScoreError(f"tempo {self.bpm!r} bpm is outside 4-1000 bpm")
        if self.beat < -_HALF_TICK:
            raise ScoreError(f"tempo change at negative beat {self.beat:g}")
        object.__setattr__(self, "beat", snap(self.beat))
        object.__setattr__(self, "bpm", float(self.bpm))


@dataclass(frozen=True, slots=True)
class TimeSignature:
    """From ``beat`` on (a bar line), bars hold ``numerator`` notes of value 1/``denominator``."""

    beat: float
    numerator: int
    denominator: int

    def __post_init__(self) -> None:
        if not isinstance(self.numerator, int) or not 1 <= self.numerator <= 64:
            raise ScoreError(f"meter {self.numerator}/{self.denominator}: the top number must "
                             "be 1-64")
        if self.denominator not in (1, 2, 4, 8, 16, 32, 64):
            raise ScoreError(f"meter {self.numerator}/{self.denominator}: the bottom number "
                             "must be 1, 2, 4, 8, 16, 32 or 64")
        if self.beat < -_HALF_TICK:
            raise ScoreError(f"meter change at negative beat {self.beat:g}")
        object.__setattr__(self, "beat", snap(self.beat))

    @property
    def bar_beats(self) -> float:
        """Length of one bar in beats (quarter notes)."""
        return self.numerator * 4 / self.denominator

    def __str__(self) -> str:
        return f"{self.numerator}/{self.denominator}"


@dataclass(frozen=True, slots=True)
class KeySignature:
    """From ``beat`` on, the key is ``tonic`` (pitch class 0-11) in ``mode`` (major or minor)."""

    beat: float
    tonic: int
    mode: str = "major"

    def __post_init__(self) -> None:
        if not isinstance(self.tonic, int) or not 0 <= self.tonic <= 11:
            raise ScoreError(f"key tonic {self.tonic!r} must be a pitch class 0-11")
        if self.mode not in ("major", "minor"):
            raise ScoreError(f"key mode {self.mode!r} must be 'major' or 'minor'")
        object.__setattr__(self, "beat", snap(self.beat))

    @property
    def tonic_name(self) -> str:
        return (_MAJOR_TONIC if self.mode == "major" else _MINOR_TONIC)[self.tonic]

    @property
    def name(self) -> str:
        return f"{self.tonic_name} {self.mode}"

    @property
    def uses_flats(self) -> bool:
        """Whether the key signature has flats (F major, D minor, B-flat major...)."""
        return "b" in self.tonic_name or self.name in ("F major", "D minor", "G minor",
                                                       "C minor", "F minor")

    @property
    def scale(self) -> tuple[int, ...]:
        """The seven pitch classes of the key (natural minor for minor keys)."""
        steps = (0, 2, 4, 5, 7, 9, 11) if self.mode == "major" else (0, 2, 3, 5, 7, 8, 10)
        return tuple((self.tonic + s) % 12 for s in steps)

    @classmethod
    def parse(cls, text: str, beat: float = 0.0) -> KeySignature:
        """"D minor", "Bb major", "F#m", "B flat major", "mi menor", "Eb" -> a key."""
        t = text.strip().lower().replace("♭", "b").replace("♯", "#")
        mode = "major"
        for word, m in (("minor", "minor"), ("menor", "minor"), ("moll", "minor"),
                        ("major", "major"), ("mayor", "major"), ("maior", "major"),
                        ("dur", "major")):  # fmt: skip
            if t.endswith(word):
                t, mode = t[: -len(word)].strip(), m
                break
        else:
            if len(t) >= 2 and t.endswith("m") and not t.endswith("im"):
                t, mode = t[:-1].strip(), "minor"
        try:
            return cls(beat, parse_pitch_class(t), mode)
        except ScoreError:
            raise ScoreError(f"{text!r} is not a key (try 'D minor' or 'Bb major')") from None


_CHORD_QUALITIES: dict[str, tuple[int, ...]] = {
    "": (0, 4, 7), "m": (0, 3, 7), "dim": (0, 3, 6), "aug": (0, 4, 8),
    "sus2": (0, 2, 7), "sus4": (0, 5, 7), "5": (0, 7),
    "6": (0, 4, 7, 9), "m6": (0, 3, 7, 9), "7": (0, 4, 7, 10), "maj7": (0, 4, 7, 11),
    "m7": (0, 3, 7, 10), "mmaj7": (0, 3, 7, 11), "m7b5": (0, 3, 6, 10), "dim7": (0, 3, 6, 9),
    "7sus4": (0, 5, 7, 10), "add9": (0, 4, 7, 14), "madd9": (0, 3, 7, 14),
    "9": (0, 4, 7, 10, 14), "maj9": (0, 4, 7, 11, 14), "m9": (0, 3, 7, 10, 14),
}  # fmt: skip
CHORD_QUALITIES = frozenset(_CHORD_QUALITIES)


@dataclass(frozen=True, slots=True)
class Chord:
    """A chord symbol over a span of beats: root pitch class, quality ("", "m", "7", "maj7"...)."""

    start: float
    duration: float
    root: int
    quality: str = ""
    bass: int | None = None

    def __post_init__(self) -> None:
        if self.quality not in _CHORD_QUALITIES:
            raise ScoreError(f"chord quality {self.quality!r} is unknown "
                             f"(known: {', '.join(sorted(q or 'maj' for q in _CHORD_QUALITIES))})")
        if not 0 <= self.root <= 11 or (self.bass is not None and not 0 <= self.bass <= 11):
            raise ScoreError("chord root and bass must be pitch classes 0-11")
        if self.duration <= 0 or self.start < -_HALF_TICK:
            raise ScoreError(f"chord {self.symbol} at beat {self.start:g} needs a positive "
                             "duration and a start at or after beat 0")
        object.__setattr__(self, "start", snap(self.start))
        object.__setattr__(self, "duration", snap(self.duration))

    @property
    def end(self) -> float:
        return self.start + self.duration

    @property
    def intervals(self) -> tuple[int, ...]:
        return _CHORD_QUALITIES[self.quality]

    @property
    def pitch_classes(self) -> tuple[int, ...]:
        return tuple((self.root + i) % 12 for i in self.intervals)

    @property
    def symbol(self) -> str:
        """The chord symbol spelled with flats for Eb, Ab and Bb and sharps for C# and F#."""
        return self.spelled(flats=self.root in (3, 8, 10))

    def spelled(self, key: KeySignature | None = None, *, flats: bool | None = None) -> str:
        """The chord symbol spelled for a key: "Db" in A-flat major, "C#" in F-sharp minor."""
        if flats is None:
            flats = key is not None and key.uses_flats
        s = pitch_class_name(self.root, flats=flats) + self.quality
        if self.bass is not None and self.bass != self.root:
            s += "/" + pitch_class_name(self.bass, flats=flats)
        return s

    @classmethod
    def parse(cls, symbol: str, start: float = 0.0, duration: float = 4.0) -> Chord:
        """"Am7", "F#m7b5", "Bb/D", "Cmaj7" -> a chord."""
        m = re.fullmatch(r"\s*([A-Ga-g][#b]?)([^/\s]*)(?:/([A-Ga-g][#b]?))?\s*", symbol)
        if not m:
            raise ScoreError(f"{symbol!r} is not a chord symbol (try Am7, F#m, Bb/D)")
        quality = {"maj": "", "M": "", "min": "m", "-": "m", "M7": "maj7", "min7": "m7",
                   "-7": "m7", "ø": "m7b5", "o": "dim", "°": "dim", "+": "aug"}.get(
            m.group(2), m.group(2))  # fmt: skip
        bass = parse_pitch_class(m.group(3)) if m.group(3) else None
        return cls(start, duration, parse_pitch_class(m.group(1)), quality, bass)


@dataclass(frozen=True, slots=True)
class Section:
    """A named span of the form: "intro", "verse 1", "chorus"... ``start``/``length`` in beats."""

    name: str
    start: float
    length: float

    def __post_init__(self) -> None:
        if not self.name or not self.name.strip():
            raise ScoreError("a section needs a name (intro, verse, chorus...)")
        if self.length <= 0:
            raise ScoreError(f"section {self.name!r} has length {self.length:g}; it must be "
                             "positive")
        if self.start < -_HALF_TICK:
            raise ScoreError(f"section {self.name!r} starts before the beginning")
        object.__setattr__(self, "start", snap(self.start))
        object.__setattr__(self, "length", snap(self.length))

    @property
    def end(self) -> float:
        return self.start + self.length


# ----------------------------------------------------------------------------------------------
# Tracks and the score


@dataclass(frozen=True, slots=True)
class Track:
    """One instrument's part.

    ``program`` is the General MIDI program (0-127, ignored for drums); ``volume`` and ``pan``
    are MIDI controller values (0-127; pan 0 is hard left, 64 centre, 127 hard right).
    Notes are kept sorted by start time, then pitch.
    """

    name: str
    notes: tuple[Note, ...] = ()
    program: int = 0
    is_drum: bool = False
    role: str = "harmony"
    volume: int = 100
    pan: int = 64

    def __post_init__(self) -> None:
        if not isinstance(self.program, int) or not 0 <= self.program <= 127:
            raise ScoreError(f"track {self.name!r}: program {self.program!r} is outside 0-127")
        for what, value in (("volume", self.volume), ("pan", self.pan)):
            if not isinstance(value, int) or not 0 <= value <= 127:
                raise ScoreError(f"track {self.name!r}: {what} {value!r} is outside 0-127")
        if self.role not in ROLES:
            raise ScoreError(f"track {self.name!r}: role {self.role!r} is unknown "
                             f"(known: {', '.join(sorted(ROLES))})")
        notes = tuple(self.notes)
        for n in notes:
            if not isinstance(n, Note):
                raise ScoreError(f"track {self.name!r} holds {type(n).__name__}, not Note")
        object.__setattr__(self, "notes",
                           tuple(sorted(notes, key=lambda n: (n.start, n.pitch, n.duration))))

    @property
    def end(self) -> float:
        return max((n.end for n in self.notes), default=0.0)

    @property
    def instrument(self) -> str:
        from ..gm import program_name

        return program_name(self.program, is_drum=self.is_drum)

    def with_notes(self, notes: Iterable[Note]) -> Track:
        return replace(self, notes=tuple(notes))


def _normalize_changes(items: Iterable[Any], what: str, same: Any) -> tuple[Any, ...]:
    """Sort changes by beat, reject two at one beat, drop those that change nothing."""
    out: list[Any] = []
    for item in sorted(items, key=lambda x: x.beat):
        if out and abs(out[-1].beat - item.beat) < _HALF_TICK:
            raise ScoreError(f"two {what} at beat {item.beat:g}")
        if out and same(out[-1], item):
            continue
        out.append(item)
    if not out or out[0].beat > _HALF_TICK:
        raise ScoreError(f"the {what} must start at beat 0")
    return tuple(out)


@dataclass(frozen=True)
class Score:
    """A piece of music in musical time.

    Attributes:
        tracks: the instruments' parts.
        tempos: the tempo map, starting at beat 0.
        time_signatures: the meter map, starting at beat 0, each change on a bar line.
        key_signatures: the key map, starting at beat 0.
        sections: the form, non-overlapping spans in time order.
        chords: the chord timeline (chord symbols), non-overlapping.
        title: shown in the MIDI and MusicXML files.
        length: the length in beats; by default the end of the content rounded up to a bar line.
    """

    tracks: tuple[Track, ...] = ()
    tempos: tuple[TempoChange, ...] = (TempoChange(0.0, 120.0),)
    time_signatures: tuple[TimeSignature, ...] = (TimeSignature(0.0, 4, 4),)
    key_signatures: tuple[KeySignature, ...] = (KeySignature(0.0, 0, "major"),)
    sections: tuple[Section, ...] = ()
    chords: tuple[Chord, ...] = ()
    title: str = ""
    length: float | None = None
    _tempo_index: tuple[tuple[float, ...], tuple[float, ...]] = field(
        init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        tracks = tuple(self.tracks)
        for t in tracks:
            if not isinstance(t, Track):
                raise ScoreError(f"a score holds tracks, not {type(t).__name__}")
        set_(self, "tracks", tracks)
        set_(self, "tempos", _normalize_changes(self.tempos, "tempo map",
                                                lambda a, b: a.bpm == b.bpm))
        set_(self, "time_signatures", _normalize_changes(
            self.time_signatures, "meter map",
            lambda a, b: (a.numerator, a.denominator) == (b.numerator, b.denominator)))
        set_(self, "key_signatures", _normalize_changes(
            self.key_signatures, "key map", lambda a, b: (a.tonic, a.mode) == (b.tonic, b.mode)))
        # Meter changes fall on bar lines of the meter before them.
        ts = self.time_signatures
        for prev, cur in itertools.pairwise(ts):
            bars = (cur.beat - prev.beat) / prev.bar_beats
            if abs(bars - round(bars)) > 1e-6:
                raise ScoreError(f"meter change to {cur} at beat {cur.beat:g} is not on a bar "
                                 f"line of {prev}")
        sections = tuple(sorted(self.sections, key=lambda s: s.start))
        for a, b in itertools.pairwise(sections):
            if b.start < a.end - _HALF_TICK:
                raise ScoreError(f"sections {a.name!r} and {b.name!r} overlap "
                                 f"(beats {a.start:g}-{a.end:g} and {b.start:g}-{b.end:g})")
        set_(self, "sections", sections)
        chords = tuple(sorted(self.chords, key=lambda c: c.start))
        for a, b in itertools.pairwise(chords):
            if b.start < a.end - _HALF_TICK:
                raise ScoreError(f"chords {a.symbol} and {b.symbol} overlap at beat {b.start:g}")
        set_(self, "chords", chords)
        content_end = max([t.end for t in tracks] + [s.end for s in sections]
                          + [c.end for c in chords] + [0.0])
        if self.length is None:
            set_(self, "length", self.next_bar_line(content_end) if content_end > 0 else 0.0)
        else:
            if not math.isfinite(self.length) or self.length < content_end - _HALF_TICK:
                raise ScoreError(f"score length {self.length:g} beats is shorter than its "
                                 f"content ({content_end:g} beats)")
            set_(self, "length", snap(self.length))
        # Cumulative seconds at each tempo change, for fast beat <-> seconds conversion.
        beats = tuple(t.beat for t in self.tempos)
        secs = [0.0]
        for a, b in zip(self.tempos, self.tempos[1:], strict=False):
            secs.append(secs[-1] + (b.beat - a.beat) * 60.0 / a.bpm)
        set_(self, "_tempo_index", (beats, tuple(secs)))

    # -- time ---------------------------------------------------------------------------------

    def seconds_at(self, beat: float) -> float:
        """Seconds from the start at a time in beats, following the tempo map."""
        beats, secs = self._tempo_index
        i = max(bisect.bisect_right(beats, beat) - 1, 0)
        return secs[i] + (beat - beats[i]) * 60.0 / self.tempos[i].bpm

    def beat_at(self, seconds: float) -> float:
        """The time in beats at a number of seconds from the start."""
        beats, secs = self._tempo_index
        i = max(bisect.bisect_right(secs, seconds) - 1, 0)
        return beats[i] + (seconds - secs[i]) * self.tempos[i].bpm / 60.0

    @property
    def duration_seconds(self) -> float:
        return self.seconds_at(float(self.length or 0.0))

    def bpm_at(self, beat: float) -> float:
        beats, _ = self._tempo_index
        return self.tempos[max(bisect.bisect_right(beats, beat) - 1, 0)].bpm

    def time_signature_at(self, beat: float) -> TimeSignature:
        i = bisect.bisect_right([t.beat for t in self.time_signatures], beat + _HALF_TICK) - 1
        return self.time_signatures[max(i, 0)]

    def key_at(self, beat: float) -> KeySignature:
        i = bisect.bisect_right([k.beat for k in self.key_signatures], beat + _HALF_TICK) - 1
        return self.key_signatures[max(i, 0)]

    def bar_lines(self, until: float | None = None) -> tuple[float, ...]:
        """Beats at which bars start, from 0 up to ``until`` (default: the score length)."""
        end = float(self.length or 0.0) if until is None else until
        out: list[float] = []
        ts = self.time_signatures
        for i, sig in enumerate(ts):
            stop = ts[i + 1].beat if i + 1 < len(ts) else end
            b = sig.beat
            while b < min(stop, end) - _HALF_TICK:
                out.append(snap(b))
                b += sig.bar_beats
        return tuple(out)

    def next_bar_line(self, beat: float) -> float:
        """The first bar line at or after ``beat``."""
        ts = self.time_signatures
        sig = ts[0]
        for s in ts:
            if s.beat <= beat + _HALF_TICK:
                sig = s
        bars = math.ceil((beat - sig.beat) / sig.bar_beats - 1e-9)
        return snap(sig.beat + max(bars, 0) * sig.bar_beats)

    # -- conveniences -------------------------------------------------------------------------

    @property
    def key(self) -> KeySignature:
        return self.key_signatures[0]

    @property
    def time_signature(self) -> TimeSignature:
        return self.time_signatures[0]

    @property
    def bpm(self) -> float:
        return self.tempos[0].bpm

    @property
    def notes(self) -> tuple[Note, ...]:
        return tuple(n for t in self.tracks for n in t.notes)

    @property
    def note_count(self) -> int:
        return sum(len(t.notes) for t in self.tracks)

    def track(self, name: str) -> Track:
        for t in self.tracks:
            if t.name == name:
                return t
        raise ScoreError(f"no track named {name!r} (tracks: "
                         f"{', '.join(t.name for t in self.tracks) or 'none'})")

    def replace(self, **changes: Any) -> Score:
        """A copy with some fields changed (the length is recomputed unless given)."""
        if "length" not in changes and any(k in changes for k in ("tracks", "sections",
                                                                   "chords", "time_signatures")):
            changes["length"] = None
        return replace(self, **changes)

    # -- serialisation ------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (schema ``tunecraft.score/1``)."""
        return {
            "schema": SCHEMA,
            "title": self.title,
            "length_beats": self.length,
            "duration_seconds": round(self.duration_seconds, 6),
            "tempos": [{"beat": t.beat, "bpm": t.bpm} for t in self.tempos],
            "time_signatures": [{"beat": t.beat, "numerator": t.numerator,
                                 "denominator": t.denominator} for t in self.time_signatures],
            "key_signatures": [{"beat": k.beat, "tonic": k.tonic, "mode": k.mode,
                                "name": k.name} for k in self.key_signatures],
            "sections": [{"name": s.name, "start": s.start, "length": s.length,
                          "start_seconds": round(self.seconds_at(s.start), 6)}
                         for s in self.sections],
            "chords": [{"start": c.start, "duration": c.duration, "root": c.root,
                        "quality": c.quality, "bass": c.bass, "symbol": c.symbol}
                       for c in self.chords],
            "tracks": [{
                "name": t.name, "program": t.program, "instrument": t.instrument,
                "is_drum": t.is_drum, "role": t.role, "volume": t.volume, "pan": t.pan,
                "notes": [[n.pitch, n.start, n.duration, n.velocity]
                          + ([n.lyric] if n.lyric is not None else []) for n in t.notes],
            } for t in self.tracks],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Score:
        if data.get("schema") != SCHEMA:
            raise ScoreError(f"not a tunecraft score (schema {data.get('schema')!r}, "
                             f"expected {SCHEMA!r})")
        try:
            return cls(
                tracks=tuple(
                    Track(name=t["name"], program=t["program"], is_drum=t["is_drum"],
                          role=t["role"], volume=t["volume"], pan=t["pan"],
                          notes=tuple(Note(n[0], n[1], n[2], n[3],
                                           n[4] if len(n) > 4 else None) for n in t["notes"]))
                    for t in data["tracks"]),
                tempos=tuple(TempoChange(t["beat"], t["bpm"]) for t in data["tempos"]),
                time_signatures=tuple(TimeSignature(t["beat"], t["numerator"], t["denominator"])
                                      for t in data["time_signatures"]),
                key_signatures=tuple(KeySignature(k["beat"], k["tonic"], k["mode"])
                                     for k in data["key_signatures"]),
                sections=tuple(Section(s["name"], s["start"], s["length"])
                               for s in data["sections"]),
                chords=tuple(Chord(c["start"], c["duration"], c["root"], c["quality"], c["bass"])
                             for c in data["chords"]),
                title=data.get("title", ""),
                length=data.get("length_beats"),
            )
        except (KeyError, TypeError, IndexError) as exc:
            raise ScoreError(f"score data is incomplete or malformed ({exc!r})") from None
