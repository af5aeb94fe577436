"""The public verbs. The CLI and the web studio are thin layers over these functions.

>>> import tunecraft
>>> score = tunecraft.load("song.mid")                              # doctest: +SKIP
>>> paths = tunecraft.save(score, "out/song.wav", stems=True)       # doctest: +SKIP

Every verb that writes audio writes a **bundle** side by side: ``PATH.wav`` (or .flac/.mp3),
``PATH.mid``, ``PATH.musicxml`` and ``PATH.json``, plus ``PATH-stems/`` when stems are asked for.
The files appear together or not at all.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .checks import resolve_seed
from .errors import InputFileError, OutputFileError, ParameterError
from .io.audio import AUDIO_READ_EXTS as AUDIO_IN_EXTS
from .io.audio import AUDIO_WRITE_EXTS as AUDIO_OUT_EXTS
from .io.bundle import Bundle, bundle_json, check_bundle
from .io.formats import SCORE_EXTS  # re-exported
from .io.formats import extension as _ext
from .take import Take

if TYPE_CHECKING:
    from .audio import Audio
    from .score import Score
    from .synth import Rendered, RenderOptions

log = logging.getLogger(__name__)

# ----------------------------------------------------------------------------------------------
# Loading and saving scores


def load(path: str | os.PathLike[str], *, allow_empty: bool = False) -> Score:
    """Read a score from MIDI (.mid), MusicXML (.musicxml, .xml, .mxl) or tunecraft JSON.

    Raises :class:`~tunecraft.errors.InputFileError` for a missing, empty, corrupt or unknown
    file, and for a score without notes unless ``allow_empty``.
    """
    from .io.formats import read_score

    return read_score(path, allow_empty=allow_empty)


def save_score(score: Score, path: str | os.PathLike[str]) -> Path:
    """Write only the score: .mid, .musicxml/.xml/.mxl or .json, chosen by the extension."""
    from .io.formats import write_score

    return write_score(score, path)


def _version() -> str:
    from . import __version__

    return __version__


# ----------------------------------------------------------------------------------------------
# Rendering


def _options(options: RenderOptions | None, overrides: Mapping[str, Any]) -> RenderOptions:
    from dataclasses import replace

    from .synth import RenderOptions

    opts = options or RenderOptions()
    given = {k: v for k, v in overrides.items() if v is not None}
    return replace(opts, **given) if given else opts


def render(score: Score, *, options: RenderOptions | None = None, backend: str | None = None,
           soundfont: str | os.PathLike[str] | None = None) -> Audio:
    """Render a score to a mixed, mastered stereo track (44.1 kHz, -14 LUFS, -1 dBTP)."""
    from .synth import render as _render

    sf = str(soundfont) if soundfont is not None else None
    return _render(score, options=_options(options, {"backend": backend, "soundfont": sf}))


def render_stems(score: Score, *, options: RenderOptions | None = None,
                 backend: str | None = None, soundfont: str | os.PathLike[str] | None = None,
                 stems: bool = True, progress: Any = None) -> Rendered:
    """Render the mix and one stem per track (stems sum to the mix before mastering).

    ``stems=False`` renders the same mix without keeping the tracks (much less memory)."""
    from .synth import render_stems as _render_stems

    sf = str(soundfont) if soundfont is not None else None
    return _render_stems(score, options=_options(options, {"backend": backend, "soundfont": sf}),
                         stems=stems, progress=progress)


def save(score: Score, path: str | os.PathLike[str], *, audio: Audio | None = None,
         stems: bool = False, options: RenderOptions | None = None,
         backend: str | None = None, soundfont: str | os.PathLike[str] | None = None,
         extra: Mapping[str, Any] | None = None, rendered: Rendered | None = None,
         overwrite: bool = False, inputs: Iterable[str | os.PathLike[str]] = ()) -> Bundle:
    """Write the bundle for a score: audio, MIDI, MusicXML and JSON side by side.

    ``path`` names the audio file (.wav, .flac, .mp3 or .ogg). The score is rendered unless
    ``audio`` is given (then ``stems`` is not available). ``extra`` adds keys to the JSON
    sidecar (a request spec, an adherence report...). An existing bundle at ``path`` is
    replaced only with ``overwrite``; a bundle file that is one of ``inputs`` never is.
    Nothing is left behind on failure.
    """
    from .io.bundle import write_bundle

    check_bundle(path, overwrite=overwrite, inputs=inputs)  # before the rendering work
    rendered_stems: dict[str, Audio] = {}
    backend_name = None
    if rendered is not None:  # already rendered (generate)
        audio, backend_name = rendered.mix, rendered.renderer or None
        rendered_stems = dict(rendered.stems) if stems else {}
    elif audio is None:
        r = render_stems(score, options=options, backend=backend, soundfont=soundfont,
                         stems=stems)
        audio, backend_name = r.mix, r.renderer
        rendered_stems = dict(r.stems) if stems else {}
    elif stems:
        raise ParameterError("stems need the score to be rendered here; do not pass audio")
    return write_bundle(score, path, audio=audio, stems=rendered_stems, extra=extra,
                        backend=backend_name, overwrite=overwrite, inputs=inputs)


def write_examples(folder: str | os.PathLike[str], *, overwrite: bool = False) -> list[Path]:
    """Write the README's example inputs into ``folder``; return their paths.

    ``tune.mid`` (Ode to Joy on a flute), ``hum.wav`` and ``whistle.mp3`` (the tune sung in
    code, with vibrato, drift and breath), ``take.wav`` (the tune played on a piano),
    ``song.mid`` (a short pop song), ``lyrics.txt`` and ``story.txt``. Existing files are kept
    unless ``overwrite``. Deterministic.
    """
    from .demo import (
        EXAMPLE_FILES,
        EXAMPLE_LYRICS,
        EXAMPLE_STORY,
        ODE_TO_JOY,
        sing,
        tune_notes,
    )
    from .io.audio import write_audio
    from .io.files import atomic_output
    from .io.midi import write_midi
    from .score import KeySignature, Note, Score, TempoChange, TimeSignature, Track

    out = Path(folder)
    paths = [out / name for name in EXAMPLE_FILES]
    existing = [p.name for p in paths if p.exists()]
    if existing and not overwrite:
        raise OutputFileError(out, f"already holds {', '.join(existing)}; use --force to "
                                   f"replace them")
    bpm = 100.0
    notes, t = [], 0.0
    for pitch, beats in ODE_TO_JOY:
        notes.append(Note(pitch, t, beats * 0.95, 84))
        t += beats
    tune = Score(tracks=(Track("Flute", tuple(notes), program=73, role="lead"),),
                 tempos=(TempoChange(0, bpm),), time_signatures=(TimeSignature(0, 4, 4),),
                 key_signatures=(KeySignature(0, 2, "major"),), title="Ode to Joy")
    write_midi(tune, out / "tune.mid")
    timed = tune_notes(ODE_TO_JOY, bpm)
    write_audio(sing(timed, kind="hum", seed=1), out / "hum.wav")
    write_audio(sing(timed, kind="whistle", seed=2), out / "whistle.mp3")
    piano = Score(tracks=(Track("Piano", tuple(notes), program=0, role="lead"),),
                  tempos=tune.tempos, time_signatures=tune.time_signatures,
                  key_signatures=tune.key_signatures)
    write_audio(render(piano), out / "take.wav")
    song = generate("pop song with piano, bass and drums", duration=20, seed=1, render=False)
    write_midi(song.score, out / "song.mid")
    for name, text in (("lyrics.txt", EXAMPLE_LYRICS), ("story.txt", EXAMPLE_STORY)):
        with atomic_output(out / name) as tmp:
            tmp.write_text(text, encoding="utf-8")
    log.info("wrote the example inputs to %s", out)
    return paths


def warm() -> float:
    """Compile librosa's numba code now (pYIN, onset and tempo estimation), so the first
    ``arrange`` or ``transcribe`` starts at once instead of after 15-40 s, and prepare the
    neural voice's model. The compiled code is cached in ``NUMBA_CACHE_DIR``, the voice in
    ``~/.cache/tunecraft/voices``. Returns the seconds it took."""
    import time

    from .demo import ODE_TO_JOY, sing, tune_notes
    from .transcribe.hum import track_melody

    t0 = time.perf_counter()
    track_melody(sing(tune_notes(ODE_TO_JOY[:6], 120.0), seed=0))
    _warm_voice()
    return time.perf_counter() - t0


def _warm_voice() -> None:
    """Prepare the neural voice's model once (into the user's cache), where it is installed,
    so the first ``speak`` starts at once."""
    from .speech.engines import voices

    if any(v.engine == "piper" for v in voices()):
        from .speech.engines import piper_model

        piper_model()


# ----------------------------------------------------------------------------------------------
# Understanding, listening and learning: the verbs the CLI, the studio and the conductor call


def understand(prompt: str, *, duration: float | None = None, bpm: float | None = None,
               key: str | None = None, meter: str | None = None,
               instruments: list[str] | tuple[str, ...] | None = None,
               seed: int | None = None) -> Any:
    """The request in words as a :class:`~tunecraft.understand.MusicSpec`: every attribute
    and the words that set it. Options beat the prompt."""
    from .understand import parse

    return parse(prompt, duration=duration, bpm=bpm, key=key, meter=meter,
                 instruments=list(instruments) if instruments else None, seed=seed)


def explain(spec: Any) -> str:
    """A spec as the lines ``tunecraft explain`` prints."""
    from .understand import explain as _explain

    return _explain(spec)


def transcribe(source: Any, *, options: Any = None, **changes: Any) -> Any:
    """Audio (a file or an :class:`Audio`) to a score with Basic Pitch; ``changes`` override
    fields of :class:`~tunecraft.transcribe.TranscribeOptions`. Returns a Transcription."""
    from dataclasses import replace

    from .transcribe import TranscribeOptions
    from .transcribe import transcribe as _transcribe

    opts = options or TranscribeOptions()
    if changes:
        opts = replace(opts, **changes)
    return _transcribe(source, options=opts)


def ingest(sources: Any, out_dir: str | os.PathLike[str], **kwargs: Any) -> Any:
    """Build (or resume) a corpus from files, folders and ``corpus:NAME[:N]``; see
    :func:`tunecraft.corpus.ingest`."""
    from .corpus import ingest as _ingest

    return _ingest(list(sources), out_dir, **kwargs)


def train(corpus_dir: str | os.PathLike[str], **kwargs: Any) -> Any:
    """Train a sequence model on a corpus; see :func:`tunecraft.models.train` (options are
    the fields of :class:`tunecraft.models.TrainConfig`, or ``config=`` one)."""
    from .models import train as _train

    return _train(corpus_dir, **kwargs)


def sample(model_dir: str | os.PathLike[str] | None = None, **kwargs: Any) -> Score:
    """Sample a score from a model (default: the one shipped); see
    :func:`tunecraft.models.sample`."""
    from .models import sample as _sample

    return _sample(model_dir, **kwargs)


def chorale_demo() -> Score:
    """The Bach chorale from music21's corpus arranged for strings and organ."""
    from .demo import demo_score

    return demo_score()


