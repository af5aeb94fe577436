"""File plumbing shared by every reader and writer: input checks and atomic output.

Readers call :func:`check_input` first, so a missing, empty, oversized or unreadable file becomes
one clear :class:`~tunecraft.errors.InputFileError`. Writers use :func:`atomic_output`: the data
goes to a temporary file in the target folder and is renamed into place only when complete, so
a failure never leaves a half-written file behind.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..errors import InputFileError, OutputFileError, TunecraftError

MAX_INPUT_BYTES = 1 << 30  # 1 GiB: larger inputs are refused rather than read into memory
#: The most music a score file may hold. A tiny file can claim hours of silence (a 78-byte MIDI
#: with huge delta times) or a flood of notes: both are refused while reading, before any work.
MAX_SCORE_BEATS = 20_000  # about 2 h 45 min at 120 bpm
MAX_SCORE_NOTES = 100_000


def check_music_size(source: object, *, beats: float = 0.0, notes: int = 0) -> None:
    """Refuse a score longer than :data:`MAX_SCORE_BEATS` or with more than
    :data:`MAX_SCORE_NOTES` notes, naming the limit."""
    if beats > MAX_SCORE_BEATS:
        raise InputFileError(source, f"the music is too long ({beats:,.0f} beats; the limit "
                                     f"is {MAX_SCORE_BEATS:,} beats, about 2 h 45 min at "
                                     f"120 bpm)")
    if notes > MAX_SCORE_NOTES:
        raise InputFileError(source, f"the music has too many notes (more than "
                                     f"{MAX_SCORE_NOTES:,}, the limit)")


def check_input(path: str | os.PathLike[str], *, kinds: tuple[str, ...] | None = None,
                max_bytes: int = MAX_INPUT_BYTES) -> Path:
    """Return ``path`` as a Path after checking it names a readable, non-empty file.

    ``kinds`` lists accepted extensions (lower case, with the dot); others are refused.
    """
    p = Path(path)
    if kinds is not None and p.suffix.lower() not in kinds:
        raise InputFileError(p, f"unknown file type {p.suffix or '(no extension)'!r}; "
                                f"expected one of {', '.join(kinds)}")
    try:
        st = p.stat()
    except FileNotFoundError:
        raise InputFileError(p, "no such file") from None
    except OSError as exc:
        raise InputFileError(p, f"cannot be read ({exc.strerror or exc})") from None
    if p.is_dir():
        raise InputFileError(p, "is a folder, not a file")
    if st.st_size == 0:
        raise InputFileError(p, "the file is empty")
    if st.st_size > max_bytes:
        raise InputFileError(p, f"the file is too large ({st.st_size / 2**20:.0f} MiB; "
                                f"the limit is {max_bytes / 2**20:.0f} MiB)")
    if not os.access(p, os.R_OK):
        raise InputFileError(p, "permission denied")
    return p


def _existing_folder(folder: Path) -> Path:
    """The nearest folder at or above ``folder`` that exists."""
    p = folder
    while not p.exists() and p.parent != p:
        p = p.parent
    return p


def check_output(path: str | os.PathLike[str], *, kinds: tuple[str, ...] | None = None) -> Path:
    """Check an output path before any work is done: known extension, writable folder.

    Nothing is created here: a command refused later leaves no empty folder behind. Missing
    folders are made by :func:`ensure_folder` when the file is written.
    """
    p = Path(path)
    if kinds is not None and p.suffix.lower() not in kinds:
        raise OutputFileError(p, f"unknown file type {p.suffix or '(no extension)'!r}; "
                                 f"expected one of {', '.join(kinds)}")
    folder = p.parent if str(p.parent) else Path(".")
    if p.is_dir():
        raise OutputFileError(p, "is a folder; give a file name")
    base = _existing_folder(folder)
    if not base.is_dir():
        raise OutputFileError(p, f"{base} is not a folder")
    if not os.access(base, os.W_OK | os.X_OK):
        raise OutputFileError(p, f"folder {base} is not writable")
    return p


def ensure_folder(folder: Path, *, for_path: Path) -> Path | None:
    """Make ``folder`` (and its parents) if missing; return the topmost folder it created."""
    if folder.is_dir():
        return None
    top = folder
    while not top.parent.exists() and top.parent != top:
        top = top.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputFileError(for_path, f"cannot create folder {folder} "
                                        f"({exc.strerror or exc})") from None
    return top


def _default_mode() -> int:
    """The mode a plain ``open(path, "w")`` would give: 0o666 less the process umask."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def _publish(tmp: Path, final: Path) -> None:
    """Give a finished temporary file ordinary permissions and move it into place."""
    os.chmod(tmp, _default_mode())  # mkstemp makes files private (0600)
    os.replace(tmp, final)


