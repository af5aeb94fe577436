"""``tunecraft chat``: talk to the conductor, in the terminal or from a script."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from .main import _verbose_option, cli


@cli.command()
@click.option("--script", type=click.File("r", encoding="utf-8"),
              help="Read one message per line ('---' starts a new conversation) instead of "
                   "asking; '-' reads standard input.")
@click.option("--json", "as_json", is_flag=True,
              help="Print one JSON object per message: conversation, turn, say, calls, reply.")
@click.option("--workdir", type=click.Path(file_okay=False, path_type=Path),
              default=Path("out") / "chat", show_default=True,
              help="Where the files made are written (never over a file already there).")
@click.option("--seed", type=int, help="Seeds for the music and sounds, counted up from this "
                                       "(the same script and seed make the same files).")
@click.option("--lang", type=click.Choice(["en", "es", "pt"]), default="en",
              show_default=True, help="The language to answer in until a message shows one.")
@click.option("--play", is_flag=True, help="Play each turn's audio (with ffplay, paplay or "
                                           "aplay, the first found).")
@_verbose_option
def chat(script, as_json: bool, workdir: Path, seed: int | None, lang: str,
         play: bool) -> None:
    """Talk to tunecraft in English, Spanish or Portuguese: "compose a calm piano piece",
    "make it faster", "put rain under it", "say 'hello'", "what can you do?"."""
    from .. import api

    conductor = api.conductor(workdir, seed=seed, lang=lang)
    conversation, turn = 1, 0

    def answer(message: str) -> None:
        nonlocal turn
        turn += 1
        result = conductor.turn(message)
        if as_json:
            click.echo(json.dumps(result.to_dict(conversation, turn), ensure_ascii=False,
                                  default=str))
        else:
            click.echo(result.reply)
        if play:
            _play([p for c in result.calls for p in c.outputs])

    if script is None and not sys.stdin.isatty():
        script = sys.stdin  # messages piped in: read them as a script
    if script is not None:
        for line in script:
            message = line.strip()
            if not message or message.startswith("#"):
                continue
            if message == "---":
                conversation, turn = conversation + 1, 0
                conductor = api.conductor(workdir, seed=seed, lang=lang)
                continue
            answer(message)
        return
    click.echo("tunecraft: tell me what to make (\"what can you do?\" for the list; an empty "
               f"line or Ctrl-D ends). Files go to {workdir}/")
    while True:
        try:
            message = input("you> ").strip()
        except (EOFError, KeyboardInterrupt):
            click.echo()
            return
        if not message:
            return
        answer(message)


def _play(paths: list[str]) -> None:
    """Play the last audio file made, with the first player found (no shell)."""
    import shutil
    import subprocess

    audio = [p for p in paths if p.endswith((".wav", ".mp3", ".flac", ".ogg"))]
    if not audio:
        return
    for name, args in (("ffplay", ["-nodisp", "-autoexit", "-loglevel", "quiet"]),
                       ("paplay", []), ("aplay", ["-q"])):
        exe = shutil.which(name)
        if exe and (name != "aplay" or audio[-1].endswith(".wav")):
            subprocess.run([exe, *args, audio[-1]], check=False)
            return
    click.echo("(no audio player found: install ffmpeg, pulseaudio-utils or alsa-utils)",
               err=True)


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
