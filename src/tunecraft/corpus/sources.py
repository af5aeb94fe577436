"""From what a person names (files, folders, ``corpus:NAME[:N]``) to units of work.

A :class:`Unit` is one source piece: a MIDI, MusicXML or audio file, one tune of an ABC file
(an ABC file may hold many), or one item of a bundled corpus. Its ``hash`` is the SHA-256 of
its content: the file's bytes, or for an ABC tune the file header plus that tune's text. The
hash is the piece's identity: the manifest, resumption and the corpus cache key on it.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ..errors import InputFileError

log = logging.getLogger(__name__)

MIDI_EXTS = (".mid", ".midi", ".smf", ".kar")
MUSICXML_EXTS = (".musicxml", ".xml", ".mxl")
ABC_EXTS = (".abc",)
AUDIO_EXTS = (".wav", ".mp3", ".flac", ".ogg")
SUPPORTED_EXTS = MIDI_EXTS + MUSICXML_EXTS + ABC_EXTS + AUDIO_EXTS
MAX_FILE_BYTES = 1 << 30

_KIND_BY_EXT = {**dict.fromkeys(MIDI_EXTS, "midi"), **dict.fromkeys(MUSICXML_EXTS, "musicxml"),
                **dict.fromkeys(ABC_EXTS, "abc"), **dict.fromkeys(AUDIO_EXTS, "audio")}


@dataclass(frozen=True, slots=True)
class Unit:
    """One source piece to ingest (picklable: it travels to worker processes and Ray tasks).

    ``reader`` says how to read it: ``midi``, ``musicxml``, ``audio``, ``abc`` (ABC text in
    ``data``) or ``music21`` (any file music21 parses: bundled corpus files). ``path`` names the
    file to read unless ``data`` holds its bytes. ``expand_repeats`` is ``"strict"`` (skip the
    piece when music21 cannot expand its repeats), ``"lenient"`` (keep it as written) or
    ``"no"``. ``status``/``reason`` are set for a unit settled without reading (unsupported,
    empty or unreadable files). ``corpus``/``item`` name a bundled corpus item (for its cache).
    """

    source: str
    kind: str
    hash: str
    reader: str = ""
    path: str | None = None
    data: bytes | None = None
    suffix: str = ""
    expand_repeats: str = "no"
    status: str | None = None
    reason: str | None = None
    corpus: str | None = None
    item: str | None = None

    @property
    def id(self) -> str:
        return self.hash[:16]


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# ----------------------------------------------------------------------------------------------
# ABC: one file, many tunes

_X_LINE = re.compile(rb"(?m)^(?=X:)")
_X_NUMBER = re.compile(rb"X:\s*(\d+)")


def split_abc(data: bytes) -> list[tuple[str, bytes]]:
    """Split ABC text into ``(reference, header + tune text)`` per tune.

    The reference is the tune's ``X:`` number when every tune of the file has a distinct one,
    else its position (1-based). Text before the first ``X:`` is the file header, given to
    every tune. A file without ``X:`` lines is one tune.
    """
    parts = _X_LINE.split(data)
    header, tunes = parts[0], [t for t in parts[1:] if t.strip()]
    if not tunes:
        return [("1", data)] if data.strip() else []
    numbers = []
    for t in tunes:
        m = _X_NUMBER.match(t)
        numbers.append(m.group(1).decode().lstrip("0") or "0" if m else None)
    if None in numbers or len(set(numbers)) != len(numbers):
        refs = [str(i) for i in range(1, len(tunes) + 1)]
    else:
        refs = [str(n) for n in numbers]
    return [(r, header + t.rstrip() + b"\n") for r, t in zip(refs, tunes, strict=True)]


def abc_units(data: bytes, source: str, *, kind: str = "abc", expand_repeats: str = "lenient",
              corpus: str | None = None, item: str | None = None) -> list[Unit]:
    """One unit per tune of an ABC file (a single tune keeps the file's own source name)."""
    tunes = split_abc(data)
    units = []
    for ref, text in tunes:
        suffix = f"/{ref}" if corpus else f"#{ref}"
        src = source if len(tunes) == 1 else source + suffix
        it = item if len(tunes) == 1 or item is None else f"{item}/{ref}"
        units.append(Unit(source=src, kind=kind, hash=sha256_bytes(text), reader="abc",
                          data=text, suffix=".abc", expand_repeats=expand_repeats,
                          corpus=corpus, item=it))
    return units


# ----------------------------------------------------------------------------------------------
# Files and folders


def _settled(source: str, kind: str, hash_: str, status: str, reason: str) -> Unit:
    return Unit(source=source, kind=kind, hash=hash_, status=status, reason=reason)


def file_units(path: Path) -> list[Unit]:
    """The units of one file (never raises: problems become settled units)."""
    source = os.fspath(path)
    ext = path.suffix.lower()
    kind = _KIND_BY_EXT.get(ext)
    try:
        size = path.stat().st_size
        if kind is None:
            return [_settled(source, "unsupported", sha256_file(path), "skipped",
                             f"unsupported file type {ext or '(no extension)'!r}")]
        if size == 0:
            return [_settled(source, kind, sha256_bytes(b""), "skipped", "the file is empty")]
        if size > MAX_FILE_BYTES:
            return [_settled(source, kind, sha256_file(path), "skipped",
                             f"the file is too large ({size / 2**20:.0f} MiB)")]
        if kind == "abc":
            data = path.read_bytes()
            units = abc_units(data, source)
            if not units:
                return [_settled(source, kind, sha256_bytes(data), "skipped",
                                 "the ABC file holds no tunes")]
            return units
        return [Unit(source=source, kind=kind, hash=sha256_file(path), reader=kind,
                     path=os.fspath(path.resolve()), suffix=ext)]
    except OSError as exc:
        return [_settled(source, kind or "unsupported",
                         sha256_bytes(b"unreadable:" + source.encode("utf-8", "replace")),
                         "failed", f"cannot be read ({exc.strerror or exc})")]


def walk(folder: Path, *, exclude: tuple[Path, ...] = (),
         _seen: set[Path] | None = None) -> Iterator[Path]:
    """Files under ``folder``, recursively, in sorted order; hidden names and ``exclude``
    (resolved folders, such as the corpus being written) are left out.

    Each real folder and file is visited once: a link back to a folder already walked (a
    self-referencing symlink, two links pointing at each other) is not followed again.
    """
    seen = _seen if _seen is not None else set()
    try:
        real = folder.resolve()
    except (OSError, RuntimeError):  # a link loop that cannot even be resolved
        return
    if real in seen:
        return
    seen.add(real)
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError as exc:
        log.warning("%s: cannot list this folder (%s)", folder, exc.strerror or exc)
        return
    for e in entries:
        if e.name.startswith("."):
            continue
        p = Path(e.path)
        try:
            if e.is_dir():
                if p.resolve() in exclude:
                    continue
                yield from walk(p, exclude=exclude, _seen=seen)
            elif e.is_file():
                target = p.resolve()
                if target not in seen:
                    seen.add(target)
                    yield p
        except (OSError, RuntimeError):
            continue


def path_units(source: str | os.PathLike[str], *, exclude: tuple[Path, ...] = ()) -> list[Unit]:
    """The units of a file or folder source.

    Raises:
        InputFileError: the path does not exist.
    """
    p = Path(source)
    if not p.exists():
        raise InputFileError(p, "no such file or folder")
    if p.is_dir():
        units: list[Unit] = []
        for f in walk(p, exclude=exclude):
            units.extend(file_units(f))
        if not any(u.status is None for u in units):
            log.warning("%s: no music files found here", p)
        return units
    return file_units(p)
