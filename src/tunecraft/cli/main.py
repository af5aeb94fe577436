"""``tunecraft`` command line. Heavy modules are imported inside the commands, so ``--help`` is
quick. Errors a user can cause print one line and exit with code 2."""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import sys
from pathlib import Path
from typing import Any

import click

from ..errors import TunecraftError

BACKENDS = ("auto", "fluidsynth", "tinysoundfont", "sine")


class _Terminated(KeyboardInterrupt):
    """SIGTERM, raised like Ctrl-C so every write in progress cleans up after itself."""


def _on_sigterm(signum: int, frame: Any) -> None:
    raise _Terminated()


def _one_line(text: str) -> str:
    """An error message on one line, whatever a library put in it."""
    return " ".join(str(text).split())


class _Group(click.Group):
    """Turns tunecraft errors into one line on stderr and exit code 2."""

    def invoke(self, ctx: click.Context) -> Any:
        import signal

        with contextlib.suppress(ValueError):  # not the main thread (tests): no handler
            signal.signal(signal.SIGTERM, _on_sigterm)
        try:
            value = super().invoke(ctx)
            sys.stdout.flush()  # a full disk or a closed pipe shows here, not at exit
            return value
        except TunecraftError as exc:
            click.echo(f"tunecraft: error: {_one_line(str(exc))}", err=True)
            sys.exit(exc.exit_code)
        except _Terminated:
            click.echo("tunecraft: terminated", err=True)
            sys.exit(143)
        except KeyboardInterrupt:
            click.echo("tunecraft: interrupted", err=True)
            sys.exit(130)
        except BrokenPipeError:
            # The reader went away (`tunecraft info x.mid | head`): stop quietly.
            with contextlib.suppress(OSError):
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            sys.exit(141)
        except OSError as exc:
            if exc.errno not in (errno.ENOSPC, errno.EIO, errno.EDQUOT):
                _internal_error(exc)
            with contextlib.suppress(OSError):
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            click.echo(f"tunecraft: error: cannot write the output ({exc.strerror})", err=True)
            sys.exit(2)
        except (click.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except Exception as exc:
            _internal_error(exc)


def _internal_error(exc: BaseException) -> None:
    """A bug, not the user's doing: one line (the traceback with TUNECRAFT_DEBUG=1), exit 1."""
    if os.environ.get("TUNECRAFT_DEBUG"):
        raise exc
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    click.echo(f"tunecraft: internal error: {type(exc).__name__}: {first} "
               "(set TUNECRAFT_DEBUG=1 to see the traceback)", err=True)
    sys.exit(1)


def _setup_logging(verbose: int, quiet: bool) -> None:
    level = logging.ERROR if quiet else (logging.DEBUG if verbose > 1 else
                                         logging.INFO if verbose else logging.WARNING)
    logging.basicConfig(level=level, format="tunecraft: %(levelname)s: %(message)s")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    # librosa and basic-pitch compile with numba on first use (~14 s); a writable cache makes
    # every later run start in milliseconds.
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    os.environ.setdefault("NUMBA_CACHE_DIR", os.path.join(cache, "tunecraft", "numba"))


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(None, "-V", "--version", package_name="tunecraft", prog_name="tunecraft")
@click.option("-v", "--verbose", count=True, help="Say more (-vv for debugging).")
@click.option("-q", "--quiet", is_flag=True, help="Only errors.")
def cli(verbose: int, quiet: bool) -> None:
    """tunecraft: describe music, get a score, stems and a mastered track. Offline.

    \b
    Examples:
      tunecraft generate "upbeat bossa nova with flute, 45 seconds" -o out/bossa.wav
      tunecraft render song.mid -o song.wav --stems
      tunecraft info song.mid
      tunecraft convert song.mid song.musicxml
      tunecraft explain "laid-back lofi hip hop with rhodes, 85 bpm"
      tunecraft demo -o out/demo.wav          (what `make demo` runs)
    """
    _setup_logging(verbose, quiet)


def _say_bundle(bundle: Any) -> None:
    for p in bundle.paths:
        click.echo(f"wrote {p}")


# Options that mean the same on every command that has them.

def _quiet_option(f: Any) -> Any:
    def less(ctx: click.Context, _param: Any, value: bool) -> bool:
        if value:
            logging.getLogger().setLevel(logging.ERROR)
        return value

    return click.option("-q", "--quiet", "quiet_cmd", is_flag=True, callback=less,
                        help="Only errors: no progress, no file list.")(f)


def _verbose_option(f: Any) -> Any:
    def more(ctx: click.Context, _param: Any, value: int) -> int:
        if value:
            logging.getLogger().setLevel(logging.DEBUG if value > 1 else logging.INFO)
        return value

    return click.option("-v", "--verbose", "verbose_cmd", count=True, expose_value=False,
                        callback=more, help="Say more (-vv for debugging).")(f)


def _seed_option(f: Any) -> Any:
    return click.option("--seed", type=click.IntRange(min=0),
                        help="Same input + same seed = same files. Default: a random seed, "
                             "printed and recorded in the JSON.")(f)


def _audio_options(f: Any) -> Any:
    """--stems, --backend, --soundfont and --force: every command that writes a bundle."""
    for opt in reversed((
        click.option("--stems", is_flag=True,
                     help="Also write one WAV per track in OUTPUT-stems/."),
        click.option("--backend", type=click.Choice(BACKENDS), default="auto",
                     show_default=True, help="Synthesizer to use."),
        click.option("--soundfont", type=click.Path(dir_okay=False, path_type=Path),
                     help="A General MIDI SoundFont (.sf2/.sf3) to play with."),
        click.option("--force", is_flag=True,
                     help="Replace a bundle already at OUTPUT (never one of the inputs)."),
    )):
        f = opt(f)
    return _verbose_option(_quiet_option(f))


def _render_options(backend: str, soundfont: Path | None, **more: Any) -> Any:
    """RenderOptions for the command line's --backend/--soundfont, or None for the defaults."""
    from .. import RenderOptions

    if backend == "auto" and soundfont is None and not more:
        return None
    return RenderOptions(backend=backend, soundfont=str(soundfont) if soundfont else None,
                         **more)


@cli.command()
@click.argument("source", type=click.Path(dir_okay=False, path_type=Path))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Audio file to write (.wav, .flac, .mp3, .ogg); .mid, .musicxml and .json "
                   "are written beside it. Default: out/<source name>.wav")
