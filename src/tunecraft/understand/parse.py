"""Prompt -> :class:`MusicSpec`: numbers and units first, then words, then defaults.

Rules (documented here, said in the evidence notes):

- Explicit keyword options (``bpm=``, ``key=``...) beat the prompt; numbers in the prompt
  ("130 bpm", "in D minor", "in 6/8", "45 seconds") beat words; words beat defaults.
- Ranges: tempo 20-300 bpm, duration 5 s - 20 min, meter numerator 1-32 over 1/2/4/8/16/32.
  An explicit value outside them is a :class:`~tunecraft.errors.ParameterError`, never a clamp.
- Tempo words that disagree ("fast slow ballad"): the tempo class (slow < 90 bpm <= medium <
  120 bpm <= fast) named most often wins; a tie goes to the **last** word.
- Style: the first strong genre word; else the most frequent weak hint (ties: the first);
  else a place or era; else the moods; else pop. Negated genres ("not rock") are ignored.
- Negation ("no", "without", "sin", "sem", "ni", "nem"; "no" is not a negation in Portuguese,
  where it means "in the") excludes the instruments, families or roles that follow it, through
  fillers and lists ("without drums or bass"), up to the next other word or punctuation.
- Language: :func:`~tunecraft.understand.lexicon.detect_language` (stop words of
  ``data/words.toml`` and the letters only Spanish or Portuguese write); ties go to English.
"""

from __future__ import annotations

import logging
import math
import re
import zlib
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cache
from typing import Any

from ..checks import check_seed
from ..errors import ParameterError
from . import lexicon as lx
from .spec import (
    BPM_RANGE,
    DURATION_RANGE,
    MAX_PROMPT_CHARS,
    Evidence,
    InstrumentRequest,
    MusicSpec,
    small_group,
)

log = logging.getLogger(__name__)

DEFAULT_DURATION = 30.0
DEFAULT_STYLE = "pop"
TEMPO_CLASSES = (("slow", 0.0, 90.0), ("medium", 90.0, 120.0), ("fast", 120.0, math.inf))


def tempo_class(bpm: float) -> str:
    """"slow" below 90 bpm, "medium" from 90 to below 120, "fast" from 120."""
    for name, lo, hi in TEMPO_CLASSES:
        if lo <= bpm < hi:
            return name
    return "fast"


# ----------------------------------------------------------------------------------------------
# Regular expressions for numbers and units (compiled once, on first use)

_NOTE = r"(?P<note>do|re|mi|fa|sol|la|si|[a-h])"
_ACC = r"(?P<acc>\s*(?:#|sharp|flat|sostenido|sustenido|bemol|b(?![a-z])))?"
_MODE = r"(?:\s*(?P<mode>major|minor|maj|min|mayor|menor|maior|moll|dur|m)(?![a-z]))?"
_NUM_WORDS = {
    "a": 1, "an": 1, "one": 1, "un": 1, "una": 1, "uno": 1, "um": 1, "uma": 1, "two": 2, "dos": 2,
    "dois": 2, "duas": 2, "three": 3, "tres": 3, "four": 4, "cuatro": 4, "quatro": 4, "five": 5,
    "cinco": 5, "six": 6, "seis": 6, "seven": 7, "siete": 7, "sete": 7, "eight": 8, "ocho": 8,
    "oito": 8, "nine": 9, "nueve": 9, "nove": 9, "ten": 10, "diez": 10, "dez": 10,
    "fifteen": 15, "quince": 15, "quinze": 15, "twenty": 20, "veinte": 20, "vinte": 20,
    "thirty": 30, "treinta": 30, "trinta": 30, "forty": 40, "forty five": 45, "sixty": 60,
    "ninety": 90, "half a": 0.5, "half an": 0.5, "medio": 0.5, "meio": 0.5,
}  # fmt: skip
_UNIT = (r"(?P<unit>hours?|hrs?|horas?|h|minutes?|mins?|minutos?|m|seconds?|secs?|segundos?|"
         r"segs?|s)(?![a-z0-9])")


@dataclass(frozen=True, slots=True)
class _Regexes:
    bpm_after: re.Pattern[str]
    bpm_before: re.Pattern[str]
    key_in: re.Pattern[str]
    key_bare: re.Pattern[str]
    mode_only: re.Pattern[str]
    meter: re.Pattern[str]
    meter_words: re.Pattern[str]
    duration: re.Pattern[str]
    duration_words: re.Pattern[str]
    clock: re.Pattern[str]
    seed: re.Pattern[str]


@cache
def _rx() -> _Regexes:
    num = r"(?P<num>-?\d+(?:[.,]\d+)?)"
    words = "|".join(sorted((re.escape(w) for w in _NUM_WORDS), key=len, reverse=True))
    return _Regexes(
        bpm_after=re.compile(
            num + r"\s*(?:bpm|b\.p\.m\.?|beats per minute|beats a minute|beats per min|"
            r"pulsaciones por minuto|pulsos por minuto|batidas por minuto|"
            r"batimentos por minuto|golpes por minuto|ppm)(?![a-z])"),
        bpm_before=re.compile(
            r"(?<![a-z])(?:bpm|tempo|ritmo|velocidad|velocidade)\s*(?:[:=]|of|de|at|a|em|en|"
            r"around|about|~)?\s*(?:of|de|a|at|em|en)?\s*" + num
            + r"(?!\s*(?:%|/|:|[.,]\d|s\b|sec|min|seg|hour|hora|x\b))(?![\d.])"),
        key_in=re.compile(
            r"(?<![a-z])(?:in|en|em|key of|key|key signature of|tonalidad de|tonalidad|"
            r"tonalidade de|tonalidade|tom de|tono de|tom|tono|escala de)\s*[:=]?\s+"
            + _NOTE + _ACC + _MODE + r"(?![a-z0-9#])"),
        key_bare=re.compile(
            r"(?<![a-z0-9])(?P<note>[a-h])(?P<acc>#|b|\s+flat|\s+sharp)?\s*"
            r"(?P<mode>major|minor)(?![a-z])"),
        mode_only=re.compile(
            r"(?<![a-z])(?:(?:in\s+)?(?:a\s+)?(?P<m1>minor|major)\s+(?:key|tonality|mode|scale)|"
            r"(?:modo|tonalidad|tonalidade|tom|escala|tono)\s+(?P<m2>menor|mayor|maior))"
            r"(?![a-z])"),
        meter=re.compile(r"(?<![\d/.:])(?P<num>-?\d{1,2})\s*/\s*(?P<den>\d{1,2})(?![\d/])"),
        meter_words=re.compile(
            r"(?<![a-z])(?P<w>common time|cut time|alla breve|triple meter|triple time|"
            r"triple metre|compound time|compound meter|compound metre|duple meter|duple time|"
            r"slip jig|quadruple meter|odd meter|odd time)(?![a-z])"),
        duration=re.compile(r"(?<![\w.])" + num + r"(?P<space>\s*)" + _UNIT),
        duration_words=re.compile(
            r"(?<![a-z])(?P<w>" + words + r")\s+" + r"(?P<unit>minutes?|minutos?|seconds?|"
            r"segundos?|hours?|horas?)(?P<half>\s+(?:and a half|y medio|e meio|y media|e meia))?"
            r"(?![a-z])"),
        clock=re.compile(r"(?<![\d:.])(?P<m>\d{1,2}):(?P<s>[0-5]\d)(?![\d:])"),
        seed=re.compile(r"(?<![a-z])(?:seed|semilla|semente)\s*[:=#]?\s*(?P<n>\d+)"),
    )


# ----------------------------------------------------------------------------------------------
# Matching state