def read_timeline(path: str | os.PathLike[str]) -> list[str]:
    """The lines of a story timeline file ("M:SS prompt" per line)."""
    from .io.files import check_input

    p = check_input(path)
    try:
        return p.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError:
        raise InputFileError(p, "not a text file") from None


# ----------------------------------------------------------------------------------------------
# What is understood


def styles() -> list[dict[str, Any]]:
    """Every style tunecraft composes in: id, name, one line of description, the words that ask
    for it (English, Spanish and Portuguese, from its file's aliases and the genre vocabulary),
    its tempo range and meters. A style added as a data file appears here."""
    from .styles import load_style, style_ids
    from .understand import lexicon

    genre_words: dict[str, list[str]] = {}
    for sid, entry in lexicon._read("genres.toml").items():
        genre_words[sid] = [*entry.get("strong", ()), *entry.get("weak", ())]
    out = []
    for sid in style_ids():
        st = load_style(sid)
        words = list(dict.fromkeys([*st.aliases, *genre_words.get(sid, ())]))
        first = st.description.split(". ")[0].rstrip(".")
        out.append({"id": sid, "name": st.name, "description": first, "words": words,
                    "tempo": [st.tempo.min, st.tempo.max], "default_bpm": st.tempo.default,
                    "meters": list(st.meters)})
    return out


def instruments() -> list[dict[str, Any]]:
    """Every instrument a request can name: General MIDI program, usual role and its words."""
    from .gm import program_name
    from .understand import lexicon

    out = []
    for name, entry in lexicon._read("instruments.toml").items():
        drum = bool(entry.get("drum"))
        out.append({"name": name, "program": int(entry.get("program", 0)), "drum": drum,
                    "sound": program_name(int(entry.get("program", 0)), is_drum=drum),
                    "role": entry.get("role", ""), "words": list(entry.get("words", ()))})
    return out


# ----------------------------------------------------------------------------------------------
# Inspecting and converting


def info(path: str | os.PathLike[str]) -> dict[str, Any]:
    """A summary of a score or audio file: tempo, key, meter, tracks, length, sections..."""
    ext = _ext(path)
    if ext in AUDIO_IN_EXTS:
        from .io.audio import read_audio
        from .io.json import finite_or_none
        from .synth.mastering import measure_loudness, true_peak_dbtp

        a = read_audio(path)
        return {"file": str(path), "kind": "audio", "sample_rate": a.sample_rate,
                "channels": a.channels, "duration_seconds": round(a.duration, 3),
                # Silence has no loudness: null, never -Infinity (which is not JSON).
                "loudness_lufs": finite_or_none(measure_loudness(a), 2),
                "true_peak_dbtp": finite_or_none(true_peak_dbtp(a), 2)}
    from .io.json import score_summary

    summary = score_summary(load(path, allow_empty=True))
    return {"file": str(path), "kind": "score", **summary}


