"""Every verb of :mod:`tunecraft.api` as a typed tool the conductor (or a language model) can
call: a name, what it does in English, Spanish and Portuguese, typed parameters, and a runner
that writes its files into the conversation's work folder and returns an :class:`Artefact`."""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ParameterError

KINDS = ("text", "number", "integer", "boolean", "file", "files", "list", "language")


@dataclass(frozen=True)
class Param:
    name: str
    kind: str
    about: str
    required: bool = False

    def schema(self) -> dict[str, Any]:
        """JSON Schema of the parameter (for tool calling)."""
        base = {"text": {"type": "string"}, "number": {"type": "number"},
                "integer": {"type": "integer"}, "boolean": {"type": "boolean"},
                "file": {"type": "string", "description": "a file path"},
                "files": {"type": "array", "items": {"type": "string"}},
                "list": {"type": "array", "items": {"type": "string"}},
                "language": {"type": "string", "enum": ["en", "es", "pt"]}}[self.kind]
        return {**base, "description": self.about}


@dataclass(frozen=True)
class Artefact:
    """What a tool made: its files, the main audio and score among them, any text it answers
    with, the parameters that made it (to make it again with changes) and facts about it."""

    tool: str
    files: tuple[Path, ...] = ()
    audio: Path | None = None
    score: Path | None = None
    text: str | None = None
    params: Mapping[str, Any] = field(default_factory=dict)
    facts: Mapping[str, Any] = field(default_factory=dict)


@dataclass
class Workspace:
    """The conversation's work folder; every file gets a fresh name, none is replaced."""

    folder: Path
    seed: int | None = None
    _count: itertools.count = field(default_factory=lambda: itertools.count(1))

    def name(self, stem: str, ext: str) -> Path:
        self.folder.mkdir(parents=True, exist_ok=True)
        while True:
            n = next(self._count)
            p = self.folder / f"{n:03d}-{stem}{ext}"
            if not any(self.folder.glob(f"{n:03d}-*")):
                return p.resolve()

    def next_seed(self) -> int | None:
        if self.seed is None:
            return None
        self.seed += 1
        return self.seed - 1


Runner = Callable[[dict[str, Any], Workspace], Artefact]


@dataclass(frozen=True)
class Tool:
    name: str
    about: Mapping[str, str]  # language -> one line
    params: tuple[Param, ...]
    run: Runner
    makes: str = "audio"  # audio, score, text, files

    def schema(self) -> dict[str, Any]:
        """The OpenAI-style function description of this tool."""
        return {"type": "function", "function": {
            "name": self.name, "description": self.about["en"],
            "parameters": {"type": "object",
                           "properties": {p.name: p.schema() for p in self.params},
                           "required": [p.name for p in self.params if p.required]}}}

    def check(self, args: Mapping[str, Any]) -> dict[str, Any]:
        """The arguments typed, unknown and missing ones refused with one line."""
        known = {p.name: p for p in self.params}
        out: dict[str, Any] = {}
        for name, value in args.items():
            if value is None:
                continue
            p = known.get(name)
            if p is None:
                raise ParameterError(f"{self.name} has no setting {name!r}")
            out[name] = _typed(self.name, p, value)
        missing = [p.name for p in self.params if p.required and p.name not in out]
        if missing:
            raise ParameterError(f"{self.name} needs {' and '.join(missing)}")
        return out


def _typed(tool: str, p: Param, value: Any) -> Any:
    try:
        if p.kind == "number":
            return float(value)
        if p.kind == "integer":
            return int(value)
        if p.kind == "boolean":
            return bool(value)
        if p.kind in ("files", "list"):
            return [str(v) for v in (value if isinstance(value, (list, tuple)) else [value])]
        if p.kind == "language":
            if str(value) not in ("en", "es", "pt"):
                raise ValueError
        return str(value)
    except (TypeError, ValueError):
        raise ParameterError(f"{tool}: {p.name} cannot be {value!r}") from None


# ----------------------------------------------------------------------------------------------
# Runners (thin over tunecraft.api; the files go to the work folder)


def _stem(text: str, fallback: str) -> str:
    from ..cli.main import _slug

    return _slug(text, 32) or fallback


