"""MusicXML: Score <-> music21 <-> ``.musicxml`` / ``.xml`` / ``.mxl`` files.

Writing builds the measures, voices and ties itself (rather than asking music21's
``makeNotation`` to guess them from a flat stream), so that:

* every track becomes one part, named after the track, with its General MIDI instrument;
  drum tracks become a percussion part (unpitched notes, one staff position and notehead per
  drum, MIDI channel 10), which reads back as the same MIDI keys;
* notes of one track that start and end together form a chord; notes that overlap with
  different lengths go to separate voices, so every duration is kept;
* notes crossing bar lines are split and tied; tempo changes become metronome marks, section
  names rehearsal marks, lyrics note lyrics; meter and key changes appear where they happen.

**Notation is quantised, the score is not.** Each track is written on one grid: sixteenths,
or eighth-note triplets where its notes clearly sit on triplets (:func:`notation_grid`).
Humanised timing (a few 1/960-beat ticks off the beat) is written on the beat, and every
duration is cut into values a musician reads (whole to sixteenth with at most one dot, simple
triplets; :func:`notatable_pieces`). Clefs follow the instrument (bass for basses and cellos,
alto for the viola, an octave treble for guitars), pianos, organs and the harp get a grand
staff, drums a percussion staff in drum notation (:data:`DRUM_NOTATION`), chords become chord
symbols, tempo marks are whole numbers (the exact tempo stays in ``<sound tempo>``) and a
tempo ramp is one "accel."/"rit." and the tempo reached; transposing instruments are written
at written pitch (a B flat clarinet a tone up, in its own key). MIDI export is unaffected and
exact.

music21 is imported inside the functions, so importing this module is cheap.
"""

from __future__ import annotations

import bisect
import contextlib
import logging
import math
import os
import re
import threading
import zipfile
from collections.abc import Iterator, Sequence
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import InputFileError, OutputFileError, ScoreError
from ..gm import program_name
from ..score.types import (
    TICKS_PER_BEAT,
    KeySignature,
    Note,
    Score,
    Section,
    TempoChange,
    TimeSignature,
    Track,
)
from .files import atomic_output, check_input, check_music_size, check_output

if TYPE_CHECKING:  # pragma: no cover
    import music21

log = logging.getLogger(__name__)

MUSICXML_READ_EXTS: tuple[str, ...] = (".musicxml", ".xml", ".mxl")
MUSICXML_WRITE_EXTS: tuple[str, ...] = (".musicxml", ".xml", ".mxl")

_DRUM_CHANNEL = 9  # 0-based MIDI channel 10
_MUSIC21_DEFAULT_TITLES = frozenset({"Music21 Fragment", "Music21"})
_export_lock = threading.Lock()  # music21's title/author defaults are module globals


# ----------------------------------------------------------------------------------------------
# Writing


def _frac(beats: float) -> Fraction:
    """A time in beats as an exact fraction on the score grid."""
    return Fraction(round(beats * TICKS_PER_BEAT), TICKS_PER_BEAT)


def _ql(x: Fraction) -> float | Fraction:
    """music21's preferred representation of a quarter length (float when exact)."""
    return float(x) if (x.denominator & (x.denominator - 1)) == 0 else x


class _Event:
    """A chord or single note of one voice, in quantised beats."""

    __slots__ = ("end", "lyric", "pitches", "start", "velocity")

    def __init__(self, start: Fraction, end: Fraction, pitches: list[int], lyric: str | None,
                 velocity: int) -> None:
        self.start, self.end, self.pitches = start, end, pitches
        self.lyric, self.velocity = lyric, velocity


# -- how each track is notated ------------------------------------------------------------------

#: General MIDI drum keys on a five-line percussion staff: (display step, octave, notehead).
#: The usual positions (kick F4, snare C5, hi-hat G5 x, ride F5 x, crash A5 x, toms from E5
#: down to D4); each key has its own spot and head, so the score reads back note for note.
DRUM_NOTATION: dict[int, tuple[str, int, str]] = {
    35: ("E", 4, "normal"), 36: ("F", 4, "normal"), 37: ("C", 5, "x"),
    38: ("C", 5, "normal"), 39: ("B", 4, "slash"), 40: ("C", 5, "diamond"),
    41: ("D", 4, "normal"), 42: ("G", 5, "x"), 43: ("G", 4, "normal"), 44: ("D", 4, "x"),
    45: ("A", 4, "normal"), 46: ("G", 5, "circle-x"), 47: ("B", 4, "normal"),
    48: ("D", 5, "normal"), 49: ("A", 5, "x"), 50: ("E", 5, "normal"), 51: ("F", 5, "x"),
    52: ("C", 6, "x"), 53: ("F", 5, "diamond"), 54: ("B", 4, "x"), 55: ("A", 5, "circle-x"),
    56: ("E", 5, "triangle"), 57: ("B", 5, "x"), 59: ("E", 5, "x"),
}
_DRUM_KEY = {v: k for k, v in DRUM_NOTATION.items()}
# Keys without a usual spot (Latin percussion, effects) sit on and around the staff, G3 to F5,
# each position with its own notehead, none of them used above: a key per (spot, head).
_OTHER_SPOTS = tuple((step, octave) for octave in (3, 4, 5) for step in "CDEFGAB")[4:18]
_OTHER_HEADS = ("square", "inverted triangle", "cross", "circle dot", "slashed",
                "back slashed", "left triangle", "rectangle", "arrow up", "arrow down")


