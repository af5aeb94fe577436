"""Batches: many requests, one bundle each, on this machine or on Ray.

A batch file holds one request a line: plain text (a prompt), or a JSON object with
``prompt`` and any of ``duration``, ``seed``, ``bpm``, ``key``, ``meter``, ``instruments``,
``name``. Each request is identified by the hash of its content (with the batch's defaults
filled in), so a second run skips what is finished and a changed line is made again. A
request without a seed gets one from that hash: the same file makes the same music anywhere.

Workers compute; the caller writes. A worker (a local process or a Ray task) makes the bundle
in a private temporary folder and returns its files' bytes, which the caller writes into the
output folder, all or nothing per request: the engines need no shared disk and their files are
identical. A request that fails is a row with its error; the batch goes on.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import logging
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import InputFileError, ParameterError, TunecraftError

log = logging.getLogger(__name__)

MAX_REQUESTS = 10_000
OPTIONS = ("prompt", "duration", "seed", "bpm", "key", "meter", "instruments", "name")
SUMMARY = "summary.csv"
COLUMNS = ("line", "id", "prompt", "seed", "status", "files", "seconds_of_music",
           "wall_seconds", "adherence_passed", "error")


@dataclass(frozen=True)
class Request:
    line: int
    options: dict[str, Any]
    error: str | None = None  # a line that could not be read

    @property
    def id(self) -> str:
        text = json.dumps(self.options, sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(text.encode()).hexdigest()[:12]

    @property
    def stem(self) -> str:
        from .cli.main import _slug

        name = self.options.get("name") or self.options.get("prompt") or "request"
        return f"{self.line:04d}-{_slug(str(name), 32) or 'request'}-{self.id}"


@dataclass(frozen=True)
class Made:
    """What a worker made for one request: file suffix -> bytes, and figures."""

    files: dict[str, bytes] = field(default_factory=dict)
    seconds: float = 0.0
    wall: float = 0.0
    adherence: bool | None = None
    seed: int | None = None
    error: str | None = None


def read_requests(path: str | os.PathLike[str], *, duration: float | None = None
                  ) -> list[Request]:
    """The requests of a batch file, the batch's ``duration`` filled in where a line has none.
    Lines that cannot be read become requests with an error (a row in the summary)."""
    p = Path(path)
    if not p.is_file():
        raise InputFileError(p, "no such batch file")
    if p.stat().st_size > 10_000_000:
        raise InputFileError(p, "a batch file is at most 10 MB")
    try:
        text = p.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise InputFileError(p, "not UTF-8 text (one request a line)") from None
    out: list[Request] = []
    for n, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if len(out) >= MAX_REQUESTS:
            raise InputFileError(p, f"more than {MAX_REQUESTS:,} requests; split the batch")
        out.append(_request(n, line, duration))
    if not out:
        raise InputFileError(p, "no requests (one prompt, or one JSON object, a line)")
    return out


def _request(n: int, line: str, duration: float | None) -> Request:
    if line.startswith("{"):
        try:
            found = json.loads(line)
        except ValueError as e:
            return Request(n, {"prompt": line[:80]}, f"not valid JSON ({e.msg})")
        if not isinstance(found, dict) or not isinstance(found.get("prompt"), str):
            return Request(n, {"prompt": line[:80]}, "a JSON line needs a \"prompt\" text")
        unknown = sorted(set(found) - set(OPTIONS))
        if unknown:
            return Request(n, {"prompt": found["prompt"]},
                           f"unknown option {unknown[0]!r} (known: "
                           f"{', '.join(OPTIONS)})")
        options = {k: v for k, v in found.items() if v is not None}
        bad = _bad_option(options)
        if bad:
            return Request(n, {"prompt": found["prompt"]}, bad)
    else:
        options = {"prompt": line}
    if duration is not None and "duration" not in options:
        options["duration"] = duration
    if "seed" not in options:
        digest = hashlib.sha256(json.dumps(options, sort_keys=True).encode()).hexdigest()
        options["seed"] = int(digest[:8], 16) % 2**31
    return Request(n, options)


def _bad_option(options: dict[str, Any]) -> str | None:
    """What is wrong with a JSON line's options, if anything."""
    kinds = {"duration": (int, float), "bpm": (int, float), "seed": (int,), "key": (str,),
             "meter": (str,), "name": (str,), "prompt": (str,)}
    for name, want in kinds.items():
        v = options.get(name)
        if v is not None and (isinstance(v, bool) or not isinstance(v, want)):
            return f"{name} cannot be {v!r}"
    inst = options.get("instruments")
    if inst is not None and not (isinstance(inst, list) and all(isinstance(x, str)
                                                                for x in inst)):
        return "instruments is a list of names"
    return None


