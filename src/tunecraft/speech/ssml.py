"""SSML (and plain text) read into segments a voice can speak.

The subset (W3C SSML 1.1): ``speak``, ``p`` and ``s`` (pauses after paragraphs and
sentences), ``break`` (``time`` "500ms"/"1.5s", or ``strength`` none..x-strong), ``prosody``
(``rate`` x-slow..x-fast or a percentage, ``pitch`` x-low..x-high, "+2st", "-10%", ``volume``
silent..x-loud or "+6dB"; nested prosody multiplies rates and adds pitches and volumes),
``emphasis`` (``level`` strong/moderate/reduced/none), ``say-as`` (``interpret-as``
characters/spell-out, cardinal/number, ordinal, digits, date "ymd"/"dmy"/"mdy", time),
``sub`` (``alias``), ``voice`` (``name``), ``lang`` and ``xml:lang`` on any element, and
``mark`` (kept as a name). Anything else is refused with a message that names the tag.

Plain text (not starting with ``<``) is one segment per sentence. Digits in text are read
as numbers in the segment's language (:mod:`.numbers`).
"""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, replace

from ..errors import ParameterError
from .numbers import LANGUAGES, number_words, ordinal_words

MAX_CHARS = 30_000  # about half an hour of speech; longer texts are refused (split them)
_XML_NS = "{http://www.w3.org/XML/1998/namespace}"

# The voices tunecraft knows (speech.engines) and the language each speaks.
VOICE_LANGUAGES = {"joe": "en", "en-us": "en", "en-gb": "en", "es": "es", "es-419": "es",
                   "pt-br": "pt", "pt": "pt"}
BREAK_STRENGTH = {"none": 0.0, "x-weak": 0.1, "weak": 0.2, "medium": 0.35, "strong": 0.6,
                  "x-strong": 1.0}  # seconds
SENTENCE_PAUSE = 0.35
PARAGRAPH_PAUSE = 0.7
RATES = {"x-slow": 0.6, "slow": 0.8, "medium": 1.0, "default": 1.0, "fast": 1.25,
         "x-fast": 1.6}
PITCHES = {"x-low": -6.0, "low": -3.0, "medium": 0.0, "default": 0.0, "high": 3.0,
           "x-high": 6.0}  # semitones
VOLUMES = {"silent": -96.0, "x-soft": -12.0, "soft": -6.0, "medium": 0.0, "default": 0.0,
           "loud": 4.0, "x-loud": 8.0}  # dB
EMPHASIS = {"strong": (0.85, 2.0, 3.0), "moderate": (0.92, 1.0, 1.5), "none": (1.0, 0.0, 0.0),
            "reduced": (1.1, -1.0, -3.0)}  # (rate factor, pitch st, volume dB)


class SSMLError(ParameterError):
    """SSML that cannot be read: malformed, or a tag or value outside the supported subset."""


@dataclass(frozen=True, slots=True)
class Segment:
    """A stretch of text spoken one way: ``rate`` (1 = the voice's own), ``pitch`` in
    semitones, ``volume`` in dB, then ``pause`` seconds of silence; ``mark`` names an SSML
    mark placed before it."""

    text: str
    lang: str = "en"
    voice: str | None = None
    rate: float = 1.0
    pitch: float = 0.0
    volume: float = 0.0
    pause: float = 0.0
    mark: str | None = None


def parse_ssml(text: str, *, lang: str = "en", voice: str | None = None) -> tuple[Segment, ...]:
    """Segments to speak, in order. ``text`` starting with ``<`` is SSML (``<speak>``, or an
    XML declaration before it), anything else plain text in ``lang``."""
    if lang not in LANGUAGES:
        raise SSMLError(f"language {lang!r} is not one tunecraft speaks ({', '.join(LANGUAGES)})")
    if not text or not text.strip():
        raise SSMLError("there is no text to speak")
    if len(text) > MAX_CHARS:
        raise SSMLError(f"the text has {len(text):,} characters; at most {MAX_CHARS:,} are "
                        "spoken at once (split it)")
    base = Segment("", lang=lang, voice=voice)
    if not text.lstrip().startswith("<"):
        return _merge(_sentences(text, base))
    if re.search(r"<!(DOCTYPE|ENTITY)", text, re.IGNORECASE):
        raise SSMLError("SSML with a DOCTYPE or ENTITY declaration is refused")
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        raise SSMLError(_xml_problem(text, exc)) from None
    if _tag(root) != "speak":
        raise SSMLError(f"SSML starts with <speak>, not <{_tag(root)}>")
    out: list[Segment] = []
    _walk(root, _with_lang(root, base), out)
    segments = _merge(out)
    if not any(s.text for s in segments):
        raise SSMLError("the SSML holds no text to speak")
    return segments