def drum_display(key: int) -> tuple[str, int, str]:
    """Where a General MIDI drum key sits on the percussion staff, and its notehead."""
    if key in DRUM_NOTATION:
        return DRUM_NOTATION[key]
    step, octave = _OTHER_SPOTS[key % len(_OTHER_SPOTS)]
    return step, octave, _OTHER_HEADS[key // len(_OTHER_SPOTS)]


def drum_key(step: str, octave: int, head: str) -> int | None:
    """The drum key of a display position and notehead written by :func:`drum_display`."""
    key = _DRUM_KEY.get((step, octave, head))
    if key is not None:
        return key
    if head in _OTHER_HEADS and (step, octave) in _OTHER_SPOTS:
        k = _OTHER_HEADS.index(head) * len(_OTHER_SPOTS) + _OTHER_SPOTS.index((step, octave))
        return k if 0 <= k <= 127 and k not in DRUM_NOTATION else None
    return None


#: Instruments written on a grand staff (two staves, a brace): pianos, organs, harp.
GRAND_STAFF_PROGRAMS = frozenset({*range(0, 8), *range(16, 22), 23, 46})
#: Instruments read in bass clef (basses, cello, bassoon, low brass, timpani).
BASS_CLEF_PROGRAMS = frozenset({*range(32, 40), 42, 43, 47, 57, 58, 70, 87})
#: Guitars read an octave above sounding pitch (treble clef with an 8 below).
OCTAVE_TREBLE_PROGRAMS = frozenset({*range(24, 32), 105})
ALTO_CLEF_PROGRAMS = frozenset({41})  # viola
_SPLIT = 60  # a grand staff's hands divide at middle C


def clef_for(track: Track) -> str:
    """The clef an instrument reads: 'percussion', 'bass', 'alto', 'treble8vb' or 'treble'."""
    if track.is_drum:
        return "percussion"
    if track.program in BASS_CLEF_PROGRAMS:
        return "bass"
    if track.program in ALTO_CLEF_PROGRAMS:
        return "alto"
    if track.program in OCTAVE_TREBLE_PROGRAMS:
        return "treble8vb"
    if track.program in GRAND_STAFF_PROGRAMS:
        return "treble"
    # Voices and synths follow their register.
    if track.notes and sum(n.pitch for n in track.notes) / len(track.notes) < 52:
        return "bass"
    return "treble"


def _m21_clef(name: str) -> Any:
    from music21 import clef

    return {"percussion": clef.PercussionClef, "bass": clef.BassClef, "alto": clef.AltoClef,
            "treble8vb": clef.Treble8vbClef}.get(name, clef.TrebleClef)()


def swung(track: Track) -> bool:
    """Whether a track plays swung eighths (off-beats late, near 2/3 of the beat) rather than
    straight ones or real triplets. Swing is written as straight eighths under a "Swing" mark,
    the way jazz and blues charts are written."""
    fracs = [n.start % 1 for n in track.notes]
    late = sum(0.56 <= f <= 0.76 for f in fracs)
    straight = sum(0.44 <= f < 0.56 for f in fracs)
    thirds = sum(0.28 <= f <= 0.4 for f in fracs)
    return late >= 4 and late > 2 * straight and thirds * 4 < late


def _unswing(t: Fraction) -> Fraction:
    """A swung off-beat back on the eighth it stands for."""
    whole = Fraction(math.floor(t))
    return whole + Fraction(1, 2) if Fraction(56, 100) <= t - whole <= Fraction(76, 100) else t


def notation_grid(track: Track) -> int:
    """One grid per track: sixteenths (4 a beat), or eighth-note triplets (3) where the notes
    clearly sit on triplets (a shuffle, 12/8 written in 4/4). Humanised timing snaps to it, so
    a hi-hat a few ticks late is written on the beat, never as a sixteenth-note triplet."""
    if not track.notes or swung(track):
        return 4
    err = {d: 0.0 for d in (4, 3)}
    for n in track.notes:
        for t in (n.start, n.end):
            for d in err:
                err[d] += abs(t * d - round(t * d)) / d
    return 3 if err[3] < 0.5 * err[4] else 4


# Note values a musician reads (quarter lengths): whole to sixteenth, single dots only; and
# the eighth- and quarter-note triplets of a triplet grid.
_PLAIN = tuple(Fraction(x) for x in ("4", "3", "2", "3/2", "1", "3/4", "1/2", "1/4"))
_TRIPLET = (Fraction(2, 3), Fraction(1, 3))


def _base(value: Fraction) -> Fraction:
    """The value without its dot: where a note of this value may start."""
    b = Fraction(1, 4)
    while b * 2 <= value:
        b *= 2
    return b


def notatable_pieces(start: Fraction, end: Fraction, *, compound: bool = False
                     ) -> list[tuple[Fraction, Fraction]]:
    """Split [start, end) (beats from the bar line) into readable values, tied in order.

    Each piece is a plain or single-dotted value that starts where such a value can (a half
    note on a half-note line, a dotted quarter on a beat, and in compound meters on the
    dotted-quarter beats), or an eighth/quarter triplet inside one beat. Nothing longer than
    one dot, no tuplet inside a tuplet.
    """
    out: list[tuple[Fraction, Fraction]] = []
    a = start
    while a < end:
        pick = None
        for v in _PLAIN:
            if a + v > end:
                continue
            base = _base(v)
            if compound and v in (Fraction(3), Fraction(3, 2)):
                ok = a % Fraction(3, 2) == 0  # the dotted-quarter beats of 6/8, 9/8, 12/8
            elif v != base:  # dotted: on the next level's line, or as the segment's last piece
                ok = a % (2 * base) == 0 or (a % base == 0 and a + v == end)
            else:
                ok = a % base == 0
            if ok:
                pick = v
                break
        if pick is None:
            beat_end = Fraction(math.floor(a) + 1)
            for v in _TRIPLET:
                if a + v <= min(end, beat_end) and (a * 3).denominator == 1:
                    pick = v
                    break
        if pick is None:  # off every grid (a foreign grid): the smallest step that fits
            pick = min(end - a, Fraction(1, 12)) if (a * 3).denominator == 1 else \
                min(end - a, Fraction(1, 4) - a % Fraction(1, 4))
        out.append((a, a + pick))
        a += pick
    return out


def tempo_ramps(tempos: Sequence[TempoChange]) -> list[tuple[int, int]]:
    """Runs of three or more changes at most two beats apart, all rising or all falling (a
    story's ramp): (first index, last index) of each. They are notated as one "accel." or
    "rit." and the tempo reached, not as a metronome mark per beat."""
    runs: list[tuple[int, int]] = []
    i = 1
    while i < len(tempos) - 1:
        j = i
        direction = 0
        while j + 1 < len(tempos) and tempos[j + 1].beat - tempos[j].beat <= 2.0 + 1e-9:
            step = tempos[j + 1].bpm - tempos[j].bpm
            d = (step > 0) - (step < 0)
            if d == 0 or (direction and d != direction):
                break
            direction = d
            j += 1
        if j - i + 1 >= 3:
            runs.append((i, j))
            i = j + 1
        else:
            i += 1
    return runs


def _grid_time(t: float, grid: int, swing: bool) -> Fraction:
    x = _frac(t)
    return Fraction(round((_unswing(x) if swing else x) * grid), grid)


def _track_voices(notes: Sequence[Note], grid: int, swing: bool = False) -> list[list[_Event]]:
    """Quantise notes to the track's grid (swung off-beats first moved back to the eighth),
    group equal spans into chords, split overlaps into voices."""
    step = Fraction(1, grid)
    groups: dict[tuple[Fraction, Fraction], list[Note]] = {}
    for n in notes:
        start = _grid_time(n.start, grid, swing)
        end = _grid_time(n.end, grid, swing)
        if end <= start:
            end = start + step
        groups.setdefault((start, end), []).append(n)
    events: list[_Event] = []
    for (start, end), group in groups.items():
        pitches = sorted({n.pitch for n in group})
        lyric = next((n.lyric for n in sorted(group, key=lambda n: n.pitch) if n.lyric), None)
        events.append(_Event(start, end, pitches, lyric, max(n.velocity for n in group)))
    # Interval partitioning: first fit over events sorted by start is optimal.
    events.sort(key=lambda e: (e.start, -(e.end - e.start), e.pitches[0]))
    voices: list[list[_Event]] = []
    for ev in events:
        for v in voices:
            if v[-1].end <= ev.start:
                v.append(ev)
                break
        else:
            voices.append([ev])
    return voices


def _drum_voices(notes: Sequence[Note], grid: int, swing: bool = False) -> list[list[_Event]]:
    """Drums as a drummer reads them: hands (cymbals, snare, toms) in one voice, feet (kick,
    pedal hi-hat) in another; each hit lasts until the voice's next hit, at most a beat."""
    feet = {35, 36, 44}
    out = []
    for part in ([n for n in notes if n.pitch not in feet], [n for n in notes if n.pitch in feet]):
        if not part:
            continue
        starts = sorted({_grid_time(n.start, grid, swing) for n in part})
        nxt = dict(zip(starts, [*starts[1:], None], strict=True))
        step = Fraction(1, grid)
        events: dict[Fraction, _Event] = {}
        for n in part:
            s = _grid_time(n.start, grid, swing)
            following = nxt[s]
            e = min(s + 1, following if following is not None else s + 1)
            e = max(e, s + step)
            ev = events.get(s)
            if ev is None:
                events[s] = _Event(s, e, [n.pitch], None, n.velocity)
            elif n.pitch not in ev.pitches:
                ev.pitches.append(n.pitch)
                ev.velocity = max(ev.velocity, n.velocity)
        out.append([events[s] for s in starts])
    return out


def _m21_key(k: KeySignature) -> music21.key.Key:
    from music21 import key

    return key.Key(k.tonic_name.replace("b", "-") if len(k.tonic_name) > 1 else k.tonic_name,
                   k.mode)


def _instrument(track: Track) -> music21.instrument.Instrument:
    from music21 import instrument

    if track.is_drum:
        inst: Any = instrument.UnpitchedPercussion()
        inst.midiChannel = _DRUM_CHANNEL
        inst.midiProgram = track.program  # the kit, so that <midi-instrument> is written
        inst.instrumentName = "Drum Kit"
    else:
        try:
            inst = instrument.instrumentFromMidiProgram(track.program)
        except Exception:  # music21 has no class for some programs
            inst = instrument.Instrument()
        inst.midiProgram = track.program
        inst.instrumentName = program_name(track.program)
        # A transposing instrument (clarinet and trumpet in B flat, alto sax in E flat, horn
        # in F, double bass an octave down) keeps music21's transposition: its part is
        # written at written pitch, with a <transpose> element, and reads back sounding.
    inst.partName = track.name
    return inst


_M21_KINDS = (("mmaj7", "mM7"), ("maj9", "M9"))  # qualities music21 spells its own way


def _chord_figure(symbol: str) -> str:
    """A chord symbol as music21 spells it: flats as '-' on the root and the bass, and the
    qualities it names otherwise (Ebmaj9 -> E-M9, Cmmaj7 -> CmM7)."""
    def note_name(text: str) -> str:
        return text[0] + "-" + text[2:] if len(text) > 1 and text[1] == "b" else text

    head, _, bass = symbol.partition("/")
    for ours, theirs in _M21_KINDS:
        if head.endswith(ours):
            head = head[: -len(ours)] + theirs
            break
    return note_name(head) + ("/" + note_name(bass) if bass else "")


def _staves(track: Track) -> list[tuple[tuple[Note, ...], str]]:
    """The staves of a track: (notes, clef). Pianos, organs and the harp get a grand staff,
    split at middle C."""
    if not track.is_drum and track.program in GRAND_STAFF_PROGRAMS and track.notes:
        return [(tuple(n for n in track.notes if n.pitch >= _SPLIT), "treble"),
                (tuple(n for n in track.notes if n.pitch < _SPLIT), "bass")]
    return [(track.notes, clef_for(track))]


def score_to_music21(score: Score) -> music21.stream.Score:
    """Convert a Score to a music21 Score with measures, voices, ties and notation made.

    One part per track, named after the track, with the track's General MIDI instrument and
    clef; pianos, organs and the harp on a grand staff; drums on a percussion staff in drum
    notation. The first part carries the tempo marks (whole numbers; a ramp is one "accel." or
    "rit." and the tempo reached) and rehearsal marks (section names); the first pitched part
    the chord symbols; every part the meter and key changes. Note times are written on one
    grid per track (see :func:`notation_grid`); the Score itself is not changed.
    """
    from music21 import expressions, harmony, layout, metadata, stream, tempo

    staves_by_track = [_staves(t) for t in score.tracks]
    grids = [notation_grid(t) for t in score.tracks]
    swings = [swung(t) for t in score.tracks]
    voices_by_staff = [[(_drum_voices(notes, g, sw) if t.is_drum else
                         _track_voices(notes, g, sw)) for notes, _ in staves]
                       for t, staves, g, sw in zip(score.tracks, staves_by_track, grids, swings,
                                                   strict=True)]
    content_end = max((e.end for staves in voices_by_staff for vs in staves for v in vs
                       for e in v), default=Fraction(0))
    end = max(_frac(score.length or 0.0), content_end)
    end = _frac(score.next_bar_line(float(end)))
    if end <= 0:
        end = _frac(score.time_signatures[0].bar_beats)
    bar_starts = [_frac(b) for b in score.bar_lines(until=float(end))]
    bar_ends = [*bar_starts[1:], end]
    n_bars = len(bar_starts)

    meter_at_bar: dict[int, TimeSignature] = {}
    for ts in score.time_signatures:
        i = bisect.bisect_left(bar_starts, _frac(ts.beat))
        if i < n_bars:
            meter_at_bar[i] = ts

    def bar_of(beat: Fraction) -> int:
        return max(bisect.bisect_right(bar_starts, beat) - 1, 0)

    # Score-wide marks by bar (changes at or after the end have nothing to mark).
    keys = [(bar_of(_frac(k.beat)), k) for k in score.key_signatures if _frac(k.beat) < end]
    sections = [(bar_of(_frac(s.start)), s) for s in score.sections if _frac(s.start) < end]
    tempo_marks: list[tuple[Fraction, Any]] = []
    if sum(swings) * 2 >= max(1, sum(1 for t in score.tracks if t.notes)):
        tempo_marks.append((Fraction(0), expressions.TextExpression("Swing")))
    ramps = tempo_ramps(score.tempos)
    inside = {k for i, j in ramps for k in range(i, j)}
    starts_ramp = {i: j for i, j in ramps}
    for k, t in enumerate(score.tempos):
        at = _frac(t.beat)
        if at >= end:
            continue
        if k in starts_ramp:
            target = score.tempos[starts_ramp[k]].bpm
            word = "accel." if target > score.tempos[k - 1].bpm else "rit."
            tempo_marks.append((at, expressions.TextExpression(word)))
        exact = round(t.bpm, 3)
        if k not in inside:  # a ramp's steps are heard, not shown
            tempo_marks.append((at, tempo.MetronomeMark(number=round(t.bpm), referent=1.0)))
        if k in inside or exact != round(t.bpm):  # the exact tempo, for playback and reading
            mm = tempo.MetronomeMark(number=None, referent=1.0)
            mm.numberImplicit = True
            mm.numberSounding = exact
            tempo_marks.append((at, mm))
    chord_marks: list[tuple[Fraction, Any]] = []
    for c in score.chords:
        if _frac(c.start) >= end:
            continue
        try:
            cs = harmony.ChordSymbol(_chord_figure(c.spelled(score.key_at(c.start))))
        except Exception:  # a symbol music21 cannot spell: the MIDI still has it
            log.debug("no chord symbol for %s", c)
            continue
        cs.writeAsChord = False
        chord_marks.append((Fraction(round(_frac(c.start) * 4), 4), cs))
    key_cuts: dict[int, list[Fraction]] = {}
    for b, k in keys:
        if _frac(k.beat) > bar_starts[b]:
            key_cuts.setdefault(b, []).append(_frac(k.beat))
    chord_track = next((i for i, t in enumerate(score.tracks) if not t.is_drum), None)

    m21 = stream.Score()
    m21.metadata = metadata.Metadata()
    m21.metadata.title = score.title or ""

    for ti, track in enumerate(score.tracks):
        staves = staves_by_track[ti]
        grand = len(staves) > 1
        staff_parts = []
        for si, (_, clef_name) in enumerate(staves):
            voices = voices_by_staff[ti][si]
            pid = f"P{ti + 1}" + (f"-Staff{si + 1}" if grand else "")
            part: Any = stream.PartStaff(id=pid) if grand else stream.Part(id=pid)
            part.partName = track.name
            if si == 0:
                inst = _instrument(track)
                inst.partId = f"P{ti + 1}"
                part.insert(0, inst)
            marks_here: list[tuple[Fraction, Any]] = []
            if si == 0 and ti == 0:
                marks_here += tempo_marks
                marks_here += [(_frac(sec.start), expressions.RehearsalMark(sec.name))
                               for _, sec in sections]
            if si == 0 and ti == chord_track:
                marks_here += chord_marks
            _fill_part(part, voices, track, clef_name, bar_starts, bar_ends, meter_at_bar,
                       keys, key_cuts, marks_here)
            if not track.is_drum and part.getInstrument().transposition is not None:
                part.atSoundingPitch = True  # built at sounding pitch: now as the player reads
                part.toWrittenPitch(inPlace=True)
            _make_notation(part)
            staff_parts.append(part)
        for part in staff_parts:
            m21.insert(0, part)
        if grand:
            group = layout.StaffGroup(staff_parts, name=track.name, symbol="brace",
                                      barTogether=True)
            m21.insert(0, group)
    return m21


def _fill_part(part: Any, voices: list[list[_Event]], track: Track, clef_name: str,
               bar_starts: list[Fraction], bar_ends: list[Fraction],
               meter_at_bar: dict[int, TimeSignature], keys: list[tuple[int, KeySignature]],
               key_cuts: dict[int, list[Fraction]], marks: list[tuple[Fraction, Any]]) -> None:
    """Write one staff's measures: its voices cut at bar lines, rests, clef, meters, keys and
    the marks given (tempo, rehearsal, chord symbols)."""
    from music21 import meter, stream

    n_bars = len(bar_starts)

    def bar_of(beat: Fraction) -> int:
        return max(bisect.bisect_right(bar_starts, beat) - 1, 0)

    # Cut every voice's events at bar lines: segments[bar][voice] = [(start, end, event)].
    # Key changes inside a bar cut notes too: MusicXML puts a key between notes only.
    segments: list[dict[int, list[tuple[Fraction, Fraction, _Event]]]] = [
        {} for _ in range(n_bars)]
    for vi, events in enumerate(voices):
        for ev in events:
            b = bar_of(ev.start)
            while b < n_bars and bar_starts[b] < ev.end:
                s, e = max(ev.start, bar_starts[b]), min(ev.end, bar_ends[b])
                for cut in key_cuts.get(b, ()):
                    if s < cut < e:
                        segments[b].setdefault(vi, []).append((s, cut, ev))
                        s = cut
                if e > s:
                    segments[b].setdefault(vi, []).append((s, e, ev))
                b += 1
    marks_by_bar: dict[int, list[tuple[Fraction, Any]]] = {}
    for at, obj in marks:
        marks_by_bar.setdefault(bar_of(at), []).append((at, obj))

    flats = False
    key_iter = iter(keys)
    next_key = next(key_iter, None)
    ts = next(iter(meter_at_bar.values()))
    for b in range(n_bars):
        m0, m1 = bar_starts[b], bar_ends[b]
        m = stream.Measure(number=b + 1)
        if b == 0:
            m.insert(0, _m21_clef(clef_name))
        if b in meter_at_bar:
            ts = meter_at_bar[b]
            m.insert(0, meter.TimeSignature(f"{ts.numerator}/{ts.denominator}"))
        compound = ts.denominator == 8 and ts.numerator % 3 == 0 and ts.numerator > 3
        here: list[tuple[Fraction, Any]] = []
        while next_key is not None and next_key[0] == b:
            k = next_key[1]
            mk = _m21_key(k)
            flats = mk.sharps < 0
            if not track.is_drum:
                here.append((_frac(k.beat) - m0, mk))
            next_key = next(key_iter, None)
        here += [(at - m0, obj) for at, obj in marks_by_bar.get(b, ())]
        present = sorted(segments[b])
        spell_flats = flats and not track.is_drum
        cuts = key_cuts.get(b, ())
        if len(present) <= 1:
            _fill(m, segments[b][present[0]] if present else [], m0, m1, False, spell_flats,
                  cuts, track.is_drum, compound)
            first_voice = m
        else:
            for k_, vi in enumerate(present):
                v = stream.Voice(id=str(vi + 1))  # the same number in every bar
                _fill(v, segments[b][vi], m0, m1, k_ > 0, spell_flats, cuts, track.is_drum,
                      compound)
                m.insert(0, v)
            first_voice = m.voices[0]
        # Marks inside a bar go into its first voice: MusicXML writers and readers place
        # measure-level marks badly in bars with several voices.
        for off, obj in here:
            (m if off == 0 else first_voice).insert(_ql(off), obj)
        part.coreAppend(m)
    part.coreElementsChanged()


def _make_element(s: Fraction, e: Fraction, ev: _Event, flats_: bool, drum: bool,
                  tie_type: str | None, lyric: bool) -> Any:
    """The note, chord or drum hit for [s, e) of ``ev``."""
    from music21 import chord, note, percussion, tie

    if drum:
        hits = []
        for key_ in sorted(ev.pitches):
            step, octave, head = drum_display(key_)
            u = note.Unpitched(displayName=f"{step}{octave}")
            u.notehead = head
            hits.append(u)
        el: Any = hits[0] if len(hits) == 1 else percussion.PercussionChord(hits)
        if len(hits) > 1:
            el.stemDirection = "up"
    elif len(ev.pitches) == 1:
        el = note.Note(_pitch_name(ev.pitches[0], flats_))
    else:
        el = chord.Chord([_pitch_name(p, flats_) for p in ev.pitches])
    el.duration.quarterLength = _ql(e - s)
    el.volume.velocity = ev.velocity
    if tie_type is not None:
        el.tie = tie.Tie(tie_type)
    if lyric and ev.lyric:
        el.lyric = ev.lyric
    return el


def _fill(container: Any, segs: list[tuple[Fraction, Fraction, _Event]], m0: Fraction,
          m1: Fraction, hide_rests: bool, flats_: bool, cuts: Sequence[Fraction],
          drum: bool = False, compound: bool = False) -> None:
    """Fill a bar [m0, m1) of one voice with its notes and rests in readable values (cut at
    ``cuts``): every piece a plain or dotted value or a simple triplet, tied in order."""
    from music21 import note

    def rest(a: Fraction, stop: Fraction) -> None:
        for point in [*(c for c in cuts if a < c < stop), stop]:
            for x, y in notatable_pieces(a - m0, point - m0, compound=compound):
                r = note.Rest(quarterLength=_ql(y - x))
                r.style.hideObjectOnPrint = hide_rests
                container.coreInsert(_ql(x), r)
            a = point

    cursor = m0
    for s, e, ev in segs:
        if s > cursor:
            rest(cursor, s)
        pieces = notatable_pieces(s - m0, e - m0, compound=compound)
        for i, (x, y) in enumerate(pieces):
            before = ev.start < s or i > 0
            after = ev.end > e or i < len(pieces) - 1
            tie_type = ("continue" if before and after else "stop" if before else
                        "start" if after else None)
            if drum:
                tie_type = None  # a drum hit is struck once: its rest of value is silence
                if i > 0 or ev.start < s:
                    r = note.Rest(quarterLength=_ql(y - x))
                    container.coreInsert(_ql(x), r)
                    continue
            container.coreInsert(_ql(x), _make_element(m0 + x, m0 + y, ev, flats_, drum,
                                                       tie_type, ev.start == s and i == 0))
        cursor = e
    if cursor < m1:
        rest(cursor, m1)
    container.coreElementsChanged()


def _pitch_name(midi: int, flats: bool) -> str:
    from ..score.types import PITCH_NAMES_FLAT, PITCH_NAMES_SHARP

    names = PITCH_NAMES_FLAT if flats else PITCH_NAMES_SHARP
    return f"{names[midi % 12].replace('b', '-') if flats else names[midi % 12]}{midi // 12 - 1}"


def _make_notation(part: music21.stream.Part) -> None:
    """Spell accidentals, beams and tuplet brackets (durations are already readable)."""
    from music21 import stream
    from music21.stream import makeNotation

    part.makeAccidentals(inPlace=True)
    with contextlib.suppress(Exception):  # beams are cosmetic; never fail an export on them
        part.makeBeams(inPlace=True)
    for m in part.getElementsByClass(stream.Measure):
        for container in [m, *m.voices]:
            makeNotation.makeTupletBrackets(container, inPlace=True)


@contextlib.contextmanager
def _quiet_music21() -> Iterator[None]:
    """Keep music21's own warnings ("we are out of midi channels! help!", printed to stderr)
    off the user's terminal: they go to the debug log instead."""
    import io
    import sys

    caught = io.StringIO()
    saved = sys.stderr
    sys.stderr = caught
    try:
        yield
    finally:
        sys.stderr = saved
        text = caught.getvalue().strip()
        if text:
            log.debug("music21 said: %s", " | ".join(text.splitlines()))


@contextlib.contextmanager
def _no_music21_defaults() -> Iterator[None]:
    """Stop music21 writing "Music21 Fragment" / composer "Music21" into untitled scores."""
    from music21 import defaults

    with _export_lock:
        saved = defaults.title, defaults.author
        defaults.title, defaults.author = "", ""
        try:
            yield
        finally:
            defaults.title, defaults.author = saved


def music21_to_musicxml_bytes(m21: music21.stream.Score) -> bytes:
    """MusicXML text (UTF-8 bytes) of a music21 score made by :func:`score_to_music21`."""
    from music21.musicxml import m21ToXml

    exporter = m21ToXml.GeneralObjectExporter(m21)
    exporter.makeNotation = False
    with _no_music21_defaults(), _quiet_music21():
        data = exporter.parse()
    # Same score, same bytes: drop the export date music21 stamps into <encoding>, and number
    # the random instrument ids it makes (uuid4 hex) in order of appearance.
    data = re.sub(rb"\s*<encoding-date>[^<]*</encoding-date>", b"", data, count=1)
    ids: dict[bytes, bytes] = {}

    def stable(m: re.Match[bytes]) -> bytes:
        return ids.setdefault(m.group(0), b"I%d" % (len(ids) + 1))

    return re.sub(rb"\bI[0-9a-f]{32}\b", stable, data)


# The score being notated ahead: (score, connection to the process making its bytes, process).
_ahead: dict[int, tuple[Score, Any, Any]] = {}
_AHEAD_WAIT = 120.0  # seconds to wait for it before notating here
_ahead_lock = threading.Lock()


def musicxml_bytes(score: Score) -> bytes:
    """The MusicXML of ``score`` (UTF-8 bytes): from the process :func:`notate_ahead` started
    for this very score if there is one (made here if that process failed or is stuck), else
    made now."""
    with _ahead_lock:
        held = _ahead.pop(id(score), None)
    if held is not None and held[0] is score:
        _, conn, proc = held
        ok, data = False, f"no answer in {_AHEAD_WAIT:g} s"
        try:
            if conn.poll(_AHEAD_WAIT):
                ok, data = conn.recv()
        except (EOFError, OSError):
            data = "the notation process ended without an answer"
        finally:
            conn.close()
            if proc.is_alive():
                proc.kill()
            proc.join()
        if ok:
            return data
        log.debug("notating ahead failed (%s); notating here", data)
    return music21_to_musicxml_bytes(score_to_music21(score))


def notate_ahead(score: Score) -> bool:
    """Start making the MusicXML of ``score`` in a forked process, for a later
    :func:`write_musicxml` of the same score to pick up; returns whether it started.

    Notation is pure Python (music21, about a second for a 30-second band piece, half of it the
    import) and so is much of rendering: threads would share one interpreter lock, a process
    runs on the second core. ``tunecraft generate`` calls this once the music is composed and
    renders meanwhile. Where processes cannot be forked (Windows) nothing starts and the
    MusicXML is made when it is written."""
    import multiprocessing

    if "fork" not in multiprocessing.get_all_start_methods():
        return False
    ctx = multiprocessing.get_context("fork")
    receiver, sender = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_notate_into, args=(score, sender), daemon=True,
                       name="tunecraft-notation")
    try:
        proc.start()
    except OSError as exc:
        log.debug("could not fork the notation (%s)", exc)
        receiver.close()
        sender.close()
        return False
    sender.close()  # the child holds its end; EOF here if it dies
    with _ahead_lock:
        for _, old_conn, old_proc in _ahead.values():  # one score ahead at a time
            old_conn.close()
            old_proc.kill()
            old_proc.join(5)
        _ahead.clear()
        _ahead[id(score)] = (score, receiver, proc)
    return True


