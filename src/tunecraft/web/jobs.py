"""What each kind of job takes and does: parameters by their CLI names, checked before a job
is created, and the run that calls :mod:`tunecraft.api` and writes the job's files.

:func:`check` turns a request body into clean parameters or raises
:class:`~tunecraft.errors.ParameterError` with a message a musician understands (the server
answers 422 and creates no job). :func:`run` does the work in a worker process and returns
the files written, by kind ("wav", "mid", "musicxml", "json", "mp3", "stems"...): names inside
the job's own folder, never paths from the request.
"""

from __future__ import annotations

import math
import zipfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from ..errors import ParameterError

KINDS = ("generate", "arrange", "continue", "story", "render", "transcribe", "speak", "sing",
         "edit")

# name -> (type, required); "upload" values are ids of uploads, checked against their kind.
_COMMON = {"seed": (int, False), "stems": (bool, False)}
SPECS: dict[str, dict[str, tuple[Any, bool]]] = {
    "generate": {"prompt": (str, True), "duration": (float, False), "bpm": (float, False),
                 "key": (str, False), "meter": (str, False), "instruments": (list, False),
                 "lyrics": (str, False), "sing": (bool, False), "voice": (str, False),
                 "melody_engine": (str, False), **_COMMON},
    "arrange": {"melody": ("upload:audio,midi,musicxml", True), "prompt": (str, True),
                "duration": (float, False), **_COMMON},
    "continue": {"source": ("upload:audio,midi,musicxml", True), "duration": (float, True),
                 "prompt": (str, False), "only_new": (bool, False), **_COMMON},
    "story": {"timeline": (list, True), "duration": (float, False), **_COMMON},
    "render": {"source": ("upload:midi,musicxml", True), "stems": (bool, False)},
    "transcribe": {"source": ("upload:audio", True)},
    "speak": {"text": (str, True), "lang": (str, False), "voice": (str, False),
              "rate": (float, False), "sample_rate": (int, False)},
    "sing": {"melody": ("upload:midi,musicxml", True), "lyrics": (str, False),
             "lang": (str, False), "voice": (str, False)},
    # A finished piece changed without recomposing: another tempo or key, tracks muted or
    # soloed, an instrument swapped ("Piano=organ"), then rendered again.
    "edit": {"job": ("job", True), "section": (str, False), "seed": (int, False),
             "bpm": (float, False), "key": (str, False), "transpose": (int, False),
             "mute": (list, False), "solo": (list, False), "instruments": (list, False),
             "stems": (bool, False)},
}
MAX_TEXT = 30_000
MAX_DURATION = 600.0


def _typed(kind: str, name: str, value: Any, want: Any) -> Any:
    what = f"{kind}: {name!r}"
    if value is None:
        return None
    if want is bool:
        if not isinstance(value, bool):
            raise ParameterError(f"{what} must be true or false")
        return value
    if want is int:
        if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value):
            raise ParameterError(f"{what} must be a whole number")
        return int(value)
    if want is float:
        if isinstance(value, bool) or not isinstance(value, int | float) \
                or not math.isfinite(value):
            raise ParameterError(f"{what} must be a number")
        return float(value)
    if want is str:
        if not isinstance(value, str):
            raise ParameterError(f"{what} must be text")
        if len(value) > MAX_TEXT:
            raise ParameterError(f"{what} is longer than {MAX_TEXT:,} characters")
        return value
    if want is list:
        if isinstance(value, str):
            value = [v.strip() for v in value.replace("\n", ",").split(",") if v.strip()] \
                if name == "instruments" else [v for v in value.splitlines() if v.strip()]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ParameterError(f"{what} must be a list of text")
        if len(value) > 200:
            raise ParameterError(f"{what} has more than 200 entries")
        return value
    if isinstance(want, str) and want.startswith("upload:"):
        if not isinstance(value, str) or not value.isalnum() or len(value) > 64:
            raise ParameterError(f"{what} must be the id of an upload")
        return value
    if want == "job":
        if not isinstance(value, str) or not value.isalnum() or len(value) > 64:
            raise ParameterError(f"{what} must be the id of a finished job")
        return value
    raise AssertionError(want)  # pragma: no cover


