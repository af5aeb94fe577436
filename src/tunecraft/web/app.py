"""The HTTP API (FastAPI) over the job store and the worker pool.

Routes (all under ``/api``; with an API key, every one needs ``X-API-Key`` or
``Authorization: Bearer``):

* ``GET /api/health``: ``{"status": "ok", "version", "workers", "jobs"}``.
* ``POST /api/jobs`` ``{"kind": ..., params by their CLI names}``: 202 ``{"id"}``; bad
  parameters 422 with one message, and no job.
* ``GET /api/jobs[?q=&limit=&offset=]``: the library, newest first.
* ``GET /api/jobs/{id}``: the job, with ``files`` as URLs; ``GET /api/jobs/{id}/events``:
  the same as server-sent events until it ends.
* ``POST /api/jobs/{id}/cancel``, ``DELETE /api/jobs/{id}``.
* ``GET /api/files/{id}/{name}``: a file the job wrote (names are looked up in its record;
  nothing from the request reaches the file system).
* ``POST /api/uploads`` (multipart ``file``): streamed to disk, refused past the size limit
  (413) and unless it is audio, MIDI or MusicXML (422).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import secrets
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import FileResponse, JSONResponse, StreamingResponse

from ..errors import InputFileError, ParameterError, TunecraftError
from .store import Job, Store

log = logging.getLogger(__name__)

MAX_UPLOAD = 100 * 2**20
_ID = re.compile(r"^[0-9a-f]{32}$")
_UPLOAD_EXTS = {"audio": (".wav", ".flac", ".mp3", ".ogg", ".aiff"), "midi": (".mid",),
                "musicxml": (".musicxml", ".mxl")}


@dataclass(frozen=True)
class Settings:
    data: Path
    workers: int = 2
    api_key: str | None = None
    max_upload: int = MAX_UPLOAD
    start_workers: bool = True
    page: bool = True


def default_data_dir() -> Path:
    """A per-user folder: ``$XDG_DATA_HOME/tunecraft/studio`` (``~/.local/share/...``)."""
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local",
                                                           "share")
    return Path(base) / "tunecraft" / "studio"


def _version() -> str:
    from .. import __version__

    return __version__


def job_json(job: Job) -> dict[str, Any]:
    return {"id": job.id, "kind": job.kind, "status": job.status,
            "progress": round(job.progress, 3), "stage": job.stage, "params": job.params,
            "created": job.created, "started": job.started, "finished": job.finished,
            "seconds": job.seconds, "error": job.error,
            "files": {k: f"/api/files/{job.id}/{v}" for k, v in job.files.items()}}


def sniff(head: bytes) -> str | None:
    """What the first bytes of a file say it is: "audio", "midi", "musicxml" or None."""
    if head.startswith(b"MThd"):
        return "midi"
    if (head[:4] == b"RIFF" and head[8:12] == b"WAVE") or head.startswith((b"fLaC", b"OggS",
                                                                          b"ID3")) \
            or (head[:4] == b"FORM" and head[8:12] in (b"AIFF", b"AIFC")) \
            or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0):
        return "audio"
    text = head[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    if text.startswith(b"<") and (b"<score-partwise" in head or b"<score-timewise" in head):
        return "musicxml"
    if head.startswith(b"PK\x03\x04") and b"META-INF" in head:
        return "musicxml"  # a compressed .mxl
    return None


def _check_upload(kind: str, path: Path) -> tuple[Path, float | None]:
    """Read the upload as what it claims to be; its length in seconds. Renames it to its
    kind's extension (readers choose by extension)."""
    from .. import api
    from ..io.audio import read_audio

    with open(path, "rb") as f:
        head = f.read(12)
    ext = _UPLOAD_EXTS[kind][0]
    if kind == "musicxml" and head[:2] == b"PK":
        ext = ".mxl"
    if kind == "audio":
        ext = {b"fLaC": ".flac", b"OggS": ".ogg"}.get(head[:4], ".wav")
        if head[:4] == b"FORM":
            ext = ".aiff"
        elif head[:3] == b"ID3" or head[:1] == b"\xff":
            ext = ".mp3"
    final = path.with_suffix(ext)
    path.rename(final)
    if kind == "audio":
        return final, read_audio(final, max_seconds=1800).duration
    return final, api.load(final).duration_seconds


def accept_upload(store: Store, kind: str, name: str, tmp: Path) -> Any:
    """A received file (``tmp``, in the uploads folder) read as the ``kind`` its first bytes
    said and recorded; or ParameterError, and nothing of it stays."""
    try:
        final, seconds = _check_upload(kind, tmp)
    except (TunecraftError, OSError) as exc:
        for p in tmp.parent.glob(tmp.stem + ".*"):
            p.unlink(missing_ok=True)
        reason = exc.problem if isinstance(exc, InputFileError) else str(exc)
        raise ParameterError(f"the file is not readable {kind}: "
                             f"{' '.join(str(reason).split())}") from None
    return store.add_upload(kind, name, final.name, final.stat().st_size, seconds)


