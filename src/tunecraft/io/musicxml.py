"""MusicXML: Score <-> music21 <-> ``.musicxml`` / ``.xml`` / ``.mxl`` files.

Writing builds the measures, voices and ties itself (rather than asking music21's
``makeNotation`` to guess them from a flat stream), so that:

* every track becomes one part, named after the track, with its General MIDI instrument;
  drum tracks become a percussion part (plain notes on a percussion clef, MIDI channel 10),
  which reads back as the same MIDI keys;
* notes of one track that start and end together form a chord; notes that overlap with
  different lengths go to separate voices, so every duration is kept;
* notes crossing bar lines are split and tied; tempo changes become metronome marks, section
  names rehearsal marks, lyrics note lyrics; meter and key changes appear where they happen.

**Notation is quantised, the score is not.** MusicXML can only spell durations made of
binary and tuplet values, so note starts and ends are rounded for notation to a grid: by
default the nearer of a sixteenth-note grid (1/4 beat) and an eighth-triplet grid (1/3 beat),
music21's ``quarterLengthDivisors=(4, 3)``. Humanised timing (a few 1/960-beat ticks off the
beat) is therefore written on the beat. A note that would shrink to nothing keeps one grid step.
MIDI export is unaffected and stays exact; pass ``grid_divisors=(8, 6)`` for finer notation.

music21 is imported inside the functions, so importing this module is cheap.
"""

from __future__ import annotations

import bisect
import contextlib
import logging
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
DEFAULT_GRID_DIVISORS: tuple[int, ...] = (4, 3)

_DRUM_CHANNEL = 9  # 0-based MIDI channel 10
_MUSIC21_DEFAULT_TITLES = frozenset({"Music21 Fragment", "Music21"})
_export_lock = threading.Lock()  # music21's title/author defaults are module globals


# ----------------------------------------------------------------------------------------------
# Writing


def _frac(beats: float) -> Fraction:
    """A time in beats as an exact fraction on the score grid."""
    return Fraction(round(beats * TICKS_PER_BEAT), TICKS_PER_BEAT)


def _quantize(beats: Fraction, divisors: Sequence[int]) -> tuple[Fraction, int]:
    """The nearest grid point over all ``divisors`` (ties go to the first); and its divisor."""
    candidates = [(Fraction(round(beats * d), d), d) for d in divisors]
    return min(candidates, key=lambda qd: abs(qd[0] - beats))  # min keeps the first of ties


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


def _track_voices(track: Track, divisors: Sequence[int]) -> list[list[_Event]]:
    """Quantise a track's notes, group equal spans into chords, and split overlaps into voices."""
    groups: dict[tuple[Fraction, Fraction], list[Note]] = {}
    for n in track.notes:
        start, d = _quantize(_frac(n.start), divisors)
        end, _ = _quantize(_frac(n.end), divisors)
        if end <= start:
            end = start + Fraction(1, d)
        groups.setdefault((start, end), []).append(n)
    events: list[_Event] = []
    for (start, end), notes in groups.items():
        pitches = sorted({n.pitch for n in notes})
        lyric = next((n.lyric for n in sorted(notes, key=lambda n: n.pitch) if n.lyric), None)
        events.append(_Event(start, end, pitches, lyric, max(n.velocity for n in notes)))
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


def _m21_key(k: KeySignature) -> music21.key.Key:
    from music21 import key

    return key.Key(k.tonic_name.replace("b", "-") if len(k.tonic_name) > 1 else k.tonic_name,
                   k.mode)


def _instrument(track: Track) -> music21.instrument.Instrument:
    from music21 import instrument

    if track.is_drum:
        inst: Any = instrument.UnpitchedPercussion()
        inst.midiChannel = _DRUM_CHANNEL
        inst.midiProgram = 0  # so that <midi-instrument> (and channel 10) is written and read
        inst.instrumentName = "Drum Kit"
    else:
        try:
            inst = instrument.instrumentFromMidiProgram(track.program)
        except Exception:  # music21 has no class for some programs
            inst = instrument.Instrument()
        inst.midiProgram = track.program
        inst.instrumentName = program_name(track.program)
        # A concert-pitch score: written pitch is sounding pitch, for every instrument.
        inst.transposition = None
    inst.partName = track.name
    return inst