def _piece_facts(score: Any) -> dict[str, Any]:
    from ..io.json import score_summary

    s = score_summary(score)
    return {"bpm": s["bpm"], "key": s["key"], "meter": s["meter"],
            "seconds": s["duration_seconds"],
            "tracks": [{"name": t["name"], "instrument": t["instrument"], "program": t["program"],
                        "drum": t["is_drum"]} for t in s["tracks"]]}


def _bundle_artefact(tool: str, bundle: Any, score: Any, audio: Any,
                     params: Mapping[str, Any], lufs: float | None = None) -> Artefact:
    """A written bundle as an artefact: its files, its audio and score, the facts replies and
    follow-ups read."""
    facts = {**_piece_facts(score), "audio_seconds": round(audio.duration, 3)}
    if lufs is not None:
        facts["lufs"] = lufs
    return Artefact(tool, bundle.paths, bundle.audio, bundle.json, params=dict(params),
                    facts=facts)


def _piece(tool: str, take: Any, ws: Workspace, stem: str,
           params: Mapping[str, Any]) -> Artefact:
    return _bundle_artefact(tool, take.save(ws.name(stem, ".wav")), take.score, take.audio,
                            params)


def run_generate(a: dict[str, Any], ws: Workspace) -> Artefact:
    from .. import api

    seed = a.get("seed", ws.next_seed())
    take = api.generate(a["prompt"], duration=a.get("duration"), seed=seed, bpm=a.get("bpm"),
                        key=a.get("key"), meter=a.get("meter"),
                        instruments=a.get("instruments") or None, lyrics=a.get("lyrics"),
                        sing=bool(a.get("sing")) and a.get("lyrics") is not None)
    params = {**a, "seed": take.seed}
    return _piece("generate", take, ws, _stem(a["prompt"], "piece"), params)


def save_piece(tool: str, score: Any, ws: Workspace, stem: str, params: Mapping[str, Any],
               *, lufs: float | None = None) -> Artefact:
    """Render ``score`` (at ``lufs`` when given) and write it as a bundle in the work folder."""
    from .. import api
    from ..synth import RenderOptions

    options = RenderOptions(target_lufs=lufs) if lufs is not None else None
    audio = api.render(score, options=options)
    bundle = api.save(score, ws.name(stem, ".wav"), audio=audio)
    return _bundle_artefact(tool, bundle, score, audio, params, lufs)


def run_arrange(a: dict[str, Any], ws: Workspace) -> Artefact:
    from .. import api

    take = api.arrange(a["melody"], a.get("prompt") or "piano", seed=a.get("seed",
                                                                          ws.next_seed()))
    return _piece("arrange", take, ws, "arranged", {**a, "seed": take.seed})


def run_continue(a: dict[str, Any], ws: Workspace) -> Artefact:
    from .. import api

    take = api.continue_music(a["source"], duration=a.get("duration", 20.0),
                              prompt=a.get("prompt"), seed=a.get("seed", ws.next_seed()))
    return _piece("continue", take, ws, f"{Path(a['source']).stem[:20]}-continued", a)


def run_story(a: dict[str, Any], ws: Workspace) -> Artefact:
    from .. import api

    take = api.story(a["timeline"], duration=a.get("duration"), seed=a.get("seed",
                                                                          ws.next_seed()))
    return _piece("story", take, ws, "story", {**a, "seed": take.seed})


def run_render(a: dict[str, Any], ws: Workspace) -> Artefact:
    from .. import api

    return save_piece("render", api.load(a["source"]), ws, Path(a["source"]).stem[:24], a)


def run_convert(a: dict[str, Any], ws: Workspace) -> Artefact:
    from .. import api

    to = a["to"].lower().lstrip(".")
    to = {"midi": "mid", "score": "musicxml", "xml": "musicxml", "partitura": "musicxml"}.get(
        to, to)
    out = api.convert(a["source"], ws.name(Path(a["source"]).stem[:24], f".{to}"))
    is_audio = to in ("wav", "mp3", "flac", "ogg")
    return Artefact("convert", (Path(out),), audio=Path(out) if is_audio else None,
                    score=None if is_audio else Path(out), params=a)


