"""``tunecraft serve``: the studio's HTTP API (and, when it lands, its page) in one process."""

from __future__ import annotations

import os
from pathlib import Path

import click

from .main import _verbose_option, cli

LOOPBACK = ("127.0.0.1", "::1", "localhost")


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on (loopback: only this computer).")
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True)
@click.option("--data", type=click.Path(file_okay=False, path_type=Path),
              help="The library folder (SQLite + files). Default: ~/.local/share/tunecraft/"
                   "studio")
@click.option("--workers", type=click.IntRange(1, 64),
              help="Worker processes (default: the number of cores).")
@click.option("--api-key", envvar="TUNECRAFT_API_KEY",
              help="Require this key on every /api request (X-API-Key or Authorization: "
                   "Bearer). Also read from TUNECRAFT_API_KEY.")
@click.option("--max-upload", type=click.IntRange(1, 4096), default=100, show_default=True,
              help="Largest upload, in MB.")
@_verbose_option
def serve(host: str, port: int, data: Path | None, workers: int | None, api_key: str | None,
          max_upload: int) -> None:
    """Serve the studio: the HTTP API under /api (OpenAPI at /openapi.json)."""
    from .. import api

    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    app = api.studio_app(data=data, workers=workers or os.cpu_count() or 1, api_key=api_key,
                         max_upload_mb=max_upload)
    if host not in LOOPBACK and not api_key:
        click.echo(f"warning: serving on {host} without --api-key: anyone who can reach this "
                   "address can use the studio", err=True)
    import uvicorn

    click.echo(f"tunecraft studio on http://{host}:{port}/ (API under /api; Ctrl-C stops)",
               err=True)
    uvicorn.run(app, host=host, port=port, log_level="warning")