def convert(src: str | os.PathLike[str], dst: str | os.PathLike[str], *,
            options: RenderOptions | None = None, overwrite: bool = False) -> Path:
    """Convert between formats, chosen by the extensions.

    Score to score (MIDI <-> MusicXML, either to JSON), score to audio (renders; writes only the
    audio file), audio to audio (WAV -> MP3/FLAC/OGG and back). An existing ``dst`` is replaced
    only with ``overwrite``, and never when it is ``src``.
    """
    from .io.bundle import refuse_replacing

    s_ext, d_ext = _ext(src), _ext(dst)
    if d_ext not in SCORE_EXTS + AUDIO_OUT_EXTS:
        raise OutputFileError(dst, f"unknown file type {d_ext or '(no extension)'!r}")
    refuse_replacing(Path(dst), (Path(dst),), overwrite=overwrite, inputs=[src])
    if s_ext in AUDIO_IN_EXTS:
        if d_ext not in AUDIO_OUT_EXTS:
            raise OutputFileError(dst, "audio converts to audio only (.wav, .flac, .mp3, "
                                       ".ogg); use 'transcribe' for a score")
        from .io.audio import read_audio, write_audio

        a = read_audio(src)
        from .io.files import check_output

        check_output(dst)
        return Path(write_audio(a, dst))
    score = load(src, allow_empty=d_ext in SCORE_EXTS)
    if d_ext in AUDIO_OUT_EXTS:
        from .io.audio import write_audio
        from .io.files import check_output

        check_output(dst)
        return Path(write_audio(render(score, options=options), dst))
    return save_score(score, dst)


def _programs() -> dict[str, int]:
    """Every word for a pitched instrument (English, Spanish, Portuguese) -> its GM program."""
    return {w.lower(): i["program"] for i in instruments() if not i["drum"]
            for w in [i["name"], *i["words"]]}


def edit(score: Score, *, bpm: float | None = None, key: str | None = None,
         transpose: int = 0, mute: Iterable[str] = (), solo: Iterable[str] = (),
         instruments: Iterable[str] = ()) -> Score:
    """A finished score changed without recomposing: another tempo (``bpm``), key in the same
    mode (``key``, the nearer way) or ``transpose`` in semitones, tracks muted or soloed (by
    name), instruments swapped ("Piano=organ"). The same notes on the same beats."""
    from dataclasses import replace

    from .score import KeySignature, retempo
    from .score import transpose as _transpose

    names = [t.name for t in score.tracks]
    lower = {n.lower(): n for n in names}

    def known(name: str, what: str) -> str:
        found = lower.get(name.strip().lower())
        if found is None:
            raise ParameterError(f"edit: {what} {name!r} is not a track of this piece "
                                 f"({', '.join(names)})")
        return found

    if bpm is not None:
        if not 20 <= bpm <= 300:
            raise ParameterError(f"edit: tempo {bpm:g} bpm is outside 20-300")
        score = retempo(score, bpm)
    shift = transpose
    if key:
        target = KeySignature.parse(key)
        now = score.key_signatures[0]
        if target.mode != now.mode:
            raise ParameterError(f"edit: the piece is in {now.name}; a new key keeps the mode "
                                 f"({now.mode}), so {target.name} cannot be reached by "
                                 "transposing")
        shift += (target.tonic - now.tonic + 6) % 12 - 6  # the nearer way
    if not -24 <= shift <= 24:
        raise ParameterError(f"edit: transposing by {shift} semitones is more than two octaves")
    score = _transpose(score, shift)
    soloed = {known(n, "solo track") for n in solo}
    muted = {known(n, "muted track") for n in mute}
    swaps: dict[str, int] = {}
    programs = _programs()
    for item in instruments:
        if "=" not in item:
            raise ParameterError(f"edit: write an instrument change as 'Track=instrument', "
                                 f"not {item!r}")
        track, instrument = (x.strip() for x in item.split("=", 1))
        program = programs.get(instrument.lower())
        if program is None:
            raise ParameterError(f"edit: {instrument!r} is not an instrument tunecraft knows "
                                 "(see `tunecraft instruments`)")
        swaps[known(track, "track")] = program
    tracks = []
    for t in score.tracks:
        if (soloed and t.name not in soloed) or t.name in muted:
            continue
        if t.name in swaps:
            if t.is_drum:
                raise ParameterError(f"edit: {t.name} is a drum kit; it keeps its sounds")
            t = replace(t, program=swaps[t.name])
        tracks.append(t)
    if not tracks or not any(t.notes for t in tracks):
        raise ParameterError("edit: nothing would be left to play")
    return replace(score, tracks=tuple(tracks))


def notate_ahead(score: Score) -> bool:
    """Start making the MusicXML of ``score`` in the background, for the bundle written
    later (:meth:`Take.save`, :func:`save`) to pick up: notation takes about a second of pure
    Python, so a caller that renders in the meantime (``tunecraft generate``) gets both in
    about the time of one. Returns whether it started (it needs ``fork``, not on Windows)."""
    from .io.musicxml import notate_ahead as start

    return start(score)


# ----------------------------------------------------------------------------------------------
# Text to music