def _clef(track: Track) -> music21.clef.Clef:
    from music21 import clef

    if track.is_drum:
        return clef.PercussionClef()
    if not track.notes:
        return clef.TrebleClef()
    mean = sum(n.pitch for n in track.notes) / len(track.notes)
    return clef.BassClef() if mean < 55 else clef.TrebleClef()


def score_to_music21(score: Score, *,
                     grid_divisors: Sequence[int] = DEFAULT_GRID_DIVISORS) -> music21.stream.Score:
    """Convert a Score to a music21 Score with measures, voices, ties and notation made.

    One part per track, named after the track, with the track's General MIDI instrument
    (drums: a percussion part). The first part carries the tempo marks and rehearsal marks
    (section names); every part carries the meter and key changes. Note times are quantised
    for notation to the nearest point of a grid of 1/d beat for each d in ``grid_divisors``
    (see the module docstring); the Score itself is not changed.
    """
    from music21 import (
        expressions,
        metadata,
        meter,
        stream,
        tempo,
    )

    divisors = tuple(int(d) for d in grid_divisors)
    if not divisors or any(d < 1 or d > TICKS_PER_BEAT for d in divisors):
        raise ScoreError(f"notation grid divisors {grid_divisors!r} must be 1-{TICKS_PER_BEAT}")

    voices_by_track = [_track_voices(t, divisors) for t in score.tracks]
    content_end = max((e.end for vs in voices_by_track for v in vs for e in v),
                      default=Fraction(0))
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
    tempos = [(bar_of(_frac(t.beat)), t) for t in score.tempos if _frac(t.beat) < end]
    sections = [(bar_of(_frac(s.start)), s) for s in score.sections if _frac(s.start) < end]
    key_cuts: dict[int, list[Fraction]] = {}
    for b, k in keys:
        if _frac(k.beat) > bar_starts[b]:
            key_cuts.setdefault(b, []).append(_frac(k.beat))

    m21 = stream.Score()
    m21.metadata = metadata.Metadata()
    m21.metadata.title = score.title or ""

    for ti, (track, voices) in enumerate(zip(score.tracks, voices_by_track, strict=True)):
        flats = False
        part = stream.Part(id=f"P{ti + 1}")
        part.partName = track.name
        inst = _instrument(track)
        inst.partId = f"P{ti + 1}"
        part.insert(0, inst)

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

        key_iter = iter(keys)
        next_key = next(key_iter, None)
        for b in range(n_bars):
            m0, m1 = bar_starts[b], bar_ends[b]
            m = stream.Measure(number=b + 1)
            if b == 0:
                m.insert(0, _clef(track))
            if b in meter_at_bar:
                ts = meter_at_bar[b]
                m.insert(0, meter.TimeSignature(f"{ts.numerator}/{ts.denominator}"))
            marks: list[tuple[Fraction, Any]] = []
            while next_key is not None and next_key[0] == b:
                k = next_key[1]
                mk = _m21_key(k)
                flats = mk.sharps < 0
                if not track.is_drum:
                    marks.append((_frac(k.beat) - m0, mk))
                next_key = next(key_iter, None)
            if ti == 0:
                marks += [(_frac(t.beat) - m0,
                           tempo.MetronomeMark(number=round(t.bpm, 3), referent=1.0))
                          for bi, t in tempos if bi == b]
                marks += [(_frac(sec.start) - m0, expressions.RehearsalMark(sec.name))
                          for bi, sec in sections if bi == b]
            present = sorted(segments[b])
            spell_flats = flats and not track.is_drum
            cuts = key_cuts.get(b, ())
            if len(present) <= 1:
                _fill(m, segments[b][present[0]] if present else [], m0, m1, False, spell_flats,
                     cuts)
                first_voice = m
            else:
                for k_, vi in enumerate(present):
                    v = stream.Voice(id=str(vi + 1))  # the same number in every bar
                    _fill(v, segments[b][vi], m0, m1, k_ > 0, spell_flats, cuts)
                    m.insert(0, v)
                first_voice = m.voices[0]
            # Marks inside a bar go into its first voice: MusicXML writers and readers place
            # measure-level marks badly in bars with several voices.
            for off, obj in marks:
                (m if off == 0 else first_voice).insert(_ql(off), obj)
            part.coreAppend(m)
        part.coreElementsChanged()
        _make_notation(part)
        m21.insert(0, part)
    return m21


