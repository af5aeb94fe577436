"""Roman-numeral chord symbols, relative to a key, and their realisation as score chords.

The grammar (documented for data writers in ``FORMAT.md``)::

    numeral   := accidental* DEGREE suffix? ( "/" target | "/" bass )?
    accidental:= "b" | "#"                       (lowers / raises the scale degree a semitone)
    DEGREE    := I II III IV V VI VII            (upper case: major triad, lower case: minor)
    suffix    := "" | 7 | maj7 | 9 | maj9 | 6 | add9 | sus2 | sus4 | 7sus4 | 5
               | dim | ° | dim7 | °7 | m7b5 | ø | ø7 | aug | +
    target    := another numeral without "/": a secondary function, "V7/V" = the V7 of V
    bass      := 3 | 5 | 7                       (an inversion: "I/3" = C/E in C major)

The root of a plain degree comes from the key's own scale: the major scale in a major key, the
natural minor scale in a minor key (so in C minor ``III`` is Eb, ``VI`` Ab, ``VII`` Bb, and
``V`` is G major because the case gives the quality). An accidental alters that scale degree:
``bVII`` in C major is Bb, ``#iv`` is F#, ``bII`` is Db in either mode, ``#vii°`` in C minor is
the leading-tone chord B°. A secondary function is read in the major key of its target's root.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

from ..errors import ParameterError
from ..score.types import CHORD_QUALITIES, Chord, parse_pitch_class

__all__ = ["NumeralError", "parse_numeral", "realize", "realize_progression", "split_slot"]

MAJOR_SCALE = (0, 2, 4, 5, 7, 9, 11)
MINOR_SCALE = (0, 2, 3, 5, 7, 8, 10)
_DEGREES = {"i": 0, "ii": 1, "iii": 2, "iv": 3, "v": 4, "vi": 5, "vii": 6}

# suffix -> (quality for an upper-case degree, quality for a lower-case degree); None: invalid.
_SUFFIXES: dict[str, tuple[str | None, str | None]] = {
    "": ("", "m"),
    "7": ("7", "m7"),
    "maj7": ("maj7", "mmaj7"),
    "9": ("9", "m9"),
    "maj9": ("maj9", None),
    "6": ("6", "m6"),
    "add9": ("add9", "madd9"),
    "sus2": ("sus2", "sus2"),
    "sus4": ("sus4", "sus4"),
    "sus": ("sus4", "sus4"),
    "7sus4": ("7sus4", "7sus4"),
    "5": ("5", "5"),
    "dim": ("dim", "dim"),
    "°": ("dim", "dim"),
    "o": ("dim", "dim"),
    "dim7": ("dim7", "dim7"),
    "°7": ("dim7", "dim7"),
    "o7": ("dim7", "dim7"),
    "m7b5": ("m7b5", "m7b5"),
    "ø": ("m7b5", "m7b5"),
    "ø7": ("m7b5", "m7b5"),
    "aug": ("aug", None),
    "+": ("aug", None),
}
_INVERSIONS = {"3", "5", "7"}

_NUMERAL_RE = re.compile(r"([b#]*)(VII|VI|IV|V|III|II|I|vii|vi|iv|v|iii|ii|i)(.*)")


class NumeralError(ParameterError):
    """A Roman numeral that does not follow the grammar."""


def _mode_scale(mode: str) -> tuple[int, ...]:
    if mode == "major":
        return MAJOR_SCALE
    if mode == "minor":
        return MINOR_SCALE
    raise NumeralError(f"mode {mode!r} must be 'major' or 'minor'")


def _parse_part(text: str, mode: str) -> tuple[int, str]:
    """A numeral without '/': (root in semitones above the tonic, chord quality)."""
    m = _NUMERAL_RE.fullmatch(text)
    if not m:
        raise NumeralError(f"{text!r} is not a Roman numeral (try I, vi, V7, bVII, ii7, iiø)")
    accidentals, degree, suffix = m.groups()
    upper = degree.isupper()
    if suffix not in _SUFFIXES:
        known = ", ".join(s for s in _SUFFIXES if s)
        raise NumeralError(f"{text!r}: unknown chord suffix {suffix!r} (known: {known})")
    quality = _SUFFIXES[suffix][0 if upper else 1]
    if quality is None:
        raise NumeralError(f"{text!r}: {suffix!r} needs an upper-case (major) degree")
    if quality not in CHORD_QUALITIES:  # pragma: no cover - table and score agree
        raise NumeralError(f"{text!r}: quality {quality!r} is not a chord quality")
    index = _DEGREES[degree.lower()]
    root = _mode_scale(mode)[index] + accidentals.count("#") - accidentals.count("b")
    return root % 12, quality


def parse_numeral(numeral: str, mode: str = "major") -> tuple[int, str, int | None]:
    """Parse a numeral: (root semitones above the tonic, quality, bass semitones above tonic).

    ``bass`` is None unless the numeral names an inversion ("I/3").
    """
    return _parse_cached(numeral.strip(), mode)


@lru_cache(maxsize=8192)
def _parse_cached(text: str, mode: str) -> tuple[int, str, int | None]:
    if not text:
        raise NumeralError("an empty chord numeral")
    _mode_scale(mode)
    head, sep, tail = text.partition("/")
    if not sep:
        root, quality = _parse_part(head, mode)
        return root, quality, None
    if not tail:
        raise NumeralError(f"{text!r}: nothing after '/'")
    if tail in _INVERSIONS:
        root, quality = _parse_part(head, mode)
        intervals = Chord(0.0, 1.0, 0, quality).intervals
        wanted = {"3": (3, 4, 2, 5), "5": (7, 6, 8), "7": (10, 11, 9)}[tail]
        for iv in wanted:
            if iv in intervals:
                return root, quality, (root + iv) % 12
        raise NumeralError(f"{text!r}: a {quality or 'major'} chord has no {tail}th "
                           "to put in the bass")
    if "/" in tail:
        raise NumeralError(f"{text!r}: only one '/' is allowed")
    target_root, _ = _parse_part(tail, mode)
    root, quality = _parse_part(head, "major")
    return (target_root + root) % 12, quality, None


def _tonic_pc(key_tonic: int | str) -> int:
    if isinstance(key_tonic, str):
        return parse_pitch_class(key_tonic)
    if isinstance(key_tonic, bool) or not isinstance(key_tonic, int) or not 0 <= key_tonic <= 11:
        raise NumeralError(f"key tonic {key_tonic!r} must be a pitch class 0-11 or a note name")
    return key_tonic


def realize(numeral: str, key_tonic: int | str, mode: str = "major", *, start: float = 0.0,
            duration: float = 4.0) -> Chord:
    """A Roman numeral in a key as a :class:`~tunecraft.score.Chord`.

    >>> realize("V7", 0, "major").symbol
    'G7'
    >>> realize("bVII", "C").symbol
    'Bb'
    >>> realize("i", 9, "minor").symbol
    'Am'
    """
    tonic = _tonic_pc(key_tonic)
    root, quality, bass = parse_numeral(numeral, mode)
    return Chord(start, duration, (tonic + root) % 12, quality,
                 None if bass is None else (tonic + bass) % 12)


def split_slot(slot: str) -> tuple[str, ...]:
    """One harmonic slot of a progression: "ii7 V7" shares the slot between two chords."""
    parts = tuple(slot.split())
    if not parts:
        raise NumeralError("an empty chord slot in a progression")
    return parts


def realize_progression(numerals: Iterable[str], key_tonic: int | str, mode: str = "major",
                        start_beat: float = 0.0, beats_per_chord: float = 4.0, *,
                        merge_repeats: bool = False) -> tuple[Chord, ...]:
    """A progression of slots as consecutive chords from ``start_beat``.

    Each slot lasts ``beats_per_chord`` beats; a slot holding several numerals separated by
    spaces ("ii7 V7") divides its time equally between them. With ``merge_repeats`` a chord
    equal to the one before it lengthens that chord instead of starting a new one.
    """
    if not beats_per_chord > 0:
        raise NumeralError(f"beats_per_chord must be positive, not {beats_per_chord!r}")
    out: list[Chord] = []
    t = float(start_beat)
    for slot in numerals:
        parts = split_slot(slot)
        share = beats_per_chord / len(parts)
        for part in parts:
            chord = realize(part, key_tonic, mode, start=t, duration=share)
            prev = out[-1] if out else None
            if (merge_repeats and prev is not None and (prev.root, prev.quality, prev.bass)
                    == (chord.root, chord.quality, chord.bass)):
                out[-1] = Chord(prev.start, prev.duration + share, prev.root, prev.quality,
                                prev.bass)
            else:
                out.append(chord)
            t += share
    return tuple(out)