@contextlib.contextmanager
def atomic_output(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success it replaces ``path`` atomically.

    The temporary name keeps the real extension (writers choose formats by it).
    """
    p = check_output(path)
    folder = p.parent if str(p.parent) else Path(".")
    created = ensure_folder(folder, for_path=p)
    tmp_path: Path | None = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{p.stem}.", suffix=f".part{p.suffix}", dir=folder)
        os.close(fd)
        tmp_path = Path(tmp)
        yield tmp_path
        _publish(tmp_path, p)
    except BaseException as exc:
        if tmp_path is not None:
            with contextlib.suppress(OSError):
                tmp_path.unlink()
        if created is not None:
            remove_empty_folders(created, stop=folder)
        if isinstance(exc, OSError) and not isinstance(exc, TunecraftError):
            raise OutputFileError(p, f"cannot be written ({exc.strerror or exc})") from None
        raise


@contextlib.contextmanager
def atomic_outputs(paths: list[Path]) -> Iterator[list[Path]]:
    """Like :func:`atomic_output` for several files that must appear together or not at all."""
    for p in paths:
        check_output(p)
    created = [(top, folder) for p in paths
               for folder in [p.parent if str(p.parent) else Path(".")]
               if (top := ensure_folder(folder, for_path=p)) is not None]
    tmps: list[Path] = []
    try:
        for p in paths:
            fd, tmp = tempfile.mkstemp(prefix=f".{p.stem}.", suffix=f".part{p.suffix}",
                                       dir=p.parent)
            os.close(fd)
            tmps.append(Path(tmp))
        yield tmps
        for tmp, p in zip(tmps, paths, strict=True):
            _publish(tmp, p)
    except BaseException as exc:
        for tmp in tmps:
            with contextlib.suppress(OSError):
                tmp.unlink()
        for top, folder in created:  # as atomic_output: no empty folder left by a failure
            remove_empty_folders(top, stop=folder)
        if isinstance(exc, OSError) and not isinstance(exc, TunecraftError):
            raise OutputFileError(paths[0], f"cannot be written ({exc.strerror or exc})") \
                from None
        raise


def remove_empty_folders(top: Path, *, stop: Path) -> None:
    """Remove ``stop`` and its parents up to ``top`` while they are empty (what a failed write
    created)."""
    p = stop
    while True:
        with contextlib.suppress(OSError):
            p.rmdir()
        if p == top or p.parent == p:
            return
        p = p.parent


@contextlib.contextmanager
def native_stderr_to_log(logger: Any, what: str) -> Iterator[None]:
    """Send what C libraries print straight to file descriptor 2 (libmpg123's "Warning: Xing
    stream size off", GLib's CRITICAL lines from FluidSynth) to ``logger.debug``, so the user
    sees tunecraft's one line and nothing else. A no-op where fd 2 cannot be redirected."""
    import sys

    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError, AttributeError):
        yield
        return
    with tempfile.TemporaryFile() as tmp:
        os.dup2(tmp.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            tmp.seek(0)
            text = tmp.read(4096).decode("utf-8", "replace").strip()
            if text:
                logger.debug("%s said: %s", what, " | ".join(text.splitlines()))