def generate(prompt: str, *, duration: float | None = None, seed: int | None = None,
             bpm: float | None = None, key: str | None = None, meter: str | None = None,
             instruments: list[str] | tuple[str, ...] | None = None, render: bool = True,
             stems: bool = False, options: RenderOptions | None = None,
             check_audio: bool = False, max_attempts: int = 3,
             melody_engine: str = "rules", lyrics: str | None = None,
             melisma: bool = False, model: str | os.PathLike[str] | None = None,
             progress: Any = None, composed: Any = None, sing: bool = False,
             voice: str | None = None, engine: str = "local",
             engine_model: str | os.PathLike[str] | None = None,
             neural: Any = None) -> Take:
    """Compose and render music for a request in words (English, Spanish or Portuguese).

    Explicit values (``bpm``, ``key``, ``meter``, ``duration``, ``instruments``) override the
    prompt and are honoured exactly. ``seed`` makes the result repeatable (a fresh one is drawn
    and recorded when omitted). The score is checked against the request
    (:func:`tunecraft.evaluate.adherence`); when a hard guarantee fails, it is composed again
    with the next seed, up to ``max_attempts`` times. ``check_audio`` adds an independent tempo
    estimate of the rendered audio (librosa; slower). ``progress(stage, fraction)`` is called as
    the work advances; ``composed(composition)`` is called once the music is written, before it
    is rendered (the CLI starts the notation then). ``melody_engine`` "learned" samples the
    tune from the default model shipped with tunecraft (or from ``model``, a folder written by
    ``train``) instead of writing it from motifs. ``lyrics`` (text, or a path to a
    .txt file) are sung by a vocal line, one note per syllable, stored as MIDI lyric events and
    MusicXML lyrics. ``sing`` has a voice sing them (``voice``, default the best for the
    lyrics' language) in place of the vocal part's instrument: the sung stem is in the mix
    and the stems; the score is unchanged.

    ``engine`` "musicgen" or "musicgen-melody" has a MusicGen model from the local folder
    ``engine_model`` play the piece instead of the synthesizer (``neural``: a
    :class:`~tunecraft.engines.musicgen.NeuralOptions`); musicgen-melody follows the composed
    score's tune and chords. The score is written beside the audio as always.
    """

    from .compose import compose
    from .understand import parse

    def step(stage: str, fraction: float) -> None:
        if progress is not None:
            progress(stage, fraction)

    seed = resolve_seed(seed)
    if sing and lyrics is None:
        raise ParameterError("singing needs words: give --lyrics with --sing")
    if engine != "local":
        from .engines.musicgen import check_folder

        check_folder(engine_model, engine)  # before composing: a wrong folder says so at once
        if sing or stems:
            raise ParameterError(f"--engine {engine} makes one mixed track: no --sing, no "
                                 "--stems")
    step("understanding", 0.0)
    spec = parse(prompt, duration=duration, bpm=bpm, key=key, meter=meter,
                 instruments=list(instruments) if instruments else None, seed=seed)
    sung = None
    if lyrics is not None:
        from .compose.lyrics import load_lyrics, parse_lyrics

        sung = parse_lyrics(load_lyrics(lyrics), language=spec.language)
        if sing:
            from .speech.engines import voice_for

            voice_for(sung.language, voice)  # an unknown voice is said before composing
    step("composing", 0.1)
    attempts = 0
    while True:
        composition = compose(spec, seed=seed + attempts, melody_engine=melody_engine,
                              lyrics=sung, melisma=melisma, model=model)
        reports = _check(composition)
        attempts += 1
        if all(r.passed for r in reports) or attempts >= max_attempts:
            break
        log.warning("attempt %d broke a guarantee (%s); composing again", attempts,
                    "; ".join(c.name for r in reports for c in r.failures))
    if not all(r.passed for r in reports):
        log.warning("the result still breaks: %s", "; ".join(
            f"{c.name} (expected {c.expected}, got {c.measured})"
            for r in reports for c in r.failures))
    composition = replace(composition, request={**composition.request, "seed": seed})
    take = Take(composition, reports=reports, attempts=attempts)
    if composed is not None:
        composed(composition)
    if not render:
        return take
    if engine != "local":
        step(f"{engine} playing", 0.3)
        take = _neural(take, engine, engine_model, neural,
                       lambda f: step(f"{engine} playing", 0.3 + 0.6 * f))
        step("rendered", 0.9)
        return take
    step("rendering", 0.3)
    take = _rendered(take, options, stems, lambda stage, f: step(stage, 0.3 + 0.6 * f),
                     sing=(voice, sung.language) if sing and sung is not None else None)
    if check_audio:
        from .evaluate import adherence

        step("checking", 0.9)
        take = replace(take, reports=(adherence(spec, take.score, take.audio, audio_tempo=True),))
    step("rendered", 0.9)
    return take


def _neural(take: Take, engine: str, folder: Any, options: Any, progress: Any = None) -> Take:
    """The composed piece played by a MusicGen model: its prompt, tempo and key in words, and
    for musicgen-melody the score's own tune and chords as the chroma."""
    import numpy as np

    from .audio import Audio as _Audio
    from .engines.musicgen import MusicGen, chroma_of
    from .io.audio import resample
    from .synth.mastering import master

    model = MusicGen(folder, engine)
    score, spec = take.score, take.spec
    text = f"{spec.prompt}, {spec.bpm:g} bpm, {score.key_signatures[0].name}"
    chroma_at = None
    if engine == "musicgen-melody":
        frames = model.chroma_length or 235

        def chroma_at(start: float, seconds: float) -> Any:
            return chroma_of(score, max(start, 0.0), seconds, frames)

    mono = model.generate(text, score.duration_seconds, seed=take.seed, options=options,
                          chroma_at=chroma_at, progress=progress)
    audio = resample(_Audio(np.stack([mono, mono]), model.sample_rate), 44100)
    audio = master(audio)
    return replace(take, audio=audio, stems={}, backend=f"{engine} ({model.folder.name})")


def continue_neural(source: Any, *, duration: float, prompt: str | None = None,
                    seed: int | None = None, engine: str = "musicgen",
                    engine_model: str | os.PathLike[str] | None = None,
                    neural: Any = None) -> Any:
    """Continue a recording (or a score, played first) with a MusicGen model's audio prompt:
    a result with ``audio`` (the source, then ``duration`` seconds more) and ``summary()``."""
    import numpy as np

    from .audio import Audio as _Audio
    from .engines.musicgen import MusicGen, NeuralResult, check_folder
    from .io.audio import read_audio, resample
    from .synth.mastering import master

    check_folder(engine_model, engine)
    if _ext(source) in AUDIO_IN_EXTS:
        given = read_audio(source, max_seconds=1200)
    else:
        given = render(load(source))
    model = MusicGen(engine_model, engine)
    seed = resolve_seed(seed)
    mono = resample(given, model.sample_rate).samples.mean(axis=0)
    fade = 0.05
    new = model.generate(prompt or "music", duration, seed=seed, options=neural,
                         audio_prompt=mono, overlap=fade)
    # The source stays as it was (its own rate and channels); the new audio joins it with a
    # short crossfade over the source's end as the model re-made it.
    sr = given.sample_rate
    new_up = resample(_Audio(np.stack([new] * given.channels), model.sample_rate),
                      sr).samples
    f = min(round(fade * sr), given.frames, new_up.shape[1])
    ramp = np.sin(np.linspace(0, np.pi / 2, f)) ** 2 if f else np.zeros(0)
    head = given.samples.copy()
    if f:
        head[:, -f:] = head[:, -f:] * (1 - ramp) + new_up[:, :f] * ramp
    both = np.concatenate([head, new_up[:, f:]], axis=1)
    total = given.frames + round(duration * sr)
    audio = master(_Audio(both[:, :total].astype(np.float32), sr))
    return NeuralResult(audio, engine, str(model.folder), seed, given.duration, duration,
                        prompt or "")


def _check(composition: Any) -> tuple[Any, ...]:
    """The composition checked against each request it must keep."""
    from .evaluate import adherence

    return tuple(adherence(c.spec, c.score) for c in composition.checks)


def _rendered(take: Take, options: RenderOptions | None, stems: bool,
              progress: Any = None, sing: tuple[str | None, str] | None = None) -> Take:
    """The take with its audio: the style's reverb unless the caller chose the options.
    ``sing`` (voice, language): a voice sings the vocal part in the mix."""
    from .synth import RenderOptions

    if options is None:
        reverb = take.composition.reverb
        options = RenderOptions() if reverb is None else replace(
            RenderOptions(), reverb=max(0.0, min(1.0, float(reverb))))
    rendered = render_stems(take.score, options=options, stems=stems or sing is not None,
                            progress=progress)
    if sing is not None:
        return _sung(take, rendered, options, stems, *sing)
    return replace(take, audio=rendered.mix, stems=dict(rendered.stems) if stems else {},
                   backend=rendered.renderer)