_TAG = re.compile(r"<(/?)([A-Za-z_][\w:.-]*)[^<>]*?(/?)>")


def _xml_problem(text: str, exc: ET.ParseError) -> str:
    """What is wrong with malformed SSML, naming the tag: "<prosody> is not closed before
    </speak> (line 1, column 32)"."""
    line, col = exc.position
    lines = text.splitlines(keepends=True)
    offset = sum(len(x) for x in lines[:line - 1]) + col
    where = f"line {line}, column {col + 1}"
    reason = str(exc).split(":")[0]
    if reason == "mismatched tag":  # the parser stops inside the closing tag
        start = text.rfind("<", 0, offset + 1)
        offset = start if start >= 0 else offset
    stack: list[str] = []
    for m in _TAG.finditer(text):
        if m.start() >= offset:
            break
        closing, name, empty = m.groups()
        if closing and stack and stack[-1] == name:
            stack.pop()
        elif not closing and not empty:
            stack.append(name)
    here = _TAG.match(text, offset)
    if reason == "mismatched tag" and here is not None and here.group(1):
        opened = f"<{stack[-1]}> is not closed before" if stack else "nothing opened"
        return f"malformed SSML: {opened} </{here.group(2)}> ({where})"
    if reason == "no element found" and stack:
        return f"malformed SSML: <{stack[-1]}> is never closed"
    near = " ".join(text[max(0, offset - 12):offset + 12].split())
    inside = f" inside <{stack[-1]}>" if stack else ""
    return f"malformed SSML{inside}: {reason} near {near!r} ({where})"


def _tag(el: ET.Element) -> str:
    return el.tag.rsplit("}", 1)[-1]


def _with_lang(el: ET.Element, style: Segment) -> Segment:
    value = el.get(f"{_XML_NS}lang") or el.get("lang")
    if value is None:
        return style
    code = value.lower().replace("_", "-").split("-")[0]
    if code not in LANGUAGES:
        raise SSMLError(f"<{_tag(el)}> asks for language {value!r}; tunecraft speaks "
                        f"{', '.join(LANGUAGES)}")
    return replace(style, lang=code)


def _text(out: list[Segment], text: str | None, style: Segment) -> None:
    if text and text.strip():
        out.append(replace(style, text=" ".join(text.split()), pause=0.0, mark=None))


def _pause(out: list[Segment], seconds: float, style: Segment) -> None:
    if out:
        out[-1] = replace(out[-1], pause=out[-1].pause + seconds)
    else:
        out.append(replace(style, text="", pause=seconds, mark=None))


_HANDLED = ("speak", "p", "s", "break", "prosody", "emphasis", "say-as", "sub", "voice",
            "lang", "mark")