def _notate_into(score: Score, conn: Any) -> None:
    """In the forked process: the score's MusicXML bytes, or why not, down the pipe. It ends
    at a SIGTERM (the parent's handler, which cleans up files, is not for it), and leaves
    Ctrl-C to the parent, which ends it."""
    import signal

    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        answer = (True, music21_to_musicxml_bytes(score_to_music21(score)))
    except Exception as exc:  # the parent notates itself instead
        answer = (False, f"{type(exc).__name__}: {exc}")
    try:
        conn.send(answer)
    finally:
        conn.close()


_MXL_CONTAINER = """<?xml version="1.0" encoding="UTF-8"?>
<container>
  <rootfiles>
    <rootfile full-path="{name}" media-type="application/vnd.recordare.musicxml+xml"/>
  </rootfiles>
</container>
"""


def write_musicxml(score: Score, path: str | os.PathLike[str]) -> Path:
    """Write ``score`` as MusicXML to ``path`` and return the path.

    ``.musicxml`` and ``.xml`` are plain MusicXML; ``.mxl`` is compressed MusicXML. The file
    appears atomically (never half-written). Note times are quantised for notation
    (``grid_divisors``, see the module docstring); the MIDI of the same score stays exact.
    """
    p = check_output(path, kinds=MUSICXML_WRITE_EXTS)
    if not score.tracks:
        raise OutputFileError(p, "the score has no tracks, so there is nothing to notate")
    try:
        data = musicxml_bytes(score)
    except ScoreError:
        raise
    except Exception as exc:  # music21 raises many kinds; name the file and the problem
        raise OutputFileError(p, f"could not make MusicXML from this score "
                                 f"({type(exc).__name__}: {exc})".replace("\n", " ")) from None
    with atomic_output(p) as tmp:
        try:
            if p.suffix.lower() == ".mxl":
                inner = f"{p.stem or 'score'}.musicxml"
                with zipfile.ZipFile(tmp, "w") as zf:
                    zf.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.recordare.musicxml")
                    zf.writestr("META-INF/container.xml", _MXL_CONTAINER.format(name=inner),
                                compress_type=zipfile.ZIP_DEFLATED)
                    zf.writestr(inner, data, compress_type=zipfile.ZIP_DEFLATED)
            else:
                tmp.write_bytes(data)
        except OSError as exc:
            raise OutputFileError(p, f"could not be written ({exc.strerror or exc})") from None
    log.info("wrote %s (%d tracks)", p, len(score.tracks))
    return p


