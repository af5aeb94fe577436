"""Score files by their extension: MIDI, MusicXML (plain or compressed) and tunecraft JSON.

:func:`read_score` and :func:`write_score` are the one dispatch every layer uses (the API, the
evaluation, the corpus); audio files are refused with a pointer to ``transcribe``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import InputFileError, OutputFileError
from .audio import AUDIO_READ_EXTS

if TYPE_CHECKING:
    from ..score import Score

SCORE_EXTS = (".mid", ".midi", ".musicxml", ".xml", ".mxl", ".json")


def extension(path: str | os.PathLike[str]) -> str:
    """A file's extension in lower case, with the dot ("" when there is none)."""
    return Path(path).suffix.lower()


def read_score(path: str | os.PathLike[str], *, allow_empty: bool = False) -> Score:
    """Read a score from MIDI (.mid), MusicXML (.musicxml, .xml, .mxl) or tunecraft JSON.

    Raises :class:`~tunecraft.errors.InputFileError` for a missing, empty, corrupt or unknown
    file, and for a score without notes unless ``allow_empty``.
    """
    ext = extension(path)
    if ext in (".mid", ".midi", ".smf", ".kar"):
        from .midi import read_midi

        return read_midi(path, allow_empty=allow_empty)
    if ext in (".musicxml", ".xml", ".mxl"):
        from .musicxml import read_musicxml

        score = read_musicxml(path)
    elif ext == ".json":
        score = _read_score_json(path)
    elif ext in AUDIO_READ_EXTS:
        raise InputFileError(path, "is audio, not a score; transcribe it first")
    else:
        raise InputFileError(path, f"unknown file type {ext or '(no extension)'!r}; expected "
                                   f"one of {', '.join(SCORE_EXTS)}")
    if not allow_empty and score.note_count == 0:
        raise InputFileError(path, "the score has no notes")
    return score


def _read_score_json(path: str | os.PathLike[str]) -> Score:
    import json

    from ..errors import ScoreError
    from ..score import Score
    from .files import check_input, check_music_size

    p = check_input(path, kinds=(".json",))
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputFileError(p, f"not valid JSON ({exc})") from None
    except RecursionError:
        raise InputFileError(p, "not a tunecraft score (nested too deeply)") from None
    if isinstance(data, Mapping) and isinstance(data.get("score"), Mapping):
        data = data["score"]  # a bundle's JSON sidecar holds the score under "score"
    if not isinstance(data, Mapping):
        raise InputFileError(p, "not a tunecraft score")
    try:
        score = Score.from_dict(data)
    except ScoreError as exc:
        raise InputFileError(p, str(exc)) from None
    except (TypeError, ValueError, KeyError, AttributeError, RecursionError) as exc:
        raise InputFileError(p, f"not a tunecraft score ({type(exc).__name__})") from None
    check_music_size(p, beats=float(score.length or 0.0), notes=score.note_count)
    return score


def write_score(score: Score, path: str | os.PathLike[str]) -> Path:
    """Write only the score: .mid, .musicxml/.xml/.mxl or .json, chosen by the extension."""
    ext = extension(path)
    if ext in (".mid", ".midi"):
        from .midi import write_midi

        return write_midi(score, path)
    if ext in (".musicxml", ".xml", ".mxl"):
        from .musicxml import write_musicxml

        return Path(write_musicxml(score, path))
    if ext == ".json":
        from .bundle import bundle_json
        from .json import write_json

        return Path(write_json(bundle_json(score), path))
    raise OutputFileError(path, f"unknown score file type {ext or '(no extension)'!r}; "
                                f"expected .mid, .musicxml or .json")