def run_info(a: dict[str, Any], ws: Workspace) -> Artefact:
    from .. import api

    found = api.info(a["source"])
    if found["kind"] == "audio":
        text = (f"{Path(a['source']).name}: {found['duration_seconds']:.1f} s of audio, "
                f"{found['channels']} channel(s) at {found['sample_rate']} Hz, "
                f"{found['loudness_lufs']} LUFS")
    else:
        text = (f"{Path(a['source']).name}: {found['duration_seconds']:.1f} s, {found['bpm']} "
                f"bpm, {found['key']}, {found['meter']}, tracks: "
                + ", ".join(t["name"] for t in found["tracks"]))
    return Artefact("info", text=text, params=a, facts=found)


def run_explain(a: dict[str, Any], ws: Workspace) -> Artefact:
    from .. import api

    return Artefact("explain", text=api.explain(api.understand(a["prompt"])), params=a)


def run_transcribe(a: dict[str, Any], ws: Workspace) -> Artefact:
    from .. import api

    result = api.transcribe(a["source"])
    mid, js = api.save_transcription(result, ws.name(Path(a["source"]).stem[:24] + "-notes",
                                                     ".mid"), source=a["source"])
    return Artefact("transcribe", (mid, js), score=mid, params=a,
                    facts=_piece_facts(result.score))


def run_evaluate(a: dict[str, Any], ws: Workspace) -> Artefact:
    from .. import api

    found = api.evaluate_files(a["files"])
    lines = []
    for item in found["files"]:
        m = item["metrics"]
        shown = ", ".join(f"{k} {v:.2f}" if isinstance(v, float) else f"{k} {v}"
                          for k, v in list(m.items())[:6])
        lines.append(f"{Path(item['file']).name}: {shown}")
    return Artefact("evaluate", text="\n".join(lines), params=a, facts=found)


def _voice_artefact(tool: str, result: Any, ws: Workspace, stem: str, a: dict[str, Any],
                    **facts: Any) -> Artefact:
    from .. import api

    wav, js = api.save_voice(result, ws.name(stem, ".wav"))
    return Artefact(tool, (wav, js), audio=wav, params=a,
                    facts={"seconds": round(result.audio.duration, 2), **facts})


def run_speak(a: dict[str, Any], ws: Workspace) -> Artefact:
    from .. import api

    result = api.speak(a["text"], lang=a.get("lang", "en"))
    return _voice_artefact("speak", result, ws, _stem(a["text"], "speech"), a,
                           voices=list(result.voices))


def run_sing(a: dict[str, Any], ws: Workspace) -> Artefact:
    from .. import api

    result = api.sing(a["melody"], a.get("lyrics"), lang=a.get("lang"))
    return _voice_artefact("sing", result, ws, _stem(a.get("lyrics") or "", "song"), a)


def run_listen(a: dict[str, Any], ws: Workspace) -> Artefact:
    from .. import api

    transcript = api.listen(a["source"], lang=a.get("lang", "en"), align=False)
    out = api.save_transcript(transcript, ws.name(Path(a["source"]).stem[:24] + "-words",
                                                  ".txt"))
    return Artefact("listen", (out,), text=transcript.text, params=a)


def run_convert_voice(a: dict[str, Any], ws: Workspace) -> Artefact:
    from .. import api

    result = api.convert_voice(a["source"], pitch=a.get("pitch"), formant=a.get("formant"),
                               to=a.get("to"))
    return _voice_artefact("convert_voice", result, ws, Path(a["source"]).stem[:20] + "-voice",
                           a)


def run_sound(a: dict[str, Any], ws: Workspace) -> Artefact:
    from .. import api

    made = api.sound(a["request"], duration=a.get("duration", 10.0),
                     seed=a.get("seed", ws.next_seed()), loop=bool(a.get("loop")))
    return _voice_artefact("sound", made, ws, "-".join(made.layers), {**a, "seed": made.seed},
                           layers=list(made.layers))


