"""``tunecraft`` command line. Heavy modules are imported inside the commands, so ``--help`` is
quick. Errors a user can cause print one line and exit with code 2."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import Any

import click

from .. import __version__
from ..errors import TunecraftError

BACKENDS = ("auto", "fluidsynth", "tinysoundfont", "sine")


class _Group(click.Group):
    """Turns tunecraft errors into one line on stderr and exit code 2."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except TunecraftError as exc:
            click.echo(f"tunecraft: error: {exc}", err=True)
            sys.exit(exc.exit_code)
        except KeyboardInterrupt:
            click.echo("tunecraft: interrupted", err=True)
            sys.exit(130)
        except (click.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except Exception as exc:
            if os.environ.get("TUNECRAFT_DEBUG"):
                raise
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
            click.echo(f"tunecraft: internal error: {type(exc).__name__}: {first} "
                       "(set TUNECRAFT_DEBUG=1 to see the traceback)", err=True)
            sys.exit(1)


def _setup_logging(verbose: int, quiet: bool) -> None:
    level = logging.ERROR if quiet else (logging.DEBUG if verbose > 1 else
                                         logging.INFO if verbose else logging.WARNING)
    logging.basicConfig(level=level, format="tunecraft: %(levelname)s: %(message)s")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "-V", "--version", prog_name="tunecraft")
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


@cli.command()
@click.argument("source", type=click.Path(dir_okay=False, path_type=Path))
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Audio file to write (.wav, .flac, .mp3, .ogg); .mid, .musicxml and .json "
                   "are written beside it.")
@click.option("--stems", is_flag=True, help="Also write one WAV per track in OUTPUT-stems/.")
@click.option("--soundfont", type=click.Path(dir_okay=False, path_type=Path),
              help="A General MIDI SoundFont (.sf2/.sf3) to play with.")
@click.option("--backend", type=click.Choice(BACKENDS), default="auto", show_default=True,
              help="Synthesizer to use.")
@click.option("--no-master", is_flag=True, help="Skip loudness mastering (-14 LUFS, -1 dBTP).")
def render(source: Path, output: Path, stems: bool, soundfont: Path | None, backend: str,
           no_master: bool) -> None:
    """Render a MIDI, MusicXML or tunecraft JSON score to audio."""
    from .. import api
    from ..render import RenderOptions

    api.bundle_paths(output)  # refuse a bad extension before any work
    score = api.load(source)
    opts = RenderOptions(backend=backend, soundfont=str(soundfont) if soundfont else None,
                         master=not no_master)
    _say_bundle(api.save(score, output, stems=stems, options=opts))


@cli.command()
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
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
        return (f"{d['file']}: audio, {d['duration_seconds']:.2f} s, {d['sample_rate']} Hz, "
                f"{d['channels']} channel(s), {d['loudness_lufs']:.1f} LUFS, "
                f"true peak {d['true_peak_dbtp']:.1f} dBTP")
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
def convert(source: Path, destination: Path) -> None:
    """Convert between formats: MIDI <-> MusicXML, score -> JSON or audio, WAV -> MP3/FLAC."""
    from .. import api

    click.echo(f"wrote {api.convert(source, destination)}")


def _slug(text: str, limit: int = 40) -> str:
    import re
    import unicodedata

    t = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    t = re.sub(r"[^a-z0-9]+", "-", t).strip("-")
    return (t[:limit].rstrip("-") or "music")


@cli.command()
@click.argument("prompt", nargs=-1, required=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Audio file to write (.wav, .flac, .mp3, .ogg); .mid, .musicxml and .json "
                   "are written beside it. Default: out/<prompt>-<seed>.wav")
@click.option("--duration", type=float, help="Length in seconds (default 30, or as the "
                                             "prompt says).")
@click.option("--seed", type=click.IntRange(min=0), help="Same prompt + same seed = same files.")
@click.option("--bpm", type=float, help="Tempo in BPM (overrides the prompt).")
@click.option("--key", help="Key, e.g. 'D minor' (overrides the prompt).")
@click.option("--meter", help="Meter, e.g. 6/8 (overrides the prompt).")
@click.option("--instruments", "instruments", multiple=True,
              help="Instruments to use (repeat or separate with commas).")