def _sung(take: Take, rendered: Rendered, options: RenderOptions, stems: bool,
          voice: str | None, lang: str) -> Take:
    """The take with its vocal part sung: the sung stem, placed, reverberated and as loud as
    the part it replaces, takes that part's place in the mix, which is mastered again."""
    import numpy as np

    from .audio import Audio as _Audio
    from .speech.sing import sing as _sing
    from .synth import master
    from .synth.mixer import part_loudness, process_track
    from .synth.renderer import unique_names

    score = take.score
    names = unique_names(t.name for t in score.tracks)
    at = next((i for i, t in enumerate(score.tracks)
               if t.role == "vocal" and any(n.lyric for n in t.notes)), None)
    if at is None:
        raise ParameterError("the piece has no vocal part with lyrics to sing")
    track = score.tracks[at]
    sr = rendered.premaster.sample_rate
    alone = replace(score, tracks=(track,))
    singing = _sing(alone, None, lang=lang, voice=voice, sample_rate=sr, master=False)
    y = singing.audio.samples[0]
    frames = rendered.premaster.frames
    y = y[:frames] if y.size >= frames else np.pad(y, (0, frames - y.size))
    x = process_track(np.vstack([y, y]), track, sample_rate=sr, reverb=options.reverb,
                      chorus=0.0)
    part = rendered.stems[names[at]].samples
    want, have = part_loudness(part, sr), part_loudness(x, sr)
    if np.isfinite(want) and np.isfinite(have):
        x = x * np.float32(10.0 ** ((want - have) / 20.0))
    premaster = _Audio(rendered.premaster.samples - part + x, sr)
    mix = master(premaster, target_lufs=options.target_lufs,
                 ceiling_dbtp=options.ceiling_dbtp) if options.master else premaster
    kept = {}
    if stems:
        kept = dict(rendered.stems)
        kept[names[at]] = _Audio(x, sr)
    meta = {**take.composition.meta, "singing": {**singing.summary(), "part": names[at],
                                                 "seconds": round(mix.duration, 3),
                                                 "sample_rate": sr}}
    composition = replace(take.composition, meta=meta)
    return replace(take, composition=composition, audio=mix, stems=kept,
                   backend=f"{rendered.renderer}; sung by {singing.voice}")


# ----------------------------------------------------------------------------------------------
# Learning from music


def check_transcription_target(path: str | os.PathLike[str], *, overwrite: bool = False,
                               inputs: Iterable[str | os.PathLike[str]] = ()) -> tuple[Path, Path]:
    """Refuse, before any work, a transcription target: not .mid, an input, or files already
    there (unless ``overwrite``). Returns the MIDI and JSON paths."""
    from .io.bundle import refuse_replacing

    midi_path = Path(path)
    if midi_path.suffix.lower() not in (".mid", ".midi"):
        raise OutputFileError(midi_path, "transcriptions are written as MIDI: use a .mid name")
    json_path = midi_path.with_suffix(".json")
    refuse_replacing(midi_path, (midi_path, json_path), overwrite=overwrite, inputs=inputs)
    return midi_path, json_path


def save_transcription(result: Any, path: str | os.PathLike[str], *,
                       source: str | os.PathLike[str] | None = None,
                       overwrite: bool = False) -> tuple[Path, Path]:
    """Write a transcription: PATH.mid and a PATH.json report beside it, all or nothing.

    Files already there are replaced only with ``overwrite``; the source never is."""
    from .io.files import atomic_outputs
    from .io.json import write_json
    from .io.midi import write_midi

    midi_path, json_path = check_transcription_target(
        path, overwrite=overwrite, inputs=[source] if source is not None else [])
    report = {"tunecraft": _version(), "source": str(source) if source is not None else None,
              "bpm": result.bpm, "seconds": round(float(result.seconds), 4),
              "notes_raw": result.notes_raw, "notes_kept": result.notes_kept}
    options = getattr(result, "options", None)
    if options is not None:
        from dataclasses import asdict, is_dataclass

        report["options"] = asdict(options) if is_dataclass(options) else options
    with atomic_outputs([midi_path, json_path]) as (tmp_mid, tmp_json):
        write_midi(result.score, tmp_mid)
        write_json(bundle_json(result.score, extra={"transcription": report}), tmp_json)
    return midi_path, json_path


def _score_of(path: Path) -> Score:
    if path.suffix.lower() in AUDIO_IN_EXTS:
        from .transcribe import transcribe

        return transcribe(path).score
    return load(path)


def evaluate_files(files: list[str | os.PathLike[str]], *,
                   reference: str | os.PathLike[str] | None = None,
                   plot: bool = False) -> dict[str, Any]:
    """Measure each file (scores; audio is transcribed first) and compare with a corpus."""
    from .evaluate import compare_to_reference, measure, piano_roll_png

    out: dict[str, Any] = {"files": []}
    scores = []
    for f in files:
        p = Path(f)
        score = _score_of(p)
        scores.append(score)
        item: dict[str, Any] = {"file": str(p), "metrics": measure(score).to_dict()}
        if plot:
            item["plot"] = str(piano_roll_png(score, p.with_suffix(".png"), title=p.name))
        out["files"].append(item)
    if reference is not None:
        from .corpus import load_corpus

        ref = [s for _, s in load_corpus(reference)]
        if not ref:
            raise InputFileError(reference, "the reference corpus has no pieces")
        out["reference"] = {"corpus": str(reference), "size": len(ref),
                            **compare_to_reference(scores, ref)}
    return out


# ----------------------------------------------------------------------------------------------
# Story mode


def story(timeline: Any, *, duration: float | None = None, seed: int | None = None,
          options: RenderOptions | None = None, render: bool = True,
          stems: bool = False) -> Take:
    """One piece that follows a timeline of prompts (MusicLM's story mode).

    ``timeline`` is a list of ``(seconds, prompt)`` pairs, or lines like ``"0:00 time to
    meditate"`` / ``"15 time to wake up"`` (see :func:`tunecraft.compose.story.parse_timeline`).
    Each segment switches at the bar line nearest its time and is a section marker named after
    its prompt. Returns a :class:`Take` whose ``reports`` hold one adherence report per
    segment; ``.save(PATH)`` writes the bundle, its JSON holding the timeline (requested and
    actual times), the specs and the reports.
    """
    from .compose.story import parse_timeline
    from .compose.story import story as _story

    if isinstance(timeline, str):
        timeline = parse_timeline(timeline.splitlines())
    elif timeline and all(isinstance(x, str) for x in timeline):
        timeline = parse_timeline(list(timeline))
    composition = _story(timeline, duration=duration, seed=seed)
    take = Take(composition, reports=_check(composition))
    return _rendered(take, options, stems) if render else take