# ----------------------------------------------------------------------------------------------
# Reading


def _meter_for_length(ql: Fraction) -> tuple[int, int] | None:
    """A meter whose bar lasts ``ql`` quarter notes (2 -> 2/4, 1.5 -> 3/8), if any."""
    for den in (4, 8, 16, 32, 64):
        num = ql * den / 4
        if num.denominator == 1 and 1 <= num <= 64:
            return int(num), den
    return None


def _guess_role(name: str, program: int, is_drum: bool) -> str:
    low = name.lower()
    if is_drum:
        return "drums"
    if "bass" in low or 32 <= program <= 39:
        return "bass"
    if any(w in low for w in ("lead", "melody", "vocal", "voice", "soprano")):
        return "lead"
    if 88 <= program <= 95:
        return "pad"
    if 40 <= program <= 51:
        return "strings"
    return "harmony"


def read_musicxml(path: str | os.PathLike[str]) -> Score:
    """Read a MusicXML file (``.musicxml``, ``.xml`` or compressed ``.mxl``) into a Score.

    Parts become tracks (named after the part; General MIDI program from the part's instrument;
    a percussion part becomes a drum track), tied notes are merged into one note, grace notes
    are skipped, transposing instruments are read at sounding pitch. Metronome marks give the
    tempo map, time and key signatures the meter and key maps (a key without a mode is taken
    as major), rehearsal marks the sections (each lasting to the next mark, the last to the
    end), lyrics go on their notes. A pickup (anacrusis) bar is read as the end of a full first
    bar, so bar lines stay where the meter puts them; other irregular bars get a meter of
    their own.

    Raises:
        InputFileError: the file is missing, empty, not MusicXML, corrupt or has no music.
    """
    p = check_input(path, kinds=MUSICXML_READ_EXTS)
    try:
        m21 = _parse_music21(p)
    except InputFileError:
        raise
    except Exception as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputFileError(p, f"not a readable MusicXML file ({reason[:160]})") from None
    try:
        score = music21_to_score(m21, source=p)
    except (InputFileError, ScoreError):
        raise
    except Exception as exc:
        raise InputFileError(p, f"could not read the music in this MusicXML file "
                                f"({type(exc).__name__}: {str(exc)[:160]})".replace("\n", " ")
                             ) from None
    check_music_size(p, beats=float(score.length or 0.0), notes=score.note_count)
    return score


