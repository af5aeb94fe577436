"""Standard MIDI files <-> Score, through mido.

What a written file holds (type 1, 960 ticks per quarter note):

* a conductor track: the title, tempo changes, time and key signatures, one **marker** per
  section named after it ("intro", "chorus 2"...), chord symbols as text events ("chord: Am7");
* one track per instrument: its name, a program change, volume (CC7) and pan (CC10), a text
  event recording its role ("tunecraft role: bass"), its notes and the lyrics sung on them;
* drums on channel 10, other tracks on channels 1-16 in order (skipping 10);
* text (title, track names, markers, lyrics) in UTF-8; files with Latin-1 text read too;
* an end-of-track at the score's length, so trailing rests survive.

Reading accepts any standard MIDI file (type 0 or 1, any resolution). Notes are grouped by track
and channel; tempos are kept to 0.01 bpm (the file stores microseconds per beat).
"""

from __future__ import annotations

import logging
import os
from collections import defaultdict, deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import InputFileError, OutputFileError, ScoreError
from ..score.types import (
    ROLES,
    TICKS_PER_BEAT,
    Chord,
    KeySignature,
    Note,
    Score,
    Section,
    TempoChange,
    TimeSignature,
    Track,
    to_ticks,
)
from .files import MAX_SCORE_BEATS, MAX_SCORE_NOTES, atomic_output, check_input, check_music_size

log = logging.getLogger(__name__)

MIDI_EXTS = (".mid", ".midi", ".smf", ".kar")
DRUM_CHANNEL = 9
MIN_BPM, MAX_BPM = 4.0, 1000.0  # what a TempoChange accepts
#: The longest delta time a standard MIDI file can hold (a 4-byte variable-length quantity).
MAX_DELTA_TICKS = 0x0FFFFFFF
CHORD_PREFIX = "chord: "
ROLE_PREFIX = "tunecraft role: "
NO_CHORD = "N.C."