# ----------------------------------------------------------------------------------------------
# Continuation


def continue_music(source: Any, *, duration: float, prompt: str | None = None,
                   seed: int | None = None, only_new: bool = False,
                   options: RenderOptions | None = None, render: bool = True,
                   stems: bool = False) -> Take:
    """Continue a piece for ``duration`` more seconds (Jukebox's continuation, on a score).

    ``source`` is a MIDI/MusicXML/JSON score file, an audio file (.wav, .mp3, .flac...:
    transcribed first with :func:`tunecraft.transcribe.transcribe`) or a :class:`Score`. The
    continuation keeps the tempo, meter, key and tracks unless ``prompt`` says otherwise
    ("faster, in 4/4"), grows its tune from the input's motif and starts at the next bar line
    after the input ends; the input's notes stay unchanged at their times. ``only_new`` makes
    the rendered and saved output the continuation alone. Returns a :class:`Take`
    (``take.composition.scores`` holds the ``full`` piece and the ``new`` part alone);
    ``.save(PATH)`` writes the bundle, its JSON holding the source, the join point in beats and
    seconds, the spec and what was kept and what changed.
    """
    from .compose.continuation import MAX_SECONDS, continue_score
    from .score import Score

    seed = resolve_seed(seed)  # checked before a long audio file is transcribed
    transcribed = False
    label: str | None = None
    if isinstance(source, Score):
        score = source
    elif isinstance(source, (str, os.PathLike)):
        path = Path(source)
        label = str(path)
        if _ext(path) in AUDIO_IN_EXTS:
            from .transcribe import TranscribeOptions, transcribe

            # An input too long to continue is refused from its header, before transcribing.
            opts = TranscribeOptions()
            opts = replace(opts, max_seconds=min(opts.max_seconds, MAX_SECONDS))
            score = transcribe(path, options=opts).score
            transcribed = True
        else:
            score = load(path)
    else:
        raise ParameterError(f"continue needs a file or a score, not {type(source).__name__}")
    composition = continue_score(score, duration=duration, prompt=prompt, seed=seed,
                                 only_new=bool(only_new), source_name=label,
                                 transcribed=transcribed)
    take = Take(composition, reports=_check(composition))
    return _rendered(take, options, stems) if render else take


# ----------------------------------------------------------------------------------------------
# Melody conditioning


_SCORE_INPUT_EXTS = (".mid", ".midi", ".musicxml", ".xml", ".mxl")


def arrange(melody_path_or_score: Any, prompt: str, *, seed: int | None = None,
            duration: float | None = None, options: RenderOptions | None = None,
            render: bool = True, stems: bool = False, hum_options: Any = None) -> Take:
    """Arrange a hummed, whistled or written melody in the style a prompt describes.

    ``melody_path_or_score`` is an audio file (.wav, .mp3, .flac, .ogg...; the tune is heard
    with :func:`tunecraft.transcribe.hum.track_melody`, tuned by ``hum_options``), a MIDI or
    MusicXML file or a :class:`Score` (its lead line, :func:`~tunecraft.transcribe.hum.
    melody_from_score`), an :class:`Audio`, or a ``HeardMelody``. The tune sets the tempo, key
    and meter and is kept note for note in the lead; the prompt sets the style and instruments
    (:func:`tunecraft.compose.arrange.arrange`). ``duration`` (seconds) asks for the tune to come
    round again. Returns a :class:`Take`; ``.save(PATH)`` writes the bundle, its JSON saying
    what melody was heard.
    """
    from .audio import Audio as _Audio
    from .compose.arrange import arrange as _arrange
    from .score import Score as _Score
    from .transcribe.hum import HeardMelody, melody_from_score, track_melody

    seed = resolve_seed(seed)
    source = "<melody>"
    src = melody_path_or_score
    if isinstance(src, HeardMelody):
        heard = src
    elif isinstance(src, _Score):
        heard = melody_from_score(src)
    elif isinstance(src, _Audio):
        heard = track_melody(src, options=hum_options)
    elif isinstance(src, (str, os.PathLike)):
        source = str(src)
        if _ext(src) in _SCORE_INPUT_EXTS:
            heard = melody_from_score(load(src))
        elif _ext(src) in AUDIO_IN_EXTS:
            heard = track_melody(src, options=hum_options)
        else:
            raise InputFileError(src, f"unknown melody file type {_ext(src) or '(none)'!r}; "
                                      "use audio (.wav, .mp3, .flac) or .mid/.musicxml")
    else:
        raise ParameterError(f"arrange needs a melody file, a Score or audio, not "
                             f"{type(src).__name__}")
    composition = _arrange(heard, prompt, seed=seed, duration=duration, source=source)
    take = Take(composition, reports=_check(composition))
    return _rendered(take, options, stems) if render else take


# ----------------------------------------------------------------------------------------------
# Voices: speak, listen, convert a voice, sing (tunecraft.speech)

TEXT_INPUT_EXTS = (".txt", ".ssml", ".xml")
MAX_TEXT_BYTES = 400_000


def read_text(text_or_path: str | os.PathLike[str]) -> tuple[str, Path | None]:
    """Text to speak, and the file it came from: a value naming a ``.txt``/``.ssml``/``.xml``
    file (one line, that extension) is read as UTF-8; anything else is the text itself."""
    if isinstance(text_or_path, os.PathLike):
        text_or_path = os.fspath(text_or_path)
    if not isinstance(text_or_path, str):
        raise ParameterError("give the text to speak, or the path of a .txt or .ssml file")
    candidate = text_or_path.strip()
    if "\n" in candidate or not candidate.lower().endswith(TEXT_INPUT_EXTS) \
            or candidate.startswith("<") or len(candidate) > 4096:
        return text_or_path, None
    from .io.files import check_input

    path = check_input(Path(candidate).expanduser(), max_bytes=MAX_TEXT_BYTES)
    data = path.read_bytes()
    if b"\x00" in data:
        raise InputFileError(path, "the file is not text (it looks binary)")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputFileError(path, "the file is not UTF-8 text") from None
    if not text.strip():
        raise InputFileError(path, "the file holds no text")
    return text, path


def voices() -> list[dict[str, Any]]:
    """The voices installed here: name, language, engine and a line about each."""
    from .speech.engines import voices as _voices

    return [{"name": v.name, "lang": v.lang, "engine": v.engine, "about": v.about}
            for v in _voices()]


def speak(text: str, *, lang: str = "en", voice: str | None = None, rate: float = 1.0,
          sample_rate: int = 22050, progress: Any = None) -> Any:
    """Speak text or SSML (a string starting with ``<speak``) in English, Spanish or
    Portuguese: a :class:`~tunecraft.speech.speak.Speech` (audio at -16 LUFS, the voices
    used, each segment's start). ``text`` may name a .txt or .ssml file."""
    from .speech.speak import speak as _speak

    body, _ = read_text(text)
    return _speak(body, lang=lang, voice=voice, rate=rate, sample_rate=sample_rate,
                  progress=progress)