# ----------------------------------------------------------------------------------------------
# The work (a top-level function: it runs in worker processes and Ray tasks)


def make(options: dict[str, Any]) -> Made:
    """Compose and render one request into a temporary bundle; return its files' bytes."""
    from . import api

    t0 = time.perf_counter()
    opts = {k: v for k, v in options.items() if k != "name"}
    try:
        take = api.generate(opts.pop("prompt"), **opts)
        with tempfile.TemporaryDirectory(prefix="tunecraft-batch-") as tmp:
            bundle = take.save(Path(tmp) / "piece.wav")
            files = {p.name.removeprefix("piece"): p.read_bytes() for p in bundle.paths}
        report = take.report
        return Made(files, round(take.audio.duration, 3), round(time.perf_counter() - t0, 3),
                    None if report is None else bool(report.passed), take.seed)
    except TunecraftError as e:
        return Made(wall=round(time.perf_counter() - t0, 3), error=" ".join(str(e).split()))
    except Exception as e:  # a bug: the row says so and the batch goes on
        log.exception("request failed")
        return Made(wall=round(time.perf_counter() - t0, 3),
                    error=f"internal error ({type(e).__name__}: {e})")


def _run(items: list[dict[str, Any]], engine: str, workers: int
         ) -> Iterator[tuple[int, Made]]:
    """(index, Made) in completion order, on a process pool or Ray."""
    from .corpus.engines import _pool_context, ray_session

    if not items:
        return
    if engine == "ray":
        with ray_session(workers) as ray:
            remote = ray.remote(num_cpus=1, max_retries=1)(make)
            pending = {remote.remote(item): i for i, item in enumerate(items)}
            while pending:
                ready, _ = ray.wait(list(pending), num_returns=1)
                for ref in ready:
                    i = pending.pop(ref)
                    try:
                        yield i, ray.get(ref)
                    except Exception as e:  # a worker crashed or a node was lost
                        yield i, Made(error=f"the Ray task stopped ({str(e).splitlines()[0]})")
        return
    if workers == 1 or len(items) == 1:
        for i, item in enumerate(items):
            yield i, make(item)
        return
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

    with ProcessPoolExecutor(max_workers=min(workers, len(items)),
                             mp_context=_pool_context()) as pool:
        pending = {pool.submit(make, item): i for i, item in enumerate(items)}
        while pending:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for fut in done:
                i = pending.pop(fut)
                try:
                    yield i, fut.result()
                except Exception as e:  # the worker process died
                    yield i, Made(error=f"the worker stopped ({type(e).__name__})")


# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BatchResult:
    rows: list[dict[str, Any]]
    summary: Path
    made: int
    skipped: int
    failed: int
    wall: float


def _finished(out: Path) -> dict[str, list[Path]]:
    """The bundles earlier runs wrote in ``out`` (a WAV and its JSON at least), by request id:
    the folder is listed once, whatever the size of the batch."""
    found: dict[str, list[Path]] = {}
    for p in sorted(out.iterdir()):
        if p.is_file() and "-" in p.stem:
            found.setdefault(p.stem.rsplit("-", 1)[1], []).append(p)
    return {k: v for k, v in found.items()
            if {".json", ".wav"} <= {p.suffix for p in v}}