def _make_element(s: Fraction, e: Fraction, ev: _Event, flats_: bool) -> Any:
    """The note or chord for the piece [s, e) of ``ev``, tied to its neighbours."""
    from music21 import chord, note, tie

    if len(ev.pitches) == 1:
        el: Any = note.Note(_pitch_name(ev.pitches[0], flats_))
    else:
        el = chord.Chord([_pitch_name(p, flats_) for p in ev.pitches])
    el.duration.quarterLength = _ql(e - s)
    el.volume.velocity = ev.velocity
    if ev.start < s and ev.end > e:
        el.tie = tie.Tie("continue")
    elif ev.start < s:
        el.tie = tie.Tie("stop")
    elif ev.end > e:
        el.tie = tie.Tie("start")
    if ev.lyric and ev.start == s:
        el.lyric = ev.lyric
    return el


def _fill(container: Any, segs: list[tuple[Fraction, Fraction, _Event]], m0: Fraction,
          m1: Fraction, hide_rests: bool, flats_: bool, cuts: Sequence[Fraction]) -> None:
    """Fill a bar [m0, m1) of one voice with its note pieces and rests (cut at ``cuts``)."""
    from music21 import note

    def rest(a: Fraction, stop: Fraction) -> None:
        for point in [*(c for c in cuts if a < c < stop), stop]:
            r = note.Rest(quarterLength=_ql(point - a))
            r.style.hideObjectOnPrint = hide_rests
            container.coreInsert(_ql(a - m0), r)
            a = point

    cursor = m0
    for s, e, ev in segs:
        if s > cursor:
            rest(cursor, s)
        container.coreInsert(_ql(s - m0), _make_element(s, e, ev, flats_))
        cursor = e
    if cursor < m1:
        rest(cursor, m1)
    container.coreElementsChanged()


def _pitch_name(midi: int, flats: bool) -> str:
    from ..score.types import PITCH_NAMES_FLAT, PITCH_NAMES_SHARP

    names = PITCH_NAMES_FLAT if flats else PITCH_NAMES_SHARP
    return f"{names[midi % 12].replace('b', '-') if flats else names[midi % 12]}{midi // 12 - 1}"


def _make_notation(part: music21.stream.Part) -> None:
    """Split unnotatable durations into tied notes, then spell accidentals, beams and tuplets."""
    from music21 import stream
    from music21.stream import makeNotation

    part.splitAtDurations(recurse=True)  # in place: complex values become tied pieces
    part.makeAccidentals(inPlace=True)
    with contextlib.suppress(Exception):  # beams are cosmetic; never fail an export on them
        part.makeBeams(inPlace=True)
    for m in part.getElementsByClass(stream.Measure):
        for container in [m, *m.voices]:
            makeNotation.makeTupletBrackets(container, inPlace=True)


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
    with _no_music21_defaults():
        data = exporter.parse()
    # Same score, same bytes: drop the export date music21 stamps into <encoding>, and number
    # the random instrument ids it makes (uuid4 hex) in order of appearance.
    data = re.sub(rb"\s*<encoding-date>[^<]*</encoding-date>", b"", data, count=1)
    ids: dict[bytes, bytes] = {}

    def stable(m: re.Match[bytes]) -> bytes:
        return ids.setdefault(m.group(0), b"I%d" % (len(ids) + 1))

    return re.sub(rb"\bI[0-9a-f]{32}\b", stable, data)