@dataclass(slots=True)
class _Found:
    hit: lx.Hit
    phrase: str
    pos: int
    negated: bool = False
    intensified: bool = False
    after: tuple[str, ...] = ()
    before: tuple[str, ...] = ()


@dataclass(slots=True)
class _Scan:
    found: list[_Found] = field(default_factory=list)
    alone: list[str] = field(default_factory=list)
    performer: list[str] = field(default_factory=list)  # "someone playing": one player
    negations: list[str] = field(default_factory=list)


def _scan(tokens: Sequence[str], language: str) -> _Scan:
    lex = lx.load()
    fn = lex.function
    negation = set(fn["negation"])
    if language == "pt":
        negation.discard("no")
    filler = fn["filler"] | fn["intensifier"]
    punct = set(".;:!?()")
    out = _Scan()
    neg = False
    i, n = 0, len(tokens)
    while i < n:
        tok = tokens[i]
        if tok in punct or tok == ",":
            neg = False
            i += 1
            continue
        match: tuple[tuple[str, ...], tuple[lx.Hit, ...]] | None = None
        for length in range(min(lex.max_len, n - i), 0, -1):
            key = tuple(tokens[i:i + length])
            if any(t in punct or t == "," for t in key):
                continue
            hits = lex.lookup(key)
            if hits:
                match = (key, hits)
                break
        if match is None:
            if tok in negation:
                neg = True
                out.negations.append(tok)
            elif tok not in filler:
                neg = False
            i += 1
            continue
        key, hits = match
        after = tuple(tokens[i + len(key):i + len(key) + 3])
        before = tuple(tokens[max(0, i - 2):i])
        postfix = bool(after) and after[0] in fn["postfix_negation"]
        intens = bool(before) and before[-1] in fn["intensifier"]
        is_exclude = any(h.kind == "exclude" for h in hits)
        for h in hits:
            out.found.append(_Found(h, " ".join(key), i, negated=(neg or postfix) and
                                    h.kind != "exclude", intensified=intens, after=after,
                                    before=before))
        if is_exclude:
            neg = True
        i += len(key)
    # "alone" words: only the named instruments play.
    text = " " + " ".join(tokens) + " "
    for phrase in sorted(fn["alone"], key=len, reverse=True):
        if phrase == "solo":
            continue
        if f" {phrase} " in text:
            out.alone.append(phrase)
    out.performer = [p for p in fn["performer"] if f" {p} " in text]
    for j, tok in enumerate(tokens[:-1]):
        if tok == "solo" and lex.lookup((tokens[j + 1],)) and any(
                h.kind == "instrument" for h in lex.lookup((tokens[j + 1],))):
            out.alone.append("solo " + tokens[j + 1])
    return out


# ----------------------------------------------------------------------------------------------
# Explicit values


def _check_bpm(value: float, words: str) -> float:
    if not (isinstance(value, int | float) and math.isfinite(value)):
        raise ParameterError(f"tempo {words} is not a number of beats per minute")
    lo, hi = BPM_RANGE
    if not lo <= value <= hi:
        raise ParameterError(f"tempo {value:g} bpm is impossible to play: use {lo:g}-{hi:g} bpm")
    return float(value)


def _check_duration(value: float, words: str) -> float:
    if not (isinstance(value, int | float) and math.isfinite(value)):
        raise ParameterError(f"duration {words} is not a number of seconds")
    lo, hi = DURATION_RANGE
    if not lo <= value <= hi:
        raise ParameterError(f"duration {_fmt_seconds(value)} ({words}) is out of range: "
                             f"pieces last {lo:g} seconds to {hi / 60:g} minutes")
    return float(value)


def _fmt_seconds(s: float) -> str:
    if abs(s) >= 3600:
        return f"{s / 3600:g} h"
    if abs(s) >= 60:
        return f"{s / 60:g} min"
    return f"{s:g} s"


def _check_meter(num: int, den: int, words: str) -> tuple[int, int]:
    if not 1 <= num <= 32:
        raise ParameterError(f"meter {words}: the top number (beats per bar) must be 1-32")
    if den not in (1, 2, 4, 8, 16, 32):
        raise ParameterError(f"meter {words}: the bottom number must be 1, 2, 4, 8, 16 or 32")
    return num, den


def parse_key(text: str) -> tuple[int, str]:
    """"D minor", "Bb", "F#m", "mi menor", "B flat major" -> (tonic pitch class, mode)."""
    from ..errors import ScoreError
    from ..score.types import KeySignature

    if not isinstance(text, str) or not text.strip():
        raise ParameterError("the key is empty (try 'D minor' or 'Bb major')")
    t = lx.strip_accents(text.strip())
    t = re.sub(r"(?i)\b(maj|min)$",
               lambda m: "major" if m.group(1).lower() == "maj" else "minor", t)
    try:
        k = KeySignature.parse(t)
    except ScoreError:
        raise ParameterError(f"{text!r} is not a key: use a note A-G with # or b, then major "
                             "or minor (e.g. 'D minor', 'Bb major')") from None
    return k.tonic, k.mode


def parse_meter(value: str | Sequence[int]) -> tuple[int, int]:
    """"6/8" or (6, 8) -> (6, 8); impossible meters raise ParameterError."""
    if isinstance(value, str):
        m = re.fullmatch(r"\s*(-?\d+)\s*/\s*(-?\d+)\s*", value)
        if not m:
            raise ParameterError(f"meter {value!r} is not a time signature (try '3/4' or '6/8')")
        return _check_meter(int(m.group(1)), int(m.group(2)), value.strip())
    try:
        num, den = (int(v) for v in value)
    except (TypeError, ValueError):
        raise ParameterError(f"meter {value!r} is not a time signature (try '3/4' or '6/8')"
                             ) from None
    return _check_meter(num, den, f"{num}/{den}")


@dataclass(slots=True)
class _Explicit:
    bpm: tuple[float, str] | None = None
    key: tuple[int, str, str] | None = None
    mode_only: tuple[str, str] | None = None
    meter: tuple[tuple[int, int], str] | None = None
    duration: tuple[float, str] | None = None
    seed: tuple[int, str] | None = None


class _Masked:
    """The normalised prompt (``low``; ``base`` keeps the letters' case) with the explicit values
    found so far blanked out, so that no number is read twice."""

    def __init__(self, low: str, base: str) -> None:
        self.low, self.base = low, base
        self.chars = list(low)

    def blank(self, m: re.Match[str]) -> None:
        for k in range(m.start(), m.end()):
            self.chars[k] = " "

    @property
    def now(self) -> str:
        return "".join(self.chars)


def _extract_numbers(low: str, base: str) -> tuple[_Explicit, str]:
    """Find explicit values in the normalised text (tempo and seed, meter, key, length, in that
    order); return them and the text with them blanked."""
    text = _Masked(low, base)
    ex = _Explicit()
    _find_tempo_and_seed(text, ex)
    _find_meter(text, ex)
    _find_key(text, ex)
    _find_duration(text, ex)
    return ex, text.now


def _find_tempo_and_seed(text: _Masked, ex: _Explicit) -> None:
    """ "130 bpm", "tempo 90", "seed 7"."""
    rx = _rx()
    low = text.low
    for pat in (rx.bpm_after, rx.bpm_before):
        for m in pat.finditer(low):
            if ex.bpm is None:
                value = float(m.group("num").replace(",", "."))
                ex.bpm = (_check_bpm(value, m.group().strip()), m.group().strip())
            text.blank(m)
    m = rx.seed.search(low)
    if m:
        ex.seed = (int(m.group("n")), m.group())
        text.blank(m)