def _previous(out: Path) -> dict[str, dict[str, str]]:
    try:
        with open(out / SUMMARY, newline="", encoding="utf-8") as f:
            return {row["id"]: row for row in csv.DictReader(f)}
    except (OSError, KeyError, csv.Error):
        return {}


def run_batch(path: str | os.PathLike[str], out: str | os.PathLike[str], *,
              duration: float | None = None, engine: str = "local",
              workers: int | None = None,
              progress: Callable[[int, int], None] | None = None) -> BatchResult:
    """Make every request of the batch file ``path`` into a bundle in ``out``, skipping those
    an earlier run finished, and write ``out/summary.csv`` (one row per request, in file
    order)."""
    from .corpus.engines import check_engine
    from .io.files import atomic_output, atomic_outputs

    if duration is not None and not 5 <= duration <= 1200:
        raise ParameterError(f"--duration {duration:g} s is outside 5-1200")
    workers = check_engine(engine, workers)
    requests = read_requests(path, duration=duration)
    folder = Path(out)
    if folder.exists() and not folder.is_dir():
        raise InputFileError(folder, "the output must be a folder")
    folder.mkdir(parents=True, exist_ok=True)
    before = _previous(folder)
    t0 = time.perf_counter()
    finished_before = _finished(folder)
    rows: dict[int, dict[str, Any]] = {}
    todo: list[tuple[int, Request]] = []

    def base(req: Request, seed: Any) -> dict[str, Any]:
        return {"line": req.line, "id": req.id, "prompt": req.options.get("prompt", ""),
                "seed": seed}

    for i, req in enumerate(requests):
        if req.error:
            rows[i] = {**base(req, req.options.get("seed", "")), "status": "failed",
                       "error": req.error}
            continue
        done = finished_before.get(req.id)
        if done is not None:
            old = before.get(req.id, {})
            rows[i] = {**base(req, req.options.get("seed", "")), "status": "done earlier",
                       "files": ";".join(p.name for p in done),
                       "seconds_of_music": old.get("seconds_of_music", ""),
                       "wall_seconds": old.get("wall_seconds", ""),
                       "adherence_passed": old.get("adherence_passed", ""), "error": ""}
            continue
        todo.append((i, req))
    total = len(requests)
    finished = total - len(todo)
    if progress:
        progress(finished, total)
    for j, made in _run([r.options for _, r in todo], engine, workers):
        i, req = todo[j]
        row = base(req, made.seed if made.seed is not None else req.options.get("seed"))
        if made.error:
            rows[i] = {**row, "status": "failed", "error": made.error,
                       "wall_seconds": made.wall}
        else:
            paths = [folder / f"{req.stem}{suffix}" for suffix in sorted(made.files)]
            with atomic_outputs(paths) as tmps:
                for tmp, suffix in zip(tmps, sorted(made.files), strict=True):
                    Path(tmp).write_bytes(made.files[suffix])
            rows[i] = {**row, "status": "made", "files": ";".join(p.name for p in paths),
                       "seconds_of_music": made.seconds, "wall_seconds": made.wall,
                       "adherence_passed": made.adherence, "error": ""}
        finished += 1
        if progress:
            progress(finished, total)
    ordered = [{c: rows[i].get(c, "") for c in COLUMNS} for i in range(total)]
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(ordered)
    summary = folder / SUMMARY
    with atomic_output(summary) as tmp:
        Path(tmp).write_text(buf.getvalue(), encoding="utf-8")
    counts = {s: sum(1 for r in ordered if r["status"] == s)
              for s in ("made", "done earlier", "failed")}
    return BatchResult(ordered, summary, counts["made"], counts["done earlier"],
                       counts["failed"], round(time.perf_counter() - t0, 3))
