"""tunecraft: an offline music studio.

Words, hums, audio and MIDI in; an editable score (MIDI, MusicXML), stems and a mixed, mastered
track out, on a laptop CPU.

>>> import tunecraft
>>> score = tunecraft.load("song.mid")                       # doctest: +SKIP
>>> audio = tunecraft.render(score)                          # doctest: +SKIP
>>> tunecraft.save(score, "song.wav", audio=audio)           # doctest: +SKIP

Heavy modules (music21, the synthesizers) load on first use, so ``import tunecraft`` is quick.
"""

from __future__ import annotations

import logging
from importlib import import_module
from typing import TYPE_CHECKING, Any

from .errors import (
    InputFileError,
    OutputFileError,
    ParameterError,
    RenderError,
    ScoreError,
    TunecraftError,
)


def _distribution_version() -> str:
    """The installed distribution's version: pyproject.toml is the one place it is written
    (read on first use of ``tunecraft.__version__``; importlib.metadata costs 40 ms)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("tunecraft")
    except PackageNotFoundError:  # pragma: no cover  (a source tree that was not installed)
        return "0+unknown"
logging.getLogger(__name__).addHandler(logging.NullHandler())

# Public names served lazily from their modules.
_LAZY = {
    "Score": "tunecraft.score",
    "Track": "tunecraft.score",
    "Note": "tunecraft.score",
    "Section": "tunecraft.score",
    "Chord": "tunecraft.score",
    "TempoChange": "tunecraft.score",
    "TimeSignature": "tunecraft.score",
    "KeySignature": "tunecraft.score",
    "Audio": "tunecraft.audio",
    "generate": "tunecraft.api",
    "story": "tunecraft.api",
    "arrange": "tunecraft.api",
    "continue_music": "tunecraft.api",
    "Take": "tunecraft.take",
    "Composition": "tunecraft.compose.composition",
    "load": "tunecraft.api",
    "save": "tunecraft.api",
    "render": "tunecraft.api",
    "info": "tunecraft.api",
    "convert": "tunecraft.api",
    "render_stems": "tunecraft.api",
    "explain": "tunecraft.api",
    "instruments": "tunecraft.api",
    "ingest": "tunecraft.api",
    "train": "tunecraft.api",
    "sample": "tunecraft.api",
    "speak": "tunecraft.api",
    "listen": "tunecraft.api",
    "convert_voice": "tunecraft.api",
    "sing": "tunecraft.api",
    "voices": "tunecraft.api",
    "save_voice": "tunecraft.api",
    "save_transcript": "tunecraft.api",
    "Bundle": "tunecraft.io.bundle",
    "RenderOptions": "tunecraft.synth",
}

__all__ = [
    "InputFileError",
    "OutputFileError",
    "ParameterError",
    "RenderError",
    "ScoreError",
    "TunecraftError",
    "__version__",
    *_LAZY,
]

if TYPE_CHECKING:  # pragma: no cover  (names re-exported lazily through __getattr__)
    from .api import (  # noqa: F401
        arrange,
        continue_music,
        convert,
        generate,
        info,
        load,
        render,
        save,
        story,
    )
    from .audio import Audio  # noqa: F401
    from .compose.composition import Composition  # noqa: F401
    from .score import (  # noqa: F401
        Chord,
        KeySignature,
        Note,
        Score,
        Section,
        TempoChange,
        TimeSignature,
        Track,
    )
    from .synth import RenderOptions  # noqa: F401
    from .take import Take  # noqa: F401


def __getattr__(name: str) -> Any:
    if name == "__version__":
        globals()[name] = value = _distribution_version()
        return value
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'tunecraft' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value