def _walk(el: ET.Element, style: Segment, out: list[Segment]) -> None:
    tag = _tag(el)
    if tag not in _HANDLED:
        raise SSMLError(f"<{tag}> is not supported (use {', '.join(_HANDLED)})")
    style = _with_lang(el, style)
    if tag == "break":
        _pause(out, _break_seconds(el), style)
    elif tag == "mark":
        name = el.get("name")
        if not name:
            raise SSMLError("<mark> needs a name")
        out.append(replace(style, text="", pause=0.0, mark=name))
    elif tag == "sub":
        alias = el.get("alias")
        if alias is None:
            raise SSMLError("<sub> needs an alias (the words to say)")
        _text(out, alias, style)
    elif tag == "say-as":
        _text(out, _say_as(el, style.lang), style)
    else:
        if tag == "prosody":
            style = _prosody(el, style)
        elif tag == "emphasis":
            level = el.get("level", "moderate")
            if level not in EMPHASIS:
                raise SSMLError(f"<emphasis level={level!r}> is not a level "
                                f"({', '.join(EMPHASIS)})")
            r, p, v = EMPHASIS[level]
            style = replace(style, rate=style.rate * r, pitch=style.pitch + p,
                            volume=style.volume + v)
        elif tag == "voice":
            name = el.get("name")
            if name is not None:
                style = replace(style, voice=name)
                # A voice of tunecraft's speaks its own language, unless the tag says another.
                own = VOICE_LANGUAGES.get(name.strip().lower())
                if own is not None and el.get("lang") is None \
                        and el.get(f"{_XML_NS}lang") is None:
                    style = replace(style, lang=own)
        _text(out, el.text, style)
        for child in el:
            _walk(child, style, out)
            _text(out, child.tail, style)
        if tag in ("s", "p"):
            _pause(out, SENTENCE_PAUSE if tag == "s" else PARAGRAPH_PAUSE, style)


def _break_seconds(el: ET.Element) -> float:
    time = el.get("time")
    if time is not None:
        m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(ms|s)\s*", time)
        if not m:
            raise SSMLError(f"<break time={time!r}> is not a time (write 500ms or 1.5s)")
        seconds = float(m.group(1)) / (1000.0 if m.group(2) == "ms" else 1.0)
        if seconds > 10:
            raise SSMLError(f"<break time={time!r}> is longer than 10 s")
        return seconds
    strength = el.get("strength", "medium")
    if strength not in BREAK_STRENGTH:
        raise SSMLError(f"<break strength={strength!r}> is not a strength "
                        f"({', '.join(BREAK_STRENGTH)})")
    return BREAK_STRENGTH[strength]


def _prosody(el: ET.Element, style: Segment) -> Segment:
    rate, pitch, volume = style.rate, style.pitch, style.volume
    if (value := el.get("rate")) is not None:
        if value in RATES:
            rate *= RATES[value]
        elif m := re.fullmatch(r"\s*(\d+(?:\.\d+)?)%\s*", value):
            rate *= float(m.group(1)) / 100.0
        else:
            raise SSMLError(f"<prosody rate={value!r}> is not a rate (x-slow..x-fast or 80%)")
        if not 0.25 <= rate <= 4.0:
            raise SSMLError(f"<prosody rate={value!r}> makes the speech {rate:g}x; keep it "
                            "within 25%-400%")
    if (value := el.get("pitch")) is not None:
        if value in PITCHES:
            pitch += PITCHES[value]
        elif m := re.fullmatch(r"\s*([+-]?\d+(?:\.\d+)?)st\s*", value):
            pitch += float(m.group(1))
        elif m := re.fullmatch(r"\s*([+-]?\d+(?:\.\d+)?)%\s*", value):
            factor = 1.0 + float(m.group(1)) / 100.0
            if factor <= 0:
                raise SSMLError(f"<prosody pitch={value!r}> leaves no pitch")
            pitch += 12.0 * math.log2(factor)
        else:
            raise SSMLError(f"<prosody pitch={value!r}> is not a pitch (x-low..x-high, +2st, "
                            "-10%)")
        if abs(pitch) > 24:
            raise SSMLError(f"<prosody pitch={value!r}> moves the voice more than two octaves")
    if (value := el.get("volume")) is not None:
        if value in VOLUMES:
            volume += VOLUMES[value]
        elif m := re.fullmatch(r"\s*([+-]?\d+(?:\.\d+)?)dB\s*", value):
            volume += float(m.group(1))
        else:
            raise SSMLError(f"<prosody volume={value!r}> is not a volume (silent..x-loud or "
                            "+6dB)")
    return replace(style, rate=rate, pitch=pitch, volume=volume)