def check(kind: Any, body: Mapping[str, Any], upload_kind: Callable[[str], str | None],
          job_score: Callable[[str], tuple[Path, dict[str, Any]] | None] = lambda _: None
          ) -> dict[str, Any]:
    """Clean parameters for a job of ``kind``, or ParameterError. ``upload_kind(id)`` says
    what an upload holds ("audio", "midi", "musicxml") or None when there is no such upload;
    ``job_score(id)`` the score file and parameters of a finished job, or None.
    The values are checked as the verbs check them (a tempo, a key, a meter, a voice) so a
    job that is created can run."""
    if kind not in KINDS:
        raise ParameterError(f"unknown kind {kind!r}; one of {', '.join(KINDS)}")
    spec = SPECS[kind]
    unknown = sorted(set(body) - set(spec) - {"kind"})
    if unknown:
        raise ParameterError(f"{kind} does not take {', '.join(repr(u) for u in unknown)} "
                             f"(it takes {', '.join(spec)})")
    params: dict[str, Any] = {}
    for name, (want, required) in spec.items():
        value = _typed(kind, name, body.get(name), want)
        if value is None or (isinstance(value, str | list) and not value and required):
            if required:
                raise ParameterError(f"{kind} needs {name!r}")
            continue
        if isinstance(want, str) and want.startswith("upload:"):
            have = upload_kind(value)
            allowed = want.split(":", 1)[1].split(",")
            if have is None:
                raise ParameterError(f"{kind}: no upload {value!r} (POST the file to "
                                     "/api/uploads first)")
            if have not in allowed:
                raise ParameterError(f"{kind}: {name!r} must be {' or '.join(allowed)}, "
                                     f"and upload {value!r} is {have}")
        if want == "job" and job_score(value) is None:
            raise ParameterError(f"{kind}: job {value!r} is not a finished piece with a score")
        params[name] = value
    _check_values(kind, params)
    if kind == "edit":
        found = job_score(params["job"])
        assert found is not None
        if params.get("section") and "seed" not in params:
            from ..checks import resolve_seed

            params["seed"] = resolve_seed(None)  # recorded: the edit can be made again
        edited(*found, params)  # every change is tried now: a bad one is a 422
    return params


def _check_values(kind: str, p: dict[str, Any]) -> None:
    from .. import api

    if "seed" in p and not 0 <= p["seed"] < 2**32:
        raise ParameterError("seed must be between 0 and 4294967295")
    if "duration" in p and not 1.0 <= p["duration"] <= MAX_DURATION:
        raise ParameterError(f"duration must be between 1 and {MAX_DURATION:g} seconds")
    if kind == "generate":
        api.understand(p["prompt"], duration=p.get("duration"), bpm=p.get("bpm"),
                       key=p.get("key"), meter=p.get("meter"))
        if p.get("melody_engine") not in (None, "rules", "learned"):
            raise ParameterError("melody_engine is 'rules' or 'learned'")
        if p.get("sing") and not p.get("lyrics"):
            raise ParameterError("singing needs words: give lyrics with sing")
    if kind in ("arrange", "continue") and p.get("prompt") is not None \
            and not p["prompt"].strip():
        raise ParameterError(f"{kind}: the prompt is empty")
    if kind == "story":
        from ..compose.story import parse_timeline

        parse_timeline(p["timeline"])
    if kind == "speak":
        from ..speech.speak import check_rate, check_sample_rate

        check_rate(p.get("rate", 1.0))
        check_sample_rate(p.get("sample_rate", 22050))
        if not p["text"].strip():
            raise ParameterError("speak: there is no text to speak")
    if kind in ("speak", "sing") and p.get("lang") not in (None, "en", "es", "pt"):
        raise ParameterError(f"{kind}: lang is 'en', 'es' or 'pt'")