def run_separate(a: dict[str, Any], ws: Workspace) -> Artefact:
    from .. import api

    parts = api.separate(a["source"], vocals=a.get("vocals", True))
    folder = ws.name(Path(a["source"]).stem[:20] + "-parts", "")
    paths = api.save_parts(parts, folder)
    return Artefact("separate", tuple(paths), audio=paths[0], params=a,
                    facts={"parts": list(parts.parts)})


def run_denoise(a: dict[str, Any], ws: Workspace) -> Artefact:
    from .. import api

    cleaned = api.denoise(a["source"], strength=a.get("strength", 1.0))
    return _voice_artefact("denoise", cleaned, ws, Path(a["source"]).stem[:20] + "-clean", a,
                           removed_db=round(cleaned.reduced_db, 1))


def run_mix(a: dict[str, Any], ws: Workspace) -> Artefact:
    from .. import api

    ducked = set(a.get("duck") or [])
    gains = dict(zip(a["files"], a.get("gains") or [], strict=False))
    layers = [{"source": f, "duck": f in ducked, **({"gain_db": float(gains[f])}
                                                     if f in gains else {})}
              for f in a["files"]]
    mixed = api.mix(layers, duck_db=a.get("duck_db", 12.0))
    return _voice_artefact("mix", mixed, ws, "mix", a, layers=len(layers))


# ----------------------------------------------------------------------------------------------
# The registry


def _p(name: str, kind: str, about: str, required: bool = False) -> Param:
    return Param(name, kind, about, required)


PROMPT = _p("prompt", "text", "the music described in words", True)
SOURCE_AUDIO = _p("source", "file", "an audio file", True)
DURATION = _p("duration", "number", "length in seconds")
SEED = _p("seed", "integer", "a seed, to repeat a result exactly")
LANG = _p("lang", "language", "language: en, es or pt")