def _say_as(el: ET.Element, lang: str) -> str:
    kind = el.get("interpret-as")
    text = "".join(el.itertext()).strip()
    if kind is None:
        raise SSMLError("<say-as> needs interpret-as")
    if kind in ("characters", "spell-out"):
        return " ".join(c for c in text if not c.isspace())
    if kind == "digits":
        return " ".join(number_words(int(c), lang) for c in text if c.isdigit())
    if kind in ("cardinal", "number", "ordinal"):
        digits = text.replace(",", "").replace(".", "") if lang == "en" else \
            text.replace(".", "").replace(",", "")
        if not re.fullmatch(r"-?\d+", digits):
            raise SSMLError(f"<say-as interpret-as={kind!r}> holds {text!r}, not a number")
        n = int(digits)
        return ordinal_words(n, lang) if kind == "ordinal" else number_words(n, lang)
    if kind == "date":
        return _date(text, el.get("format", "ymd"), lang)
    if kind == "time":
        m = re.fullmatch(r"(\d{1,2}):(\d{2})", text)
        if not m:
            raise SSMLError(f"<say-as interpret-as='time'> holds {text!r}, not hh:mm")
        h, mi = int(m.group(1)), int(m.group(2))
        if h > 23 or mi > 59:
            raise SSMLError(f"<say-as interpret-as='time'> holds {text!r}, not a time of day")
        return _time_words(h, mi, lang)
    raise SSMLError(f"<say-as interpret-as={kind!r}> is not supported (characters, cardinal, "
                    "ordinal, digits, date, time)")


_MONTHS = {
    "en": "January February March April May June July August September October November "
          "December".split(),
    "es": "enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre "
          "diciembre".split(),
    "pt": "janeiro fevereiro março abril maio junho julho agosto setembro outubro novembro "
          "dezembro".split(),
}


def _date(text: str, fmt: str, lang: str) -> str:
    parts = re.split(r"[-/.]", text)
    if fmt not in ("ymd", "dmy", "mdy") or len(parts) != 3 or not all(p.isdigit() for p in parts):
        raise SSMLError(f"<say-as interpret-as='date' format={fmt!r}> holds {text!r}; write "
                        "2026-12-05 with format ymd, dmy or mdy")
    values = dict(zip(fmt, (int(p) for p in parts), strict=True))
    y, mo, d = values["y"], values["m"], values["d"]
    if not 1 <= mo <= 12 or not 1 <= d <= 31:
        raise SSMLError(f"<say-as interpret-as='date'> holds {text!r}, not a date")
    month = _MONTHS[lang][mo - 1]
    if lang == "en":
        return f"{month} {ordinal_words(d, 'en')}, {_en_year(y)}"
    day = "primero" if lang == "es" and d == 1 else ("primeiro" if lang == "pt" and d == 1
                                                     else number_words(d, lang))
    return f"{day} de {month} de {number_words(y, lang)}"


def _en_year(y: int) -> str:
    """1999 -> "nineteen ninety-nine", 2026 -> "twenty twenty-six", 2005 -> "two thousand
    five"."""
    if 1100 <= y <= 1999 or 2010 <= y <= 2099:
        hi, lo = divmod(y, 100)
        return f"{number_words(hi)} " + (number_words(lo) if lo >= 10 else
                                         "hundred" if lo == 0 else f"oh {number_words(lo)}")
    return number_words(y)


_SENTENCE = re.compile(r"(?<=[.!?¡¿;])\s+")
_NUMBER = re.compile(r"(?<![\w.])-?\d+(?:[.,]\d{3})*(?![\w])")
_ORDINAL = {"en": re.compile(r"(?<![\w.])(\d+)(?:st|nd|rd|th)\b", re.IGNORECASE),
            "es": re.compile(r"(?<![\w.])(\d+)\.?[ºª°]"),
            "pt": re.compile(r"(?<![\w.])(\d+)\.?[ºª°]")}
_DECIMAL = {"en": re.compile(r"(?<![\w.,])(-?\d+)\.(\d+)(?![\w.])"),
            "es": re.compile(r"(?<![\w.,])(-?\d+),(\d+)(?![\w,])"),
            "pt": re.compile(r"(?<![\w.,])(-?\d+),(\d+)(?![\w,])")}