def _regenerated(score: Any, source: Mapping[str, Any], section: str, seed: int) -> Any:
    """``score`` with one section composed again with ``seed`` from the same request (a
    generate job's parameters); the rest of the score note for note as it was."""
    from dataclasses import replace

    from .. import api
    from ..score import Chord, Note

    if "prompt" not in source or source.get("lyrics"):
        raise ParameterError("edit: a section can be composed again only in a piece made "
                             "from words without lyrics")
    found = [s for s in score.sections if s.name.lower() == section.strip().lower()]
    if not found and section.strip().isdigit() and 1 <= int(section) <= len(score.sections):
        found = [score.sections[int(section) - 1]]
    if not found:
        raise ParameterError(f"edit: no section {section!r} (the piece has "
                             f"{', '.join(s.name for s in score.sections) or 'none'})")
    target = found[0]
    new = api.generate(source["prompt"], duration=source.get("duration"), seed=seed,
                       bpm=source.get("bpm"), key=source.get("key"),
                       meter=source.get("meter"), instruments=source.get("instruments"),
                       melody_engine=source.get("melody_engine") or "rules",
                       render=False).score

    def shape(s: Any) -> Any:
        return ([(x.name, x.start, x.length) for x in s.sections], s.tempos,
                s.key_signatures, s.time_signatures, [t.name for t in s.tracks])

    if shape(new) != shape(score):
        raise ParameterError(f"edit: with seed {seed} the piece takes another form, key or "
                             "band; try another seed")
    a, b = target.start, target.start + target.length

    def cut(notes: Any, keep_inside: bool) -> list[Note]:
        out = []
        for n in notes:
            inside = a <= n.start < b
            if inside != keep_inside:
                continue
            end = min(n.end, b) if keep_inside else (min(n.end, a) if n.start < a else n.end)
            if end - n.start > 1e-6:
                out.append(n if end == n.end else replace(n, duration=end - n.start))
        return out

    tracks = tuple(old.with_notes(sorted(cut(old.notes, False) + cut(fresh.notes, True),
                                         key=lambda n: (n.start, n.pitch)))
                   for old, fresh in zip(score.tracks, new.tracks, strict=True))
    chords: list[Chord] = [c for c in score.chords if not a <= c.start < b]
    chords += [c for c in new.chords if a <= c.start < b]
    return replace(score, tracks=tracks, chords=tuple(sorted(chords, key=lambda c: c.start)))


def edited(score_path: Path, source: Mapping[str, Any], p: Mapping[str, Any]) -> Any:
    """The score of a finished job (made with the parameters ``source``) with the changes of
    an ``edit`` job applied."""
    from .. import api

    score = api.load(score_path)
    if p.get("section"):
        score = _regenerated(score, source, p["section"], p["seed"])
    return api.edit(score, bpm=p.get("bpm"), key=p.get("key"), transpose=p.get("transpose") or 0,
                    mute=p.get("mute") or (), solo=p.get("solo") or (),
                    instruments=p.get("instruments") or ())


# ----------------------------------------------------------------------------------------------
# Running


def _bundle_files(paths: Any, folder: Path, stems: bool, *, audio: Any = None,
                  score: Any = None) -> dict[str, str]:
    """The files of a written bundle by kind, the stems zipped, an MP3 beside the WAV and a
    piano roll. ``audio`` and ``score`` are the bundle's own, already in memory (else read
    back from its WAV and MIDI)."""
    from ..io.audio import read_audio, write_audio

    files: dict[str, str] = {}
    for p in map(Path, paths):
        if p.is_file() and p.parent == folder:  # the stems are zipped below
            files[p.suffix.lstrip(".").lower()] = p.name
    if "wav" in files:
        mp3 = (folder / files["wav"]).with_suffix(".mp3")
        write_audio(audio if audio is not None else read_audio(folder / files["wav"]), mp3)
        files["mp3"] = mp3.name
    if "mid" in files:  # a piano roll for the page
        from ..evaluate.plots import piano_roll_png
        from ..io.formats import read_score

        roll = folder / "roll.png"
        piano_roll_png(score if score is not None else read_score(folder / files["mid"]),
                       roll)
        files["png"] = roll.name
    stem_dir = next((p for p in folder.iterdir() if p.is_dir() and p.name.endswith("-stems")),
                    None)
    if stems and stem_dir is not None:
        z = folder / "stems.zip"
        with zipfile.ZipFile(z, "w", zipfile.ZIP_DEFLATED) as out:
            for f in sorted(stem_dir.glob("*.wav")):
                out.write(f, arcname=f.name)
        files["stems"] = z.name
    return files