def create_app(settings: Settings) -> Any:
    """The FastAPI application."""
    from . import jobs as job_kinds
    from .workers import Pool

    store = Store(settings.data)
    pool = Pool(settings.data, settings.workers) if settings.start_workers else None

    @asynccontextmanager
    async def lifespan(app: Any) -> AsyncIterator[None]:
        back = store.recover()
        if back:
            log.info("%d jobs that were running are queued again", len(back))
        if pool is not None:
            pool.start()
        try:
            yield
        finally:
            if pool is not None:
                pool.stop()

    app = FastAPI(title="tunecraft studio", version=_version(), lifespan=lifespan,
                  docs_url="/api/docs", redoc_url=None, openapi_url="/openapi.json")
    app.state.store = store
    app.state.pool = pool
    app.state.settings = settings

    def key_check(request: Request) -> None:
        if settings.api_key is None:
            return
        given = request.headers.get("x-api-key") or ""
        auth = request.headers.get("authorization") or ""
        if auth.lower().startswith("bearer "):
            given = given or auth[7:].strip()
        if not secrets.compare_digest(given.encode(), settings.api_key.encode()):
            raise HTTPException(401, "an API key is needed (X-API-Key or Authorization: "
                                     "Bearer)")

    guarded = [Depends(key_check)]

    @app.exception_handler(TunecraftError)
    async def tunecraft_error(request: Request, exc: TunecraftError) -> JSONResponse:
        return JSONResponse({"detail": " ".join(str(exc).split())}, status_code=422)

    @app.get("/api/health", dependencies=guarded)
    def health() -> dict[str, Any]:
        return {"status": "ok", "version": _version(),
                "workers": pool.alive if pool is not None else 0, "jobs": store.counts()}

    def upload_kind(upload_id: str) -> str | None:
        up = store.upload(upload_id)
        return up.kind if up is not None else None

    @app.post("/api/jobs", status_code=202, dependencies=guarded)
    async def submit(request: Request) -> dict[str, str]:
        try:
            body = await request.json()
        except (json.JSONDecodeError, UnicodeDecodeError, ValueError):
            raise HTTPException(422, "the body must be JSON: {\"kind\": ..., ...}") from None
        if not isinstance(body, dict):
            raise HTTPException(422, "the body must be a JSON object")
        kind = body.get("kind")
        params = await asyncio.to_thread(job_kinds.check, kind, body, upload_kind,
                                         store.score_of)
        job = store.add_job(kind, params)
        return {"id": job.id}

    def _job_or_404(job_id: str) -> Job:
        job = store.job(job_id) if _ID.match(job_id) else None
        if job is None:
            raise HTTPException(404, "no such job")
        return job

    @app.get("/api/jobs", dependencies=guarded)
    def library(q: str | None = None, limit: int = 50, offset: int = 0) -> dict[str, Any]:
        return {"jobs": [job_json(j) for j in store.jobs(q=q, limit=limit, offset=offset)]}

    @app.get("/api/jobs/{job_id}", dependencies=guarded)
    def one(job_id: str) -> dict[str, Any]:
        return job_json(_job_or_404(job_id))

    @app.get("/api/jobs/{job_id}/events", dependencies=guarded)
    async def events(job_id: str) -> Any:
        _job_or_404(job_id)

        async def stream() -> AsyncIterator[str]:
            last = None
            while True:
                job = store.job(job_id)
                if job is None:
                    yield "event: deleted\ndata: {}\n\n"
                    return
                doc = json.dumps(job_json(job))
                if doc != last:
                    yield f"data: {doc}\n\n"
                    last = doc
                if job.status in ("done", "failed", "cancelled"):
                    return
                await asyncio.sleep(0.25)

        return StreamingResponse(stream(), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache"})

    @app.post("/api/jobs/{job_id}/cancel", dependencies=guarded)
    def cancel(job_id: str) -> dict[str, Any]:
        job = _job_or_404(job_id)
        if not store.cancel(job.id):
            raise HTTPException(409, f"the job has already ended ({job.status})")
        return job_json(_job_or_404(job_id))

    @app.delete("/api/jobs/{job_id}", dependencies=guarded)
    def delete(job_id: str) -> dict[str, str]:
        job = _job_or_404(job_id)
        store.remove(job.id)
        return {"id": job.id, "status": "deleted"}

    @app.get("/api/files/{job_id}/{name}", dependencies=guarded)
    def file(job_id: str, name: str) -> Any:
        job = _job_or_404(job_id)
        known = {v: k for k, v in job.files.items()}
        if name not in known or job.status != "done":
            raise HTTPException(404, "no such file")
        path = store.job_folder(job.id) / name  # a name the job itself recorded
        if not path.is_file():
            raise HTTPException(404, "the file is gone")
        return FileResponse(path, filename=name)

    @app.post("/api/uploads", status_code=201, dependencies=guarded)
    async def upload(request: Request) -> dict[str, Any]:
        limit = settings.max_upload
        length = request.headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > limit + 64 * 1024:
            raise HTTPException(413, f"the upload is larger than {limit / 2**20:g} MB")
        kind, name, tmp = await _receive(request, store.folder / "uploads", limit)
        try:
            up = await asyncio.to_thread(accept_upload, store, kind, name, tmp)
        except TunecraftError as exc:
            raise HTTPException(422, str(exc)) from None
        return {"id": up.id, "kind": kind,
                "seconds": round(up.seconds, 3) if up.seconds else None,
                "name": up.name, "bytes": up.bytes}

    if settings.page:
        _mount_page(app, store)
    return app


def _mount_page(app: FastAPI, store: Store) -> None:
    """The studio page at ``/`` (Gradio, analytics off, system fonts)."""
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    import gradio as gr

    from .page import build, theme

    gr.mount_gradio_app(app, build(store), path="/", theme=theme(),
                        allowed_paths=[str(store.folder / "jobs"), str(store.folder / "chat")],
                        footer_links=[], ssr_mode=False)


async def _receive(request: Request, folder: Path, limit: int) -> tuple[str, str, Path]:
    """Stream the multipart ``file`` part to a new file in ``folder``, counting bytes: past
    ``limit`` the upload is refused (413) and nothing stays. Returns (kind, client file
    name, path)."""
    from python_multipart.multipart import MultipartParser, parse_options_header

    ctype, opts = parse_options_header(request.headers.get("content-type", ""))
    boundary = opts.get(b"boundary")
    if ctype != b"multipart/form-data" or not boundary:
        raise HTTPException(422, "send the file as multipart/form-data, in a field named "
                                 "'file'")
    folder.mkdir(parents=True, exist_ok=True)
    fd, raw = tempfile.mkstemp(prefix="up-", suffix=".part", dir=folder)
    out = os.fdopen(fd, "wb")
    state: dict[str, Any] = {"headers": {}, "field": b"", "value": b"", "name": None,
                             "filename": "", "in_file": False, "bytes": 0, "files": 0,
                             "head": b""}

    def on_header_field(data: bytes, start: int, end: int) -> None:
        state["field"] += data[start:end]

    def on_header_value(data: bytes, start: int, end: int) -> None:
        state["value"] += data[start:end]

    def on_header_end() -> None:
        state["headers"][state["field"].lower()] = state["value"]
        state["field"], state["value"] = b"", b""

    def on_headers_finished() -> None:
        _, params = parse_options_header(state["headers"].get(b"content-disposition", b""))
        state["in_file"] = params.get(b"name") == b"file"
        if state["in_file"]:
            state["files"] += 1
            state["filename"] = params.get(b"filename", b"").decode("utf-8", "replace")

    def on_part_data(data: bytes, start: int, end: int) -> None:
        if not state["in_file"] or state["files"] > 1:
            return
        chunk = data[start:end]
        state["bytes"] += len(chunk)
        if state["bytes"] > limit:
            raise OverflowError
        if len(state["head"]) < 8192:
            state["head"] += chunk[:8192 - len(state["head"])]
        out.write(chunk)

    def on_part_end() -> None:
        state["headers"] = {}
        state["in_file"] = False

    parser = MultipartParser(boundary, {
        "on_header_field": on_header_field, "on_header_value": on_header_value,
        "on_header_end": on_header_end, "on_headers_finished": on_headers_finished,
        "on_part_data": on_part_data, "on_part_end": on_part_end})
    path = Path(raw)
    try:
        try:
            async for chunk in request.stream():
                parser.write(chunk)
            parser.finalize()
        finally:
            out.close()
    except OverflowError:
        path.unlink(missing_ok=True)
        raise HTTPException(413, f"the upload is larger than {limit / 2**20:g} MB") from None
    except Exception as exc:
        path.unlink(missing_ok=True)
        if isinstance(exc, HTTPException):
            raise
        raise HTTPException(422, "the upload is not valid multipart/form-data") from None
    if state["files"] != 1 or state["bytes"] == 0:
        path.unlink(missing_ok=True)
        raise HTTPException(422, "send one non-empty file in a field named 'file'")
    kind = sniff(state["head"])
    if kind is None:
        path.unlink(missing_ok=True)
        raise HTTPException(422, "the file is not audio (WAV, FLAC, MP3, OGG, AIFF), MIDI or "
                                 "MusicXML")
    return kind, Path(state["filename"]).name or "upload", path
