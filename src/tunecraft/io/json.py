"""JSON files: atomic UTF-8 writing, and the score summary that ``tunecraft info`` shows.

The summary is also the JSON sidecar written next to generated music, so its keys are stable:
change them only by adding.
"""

from __future__ import annotations

import json
import logging
import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..errors import OutputFileError, ParameterError
from ..score.types import Score, note_name
from .files import atomic_output, check_output

log = logging.getLogger(__name__)

JSON_EXTS: tuple[str, ...] = (".json",)


def _default(obj: Any) -> Any:
    """JSON for the few non-JSON values tunecraft hands over (numpy numbers, paths, scores)."""
    if hasattr(obj, "to_dict"):
        return obj.to_dict()
    if isinstance(obj, os.PathLike):
        return os.fspath(obj)
    if isinstance(obj, (set, frozenset)):
        return sorted(obj, key=str)
    if hasattr(obj, "tolist"):  # numpy arrays and numpy scalars
        return obj.tolist()
    raise TypeError(f"a {type(obj).__name__} cannot be written as JSON")


def to_json_text(data: Mapping[str, Any]) -> str:
    """``data`` as indented JSON text (keys in insertion order, non-ASCII kept as is)."""
    try:
        return json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False,
                          default=_default) + "\n"
    except (TypeError, ValueError) as exc:
        raise ParameterError(f"the data cannot be written as JSON ({exc})") from None


def write_json(data: Mapping[str, Any], path: str | os.PathLike[str]) -> Path:
    """Write ``data`` to ``path`` as UTF-8 JSON, indented by 2, keys in insertion order.

    The file appears atomically. NaN and infinity are refused (they are not JSON).

    Raises:
        OutputFileError: the extension is not ``.json`` or the folder is not writable.
        ParameterError: ``data`` holds something JSON cannot represent.
    """
    p = check_output(path, kinds=JSON_EXTS)
    text = to_json_text(data)
    with atomic_output(p) as tmp:
        try:
            tmp.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise OutputFileError(p, f"could not be written ({exc.strerror or exc})") from None
    log.info("wrote %s", p)
    return p


def finite_or_none(x: float, nd: int = 3) -> float | None:
    """``x`` rounded, or None where it is not a finite number (silence has no loudness)."""
    v = float(x)
    return round(v, nd) if math.isfinite(v) else None


def _r(x: float, nd: int = 3) -> float:
    v = round(float(x), nd)
    return 0.0 if v == 0 or not math.isfinite(v) else v


def score_summary(score: Score) -> dict[str, Any]:
    """A JSON-ready overview of a score: what ``tunecraft info`` prints.

    Keys: title, duration_seconds, duration_beats, bars, bpm, tempos (beat, bar, seconds, bpm),
    key, keys (beat, bar, name, tonic, mode), meter, meters (beat, bar, meter), note_count,
    tracks (name, instrument, program, is_drum, role, notes, lowest/highest as note names and
    lowest_pitch/highest_pitch as MIDI numbers, lyrics), sections (name, start_beat,
    length_beats, bar, start_seconds), chords (count) and chord_symbols (the distinct symbols
    in order of first use). Bars are numbered from 1.
    """
    length = float(score.length or 0.0)
    bar_lines = score.bar_lines()

    def bar_number(beat: float) -> int:
        return sum(1 for b in bar_lines if b <= beat + 1e-9) or 1

    tracks = []
    for t in score.tracks:
        pitches = [n.pitch for n in t.notes]
        tracks.append({
            "name": t.name,
            "instrument": t.instrument,
            "program": t.program,
            "is_drum": t.is_drum,
            "role": t.role,
            "notes": len(t.notes),
            "lowest": note_name(min(pitches)) if pitches else None,
            "highest": note_name(max(pitches)) if pitches else None,
            "lowest_pitch": min(pitches) if pitches else None,
            "highest_pitch": max(pitches) if pitches else None,
            "lyrics": sum(1 for n in t.notes if n.lyric),
        })
    symbols: list[str] = []
    for c in score.chords:
        if c.symbol not in symbols:
            symbols.append(c.symbol)
    return {
        "title": score.title,
        "duration_seconds": _r(score.duration_seconds),
        "duration_beats": _r(length),
        "bars": len(bar_lines),
        "bpm": _r(score.bpm),
        "tempos": [{"beat": _r(t.beat), "bar": bar_number(t.beat),
                    "seconds": _r(score.seconds_at(t.beat)), "bpm": _r(t.bpm)}
                   for t in score.tempos],
        "key": score.key.name,
        "keys": [{"beat": _r(k.beat), "bar": bar_number(k.beat), "name": k.name,
                  "tonic": k.tonic_name, "mode": k.mode}
                 for k in score.key_signatures],
        "meter": str(score.time_signature),
        "meters": [{"beat": _r(m.beat), "bar": bar_number(m.beat), "meter": str(m)}
                   for m in score.time_signatures],
        "note_count": score.note_count,
        "tracks": tracks,
        "sections": [{"name": s.name, "start_beat": _r(s.start), "length_beats": _r(s.length),
                      "bar": bar_number(s.start), "start_seconds": _r(score.seconds_at(s.start))}
                     for s in score.sections],
        "chords": len(score.chords),
        "chord_symbols": symbols,
    }