def _find_meter(text: _Masked, ex: _Explicit) -> None:
    """ "in 6/8" (a plausible fraction, or any with a meter word), "common time"."""
    rx = _rx()
    low = text.low
    for m in rx.meter.finditer(text.now):
        num, den = int(m.group("num")), int(m.group("den"))
        ctx_before = low[max(0, m.start() - 14):m.start()]
        ctx_after = low[m.end():m.end() + 12]
        strong_cue = (re.search(r"(?:^|\s)(?:in|en|em|compas de|compasso de|compas|compasso|"
                                r"meter|metre|time signature|signature)\s*:?\s*$", ctx_before)
                      or re.match(r"\s*(?:time|meter|metre|signature|compas|compasso)(?![a-z])",
                                  ctx_after))
        plausible = den in (2, 4, 8, 16) and 2 <= num <= 16
        if not plausible and not strong_cue:
            continue  # "24/7", "3/3 groove": not a meter asked for
        words = m.group().replace(" ", "")
        if ex.meter is None:
            ex.meter = (_check_meter(num, den, words), m.group().strip())
        text.blank(m)
    text_now = text.now
    m = rx.meter_words.search(text_now)
    if m and ex.meter is None:
        w = m.group("w")
        meter = {"common time": (4, 4), "cut time": (2, 2), "alla breve": (2, 2),
                 "triple meter": (3, 4), "triple time": (3, 4), "triple metre": (3, 4),
                 "compound time": (6, 8), "compound meter": (6, 8), "compound metre": (6, 8),
                 "duple meter": (2, 4), "duple time": (2, 4), "slip jig": (9, 8),
                 "quadruple meter": (4, 4), "odd meter": (7, 8), "odd time": (7, 8)}[w]
        ex.meter = (meter, w)


def _find_key(text: _Masked, ex: _Explicit) -> None:
    rx = _rx()
    low, base = text.low, text.base
    # Keys: "in D minor", "en mi menor", "in F#", "in C" (a bare letter needs a capital or an
    # accidental or a mode, so "in a coffee shop" is not A major).
    text_now = text.now
    for m in rx.key_in.finditer(text_now):
        note, acc, mode = m.group("note"), (m.group("acc") or "").strip(), m.group("mode")
        solfege = len(note) > 1
        orig_note = base[m.start("note"):m.end("note")]
        if solfege and not mode:
            continue
        if (note == "a" and not orig_note.isupper() and not acc
                and re.match(r"\s*(?:key|scale|tonality|mode|chord|progression|feel|sound)",
                             low[m.end():m.end() + 14])):
            continue  # "in a minor key": some minor key (the mode words handle it)
        if not (mode or acc or orig_note.isupper()):
            tail = low[m.end():m.end() + 2]
            if note == "a" or not (tail.strip() == "" or tail.lstrip()[:1] in ",.;!?)"):
                continue
        if note == "h":
            raise ParameterError(f"{base[m.start('note'):m.end()].strip()!r} is not a key: use "
                                 "a note A-G with # or b, then major or minor")
        if ex.key is None:
            tonic, kmode = _key_from_parts(note, acc, mode, m.group())
            ex.key = (tonic, kmode, m.group().strip())
        text.blank(m)
    if ex.key is None:
        text_now = text.now
        for m in rx.key_bare.finditer(text_now):
            note, acc = m.group("note"), (m.group("acc") or "").strip()
            if not (acc or base[m.start("note")].isupper()):
                continue
            if note == "h":
                raise ParameterError(f"{base[m.start():m.end()].strip()!r} is not a key: use a "
                                     "note A-G with # or b, then major or minor")
            tonic, kmode = _key_from_parts(note, acc, m.group("mode"), m.group())
            ex.key = (tonic, kmode, m.group().strip())
            text.blank(m)
            break
    m = rx.mode_only.search(text.now)
    if m and ex.key is None:
        word = m.group("m1") or m.group("m2")
        ex.mode_only = ("minor" if word in ("minor", "menor") else "major", m.group().strip())
        text.blank(m)


def _find_duration(text: _Masked, ex: _Explicit) -> None:
    """ "1:30", "45 seconds", "2 min", "three minutes" (not an era, not an event's time)."""
    rx = _rx()
    low = text.low
    # Durations.
    text_now = text.now
    for m in rx.clock.finditer(text_now):
        if re.search(r"(?:at|from|after|until|till|around)\s*$",
                     low[max(0, m.start() - 8):m.start()]):
            continue
        secs = int(m.group("m")) * 60 + int(m.group("s"))
        if ex.duration is None:
            ex.duration = (_check_duration(float(secs), m.group()), m.group())
        text.blank(m)
    text_now = text.now
    for m in rx.duration.finditer(text_now):
        raw, unit, space = m.group("num"), m.group("unit"), m.group("space")
        value = float(raw.replace(",", "."))
        if unit == "s" and not space:
            is_decade = (value < 100 and value % 10 == 0) or (
                1000 <= value <= 2100 and value % 10 == 0)
            cue = re.search(r"(?:^|\s)(?:for|lasting|last|about|around|approx|just|only)\s*$",
                            low[max(0, m.start() - 10):m.start()]) or (re.match(
                r"\s*(?:long|clip|loop|snippet|excerpt|jingle|sting|cue|sample|of)(?![a-z])",
                low[m.end():m.end() + 10]) and not re.search(
                r"(?:the|los|las|anos|from|de|in|early|late|mid)\s*$",
                low[max(0, m.start() - 8):m.start()]))
            if is_decade and not cue:
                continue  # "80s", "1950s": an era, handled by the lexicon
        if unit == "m" and not space:
            pass
        elif unit in ("m", "h") and space:
            continue  # "5 m", "3 h" with a space: too ambiguous
        if re.search(r"(?:after|every|first|last|each|per|at|until|till|within|in the|"
                     r"first|next|every)\s*$", low[max(0, m.start() - 12):m.start()]):
            continue  # "after 5 seconds": an event, not the length
        if unit.startswith(("h", "hora")):
            secs = value * 3600
        elif unit.startswith(("m",)):
            secs = value * 60
        else:
            secs = value
        if 0 <= secs < DURATION_RANGE[0] and not _length_cue(low, m):
            continue  # "about 1 second in length" of a part, "a 2 second pause": an event
        if ex.duration is None:
            ex.duration = (_check_duration(secs, m.group().strip()), m.group().strip())
        text.blank(m)
    text_now = text.now
    for m in rx.duration_words.finditer(text_now):
        n = _NUM_WORDS[m.group("w")]
        unit = m.group("unit")
        if m.group("half"):
            n += 0.5
        secs = n * (3600 if unit.startswith(("hour", "hora")) else 60
                    if unit.startswith("min") else 1)
        if re.search(r"(?:after|every|first|last|each|per|until)\s*$",
                     low[max(0, m.start() - 10):m.start()]):
            continue
        if secs < DURATION_RANGE[0] and not _length_cue(low, m):
            continue  # "a second guitar", "one second later"
        if ex.duration is None:
            ex.duration = (_check_duration(float(secs), m.group().strip()), m.group().strip())
        text.blank(m)


def _length_cue(low: str, m: re.Match[str]) -> bool:
    """Is a short duration the length of the piece ("a 3 second song", "lasting 2 seconds")?"""
    before = low[max(0, m.start() - 14):m.start()]
    after = low[m.end():m.end() + 16]
    return bool(re.search(r"(?:lasting|duration|length|long)\s*:?\s*$", before)
                or re.match(r"\s*(?:long|song|piece|track|tune|of music|jingle|clip)(?![a-z])",
                            after))