@_audio_options
@click.option("--no-master", is_flag=True, help="Skip loudness mastering (-14 LUFS, -1 dBTP).")
def render(source: Path, output: Path | None, stems: bool, soundfont: Path | None,
           backend: str, force: bool, quiet_cmd: bool, no_master: bool) -> None:
    """Render a MIDI, MusicXML or tunecraft JSON score to audio."""
    from .. import RenderOptions, api

    output = output or Path("out") / f"{source.stem}.wav"

    api.check_bundle(output, overwrite=force, inputs=[source])  # before any work
    score = api.load(source)
    opts = RenderOptions(backend=backend, soundfont=str(soundfont) if soundfont else None,
                         master=not no_master)
    with _Spinner(quiet_cmd, "rendering"):
        bundle = api.save(score, output, stems=stems, options=opts, overwrite=force,
                          inputs=[source])
    if not quiet_cmd:
        _say_bundle(bundle)


@cli.command()
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
@_verbose_option
def info(file: Path, as_json: bool) -> None:
    """Show tempo, key, meter, tracks, length and sections of a score or audio file."""
    from .. import api

    data = api.info(file)
    if as_json:
        import json

        click.echo(json.dumps(data, indent=2, ensure_ascii=False))
        return
    click.echo(_format_info(data))


def _format_info(d: dict[str, Any]) -> str:
    if d.get("kind") == "audio":
        if d["true_peak_dbtp"] is None:
            level = "silent"
        elif d["loudness_lufs"] is None:
            level = f"quieter than -70 LUFS, true peak {d['true_peak_dbtp']:.1f} dBTP"
        else:
            level = (f"{d['loudness_lufs']:.1f} LUFS, true peak "
                     f"{d['true_peak_dbtp']:.1f} dBTP")
        return (f"{d['file']}: audio, {d['duration_seconds']:.2f} s, {d['sample_rate']} Hz, "
                f"{d['channels']} channel(s), {level}")
    lines = [f"{d['file']}" + (f"  \"{d['title']}\"" if d.get("title") else "")]
    tempos = d.get("tempos", [])
    if len(tempos) > 4:
        bpms = [t["bpm"] for t in tempos]
        tempo_txt = (f"{bpms[0]:g} bpm ({len(tempos) - 1} tempo changes, "
                     f"{min(bpms):g}-{max(bpms):g} bpm)")
    else:
        tempo_txt = ", ".join(f"{t['bpm']:g} bpm at bar {t['bar']}" if i else
                              f"{t['bpm']:g} bpm" for i, t in enumerate(tempos))
    lines.append(f"  tempo     {tempo_txt}")
    lines.append("  key       " + ", ".join(k["name"] for k in d.get("keys", [])))
    lines.append("  meter     " + ", ".join(m["meter"] for m in d.get("meters", [])))
    lines.append(f"  length    {d['duration_seconds']:.2f} s, {d['bars']} bars, "
                 f"{d['note_count']} notes")
    lines.append("  tracks")
    for t in d.get("tracks", []):
        rng = f"{t['lowest']}-{t['highest']}" if t.get("lowest") else ""
        lines.append(f"    {t['name']:<18} {t['instrument']:<26} {t['role']:<9} "
                     f"{t['notes']:>5} notes  {rng}")
    if d.get("sections"):
        lines.append("  sections")
        for s in d["sections"]:
            lines.append(f"    {s['start_seconds']:>7.2f} s  bar {s['bar']:<4} {s['name']}")
    if d.get("chords"):
        lines.append(f"  chords    {d['chords']}")
    return "\n".join(lines)