# Key names mido accepts, indexed by tonic pitch class.
_MIDO_MAJOR = ("C", "Db", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")
_MIDO_MINOR = ("Cm", "C#m", "Dm", "Ebm", "Em", "Fm", "F#m", "Gm", "G#m", "Am", "Bbm", "Bm")


# ----------------------------------------------------------------------------------------------
# Writing


def _channels(tracks: tuple[Track, ...]) -> list[int]:
    melodic = [c for c in range(16) if c != DRUM_CHANNEL]
    out, i = [], 0
    for t in tracks:
        if t.is_drum:
            out.append(DRUM_CHANNEL)
        else:
            if i == len(melodic):
                log.warning("more than 15 pitched tracks: MIDI channels are shared")
            out.append(melodic[i % len(melodic)])
            i += 1
    return out


def _to_delta(events: list[tuple[int, int, Any]], end_tick: int) -> Any:
    import mido

    events.sort(key=lambda e: (e[0], e[1]))
    track = mido.MidiTrack()
    now = 0
    for tick, _, msg in events:
        track.append(msg.copy(time=tick - now))
        now = tick
    track.append(mido.MetaMessage("end_of_track", time=max(end_tick - now, 0)))
    return track


def score_to_midi(score: Score) -> Any:
    """Build a ``mido.MidiFile`` from a score (nothing is written)."""
    import mido

    end_tick = to_ticks(float(score.length or 0.0))
    last = max([end_tick, *(to_ticks(n.end) for t in score.tracks for n in t.notes)])
    if last > MAX_DELTA_TICKS:
        raise OutputFileError("MIDI", f"the score is too long for a standard MIDI file "
                                      f"({last / TICKS_PER_BEAT:,.0f} beats; the limit is "
                                      f"{MAX_DELTA_TICKS // TICKS_PER_BEAT:,})")
    meta: list[tuple[int, int, Any]] = []
    if score.title:
        meta.append((0, 0, mido.MetaMessage("track_name", name=score.title)))
    for ts in score.time_signatures:
        meta.append((to_ticks(ts.beat), 1, mido.MetaMessage(
            "time_signature", numerator=ts.numerator, denominator=ts.denominator)))
    for k in score.key_signatures:
        name = (_MIDO_MAJOR if k.mode == "major" else _MIDO_MINOR)[k.tonic]
        meta.append((to_ticks(k.beat), 2, mido.MetaMessage("key_signature", key=name)))
    for t in score.tempos:
        meta.append((to_ticks(t.beat), 3, mido.MetaMessage(
            "set_tempo", tempo=round(60_000_000 / t.bpm))))
    for s in score.sections:
        meta.append((to_ticks(s.start), 4, mido.MetaMessage("marker", text=s.name)))
    prev_end = None
    for c in score.chords:
        if prev_end is not None and c.start > prev_end + 1e-9:
            meta.append((to_ticks(prev_end), 5, mido.MetaMessage("text",
                                                                 text=CHORD_PREFIX + NO_CHORD)))
        name = c.spelled(score.key_at(c.start))
        meta.append((to_ticks(c.start), 5, mido.MetaMessage("text", text=CHORD_PREFIX + name)))
        prev_end = c.end
    if prev_end is not None and prev_end < float(score.length or 0.0) - 1e-9:
        meta.append((to_ticks(prev_end), 5, mido.MetaMessage("text",
                                                             text=CHORD_PREFIX + NO_CHORD)))

    # Text (titles, track names, lyrics) is written as UTF-8: "Canción – coração" survives.
    mid = mido.MidiFile(type=1, ticks_per_beat=TICKS_PER_BEAT, charset="utf-8")
    mid.tracks.append(_to_delta(meta, end_tick))
    for track, ch in zip(score.tracks, _channels(score.tracks), strict=True):
        ev: list[tuple[int, int, Any]] = [
            (0, 0, mido.MetaMessage("track_name", name=track.name)),
            (0, 0, mido.MetaMessage("text", text=ROLE_PREFIX + track.role)),
            # On channel 10 the program picks the drum kit (GS/GM2: 25 = TR-808...).
            (0, 0, mido.Message("program_change", channel=ch, program=track.program)),
            (0, 0, mido.Message("control_change", channel=ch, control=7, value=track.volume)),
            (0, 0, mido.Message("control_change", channel=ch, control=10, value=track.pan)),
        ]
        # Lyrics at one tick are written top note first; reading hands them out the same way.
        for n in sorted(track.notes, key=lambda n: (n.start, -n.pitch)):
            on, off = to_ticks(n.start), to_ticks(n.end)
            ev.append((off, 1, mido.Message("note_off", channel=ch, note=n.pitch, velocity=0)))
            if n.lyric is not None:
                ev.append((on, 2, mido.MetaMessage("lyrics", text=n.lyric)))
            ev.append((on, 3, mido.Message("note_on", channel=ch, note=n.pitch,
                                           velocity=n.velocity)))
        mid.tracks.append(_to_delta(ev, end_tick))
    return mid


def write_midi(score: Score, path: str | os.PathLike[str]) -> Path:
    """Write a score as a standard MIDI file (atomically: all or nothing)."""
    p = Path(path)
    if p.suffix.lower() not in MIDI_EXTS:
        raise OutputFileError(p, f"unknown MIDI file type {p.suffix!r}; use .mid")
    mid = score_to_midi(score)
    with atomic_output(p) as tmp:
        mid.save(tmp)
    return p


# ----------------------------------------------------------------------------------------------
# Reading


def _open_midi(p: Path) -> Any:
    import mido

    try:
        try:
            return mido.MidiFile(p, clip=True, charset="utf-8")
        except UnicodeDecodeError:  # older files: Latin-1 text
            return mido.MidiFile(p, clip=True, charset="latin1")
    except Exception as exc:  # mido raises many kinds (KeySignatureError, ValueError, ...)
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        if isinstance(exc, EOFError) or not text:
            text = "the file ends too early: truncated or damaged"
        elif type(exc).__name__ == "KeySignatureError":
            text = f"a key signature is impossible: {text}"
        raise InputFileError(p, f"not a valid MIDI file ({text})") from None


_INFERRED_ROLES = {"bass": "bass", "synth pad": "pad", "ensemble": "strings",
                   "strings": "strings"}  # fmt: skip


def _infer_role(program: int, is_drum: bool, index: int) -> str:
    if is_drum:
        return "drums"
    from ..gm import program_family

    return _INFERRED_ROLES.get(program_family(program), "lead" if index == 0 else "harmony")


@dataclass
class _MidiEvents:
    """What a MIDI file's tracks say, by tick: notes per (track, channel), programs and
    controllers, tempo, meter and key changes, markers, chord and role texts, lyrics, names."""

    tempos: dict[int, float] = field(default_factory=dict)
    meters: dict[int, tuple[int, int]] = field(default_factory=dict)
    keys: dict[int, tuple[int, str]] = field(default_factory=dict)
    markers: dict[int, str] = field(default_factory=dict)
    chord_marks: dict[int, str] = field(default_factory=dict)
    end_tick: int = 0
    program_at: dict[int, list[tuple[int, int]]] = field(
        default_factory=lambda: defaultdict(list))  # channel -> (tick, program)
    track_program_at: dict[tuple[int, int], list[tuple[int, int]]] = field(
        default_factory=lambda: defaultdict(list))
    # (channel, control) and (track, channel, control) -> first value; the track's own wins.
    cc_first: dict[tuple[int, ...], int] = field(default_factory=dict)
    # Per (track index, channel): notes as (on_tick, off_tick, pitch, velocity).
    notes: dict[tuple[int, int], list[tuple[int, int, int, int]]] = field(
        default_factory=lambda: defaultdict(list))
    lyrics: dict[int, dict[int, list[str]]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(list)))
    names: dict[int, str] = field(default_factory=dict)
    roles: dict[int, str] = field(default_factory=dict)