TOOLS: dict[str, Tool] = {t.name: t for t in (
    Tool("generate", {"en": "compose music from a description (style, mood, instruments, "
                            "tempo, key, length)",
                      "es": "componer música a partir de una descripción",
                      "pt": "compor música a partir de uma descrição"},
         (PROMPT, DURATION, _p("bpm", "number", "tempo in beats a minute"),
          _p("key", "text", "key, e.g. D minor"), _p("meter", "text", "meter, e.g. 6/8"),
          _p("instruments", "list", "instruments to use"),
          _p("lyrics", "text", "words for a vocal line"),
          _p("sing", "boolean", "a voice sings the lyrics"), SEED), run_generate),
    Tool("arrange", {"en": "arrange a hummed or written melody for instruments",
                     "es": "arreglar una melodía tarareada o escrita para instrumentos",
                     "pt": "arranjar uma melodia cantarolada ou escrita para instrumentos"},
         (_p("melody", "file", "a recording or score of the tune", True),
          _p("prompt", "text", "how to arrange it, e.g. string quartet"), SEED), run_arrange),
    Tool("continue", {"en": "continue a piece (audio, MIDI or MusicXML) for more seconds",
                      "es": "continuar una pieza", "pt": "continuar uma peça"},
         (_p("source", "file", "the piece to continue", True), DURATION,
          _p("prompt", "text", "changes, e.g. faster"), SEED), run_continue),
    Tool("story", {"en": "music that follows a timeline of moods and styles",
                   "es": "música que sigue una historia", "pt": "música que segue uma história"},
         (_p("timeline", "list", "lines like '0:15 energetic rock'", True), DURATION, SEED),
         run_story),
    Tool("render", {"en": "play a MIDI or MusicXML score as audio",
                    "es": "tocar una partitura MIDI o MusicXML como audio",
                    "pt": "tocar uma partitura MIDI ou MusicXML como áudio"},
         (_p("source", "file", "a score file", True),), run_render),
    Tool("convert", {"en": "convert a file to another format (mp3, wav, flac, ogg, midi, "
                           "musicxml)",
                     "es": "convertir un archivo a otro formato",
                     "pt": "converter um arquivo para outro formato"},
         (_p("source", "file", "the file", True),
          _p("to", "text", "the format: mp3, wav, flac, ogg, midi, musicxml", True)),
         run_convert, makes="files"),
    Tool("info", {"en": "describe a file: length, tempo, key, tracks",
                  "es": "describir un archivo", "pt": "descrever um arquivo"},
         (_p("source", "file", "the file", True),), run_info, makes="text"),
    Tool("explain", {"en": "say how a request in words is understood",
                     "es": "explicar cómo se entiende una petición",
                     "pt": "explicar como um pedido é entendido"},
         (PROMPT,), run_explain, makes="text"),
    Tool("transcribe", {"en": "write the notes of a recording as MIDI",
                        "es": "transcribir las notas de una grabación a MIDI",
                        "pt": "transcrever as notas de uma gravação em MIDI"},
         (SOURCE_AUDIO,), run_transcribe, makes="score"),
    Tool("evaluate", {"en": "measure pieces (scores or audio): pitch range, rhythm, repetition",
                      "es": "medir piezas", "pt": "medir peças"},
         (_p("files", "files", "the files to measure", True),), run_evaluate, makes="text"),
    Tool("speak", {"en": "speak text aloud (English, Spanish, Portuguese)",
                   "es": "decir un texto en voz alta", "pt": "falar um texto em voz alta"},
         (_p("text", "text", "the words (or SSML)", True), LANG), run_speak),
    Tool("sing", {"en": "sing words on a melody", "es": "cantar palabras sobre una melodía",
                  "pt": "cantar palavras sobre uma melodia"},
         (_p("melody", "file", "a MIDI or MusicXML melody", True),
          _p("lyrics", "text", "the words to sing"), LANG), run_sing),
    Tool("listen", {"en": "write down the English words spoken in a recording",
                    "es": "escribir las palabras habladas en una grabación (inglés)",
                    "pt": "escrever as palavras faladas numa gravação (inglês)"},
         (SOURCE_AUDIO, LANG), run_listen, makes="text"),
    Tool("convert_voice", {"en": "change a voice: higher, lower, deeper, a child's",
                           "es": "cambiar una voz: más aguda, más grave",
                           "pt": "mudar uma voz: mais aguda, mais grave"},
         (SOURCE_AUDIO, _p("pitch", "number", "semitones up (+) or down (-)"),
          _p("formant", "number", "formant ratio, 0.5-2"),
          _p("to", "text", "a preset: higher, lower, child, deep")), run_convert_voice),
    Tool("sound", {"en": "make sound effects and ambiences (rain, waves, wind, fire, thunder, "
                         "birds, crowd, traffic, footsteps, clock, heartbeat, whoosh, riser, "
                         "impact)",
                   "es": "crear efectos de sonido y ambientes (lluvia, olas, viento...)",
                   "pt": "criar efeitos sonoros e ambientes (chuva, ondas, vento...)"},
         (_p("request", "text", "the sounds in words", True), DURATION,
          _p("loop", "boolean", "a seamless loop"), SEED), run_sound),
    Tool("separate", {"en": "split a mix into drums, the rest, vocals and accompaniment",
                      "es": "separar una mezcla en batería, voz y acompañamiento",
                      "pt": "separar uma mixagem em bateria, voz e acompanhamento"},
         (SOURCE_AUDIO, _p("vocals", "boolean", "also estimate vocals")), run_separate,
         makes="files"),
    Tool("denoise", {"en": "reduce the noise of a recording",
                     "es": "quitar el ruido de una grabación",
                     "pt": "reduzir o ruído de uma gravação"},
         (SOURCE_AUDIO, _p("strength", "number", "0-1")), run_denoise),
    Tool("mix", {"en": "layer audio files with levels and ducking, mastered",
                 "es": "mezclar archivos de audio", "pt": "mixar arquivos de áudio"},
         (_p("files", "files", "the audio files", True),
          _p("duck", "files", "files turned down while the others sound"),
          _p("gains", "list", "a level in dB per file"),
          _p("duck_db", "number", "how far ducked files go down")), run_mix),
)}


def schemas() -> list[dict[str, Any]]:
    """Every tool as an OpenAI-style function (for a language model that calls tools)."""
    return [t.schema() for t in TOOLS.values()]


def describe(lang: str = "en") -> list[str]:
    """One line per tool in ``lang``."""
    return [f"{t.name}: {t.about.get(lang, t.about['en'])}" for t in TOOLS.values()]


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)
