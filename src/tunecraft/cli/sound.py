"""Sound tools: ``sound``, ``separate``, ``denoise`` and ``mix``, thin over :mod:`tunecraft.api`."""

from __future__ import annotations

from pathlib import Path

import click

from ..errors import ParameterError
from .main import _quiet_option, _slug, _Spinner, _verbose_option, cli
from .voice import _force_option, _say_written


@cli.command()
@click.argument("request", nargs=-1, required=True)
@click.option("-d", "--duration", type=float, default=10.0, show_default=True,
              help="Seconds of sound (0.1-600).")
@click.option("--seed", type=int, help="Repeat a sound exactly (default: a new one, recorded "
                                       "in the .json).")
@click.option("--loop", is_flag=True, help="Make the end run into the start without a seam.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Audio to write (.wav, .flac, .mp3, .ogg). Default: out/<request>-<seed>.wav")
@_force_option
@_quiet_option
@_verbose_option
def sound(request: tuple[str, ...], duration: float, seed: int | None, loop: bool,
          output: Path | None, force: bool, quiet_cmd: bool) -> None:
    """Make sound effects and ambiences from words: rain, thunder, wind, waves, fire, birds,
    crowd, traffic, footsteps, clock, heartbeat, whoosh, riser, impact (storm, forest), in
    English, Spanish or Portuguese, layered ("rain and thunder")."""
    from .. import api

    text = " ".join(request)
    seed = api.resolve_seed(seed)
    out = output or Path("out") / f"{_slug(text) or 'sound'}-{seed}.wav"
    api.check_voice_target(out, overwrite=force)
    made = api.sound(text, duration=duration, seed=seed, loop=loop)
    paths = api.save_voice(made, out, overwrite=force)
    if not quiet_cmd:
        click.echo(f"{' + '.join(made.layers)}: {made.audio.duration:.1f} s"
                   f"{', looped' if loop else ''}, seed {seed}")
    _say_written(paths, quiet_cmd)


@cli.command()
@click.argument("source", type=click.Path(dir_okay=False, path_type=Path))
@click.option("-o", "--output", type=click.Path(file_okay=False, path_type=Path),
              help="A folder for the parts (drums.wav, harmonic.wav, vocals.wav, "
                   "accompaniment.wav, parts.json). Default: out/<source>-parts")
@click.option("--no-vocals", is_flag=True, help="Only drums and the harmonic rest.")
@_force_option
@_quiet_option
@_verbose_option
def separate(source: Path, output: Path | None, no_vocals: bool, force: bool,
             quiet_cmd: bool) -> None:
    """Split a mix into drums and the harmonic rest, and estimate the vocals and the
    accompaniment (librosa's median-filtering and nearest-neighbour decompositions)."""
    from .. import api

    out = output or Path("out") / f"{source.stem}-parts"
    api.check_parts_target(out, vocals=not no_vocals, overwrite=force, inputs=[source])
    with _Spinner(quiet_cmd, "separating"):
        parts = api.separate(source, vocals=not no_vocals)
    _say_written(api.save_parts(parts, out, overwrite=force, inputs=[source]), quiet_cmd)


@cli.command()
@click.argument("source", type=click.Path(dir_okay=False, path_type=Path))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Audio to write. Default: out/<source>-clean.wav")
@click.option("--strength", type=float, default=1.0, show_default=True,
              help="How far the noise is turned down (0-1).")
@click.option("--noise", type=click.Path(dir_okay=False, path_type=Path),
              help="A recording of the noise alone (else it is estimated from SOURCE).")
@click.option("--changing", is_flag=True, help="The noise changes over time (non-stationary "
                                               "gating; slower).")