def _voice_audio(source: Any, *, what: str, max_seconds: float) -> Audio:
    from .audio import Audio as _Audio
    from .io.audio import read_audio

    if isinstance(source, _Audio):
        return source
    if isinstance(source, (str, os.PathLike)):
        return read_audio(source, max_seconds=max_seconds)
    raise ParameterError(f"{what} needs an audio file or Audio, not {type(source).__name__}")


def listen(source: Any, *, lang: str = "en", align: bool = True) -> Any:
    """Recognise English speech in an audio file (or Audio): a
    :class:`~tunecraft.speech.listen.Transcript` with each word's start and end."""
    from .speech.listen import MAX_SECONDS, check_language
    from .speech.listen import listen as _listen

    check_language(lang)  # before reading a long file
    return _listen(_voice_audio(source, what="listen", max_seconds=MAX_SECONDS), lang=lang,
                   align=align)


def check_transcript_target(path: str | os.PathLike[str], *, overwrite: bool = False,
                            inputs: Iterable[str | os.PathLike[str]] = ()) -> Path:
    """Refuse, before any work, a transcript's target: not .txt/.json/.srt, an input, or a
    file already there (unless ``overwrite``)."""
    from .io.bundle import refuse_replacing

    p = Path(path)
    if p.suffix.lower() not in (".txt", ".json", ".srt"):
        raise OutputFileError(p, "a transcript is written as .txt, .json or .srt")
    refuse_replacing(p, (p,), overwrite=overwrite, inputs=inputs)
    return p


def save_transcript(transcript: Any, path: str | os.PathLike[str], *, overwrite: bool = False,
                    inputs: Iterable[str | os.PathLike[str]] = ()) -> Path:
    """Write a transcript as plain text (.txt), JSON with word times (.json) or subtitles
    (.srt), chosen by the extension; never over an input, over a file only with
    ``overwrite``."""
    import json

    from .io.files import atomic_output

    p = check_transcript_target(path, overwrite=overwrite, inputs=inputs)
    kinds = {".txt": lambda t: t.text + "\n",
             ".json": lambda t: json.dumps(t.to_dict(), indent=2, ensure_ascii=False) + "\n",
             ".srt": lambda t: t.to_srt()}
    with atomic_output(p) as tmp:
        tmp.write_text(kinds[p.suffix.lower()](transcript), encoding="utf-8")
    return p


def convert_voice(source: Any, *, pitch: float | None = None, formant: float | None = None,
                  like: Any = None, to: str | None = None) -> Any:
    """Change a voice (a file or Audio): ``pitch`` in semitones, ``formant`` as a ratio,
    ``like`` a reference voice (file or Audio), or a preset ``to`` (higher, lower, child,
    deep). A :class:`~tunecraft.speech.convert.Converted` of the input's length."""
    from .speech.convert import MAX_SECONDS, check_request
    from .speech.convert import convert_voice as _convert

    check_request(pitch=pitch, formant=formant, like=like is not None, to=to)
    audio = _voice_audio(source, what="convert-voice", max_seconds=MAX_SECONDS)
    ref = None if like is None else _voice_audio(like, what="--like", max_seconds=MAX_SECONDS)
    return _convert(audio, pitch=pitch, formant=formant, like=ref, to=to)


def sing(melody: Any, lyrics: str | None = None, *, lang: str | None = None,
         voice: str | None = None, formant: float = 1.0, breath: float = 0.0,
         sample_rate: int = 22050, progress: Any = None) -> Any:
    """Sing ``lyrics`` (text or a .txt file; None: the melody's own lyrics) one syllable per
    note on the top line of ``melody`` (a MIDI/MusicXML file or a Score): a
    :class:`~tunecraft.speech.sing.Singing`."""
    from .score import Score as _Score
    from .speech.sing import check_options
    from .speech.sing import sing as _sing

    check_options(formant=formant, breath=breath, sample_rate=sample_rate)
    if isinstance(melody, _Score):
        score = melody
    elif isinstance(melody, (str, os.PathLike)):
        if _ext(melody) not in SCORE_EXTS:
            raise InputFileError(melody, f"unknown melody file type {_ext(melody) or '(none)'!r}"
                                         "; sing a .mid or .musicxml melody")
        score = load(melody)
    else:
        raise ParameterError(f"sing needs a melody file or a Score, not "
                             f"{type(melody).__name__}")
    return _sing(score, lyrics, lang=lang, voice=voice, formant=formant, breath=breath,
                 sample_rate=sample_rate, progress=progress)


def check_voice_target(path: str | os.PathLike[str], *, overwrite: bool = False,
                       inputs: Iterable[str | os.PathLike[str]] = ()) -> tuple[Path, Path]:
    """Refuse, before any work, a voice recording's target (audio plus its .json): not an
    audio extension, an input, or files already there unless ``overwrite``."""
    from .io.bundle import refuse_replacing

    p = Path(path)
    if p.suffix.lower() not in AUDIO_OUT_EXTS:
        raise OutputFileError(p, f"unknown audio type {p.suffix or '(none)'!r}; write "
                                 f"{', '.join(AUDIO_OUT_EXTS)}")
    j = p.with_suffix(".json")
    refuse_replacing(p, (p, j), overwrite=overwrite, inputs=inputs)
    return p, j


def save_voice(result: Any, path: str | os.PathLike[str], *, overwrite: bool = False,
               inputs: Iterable[str | os.PathLike[str]] = (),
               extra: Mapping[str, Any] | None = None) -> tuple[Path, Path]:
    """Write what :func:`speak`, :func:`sing`, :func:`convert_voice`, :func:`sound`,
    :func:`denoise` or :func:`mix` made: the audio
    (.wav, .flac, .mp3, .ogg) and a .json beside it saying what it holds. Both appear or
    neither does."""
    from .io.audio import write_audio
    from .io.files import atomic_outputs
    from .io.json import write_json

    audio_path, json_path = check_voice_target(path, overwrite=overwrite, inputs=inputs)
    doc = {"tunecraft": _version(), **result.summary(), **(dict(extra) if extra else {})}
    with atomic_outputs([audio_path, json_path]) as (tmp_audio, tmp_json):
        write_audio(result.audio, tmp_audio)
        write_json(doc, tmp_json)
    return audio_path, json_path


# ----------------------------------------------------------------------------------------------
# Sound tools: effects and ambiences, separation, noise reduction, mixes


def sound(request: str, *, duration: float = 10.0, seed: int | None = None,
          loop: bool = False) -> Any:
    """Sound effects and ambiences from words in English, Spanish or Portuguese ("rain and
    thunder", "olas del mar", "um relógio"), made procedurally: a
    :class:`~tunecraft.sound.effects.Sound` (stereo, 44.1 kHz, -20 LUFS). ``loop`` makes the
    end run into the start without a seam."""
    from .sound.effects import make_sound

    return make_sound(request, duration=duration, seed=resolve_seed(seed), loop=loop)


