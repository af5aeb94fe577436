"""The studio's library: jobs and uploads in SQLite (WAL), their files in folders beside it.

Everything the server knows survives a restart: a job is written before it is acknowledged,
its files are listed by name in its row (requests never name files on disk), and on start
:meth:`Store.recover` puts jobs that were running back in the queue (or marks them failed
after :data:`MAX_ATTEMPTS` tries), so nothing is lost and nothing stays "running".

Several processes share one store (the server and its workers): every change is one short
transaction, and a queued job is claimed with one ``UPDATE ... RETURNING`` so two workers
never take the same job.
"""

from __future__ import annotations

import json
import sqlite3
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    status TEXT NOT NULL,
    progress REAL NOT NULL DEFAULT 0,
    stage TEXT NOT NULL DEFAULT '',
    params TEXT NOT NULL,
    prompt TEXT NOT NULL DEFAULT '',
    created REAL NOT NULL,
    started REAL,
    finished REAL,
    error TEXT,
    files TEXT NOT NULL DEFAULT '{}',
    attempts INTEGER NOT NULL DEFAULT 0,
    worker TEXT
);
CREATE INDEX IF NOT EXISTS jobs_queue ON jobs (status, created);
CREATE TABLE IF NOT EXISTS uploads (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    file TEXT NOT NULL,
    bytes INTEGER NOT NULL,
    seconds REAL,
    created REAL NOT NULL
);
"""
STATUSES = ("queued", "running", "done", "failed", "cancelled")
MAX_ATTEMPTS = 2  # a job whose worker died this many times is failed, not retried again


@dataclass(frozen=True, slots=True)
class Job:
    id: str
    kind: str
    status: str
    progress: float
    stage: str
    params: dict[str, Any]
    created: float
    started: float | None
    finished: float | None
    error: str | None
    files: dict[str, str]
    attempts: int

    @property
    def seconds(self) -> float | None:
        """How long the work took, once it is finished."""
        if self.started is None or self.finished is None:
            return None
        return round(self.finished - self.started, 3)


@dataclass(frozen=True, slots=True)
class Upload:
    id: str
    kind: str
    name: str
    file: str
    bytes: int
    seconds: float | None
    created: float


def _job(row: sqlite3.Row) -> Job:
    return Job(row["id"], row["kind"], row["status"], float(row["progress"]), row["stage"],
               json.loads(row["params"]), row["created"], row["started"], row["finished"],
               row["error"], json.loads(row["files"]), int(row["attempts"]))


class Store:
    """The library in ``folder``: ``library.sqlite3``, ``jobs/<id>/`` and ``uploads/``."""

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        (self.folder / "jobs").mkdir(exist_ok=True)
        (self.folder / "uploads").mkdir(exist_ok=True)
        self.path = self.folder / "library.sqlite3"
        with self._db() as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(SCHEMA)

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path, timeout=30.0, isolation_level=None)
        db.row_factory = sqlite3.Row
        try:
            db.execute("PRAGMA busy_timeout=30000")
            yield db
        finally:
            db.close()

    # -- jobs ----------------------------------------------------------------------------------

    def job_folder(self, job_id: str) -> Path:
        return self.folder / "jobs" / job_id

    def add_job(self, kind: str, params: Mapping[str, Any]) -> Job:
        """A queued job, written (and committed) before its id is returned."""
        job_id = uuid.uuid4().hex
        now = time.time()
        prompt = str(params.get("prompt") or params.get("text") or params.get("lyrics") or "")
        with self._db() as db:
            db.execute("INSERT INTO jobs (id, kind, status, params, prompt, created) "
                       "VALUES (?, ?, 'queued', ?, ?, ?)",
                       (job_id, kind, json.dumps(dict(params)), prompt[:2000], now))
        job = self.job(job_id)
        assert job is not None
        return job

    def job(self, job_id: str) -> Job | None:
        with self._db() as db:
            row = db.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
        return _job(row) if row else None

    def jobs(self, *, q: str | None = None, limit: int = 100, offset: int = 0) -> list[Job]:
        """The library, newest first; ``q`` keeps jobs whose prompt or text holds it."""
        sql, args = "SELECT * FROM jobs", []
        if q:
            sql += " WHERE prompt LIKE ? ESCAPE '\\'"
            escaped = q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            args.append(f"%{escaped}%")
        sql += " ORDER BY created DESC, rowid DESC LIMIT ? OFFSET ?"
        args += [max(1, min(limit, 1000)), max(0, offset)]
        with self._db() as db:
            return [_job(r) for r in db.execute(sql, args).fetchall()]

    def claim(self, worker: str) -> Job | None:
        """The oldest queued job, now running for ``worker``; None when the queue is empty."""
        now = time.time()
        with self._db() as db:
            row = db.execute(
                "UPDATE jobs SET status = 'running', started = ?, worker = ?, "
                "attempts = attempts + 1, progress = 0, stage = 'starting' "
                "WHERE id = (SELECT id FROM jobs WHERE status = 'queued' "
                "ORDER BY created, rowid LIMIT 1) AND status = 'queued' RETURNING *",
                (now, worker)).fetchone()
        return _job(row) if row else None

    def progress(self, job_id: str, fraction: float, stage: str = "") -> str:
        """Record progress; returns the job's status (a worker stops when it is not
        "running": the job was cancelled or deleted)."""
        with self._db() as db:
            db.execute("UPDATE jobs SET progress = ?, stage = ? WHERE id = ? AND "
                       "status = 'running'",
                       (max(0.0, min(1.0, float(fraction))), stage[:80], job_id))
            row = db.execute("SELECT status FROM jobs WHERE id = ?", (job_id,)).fetchone()
        return row["status"] if row else "deleted"

    def finish(self, job_id: str, files: Mapping[str, str]) -> None:
        with self._db() as db:
            db.execute("UPDATE jobs SET status = 'done', progress = 1, stage = 'done', "
                       "finished = ?, files = ?, error = NULL WHERE id = ? AND "
                       "status = 'running'", (time.time(), json.dumps(dict(files)), job_id))

    def fail(self, job_id: str, error: str) -> None:
        with self._db() as db:
            db.execute("UPDATE jobs SET status = 'failed', finished = ?, error = ?, "
                       "stage = 'failed' WHERE id = ? AND status IN ('queued', 'running')",
                       (time.time(), error[:2000], job_id))

    def cancel(self, job_id: str) -> bool:
        """Cancel a queued or running job; False when it had already ended."""
        with self._db() as db:
            cur = db.execute("UPDATE jobs SET status = 'cancelled', finished = ?, "
                             "stage = 'cancelled' WHERE id = ? AND "
                             "status IN ('queued', 'running')", (time.time(), job_id))
        return cur.rowcount > 0

    def delete(self, job_id: str) -> bool:
        """Forget a job (its row; the caller removes its folder)."""
        with self._db() as db:
            cur = db.execute("DELETE FROM jobs WHERE id = ?", (job_id,))
        return cur.rowcount > 0

    def remove(self, job_id: str) -> None:
        """Cancel a job if it is still going, forget it and remove its files."""
        import shutil

        self.cancel(job_id)
        self.delete(job_id)
        shutil.rmtree(self.job_folder(job_id), ignore_errors=True)

    def recover(self) -> list[str]:
        """After a restart: jobs left "running" go back to the queue, or fail when their
        worker died :data:`MAX_ATTEMPTS` times. Returns the ids put back."""
        with self._db() as db:
            db.execute("UPDATE jobs SET status = 'failed', finished = ?, stage = 'failed', "
                       "error = 'the server stopped while this job ran, "
                       f"{MAX_ATTEMPTS} times; it was not retried again' "
                       "WHERE status = 'running' AND attempts >= ?",
                       (time.time(), MAX_ATTEMPTS))
            rows = db.execute("UPDATE jobs SET status = 'queued', progress = 0, "
                              "stage = 'queued again after a restart', started = NULL, "
                              "worker = NULL WHERE status = 'running' RETURNING id").fetchall()
        return [r["id"] for r in rows]

    def requeue_worker(self, worker: str) -> None:
        """A worker died: its running job goes back to the queue (or fails, see recover)."""
        with self._db() as db:
            db.execute("UPDATE jobs SET status = 'failed', finished = ?, stage = 'failed', "
                       "error = 'the worker running this job stopped' "
                       "WHERE status = 'running' AND worker = ? AND attempts >= ?",
                       (time.time(), worker, MAX_ATTEMPTS))
            db.execute("UPDATE jobs SET status = 'queued', progress = 0, started = NULL, "
                       "worker = NULL, stage = 'queued again' "
                       "WHERE status = 'running' AND worker = ?", (worker,))

    def release(self, job_id: str) -> None:
        """The worker is done with the job, however it ended."""
        with self._db() as db:
            db.execute("UPDATE jobs SET worker = NULL WHERE id = ? AND status != 'running'",
                       (job_id,))

    def stuck_workers(self, *, after_s: float) -> set[str]:
        """Workers still holding a job cancelled more than ``after_s`` seconds ago."""
        with self._db() as db:
            rows = db.execute("SELECT worker FROM jobs WHERE status = 'cancelled' AND "
                              "worker IS NOT NULL AND finished < ?",
                              (time.time() - after_s,)).fetchall()
            db.execute("UPDATE jobs SET worker = NULL WHERE status = 'cancelled' AND "
                       "worker IS NOT NULL AND finished < ?", (time.time() - after_s,))
        return {r["worker"] for r in rows}

    def counts(self) -> dict[str, int]:
        with self._db() as db:
            rows = db.execute("SELECT status, COUNT(*) AS n FROM jobs GROUP BY status")
            return {r["status"]: int(r["n"]) for r in rows}

    # -- uploads -------------------------------------------------------------------------------

    def add_upload(self, kind: str, name: str, file: str, size: int,
                   seconds: float | None) -> Upload:
        up = Upload(uuid.uuid4().hex, kind, name[:200], file, int(size), seconds, time.time())
        with self._db() as db:
            db.execute("INSERT INTO uploads (id, kind, name, file, bytes, seconds, created) "
                       "VALUES (?, ?, ?, ?, ?, ?, ?)",
                       (up.id, up.kind, up.name, up.file, up.bytes, up.seconds, up.created))
        return up

    def upload(self, upload_id: str) -> Upload | None:
        with self._db() as db:
            row = db.execute("SELECT * FROM uploads WHERE id = ?", (upload_id,)).fetchone()
        if row is None:
            return None
        return Upload(row["id"], row["kind"], row["name"], row["file"], int(row["bytes"]),
                      row["seconds"], row["created"])

    def score_of(self, job_id: str) -> tuple[Path, dict[str, Any]] | None:
        """The score (the bundle's JSON) of a finished job that made music, and the job's
        parameters; None when there is no such job."""
        job = self.job(job_id) if job_id.isalnum() else None
        if job is None or job.status != "done" or "json" not in job.files \
                or "mid" not in job.files:
            return None
        path = self.job_folder(job.id) / job.files["json"]
        return (path, job.params) if path.is_file() else None

    def upload_path(self, up: Upload) -> Path:
        return self.folder / "uploads" / up.file
