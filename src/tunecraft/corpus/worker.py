"""The per-piece function every engine runs: read one source piece, describe it, write MIDI.

:func:`process_unit` never raises for a bad input: it returns a manifest entry whose status is
``ok``, ``skipped`` or ``failed``, and for ``ok`` the piece as tunecraft-written MIDI bytes
(``tunecraft.io.midi.score_to_midi``, the same bytes ``write_midi`` puts in a file). It reads
from ``unit.path``, or from ``unit.data`` when the bytes were shipped to it (Ray tasks on other
machines), and writes nothing: the driver owns the corpus folder.
"""

from __future__ import annotations

import contextlib
import io
import logging
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..errors import TunecraftError
from .sources import Unit

log = logging.getLogger(__name__)

MIDI_KEY = "_midi"  # the result key holding the piece's MIDI bytes (never written to manifests)


#: Seconds one piece may take to read, by reader (a few ABC tunes send music21 into
#: minutes-long loops). Enforced with SIGALRM where the reader runs in a main thread.
TIME_LIMITS: dict[str, float] = {"audio": 900.0, "default": 60.0}


class _Skip(Exception):
    """The piece is readable but not usable (no notes, repeats that cannot be expanded)."""


class _Timeout(BaseException):
    """Raised inside a reader that ran out of time (a BaseException: parsers that catch
    Exception must not swallow it)."""


@contextlib.contextmanager
def _time_limit(seconds: float) -> Iterator[None]:
    import signal
    import threading

    if (not hasattr(signal, "setitimer") or seconds <= 0
            or threading.current_thread() is not threading.main_thread()
            or signal.getitimer(signal.ITIMER_REAL)[0] > 0):  # the caller's own timer: leave it
        yield
        return

    def expire(signum: int, frame: Any) -> None:
        raise _Timeout

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def base_entry(unit: Unit) -> dict[str, Any]:
    return {"id": unit.id, "source": unit.source, "hash": unit.hash, "kind": unit.kind}


def settled_entry(unit: Unit) -> dict[str, Any]:
    return {**base_entry(unit), "status": unit.status, "reason": unit.reason}


@contextlib.contextmanager
def _local_file(unit: Unit) -> Iterator[Path]:
    """A path holding the unit's bytes: its own file, or a temporary copy of shipped data
    under the same name (readers may take a title from the file name)."""
    if unit.data is None:
        assert unit.path is not None
        yield Path(unit.path)
        return
    with tempfile.TemporaryDirectory(prefix="tunecraft-ingest-") as d:
        name = Path(unit.path).name if unit.path else ""
        p = Path(d) / (name if name.lower().endswith(unit.suffix) else f"piece{unit.suffix}")
        p.write_bytes(unit.data)
        yield p


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def _has_repeats(m21: Any) -> bool:
    """Whether a stream has repeat bars, voltas or D.C./D.S. marks (expanding copies it all)."""
    from music21 import bar, repeat, spanner

    marks = (bar.Repeat, repeat.RepeatExpression, spanner.RepeatBracket)
    return any(True for _ in m21.recurse().getElementsByClass(marks))


def _from_music21(m21: Any, unit: Unit) -> Any:
    """music21 stream -> Score, expanding repeats as the unit asks."""
    from music21 import stream

    from ..io.musicxml import music21_to_score

    if isinstance(m21, stream.Opus):
        scores = list(m21.scores)
        if not scores:
            raise _Skip("holds no music")
        m21 = scores[0]
    if not isinstance(m21, stream.Score):
        s = stream.Score()
        s.insert(0, m21)
        m21 = s
    if unit.expand_repeats != "no" and _has_repeats(m21):
        try:
            m21 = m21.expandRepeats()
        except Exception as exc:
            why = str(exc).strip().splitlines()[0][:160] if str(exc).strip() else ""
            if unit.expand_repeats == "strict":
                raise _Skip(f"its repeats could not be expanded ({type(exc).__name__}"
                            f"{': ' + why if why else ''})") from None
            log.debug("%s: repeats not expanded (%s); kept as written", unit.source, exc)
    return music21_to_score(m21, source=unit.source)


