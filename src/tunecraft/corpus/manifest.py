"""The corpus folder on disk: ``manifest.jsonl`` and ``pieces/<id>.mid``.

The manifest is a log of JSON lines, one per source piece, appended as work completes. A line
is written whole and flushed, so an interrupted run leaves at worst a partial last line, which
readers ignore (and the next writer cuts off). Reading folds the log into the current state:

* a later line for the same ``(hash, source)`` replaces an earlier one (a retried failure);
* once a content hash is ``ok``, older skipped/failed lines for that hash are dropped.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from ..errors import InputFileError, OutputFileError

log = logging.getLogger(__name__)

MANIFEST_NAME = "manifest.jsonl"
PIECES_DIR = "pieces"
LOCK_NAME = ".ingest.lock"
STATUSES = ("ok", "skipped", "failed")
KINDS = ("midi", "musicxml", "abc", "audio", "corpus", "unsupported")

# Key order of a manifest line (fields absent from an entry are left out).
FIELD_ORDER = ("id", "source", "hash", "status", "reason", "path", "duration", "notes", "key",
               "tempo", "tracks", "kind")


def piece_path(corpus_dir: str | os.PathLike[str], piece_id: str) -> Path:
    return Path(corpus_dir) / PIECES_DIR / f"{piece_id}.mid"


def ordered(entry: dict[str, Any]) -> dict[str, Any]:
    """The entry with its keys in manifest order (unknown keys last, sorted)."""
    out = {k: entry[k] for k in FIELD_ORDER if k in entry}
    out.update({k: entry[k] for k in sorted(entry) if k not in out})
    return out


def _read_lines(path: Path) -> list[dict[str, Any]]:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise InputFileError(path, f"cannot be read ({exc.strerror or exc})") from None
    lines = raw.split(b"\n")
    if lines and lines[-1].strip():  # no newline at the end: an interrupted write
        log.warning("%s: ignoring an incomplete last line (an interrupted run)", path)
    out = []
    for i, line in enumerate(lines[:-1], 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except ValueError:
            log.warning("%s: line %d is not valid JSON; ignored", path, i)
            continue
        if isinstance(obj, dict) and isinstance(obj.get("hash"), str):
            out.append(obj)
        else:
            log.warning("%s: line %d is not a manifest entry; ignored", path, i)
    return out


def fold(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Fold a manifest log into its current entries (see the module docstring)."""

    def key(r: dict[str, Any]) -> tuple[str, str]:
        return r["hash"], str(r.get("source", ""))

    latest: dict[tuple[str, str], int] = {}
    latest_ok: dict[str, int] = {}  # one ok entry per content hash: the last one
    for i, r in enumerate(records):
        latest[key(r)] = i
        if r.get("status") == "ok":
            latest_ok[r["hash"]] = i
    out = []
    for i, r in enumerate(records):
        if r.get("status") == "ok":
            if latest_ok[r["hash"]] == i:
                out.append(r)
        elif latest[key(r)] == i and r["hash"] not in latest_ok:
            out.append(r)
    return out


def read_manifest(corpus_dir: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """The entries of a corpus manifest, in the order they were written.

    Raises:
        InputFileError: the folder does not exist or holds no ``manifest.jsonl``.
    """
    d = Path(corpus_dir)
    if not d.exists():
        raise InputFileError(d, "no such corpus folder")
    if not d.is_dir():
        raise InputFileError(d, "is a file, not a corpus folder")
    m = d / MANIFEST_NAME
    if not m.is_file():
        raise InputFileError(d, f"not a tunecraft corpus (no {MANIFEST_NAME}); make one with "
                                "`tunecraft ingest SOURCES -o FOLDER`")
    return fold(_read_lines(m))


def read_manifest_if_any(corpus_dir: Path) -> list[dict[str, Any]]:
    """Like :func:`read_manifest` for a folder that may not be a corpus yet (then ``[]``)."""
    m = corpus_dir / MANIFEST_NAME
    return fold(_read_lines(m)) if m.is_file() else []


class ManifestWriter:
    """Appends complete, flushed lines to a manifest; holds the corpus lock while open."""

    def __init__(self, corpus_dir: Path) -> None:
        self.path = corpus_dir / MANIFEST_NAME
        self._lock_path = corpus_dir / LOCK_NAME
        self._fh: IO[bytes] | None = None
        self._lock: IO[bytes] | None = None

    def __enter__(self) -> ManifestWriter:
        try:
            self._lock = open(self._lock_path, "ab")
        except OSError as exc:
            raise OutputFileError(self._lock_path.parent, f"cannot write to the corpus folder "
                                                          f"({exc.strerror or exc})") from None
        try:
            import fcntl
        except ImportError:  # pragma: no cover - Windows: no advisory locks
            fcntl = None  # type: ignore[assignment]
        if fcntl is not None:
            try:
                fcntl.flock(self._lock.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                self._lock.close()
                raise OutputFileError(self._lock_path.parent, "another ingest is writing to "
                                                              "this corpus; wait for it to "
                                                              "finish") from None
        self._cut_partial_line()
        self._fh = open(self.path, "ab")
        return self

    def _cut_partial_line(self) -> None:
        """Drop an incomplete last line left by an interrupted run, so appends start clean."""
        try:
            with open(self.path, "r+b") as f:
                size = f.seek(0, os.SEEK_END)
                if size == 0:
                    return
                f.seek(size - 1)
                if f.read(1) == b"\n":
                    return
                keep, pos, chunk = 0, size, 1 << 16
                while pos > 0:
                    start = max(pos - chunk, 0)
                    f.seek(start)
                    block = f.read(pos - start)
                    j = block.rfind(b"\n")
                    if j >= 0:
                        keep = start + j + 1
                        break
                    pos = start
                log.warning("%s: removing an incomplete last line (an interrupted run)",
                            self.path)
                f.truncate(keep)
        except FileNotFoundError:
            return

    def append(self, entry: dict[str, Any]) -> None:
        assert self._fh is not None
        line = json.dumps(ordered(entry), ensure_ascii=False, separators=(", ", ": "))
        self._fh.write(line.encode("utf-8") + b"\n")
        self._fh.flush()

    def __exit__(self, *exc: object) -> None:
        if self._fh is not None:
            with contextlib.suppress(OSError):
                self._fh.flush()
                os.fsync(self._fh.fileno())
            self._fh.close()
        if self._lock is not None:
            self._lock.close()  # releases the flock


def iter_ok(entries: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    return (e for e in entries if e.get("status") == "ok")