@_force_option
@_quiet_option
@_verbose_option
def denoise(source: Path, output: Path | None, strength: float, noise: Path | None,
            changing: bool, force: bool, quiet_cmd: bool) -> None:
    """Reduce steady noise (hiss, hum, fans) in speech or music by spectral gating."""
    from .. import api

    out = output or Path("out") / f"{source.stem}-clean.wav"
    inputs = [source] + ([noise] if noise else [])
    api.check_voice_target(out, overwrite=force, inputs=inputs)
    with _Spinner(quiet_cmd, "denoising"):
        cleaned = api.denoise(source, strength=strength, stationary=not changing, noise=noise)
    paths = api.save_voice(cleaned, out, overwrite=force, inputs=inputs,
                           extra={"source": str(source)})
    if not quiet_cmd:
        click.echo(f"removed {cleaned.reduced_db:.1f} dB of noise")
    _say_written(paths, quiet_cmd)


def _per_layer(values: tuple[str, ...], count: int, what: str) -> dict[int, float]:
    """``N=VALUE`` options (N counts the files from 1) as {index: value}."""
    found: dict[int, float] = {}
    for item in values:
        index, sep, value = item.partition("=")
        try:
            i, v = int(index), float(value)
        except ValueError:
            raise ParameterError(f"--{what} takes FILE_NUMBER=VALUE (e.g. 2=-6), not "
                                 f"{item!r}") from None
        if not sep or not 1 <= i <= count:
            raise ParameterError(f"--{what} {item!r}: the file number is 1-{count}")
        found[i - 1] = v
    return found


@cli.command()
@click.argument("files", nargs=-1, required=True,
                type=click.Path(dir_okay=False, path_type=Path))
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Audio to write (.wav, .flac, .mp3, .ogg); a .json is written beside it.")
@click.option("--gain", multiple=True, metavar="N=DB", help="Level of file N in dB.")
@click.option("--offset", multiple=True, metavar="N=S", help="File N starts at S seconds.")
@click.option("--fade-in", multiple=True, metavar="N=S", help="Fade file N in over S seconds.")
@click.option("--fade-out", multiple=True, metavar="N=S", help="Fade file N out over S s.")
@click.option("--duck", multiple=True, type=int, metavar="N",
              help="Turn file N down while the others sound (a bed under a voice).")
@click.option("--duck-db", type=float, default=12.0, show_default=True,
              help="How far a ducked file goes down.")
@click.option("--lufs", type=float, default=-14.0, show_default=True,
              help="Loudness of the mastered mix.")
@_force_option
@_quiet_option
@_verbose_option
def mix(files: tuple[Path, ...], output: Path, gain: tuple[str, ...], offset: tuple[str, ...],
        fade_in: tuple[str, ...], fade_out: tuple[str, ...], duck: tuple[int, ...],
        duck_db: float, lufs: float, force: bool, quiet_cmd: bool) -> None:
    """Layer FILES (numbered 1, 2... in order) with levels, offsets, fades and ducking, and
    master the sum: `tunecraft mix voice.wav music.wav --gain 2=-4 --duck 2 -o mix.wav`."""
    from .. import api

    api.check_voice_target(output, overwrite=force, inputs=files)
    n = len(files)
    settings = {name: _per_layer(values, n, option)
                for name, option, values in (("gain_db", "gain", gain),
                                             ("offset", "offset", offset),
                                             ("fade_in", "fade-in", fade_in),
                                             ("fade_out", "fade-out", fade_out))}
    for d in duck:
        if not 1 <= d <= n:
            raise ParameterError(f"--duck {d}: the file number is 1-{n}")
    layers = [{"source": f, "duck": i + 1 in duck,
               **{k: v[i] for k, v in settings.items() if i in v}} for i, f in enumerate(files)]
    with _Spinner(quiet_cmd, "mixing"):
        mixed = api.mix(layers, duck_db=duck_db, target_lufs=lufs)
    paths = api.save_voice(mixed, output, overwrite=force, inputs=files)
    if not quiet_cmd:
        click.echo(f"{n} layer{'s' if n > 1 else ''}, {mixed.audio.duration:.1f} s")
    _say_written(paths, quiet_cmd)