@click.option("--stems", is_flag=True, help="Also write one WAV per track in OUTPUT-stems/.")
@click.option("--backend", type=click.Choice(BACKENDS), default="auto", show_default=True)
@click.option("--check-audio", is_flag=True,
              help="Also measure the tempo of the rendered audio (librosa; slower).")
@click.option("-q", "--quiet", "quiet_cmd", is_flag=True, help="No progress bar, no file list.")
def generate(prompt: tuple[str, ...], output: Path | None, duration: float | None,
             seed: int | None, bpm: float | None, key: str | None, meter: str | None,
             instruments: tuple[str, ...], stems: bool, backend: str, check_audio: bool,
             quiet_cmd: bool) -> None:
    """Compose music from a description in words (English, Spanish or Portuguese)."""
    import secrets

    from .. import api
    from ..render import RenderOptions

    text = " ".join(prompt)
    if seed is None:
        seed = secrets.randbelow(2**31)
    out = output or Path("out") / f"{_slug(text)}-{seed}.wav"
    api.bundle_paths(out)  # a bad extension fails before any work
    names = [n.strip() for item in instruments for n in item.split(",") if n.strip()]
    show = not quiet_cmd and sys.stderr.isatty()
    options = None if backend == "auto" else RenderOptions(backend=backend)
    if show:
        with click.progressbar(length=100, label="tunecraft", file=sys.stderr,
                               show_eta=False) as bar:
            done = [0]

            def progress(stage: str, fraction: float) -> None:
                bar.label = f"{stage:<13}"
                target = int(fraction * 100)
                bar.update(max(0, target - done[0]))
                done[0] = max(done[0], target)

            result = api.generate(text, duration=duration, seed=seed, bpm=bpm, key=key,
                                  meter=meter, instruments=names or None, stems=stems,
                                  options=options, check_audio=check_audio, progress=progress)
    else:
        result = api.generate(text, duration=duration, seed=seed, bpm=bpm, key=key,
                              meter=meter, instruments=names or None, stems=stems,
                              options=options, check_audio=check_audio)
    bundle = result.save(out, stems=stems)
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
def explain(prompt: tuple[str, ...], duration: float | None, bpm: float | None, key: str | None,
            meter: str | None, as_json: bool) -> None:
    """Show how a request is understood: every attribute and the words that set it."""
    from ..understand import explain as _explain
    from ..understand import parse

    spec = parse(" ".join(prompt), duration=duration, bpm=bpm, key=key, meter=meter)
    if as_json:
        import json

        click.echo(json.dumps(spec.to_dict(), indent=2, ensure_ascii=False))
    else:
        click.echo(_explain(spec))


DEMO_PROMPT = "An 80s driving pop song with heavy drums and synth pads in the background"


@cli.command()
@click.option("-o", "--output", default="out/demo.wav", show_default=True,
              type=click.Path(dir_okay=False, path_type=Path), help="Audio file to write.")
@click.option("--prompt", default=DEMO_PROMPT, show_default=True, help="What to generate.")
@click.option("--seed", type=click.IntRange(min=0), default=1, show_default=True)
@click.option("--duration", type=float, default=40.0, show_default=True)
@click.option("--chorale", is_flag=True,
              help="Instead: a Bach chorale from music21's corpus arranged for strings and organ.")
@click.option("--stems", is_flag=True, help="Also write one WAV per track.")
@click.option("--backend", type=click.Choice(BACKENDS), default="auto", show_default=True)
def demo(output: Path, prompt: str, seed: int, duration: float, chorale: bool, stems: bool,
         backend: str) -> None:
    """Write the demo: music from a caption of the founding demos (or a Bach chorale)."""
    from .. import api
    from ..render import RenderOptions

    api.bundle_paths(output)
    options = None if backend == "auto" else RenderOptions(backend=backend)
    if chorale:
        from ..demo import demo_score

        bundle = api.save(demo_score(), output, stems=stems,
                          options=RenderOptions(backend=backend, reverb=0.3))
    else:
        result = api.generate(prompt, seed=seed, duration=duration, stems=stems,
                              options=options)
        bundle = result.save(output, stems=stems)
        click.echo(f"{prompt!r} -> {result.spec.style.replace('_', ' ')}, {result.spec.bpm:g} "
                   f"bpm, {result.score.key.name}, seed {seed}")
    _say_bundle(bundle)


def main(argv: list[str] | None = None) -> None:
    cli.main(args=argv, prog_name="tunecraft")


if __name__ == "__main__":  # pragma: no cover
    main()