def _read_events(mid: Any, source: str) -> _MidiEvents:
    """Every track's messages, in absolute ticks; impossible tempos, meters and keys are
    skipped with a warning, and the size limits are checked while reading."""
    tpq = mid.ticks_per_beat
    max_tick = MAX_SCORE_BEATS * tpq
    n_notes = 0
    ev = _MidiEvents()
    for ti, trk in enumerate(mid.tracks):
        tick = 0
        pending: dict[tuple[int, int], deque[tuple[int, int]]] = defaultdict(deque)
        for msg in trk:
            tick += msg.time
            if tick > max_tick:  # decided while reading: never build hours of nothing
                check_music_size(source, beats=tick / tpq)
            kind = msg.type
            if kind == "note_on" and msg.velocity > 0:
                n_notes += 1
                if n_notes > MAX_SCORE_NOTES:
                    check_music_size(source, notes=n_notes)
                pending[(msg.channel, msg.note)].append((tick, msg.velocity))
            elif kind in ("note_off", "note_on"):
                queue = pending.get((msg.channel, msg.note))
                if queue:
                    on, vel = queue.popleft()
                    ev.notes[(ti, msg.channel)].append((on, max(tick, on + 1), msg.note, vel))
            elif kind == "program_change":
                ev.program_at[msg.channel].append((tick, msg.program))
                ev.track_program_at[(ti, msg.channel)].append((tick, msg.program))
            elif kind == "control_change" and msg.control in (7, 10):
                ev.cc_first.setdefault((msg.channel, msg.control), msg.value)
                ev.cc_first.setdefault((ti, msg.channel, msg.control), msg.value)
            elif kind == "set_tempo":
                bpm = round(60_000_000 / msg.tempo, 2) if msg.tempo > 0 else 0.0
                if MIN_BPM <= bpm <= MAX_BPM:
                    ev.tempos[tick] = bpm
                else:
                    log.warning("%s: skipping an impossible tempo (%d microseconds per beat)",
                                source, msg.tempo)
            elif kind == "time_signature":
                if 1 <= msg.numerator <= 64 and msg.denominator in (1, 2, 4, 8, 16, 32, 64):
                    ev.meters[tick] = (msg.numerator, msg.denominator)
                else:
                    log.warning("%s: skipping an impossible meter %d/%d", source,
                                msg.numerator, msg.denominator)
            elif kind == "key_signature":
                try:
                    k = KeySignature.parse(msg.key)
                    ev.keys[tick] = (k.tonic, k.mode)
                except Exception:
                    log.debug("%s: skipping key signature %r", source, msg.key)
            elif kind == "marker" and msg.text.strip():
                ev.markers[tick] = msg.text.strip()
            elif kind == "text" and msg.text.startswith(CHORD_PREFIX):
                ev.chord_marks[tick] = msg.text[len(CHORD_PREFIX):].strip()
            elif kind == "text" and msg.text.startswith(ROLE_PREFIX):
                ev.roles[ti] = msg.text[len(ROLE_PREFIX):].strip()
            elif kind == "lyrics":
                ev.lyrics[ti][tick].append(msg.text)
            elif kind == "track_name" and msg.name.strip():
                ev.names[ti] = msg.name.strip()
        ev.end_tick = max(ev.end_tick, tick)
        for (ch, pitch), queue in pending.items():
            for on, vel in queue:  # never released: hold to the end of the track
                log.debug("%s: note %d on channel %d never ends", source, pitch, ch + 1)
                ev.notes[(ti, ch)].append((on, max(tick, on + 1), pitch, vel))
    return ev