def _key_from_parts(note: str, acc: str, mode: str | None, words: str) -> tuple[int, str]:
    from ..errors import ScoreError
    from ..score.types import parse_pitch_class

    acc_norm = {"#": "#", "sharp": "#", "sostenido": "#", "sustenido": "#", "b": "b",
                "flat": "b", "bemol": "b"}.get(acc, "")
    try:
        tonic = parse_pitch_class(note + acc_norm)
    except ScoreError:
        raise ParameterError(f"{words.strip()!r} is not a key: use a note A-G with # or b, "
                             "then major or minor") from None
    kmode = "minor" if mode in ("minor", "min", "menor", "moll", "m") else "major"
    return tonic, kmode


# ----------------------------------------------------------------------------------------------
# The parser


@dataclass(frozen=True)
class _Said:
    """What the prompt says, read once: the explicit numbers, the phrases found (``live``: not
    negated), and the words that ask for only the named instruments."""

    prompt: str
    lex: lx.Lexicon
    ex: _Explicit
    scan: _Scan
    language: Evidence

    @property
    def found(self) -> list[_Found]:
        return self.scan.found

    @property
    def live(self) -> list[_Found]:
        return [f for f in self.scan.found if not f.negated]

    def of(self, kind: str) -> list[_Found]:
        return [f for f in self.live if f.hit.kind == kind]


@dataclass(frozen=True)
class _Style:
    """The style resolved, with its defaults (from its file) and how sure we are of it."""

    id: str
    defaults: dict[str, Any]
    source: str  # "inferred" or "default": the source of the values it implies
    words: tuple[str, ...]


def parse(prompt: str, *, duration: float | None = None, bpm: float | None = None,
          key: str | None = None, meter: str | Sequence[int] | None = None,
          instruments: Iterable[str] | None = None, seed: int | None = None,
          style: str | None = None) -> MusicSpec:
    """Understand a request in English, Spanish or Portuguese.

    Keyword options beat the prompt and are recorded as explicit evidence. Raises
    :class:`~tunecraft.errors.ParameterError` for an empty or over-long prompt and for
    impossible values (tempo outside 20-300 bpm, duration outside 5 s - 20 min, an unknown
    key, a meter like 0/4). Anything else falls back to defaults, said in the evidence.
    Each attribute has its resolver below, which returns its value's :class:`Evidence`.
    """
    said = _read(prompt)
    ev: dict[str, Evidence] = {"language": said.language}
    ev["style"], ev["genres"] = _resolve_style(said)
    if style is not None:
        if style not in said.lex.styles:
            raise ParameterError(f"style {style!r} is unknown (known: "
                                 f"{', '.join(sorted(said.lex.styles))})")
        ev["style"] = Evidence(style, (), "explicit", "given as an option")
    resolved = _Style(ev["style"].value, said.lex.styles[ev["style"].value],
                      "inferred" if ev["style"].source != "default" else "default",
                      ev["style"].words)
    ev["moods"] = _resolve_moods(said)
    moods = tuple(ev["moods"].value)
    ev["bpm"] = _resolve_tempo(said, bpm, resolved, moods, ev["moods"].words)
    (tonic, mode), key_ev = _resolve_key(said, key, resolved, moods)
    ev.update(key_ev)
    ev["meter"] = _resolve_meter(said, meter, resolved)
    ev["duration"] = _resolve_duration(said, duration)
    ev["seed"] = _resolve_seed(said, seed)
    ev["excluded"] = _resolve_exclusions(said)
    requests, instrument_ev = _resolve_instruments(said, instruments, resolved, ev["excluded"])
    ev.update(instrument_ev)
    ev.update(_resolve_energy_density(said, resolved, moods, ev["moods"].words,
                                      float(ev["bpm"].value)))
    ev["structure"] = _resolve_structure(said)
    ev["context"] = _resolve_context(said)
    changes = _resolve_changes(said)
    if changes.value:
        ev["changes"] = changes
    spec = MusicSpec(
        prompt=prompt, language=said.language.value, style=resolved.id,
        genres=tuple(ev["genres"].value), moods=moods, bpm=float(ev["bpm"].value),
        key_tonic=tonic, mode=mode, meter=tuple(ev["meter"].value),
        duration=float(ev["duration"].value), instruments=requests,
        excluded=tuple(ev["excluded"].value), drums=bool(ev["drums"].value),
        energy=float(ev["energy"].value), density=float(ev["density"].value),
        structure=tuple(ev["structure"].value), context=tuple(ev["context"].value),
        changes=tuple(changes.value), seed=ev["seed"].value, evidence=ev,
        ensemble=ev["ensemble"].value if "ensemble" in ev else None)
    _warn_if_nothing_understood(prompt, ev, resolved.id)
    log.debug("parsed %r -> %s %s bpm %s", prompt[:60], resolved.id, spec.bpm, spec.key_name)
    return spec


def _read(prompt: str) -> _Said:
    """Check the prompt (text, not empty, not over-long, valid UTF-8) and read it."""
    if not isinstance(prompt, str):
        raise ParameterError(f"the prompt must be text, not {type(prompt).__name__}")
    if not prompt.strip():
        raise ParameterError("the prompt is empty: describe the music, e.g. 'a calm piano "
                             "piece in D minor'")
    if len(prompt) > MAX_PROMPT_CHARS:
        raise ParameterError(f"the prompt is {len(prompt):,} characters long: keep it under "
                             f"{MAX_PROMPT_CHARS:,}")
    try:
        prompt.encode("utf-8")
    except UnicodeEncodeError:  # bytes that were not UTF-8, smuggled in as surrogates
        raise ParameterError("the prompt is not valid UTF-8 text: check the terminal's "
                             "encoding") from None
    lex = lx.load()
    base = lx.strip_accents(prompt.translate(lx._APOSTROPHES))
    low = "".join(c.lower() if len(c.lower()) == 1 else c for c in base)
    ex, masked = _extract_numbers(low, base)
    tokens = [t for t, _, _ in lx.tokenize(masked)]
    language, lang_words = lx.detect_language(prompt)
    return _Said(prompt, lex, ex, _scan(tokens, language), Evidence(
        language, lang_words, "inferred" if lang_words else "default",
        "by counting stop words" if lang_words else "no stop words recognised: English"))