def _parse_music21(p: Path) -> music21.stream.Score:
    import warnings

    from music21 import converter, stream

    if p.suffix.lower() == ".mxl" and not zipfile.is_zipfile(p):
        raise InputFileError(p, "not a compressed MusicXML file (.mxl files are zip archives)")
    if p.suffix.lower() != ".mxl":
        with p.open("rb") as f:
            head = f.read(1 << 16)
        if head.startswith((b"\xff\xfe", b"\xfe\xff")):
            head = head.decode("utf-16", errors="ignore").encode("utf-8")
        if not head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<"):
            raise InputFileError(p, "not a MusicXML file (it is not XML)")
        if b"<score-partwise" not in head and b"<score-timewise" not in head:
            raise InputFileError(p, "not a MusicXML file (no <score-partwise> or "
                                    "<score-timewise> element)")
    with warnings.catch_warnings(), _quiet_music21():
        warnings.simplefilter("ignore")
        obj = converter.parse(p, format="musicxml", forceSource=True)
    if isinstance(obj, stream.Opus):
        scores = list(obj.scores)
        if not scores:
            raise InputFileError(p, "the file holds no score")
        obj = scores[0]
    if not isinstance(obj, stream.Score):
        raise InputFileError(p, "the file holds no score")
    return obj


def _bar_structure(parts: list[Any], source: object) -> tuple[list[TimeSignature], Fraction]:
    """The meter map from the first part's measures (a first bar shorter than its meter is a
    pickup: the music moves by the missing beats so it ends a full bar; an irregular bar gets
    its own meter), and that shift. Changes off the previous meter's bar lines are ignored."""
    from music21 import stream

    ref = parts[0]
    measures = list(ref.getElementsByClass(stream.Measure))
    shift = Fraction(0)
    meters: list[tuple[Fraction, int, int]] = []  # (beat, numerator, denominator)
    nominal: tuple[int, int] | None = None
    for mi, m in enumerate(measures):
        off = Fraction(m.getOffsetBySite(ref)).limit_denominator(TICKS_PER_BEAT)
        ts = m.timeSignature
        if ts is not None:
            nominal = (ts.numerator, ts.denominator)
        if nominal is None:
            nominal = (4, 4)
        bar = Fraction(nominal[0] * 4, nominal[1])
        length = Fraction(m.duration.quarterLength).limit_denominator(TICKS_PER_BEAT)
        if mi == 0 and 0 < length < bar:
            shift = bar - length  # a pickup: it ends a full first bar
            meters.append((Fraction(0), *nominal))
            continue
        beat = off + shift
        last_measure = mi == len(measures) - 1
        if length != bar and length > 0 and not last_measure:
            own = _meter_for_length(length)
            if own is not None:
                meters.append((beat, *own))
                continue
        meters.append((beat, *nominal))
    time_sigs: list[TimeSignature] = []
    for beat, num, den in meters or [(Fraction(0), 4, 4)]:
        if time_sigs:
            prev = time_sigs[-1]
            if (prev.numerator, prev.denominator) == (num, den):
                continue
            bars = (beat - _frac(prev.beat)) / Fraction(prev.numerator * 4, prev.denominator)
            if bars.denominator != 1:
                log.warning("%s: meter %d/%d at beat %s is not on a bar line; ignored",
                            source, num, den, float(beat))
                continue
            if bars == 0:
                time_sigs.pop()
        time_sigs.append(TimeSignature(float(beat), num, den))
    return time_sigs, shift


