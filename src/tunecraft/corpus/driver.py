"""``ingest``: files, folders and bundled corpora into a corpus folder; ``load_corpus`` back.

The driver (this module) lists the sources as units, settles what it can without reading
(already ingested, duplicates, unsupported or empty files, bundled-corpus cache hits), runs
the rest through an engine, and writes results **in input order** as they become available:
each piece to ``pieces/<id>.mid`` first, then its manifest line. The local and Ray engines
therefore give byte-identical manifests.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import InputFileError, OutputFileError, ParameterError
from .builtin import CorpusCache, corpus_units, is_corpus_source, parse_corpus_source
from .engines import check_engine, run_units
from .manifest import (
    PIECES_DIR,
    STATUSES,
    ManifestWriter,
    piece_path,
    read_manifest,
    read_manifest_if_any,
)
from .sources import SUPPORTED_EXTS, Unit, path_units
from .worker import MIDI_KEY, settled_entry

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class IngestReport:
    """What one ingest did.

    ``added``/``skipped``/``failed`` count this run's pieces by outcome; ``already`` counts
    pieces whose content was in the corpus before (or earlier in the same run) and were not
    redone. ``entries`` holds this run's manifest entries (added, skipped and failed pieces),
    in input order.
    """

    added: int
    skipped: int
    failed: int
    already: int
    entries: tuple[dict[str, Any], ...]
    seconds: float = 0.0

    @property
    def total(self) -> int:
        return self.added + self.skipped + self.failed + self.already

    def summary(self) -> str:
        return (f"{self.added} added, {self.already} already in the corpus, {self.skipped} "
                f"skipped, {self.failed} failed ({self.seconds:.1f} s)")


def _check_out_dir(out_dir: str | os.PathLike[str]) -> Path:
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise OutputFileError(out, "is a file; give a folder for the corpus")
    pieces = out / PIECES_DIR
    if pieces.exists() and not pieces.is_dir():
        raise OutputFileError(pieces, "is a file; a corpus keeps its pieces in this folder")
    return out


def _make_out_dir(out: Path) -> None:
    try:
        (out / PIECES_DIR).mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputFileError(out, f"cannot create the corpus folder "
                                   f"({exc.strerror or exc})") from None
    if not os.access(out, os.W_OK | os.X_OK):
        raise OutputFileError(out, "the corpus folder is not writable")


def _list_units(sources: Sequence[str | os.PathLike[str]], out: Path) -> list[Unit]:
    # Check every source before listing any, so a typo fails fast.
    specs: list[tuple[str, int | None] | Path] = []
    for s in sources:
        if is_corpus_source(s):
            specs.append(parse_corpus_source(str(s)))
        else:
            p = Path(s)
            if not p.exists():
                raise InputFileError(p, "no such file or folder")
            specs.append(p)
    exclude = (out.resolve(),)
    units: list[Unit] = []
    for spec in specs:
        if isinstance(spec, Path):
            units.extend(path_units(spec, exclude=exclude))
        else:
            units.extend(corpus_units(*spec))
    if not any(u.status is None for u in units):
        where = os.fspath(sources[0]) if len(sources) == 1 else ", ".join(map(os.fspath,
                                                                              sources))
        raise InputFileError(where, f"no music files found (looked for "
                                    f"{', '.join(SUPPORTED_EXTS)})")
    return units


def ingest(sources: Sequence[str | os.PathLike[str]], out_dir: str | os.PathLike[str], *,
           engine: str = "local", workers: int | None = None,
           progress: Progress | None = None) -> IngestReport:
    """Ingest music into the corpus folder ``out_dir`` (created if needed; resumable).

    Args:
        sources: files, folders (searched recursively) and ``corpus:NAME[:N]`` names (see
            :data:`BUILTIN_CORPORA`). MIDI, MusicXML, ABC (each tune a piece) and audio
            (transcribed) are read; other files are recorded as skipped.
        out_dir: the corpus folder: ``manifest.jsonl`` and ``pieces/<id>.mid``.
        engine: ``"local"`` (a process pool) or ``"ray"`` (Ray tasks; ``RAY_ADDRESS`` picks a
            cluster). Both give the same manifest.
        workers: processes (local) or CPUs of a local Ray; default one per core.
        progress: called as ``progress(done, total)`` as pieces finish.

    Raises:
        InputFileError: a source does not exist, or no music files were found at all.
        ParameterError: an unknown corpus name, engine or worker count.
        OutputFileError: ``out_dir`` is a file, cannot be created, or is being written by
            another ingest.
    """
    t0 = time.perf_counter()
    if isinstance(sources, (str, os.PathLike)):
        sources = [sources]
    sources = list(sources)
    if not sources:
        raise ParameterError("give at least one file, folder or corpus:NAME to ingest")
    n_workers = check_engine(engine, workers)
    out = _check_out_dir(out_dir)
    units = _list_units(sources, out)
    _make_out_dir(out)
    total = len(units)

    with ManifestWriter(out) as writer:
        existing = read_manifest_if_any(out)
        run = _Run(units, out, writer, existing)
        done = total - len(run.todo)
        if progress is not None:
            progress(done, total)
        run.flush()
        for j, res in run_units([units[i] for i in run.todo], engine=engine, workers=n_workers):
            run.finished(run.todo[j], res)
            done += 1
            if progress is not None:
                progress(done, total)
            run.flush()
        run.flush()

    counts = run.counts
    report = IngestReport(added=counts["ok"], skipped=counts["skipped"],
                          failed=counts["failed"], already=counts["already"],
                          entries=tuple(run.entries), seconds=time.perf_counter() - t0)
    log.info("ingest into %s: %s", out, report.summary())
    return report


class _Run:
    """One ingest's bookkeeping: what each unit's result is (settled, already in the corpus,
    a duplicate of an earlier unit, cached, or still to do), and the manifest written in the
    units' order as results arrive, whatever order the engine finishes them in."""

    def __init__(self, units: Sequence[Any], out: Path, writer: ManifestWriter,
                 existing: Sequence[dict[str, Any]]) -> None:
        self.units, self.out, self.writer = units, out, writer
        self.ok = {e["hash"]: e for e in existing
                   if e.get("status") == "ok" and piece_path(out, e.get("id", "")).is_file()}
        self.latest = {(e["hash"], e.get("source")): e for e in existing}
        self.caches: dict[str, CorpusCache] = {}
        total = len(units)
        self.results: list[dict[str, Any] | None] = [None] * total
        self.state: list[str] = [""] * total  # already | dup | new
        self.first: dict[str, int] = {}
        self.todo: list[int] = []
        self.counts = {"ok": 0, "skipped": 0, "failed": 0, "already": 0}
        self.entries: list[dict[str, Any]] = []
        self.cursor = 0
        for i, u in enumerate(units):
            self._sort(i, u)

    def _sort(self, i: int, u: Any) -> None:
        if u.status is not None:
            self.state[i], self.results[i] = "new", settled_entry(u)
        elif u.hash in self.ok:
            self.state[i], self.results[i] = "already", self.ok[u.hash]
        elif u.hash in self.first:
            self.state[i] = "dup"
        else:
            self.first[u.hash] = i
            self.state[i] = "new"
            hit = None
            if u.corpus is not None:
                cache = self.caches.get(u.corpus) or self.caches.setdefault(
                    u.corpus, CorpusCache(u.corpus))
                hit = cache.lookup(u)
            if hit is not None:
                entry, midi = hit
                self.results[i] = {**entry, MIDI_KEY: midi} if midi is not None else entry
            else:
                self.todo.append(i)

    def finished(self, i: int, res: dict[str, Any]) -> None:
        """A unit came back from the engine (and goes into its corpus's cache)."""
        self.results[i] = res
        u = self.units[i]
        if u.corpus is not None and u.corpus in self.caches:
            self.caches[u.corpus].store({k: v for k, v in res.items() if k != MIDI_KEY},
                                        res.get(MIDI_KEY))

    def flush(self) -> None:
        """Write every result that is ready, in the units' order, up to the first that is not."""
        results, state, units = self.results, self.state, self.units
        while self.cursor < len(units):
            i = self.cursor
            if state[i] == "dup":
                src = results[self.first[units[i].hash]]
                if src is None:
                    return
                if src["status"] == "ok":
                    state[i] = "already"
                else:
                    results[i] = {**src, "source": units[i].source}
            elif results[i] is None:
                return
            self.cursor += 1
            if state[i] == "already":
                self.counts["already"] += 1
                continue
            res = results[i]
            assert res is not None
            entry = {k: v for k, v in res.items() if k != MIDI_KEY}
            status = entry["status"]
            if status == "ok":
                _write_piece(self.out, entry["id"], res[MIDI_KEY])
                self.writer.append(entry)
                results[i] = entry  # let the MIDI bytes go
            else:
                log.log(logging.WARNING if status == "failed" else logging.INFO,
                        "%s: %s (%s)", entry["source"], status, entry.get("reason"))
                before = self.latest.get((entry["hash"], entry["source"]))
                if (before is None or before.get("status") != status
                        or before.get("reason") != entry.get("reason")):
                    self.writer.append(entry)
            self.counts[status] += 1
            self.entries.append(entry)


def _write_piece(out: Path, piece_id: str, midi: bytes) -> None:
    from ..io.files import atomic_output

    with atomic_output(piece_path(out, piece_id)) as tmp:
        tmp.write_bytes(midi)


def load_corpus(corpus_dir: str | os.PathLike[str], *,
                status: str = "ok") -> list[tuple[str, Any]]:
    """The pieces of a corpus as ``(id, Score)`` pairs, in manifest order.

    Only ``ok`` entries have pieces; other statuses give an empty list.

    Raises:
        InputFileError: the folder is not a corpus, or a listed piece is missing or damaged.
        ParameterError: an unknown status.
    """
    if status not in STATUSES:
        raise ParameterError(f"unknown status {status!r}; use one of {', '.join(STATUSES)}")
    from ..io.midi import read_midi

    out = []
    for e in read_manifest(corpus_dir):
        if e.get("status") != status or status != "ok":
            continue
        p = Path(corpus_dir) / e.get("path", f"{PIECES_DIR}/{e['id']}.mid")
        if not p.is_file():
            raise InputFileError(p, f"piece {e['id']} ({e.get('source')}) is listed in the "
                                    "manifest but missing; run ingest again to restore it")
        out.append((e["id"], read_midi(p)))
    return out
