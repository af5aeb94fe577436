"""Voice commands: ``speak``, ``voices``, ``listen``, ``convert-voice`` and ``sing``, thin over
:mod:`tunecraft.api`."""

from __future__ import annotations

import json
from pathlib import Path

import click

from .main import _quiet_option, _slug, _Spinner, _verbose_option, cli

LANGS = click.Choice(["en", "es", "pt"])


def _force_option(f):
    return click.option("--force", is_flag=True,
                        help="Replace files already at OUTPUT (never an input).")(f)


def _say_written(paths, quiet: bool) -> None:
    if not quiet:
        for p in paths:
            click.echo(f"wrote {p}")


@cli.command()
@click.argument("text", nargs=-1, required=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Audio to write (.wav, .flac, .mp3, .ogg); a .json is written beside it. "
                   "Default: out/<text>.wav")
@click.option("--lang", type=LANGS, default="en", show_default=True,
              help="The language of the text (SSML may switch it).")
@click.option("--voice", help="A voice from `tunecraft voices` (default: the best for the "
                              "language).")
@click.option("--rate", type=float, default=1.0, show_default=True,
              help="Speed, 0.25-4 times the voice's own.")
@click.option("--sample-rate", type=click.Choice(["22050", "44100"]), default="22050",
              show_default=True, help="Sample rate of the file written.")
@_force_option
@_quiet_option
@_verbose_option
def speak(text: tuple[str, ...], output: Path | None, lang: str, voice: str | None,
          rate: float, sample_rate: str, force: bool, quiet_cmd: bool) -> None:
    """Speak TEXT (or a .txt/.ssml file) in English, Spanish or Portuguese.

    TEXT starting with <speak> is SSML: break, prosody (rate, pitch, volume), emphasis, p, s,
    say-as (characters, cardinal, ordinal, digits, date, time), sub, voice and lang.
    """
    from .. import api

    body, source = api.read_text(" ".join(text))
    out = output or Path("out") / f"{_slug(source.stem if source else body) or 'speech'}.wav"
    api.check_voice_target(out, overwrite=force, inputs=[source] if source else [])
    with _Spinner(quiet_cmd, "speaking"):
        result = api.speak(body, lang=lang, voice=voice, rate=rate,
                           sample_rate=int(sample_rate))
    paths = api.save_voice(result, out, overwrite=force, inputs=[source] if source else [])
    if not quiet_cmd:
        click.echo(f"{', '.join(result.voices)}: {result.audio.duration:.1f} s of speech")
    _say_written(paths, quiet_cmd)


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print the list as JSON.")
@_verbose_option
def voices(as_json: bool) -> None:
    """List the voices installed here (what --voice takes)."""
    from .. import api

    found = api.voices()
    if as_json:
        click.echo(json.dumps(found, indent=2))
        return
    if not found:
        click.echo("no voice is installed: `apt install espeak-ng` (make demo does it) and "
                   "`pip install tunecraft[voice]`")
        return
    for v in found:
        click.echo(f"{v['name']:<8} {v['lang']}  {v['engine']:<9}  {v['about']}")


@cli.command()
@click.argument("audio", type=click.Path(dir_okay=False, path_type=Path))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the words: .txt (text), .json (word times) or .srt (subtitles).")
@click.option("--lang", type=LANGS, default="en", show_default=True,
              help="The language spoken (only English has an offline recogniser).")
@click.option("--json", "as_json", is_flag=True,
              help="Print JSON with each word's start and end instead of the text.")
@_force_option
@_quiet_option
@_verbose_option
def listen(audio: Path, output: Path | None, lang: str, as_json: bool, force: bool,
           quiet_cmd: bool) -> None:
    """Write down the English speech in AUDIO (pocketsphinx, offline)."""
    from .. import api

    if output is not None:
        api.check_transcript_target(output, overwrite=force, inputs=[audio])
    with _Spinner(quiet_cmd, "listening"):
        transcript = api.listen(audio, lang=lang,
                                align=as_json or (output is not None
                                                  and output.suffix.lower() != ".txt"))
    if as_json:
        click.echo(json.dumps(transcript.to_dict(), indent=2, ensure_ascii=False))
    else:
        click.echo(transcript.text)
    if output is not None:
        api.save_transcript(transcript, output, overwrite=force, inputs=[audio])
        if not quiet_cmd:
            click.echo(f"wrote {output}", err=as_json)