def _resolve_style(said: _Said) -> tuple[Evidence, Evidence]:
    """The style (the first strong genre word; else the most frequent weak hint; else a place
    or era; else the moods; else pop) and the genre words heard."""
    found, live = said.found, said.live
    genre_hits = said.of("genre")
    strong = [f for f in genre_hits if f.hit.strength >= 1.0]
    weak = [f for f in genre_hits if f.hit.strength < 1.0]
    negated_genres = [f.phrase for f in found if f.negated and f.hit.kind == "genre"]
    genres = tuple(dict.fromkeys(f.phrase for f in strong))
    contexts = said.of("context")
    moods_found = said.of("mood")
    ensemble = next(iter(said.of("ensemble")), None)
    if strong:
        style = strong[0].hit.id
        words = tuple(dict.fromkeys(f.phrase for f in strong if f.hit.id == style))
        others = sorted({f.hit.id for f in strong} - {style})
        note = f"first genre named wins; also heard: {', '.join(others)}" if others else ""
        ev = Evidence(style, words, "explicit", note)
    elif ensemble is not None and ensemble.hit.data.get("style"):
        style = ensemble.hit.data["style"]
        ev = Evidence(style, (ensemble.phrase,), "inferred",
                      f"no genre named; the {ensemble.hit.data['name']} suggests {style}")
    elif weak and not any(f.hit.data.get("style") for f in contexts):
        counts = Counter(f.hit.id for f in weak)
        first: dict[str, int] = {}
        for f in weak:
            first.setdefault(f.hit.id, f.pos)
        style = max(counts, key=lambda s: (counts[s], -first[s]))
        words = tuple(dict.fromkeys(f.phrase for f in weak if f.hit.id == style))
        ev = Evidence(style, words, "inferred", f"no genre named; {', '.join(words)} suggests "
                                                f"{style}")
    else:
        ctx_style = next((f for f in contexts if f.hit.data.get("style")), None)
        mood_style = lex_mood_style()
        mood_pick = next((f for f in moods_found if f.hit.id in mood_style), None)
        if ctx_style is not None and mood_pick is not None and mood_pick.pos < ctx_style.pos:
            ctx_style = None
        if ctx_style is not None:
            style = ctx_style.hit.data["style"]
            ev = Evidence(style, (ctx_style.phrase,), "inferred",
                          f"no genre named; '{ctx_style.phrase}' suggests {style}")
        elif mood_pick is not None:
            style = mood_style[mood_pick.hit.id]
            note = f"no genre named; the mood '{mood_pick.phrase}' suggests {style}"
            # "calm piano music": acoustic instruments named with a quiet mood make a piece
            # for those instruments (classical), not a synth-pad ambient track.
            acoustic = lex_mood_style_acoustic().get(mood_pick.hit.id)
            named = [f.hit.data for f in live if f.hit.kind == "instrument"]
            if acoustic and named and all(_is_acoustic(d) for d in named):
                style = acoustic
                note += " for the acoustic instruments named"
            ev = Evidence(style, (mood_pick.phrase,), "inferred", note)
        else:
            style = DEFAULT_STYLE
            ev = Evidence(style, (), "default", f"no genre recognised: using {DEFAULT_STYLE}")
    if negated_genres:
        ev = _with_note(ev, f"ignored negated genre words: {', '.join(negated_genres)}")
    genres_ev = Evidence(list(genres), genres, "explicit" if genres else "default",
                         "" if genres else "no genre words")
    return ev, genres_ev


def _resolve_moods(said: _Said) -> Evidence:
    moods_found = said.of("mood")
    moods = tuple(dict.fromkeys(f.hit.id for f in moods_found))
    mood_words = tuple(dict.fromkeys(f.phrase for f in moods_found))
    negated = [f.phrase for f in said.found if f.negated and f.hit.kind == "mood"]
    return Evidence(list(moods), mood_words, "explicit" if moods else "default",
                    ("ignored negated: " + ", ".join(negated)) if negated
                    else ("" if moods else "no mood words"))


def _resolve_tempo(said: _Said, bpm: float | None, style: _Style, moods: tuple[str, ...],
                   mood_words: tuple[str, ...]) -> Evidence:
    """An option; else a number in the prompt; else tempo words (the class named most often,
    a tie to the last word), placed nearest the style's tempo; else a place or scene, or
    strong moods; else the style's default tempo."""
    ex, lex, sdef = said.ex, said.lex, style.defaults
    tempo_words = said.of("tempo")
    if bpm is not None:
        return Evidence(_check_bpm(bpm, repr(bpm)), (), "explicit", "given as an option")
    if ex.bpm is not None:
        return Evidence(ex.bpm[0], (ex.bpm[1],), "explicit", "")
    if tempo_words:
        bands = []
        for f in tempo_words:
            band = f.hit.data.get("very") if f.intensified and f.hit.data.get("very") else \
                f.hit.data["band"]
            bands.append((f, band, tempo_class((band[0] + band[1]) / 2)))
        counts = Counter(c for _, _, c in bands)
        top = max(counts.values())
        winners = [c for c in counts if counts[c] == top]
        last_of = {c: max(k for k, (_, _, cc) in enumerate(bands) if cc == c) for c in winners}
        cls = max(winners, key=lambda c: last_of[c])
        _, band, _ = bands[last_of[cls]]
        value = _bpm_in_band(band, sdef)
        words = tuple(dict.fromkeys((" ".join((*f.before[-1:], f.phrase)) if f.intensified
                                     else f.phrase) for f, _, c in bands if c == cls))
        note = (f"{cls} ({band[0]}-{band[1]} bpm), nearest to {style.id}'s usual "
                f"{sdef['bpm']} bpm")
        if len(counts) > 1:
            losing = [f.phrase for f, _, c in bands if c != cls]
            note = (f"tempo words disagree ({', '.join(losing)} vs {', '.join(words)}): the "
                    f"class named most often wins, a tie goes to the last word; " + note)
        return Evidence(value, words, "explicit", note)
    ctx_tempo = next((f for f in said.of("context") if f.hit.data.get("tempo")), None)
    arousal = _mean([lex.moods[m]["arousal"] for m in moods])
    if ctx_tempo is not None:
        band = ctx_tempo.hit.data["tempo"]
        value = _bpm_in_band(band, sdef, implied=style.source != "default")
        return Evidence(value, (ctx_tempo.phrase,), "inferred",
                        f"'{ctx_tempo.phrase}' suggests {band[0]}-{band[1]} bpm"
                        + _in_range_note(value, band, style))
    if moods and (arousal <= -0.5 or arousal >= 0.75):
        band = [60, 80] if arousal <= -0.5 else [126, 150]
        value = _bpm_in_band(band, sdef, implied=style.source != "default")
        return Evidence(value, mood_words, "inferred",
                        f"the moods suggest {band[0]}-{band[1]} bpm"
                        + _in_range_note(value, band, style))
    return Evidence(float(sdef["bpm"]), (), style.source,
                    f"no tempo given: {style.id}'s usual {sdef['bpm']} bpm")


def _resolve_key(said: _Said, key: str | None, style: _Style, moods: tuple[str, ...]
                 ) -> tuple[tuple[int, str], dict[str, Evidence]]:
    """An option; else a key in the prompt; else the mode from a word ("minor"), the moods'
    valence or the style, on a tonic chosen for the style. Returns (tonic, mode) and the key
    and mode evidence."""
    ex, lex = said.ex, said.lex
    ev: dict[str, Evidence] = {}
    if key is not None:
        tonic, mode = parse_key(key)
        ev["key"] = Evidence(_key_label(tonic, mode), (), "explicit", "given as an option")
    elif ex.key is not None:
        tonic, mode = ex.key[0], ex.key[1]
        ev["key"] = Evidence(_key_label(tonic, mode), (ex.key[2],), "explicit", "")
    else:
        valence = _mean([lex.moods[m]["valence"] for m in moods])
        moods_found = said.of("mood")
        if ex.mode_only is not None:
            mode, mode_ev = ex.mode_only[0], Evidence(ex.mode_only[0], (ex.mode_only[1],),
                                                      "explicit", "")
        elif moods and abs(valence) >= 0.15:
            mode = "minor" if valence < 0 else "major"
            mw = tuple(f.phrase for f in moods_found
                       if (lex.moods[f.hit.id]["valence"] < 0) == (mode == "minor"))
            mode_ev = Evidence(mode, tuple(dict.fromkeys(mw)), "inferred",
                               f"the moods lean {'dark' if mode == 'minor' else 'bright'}")
        else:
            mode = style.defaults["mode"]
            mode_ev = Evidence(mode, (), style.source, f"{style.id} usually sits in {mode}")
        tonic = _default_tonic(style.id, mode)
        ev["mode"] = mode_ev
        ev["key"] = Evidence(_key_label(tonic, mode), mode_ev.words, "default"
                             if mode_ev.source == "default" else "inferred",
                             f"no key given: {_key_label(tonic, mode)} chosen for {style.id} "
                             f"in {mode}")
    ev.setdefault("mode", Evidence(mode, ev["key"].words, ev["key"].source, ""))
    return (tonic, mode), ev


