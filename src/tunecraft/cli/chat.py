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