def _midi_tracks(ev: _MidiEvents, tpq: int) -> list[Track]:
    """One track per (MIDI track, channel) with notes: the program in force at its first
    note, its name (with the channel when a track uses several), lyrics, role, volume, pan."""
    tracks: list[Track] = []
    keys_in_use = sorted(k for k, v in ev.notes.items() if v)
    channels_per_track: dict[int, int] = defaultdict(int)
    for ti, _ in keys_in_use:
        channels_per_track[ti] += 1
    for ti, ch in keys_in_use:
        raw = sorted(ev.notes[(ti, ch)])
        first_on = raw[0][0]
        prog = 0
        changes_here = ev.track_program_at.get((ti, ch)) or ev.program_at.get(ch, ())
        for tick, p in changes_here:  # the program in force at the first note
            if tick <= first_on:
                prog = p
        is_drum = ch == DRUM_CHANNEL
        name = ev.names.get(ti) or ("Drums" if is_drum else f"Track {len(tracks) + 1}")
        if channels_per_track[ti] > 1:
            name = f"{name} (ch {ch + 1})"
        track_lyrics = {t: deque(v) for t, v in ev.lyrics.get(ti, {}).items()}
        built = []
        for on, off, pitch, vel in sorted(raw, key=lambda r: (r[0], -r[2])):
            lyric = None
            q = track_lyrics.get(on)
            if q:
                lyric = q.popleft()
            built.append(Note(pitch, on / tpq, (off - on) / tpq, vel, lyric))
        role = ev.roles.get(ti)
        if role is None or role not in ROLES:
            role = _infer_role(prog, is_drum, len(tracks))
        cc = ev.cc_first
        tracks.append(Track(name=name, notes=tuple(built), program=prog,
                            is_drum=is_drum, role=role,
                            volume=cc.get((ti, ch, 7), cc.get((ch, 7), 100)),
                            pan=cc.get((ti, ch, 10), cc.get((ch, 10), 64))))
    return tracks