def _resolve_meter(said: _Said, meter: str | Sequence[int] | None, style: _Style) -> Evidence:
    """An option; else a meter in the prompt; else a dance that has one (a jig); else the
    style's first meter."""
    jig = [f for f in said.live if f.phrase in ("jig", "jigs", "irish jig", "tarantella")]
    if meter is not None:
        return Evidence(list(parse_meter(meter)), (), "explicit", "given as an option")
    if said.ex.meter is not None:
        return Evidence(list(said.ex.meter[0]), (said.ex.meter[1],), "explicit", "")
    if jig:
        return Evidence([6, 8], (jig[0].phrase,), "inferred", "a jig is in 6/8")
    num, den = (int(style.defaults["meter"][0]), int(style.defaults["meter"][1]))
    return Evidence([num, den], style.words, style.source,
                    f"{style.id} is usually in {num}/{den}")


def _resolve_duration(said: _Said, duration: float | None) -> Evidence:
    if duration is not None:
        return Evidence(_check_duration(duration, repr(duration)), (), "explicit",
                        "given as an option")
    if said.ex.duration is not None:
        return Evidence(said.ex.duration[0], (said.ex.duration[1],), "explicit", "")
    return Evidence(DEFAULT_DURATION, (), "default",
                    f"no length given: {DEFAULT_DURATION:g} seconds")


def _resolve_seed(said: _Said, seed: int | None) -> Evidence:
    if seed is not None:
        seed = check_seed(seed)
        return Evidence(seed, (), "explicit", "given as an option")
    if said.ex.seed is not None:
        return Evidence(said.ex.seed[0], (said.ex.seed[1],), "explicit", "")
    return Evidence(None, (), "default", "no seed: a fresh one per run")


def _resolve_exclusions(said: _Said) -> Evidence:
    """What the request rules out ("no drums", "sin guitarra"): instruments, families, roles."""
    excluded: list[str] = []
    words: list[str] = []
    for f in said.found:
        if f.hit.kind == "exclude" or (f.negated and f.hit.kind == "instrument"):
            for target in f.hit.data.get("negates", [f.hit.id]):
                if target not in excluded:
                    excluded.append(target)
            if f.negated and f.hit.kind == "instrument":
                words.append(" ".join((*_neg_prefix(f), f.phrase)).strip())
            else:
                words.append(f.phrase)
    words = list(dict.fromkeys(words))
    return Evidence(list(excluded), tuple(words), "explicit" if excluded else "default",
                    "" if excluded else "nothing excluded")


def _resolve_instruments(said: _Said, instruments: Iterable[str] | None, style: _Style,
                         excluded_ev: Evidence
                         ) -> tuple[tuple[InstrumentRequest, ...], dict[str, Evidence]]:
    """The instruments named (options first), those a place or scene implies, and the style's
    band around them (unless only the named ones should play, or they form a small group);
    whether drums play. Returns the requests and the drums and instruments evidence."""
    lex, scan, live = said.lex, said.scan, said.live
    sdef = style.defaults
    excluded = list(excluded_ev.value)
    excl_words = list(excluded_ev.words)
    ev: dict[str, Evidence] = {}
    ensemble = next(iter(said.of("ensemble")), None)
    comping = () if scan.alone or ensemble is not None else sdef["comping"]
    requests = _style_meaning(_explicit_instruments(live, lex, instruments, comping),
                              sdef["means"], sdef["ensemble"], lex)
    # "Someone playing the flute": one player named with one instrument plays alone.
    one_player = bool(scan.performer) and ensemble is None and sum(
        not r.is_drum and r.role != "percussion" for r in requests) == 1
    if one_player and comping:
        requests = _style_meaning(_explicit_instruments(live, lex, instruments, ()),
                                  sdef["means"], sdef["ensemble"], lex)
    if ensemble is not None:  # its players, and the other instruments named with them
        players, covered = _players(ensemble, lex)
        if any(r.role == "vocal" and r.name not in covered for r in requests):
            # a singer with an orchestra: the singer leads, the ensemble's lead answers
            players = [replace(p, role="counter") if p.role == "lead" else p for p in players]
        led = any(p.role in ("lead", "vocal") for p in players)
        extra = []
        for r in requests:  # the others accompany a leading ensemble: one lead
            if r.name in covered:
                continue
            if led and r.role == "lead":
                default = lex.instruments[r.name]["role"]
                r = replace(r, role="counter" if default in ("lead", "vocal") else default)
            extra.append(r)
        requests = [*players, *extra]
    alone = bool(scan.alone) or ensemble is not None or one_player
    alone_words = scan.alone or (scan.performer if one_player else [])
    requests = [r for r in requests if not _is_excluded(r, excluded)]
    inferred: list[InstrumentRequest] = []
    small = small_group(requests)  # "piano and cello": a duo, nothing pitched is added
    if not alone and not small:
        for f in said.of("context"):
            for name in f.hit.data.get("instruments", ()):
                entry = lex.instruments[name]
                req = InstrumentRequest(name, entry["program"], entry["drum"], entry["role"],
                                        (f.phrase,), "inferred")
                if (not _is_excluded(req, excluded) and
                        all(r.name != name for r in [*requests, *inferred]) and
                        all(r.role != req.role for r in [*requests, *inferred])):
                    inferred.append(req)
    explicit_drums = any(r.role == "drums" for r in requests)
    if "drums" in excluded:
        drums = False
        ev["drums"] = Evidence(False, tuple(excl_words), "explicit", "drums excluded")
    elif explicit_drums:
        drums = True
        ev["drums"] = Evidence(True, next(r.words for r in requests if r.role == "drums"),
                               "explicit", "")
    elif ensemble is not None:
        drums = bool(ensemble.hit.data["drums"])
        ev["drums"] = Evidence(drums, (ensemble.phrase,), "inferred",
                               f"the {ensemble.hit.data['name']} plays "
                               f"{'with' if drums else 'without'} drums")
    elif alone:
        drums = False
        ev["drums"] = Evidence(False, tuple(alone_words), "inferred",
                               "only the named instruments play")
    else:
        drums = bool(sdef["drums"])
        ev["drums"] = Evidence(drums, (), style.source,
                               f"{style.id} {'has' if drums else 'has no'} drums by default")
    # An implied drum or percussion part plays only with drums (what the ensemble does).
    inferred = [r for r in inferred if not (r.is_drum and not drums)]
    if not alone:
        have = [*requests, *inferred]
        for role, name in sdef["ensemble"].items():
            entry = lex.instruments[name]
            req = InstrumentRequest(name, entry["program"], entry["drum"], role, (), "inferred")
            if role == "drums" and not drums:
                continue
            if small and role != "drums":
                continue
            if entry["drum"] and not drums:
                continue
            if any(r.role == role for r in have) or any(r.name == name for r in have):
                continue
            if role == "percussion" and "percussion" in excluded:
                continue
            if _is_excluded(req, excluded):
                continue
            have.append(req)
        inferred = have[len(requests):]
        # A named duo over the style's drums stays a duo (its piano or guitar plays the bass
        # notes); a kit named with it makes it a band.
        inferred += _rhythm_section([*requests, *inferred], sdef["ensemble"], lex, excluded,
                                    band=drums and (explicit_drums or not small))
    all_instr = tuple([*requests, *inferred])
    ev["instruments"] = Evidence(
        [f"{r.name} ({r.role})" for r in all_instr],
        tuple(dict.fromkeys(w for r in requests for w in r.words)),
        "explicit" if requests else (style.source if all_instr else "default"),
        _instrument_note(requests, inferred, alone, style.id,
                         alone_words or ([ensemble.phrase] if ensemble else [])))
    if ensemble is not None:
        data = ensemble.hit.data
        ev["ensemble"] = Evidence(ensemble.hit.id, (ensemble.phrase,), "explicit",
                                  f"the {data['name']}: " + ", ".join(
                                      f"{p.get('name', p['instrument'])} ({p['role']})"
                                      for p in data["players"]))
    return all_instr, ev


