"""The worker pool: processes that take jobs from the store's queue and run them.

Each worker is a process of its own (a crash, a runaway job or a cancelled one never takes
the server with it). It claims the oldest queued job, runs it (:func:`.jobs.run`), records
progress, and writes the result, or the one-line reason it failed. A job cancelled while it
runs stops at its next progress report; the pool also ends a worker whose job was cancelled
and starts a fresh one, so even a step without progress reports stops at once.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing as mp
import shutil
import threading
import time
from pathlib import Path
from typing import Any

from .store import Store

log = logging.getLogger(__name__)

POLL_S = 0.2


class _Cancelled(Exception):
    pass


def _one_line(text: str) -> str:
    return " ".join(str(text).split())[:500]


def work(folder: str, name: str, stop: Any) -> None:
    """A worker's life: claim, run, record, until ``stop`` is set."""
    import os

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from ..errors import TunecraftError
    from . import jobs

    store = Store(folder)

    def upload_path(upload_id: str) -> Path:
        up = store.upload(upload_id)
        if up is None:
            from ..errors import InputFileError

            raise InputFileError(upload_id, "the upload is gone")
        return store.upload_path(up)

    while not stop.is_set():
        job = store.claim(name)
        if job is None:
            stop.wait(POLL_S)
            continue
        out = store.job_folder(job.id)
        if out.exists():  # a half-written run before a restart
            shutil.rmtree(out, ignore_errors=True)

        def progress(fraction: float, stage: str, job_id: str = job.id) -> None:
            if store.progress(job_id, fraction, stage) != "running":
                raise _Cancelled()

        files = None
        try:
            files = jobs.run(job.kind, job.params, out, upload_path, progress,
                             store.score_of)
        except _Cancelled:
            pass
        except TunecraftError as exc:
            store.fail(job.id, _one_line(str(exc)))
        except Exception as exc:  # a bug: the job fails with its name, the worker goes on
            log.exception("job %s failed", job.id)
            store.fail(job.id, _one_line(f"internal error: {type(exc).__name__}: {exc}"))
        if files is not None:
            store.finish(job.id, files)
        store.release(job.id)
        after = store.job(job.id)
        if after is None or after.status != "done":  # failed, cancelled or deleted
            shutil.rmtree(out, ignore_errors=True)


class Pool:
    """``n`` worker processes over the store in ``folder``, watched by a thread that
    replaces a worker that died (its job goes back to the queue) or whose job was
    cancelled while it ran."""

    def __init__(self, folder: str | Path, n: int) -> None:
        self.folder = str(folder)
        self.n = max(1, int(n))
        self._ctx = mp.get_context("spawn")
        self._stop = self._ctx.Event()
        self._procs: dict[str, Any] = {}
        self._watch: threading.Thread | None = None
        self._halt = threading.Event()
        self._count = 0

    def _spawn(self) -> None:
        self._count += 1
        name = f"w{self._count}-{id(self) & 0xffff:x}"
        p = self._ctx.Process(target=work, args=(self.folder, name, self._stop),
                              name=f"tunecraft-{name}", daemon=True)
        p.start()
        self._procs[name] = p

    def start(self) -> None:
        for _ in range(self.n):
            self._spawn()
        self._watch = threading.Thread(target=self._watcher, name="tunecraft-pool",
                                       daemon=True)
        self._watch.start()

    def _watcher(self) -> None:
        store = Store(self.folder)
        while not self._halt.wait(0.5):
            stuck = store.stuck_workers(after_s=2.0)
            for name, p in list(self._procs.items()):
                if not p.is_alive() or name in stuck:
                    if p.is_alive():  # its job was cancelled and it has not noticed
                        p.terminate()
                        p.join(5)
                    del self._procs[name]
                    store.requeue_worker(name)
                    if not self._halt.is_set():
                        self._spawn()

    def stop(self, timeout: float = 10.0) -> None:
        self._halt.set()
        self._stop.set()
        if self._watch is not None:
            self._watch.join(timeout)
        deadline = time.time() + timeout
        for p in self._procs.values():
            p.join(max(0.1, deadline - time.time()))
            if p.is_alive():
                p.terminate()
                with contextlib.suppress(Exception):
                    p.join(2)
        self._procs.clear()

    @property
    def alive(self) -> int:
        return sum(1 for p in self._procs.values() if p.is_alive())
