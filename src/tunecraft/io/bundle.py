"""The bundle: audio, MIDI, MusicXML and JSON side by side, written all or nothing.

``song.wav`` names the bundle; ``song.mid``, ``song.musicxml``, ``song.json`` and, with stems,
``song-stems/`` go beside it. :func:`check_bundle` is called before any work: it refuses a bad
extension, a bundle that would replace one of the command's own inputs, and (unless
``overwrite``) a bundle already there, so nothing the user did not name is ever replaced.
:func:`write_bundle` writes every file into a hidden folder first and moves them into place
only when all are complete.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import OutputFileError
from .audio import AUDIO_WRITE_EXTS
from .files import check_output, ensure_folder, remove_empty_folders

if TYPE_CHECKING:
    from ..audio import Audio
    from ..score import Score

log = logging.getLogger(__name__)

PathLike = str | os.PathLike[str]


@dataclass(frozen=True)
class Bundle:
    """The files one audio-writing verb produced."""

    audio: Path
    midi: Path
    musicxml: Path
    json: Path
    stems: tuple[Path, ...] = field(default=())

    @property
    def paths(self) -> tuple[Path, ...]:
        return (self.audio, self.midi, self.musicxml, self.json, *self.stems)


def bundle_paths(path: PathLike) -> tuple[Path, Path, Path, Path]:
    """``song.wav`` -> (song.wav, song.mid, song.musicxml, song.json)."""
    p = Path(path)
    if p.suffix.lower() not in AUDIO_WRITE_EXTS:
        raise OutputFileError(p, f"unknown audio file type {p.suffix or '(no extension)'!r}; "
                                 f"expected one of {', '.join(AUDIO_WRITE_EXTS)}")
    return p, p.with_suffix(".mid"), p.with_suffix(".musicxml"), p.with_suffix(".json")


def stems_dir(path: PathLike) -> Path:
    p = Path(path)
    return p.with_name(p.stem + "-stems")


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return a.resolve() == b.resolve()


def refuse_replacing(name: Path, members: Iterable[Path], *, overwrite: bool,
                     inputs: Iterable[PathLike]) -> None:
    """Refuse output files (``members``, named ``name`` in messages) that are one of ``inputs``
    (always) or that exist already (unless ``overwrite``)."""
    members = tuple(members)
    for src in inputs:
        s = Path(src)
        if not s.exists():
            continue
        for p in members:
            if p.exists() and (_same_file(p, s) or (p.is_dir() and s.resolve().is_relative_to(
                    p.resolve()))):
                raise OutputFileError(name, f"the output would replace its own input {src}; "
                                            f"choose another output name")
    for p in members:
        if not p.is_dir() or p.suffix:
            check_output(p)
    existing = [p for p in members if p.exists() or p.is_symlink()]
    if existing and not overwrite:
        names = ", ".join(p.name for p in existing)
        what = ("a bundle is already there" if len(members) > 2 else
                "the file is already there" if len(members) == 1 else
                "files are already there")
        it = "them" if len(members) == 2 else "it"
        raise OutputFileError(name, f"{what} ({names}); use --force to replace {it}, or "
                                    f"choose another name")


def check_bundle(path: PathLike, *, overwrite: bool = False,
                 inputs: Iterable[PathLike] = ()) -> tuple[Path, Path, Path, Path]:
    """Refuse, before any work, a bundle that cannot or must not be written at ``path``.

    Returns the four paths. A bundle file that is one of ``inputs`` is refused even with
    ``overwrite``: the command would destroy what it reads.
    """
    paths = bundle_paths(path)
    refuse_replacing(paths[0], (*paths, stems_dir(paths[0])), overwrite=overwrite,
                     inputs=inputs)
    return paths


def safe_name(name: str) -> str:
    """A track name as a file name: letters, digits, '-' and '_' only."""
    keep = "".join(c if c.isalnum() or c in "-_ " else "_" for c in name).strip()
    return "-".join(keep.split()) or "track"


def bundle_json(score: Score, *, extra: Mapping[str, Any] | None = None,
                audio: Audio | None = None, backend: str | None = None) -> dict[str, Any]:
    """The JSON sidecar: a summary a person can read, then the full score."""
    from .. import __version__
    from ..synth.mastering import measure_loudness, true_peak_dbtp
    from .json import finite_or_none, score_summary

    data: dict[str, Any] = {"tunecraft": __version__, "summary": score_summary(score)}
    if audio is not None:
        data["audio"] = {
            "sample_rate": audio.sample_rate,
            "channels": audio.channels,
            "duration_seconds": round(audio.duration, 4),
            # Silence has no loudness: null, not -Infinity (which is not JSON).
            "loudness_lufs": finite_or_none(measure_loudness(audio), 2),
            "true_peak_dbtp": finite_or_none(true_peak_dbtp(audio), 2),
            "renderer": backend,
        }
    if extra:
        data.update(extra)
    data["score"] = score.to_dict()
    return data


def _swap_folder(new: Path, final: Path, trash: Path) -> None:
    """Put folder ``new`` at ``final``, moving any folder already there into ``trash``.

    Another process may write the same folder at the same moment; the last one wins whole,
    never a mixture and never an error.
    """
    for attempt in range(20):
        with contextlib.suppress(FileNotFoundError):
            os.replace(final, trash / f"old-{attempt}")
        try:
            os.replace(new, final)
            return
        except OSError as exc:
            if exc.errno not in (errno.ENOTEMPTY, errno.EEXIST):
                raise
    raise OutputFileError(final, "another program keeps writing this folder")


def write_bundle(score: Score, path: PathLike, *, audio: Audio,
                 stems: Mapping[str, Audio] | None = None, extra: Mapping[str, Any] | None = None,
                 backend: str | None = None, overwrite: bool = False,
                 inputs: Iterable[PathLike] = ()) -> Bundle:
    """Write the bundle for a rendered score; the files appear together or not at all."""
    from .audio import write_audio
    from .json import write_json
    from .midi import write_midi
    from .musicxml import write_musicxml

    audio_path, midi_path, xml_path, json_path = check_bundle(path, overwrite=overwrite,
                                                              inputs=inputs)
    final_stem_dir = stems_dir(audio_path)
    folder = audio_path.parent if str(audio_path.parent) else Path(".")
    created = ensure_folder(folder, for_path=audio_path)
    work = None
    try:
        work = Path(tempfile.mkdtemp(prefix=f".{audio_path.stem}.", suffix=".part",
                                     dir=folder))
        tmp = {p: work / p.name for p in (audio_path, midi_path, xml_path, json_path)}
        with _named(audio_path):
            write_audio(audio, tmp[audio_path])
        with _named(midi_path):
            write_midi(score, tmp[midi_path])
        with _named(xml_path):
            write_musicxml(score, tmp[xml_path])
        stem_names: list[str] = []
        if stems:
            (work / "stems").mkdir()
            for i, (name, stem) in enumerate(stems.items(), 1):
                fname = f"{i:02d}-{safe_name(name)}.wav"
                with _named(final_stem_dir / fname):
                    write_audio(stem, work / "stems" / fname, subtype="FLOAT")  # exact sums
                stem_names.append(fname)
        sidecar = dict(extra or {})
        if stem_names:
            sidecar["stems"] = [str(final_stem_dir / n) for n in stem_names]
        with _named(json_path):
            write_json(bundle_json(score, extra=sidecar, audio=audio, backend=backend),
                       tmp[json_path])
        # Everything is written: move it into place.
        with _named(audio_path):
            for final, t in tmp.items():
                os.replace(t, final)
            stem_paths: tuple[Path, ...] = ()
            if stem_names:
                _swap_folder(work / "stems", final_stem_dir, work)
                stem_paths = tuple(final_stem_dir / n for n in stem_names)
            elif final_stem_dir.is_dir():
                # An older bundle's stems would not match this mix: they go with it.
                with contextlib.suppress(FileNotFoundError):
                    os.replace(final_stem_dir, work / "old-stems")
    except BaseException:
        if created is not None:
            remove_empty_folders(created, stop=folder)
        raise
    finally:
        if work is not None:
            shutil.rmtree(work, ignore_errors=True)
    log.info("wrote %s (+ .mid, .musicxml, .json)", audio_path)
    return Bundle(audio_path, midi_path, xml_path, json_path, stem_paths)


@contextlib.contextmanager
def _named(final: Path) -> Iterator[None]:
    """Report a failure while writing a temporary file under the name the user gave."""
    try:
        yield
    except OutputFileError as exc:
        raise OutputFileError(final, exc.problem) from None
    except OSError as exc:
        raise OutputFileError(final, f"cannot be written ({exc.strerror or exc})") from None