#: Roles that play the chords of a band (a pad alone floats over it, it does not comp).
_COMPING_ROLES = ("chords", "harmony", "arp", "strings")


def _style_meaning(requests: list[InstrumentRequest], means: Mapping[str, str],
                   ensemble: Mapping[str, str], lex: lx.Lexicon) -> list[InstrumentRequest]:
    """An instrument named only by words the style reads its own way (the file's
    ``[request] means``): in funk, soul, ska or salsa "horns" is the trumpet, sax and
    trombone section, not French horns. It plays the role the style gives it (funk's horn
    section answers the tune with stabs) unless the words gave it one."""
    roles = {name: role for role, name in ensemble.items()}
    out = []
    for r in requests:
        target = {means.get(w) for w in r.words}
        if r.source == "explicit" and len(target) == 1 and None not in target:
            name = target.pop()
            entry = lex.instruments[name]
            role = roles.get(name, entry["role"]) if r.role == lex.instruments[r.name]["role"] \
                else r.role
            r = replace(r, name=name, program=entry["program"], is_drum=entry["drum"],
                        role=role)
        out.append(r)
    return out


def _rhythm_section(have: list[InstrumentRequest], ensemble: Mapping[str, str],
                    lex: lx.Lexicon, excluded: list[str], *,
                    band: bool) -> list[InstrumentRequest]:
    """A band (a kit plays) needs a bass and someone on the chords. Nobody on the chords: the
    style's chord instrument joins; where that instrument already carries the tune (a jazz
    trio's piano, an R&B electric piano), the same instrument comps too, as one player's left
    hand would. No bass: the style's bass joins. What the request ruled out stays out."""
    if not band:
        return []
    out = []
    comp = ensemble.get("chords") or ensemble.get("harmony")
    if comp is not None and not any(r.role in _COMPING_ROLES for r in have):
        entry = lex.instruments[comp]
        same = next((r for r in have if r.name == comp or (
            r.program == entry["program"] and not r.is_drum)), None)
        label = f"{same.name} (comping)" if same is not None else comp
        out.append(InstrumentRequest(label, entry["program"], entry["drum"], "chords", (),
                                     "inferred"))
    bass = ensemble.get("bass")
    if bass is not None and not any(r.role == "bass" for r in have) and all(
            r.name != bass for r in have):
        entry = lex.instruments[bass]
        out.append(InstrumentRequest(bass, entry["program"], entry["drum"], "bass", (),
                                     "inferred"))
    return [r for r in out if not _is_excluded(r, excluded)]


def _players(found: _Found, lex: lx.Lexicon) -> tuple[list[InstrumentRequest], set[str]]:
    """The players of a named ensemble as explicit requests, and the instruments they cover."""
    players = []
    for p in found.hit.data["players"]:
        entry = lex.instruments[p["instrument"]]
        register = p.get("register")
        players.append(InstrumentRequest(
            p.get("name", p["instrument"]), entry["program"], entry["drum"], p["role"],
            (found.phrase,), "explicit", pattern=p.get("pattern"),
            register=tuple(register) if register is not None else None))
    return players, {p["instrument"] for p in found.hit.data["players"]}


def _resolve_energy_density(said: _Said, style: _Style, moods: tuple[str, ...],
                            mood_words: tuple[str, ...], bpm: float) -> dict[str, Evidence]:
    """Energy: halfway between the style's value and the moods' arousal (mapped to 0..1), plus
    the energy/context word nudges (capped at +-0.35), plus a small tempo nudge if no moods.
    Density: the style's, moved by the words; lower when only the named instruments play."""
    lex, sdef = said.lex, style.defaults
    energy, e_words = float(sdef["energy"]), []
    density, d_words = float(sdef["density"]), []
    e_deltas: list[float] = []
    d_deltas: list[float] = []
    if moods:
        target = (_mean([lex.moods[m]["arousal"] for m in moods]) + 1.0) / 2.0
        energy = 0.5 * energy + 0.5 * target
        e_words.extend(mood_words)
    for f in said.live:
        data = f.hit.data if isinstance(f.hit.data, dict) else {}
        if f.hit.kind in ("energy", "context") and data.get("energy"):
            e_deltas.append(data["energy"])
            e_words.append(f.phrase)
        if f.hit.kind in ("energy", "density", "context") and data.get("density"):
            d_deltas.append(data["density"])
            d_words.append(f.phrase)
    if e_deltas:
        energy += max(-0.35, min(0.35, _mean(e_deltas) * min(len(e_deltas), 2)))
    if d_deltas:
        density += max(-0.35, min(0.35, _mean(d_deltas) * min(len(d_deltas), 2)))
    if not moods:
        energy += {"slow": -0.05, "medium": 0.0, "fast": 0.05}[tempo_class(bpm)]
    if said.scan.alone:
        density -= 0.15
    energy, e_clamp = _clamp01(energy)
    density, d_clamp = _clamp01(density)
    e_note = f"from {style.id}'s {sdef['energy']}" + (", moved by the words" if e_words else "")
    if e_clamp:
        e_note += f"; clamped to {energy:g} (energy runs 0-1)"
    d_note = f"from {style.id}'s {sdef['density']}" + (", moved by the words" if d_words
                                                        else "")
    if d_clamp:
        d_note += f"; clamped to {density:g} (density runs 0-1)"
    return {"energy": Evidence(energy, tuple(dict.fromkeys(e_words)),
                               "inferred" if e_words else style.source, e_note),
            "density": Evidence(density, tuple(dict.fromkeys(d_words)),
                                "inferred" if d_words else style.source, d_note)}


def _resolve_structure(said: _Said) -> Evidence:
    structure: list[str] = []
    words: list[str] = []
    for f in said.of("structure"):
        if not structure or structure[-1] != f.hit.id:
            structure.append(f.hit.id)
        words.append(f.phrase)
    return Evidence(list(structure), tuple(dict.fromkeys(words)),
                    "explicit" if structure else "default",
                    "" if structure else "no sections named: the planner decides")


def _resolve_context(said: _Said) -> Evidence:
    contexts = said.of("context")
    context = tuple(dict.fromkeys(f.hit.id for f in contexts))
    return Evidence(list(context), tuple(dict.fromkeys(f.phrase for f in contexts)),
                    "explicit" if context else "default",
                    "" if context else "no place, era, skill or scene words")


def _resolve_changes(said: _Said) -> Evidence:
    """Changes relative to existing music ("faster", "louder"), for continuations."""
    found = said.of("change")
    changes = list(dict.fromkeys(f.hit.id for f in found))
    return Evidence(changes, tuple(dict.fromkeys(f.phrase for f in found)),
                    "explicit" if changes else "default", "")


def _warn_if_nothing_understood(prompt: str, ev: dict[str, Evidence], style: str) -> None:
    """A prompt of no words at all is refused; words none of which was understood warn."""
    if not all(e.source == "default" for name, e in ev.items() if name != "seed"):
        return
    shown = prompt.strip() if len(prompt.strip()) <= 40 else prompt.strip()[:37] + "..."
    if not any(c.isalpha() for c in prompt):  # emoji, digits, punctuation: no words at all
        raise ParameterError(f"{shown!r} has no words to understand: describe the music, "
                             f"e.g. 'a calm piano piece in D minor'")
    log.warning("no word of %r was understood as music (style, mood, instrument, tempo, "
                "key, length): using %s's defaults", shown, style)


@cache
def lex_mood_style() -> dict[str, str]:
    return dict(lx._read("words.toml").get("mood_style", {}))


def lex_mood_style_acoustic() -> dict[str, str]:
    return dict(lx._read("words.toml").get("mood_style_acoustic", {}))