def _key_map(parts: list[Any], beat_of: Any) -> list[KeySignature]:
    """Key signatures of the first part that has any (a bare signature read as major)."""
    from music21 import key

    key_sigs: list[KeySignature] = []
    for pt in parts:
        for ks in pt.recurse().getElementsByClass(key.KeySignature):
            beat = beat_of(ks, pt)
            if isinstance(ks, key.Key) and ks.mode in ("major", "minor"):
                tonic, mode = ks.tonic.pitchClass, ks.mode
            else:
                tonic, mode = ks.asKey("major").tonic.pitchClass, "major"
            if key_sigs and key_sigs[-1].beat == float(beat):
                key_sigs.pop()
            key_sigs.append(KeySignature(float(beat), tonic, mode))
        if key_sigs:
            break
    if not key_sigs or key_sigs[0].beat > 0:
        key_sigs.insert(0, KeySignature(0.0, key_sigs[0].tonic if key_sigs else 0,
                                         key_sigs[0].mode if key_sigs else "major"))
    return key_sigs


def _tempo_map(parts: list[Any], beat_of: Any) -> list[TempoChange]:
    """Metronome marks in any part; the first part wins at equal beats, and an exact sounding
    tempo wins over the whole number shown beside it."""
    tempo_at: dict[Fraction, float] = {}
    exact_at: set[Fraction] = set()
    for pt in parts:
        for mm in pt.recurse().getElementsByClass("MetronomeMark"):
            exact = mm.numberSounding  # an exact tempo written beside the shown one
            bpm = exact if exact is not None else mm.getQuarterBPM()
            if bpm is None or not 4 <= bpm <= 1000:
                continue
            b = beat_of(mm, pt)
            if exact is not None and b not in exact_at:
                tempo_at[b] = float(bpm)
                exact_at.add(b)
            else:
                tempo_at.setdefault(b, float(bpm))
    tempos = [TempoChange(float(b), bpm) for b, bpm in sorted(tempo_at.items())]
    if not tempos or tempos[0].beat > 0:
        tempos.insert(0, TempoChange(0.0, tempos[0].bpm if tempos else 120.0))
    return tempos