@cli.command("convert-voice")
@click.argument("source", type=click.Path(dir_okay=False, path_type=Path))
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Audio to write (.wav, .flac, .mp3, .ogg); a .json is written beside it.")
@click.option("--pitch", type=float, help="Move the pitch by this many semitones (-24 to 24).")
@click.option("--formant", type=float,
              help="Scale the formants (0.5-2; above 1 a smaller vocal tract).")
@click.option("--like", type=click.Path(dir_okay=False, path_type=Path),
              help="A recording of the voice to sound like (its pitch range and formants).")
@click.option("--to", "preset", type=click.Choice(["higher", "lower", "child", "deep"]),
              help="A preset.")
@_force_option
@_quiet_option
@_verbose_option
def convert_voice(source: Path, output: Path, pitch: float | None, formant: float | None,
                  like: Path | None, preset: str | None, force: bool, quiet_cmd: bool) -> None:
    """Change a voice's pitch and formants (WORLD vocoder); the length stays the same."""
    from .. import api

    inputs = [source] + ([like] if like else [])
    api.check_voice_target(output, overwrite=force, inputs=inputs)
    with _Spinner(quiet_cmd, "converting"):
        result = api.convert_voice(source, pitch=pitch, formant=formant, like=like, to=preset)
    paths = api.save_voice(result, output, overwrite=force, inputs=inputs,
                           extra={"source": str(source),
                                  "like": str(like) if like else None, "preset": preset})
    if not quiet_cmd:
        click.echo(f"pitch {result.semitones:+.2f} semitones, formants x{result.formant:.3f}, "
                   f"{result.audio.duration:.1f} s")
    _say_written(paths, quiet_cmd)


@cli.command()
@click.argument("lyrics", nargs=-1)
@click.option("--melody", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The tune: a .mid or .musicxml file (its top line is sung).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Audio to write (.wav, .flac, .mp3, .ogg); a .json is written beside it. "
                   "Default: out/<melody>-sung.wav")
@click.option("--lang", type=LANGS, help="The lyrics' language (default: guessed).")
@click.option("--voice", help="A voice from `tunecraft voices`.")
@click.option("--formant", type=float, default=1.0, show_default=True,
              help="Scale the formants (0.5-2).")
@click.option("--breath", type=float, default=0.0, show_default=True,
              help="Breathiness, 0-1.")
@click.option("--sample-rate", type=click.Choice(["22050", "44100"]), default="22050",
              show_default=True)
@_force_option
@_quiet_option
@_verbose_option
def sing(lyrics: tuple[str, ...], melody: Path, output: Path | None, lang: str | None,
         voice: str | None, formant: float, breath: float, sample_rate: str, force: bool,
         quiet_cmd: bool) -> None:
    """Sing LYRICS (text or a .txt file) one syllable per note on a melody.

    Without LYRICS the melody's own lyrics are sung (MIDI lyric events, MusicXML lyrics).
    """
    from .. import api

    words = " ".join(lyrics) if lyrics else None
    out = output or Path("out") / f"{melody.stem}-sung.wav"
    inputs = [melody] + ([words] if words and Path(words).is_file() else [])
    api.check_voice_target(out, overwrite=force, inputs=inputs)
    with _Spinner(quiet_cmd, "singing"):
        result = api.sing(melody, words, lang=lang, voice=voice, formant=formant,
                          breath=breath, sample_rate=int(sample_rate))
    paths = api.save_voice(result, out, overwrite=force, inputs=inputs,
                           extra={"melody": str(melody)})
    if not quiet_cmd:
        sung = sum(1 for n in result.notes if n.syllable)
        click.echo(f"{result.voice}: {sung} notes sung, {result.audio.duration:.1f} s")
    _say_written(paths, quiet_cmd)