_POINT = {"en": "point", "es": "coma", "pt": "vírgula"}
# Units after a number (singular, plural) in each language.
_UNITS = {
    "%": {"en": ("percent", "percent"), "es": ("por ciento", "por ciento"),
          "pt": ("por cento", "por cento")},
    "km": {"en": ("kilometre", "kilometres"), "es": ("kilómetro", "kilómetros"),
           "pt": ("quilómetro", "quilómetros")},
    "m": {"en": ("metre", "metres"), "es": ("metro", "metros"), "pt": ("metro", "metros")},
    "cm": {"en": ("centimetre", "centimetres"), "es": ("centímetro", "centímetros"),
           "pt": ("centímetro", "centímetros")},
    "kg": {"en": ("kilogram", "kilograms"), "es": ("kilo", "kilos"),
           "pt": ("quilo", "quilos")},
    "g": {"en": ("gram", "grams"), "es": ("gramo", "gramos"), "pt": ("grama", "gramas")},
    "h": {"en": ("hour", "hours"), "es": ("hora", "horas"), "pt": ("hora", "horas")},
    "min": {"en": ("minute", "minutes"), "es": ("minuto", "minutos"),
            "pt": ("minuto", "minutos")},
    "s": {"en": ("second", "seconds"), "es": ("segundo", "segundos"),
          "pt": ("segundo", "segundos")},
    "bpm": {"en": ("beat per minute", "beats per minute"),
            "es": ("pulso por minuto", "pulsos por minuto"),
            "pt": ("batida por minuto", "batidas por minuto")},
    "hz": {"en": ("hertz", "hertz"), "es": ("hercio", "hercios"), "pt": ("hertz", "hertz")},
    "khz": {"en": ("kilohertz", "kilohertz"), "es": ("kilohercio", "kilohercios"),
            "pt": ("quilohertz", "quilohertz")},
    "db": {"en": ("decibel", "decibels"), "es": ("decibelio", "decibelios"),
           "pt": ("decibel", "decibéis")},
    "°c": {"en": ("degree Celsius", "degrees Celsius"), "es": ("grado", "grados"),
           "pt": ("grau", "graus")},
    "°": {"en": ("degree", "degrees"), "es": ("grado", "grados"), "pt": ("grau", "graus")},
    "$": {"en": ("dollar", "dollars"), "es": ("dólar", "dólares"),
          "pt": ("dólar", "dólares")},
    "€": {"en": ("euro", "euros"), "es": ("euro", "euros"), "pt": ("euro", "euros")},
}
_UNIT_AFTER = re.compile(r"(?<![\w.])(-?\d+(?:[.,]\d+)?)\s?(%|°C|°|km|cm|kg|khz|hz|db|bpm|min|"
                         r"m|g|h|s|€)(?![\w])", re.IGNORECASE)
_UNIT_BEFORE = re.compile(r"([$€])\s?(\d+(?:[.,]\d+)?)(?![\w])")


def _sentences(text: str, base: Segment) -> list[Segment]:
    out = []
    for sentence in _SENTENCE.split(" ".join(text.split())):
        if sentence:
            out.append(replace(base, text=sentence, pause=SENTENCE_PAUSE))
    return out


def _amount(number: str, lang: str) -> tuple[str, bool]:
    """A number as words, and whether it is exactly one."""
    number = number.strip()
    m = _DECIMAL[lang].fullmatch(number)
    if m:
        whole = number_words(int(m.group(1)), lang)
        return f"{whole} {_POINT[lang]} " + " ".join(number_words(int(c), lang)
                                                        for c in m.group(2)), False
    n = int(re.sub(r"[.,]", "", number))
    return number_words(n, lang), abs(n) == 1


def _unit(number: str, unit: str, lang: str) -> str:
    words, one = _amount(number, lang)
    single, plural = _UNITS[unit.lower()][lang]
    if one and lang != "en":  # "un kilo", "una hora", "um quilo", "uma hora"
        feminine = single.split()[0] in ("hora", "batida")
        words = {"es": ("un", "una"), "pt": ("um", "uma")}[lang][feminine]
    return f"{words} {single if one else plural}"