def _tracks(m21: Any, parts: list[Any], shift: Fraction) -> list[Track]:
    """One track per part (a grand staff's two staves are one), with its program, drum flag
    (a drum channel, unpitched percussion or a percussion clef), a unique name and a role."""
    from music21 import clef, instrument, stream

    tracks: list[Track] = []
    used_names: dict[str, int] = {}
    units: list[list[Any]] = []
    for pt in parts:
        if isinstance(pt, stream.PartStaff) and units and isinstance(units[-1][0],
                                                                     stream.PartStaff) \
                and _same_staff_group(m21, units[-1][0], pt):
            units[-1].append(pt)
        else:
            units.append([pt])
    for pi, unit in enumerate(units):
        pt = unit[0]
        inst = pt.getInstrument(returnDefault=False)
        program = inst.midiProgram if inst is not None and inst.midiProgram is not None else 0
        program = min(max(int(program), 0), 127)
        first_clef = next(iter(pt.recurse().getElementsByClass(clef.Clef)), None)
        is_drum = bool(
            (inst is not None and (inst.midiChannel == _DRUM_CHANNEL
                                  or isinstance(inst, instrument.UnpitchedPercussion)))
            or isinstance(first_clef, clef.PercussionClef))
        name = (pt.partName or (inst.partName if inst is not None else None)
                or (inst.instrumentName if inst is not None else None) or f"Part {pi + 1}")
        name = str(name).strip() or f"Part {pi + 1}"
        if name in used_names:
            used_names[name] += 1
            name = f"{name} {used_names[name]}"
        else:
            used_names[name] = 1
        notes = sorted((n for staff in unit for n in _part_notes(staff, shift)),
                       key=lambda n: (n.start, n.pitch))
        tracks.append(Track(name=name, notes=tuple(notes), program=program, is_drum=is_drum,
                            role=_guess_role(name, program, is_drum)))
    return tracks


