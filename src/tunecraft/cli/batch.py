"""``tunecraft batch``: many requests, one bundle each, on this machine or on Ray."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from .main import _verbose_option, cli


@cli.command()
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("-o", "--output", "out", required=True,
              type=click.Path(file_okay=False, path_type=Path),
              help="The folder for the bundles and summary.csv (a second run skips what is "
                   "there).")
@click.option("--duration", type=float, help="Seconds for requests that do not say (5-1200).")
@click.option("--engine", type=click.Choice(["local", "ray"]), default="local",
              show_default=True, help="Processes here, or Ray (a local Ray, or the cluster at "
                                      "$RAY_ADDRESS); the same files either way.")
@click.option("--workers", type=int, help="Processes or Ray CPUs (default: the cores).")
@click.option("-q", "--quiet", "quiet_cmd", is_flag=True, help="Print nothing but errors.")
@_verbose_option
def batch(file: Path, out: Path, duration: float | None, engine: str, workers: int | None,
          quiet_cmd: bool) -> None:
    """Make many pieces: FILE has one request a line (a prompt, or JSON with prompt,
    duration, seed, bpm, key, meter, instruments, name); one bundle each in OUTPUT and a
    summary.csv row each. Resumable: finished requests are skipped."""
    from .. import api

    show = not quiet_cmd and sys.stderr.isatty()
    bar = click.progressbar(length=1, label="batch", file=sys.stderr) if show else None
    state = {"done": 0}

    def progress(done: int, total: int) -> None:
        if bar is None:
            return
        bar.length = total
        bar.update(done - state["done"])
        state["done"] = done

    try:
        if bar is not None:
            bar.__enter__()
        result = api.batch(file, out, duration=duration, engine=engine, workers=workers,
                           progress=progress)
    finally:
        if bar is not None:
            bar.__exit__(None, None, None)
    if not quiet_cmd:
        click.echo(f"{result.made} made, {result.skipped} done earlier, {result.failed} "
                   f"failed in {result.wall:.1f} s; wrote {result.summary}")
    for row in result.rows:
        if row["status"] == "failed":
            click.echo(f"line {row['line']}: {row['error']}", err=True)