# Nouns ending in -a that are masculine (so "un día", "um dia", "dois temas").
_MASCULINE_A = frozenset("""dia día dias días problema problemas mapa mapas tema temas sistema
sistemas programa programas idioma idiomas clima planeta planetas poema poemas drama dramas
cinema""".split())


_NOT_NOUNS = frozenset("y o e u ou de a en em por para con com que del al do da no na".split())


def _feminine(word: str) -> bool:
    w = word.lower()
    return w.endswith(("a", "as", "ção", "ções", "ción", "dade", "dades", "dad", "dades")) \
        and w not in _MASCULINE_A


def _agree(text: str, lang: str) -> str:
    """One (and in Portuguese two) before a feminine noun: "una hora", "uma hora", "duas
    horas"."""
    if lang == "en":
        return text

    def one(m: re.Match[str]) -> str:
        n, noun = m.group(1), m.group(2)
        if noun.lower() in _NOT_NOUNS:
            return m.group(0)
        if not _feminine(noun):  # Spanish "un día" (not "uno día")
            return f"un {noun}" if lang == "es" and n == "1" else m.group(0)
        word = {"es": {"1": "una"}, "pt": {"1": "uma", "2": "duas"}}[lang].get(n)
        return f"{word} {noun}" if word else m.group(0)

    return re.sub(r"(?<![\w.,])([12])\s+([^\W\d_]+)", one, text)


def _time_words(h: int, mi: int, lang: str) -> str:
    """A time of day as words: "ten thirty", "diez y treinta", "dez e trinta"."""
    joiner = {"en": " ", "es": " y ", "pt": " e "}[lang]
    if mi == 0:
        return number_words(h, lang) + {"en": " o'clock", "es": " en punto",
                                        "pt": " em ponto"}[lang]
    minutes = ("oh " + number_words(mi, lang)) if lang == "en" and mi < 10 else \
        number_words(mi, lang)
    return number_words(h, lang) + joiner + minutes


_TIME = re.compile(r"(?<![\w:])([01]?\d|2[0-3]):([0-5]\d)(?![\w:])")


def _read_numbers(text: str, lang: str) -> str:
    """Times ("10:30"), ordinals ("5th", "2º"), amounts with units ("120 bpm", "3,5 km",
    "$20"), decimals and whole numbers read as words in ``lang``."""
    def words(m: re.Match[str]) -> str:
        digits = re.sub(r"[.,]", "", m.group(0))
        n = int(digits)
        return number_words(n, lang) if abs(n) < 10**12 else m.group(0)

    text = _TIME.sub(lambda m: _time_words(int(m.group(1)), int(m.group(2)), lang), text)
    text = _ORDINAL[lang].sub(lambda m: ordinal_words(int(m.group(1)), lang), text)
    text = _UNIT_BEFORE.sub(lambda m: _unit(m.group(2), m.group(1), lang), text)
    text = _UNIT_AFTER.sub(lambda m: _unit(m.group(1), m.group(2), lang), text)
    text = _agree(text, lang)
    text = _DECIMAL[lang].sub(lambda m: _amount(m.group(0), lang)[0], text)
    return _NUMBER.sub(words, text)


def _merge(segments: list[Segment]) -> tuple[Segment, ...]:
    """Neighbouring segments spoken the same way, with no pause or mark between, join; digits
    are read as words."""
    out: list[Segment] = []
    for s in segments:
        s = replace(s, text=_read_numbers(s.text, s.lang)) if s.text else s
        prev = out[-1] if out else None
        if prev is not None and prev.pause == 0 and s.mark is None and s.text and prev.text \
                and (prev.lang, prev.voice, prev.rate, prev.pitch, prev.volume) == \
                (s.lang, s.voice, s.rate, s.pitch, s.volume):
            out[-1] = replace(prev, text=f"{prev.text} {s.text}", pause=s.pause)
        else:
            out.append(s)
    return tuple(out)