def music21_to_score(m21: music21.stream.Score, *, source: object = "<music21>") -> Score:
    """Convert a parsed music21 Score to a Score (see :func:`read_musicxml`)."""
    from music21 import expressions

    parts = list(m21.parts)
    if not parts:
        raise InputFileError(source, "the file holds no parts (no music)")
    if any(not getattr(pt, "atSoundingPitch", True) for pt in parts):
        m21 = m21.toSoundingPitch(inPlace=False)
        parts = list(m21.parts)
    time_sigs, shift = _bar_structure(parts, source)

    def beat_of(el: Any, site: Any) -> Fraction:
        return Fraction(el.getOffsetInHierarchy(site)).limit_denominator(TICKS_PER_BEAT) + shift

    key_sigs = _key_map(parts, beat_of)
    tempos = _tempo_map(parts, beat_of)
    marks: dict[Fraction, str] = {}  # rehearsal marks -> section starts
    for pt in parts:
        for rm in pt.recurse().getElementsByClass(expressions.RehearsalMark):
            text = (rm.content or "").strip()
            if text:
                marks.setdefault(beat_of(rm, pt), text)
    tracks = _tracks(m21, parts, shift)
    title = ""
    if m21.metadata is not None:
        for candidate in (m21.metadata.title, m21.metadata.movementName):
            if candidate and str(candidate) not in _MUSIC21_DEFAULT_TITLES:
                title = str(candidate)
                break
    base = Score(tracks=tuple(tracks), tempos=tuple(tempos), time_signatures=tuple(time_sigs),
                 key_signatures=tuple(key_sigs), title=title)
    highest = Fraction(m21.highestTime).limit_denominator(TICKS_PER_BEAT) + shift
    end = max(float(highest), base.length or 0.0)
    end = base.next_bar_line(end) if end > 0 else 0.0
    starts = sorted(b for b in marks if b < end)
    sections = [Section(marks[b], float(b), float(e - b))
                for b, e in zip(starts, [*starts[1:], Fraction(end)], strict=False) if e > b]
    return base.replace(sections=tuple(sections), length=end)


def _part_notes(part: Any, shift: Fraction) -> list[Note]:
    """A part's notes with tied pieces merged, voice by voice.

    music21's ``stripTies`` flattens the voices of a part first, so a tie whose pieces have
    another voice's note between them stays split; this merges by pitch and exact end time.
    """
    from music21 import chord, stream

    pieces: list[tuple[Fraction, int, Fraction, str | None, int, str | None, Any]] = []
    for el in part.recurse().notes:
        ql = Fraction(el.duration.quarterLength).limit_denominator(TICKS_PER_BEAT)
        if ql <= 0 or el.duration.isGrace:
            continue
        start = Fraction(el.getOffsetInHierarchy(part)).limit_denominator(TICKS_PER_BEAT)
        # rawText keeps the syllable's hyphens ("Hel-", "-lo"), as they were written.
        lyric = (el.lyrics[0].rawText or None) if el.lyrics else None
        chord_tie = el.tie.type if el.tie is not None else None
        site = el.activeSite
        voice = site.id if isinstance(site, stream.Voice) else None
        members = list(el.notes) if isinstance(el, chord.ChordBase) else [el]
        members.sort(key=_member_midi)
        for i, m in enumerate(members):
            tie_type = m.tie.type if m.tie is not None else chord_tie
            pieces.append((start, _member_midi(m), ql, tie_type,
                           _velocity(m, _velocity(el, 90)), lyric if i == 0 else None, voice))
    pieces.sort(key=lambda x: (x[0], x[1]))
    done: list[list[Any]] = []
    open_: dict[int, list[list[Any]]] = {}  # pitch -> [start, end, velocity, lyric, pitch, voice]
    for start, pitch, ql, tie_type, velocity, lyric, voice in pieces:
        if tie_type in ("stop", "continue"):
            waiting = [n for n in open_.get(pitch, ()) if n[1] == start]
            match = next((n for n in waiting if n[5] == voice), waiting[0] if waiting else None)
            if match is not None:
                match[1] = start + ql
                match[5] = voice
                if tie_type == "stop":
                    open_[pitch].remove(match)
                    done.append(match)
                continue
        n = [start, start + ql, velocity, lyric, pitch, voice]
        if tie_type in ("start", "continue"):
            open_.setdefault(pitch, []).append(n)
        else:
            done.append(n)
    for waiting in open_.values():
        done.extend(waiting)
    return [Note(n[4], float(n[0] + shift), float(n[1] - n[0]), n[2], n[3])
            for n in done if 0 <= n[4] <= 127]


def _same_staff_group(m21: Any, a: Any, b: Any) -> bool:
    """Whether two PartStaffs are the staves of one part (a brace or bracket joins them)."""
    from music21 import layout

    for group in m21.getElementsByClass(layout.StaffGroup):
        members = group.getSpannedElements()
        if any(x is a for x in members) and any(x is b for x in members):
            return True
    return False


def _velocity(el: Any, default: int) -> int:
    v = el.volume.velocity if el.hasVolumeInformation() else None
    if v is None:
        return default
    return min(max(round(v), 1), 127)


def _member_midi(n: Any) -> int:
    """MIDI key of a note, or of an unpitched (percussion) note from its instrument or staff."""
    from music21 import note

    if isinstance(n, note.Unpitched):
        step, octave = n.displayStep, n.displayOctave
        head = n.notehead or "normal"
        known = drum_key(step, octave, head) if step and octave is not None else None
        if known is not None:  # a position and notehead tunecraft writes
            return known
        inst = getattr(n, "storedInstrument", None)
        perc = getattr(inst, "percMapPitch", None)
        if perc is not None:
            return int(perc)
        return int(n.displayPitch().midi)
    return int(n.pitch.midi)