def _marks(ev: _MidiEvents, tpq: int, length_beats: float,
           source: str) -> tuple[list[Section], list[Chord]]:
    """Markers as sections and chord texts as chords, each lasting to the next (the last to
    the end); chord texts that do not parse are skipped."""
    sections = []
    marks = sorted(ev.markers.items())
    for i, (tick, name) in enumerate(marks):
        stop = marks[i + 1][0] if i + 1 < len(marks) else None
        stop_beat = stop / tpq if stop is not None else length_beats
        if stop_beat > tick / tpq:
            sections.append(Section(name, tick / tpq, stop_beat - tick / tpq))
    chords = []
    cmarks = sorted(ev.chord_marks.items())
    for i, (tick, sym) in enumerate(cmarks):
        if sym == NO_CHORD:
            continue
        stop_beat = cmarks[i + 1][0] / tpq if i + 1 < len(cmarks) else length_beats
        if stop_beat > tick / tpq:
            try:
                chords.append(Chord.parse(sym, tick / tpq, stop_beat - tick / tpq))
            except Exception:
                log.debug("%s: skipping chord text %r", source, sym)
    return sections, chords


def midi_to_score(mid: Any, *, source: str = "<midi>") -> Score:
    """Convert a ``mido.MidiFile`` to a score."""
    tpq = mid.ticks_per_beat
    if not tpq or tpq <= 0:
        raise InputFileError(source, "MIDI file uses SMPTE timing, which is not supported")

    def beats(tick: int) -> float:
        return tick / tpq

    ev = _read_events(mid, source)
    tracks = _midi_tracks(ev, tpq)
    # A type-1 conductor track's name is the title when it holds no notes.
    title = ""
    if 0 in ev.names and not any(ti == 0 for ti, ch in ev.notes if ev.notes[(ti, ch)]):
        title = ev.names[0]

    def changes(d: dict[int, Any], make: Any, default: Any) -> tuple[Any, ...]:
        out = [make(beats(t), v) for t, v in sorted(d.items())]
        if not out or out[0].beat > 0:
            out.insert(0, make(0.0, default))
        return tuple(out)

    content_end = max((n.end for t in tracks for n in t.notes), default=0.0)
    length_beats = max(beats(ev.end_tick), content_end)
    sections, chords = _marks(ev, tpq, length_beats, source)
    tempos, keys = ev.tempos, ev.keys
    meter_changes = changes(ev.meters, lambda b, v: TimeSignature(b, v[0], v[1]), (4, 4))
    try:
        return _build(tracks, tempos, meter_changes, keys, sections, chords, title,
                      length_beats, changes)
    except ScoreError as exc:  # meter changes off the bar lines of a foreign file, etc.
        log.warning("%s: %s; keeping the first meter only", source, exc)
    try:
        return _build(tracks, tempos, meter_changes[:1], keys, sections, chords, title,
                      length_beats, changes)
    except ScoreError as exc:  # markers and chord texts of a foreign file are not our sections
        log.warning("%s: %s; its markers and chord texts are left out", source, exc)
        return _build(tracks, tempos, meter_changes[:1], keys, [], [], title, length_beats,
                      changes)


def _build(tracks, tempos, meter_changes, keys, sections, chords, title, length_beats, changes):
    return Score(
        tracks=tuple(tracks),
        tempos=changes(tempos, TempoChange, 120.0),
        time_signatures=meter_changes,
        key_signatures=changes(keys, lambda b, v: KeySignature(b, v[0], v[1]), (0, "major")),
        sections=tuple(sections),
        chords=tuple(chords),
        title=title,
        length=length_beats,
    )


def read_midi(path: str | os.PathLike[str], *, allow_empty: bool = False) -> Score:
    """Read a standard MIDI file. A file with no notes is an error unless ``allow_empty``."""
    p = check_input(path, kinds=MIDI_EXTS)
    try:
        score = midi_to_score(_open_midi(p), source=str(p))
    except ScoreError as exc:  # a value no score can hold, in a damaged or hostile file
        raise InputFileError(p, f"not a usable MIDI file ({exc})") from None
    if not allow_empty and score.note_count == 0:
        raise InputFileError(p, "the MIDI file has no notes")
    return score