@cli.command()
@click.argument("source", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("destination", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--backend", type=click.Choice(BACKENDS), default="auto", show_default=True,
              help="Synthesizer, when a score becomes audio.")
@click.option("--soundfont", type=click.Path(dir_okay=False, path_type=Path),
              help="A General MIDI SoundFont (.sf2/.sf3), when a score becomes audio.")
@click.option("--force", is_flag=True, help="Replace DESTINATION if it exists.")
@_quiet_option
@_verbose_option
def convert(source: Path, destination: Path, backend: str, soundfont: Path | None, force: bool,
            quiet_cmd: bool) -> None:
    """Convert between formats: MIDI <-> MusicXML, score -> JSON or audio, WAV -> MP3/FLAC."""
    from .. import api

    written = api.convert(source, destination, options=_render_options(backend, soundfont),
                          overwrite=force)
    if not quiet_cmd:
        click.echo(f"wrote {written}")


def _slug(text: str, limit: int = 40) -> str:
    import re
    import unicodedata

    t = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    t = re.sub(r"[^a-z0-9]+", "-", t).strip("-")
    return (t[:limit].rstrip("-") or "music")


def _notate_ahead(composition: Any) -> None:
    """The bundle's MusicXML is made while the audio renders (:func:`api.notate_ahead`)."""
    from .. import api

    api.notate_ahead(composition.score)


@cli.command()
@click.argument("prompt", nargs=-1, required=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Audio file to write (.wav, .flac, .mp3, .ogg); .mid, .musicxml and .json "
                   "are written beside it. Default: out/<prompt>-<seed>.wav")
@click.option("--duration", type=float, help="Length in seconds (default 30, or as the "
                                             "prompt says).")
@_seed_option
@click.option("--bpm", type=float, help="Tempo in BPM (overrides the prompt).")
@click.option("--key", help="Key, e.g. 'D minor' (overrides the prompt).")
@click.option("--meter", help="Meter, e.g. 6/8 (overrides the prompt).")
@click.option("--instruments", "instruments", multiple=True,
              help="Instruments to use (repeat or separate with commas).")
@_audio_options
@click.option("--check-audio", is_flag=True,
              help="Also measure the tempo of the rendered audio (librosa; slower).")
@click.option("--lyrics", help="Words to sing: the text, or a .txt file (stanzas separated by "
                               "blank lines; [chorus] marks the chorus).")
@click.option("--melisma", is_flag=True, help="Let a held syllable at a line's end move over "
                                              "a few notes (one note per syllable otherwise).")
@click.option("--sing", is_flag=True, help="With --lyrics: a voice sings them in the mix (the "
                                           "score is unchanged; the vocal is a stem).")
@click.option("--voice", help="With --sing: a voice from `tunecraft voices`.")
@click.option("--melody-engine", type=click.Choice(["rules", "learned"]), default="rules",
              show_default=True, help="Write the tune from motifs, or sample it from a "
                                      "model (--model, default: the one shipped).")
@click.option("--engine", type=click.Choice(["local", "musicgen", "musicgen-melody"]),
              default="local", show_default=True,
              help="Who plays the composed piece: the synthesizer, or a MusicGen model from "
                   "--model DIR (musicgen-melody follows the score's tune and chords).")
@click.option("--model", "model_dir", type=click.Path(file_okay=False, path_type=Path),
              help="A model folder: with --melody-engine learned, one written by `train`; "
                   "with --engine musicgen(-melody), the MusicGen weights (default: "
                   "$TUNECRAFT_MUSICGEN / $TUNECRAFT_MUSICGEN_MELODY).")
def generate(prompt: tuple[str, ...], output: Path | None, duration: float | None,
             seed: int | None, bpm: float | None, key: str | None, meter: str | None,
             instruments: tuple[str, ...], stems: bool, backend: str, soundfont: Path | None,
             force: bool, check_audio: bool, lyrics: str | None, melisma: bool, sing: bool,
             voice: str | None, melody_engine: str, engine: str, model_dir: Path | None,
             quiet_cmd: bool) -> None:
    """Compose music from a description in words (English, Spanish or Portuguese)."""
    from .. import api

    text = " ".join(prompt)
    seed = api.resolve_seed(seed)
    out = output or Path("out") / f"{_slug(text)}-{seed}.wav"
    lyric_inputs = [lyrics] if lyrics and Path(lyrics).exists() else []
    api.check_bundle(out, overwrite=force, inputs=lyric_inputs)  # before any work
    names = [n.strip() for item in instruments for n in item.split(",") if n.strip()]
    show = not quiet_cmd and sys.stderr.isatty()
    options = _render_options(backend, soundfont)
    kwargs = dict(duration=duration, seed=seed, bpm=bpm, key=key, meter=meter,
                  instruments=names or None, stems=stems, options=options,
                  check_audio=check_audio, melody_engine=melody_engine, lyrics=lyrics,
                  melisma=melisma, model=model_dir if engine == "local" else None,
                  composed=_notate_ahead, sing=sing, voice=voice, engine=engine,
                  engine_model=model_dir if engine != "local" else None)
    if show:
        with click.progressbar(length=100, label="tunecraft", file=sys.stderr,
                               show_eta=False) as bar:
            done = [0]

            def progress(stage: str, fraction: float) -> None:
                bar.label = f"{stage:<13}"
                target = int(fraction * 100)
                bar.update(max(0, target - done[0]))
                done[0] = max(done[0], target)

            result = api.generate(text, progress=progress, **kwargs)
            progress("writing files", 0.92)  # MusicXML and the audio files take a moment
            bundle = result.save(out, stems=stems, overwrite=force, inputs=lyric_inputs)
            progress("done", 1.0)
    else:
        result = api.generate(text, **kwargs)
        bundle = result.save(out, stems=stems, overwrite=force, inputs=lyric_inputs)
    if not quiet_cmd:
        spec = result.spec
        click.echo(f"{spec.style.replace('_', ' ')}, {spec.bpm:g} bpm, {result.score.key.name}, "
                   f"{spec.meter[0]}/{spec.meter[1]}, {result.score.duration_seconds:.1f} s, "
                   f"seed {result.seed}")
        _say_bundle(bundle)
        if result.report is not None and not result.report.passed:
            click.echo("warning: " + "; ".join(c.name for c in result.report.failures),
                       err=True)


@cli.command()
@click.argument("prompt", nargs=-1, required=True)
@click.option("--duration", type=float, help="Length in seconds (overrides the prompt).")
@click.option("--bpm", type=float, help="Tempo in BPM (overrides the prompt).")
@click.option("--key", help="Key, e.g. 'D minor' (overrides the prompt).")
@click.option("--meter", help="Meter, e.g. 6/8 (overrides the prompt).")
@click.option("--json", "as_json", is_flag=True, help="Print the spec as JSON.")
@_verbose_option
def explain(prompt: tuple[str, ...], duration: float | None, bpm: float | None, key: str | None,
            meter: str | None, as_json: bool) -> None:
    """Show how a request is understood: every attribute and the words that set it."""
    from .. import api

    spec = api.understand(" ".join(prompt), duration=duration, bpm=bpm, key=key, meter=meter)
    if as_json:
        import json

        click.echo(json.dumps(spec.to_dict(), indent=2, ensure_ascii=False))
    else:
        click.echo(api.explain(spec))


def _words_line(words: list[str], width: int = 96) -> str:
    text = ", ".join(words)
    return text if len(text) <= width else text[: width - 3].rsplit(", ", 1)[0] + ", ..."


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@_verbose_option
def styles(as_json: bool) -> None:
    """List the styles (one data file each) and the words that ask for them (en/es/pt)."""
    from .. import api

    data = api.styles()
    if as_json:
        import json

        click.echo(json.dumps(data, indent=2, ensure_ascii=False))
        return
    for st in data:
        click.echo(f"{st['id']:<14} {st['description']}")
        click.echo(f"{'':<14} {st['tempo'][0]:g}-{st['tempo'][1]:g} bpm (usually "
                   f"{st['default_bpm']:g}), {', '.join(st['meters'])}; words: "
                   f"{_words_line(st['words'], 60)}")


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@_verbose_option
def instruments(as_json: bool) -> None:
    """List the instruments a request can name, their sound and the words for them."""
    from .. import api

    data = api.instruments()
    if as_json:
        import json

        click.echo(json.dumps(data, indent=2, ensure_ascii=False))
        return
    for inst in data:
        click.echo(f"{inst['name']:<20} {inst['sound']:<26} {inst['role'] or '':<10} "
                   f"{_words_line(inst['words'], 60)}")


@cli.command()
@_quiet_option
@_verbose_option
def warm(quiet_cmd: bool) -> None:
    """Compile the audio analysis code once (15-40 s) so arrange and transcribe start at once.

    `make install` runs this; the compiled code is kept in NUMBA_CACHE_DIR (by default
    ~/.cache/tunecraft/numba)."""
    from .. import api

    with _Spinner(quiet_cmd, "compiling the audio analysis (once)"):
        seconds = api.warm()
    if not quiet_cmd:
        click.echo(f"ready ({seconds:.1f} s); cache: {os.environ.get('NUMBA_CACHE_DIR')}")


DEMO_PROMPT = "An 80s driving pop song with heavy drums and synth pads in the background"


@cli.command()
@click.option("-o", "--output", default="out/demo.wav", show_default=True,
              type=click.Path(dir_okay=False, path_type=Path), help="Audio file to write.")
@click.option("--prompt", default=DEMO_PROMPT, show_default=True, help="What to generate.")
@click.option("--seed", type=click.IntRange(min=0), default=1, show_default=True)
@click.option("--duration", type=float, default=40.0, show_default=True)
@click.option("--chorale", is_flag=True,
              help="Instead: a Bach chorale from music21's corpus arranged for strings and organ.")
@click.option("--examples", type=click.Path(file_okay=False, path_type=Path),
              help="Also write the README's example inputs (song.mid, hum.wav, ...) here.")
@_audio_options
def demo(output: Path, prompt: str, seed: int, duration: float, chorale: bool,
         examples: Path | None, stems: bool, backend: str, soundfont: Path | None, force: bool,
         quiet_cmd: bool) -> None:
    """Write the demo: music from a caption of the founding demos (or a Bach chorale)."""
    from .. import api

    api.check_bundle(output, overwrite=force)
    with _Spinner(quiet_cmd, "composing and rendering the demo"):
        if chorale:
            bundle = api.save(api.chorale_demo(), output, stems=stems, overwrite=force,
                              options=_render_options(backend, soundfont, reverb=0.3))
        else:
            result = api.generate(prompt, seed=seed, duration=duration, stems=stems,
                                  options=_render_options(backend, soundfont))
            bundle = result.save(output, stems=stems, overwrite=force)
        written: list[Path] = []
        if examples is not None:
            written = api.write_examples(examples, overwrite=force)
    if quiet_cmd:
        return
    if not chorale:
        click.echo(f"{prompt!r} -> {result.spec.style.replace('_', ' ')}, {result.spec.bpm:g} "
                   f"bpm, {result.score.key.name}, seed {seed}")
    _say_bundle(bundle)
    for p in written:
        click.echo(f"wrote {p}")


@cli.command()
@click.argument("timeline", nargs=-1)
@click.option("--file", "timeline_file", type=click.Path(dir_okay=False, path_type=Path),
              help="A text file with one 'M:SS prompt' line per segment.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Audio file to write (default: out/story-<seed>.wav).")
@click.option("--duration", type=float, help="Total length in seconds (default: the last "
                                             "time + 15 s).")
@_seed_option
@_audio_options
def story(timeline: tuple[str, ...], timeline_file: Path | None, output: Path | None,
          duration: float | None, seed: int | None, stems: bool, backend: str,
          soundfont: Path | None, force: bool, quiet_cmd: bool) -> None:
    """One piece that follows a timeline of prompts, switching at the given times.

    \b
    Example:
      tunecraft story "0:00 time to meditate" "0:15 time to wake up" \\
                      "0:30 time to run" "0:45 time to give 100%" --duration 60
    """
    from .. import api
    from ..errors import ParameterError

    lines = list(timeline)
    if timeline_file is not None:
        lines += api.read_timeline(timeline_file)
    if not lines:
        raise ParameterError("give the timeline: \"0:00 PROMPT\" \"0:15 PROMPT\" ... or "
                             "--file story.txt")
    seed = api.resolve_seed(seed)
    out = output or Path("out") / f"story-{seed}.wav"
    inputs = [timeline_file] if timeline_file is not None else []
    api.check_bundle(out, overwrite=force, inputs=inputs)
    with _Spinner(quiet_cmd, "composing the story"):
        result = api.story(lines, duration=duration, seed=seed,
                           options=_render_options(backend, soundfont), stems=stems)
    bundle = result.save(out, stems=stems, overwrite=force, inputs=inputs)
    if not quiet_cmd:
        for seg in result.meta["story"]["segments"]:
            click.echo(f"{seg['actual_seconds']:7.2f} s  (asked {seg['requested_seconds']:g} "
                       f"s)  {seg['prompt']}  -> {seg['style'].replace('_', ' ')}, "
                       f"{seg['bpm']:g} bpm")
        _say_bundle(bundle)


@cli.command()
@click.argument("melody", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("prompt", nargs=-1, required=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Audio file to write; .mid, .musicxml and .json beside it. Default: "
                   "out/<melody name>-arranged-<seed>.wav")
@click.option("--duration", type=float, help="Length in seconds (default: intro, the tune, an "
                                             "ending).")
@_seed_option
@_audio_options
def arrange(melody: Path, prompt: tuple[str, ...], output: Path | None, duration: float | None,
            seed: int | None, stems: bool, backend: str, soundfont: Path | None, force: bool,
            quiet_cmd: bool) -> None:
    """Arrange a hummed, whistled or MIDI melody in a style: the tune stays in the lead.

    \b
    Examples:
      tunecraft arrange hum.wav "string quartet" -o out/quartet.wav
      tunecraft arrange tune.mid "jazz with saxophone" -o out/jazz.wav
    """
    from .. import api

    seed = api.resolve_seed(seed)
    output = output or Path("out") / f"{melody.stem}-arranged-{seed}.wav"
    api.check_bundle(output, overwrite=force, inputs=[melody])
    with _Spinner(quiet_cmd, "listening and arranging"):
        result = api.arrange(melody, " ".join(prompt), seed=seed, duration=duration,
                             options=_render_options(backend, soundfont), stems=stems)
    bundle = result.save(output, stems=stems, overwrite=force, inputs=[melody])
    if not quiet_cmd:
        heard = result.meta["melody_heard"]
        click.echo(f"heard {heard['note_count']} notes at {heard['bpm']:g} bpm in "
                   f"{heard['key']}, {heard['meter']}; seed {seed}")
        _say_bundle(bundle)


@cli.command(name="continue")
@click.argument("source", type=click.Path(dir_okay=False, path_type=Path))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Audio file to write; .mid, .musicxml and .json beside it. Default: "
                   "out/<source name>-continued-<seed>.wav")
@click.option("--duration", type=float, required=True, help="Seconds of new music.")
@click.option("--prompt", help="What should change, e.g. 'faster, with strings'.")
@click.option("--only-new", is_flag=True, help="Write the continuation alone.")
@click.option("--engine", type=click.Choice(["local", "musicgen", "musicgen-melody"]),
              default="local", show_default=True,
              help="Compose the continuation (local), or continue the audio itself with a "
                   "MusicGen model from --model DIR (its audio prompt).")
@click.option("--model", "model_dir", type=click.Path(file_okay=False, path_type=Path),
              help="With --engine musicgen: the MusicGen weights (default: "
                   "$TUNECRAFT_MUSICGEN).")
@_seed_option
@_audio_options
def continue_cmd(source: Path, output: Path | None, duration: float, prompt: str | None,
                 only_new: bool, engine: str, model_dir: Path | None, seed: int | None,
                 stems: bool, backend: str, soundfont: Path | None, force: bool,
                 quiet_cmd: bool) -> None:
    """Continue a MIDI, MusicXML or audio file: same tempo, meter, key and instruments."""
    from .. import api

    seed = api.resolve_seed(seed)
    output = output or Path("out") / f"{source.stem}-continued-{seed}.wav"
    if engine != "local":
        api.check_voice_target(output, overwrite=force, inputs=[source])
        with _Spinner(quiet_cmd, f"continuing with {engine}"):
            result = api.continue_neural(source, duration=duration, prompt=prompt, seed=seed,
                                         engine=engine, engine_model=model_dir)
        paths = api.save_voice(result, output, overwrite=force, inputs=[source])
        if not quiet_cmd:
            click.echo(f"continued {source} by {duration:g} s with {engine}, seed {seed}")
            for p in paths:
                click.echo(f"wrote {p}")
        return
    api.check_bundle(output, overwrite=force, inputs=[source])
    with _Spinner(quiet_cmd, "continuing"):
        result = api.continue_music(source, duration=duration, prompt=prompt, seed=seed,
                                    only_new=only_new, options=_render_options(backend, soundfont),
                                    stems=stems)
    bundle = result.save(output, stems=stems, overwrite=force, inputs=[source])
    if not quiet_cmd:
        click.echo(f"continued {source} by {duration:g} s, seed {seed}")
        _say_bundle(bundle)


# ----------------------------------------------------------------------------------------------
# Learning from music: transcribe, ingest, train, sample, evaluate


class _Bar:
    """A progress bar on stderr fed ``(done, total)``; a new ``label`` starts a new bar.

    Silent when quiet or when stderr is not a terminal. ``close()`` ends the bar in use.
    """

    def __init__(self, quiet: bool) -> None:
        self.on = not quiet and sys.stderr.isatty()
        self.bar: Any = None
        self.label: str | None = None
        self.done = 0

    def update(self, label: str, done: int, total: int) -> None:
        if label != self.label:
            self.close()
            self.label, self.done = label, 0
            if self.on and total > 0:
                self.bar = click.progressbar(length=total, label=label, file=sys.stderr,
                                             show_eta=True)
                self.bar.__enter__()
        if self.bar is not None:
            self.bar.update(done - self.done)
        self.done = done

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
            self.bar = None


def _duration(seconds: float) -> str:
    seconds = max(0, round(seconds))
    if seconds < 90:
        return f"{seconds} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


class _Spinner:
    """A line on stderr that says what is happening while a step without its own progress
    runs (a cold librosa or music21 start can take many seconds); the time taken at the end.

    Silent when quiet or when stderr is not a terminal.
    """

    def __init__(self, quiet: bool, label: str) -> None:
        self.on = not quiet and sys.stderr.isatty()
        self.label = label
        self._stop: Any = None
        self._thread: Any = None

    def __enter__(self) -> _Spinner:
        if self.on:
            import threading
            import time

            self._stop = threading.Event()
            t0 = time.monotonic()

            def spin() -> None:
                frames = "|/-\\"
                i = 0
                while not self._stop.wait(0.2):
                    sys.stderr.write(f"\r{frames[i % 4]} {self.label}... "
                                     f"{time.monotonic() - t0:4.0f} s")
                    sys.stderr.flush()
                    i += 1
                sys.stderr.write(f"\r{self.label}: {time.monotonic() - t0:.1f} s" + " " * 8
                                 + "\n")
                sys.stderr.flush()

            self._thread = threading.Thread(target=spin, daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._thread is not None:
            self._stop.set()
            self._thread.join()


@cli.command()
@click.argument("source", type=click.Path(dir_okay=False, path_type=Path))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="MIDI file to write (.mid); a .json report is written beside it. Default: "
                   "out/<source name>.mid")
@click.option("--force", is_flag=True, help="Replace files already at OUTPUT (never the input).")
@_quiet_option
@_verbose_option
@click.option("--onset-threshold", type=float, help="Basic Pitch onset threshold (0-1).")
@click.option("--frame-threshold", type=float, help="Basic Pitch frame threshold (0-1).")
@click.option("--min-note-ms", type=float, help="Shortest note kept, in milliseconds.")
@click.option("--pitch-bends", is_flag=True, help="Keep pitch bends (in the JSON report).")
@click.option("--no-quantize", is_flag=True, help="Keep the played timing (no grid).")
def transcribe(source: Path, output: Path | None, force: bool, quiet_cmd: bool,
               onset_threshold: float | None, frame_threshold: float | None,
               min_note_ms: float | None, pitch_bends: bool, no_quantize: bool) -> None:
    """Transcribe audio (WAV, MP3, FLAC, OGG) to MIDI with Basic Pitch."""
    from .. import api

    output = output or Path("out") / f"{source.stem}.mid"
    api.check_transcription_target(output, overwrite=force, inputs=[source])
    given = {"onset_threshold": onset_threshold, "frame_threshold": frame_threshold,
             "min_note_ms": min_note_ms}
    with _Spinner(quiet_cmd, "listening (Basic Pitch)"):
        result = api.transcribe(source, **{k: v for k, v in given.items() if v is not None},
                                pitch_bends=pitch_bends, quantize=not no_quantize)
    paths = api.save_transcription(result, output, source=source, overwrite=force)
    if quiet_cmd:
        return
    click.echo(f"{result.notes_kept} notes at {result.bpm:g} bpm "
               f"({result.seconds:.1f} s of audio)")
    for p in paths:
        click.echo(f"wrote {p}")


@cli.command()
@click.argument("sources", nargs=-1, required=True)
@click.option("-o", "--output", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Corpus folder (created; resumable).")
@click.option("--engine", type=click.Choice(["local", "ray"]), default="local",
              show_default=True, help="Local process pool, or Ray (cluster from RAY_ADDRESS).")
@click.option("--workers", type=click.IntRange(min=1), help="Parallel workers (default: cores).")
@_quiet_option
@_verbose_option
def ingest(sources: tuple[str, ...], output: Path, engine: str, workers: int | None,
           quiet_cmd: bool) -> None:
    """Build a corpus from folders of MIDI, MusicXML, ABC and audio, or corpus:NAME.

    \b
    Built-in corpora from music21: corpus:bach-chorales, corpus:essen-folk, corpus:oneill,
    corpus:ryans (add :N to take the first N pieces).
    """
    from .. import api

    bar = _Bar(quiet_cmd)
    try:
        report = api.ingest(sources, output, engine=engine, workers=workers,
                         progress=lambda done, total: bar.update("ingesting", done, total))
    finally:
        bar.close()
    click.echo(f"{report.added} added, {report.already} already there, {report.skipped} "
               f"skipped, {report.failed} failed -> {output}")
    for entry in report.entries:
        if entry.get("status") in ("skipped", "failed") and not quiet_cmd:
            click.echo(f"  {entry['status']}: {entry['source']}: {entry.get('reason', '')}")


@cli.command()
@click.argument("corpus", type=click.Path(file_okay=False, path_type=Path))
@click.option("-o", "--output", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Model folder to write.")
@click.option("--model", "kind", type=click.Choice(["lstm", "transformer"]),
              default="transformer", show_default=True)
@click.option("--epochs", type=click.IntRange(min=1), default=10, show_default=True)
@click.option("--batch-size", type=click.IntRange(min=1), default=32, show_default=True)
@click.option("--seq-len", type=click.IntRange(min=8), help="Tokens per training window.")
@click.option("--lr", type=float, help="Learning rate.")
@click.option("--device", type=click.Choice(["cpu", "cuda"]), default="cpu", show_default=True)
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True)
@click.option("--resume", is_flag=True, help="Continue from the last checkpoint in OUTPUT.")
@click.option("--engine", type=click.Choice(["local", "ray"]), default="local",
              show_default=True, help="Data preparation on a local process pool, or on Ray "
              "(cluster from RAY_ADDRESS).")
@click.option("--workers", type=click.IntRange(min=1),
              help="Parallel data-preparation workers (default: cores).")
@_quiet_option
@_verbose_option
def train(corpus: Path, output: Path, kind: str, epochs: int, batch_size: int,
          seq_len: int | None, lr: float | None, device: str, seed: int, resume: bool,
          engine: str, workers: int | None, quiet_cmd: bool) -> None:
    """Train a sequence model (the tutorial's LSTM or a Transformer) on a corpus."""
    import time

    from .. import api

    bar = _Bar(quiet_cmd)
    started = time.monotonic()
    finished: list[float] = []  # seconds of each finished epoch

    def batches(epoch: int, done: int, total: int) -> None:
        bar.update(f"epoch {epoch}/{epochs}", done, total)

    def progress(info: Any) -> None:
        bar.close()
        finished.append(time.monotonic() - started - sum(finished))
        if quiet_cmd:
            return
        left = epochs - getattr(info, "epoch", len(finished))
        eta = f"; about {_duration(left * sum(finished) / len(finished))} to go" if left > 0 \
            else ""
        click.echo(f"{info} (of {epochs}{eta})", err=True)

    kwargs: dict[str, Any] = {"model": kind, "epochs": epochs, "batch_size": batch_size,
                              "device": device, "out_dir": output, "seed": seed,
                              "resume": resume, "progress": progress, "engine": engine,
                              "workers": workers, "batch_progress": batches}
    if seq_len is not None:
        kwargs["seq_len"] = seq_len
    if lr is not None:
        kwargs["lr"] = lr
    try:
        report = api.train(corpus, **kwargs)
    finally:
        bar.close()
    click.echo(str(report))
    click.echo(f"wrote {output}")


@cli.command()
@click.argument("model_dir", required=False, type=click.Path(file_okay=False, path_type=Path))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Audio file to write; .mid, .musicxml and .json beside it. Default: "
                   "out/sample-<seed>.wav")
@click.option("--prompt-midi", type=click.Path(dir_okay=False, path_type=Path),
              help="A MIDI (or MusicXML) file to continue.")
@click.option("--bars", type=click.IntRange(min=1, max=512), default=8, show_default=True)
@click.option("--temperature", type=click.FloatRange(min=0.01, max=5.0), default=1.0,
              show_default=True)
@click.option("--top-p", type=click.FloatRange(min=0.01, max=1.0), default=0.95,
              show_default=True)
@_seed_option
@_audio_options
def sample(model_dir: Path | None, output: Path | None, prompt_midi: Path | None, bars: int,
           temperature: float, top_p: float, seed: int | None, stems: bool, backend: str,
           soundfont: Path | None, force: bool, quiet_cmd: bool) -> None:
    """Sample music from a trained model (default: the model shipped with tunecraft)."""
    from .. import api

    seed = api.resolve_seed(seed)
    output = output or Path("out") / f"sample-{seed}.wav"
    inputs = [prompt_midi] if prompt_midi is not None else []
    api.check_bundle(output, overwrite=force, inputs=inputs)
    prompt = api.load(prompt_midi) if prompt_midi is not None else None
    with _Spinner(quiet_cmd, "sampling and rendering"):
        score = api.sample(model_dir, prompt=prompt, bars=bars, temperature=temperature,
                        top_p=top_p, seed=seed)
        bundle = api.save(score, output, options=_render_options(backend, soundfont),
                          stems=stems, overwrite=force, inputs=inputs,
                          extra={"request": {
                              "model": str(model_dir or "default"), "bars": bars,
                              "temperature": temperature, "top_p": top_p, "seed": seed,
                              "prompt_midi": str(prompt_midi) if prompt_midi else None}})
    if quiet_cmd:
        return
    click.echo(f"sampled {bars} bars, seed {seed}")
    _say_bundle(bundle)


@cli.command()
@click.argument("files", nargs=-1, required=True,
                type=click.Path(dir_okay=False, path_type=Path))
@click.option("--reference", type=click.Path(file_okay=False, path_type=Path),
              help="A corpus folder to compare the files with.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("--plot", is_flag=True, help="Write FILE.png piano rolls beside the files.")
@_verbose_option
def evaluate(files: tuple[Path, ...], reference: Path | None, as_json: bool,
             plot: bool) -> None:
    """Measure music: pitch-class entropy, scale and groove consistency, empty beats,
    polyphony, range, density; and the distance to a reference corpus."""
    from .. import api

    data = api.evaluate_files(list(files), reference=reference, plot=plot)
    if as_json:
        import json

        click.echo(json.dumps(data, indent=2, ensure_ascii=False))
        return
    for item in data["files"]:
        m = item["metrics"]
        click.echo(f"{item['file']}")
        for k, v in m.items():
            if isinstance(v, (int, float)):
                click.echo(f"  {k:<22} {v:.3f}" if isinstance(v, float) else f"  {k:<22} {v}")
        if item.get("plot"):
            click.echo(f"  wrote {item['plot']}")
    ref = data.get("reference")
    if ref:
        dist = ref.get("distance") or {}
        click.echo(f"compared with {ref['corpus']} ({ref['size']} pieces):")
        if not dist:
            click.echo("  too few pieces for a distribution distance (3 or more in all)")
        for k, v in dist.items():
            if k.endswith(".overlap"):
                kl = dist.get(k[: -len(".overlap")] + ".kl")
                click.echo(f"  {k[: -len('.overlap')]:<22} overlap {v:.3f}   KL {kl:.3f}")


from . import batch as _batch  # noqa: E402,F401  (registers batch)
from . import chat as _chat  # noqa: E402,F401  (registers chat)
from . import serve as _serve  # noqa: E402,F401  (registers serve)
from . import sound as _sound  # noqa: E402,F401  (registers sound, separate, denoise, mix)
from . import voice as _voice  # noqa: E402,F401  (registers speak, listen, sing...)


def main(argv: list[str] | None = None) -> None:
    cli.main(args=argv, prog_name="tunecraft")


if __name__ == "__main__":  # pragma: no cover
    main()
