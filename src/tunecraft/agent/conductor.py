"""The conductor: a conversation over tunecraft's tools, with memory.

Each message becomes a :class:`~tunecraft.agent.router.Plan`; its steps run in order, each
able to use an earlier step's output or the conversation's latest result; what they made is
remembered, so "make it faster", "hazlo en menor" or "troque o piano por um violino" change the
latest piece: re-rendered from its score when only the tempo, the key (same mode), the
instruments, the drums or the loudness change (the same notes), recomposed with the same seed
when the mode, the length or the style changes. A tool that fails is reported in the reply and
the conversation goes on.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ..errors import ParameterError, TunecraftError
from .router import Plan, Ref, Step, route
from .tools import TOOLS, Artefact, Workspace, save_piece
from .words import fold

log = logging.getLogger(__name__)

PIECE_TOOLS = ("generate", "arrange", "continue", "story", "render", "modify")


@dataclass(frozen=True)
class Call:
    tool: str
    args: dict[str, Any]
    ok: bool
    outputs: tuple[str, ...] = ()
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"tool": self.tool, "args": self.args, "ok": self.ok,
                "outputs": list(self.outputs), "error": self.error}


@dataclass(frozen=True)
class Turn:
    say: str
    calls: tuple[Call, ...]
    reply: str
    lang: str
    plan: str

    def to_dict(self, conversation: int, turn: int) -> dict[str, Any]:
        return {"conversation": conversation, "turn": turn, "say": self.say,
                "calls": [c.to_dict() for c in self.calls], "reply": self.reply}


@dataclass
class Memory:
    """What a conversation made, newest last, and its language."""

    artefacts: list[Artefact] = field(default_factory=list)
    lang: str = "en"

    def latest(self, want: str, skip: int = 0) -> Artefact | None:
        found = [a for a in reversed(self.artefacts) if _has(a, want)]
        return found[skip] if len(found) > skip else None


def _has(a: Artefact, want: str) -> bool:
    if want == "audio":
        return a.audio is not None
    if want == "score":
        return a.score is not None
    if want == "piece":
        return a.tool in PIECE_TOOLS and a.score is not None
    return True


# ----------------------------------------------------------------------------------------------
# Replies in three languages

TEXT: dict[str, dict[str, str]] = {
    "greet": {"en": "Hello! Tell me what music or sound you want: a style, a mood, "
                    "instruments, a tempo, a length. Ask \"what can you do?\" for the list.",
              "es": "¡Hola! Dime qué música o sonido quieres: un estilo, un ánimo, "
                    "instrumentos, un tempo, una duración. Pregunta \"¿qué puedes hacer?\" "
                    "para ver la lista.",
              "pt": "Olá! Diga que música ou som você quer: um estilo, um clima, "
                    "instrumentos, um andamento, uma duração. Pergunte \"o que você pode "
                    "fazer?\" para ver a lista."},
    "thanks": {"en": "You're welcome. Ask for a change or something new whenever you like.",
               "es": "De nada. Pide un cambio o algo nuevo cuando quieras.",
               "pt": "De nada. Peça uma mudança ou algo novo quando quiser."},
    "help": {"en": "I can:", "es": "Puedo:", "pt": "Posso:"},
    "help_tail": {"en": "Then change the last result: faster, slower, in another key, minor, "
                        "longer, shorter, louder, without drums, \"swap the piano for a violin\".",
                  "es": "Después cambia el último resultado: más rápido, más lento, en otra "
                        "tonalidad, en menor, más largo, más corto, sin batería, \"cambia el "
                        "piano por un violín\".",
                  "pt": "Depois mude o último resultado: mais rápido, mais lento, em outro tom, "
                        "em menor, mais longo, mais curto, sem bateria, \"troque o piano por um "
                        "violino\"."},
    "unsupported": {"en": "I can't do {topic}: I work only with music, sound and voices. I can "
                          "compose music (for a video too), make sound effects, speak and sing, "
                          "separate, clean and mix recordings.",
                    "es": "No puedo hacer {topic}: solo trabajo con música, sonido y voces. "
                          "Puedo componer música (también para un vídeo), crear efectos de "
                          "sonido, hablar y cantar, separar, limpiar y mezclar grabaciones.",
                    "pt": "Não posso fazer {topic}: trabalho só com música, som e vozes. Posso "
                          "compor música (também para um vídeo), criar efeitos sonoros, falar e "
                          "cantar, separar, limpar e mixar gravações."},
    "unknown": {"en": "I didn't understand what to make. Try \"a calm piano piece, 30 "
                      "seconds\", \"rain and thunder for a minute\" or \"say 'hello'\".",
                "es": "No entendí qué hacer. Prueba \"una pieza tranquila de piano de 30 "
                      "segundos\", \"lluvia y truenos durante un minuto\" o \"di 'hola'\".",
                "pt": "Não entendi o que fazer. Tente \"uma peça calma de piano de 30 "
                      "segundos\", \"chuva e trovões por um minuto\" ou \"diga 'olá'\"."},
    "no_piece": {"en": "There is no piece yet to change: ask for one first.",
                 "es": "Todavía no hay ninguna pieza que cambiar: pide una primero.",
                 "pt": "Ainda não há nenhuma peça para mudar: peça uma primeiro."},
    "no_input": {"en": "{tool} needs {what}: mention a file or make one first.",
                 "es": "{tool} necesita {what}: menciona un archivo o crea uno antes.",
                 "pt": "{tool} precisa de {what}: mencione um arquivo ou crie um antes."},
    "failed": {"en": "{tool} failed: {error}", "es": "{tool} falló: {error}",
               "pt": "{tool} falhou: {error}"},
    "made": {"en": "Done ({tool}): {files}", "es": "Hecho ({tool}): {files}",
             "pt": "Feito ({tool}): {files}"},
    "piece": {"en": "A {seconds:.0f} s piece at {bpm:g} bpm in {key} ({tracks}): {file}",
              "es": "Una pieza de {seconds:.0f} s a {bpm:g} bpm en {key} ({tracks}): {file}",
              "pt": "Uma peça de {seconds:.0f} s a {bpm:g} bpm em {key} ({tracks}): {file}"},
    "changed": {"en": "Changed: {what}.", "es": "Cambiado: {what}.", "pt": "Mudado: {what}."},
    "rerendered": {"en": "same notes, played again", "es": "las mismas notas, tocadas de nuevo",
                   "pt": "as mesmas notas, tocadas de novo"},
    "recomposed": {"en": "composed again with the same seed",
                   "es": "compuesta de nuevo con la misma semilla",
                   "pt": "composta de novo com a mesma semente"},
    "no_drums": {"en": "the piece has no drums to take out", "es": "la pieza no tiene batería "
                  "que quitar", "pt": "a peça não tem bateria para tirar"},
    "nothing": {"en": "I found nothing to change in that.", "es": "No encontré nada que cambiar.",
                "pt": "Não encontrei nada para mudar."},
}

WHAT = {
    "tempo": {"en": "tempo {a:g} → {b:g} bpm", "es": "tempo {a:g} → {b:g} bpm",
              "pt": "andamento {a:g} → {b:g} bpm"},
    "key": {"en": "key {a} → {b}", "es": "tonalidad {a} → {b}", "pt": "tom {a} → {b}"},
    "duration": {"en": "length {a:.0f} → {b:.0f} s", "es": "duración {a:.0f} → {b:.0f} s",
                 "pt": "duração {a:.0f} → {b:.0f} s"},
    "loudness": {"en": "loudness {a:g} → {b:g} LUFS", "es": "volumen {a:g} → {b:g} LUFS",
                 "pt": "volume {a:g} → {b:g} LUFS"},
    "drums_off": {"en": "drums removed", "es": "sin batería", "pt": "sem bateria"},
    "drums_on": {"en": "with drums", "es": "con batería", "pt": "com bateria"},
    "swap": {"en": "{a} → {b}", "es": "{a} → {b}", "pt": "{a} → {b}"},
    "style": {"en": "style {b}", "es": "estilo {b}", "pt": "estilo {b}"},
    "mood": {"en": "{b}", "es": "{b}", "pt": "{b}"},
}


def _mood(mood: str, lang: str) -> str:
    return {"energetic": {"en": "more energy", "es": "más energía", "pt": "mais energia"},
            "calm": {"en": "calmer", "es": "más tranquila", "pt": "mais calma"}}[mood][lang]


def _t(name: str, lang: str, **kw: Any) -> str:
    table = TEXT[name]
    return table.get(lang, table["en"]).format(**kw)


# ----------------------------------------------------------------------------------------------


class Conductor:
    """One conversation: ``turn(message)`` plans, runs the tools and answers."""

    def __init__(self, workdir: str | os.PathLike[str], *, seed: int | None = None,
                 lang: str = "en", router: Any = None, confined: bool = False) -> None:
        """``confined``: files named in messages must lie in ``workdir`` (the studio's Chat
        tab: a visitor never reaches the server's other files)."""
        self.workspace = Workspace(Path(workdir), seed)
        self.memory = Memory(lang=lang)
        self._router = router
        self._confined = confined

    def plan(self, message: str) -> Plan:
        if self._router is not None:
            found = self._router(message, self.memory)
            if found is not None:
                return found
        return route(message, lang=self.memory.lang)

    def turn(self, message: str) -> Turn:
        plan = self.plan(message)
        lang = plan.lang
        self.memory.lang = lang
        if plan.kind in ("greet", "thanks", "unknown"):
            return Turn(message, (), _t(plan.kind, lang), lang, plan.kind)
        if plan.kind == "help":
            from .tools import describe

            reply = "\n".join([_t("help", lang), *("- " + line for line in describe(lang)),
                               _t("help_tail", lang)])
            return Turn(message, (), reply, lang, plan.kind)
        if plan.kind == "unsupported":
            return Turn(message, (), _t("unsupported", lang, topic=_topic(plan.topic, lang)),
                        lang, plan.kind)
        steps = plan.steps if plan.kind == "tools" else (Step("modify", plan.changes),)
        calls: list[Call] = []
        lines: list[str] = []
        made: list[Artefact] = []
        for step in steps:
            call, line, artefact = self._run(step, made, lang)
            calls.append(call)
            lines.append(line)
            if artefact is not None:
                made.append(artefact)
                self.memory.artefacts.append(artefact)
            if not call.ok:
                break  # later steps would use what failed
        if plan.topic:
            lines.append(_t("unsupported", lang, topic=_topic(plan.topic, lang)))
        return Turn(message, tuple(calls), "\n".join(lines), lang, plan.kind)

    # ------------------------------------------------------------------------------------------

    def _resolve(self, value: Any, made: list[Artefact], tool: str, lang: str) -> Any:
        if isinstance(value, list):
            return [self._resolve(v, made, tool, lang) for v in value]
        if not isinstance(value, Ref):
            return value
        which = value.which
        found: Artefact | None = None
        if which == "prev":
            found = made[-1] if made else self.memory.latest("audio")
        elif which == "prev_audio":
            found = made[-2] if len(made) >= 2 else self.memory.latest("piece")
        elif which == "piece_audio":
            found = self.memory.latest("piece")
        elif which == "audio":
            found = self.memory.latest("audio")
        elif which == "audio2":
            found = self.memory.latest("audio", skip=1)
        elif which in ("score", "musicxml_source"):
            found = self.memory.latest("score") or (self.memory.latest("audio")
                                                    if which == "musicxml_source" else None)
        elif which == "seconds":
            piece = self.memory.latest("piece")
            if piece is None or "seconds" not in piece.facts:
                return 10.0
            return float(piece.facts.get("audio_seconds", piece.facts["seconds"]))
        if found is None:
            what = ({"en": "a score", "es": "una partitura", "pt": "uma partitura"}
                    if which == "score" else
                    {"en": "a recording", "es": "una grabación", "pt": "uma gravação"})
            raise _NoInput(_t("no_input", lang, tool=tool, what=what.get(lang, what["en"])))
        if which in ("score",) or (which == "musicxml_source" and found.score is not None):
            return str(found.score)
        if tool in ("render", "sing", "continue", "evaluate") and found.score is not None:
            return str(found.score)
        return str(found.audio or found.score or (found.files[0] if found.files else ""))

    def _run(self, step: Step, made: list[Artefact], lang: str
             ) -> tuple[Call, str, Artefact | None]:
        try:
            args = {k: self._resolve(v, made, step.tool, lang) for k, v in step.args.items()}
        except _NoInput as e:
            return Call(step.tool, {}, False, error=str(e)), str(e), None
        if step.tool == "modify":
            return self._modify(args, made, lang)
        tool = TOOLS[step.tool]
        try:
            checked = tool.check(args)
            if self._confined:
                self._check_inside(tool, checked)
            artefact = tool.run(checked, self.workspace)
        except TunecraftError as e:
            return (Call(step.tool, args, False, error=str(e)),
                    _t("failed", lang, tool=step.tool, error=str(e)), None)
        except Exception as e:  # a bug: said, logged, and the conversation goes on
            log.exception("%s failed", step.tool)
            msg = f"internal error ({type(e).__name__}: {e})"
            return (Call(step.tool, args, False, error=msg),
                    _t("failed", lang, tool=step.tool, error=msg), None)
        return (Call(step.tool, checked, True, tuple(str(p) for p in artefact.files)),
                _describe(artefact, lang), artefact)

    def _check_inside(self, tool: Any, args: Mapping[str, Any]) -> None:
        root = self.workspace.folder.resolve()
        for p in tool.params:
            if p.kind not in ("file", "files") or p.name not in args:
                continue
            values = args[p.name] if isinstance(args[p.name], list) else [args[p.name]]
            for v in values:
                if not Path(v).resolve().is_relative_to(root):
                    raise ParameterError(f"{Path(v).name}: only files made in this "
                                         "conversation can be used here")

    # ------------------------------------------------------------------------------------------
    # Follow-ups

    def _modify(self, changes: Mapping[str, Any], made: list[Artefact], lang: str
                ) -> tuple[Call, str, Artefact | None]:
        piece = next((a for a in reversed(made) if _has(a, "piece")), None) \
            or self.memory.latest("piece")
        shown = {k: (list(v) if isinstance(v, tuple) else v) for k, v in changes.items()}
        if piece is None:
            return Call("modify", shown, False, error="no piece"), _t("no_piece", lang), None
        try:
            artefact, what = self._apply(piece, changes, lang)
        except TunecraftError as e:
            return (Call("modify", shown, False, error=str(e)),
                    _t("failed", lang, tool="modify", error=str(e)), None)
        if artefact is None:
            return Call("modify", shown, False, error="nothing to change"), _t("nothing",
                                                                               lang), None
        args = {"source": str(piece.audio), **shown}
        line = _t("changed", lang, what=what) + "\n" + _describe(artefact, lang)
        return Call("modify", args, True, tuple(str(p) for p in artefact.files)), line, artefact

    def _apply(self, piece: Artefact, ch: Mapping[str, Any], lang: str
               ) -> tuple[Artefact | None, str]:
        from .. import api
        from ..score import KeySignature

        facts = piece.facts
        said: list[str] = []
        bpm_now = float(facts.get("bpm") or 120)
        key_now = str(facts.get("key") or "C major")
        secs_now = float(facts.get("seconds") or 30)
        lufs_now = float(facts.get("lufs", -14.0))
        edit: dict[str, Any] = {}
        recompose: dict[str, Any] = {}
        if "tempo" in ch:
            how, v = ch["tempo"]
            bpm = v if how == "to" else bpm_now + v if how == "by" else bpm_now * v
            bpm = round(min(max(bpm, 20.0), 300.0))
            edit["bpm"] = bpm
            said.append(WHAT["tempo"][lang].format(a=bpm_now, b=bpm))
        if "key" in ch or "mode" in ch:
            now = KeySignature.parse(key_now)
            target = KeySignature.parse(ch["key"]) if "key" in ch else KeySignature.parse(
                f"{now.name.split()[0]} {ch['mode']}")
            if target.name != now.name:
                (edit if target.mode == now.mode else recompose)["key"] = target.name
                said.append(WHAT["key"][lang].format(a=key_name(now.name, lang),
                                                     b=key_name(target.name, lang)))
        if "duration" in ch:
            how, v = ch["duration"]
            secs = round(v if how == "to" else secs_now * v)
            secs = min(max(secs, 5), 600)
            recompose["duration"] = secs
            said.append(WHAT["duration"][lang].format(a=secs_now, b=secs))
        lufs = None
        if "loudness" in ch:
            lufs = min(max(lufs_now + ch["loudness"], -40.0), -8.0)
            said.append(WHAT["loudness"][lang].format(a=lufs_now, b=lufs))
        tracks = facts.get("tracks") or []
        if ch.get("drums") is False:
            drums = [t["name"] for t in tracks if t["drum"]]
            if not drums and len(ch) == 1:
                raise ParameterError(TEXT["no_drums"][lang])
            if drums:
                edit["mute"] = drums
                said.append(WHAT["drums_off"][lang])
        elif ch.get("drums") is True and not any(t["drum"] for t in tracks):
            recompose["drums"] = True
            said.append(WHAT["drums_on"][lang])
        if "swap" in ch:
            old, new = ch["swap"]
            track = _track_for(tracks, old)
            from .router import _instrument

            instrument = _instrument(new)
            if track is None:
                raise ParameterError(f"there is no {old} in the piece (it has "
                                     f"{', '.join(t['name'] for t in tracks)})")
            edit["instruments"] = [f"{track}={instrument}"]
            said.append(WHAT["swap"][lang].format(a=track, b=instrument))
        if "mood" in ch:
            recompose["mood"] = ch["mood"]
            said.append(WHAT["mood"][lang].format(b=_mood(ch["mood"], lang)))
        if "style" in ch:
            recompose["style"] = ch["style"]
            said.append(WHAT["style"][lang].format(b=ch["style"]))
        if not said:
            return None, ""
        if recompose:
            artefact = self._recompose(piece, recompose, edit, lufs)
            how_text = TEXT["recomposed"][lang]
        else:
            score = api.load(piece.score)
            score = api.edit(score, bpm=edit.get("bpm"), key=edit.get("key"),
                             mute=edit.get("mute", ()), instruments=edit.get("instruments", ()))
            params = {**piece.params, **edit}
            artefact = save_piece("modify", score, self.workspace,
                                  _stem_of(piece), params, lufs=lufs if lufs is not None
                                  else (facts.get("lufs")))
            how_text = TEXT["rerendered"][lang]
        return artefact, ", ".join(said) + f" ({how_text})"

    def _recompose(self, piece: Artefact, recompose: Mapping[str, Any],
                   edit: Mapping[str, Any], lufs: float | None) -> Artefact:
        from .. import api
        from .tools import TOOLS as _tools

        p = dict(piece.params)
        if piece.tool != "generate" and "prompt" not in p:
            raise ParameterError("only a piece composed from words can be composed again; "
                                 "ask for tempo, key in the same mode, instruments or drums")
        prompt = str(p.get("prompt", ""))
        if "style" in recompose:
            prompt = f"{recompose['style']} {_without_style(prompt)}"
        if recompose.get("drums"):
            prompt += " with drums"
        if recompose.get("mood"):
            prompt = f"{recompose['mood']} {prompt}"
        args = {"prompt": prompt, "seed": p.get("seed"),
                "duration": recompose.get("duration", p.get("duration") or piece.facts.get(
                    "seconds")),
                "bpm": edit.get("bpm", p.get("bpm") if "style" not in recompose else None),
                "key": recompose.get("key", edit.get("key", p.get("key"))),
                "meter": p.get("meter"), "instruments": p.get("instruments")}
        args = {k: v for k, v in args.items() if v is not None}
        artefact = _tools["generate"].run(_tools["generate"].check(args), self.workspace)
        if edit.get("mute") or edit.get("instruments") or lufs is not None:
            score = api.edit(api.load(artefact.score), mute=[m for m in edit.get("mute", ())
                                                             if m in _names(artefact)],
                             instruments=edit.get("instruments", ()))
            artefact = save_piece("modify", score, self.workspace, _stem_of(piece),
                                  artefact.params, lufs=lufs)
        return replace(artefact, tool="modify", params={**artefact.params, **args})


class _NoInput(TunecraftError):
    pass


def _names(a: Artefact) -> set[str]:
    return {t["name"] for t in a.facts.get("tracks", [])}


def _stem_of(piece: Artefact) -> str:
    stem = Path(str(piece.audio or "piece")).stem
    return stem.split("-", 1)[1] if "-" in stem else stem


def _track_for(tracks: list[dict[str, Any]], word: str) -> str | None:
    """The track a word names: by track name, else by the instrument it plays."""
    from .router import _instrument

    w = fold(word).strip()
    for t in tracks:
        if fold(t["name"]) == w or w in fold(t["name"]).split():
            return t["name"]
    name = _instrument(word)
    if name:
        from .. import api

        program = next((i["program"] for i in api.instruments() if i["name"] == name), None)
        for t in tracks:
            if not t["drum"] and (t["program"] == program or fold(t["instrument"]) == name):
                return t["name"]
    return None


def _without_style(prompt: str) -> str:
    """The prompt without its style words (so a new style replaces the old)."""
    from ..understand import parse

    try:
        ev = parse(prompt).evidence.get("style")
    except Exception:
        return prompt
    out = prompt
    for w in (ev.words if ev is not None and ev.source == "explicit" else ()):
        out = out.replace(w, " ")
    return " ".join(out.split())


def _topic(topic: str, lang: str) -> str:
    names = {"video": {"en": "video", "es": "vídeo", "pt": "vídeo"},
             "image": {"en": "images", "es": "imágenes", "pt": "imagens"},
             "translation": {"en": "translation", "es": "traducciones", "pt": "traduções"},
             "weather": {"en": "weather forecasts", "es": "el pronóstico del tiempo",
                         "pt": "previsão do tempo"},
             "news": {"en": "news", "es": "noticias", "pt": "notícias"},
             "email": {"en": "messages", "es": "mensajes", "pt": "mensagens"},
             "code": {"en": "programming", "es": "programación", "pt": "programação"},
             "maths": {"en": "maths", "es": "cálculos", "pt": "cálculos"},
             "booking": {"en": "bookings", "es": "reservas", "pt": "reservas"}}
    default = {"en": "that", "es": "eso", "pt": "isso"}
    return names.get(topic, default).get(lang, "that")


MADE = {
    "sound": {"en": "{what}, {seconds:.0f} s: {file}", "es": "{what}, {seconds:.0f} s: {file}",
              "pt": "{what}, {seconds:.0f} s: {file}"},
    "speak": {"en": "Spoken ({seconds:.1f} s): {file}", "es": "Dicho ({seconds:.1f} s): {file}",
              "pt": "Falado ({seconds:.1f} s): {file}"},
    "sing": {"en": "Sung ({seconds:.1f} s): {file}", "es": "Cantado ({seconds:.1f} s): {file}",
             "pt": "Cantado ({seconds:.1f} s): {file}"},
    "mix": {"en": "Mixed {layers} layers ({seconds:.0f} s): {file}",
            "es": "Mezcladas {layers} capas ({seconds:.0f} s): {file}",
            "pt": "Mixadas {layers} camadas ({seconds:.0f} s): {file}"},
    "denoise": {"en": "Cleaned ({removed_db:g} dB of noise removed): {file}",
                "es": "Limpio ({removed_db:g} dB de ruido menos): {file}",
                "pt": "Limpo ({removed_db:g} dB de ruído a menos): {file}"},
    "convert": {"en": "Converted: {file}", "es": "Convertido: {file}",
                "pt": "Convertido: {file}"},
    "convert_voice": {"en": "The voice, changed: {file}", "es": "La voz, cambiada: {file}",
                      "pt": "A voz, mudada: {file}"},
}


_SOLFEGE = {"C": "do", "D": "re", "E": "mi", "F": "fa", "G": "sol", "A": "la", "B": "si"}


def key_name(name: str, lang: str) -> str:
    """"Bb major" as a musician of ``lang`` says it ("si bemol mayor", "si bemol maior")."""
    if lang == "en" or not name:
        return name
    tonic, _, mode = name.partition(" ")
    base = _SOLFEGE.get(tonic[:1].upper(), tonic[:1])
    if lang == "pt":
        base = {"fa": "fá", "la": "lá", "do": "dó", "re": "ré"}.get(base, base)
    accidental = {"b": " bemol", "#": {"es": " sostenido", "pt": " sustenido"}[lang]}.get(
        tonic[1:2], "")
    modes = {"major": {"es": "mayor", "pt": "maior"}, "minor": {"es": "menor", "pt": "menor"}}
    return f"{base}{accidental} {modes.get(mode, {}).get(lang, mode)}".strip()


def shown(path: Any) -> str:
    """A path as a reply shows it: relative to the working folder when inside it."""
    p = Path(str(path))
    try:
        return str(p.relative_to(Path.cwd()))
    except ValueError:
        return str(p)


def _describe(a: Artefact, lang: str) -> str:
    if a.text is not None:
        return a.text
    if a.tool in MADE:
        facts = dict(a.facts)
        if a.tool == "sound":
            facts["what"] = " + ".join(facts.pop("layers", [])).capitalize()
        return MADE[a.tool][lang].format(file=shown(a.audio or a.score), **facts)
    if a.tool in PIECE_TOOLS and a.facts.get("bpm") is not None:
        tracks = ", ".join(t["instrument"] if t["drum"] or fold(t["name"]) == fold(
            t["instrument"]) else f"{t['name']}: {t['instrument']}"
                           for t in a.facts.get("tracks", []))
        return _t("piece", lang, seconds=float(a.facts["seconds"]), bpm=float(a.facts["bpm"]),
                  key=key_name(str(a.facts["key"]), lang), tracks=tracks,
                  file=shown(a.audio))
    files = [a.audio] if a.audio is not None else list(a.files[:3])
    return _t("made", lang, tool=a.tool, files=", ".join(shown(f) for f in files))