def _voice_files(result: Any, out: Path) -> dict[str, str]:
    """A voice recording's WAV and JSON, and an MP3 of the same audio."""
    from .. import api
    from ..io.audio import write_audio

    wav, js = api.save_voice(result, out)
    mp3 = write_audio(result.audio, out.with_suffix(".mp3"))
    return {"wav": wav.name, "json": js.name, "mp3": mp3.name}


def _take_files(take: Any, out: Path, folder: Path, stems: bool) -> dict[str, str]:
    return _bundle_files(take.save(out, stems=stems).paths, folder, stems, audio=take.audio,
                         score=take.score)


def run(kind: str, params: Mapping[str, Any], folder: Path,
        upload_path: Callable[[str], Path],
        progress: Callable[[float, str], None],
        job_score: Callable[[str], tuple[Path, dict[str, Any]] | None] = lambda _: None
        ) -> dict[str, str]:
    """Do one job, writing into ``folder``; the files written, by kind."""
    from .. import api

    folder.mkdir(parents=True, exist_ok=True)
    p = dict(params)
    stems = bool(p.get("stems"))
    out = folder / f"{kind}.wav"

    def step(stage: str, fraction: float) -> None:
        progress(fraction, stage)

    if kind == "generate":
        take = api.generate(p["prompt"], duration=p.get("duration"), seed=p.get("seed"),
                            bpm=p.get("bpm"), key=p.get("key"), meter=p.get("meter"),
                            instruments=p.get("instruments"), stems=stems,
                            lyrics=p.get("lyrics"), sing=bool(p.get("sing")),
                            voice=p.get("voice"),
                            melody_engine=p.get("melody_engine") or "rules", progress=step)
        progress(0.92, "writing files")
        return _take_files(take, out, folder, stems)
    if kind == "arrange":
        progress(0.05, "hearing the melody")
        take = api.arrange(upload_path(p["melody"]), p["prompt"], seed=p.get("seed"),
                           duration=p.get("duration"), stems=stems)
        progress(0.9, "writing files")
        return _take_files(take, out, folder, stems)
    if kind == "continue":
        progress(0.05, "reading the piece")
        take = api.continue_music(upload_path(p["source"]), duration=p["duration"],
                                  prompt=p.get("prompt"), seed=p.get("seed"),
                                  only_new=bool(p.get("only_new")), stems=stems)
        progress(0.9, "writing files")
        return _take_files(take, out, folder, stems)
    if kind == "story":
        progress(0.05, "composing")
        take = api.story(p["timeline"], duration=p.get("duration"), seed=p.get("seed"),
                         stems=stems)
        progress(0.9, "writing files")
        return _take_files(take, out, folder, stems)
    if kind == "render":
        progress(0.05, "rendering")
        score = api.load(upload_path(p["source"]))
        bundle = api.save(score, out, stems=stems)
        return _bundle_files(bundle.paths, folder, stems, score=score)
    if kind == "edit":
        progress(0.05, "changing the score")
        found = job_score(p["job"])
        if found is None:
            from ..errors import InputFileError

            raise InputFileError(p["job"], "the piece to change is gone")
        score = edited(*found, p)
        progress(0.2, "rendering")
        bundle = api.save(score, out, stems=stems)
        return _bundle_files(bundle.paths, folder, stems, score=score)
    if kind == "transcribe":
        progress(0.05, "listening (Basic Pitch)")
        result = api.transcribe(upload_path(p["source"]))
        mid, js = api.save_transcription(result, folder / "transcription.mid")
        return {"mid": mid.name, "json": js.name}
    if kind == "speak":
        progress(0.05, "speaking")
        result = api.speak(p["text"], lang=p.get("lang", "en"), voice=p.get("voice"),
                           rate=p.get("rate", 1.0), sample_rate=p.get("sample_rate", 22050))
        return _voice_files(result, out)
    if kind == "sing":
        progress(0.05, "singing")
        result = api.sing(upload_path(p["melody"]), p.get("lyrics"), lang=p.get("lang"),
                          voice=p.get("voice"))
        return _voice_files(result, out)
    raise ParameterError(f"unknown kind {kind!r}")  # pragma: no cover  (checked on submit)