def _read(unit: Unit) -> tuple[Any, float | None]:
    """The unit's Score and, for audio, the tempo its transcription found."""
    if unit.reader == "midi":
        from ..io.midi import read_midi

        with _local_file(unit) as p:
            return read_midi(p, allow_empty=True), None
    if unit.reader == "musicxml":
        from ..io.musicxml import read_musicxml

        with _local_file(unit) as p:
            return read_musicxml(p), None
    if unit.reader == "audio":
        try:
            from ..transcribe import transcribe
        except ImportError as exc:
            raise TunecraftError(f"audio transcription is not available in this "
                                 f"installation ({exc})") from None
        with _local_file(unit) as p:
            t = transcribe(p)
        return t.score, float(t.bpm) if getattr(t, "bpm", None) else None
    if unit.reader == "abc":
        from music21 import converter

        assert unit.data is not None
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            m21 = converter.parseData(_decode(unit.data), format="abc")
            return _from_music21(m21, unit), None
    if unit.reader == "music21":
        from music21 import converter

        with _local_file(unit) as p, warnings.catch_warnings():
            warnings.simplefilter("ignore")
            m21 = converter.parse(p, forceSource=True)
            return _from_music21(m21, unit), None
    raise TunecraftError(f"no reader for {unit.reader!r}")  # pragma: no cover


_PUNCTUATION = str.maketrans({"\u2013": "-", "\u2014": "-", "\u2018": "'", "\u2019": "'",
                              "\u201c": '"', "\u201d": '"', "\u2026": "...", "\u00a0": " "})


def _latin1(text: str) -> str:
    """Text a standard MIDI file can hold (its text events are Latin-1)."""
    import unicodedata

    text = text.translate(_PUNCTUATION)
    try:
        text.encode("latin-1")
        return text
    except UnicodeEncodeError:
        pass
    out = []
    for ch in unicodedata.normalize("NFKC", text):
        try:
            ch.encode("latin-1")
            out.append(ch)
        except UnicodeEncodeError:
            base = unicodedata.normalize("NFKD", ch).encode("latin-1", "ignore").decode("latin-1")
            out.append(base or "?")
    return "".join(out)


def midi_safe(score: Any) -> Any:
    """The score with every text (title, track and section names, lyrics) in Latin-1."""
    from dataclasses import replace

    texts = [score.title, *(t.name for t in score.tracks), *(s.name for s in score.sections),
             *(n.lyric for t in score.tracks for n in t.notes if n.lyric)]
    if all(_latin1(x) == x for x in texts):
        return score
    tracks = tuple(
        replace(t, name=_latin1(t.name),
                notes=tuple(replace(n, lyric=_latin1(n.lyric)) if n.lyric else n
                            for n in t.notes))
        for t in score.tracks)
    sections = tuple(replace(s, name=_latin1(s.name)) for s in score.sections)
    return score.replace(title=_latin1(score.title), tracks=tracks, sections=sections,
                         length=score.length)


def describe(score: Any, tempo: float | None = None) -> dict[str, Any]:
    """Manifest statistics of a score: duration, notes, key, tempo, tracks."""
    from ..analysis import key_estimate
    from ..score.types import KeySignature

    try:
        tonic, mode, _ = key_estimate(score)
        key: str | None = KeySignature(0.0, tonic, mode).name
    except TunecraftError:  # drums only
        key = None
    return {"duration": round(score.duration_seconds, 3), "notes": score.note_count,
            "key": key, "tempo": round(tempo if tempo else score.bpm, 2),
            "tracks": sum(1 for t in score.tracks if t.notes)}


def process_unit(unit: Unit) -> dict[str, Any]:
    """Ingest one source piece; see the module docstring. Safe to run in any process."""
    entry = base_entry(unit)
    if unit.status is not None:
        return settled_entry(unit)
    limit = TIME_LIMITS.get(unit.reader, TIME_LIMITS["default"])
    try:
        try:
            with _time_limit(limit):
                score, tempo = _read(unit)
        except _Timeout:
            raise _Skip(f"it took more than {limit:g} s to read; left out") from None
        if score.note_count == 0:
            raise _Skip("it has no notes")
        stats = describe(score, tempo)
        from ..io.midi import score_to_midi

        buf = io.BytesIO()
        score_to_midi(midi_safe(score)).save(file=buf)
    except _Skip as exc:
        return {**entry, "status": "skipped", "reason": str(exc)}
    except TunecraftError as exc:
        reason = getattr(exc, "problem", None) or str(exc)
        return {**entry, "status": "failed", "reason": str(reason)}
    except Exception as exc:  # a parser's bug on a strange file must not stop the run
        text = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else ""
        log.debug("%s: %r", unit.source, exc, exc_info=True)
        return {**entry, "status": "failed",
                "reason": f"could not be read ({type(exc).__name__}{': ' + text if text else ''})"}
    return {**entry, "status": "ok", "path": f"pieces/{unit.id}.mid", **stats,
            MIDI_KEY: buf.getvalue()}