_MXL_CONTAINER = """<?xml version="1.0" encoding="UTF-8"?>
<container>
  <rootfiles>
    <rootfile full-path="{name}" media-type="application/vnd.recordare.musicxml+xml"/>
  </rootfiles>
</container>
"""


def write_musicxml(score: Score, path: str | os.PathLike[str], *,
                   grid_divisors: Sequence[int] = DEFAULT_GRID_DIVISORS) -> Path:
    """Write ``score`` as MusicXML to ``path`` and return the path.

    ``.musicxml`` and ``.xml`` are plain MusicXML; ``.mxl`` is compressed MusicXML. The file
    appears atomically (never half-written). Note times are quantised for notation
    (``grid_divisors``, see the module docstring); the MIDI of the same score stays exact.
    """
    p = check_output(path, kinds=MUSICXML_WRITE_EXTS)
    if not score.tracks:
        raise OutputFileError(p, "the score has no tracks, so there is nothing to notate")
    try:
        data = music21_to_musicxml_bytes(score_to_music21(score, grid_divisors=grid_divisors))
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
    with warnings.catch_warnings():
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


def music21_to_score(m21: music21.stream.Score, *, source: object = "<music21>") -> Score:
    """Convert a parsed music21 Score to a Score (see :func:`read_musicxml`)."""
    from music21 import clef, expressions, instrument, key, stream

    parts = list(m21.parts)
    if not parts:
        raise InputFileError(source, "the file holds no parts (no music)")
    if any(not getattr(pt, "atSoundingPitch", True) for pt in parts):
        m21 = m21.toSoundingPitch(inPlace=False)
        parts = list(m21.parts)

    # The bar structure comes from the first part's measures.
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

    def beat_of(el: Any, site: Any) -> Fraction:
        return Fraction(el.getOffsetInHierarchy(site)).limit_denominator(TICKS_PER_BEAT) + shift

    # Meter map: keep only changes that land on a bar line of the meter before them.
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

    # Keys (first part that has any).
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

    # Tempos (metronome marks in any part; the first part wins at equal beats).
    tempo_at: dict[Fraction, float] = {}
    for pt in parts:
        for mm in pt.recurse().getElementsByClass("MetronomeMark"):
            bpm = mm.getQuarterBPM()
            if bpm is None or not 4 <= bpm <= 1000:
                continue
            tempo_at.setdefault(beat_of(mm, pt), float(bpm))
    tempos = [TempoChange(float(b), bpm) for b, bpm in sorted(tempo_at.items())]
    if not tempos or tempos[0].beat > 0:
        tempos.insert(0, TempoChange(0.0, tempos[0].bpm if tempos else 120.0))

    # Rehearsal marks -> section starts.
    marks: dict[Fraction, str] = {}
    for pt in parts:
        for rm in pt.recurse().getElementsByClass(expressions.RehearsalMark):
            text = (rm.content or "").strip()
            if text:
                marks.setdefault(beat_of(rm, pt), text)

    # Tracks.
    tracks: list[Track] = []
    used_names: dict[str, int] = {}
    for pi, pt in enumerate(parts):
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
        notes = _part_notes(pt, shift)
        tracks.append(Track(name=name, notes=tuple(notes), program=program, is_drum=is_drum,
                            role=_guess_role(name, program, is_drum)))

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
    from music21 import stream

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
        members = list(el.notes) if el.isChord else [el]
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


def _velocity(el: Any, default: int) -> int:
    v = el.volume.velocity if el.hasVolumeInformation() else None
    if v is None:
        return default
    return min(max(round(v), 1), 127)


def _member_midi(n: Any) -> int:
    """MIDI key of a note, or of an unpitched (percussion) note from its instrument or staff."""
    from music21 import note

    if isinstance(n, note.Unpitched):
        inst = getattr(n, "storedInstrument", None)
        perc = getattr(inst, "percMapPitch", None)
        if perc is not None:
            return int(perc)
        return int(n.displayPitch().midi)
    return int(n.pitch.midi)