def separate(source: Any, *, vocals: bool = True) -> Any:
    """Split a mix (a file or Audio) into drums and harmonic parts, and with ``vocals`` a
    vocal and an accompaniment estimate: a :class:`~tunecraft.sound.tools.Separation`."""
    from .sound.tools import MAX_SECONDS
    from .sound.tools import separate as _separate

    return _separate(_voice_audio(source, what="separate", max_seconds=MAX_SECONDS),
                     vocals=vocals)


def denoise(source: Any, *, strength: float = 1.0, stationary: bool = True,
            noise: Any = None) -> Any:
    """Reduce the noise of a recording (a file or Audio) by spectral gating; ``noise`` is an
    optional sample of the noise alone. A :class:`~tunecraft.sound.tools.Cleaned`."""
    from .sound.tools import MAX_SECONDS
    from .sound.tools import denoise as _denoise

    audio = _voice_audio(source, what="denoise", max_seconds=MAX_SECONDS)
    sample = None if noise is None else _voice_audio(noise, what="--noise",
                                                     max_seconds=MAX_SECONDS)
    return _denoise(audio, strength=strength, stationary=stationary, noise=sample)


def mix(layers: Iterable[Any], *, duck_db: float = 12.0, target_lufs: float = -14.0) -> Any:
    """Layer audio files (or Audio): each item a path, or a mapping with ``source`` and any of
    ``gain_db``, ``offset``, ``fade_in``, ``fade_out``, ``duck`` (this layer is turned down by
    ``duck_db`` while the others sound). The sum is mastered. A
    :class:`~tunecraft.sound.tools.Mixed`."""
    from .sound.tools import MAX_SECONDS, Layer
    from .sound.tools import mix as _mix

    built = []
    for item in layers:
        opts = dict(item) if isinstance(item, Mapping) else {"source": item}
        source = opts.pop("source", None)
        unknown = set(opts) - {"gain_db", "offset", "fade_in", "fade_out", "duck", "name"}
        if unknown:
            raise ParameterError(f"mix: unknown layer setting {sorted(unknown)[0]!r}")
        name = opts.pop("name", None) or (Path(source).name if isinstance(
            source, (str, os.PathLike)) else f"layer {len(built) + 1}")
        audio = _voice_audio(source, what="mix", max_seconds=MAX_SECONDS)
        built.append(Layer(audio, name, **{k: (bool(v) if k == "duck" else float(v))
                                           for k, v in opts.items()}))
    return _mix(built, duck_db=duck_db, target_lufs=target_lufs)


def check_parts_target(folder: str | os.PathLike[str], *, vocals: bool = True,
                       overwrite: bool = False,
                       inputs: Iterable[str | os.PathLike[str]] = ()) -> list[Path]:
    """Refuse, before any work, a separation's folder: a file, or parts already there
    (unless ``overwrite``). The paths the parts will have."""
    from .io.bundle import refuse_replacing
    from .sound.tools import PARTS

    out = Path(folder)
    if out.exists() and not out.is_dir():
        raise OutputFileError(out, "separate writes a folder of parts; this is a file")
    paths = [out / f"{name}.wav" for name in (PARTS if vocals else PARTS[:2])]
    paths.append(out / "parts.json")
    refuse_replacing(out, paths, overwrite=overwrite, inputs=inputs)
    return paths


def save_parts(separation: Any, folder: str | os.PathLike[str], *, overwrite: bool = False,
               inputs: Iterable[str | os.PathLike[str]] = ()) -> list[Path]:
    """Write a separation's parts as ``FOLDER/<part>.wav`` (32-bit float, so they sum back to
    the mix) with ``parts.json``; all or none."""
    from .io.audio import write_audio
    from .io.files import atomic_outputs
    from .io.json import write_json

    paths = check_parts_target(folder, vocals="vocals" in separation.parts,
                               overwrite=overwrite, inputs=inputs)
    paths[0].parent.mkdir(parents=True, exist_ok=True)
    with atomic_outputs(paths) as tmps:
        for tmp, audio in zip(tmps, separation.parts.values(), strict=False):
            write_audio(audio, tmp, subtype="FLOAT")
        write_json({"tunecraft": _version(), **separation.summary()}, tmps[-1])
    return paths


# ----------------------------------------------------------------------------------------------
# Batches (tunecraft.batch)


def batch(path: str | os.PathLike[str], out: str | os.PathLike[str], *,
          duration: float | None = None, engine: str = "local", workers: int | None = None,
          progress: Any = None) -> Any:
    """Make every request of a batch file (a prompt or a JSON object a line) into a bundle
    in ``out`` with ``summary.csv``; finished requests of an earlier run are skipped.
    ``engine`` "local" (processes) or "ray" (a local Ray, or the cluster at ``RAY_ADDRESS``);
    both write identical files. A :class:`~tunecraft.batch.BatchResult`."""
    from .batch import run_batch

    return run_batch(path, out, duration=duration, engine=engine, workers=workers,
                     progress=progress)


# ----------------------------------------------------------------------------------------------
# The conductor (tunecraft.agent)


def conductor(workdir: str | os.PathLike[str], *, seed: int | None = None,
              lang: str = "en", confined: bool = False) -> Any:
    """A conversation over every tool: ``conductor(folder).turn("a calm piano piece")``
    returns a :class:`~tunecraft.agent.Turn` (the calls made, their files, the reply).
    ``TUNECRAFT_LLM_URL`` (an OpenAI-compatible endpoint you run) plans with a language
    model instead of the offline rules; the rules answer when it fails. ``confined``: files
    named in messages must lie in ``workdir`` (a visitor's conversation, as in the studio)."""
    from .agent import Conductor
    from .agent.llm import router_from_env

    return Conductor(workdir, seed=seed, lang=lang, router=router_from_env(),
                     confined=confined)


# ----------------------------------------------------------------------------------------------
# The studio (tunecraft.web)


def studio_app(*, data: str | os.PathLike[str] | None = None, workers: int = 2,
               api_key: str | None = None, max_upload_mb: float = 100,
               start_workers: bool = True, page: bool = True) -> Any:
    """The studio's ASGI application: the HTTP API over these verbs, a job queue run by
    ``workers`` processes, and a library in ``data`` (SQLite plus files; default a per-user
    folder) that survives restarts. Needs the ``[web]`` extra."""
    try:
        from .web.app import Settings, create_app, default_data_dir
    except ImportError as exc:  # pragma: no cover  (the extra is part of make demo)
        raise ParameterError(f"the studio needs the web extra (`pip install "
                             f"tunecraft[web]`): {exc}") from None
    if not 0 < max_upload_mb <= 4096:
        raise ParameterError(f"the upload limit {max_upload_mb!r} MB is outside 1-4096")
    folder = Path(data) if data is not None else default_data_dir()
    return create_app(Settings(folder, workers=workers, api_key=api_key or None,
                               max_upload=int(max_upload_mb * 2**20),
                               start_workers=start_workers, page=page))
