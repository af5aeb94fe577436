"""One exception hierarchy for everything tunecraft reports to a person.

Every error a user can cause (a missing file, a corrupt MIDI, an impossible value) is a
:class:`TunecraftError`. Its message is one line a musician understands; the CLI prints it and
exits with code 2. Anything else escaping the library is a bug.
"""

from __future__ import annotations


class TunecraftError(Exception):
    """Base class of every error tunecraft raises on purpose."""

    exit_code = 2


class ScoreError(TunecraftError, ValueError):
    """A score breaks a rule: a negative duration, a pitch outside 0-127, overlapping sections."""


class InputFileError(TunecraftError, OSError):
    """A file to read is missing, empty, corrupt, too large or of an unknown kind."""

    def __init__(self, path: object, problem: str) -> None:
        self.path = str(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")


class OutputFileError(TunecraftError, OSError):
    """A file cannot be written: unwritable folder, unknown extension."""

    def __init__(self, path: object, problem: str) -> None:
        self.path = str(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")


class RenderError(TunecraftError, RuntimeError):
    """Audio could not be rendered: no usable synthesizer, a broken SoundFont."""


class ParameterError(TunecraftError, ValueError):
    """A value given by the caller is out of range or of the wrong kind."""