_ACOUSTIC_FAMILIES = frozenset({"piano", "chromatic percussion", "guitar", "strings",
                                "ensemble", "brass", "reed", "pipe", "ethnic"})


def _is_acoustic(entry: dict) -> bool:
    """A named instrument that is not a synth, an electric guitar or a drum kit."""
    from ..gm import program_family

    program = int(entry.get("program", 0))
    if entry.get("drum") or 26 <= program <= 31:  # electric guitars
        return False
    return program_family(program) in _ACOUSTIC_FAMILIES


def _neg_prefix(f: _Found) -> tuple[str, ...]:
    neg = lx.load().function["negation"]
    return tuple(t for t in f.before if t in neg)[-1:]


def _with_note(e: Evidence, note: str) -> Evidence:
    return Evidence(e.value, e.words, e.source, "; ".join(x for x in (e.note, note) if x))


def _mean(xs: Sequence[float]) -> float:
    return sum(xs) / len(xs) if xs else 0.0


def _clamp01(x: float) -> tuple[float, bool]:
    y = min(1.0, max(0.0, x))
    return round(y, 3), y != x


def _in_range_note(value: float, band: Sequence[float], style: _Style) -> str:
    if band[0] <= value <= band[1]:
        return ""
    lo, hi = style.defaults["tempo"]
    return f", kept in {style.id}'s range ({lo:g}-{hi:g} bpm)"


def _bpm_in_band(band: Sequence[float], sdef: dict[str, Any], *,
                 implied: bool = False) -> float:
    """The point nearest the style's default tempo, inside the band and (if they overlap) the
    style's range.

    A tempo the words only imply (a mood, a place) stays in the idiom of a style the request
    named or implied (``implied``): where the band misses the style's range, the range's end
    nearest the band wins ("bailable", "energetic" reggaeton is reggaeton at its liveliest,
    105 bpm, not 126). With no style asked for, the scene's tempo stands ("time to run": 140
    bpm, not pop's 132). A tempo word said outright ("un tango lento") keeps its band."""
    lo, hi = float(band[0]), float(band[1])
    s_lo, s_hi = float(sdef["tempo"][0]), float(sdef["tempo"][1])
    if max(lo, s_lo) <= min(hi, s_hi):
        lo, hi = max(lo, s_lo), min(hi, s_hi)
    elif implied:
        lo = hi = s_hi if lo > s_hi else s_lo
    return float(round(min(hi, max(lo, float(sdef["bpm"])))))


_MAJOR_KEYS = (0, 7, 2, 5, 9, 10, 4)  # C G D F A Bb E
_MINOR_KEYS = (9, 4, 2, 7, 0, 11, 5)  # A E D G C B F


def _default_tonic(style: str, mode: str) -> int:
    pool = _MAJOR_KEYS if mode == "major" else _MINOR_KEYS
    return pool[zlib.crc32(style.encode()) % len(pool)]


def _key_label(tonic: int, mode: str) -> str:
    from ..score.types import KeySignature

    return KeySignature(0.0, tonic, mode).name


def _is_excluded(req: InstrumentRequest, excluded: Sequence[str]) -> bool:
    if not excluded:
        return False
    names = {req.name, req.role, req.family}
    if req.is_drum:
        names.add("drums" if req.role == "drums" else "percussion")
    if req.role == "vocal":
        names.add("vocal")
    return bool(names & set(excluded))


def _explicit_instruments(live: Sequence[_Found], lex: lx.Lexicon, extra: Iterable[str] | None,
                          comping: Sequence[str] = ()) -> list[InstrumentRequest]:
    """The instruments named, in order, each with its role: the instrument's own, or the one
    the words give it ("piano chords", "lead guitar"). One lead: later leads answer it. A
    single melodic instrument leads, unless the style comps with it (``comping``, the file's
    ``[request] comping``: "a house track with piano" is the house piano's stabs, and the
    style's lead plays the tune)."""
    fn = lex.function
    role_words = [("lead", fn["role_lead"]), ("chords", fn["role_chords"]),
                  ("pad", fn["role_pad"]), ("arp", fn["role_arp"]), ("bass", fn["role_bass"])]
    found = [f for f in live if f.hit.kind == "instrument"]
    order: list[str] = []
    words: dict[str, list[str]] = {}
    roles: dict[str, str] = {}
    role_set: dict[str, bool] = {}
    from ..gm import program_family

    def family(name: str) -> str:
        e = lex.instruments[name]
        return "drums" if e["drum"] else program_family(e["program"])

    for f in found:
        name = f.hit.id
        entry = f.hit.data
        if entry.get("generic"):
            same = next((n for n in order if family(n) == family(name) and n != name), None)
            if same is not None:
                words[same].append(f.phrase)
                continue
        else:
            # A specific instrument absorbs a generic one of its family named earlier.
            gen = next((n for n in order if lex.instruments[n].get("generic")
                        and family(n) == family(name)), None)
            if gen is not None:
                idx = order.index(gen)
                order[idx] = name
                words[name] = words.pop(gen)
                roles[name] = roles.pop(gen)
                role_set[name] = role_set.pop(gen)
                words[name].append(f.phrase)
                continue
        if name not in words:
            order.append(name)
            words[name] = []
            roles[name] = entry["role"]
            role_set[name] = False
        words[name].append(f.phrase)
        if not entry["drum"] and entry["role"] not in ("bass", "vocal", "percussion"):
            nxt = f.after[:1]
            last = f.phrase.split()[-1]
            if len(f.phrase.split()) > 1 and last in fn["role_lead"]:
                nxt = (last,)
            for role, ws in role_words:
                if nxt and nxt[0] in ws and role != "bass":
                    roles[name] = role
                    role_set[name] = True
                    break
            if not role_set[name] and f.before and f.before[-1] in ("lead", "solo"):
                roles[name] = "lead"
                role_set[name] = True
    for raw in extra or ():
        key = lx.phrase_key(str(raw))
        hits = [h for h in lex.lookup(key) if h.kind == "instrument"] if key else []
        if not hits:
            raise ParameterError(f"instrument {raw!r} is not one tunecraft knows (try 'piano', "
                                 "'violin', 'distorted guitar', 'synth pad')")
        name = hits[0].id
        if name not in words:
            order.append(name)
            words[name] = []
            roles[name] = hits[0].data["role"]
            role_set[name] = False
        words[name].append(str(raw))
    # One lead: later explicit leads play counter-melodies; a single melodic instrument leads.
    leads = [n for n in order if roles[n] == "lead"]
    for n in leads[1:]:
        roles[n] = "counter"
    melodic = [n for n in order if not lex.instruments[n]["drum"]
               and roles[n] not in ("bass", "percussion", "vocal")]
    if (not leads and len(melodic) == 1 and not role_set[melodic[0]]
            and roles[melodic[0]] in ("chords", "harmony", "counter")):
        roles[melodic[0]] = "chords" if melodic[0] in comping else "lead"
    out = []
    for n in order:
        e = lex.instruments[n]
        out.append(InstrumentRequest(n, e["program"], e["drum"], roles[n],
                                     tuple(dict.fromkeys(words[n])), "explicit"))
    return out


def _instrument_note(requests: Sequence[InstrumentRequest], inferred: Sequence[InstrumentRequest],
                     alone: bool, style: str, alone_words: Sequence[str]) -> str:
    parts = []
    if not requests:
        parts.append("no instruments named")
    if alone:
        parts.append(f"only the named instruments play ({', '.join(alone_words)})")
    if inferred:
        parts.append(f"added for {style}: " + ", ".join(f"{r.name} ({r.role})"
                                                        for r in inferred))
    return "; ".join(parts)
