"""Lyrics: words split into sung syllables, mapped onto the form and set to a vocal line.

:func:`parse_lyrics` reads a text into stanzas of lines of :class:`Syllable`;
:func:`write_vocal_line` sets them to notes over a :class:`~tunecraft.compose.plan.Plan`, one note
per syllable (``Note.lyric``), so MIDI lyric events and MusicXML lyrics come for free.

**Stanzas.** Stanzas are separated by blank lines. A header line starts one and names its kind:
``[Chorus]``, ``(verse 2)``, ``Chorus:`` (text after the colon is the first line), in English,
Spanish (coro, estribillo, verso, estrofa, puente, precoro) or Portuguese (refrão, verso,
estrofe, ponte, pré-refrão); ``hook``/``refrain`` mean chorus. A header alone ("[Chorus]" with no
lines) repeats the chorus and adds nothing. Unlabelled stanzas are verses, except a stanza that
returns word for word: that is the chorus. A long line (more than 10 syllables) with a comma,
semicolon or colon inside is sung as two lines (two phrases with a breath): "We light up the sky
tonight, every heart is burning bright" is a couplet. Numbers and symbols are not sung.

**Syllables.** English words are split by the hyphenation dictionary of ``pyphen`` (en_US) when it
is installed; a word it leaves whole, or all words without it, are split by rules on vowel groups
(a silent final ``e``, silent ``-es``/``-ed``, a syllabic ``-le``, hiatus in ``ia``/``io``/``eo``/
``ua``, V-CV and VC-CV splits keeping digraphs such as ``th``/``ch``/``gh`` together), with a
short list of common words whose sung syllables differ. Spanish and Portuguese are split by
their spelling rules (which are regular): vowel nuclei with diphthongs (weak ``i``/``u`` with
any vowel) and hiatus (two strong vowels, or an accented ``í``/``ú``), silent ``u`` in
``que``/``qui``/``gue``/``gui``, Portuguese nasal diphthongs ``ão``/``õe``/``ãe``, and consonants
between nuclei split V-CV, VC-CV or VCC-CV keeping the clusters ``pl, pr, bl, br, tr, dr, cl,
cr, gl, gr, fl, fr`` and ``ch, ll, rr, lh, nh`` together.

**Stress** (``Syllable.stressed``):

* Spanish: a written accent (á é í ó ú) marks it; otherwise a word ending in a vowel, ``n`` or
  ``s`` stresses the penultimate syllable, any other the last.
* Portuguese: an accent (á é í ó ú â ê ô, then the tilde of ã/õ) marks it; otherwise words ending
  in ``a, e, o`` (with ``s``), ``am, em, ens`` stress the penultimate syllable, others the last.
* English: a list of common words gives the stressed syllable; otherwise suffixes decide
  (``-tion``/``-sion``/``-ic``/``-ious`` the syllable before, ``-ity``/``-ogy``/``-ical`` the
  one before that, ``-ee``/``-eer``/``-oon``/``-ese`` the last); inflections (``-ing, -ed, -er,
  -est, -ly, -ness, -ful, -less, -ment, -s``) are set aside and the stem decides: a stem whose
  first syllable is a common prefix (be, re, de, a, ex, un, for, to, mis, pre) stresses its
  second syllable, any other its first. Words of four or more syllables also stress the
  syllable two away from the main stress (CEL-e-BRA-tion).
* In every language, one-syllable function words (articles, prepositions, pronouns,
  auxiliaries, conjunctions: "the", "of", "we", "is"; "el", "de", "que"; "o", "da", "em") are
  unstressed; every other one-syllable word is stressed.

Lyric text on notes follows music21's convention, which the MusicXML writer keeps: ``"beau-"``,
``"-ti-"``, ``"-ful"`` (begin, middle, end of a word; a one-syllable word has no hyphen), so
MusicXML carries ``<syllabic>`` begin/middle/end and the same strings are the MIDI lyric events.

**The vocal line.** See :func:`layout_lyrics` (which stanza is sung in which section) and
:func:`write_vocal_line` (rhythm and pitches).
"""

from __future__ import annotations

import logging
import math
import re
import unicodedata
from dataclasses import dataclass, replace
from functools import lru_cache
from itertools import pairwise
from pathlib import Path

from ..errors import InputFileError, ParameterError
from ..score.types import EPS as _EPS
from ..score.types import Note
from .plan import PartSpec, Plan, SectionPlan

log = logging.getLogger(__name__)

__all__ = ["LANGUAGES", "Lyrics", "LyricsLayout", "Stanza", "Syllable", "guess_language",
           "layout_lyrics", "load_lyrics", "lyric_text", "parse_lyrics", "syllabify",
           "write_vocal_line"]

LANGUAGES = ("en", "es", "pt")
MAX_LYRICS_CHARS = 100_000


# ----------------------------------------------------------------------------------------------
# Types


@dataclass(frozen=True, slots=True)
class Syllable:
    """One sung syllable: its letters (no hyphen), whether it is stressed, where it sits."""

    text: str
    stressed: bool
    word_start: bool
    word_end: bool
    line_end: bool = False


@dataclass(frozen=True, slots=True)
class Stanza:
    """A verse, chorus, bridge, pre_chorus (or intro/outro) of lines of syllables."""

    kind: str
    lines: tuple[tuple[Syllable, ...], ...]

    @property
    def syllables(self) -> tuple[Syllable, ...]:
        return tuple(s for line in self.lines for s in line)

    @property
    def text(self) -> str:
        return " / ".join(_line_text(line) for line in self.lines)


@dataclass(frozen=True, slots=True)
class Lyrics:
    """Parsed lyrics: stanzas in the order written, and their language ("en", "es", "pt")."""

    stanzas: tuple[Stanza, ...]
    language: str

    @property
    def syllable_count(self) -> int:
        return sum(len(line) for st in self.stanzas for line in st.lines)


def lyric_text(s: Syllable) -> str:
    """The text a note carries: "beau-", "-ti-", "-ful" within a word, "sky" for a whole word."""
    return ("" if s.word_start else "-") + s.text + ("" if s.word_end else "-")


def _line_text(line: tuple[Syllable, ...]) -> str:
    out = ""
    for s in line:
        out += ("" if not out or not s.word_start else " ") + s.text
    return out


# ----------------------------------------------------------------------------------------------
# Loading and language


def load_lyrics(text_or_path: str) -> str:
    """The lyrics text: read from a ``.txt`` (or ``.lrc``/``.lyrics``) file if it names one, else
    the argument itself.

    A value that looks like a path (ends in .txt/.lrc/.lyrics and is one line) must name a
    readable, non-empty UTF-8 text file, or :class:`~tunecraft.errors.InputFileError` says why.
    """
    if not isinstance(text_or_path, str):
        raise ParameterError("the lyrics must be text or the path of a .txt file")
    candidate = text_or_path.strip()
    looks_like_path = ("\n" not in candidate and 0 < len(candidate) < 4096
                       and candidate.lower().endswith((".txt", ".lrc", ".lyrics")))
    path = Path(candidate).expanduser() if 0 < len(candidate) < 4096 and "\n" not in candidate \
        else None
    exists = False
    if path is not None:
        try:
            exists = path.is_file()
            if path.is_dir():
                raise InputFileError(path, "is a folder: give the lyrics as text or a .txt "
                                           "file")
        except OSError as exc:
            if isinstance(exc, InputFileError):
                raise
            exists = False
    if not exists and not looks_like_path:
        return text_or_path
    if path is None:
        raise ParameterError("the lyrics must be text or the path of a .txt file")
    if not exists:
        raise InputFileError(path, "the lyrics file does not exist")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputFileError(path, f"the lyrics file cannot be read ({exc.strerror})") from None
    if len(data) > 4 * MAX_LYRICS_CHARS:
        raise InputFileError(path, "the lyrics file is too large for a song text")
    if b"\x00" in data:
        raise InputFileError(path, "the lyrics file is not text (it looks binary)")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputFileError(path, "the lyrics file is not UTF-8 text") from None
    if not text.strip():
        raise InputFileError(path, "the lyrics file is empty")
    return text


def guess_language(text: str) -> str:
    """"en", "es" or "pt": :func:`tunecraft.understand.lexicon.detect_language`."""
    from ..understand.lexicon import detect_language

    return detect_language(text)[0]


def _language(language: str) -> str:
    lang = (language or "").strip().lower().replace("-", "_")
    names = {"english": "en", "spanish": "es", "español": "es", "espanol": "es",
             "portuguese": "pt", "português": "pt", "portugues": "pt"}
    lang = names.get(lang, lang)
    if lang[:2] in LANGUAGES:
        return lang[:2]
    raise ParameterError(f"lyrics language {language!r} is not supported (use en, es or pt)")


# ----------------------------------------------------------------------------------------------
# Syllables


@lru_cache(maxsize=8)
def _pyphen(lang: str):  # type: ignore[no-untyped-def]
    try:
        import pyphen
    except ImportError:  # optional: the rules below split every word without it
        log.debug("pyphen is not installed; English words are split by rules")
        return None
    try:
        return pyphen.Pyphen(lang={"en": "en_US"}.get(lang, lang))
    except (KeyError, OSError):
        return None


# Sung syllables of common English words that dictionaries and vowel rules get wrong.
_EN_SYLLABLES = {
    "idea": ["i", "de", "a"], "fire": ["fire"], "fires": ["fires"], "hour": ["hour"],
    "hours": ["hours"], "our": ["our"], "heaven": ["heav", "en"], "being": ["be", "ing"],
    "going": ["go", "ing"], "doing": ["do", "ing"], "seeing": ["see", "ing"],
    "really": ["real", "ly"], "every": ["ev", "ery"], "everything": ["ev", "ery", "thing"],
    "everyone": ["ev", "ery", "one"], "everybody": ["ev", "ery", "bod", "y"],
    "tonight": ["to", "night"], "today": ["to", "day"], "tomorrow": ["to", "mor", "row"],
    "forever": ["for", "ev", "er"], "together": ["to", "geth", "er"], "quiet": ["qui", "et"],
    "lion": ["li", "on"], "create": ["cre", "ate"], "people": ["peo", "ple"],
    "maybe": ["may", "be"], "someone": ["some", "one"], "somewhere": ["some", "where"],
    "sometimes": ["some", "times"], "something": ["some", "thing"], "baby": ["ba", "by"],
    "only": ["on", "ly"], "lonely": ["lone", "ly"], "crazy": ["cra", "zy"],
    "radio": ["ra", "di", "o"], "video": ["vid", "e", "o"], "oh": ["oh"], "yeah": ["yeah"],
    "ooh": ["ooh"],
}  # fmt: skip

_EN_ONSETS = {"bl", "br", "cl", "cr", "dr", "fl", "fr", "gl", "gr", "pl", "pr", "sc", "sk", "sl",
              "sm", "sn", "sp", "st", "sw", "tr", "tw", "th", "sh", "ch", "ph", "wh", "wr", "kn",
              "qu", "thr", "str", "spr", "scr", "spl", "shr"}  # fmt: skip
_EN_DIGRAPHS = ("th", "sh", "ch", "ph", "wh", "gh", "ck", "ng", "qu")


def _en_nuclei(w: str) -> list[tuple[int, int]]:
    """Vowel groups (start, end) of a lowercase English word; ``y`` is a vowel after a consonant
    or at the end, a consonant at the start of a syllable; ``w`` after a vowel is part of it."""
    spans: list[tuple[int, int]] = []
    i = 0
    n = len(w)
    while i < n:
        c = w[i]
        vowel = c in "aeiou" or (c == "y" and i > 0 and (i + 1 >= n or w[i + 1] not in "aeiou"))
        if c == "u" and i > 0 and w[i - 1] == "q":
            vowel = False
        if not vowel:
            i += 1
            continue
        j = i + 1
        while j < n and (w[j] in "aeiou" or (w[j] == "y" and (j + 1 >= n
                                                              or w[j + 1] not in "aeiou"))
                         or (w[j] == "w" and (j + 1 >= n or w[j + 1] not in "aeiouy"))):
            j += 1
        group = w[i:j]
        # Hiatus: two vowels sung apart (radio, video, idea, duo).
        cut = None
        for pair in ("ia", "io", "eo", "ua", "uo"):
            k = group.find(pair)
            if k >= 0 and not (pair in ("ia", "io") and i + k > 0 and w[i + k - 1] in "tcsgx"):
                cut = i + k + 1
                break
        if cut is not None and len(group) >= 2:
            spans += [(i, cut), (cut, j)]
        else:
            spans.append((i, j))
        i = j
    if len(spans) > 1:
        tail = w[spans[-1][0]:]
        le = len(w) >= 3 and w.endswith("le") and w[-3] not in "aeiouy"
        silent_e = tail == "e" and not le
        silent_es = tail == "es" and len(w) >= 3 and w[-3] not in "sxzhgc"
        silent_ed = tail == "ed" and len(w) >= 3 and w[-3] not in "td"
        if silent_e or silent_es or silent_ed:
            spans.pop()
    return spans


def _en_rules(word: str) -> list[str]:
    """Split an English word at its vowel groups (see the module docstring)."""
    w = word.lower()
    spans = _en_nuclei(w)
    if len(spans) <= 1:
        return [word]
    cuts = []
    for (_, e1), (s2, _) in pairwise(spans):
        cons = w[e1:s2]
        if not cons:
            cut = e1
        elif len(cons) == 1:
            cut = e1 if cons != "x" else s2
        elif w.endswith("le") and s2 == len(w) - 1 and len(cons) >= 1:
            cut = s2 - 1  # lit-tle, ta-ble
        elif cons[-3:] in _EN_ONSETS and len(cons) > 3:
            cut = s2 - 3
        elif cons[-2:] in _EN_ONSETS and len(cons) > 2 and cons[-2:] not in ("ck", "gh"):
            cut = s2 - 2
        elif cons in _EN_DIGRAPHS:
            cut = s2 if cons in ("ck", "gh", "ng") else e1
        else:
            cut = e1 + 1
            if cons[:2] in ("ck", "gh", "ng", "th", "sh", "ch"):
                cut = e1 + 2
        cuts.append(cut)
    parts, prev = [], 0
    for c in cuts:
        if c > prev:
            parts.append(word[prev:c])
            prev = c
    parts.append(word[prev:])
    return [p for p in parts if p]


def _en_syllabify(word: str) -> list[str]:
    low = word.lower().replace("’", "'")
    if low in _EN_SYLLABLES:
        return _recase(word, _EN_SYLLABLES[low])
    if "'" in low:  # contractions are one syllable more rarely than they look: keep whole
        stem, _, rest = word.replace("’", "'").partition("'")
        parts = _en_syllabify(stem) if stem else [""]
        parts[-1] = parts[-1] + "'" + rest
        return [p for p in parts if p]
    dic = _pyphen("en")
    if dic is not None and len(word) > 1:
        parts = dic.inserted(word, hyphen="\x00").split("\x00")
        parts = [p for p in parts if p]
        if len(parts) > 1 and all(re.search(r"[aeiouy]", p.lower()) for p in parts):
            return parts
    return _en_rules(word)


def _recase(word: str, parts: list[str]) -> list[str]:
    out, i = [], 0
    for p in parts:
        out.append(word[i:i + len(p)] if word[i:i + len(p)].lower() == p else p)
        i += len(p)
    return out if "".join(out).lower() == word.lower() else parts


_ROM_STRONG = set("aeoáéóàâêôãõíú")  # accented í/ú are strong (hiatus)
_ROM_VOWELS = set("aeiouáéíóúàâêôãõü")
_ROM_CLUSTERS = {"pl", "pr", "bl", "br", "tr", "dr", "cl", "cr", "gl", "gr", "fl", "fr", "kl",
                 "kr", "ch", "ll", "rr", "lh", "nh", "tl", "vr"}  # fmt: skip


def _rom_syllabify(word: str, lang: str) -> list[str]:
    """Spanish/Portuguese syllables by spelling rules (see the module docstring)."""
    w = word.lower()
    n = len(w)
    is_vowel = []
    for i, c in enumerate(w):
        v = c in _ROM_VOWELS
        if c == "u" and i > 0 and w[i - 1] in "qg" and i + 1 < n and w[i + 1] in "eiéí":
            v = False  # que, qui, gue, gui: the u is silent
        if c == "y":  # hoy, muy, y: a vowel at the end of a word or alone
            v = (i == n - 1 and i > 0 and w[i - 1] in _ROM_VOWELS) or n == 1
        is_vowel.append(v)
    nuclei: list[list[int]] = []
    for i in range(n):
        if not is_vowel[i]:
            continue
        if nuclei and nuclei[-1][-1] == i - 1:
            a, b = w[i - 1], w[i]
            hiatus = a in _ROM_STRONG and b in _ROM_STRONG
            if lang == "pt" and a in "ãõ" and b in "eo":
                hiatus = False  # mão, põe, mãe
            if a in "íú" or b in "íú":
                hiatus = True
            if (lang == "pt" and a in "iu" and b in "aeo" and i >= 2 and not is_vowel[i - 2]
                    and re.fullmatch(r"[aeo]s?", w[i:])):
                hiatus = True  # poesia, alegria, rio: a final -ia/-io is two syllables
            if not hiatus:
                nuclei[-1].append(i)
                continue
        nuclei.append([i])
    if len(nuclei) <= 1:
        return [word]
    cuts = []
    for k in range(len(nuclei) - 1):
        e1, s2 = nuclei[k][-1] + 1, nuclei[k + 1][0]
        cons = w[e1:s2]
        if len(cons) <= 1:
            cut = e1
        elif len(cons) == 2:
            keep_rr = lang == "es" or cons != "rr"
            cut = e1 if cons in _ROM_CLUSTERS and (keep_rr or cons not in ("rr",)) \
                and not (lang == "pt" and cons == "rr") else e1 + 1
        else:
            cut = s2 - 2 if cons[-2:] in _ROM_CLUSTERS else s2 - 1
        cuts.append(cut)
    parts, prev = [], 0
    for c in cuts:
        parts.append(word[prev:c])
        prev = c
    parts.append(word[prev:])
    return [p for p in parts if p]


def syllabify(word: str, language: str) -> list[str]:
    """A word's sung syllables, in its own spelling: "beautiful" -> ["beau", "ti", "ful"]."""
    lang = _language(language)
    word = unicodedata.normalize("NFC", word.strip())
    if not word:
        return []
    if lang == "en":
        return _en_syllabify(word)
    return _rom_syllabify(word, lang)


# -- stress --------------------------------------------------------------------------------------

_FUNCTION_WORDS = {
    "en": {"a", "an", "the", "and", "or", "but", "nor", "of", "to", "in", "on", "at", "by",
           "for", "from", "with", "as", "is", "am", "are", "was", "were", "be", "been", "it",
           "its", "it's", "i", "i'm", "i'll", "i've", "i'd", "me", "my", "we", "we're", "us",
           "our", "you", "you're", "your", "he", "him", "his", "she", "her", "they", "them",
           "their", "that", "than", "if", "do", "does", "did", "has", "have", "had", "can",
           "will", "would", "could", "should", "shall", "may", "might", "must", "let's", "'cause",
           "so", "some", "this", "these", "those", "into", "there", "it'll", "we'll", "you'll",
           "'til", "till", "such", "just"},
    "es": {"el", "la", "lo", "los", "las", "un", "de", "del", "al", "a", "en", "con", "por",
           "sin", "y", "e", "o", "u", "que", "se", "me", "te", "le", "les", "nos", "os", "mi",
           "mis", "tu", "tus", "su", "sus", "ni", "si", "tan", "pues", "cual"},
    "pt": {"o", "a", "os", "as", "um", "uns", "de", "da", "do", "das", "dos", "em", "no", "na",
           "nos", "nas", "e", "ou", "que", "se", "me", "te", "lhe", "com", "por", "sem", "meu",
           "teu", "seu", "mas", "nem", "pra", "pro", "ao", "aos", "à", "num", "numa"},
}  # fmt: skip

# English words whose stress the rules below would miss: word -> stressed syllable index.
_EN_STRESS = {
    "tonight": 1, "today": 1, "tomorrow": 1, "together": 1, "forever": 1, "another": 1,
    "believe": 1, "because": 1, "before": 1, "about": 1, "again": 1, "away": 1, "alone": 1,
    "above": 1, "along": 1, "around": 1, "behind": 1, "beyond": 1, "between": 1, "without": 1,
    "within": 1, "forget": 1, "forgive": 1, "hello": 1, "guitar": 1, "police": 1,
    "machine": 1, "myself": 1, "yourself": 1, "himself": 1, "herself": 1, "itself": 1,
    "themselves": 1, "ourselves": 1, "upon": 1, "until": 1, "unless": 1, "enough": 1,
    "remember": 1, "desire": 1, "delight": 1, "return": 1, "alive": 1, "awake": 1, "afraid": 1,
    "ago": 1, "amazing": 1, "apart": 1, "become": 1, "begin": 1, "escape": 1, "erase": 1,
    "embrace": 1, "complete": 1, "control": 1, "divine": 1, "goodbye": 1, "okay": 1,
    "whatever": 1, "however": 1, "wherever": 1, "whenever": 1, "whoever": 1, "inside": 1,
    "outside": 1, "hotel": 1, "July": 1, "cafe": 1, "romance": 1, "parade": 1, "surprise": 1,
    "suppose": 1, "tattoo": 1, "arise": 1, "awaken": 1, "direction": 1, "eternal": 1,
    "everything": 0, "everyone": 0, "everybody": 0, "somebody": 0, "nobody": 0, "anybody": 0,
    "maybe": 0, "baby": 0, "heaven": 0, "music": 0, "reason": 0, "ready": 0, "really": 0,
    "record": 0, "even": 0, "ever": 0, "every": 0, "only": 0, "river": 0, "rhythm": 0,
    "danger": 0, "demon": 0, "desert": 0, "beauty": 0, "beautiful": 0, "better": 0,
    "breaking": 0, "rebel": 0, "regret": 1, "release": 1, "reveal": 1, "believer": 1,
    "alright": 1, "hooray": 1,
}  # fmt: skip
_EN_PREFIXES = {"be", "re", "de", "a", "ex", "un", "for", "to", "mis", "pre", "con", "com",
                "sur", "with", "per", "pro"}  # fmt: skip
_EN_INFLECTIONS = ("ing", "ed", "er", "ers", "est", "ly", "ness", "ful", "less", "ment", "es",
                   "s", "y")  # fmt: skip


def _en_stress_index(word: str, parts: list[str]) -> int:
    n = len(parts)
    low = word.lower()
    if n == 1:
        return 0
    if low in _EN_STRESS and _EN_STRESS[low] < n:
        return _EN_STRESS[low]
    for suffix, back in (("tion", 2), ("tions", 2), ("sion", 2), ("sions", 2), ("cian", 2),
                         ("cial", 2), ("tial", 2), ("ious", 2), ("ics", 2), ("ic", 2),
                         ("ity", 3), ("ities", 3), ("ogy", 3), ("ical", 3), ("aphy", 3),
                         ("ee", 1), ("eer", 1), ("oon", 1), ("ese", 1), ("ique", 1),
                         ("ette", 1)):  # fmt: skip
        if low.endswith(suffix) and n >= back:
            return n - back
    stem = parts
    last = parts[-1].lower()
    if n >= 2 and any(last.endswith(s) for s in _EN_INFLECTIONS) and len(
            [p for p in parts if p]) > 1:
        trimmed = parts[:-1]
        if len(trimmed) >= 2:
            stem = trimmed
        else:
            return 0
    first = stem[0].lower()
    if len(stem) >= 2 and first in _EN_PREFIXES:
        return 1
    return 0


_ES_ACCENTS = set("áéíóú")
_PT_ACCENTS = set("áéíóúâêô")


def _rom_stress_index(word: str, parts: list[str], lang: str) -> int:
    n = len(parts)
    if n == 1:
        return 0
    low = [p.lower() for p in parts]
    accents = _ES_ACCENTS if lang == "es" else _PT_ACCENTS
    for i, p in enumerate(low):
        if any(c in accents for c in p):
            return i
    if lang == "pt":
        for i, p in enumerate(low):
            if any(c in "ãõ" for c in p):
                return i
    w = word.lower()
    if lang == "es":
        return n - 2 if w[-1] in "aeiouns" else n - 1
    if re.search(r"([aeo]s?|am|em|ens)$", w):
        return n - 2
    return n - 1


def _word_syllables(word: str, lang: str) -> list[tuple[str, bool]]:
    parts = syllabify(word, lang)
    if not parts:
        return []
    low = word.lower().replace("’", "'")
    if len(parts) == 1:
        return [(parts[0], low not in _FUNCTION_WORDS[lang])]
    if lang == "en":
        main = _en_stress_index(word, parts)
    else:
        main = _rom_stress_index(word, parts, lang)
    n = len(parts)
    stressed = {main}
    if n >= 4:  # a secondary stress two syllables away
        for j in (main - 2, main + 2):
            if 0 <= j < n and not (j == n - 1 and main == n - 3):
                stressed.add(j)
                break
    return [(p, i in stressed) for i, p in enumerate(parts)]


# ----------------------------------------------------------------------------------------------
# Parsing


_KIND_WORDS = {
    "verse": "verse", "verso": "verse", "estrofa": "verse", "estrofe": "verse",
    "stanza": "verse", "couplet": "verse",
    "chorus": "chorus", "refrain": "chorus", "hook": "chorus", "coro": "chorus",
    "estribillo": "chorus", "refrão": "chorus", "refrao": "chorus", "estribilho": "chorus",
    "bridge": "bridge", "puente": "bridge", "ponte": "bridge", "middle 8": "bridge",
    "pre-chorus": "pre_chorus", "prechorus": "pre_chorus", "pre chorus": "pre_chorus",
    "pre-coro": "pre_chorus", "precoro": "pre_chorus", "pré-refrão": "pre_chorus",
    "pre-refrão": "pre_chorus", "pré-refrao": "pre_chorus", "pre-refrao": "pre_chorus",
    "intro": "intro", "introducción": "intro", "introdução": "intro",
    "outro": "outro", "coda": "outro", "final": "outro",
}  # fmt: skip
_KIND_ALT = "|".join(sorted((re.escape(k) for k in _KIND_WORDS), key=len, reverse=True))
_HEADER_BRACKET = re.compile(
    rf"^\s*[\[(]\s*({_KIND_ALT})\b[^\])]*[\])]\s*(.*)$", re.IGNORECASE)
_HEADER_COLON = re.compile(rf"^\s*({_KIND_ALT})(?:\s*\d+)?\s*(?:x\s*\d+)?\s*:\s*(.*)$",
                           re.IGNORECASE)
_HEADER_BARE = re.compile(rf"^\s*({_KIND_ALT})(?:\s*\d+)?\s*(?:x\s*\d+)?\s*$", re.IGNORECASE)
_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*'?", re.UNICODE)
_SPLIT_PUNCT = re.compile(r"[,;:]\s+")


def _header(line: str) -> tuple[str, str] | None:
    """A header line: (kind, text after it) or None."""
    for rx in (_HEADER_BRACKET, _HEADER_COLON, _HEADER_BARE):
        m = rx.match(line)
        if m:
            kind = _KIND_WORDS[m.group(1).lower()]
            rest = m.group(2).strip() if m.lastindex and m.lastindex >= 2 else ""
            return kind, rest
    return None


def _line_syllables(line: str, lang: str) -> list[Syllable]:
    out: list[Syllable] = []
    for token in _WORD.findall(line):
        for word in token.split("-"):
            word = word.strip("'’") if lang != "en" or not word.endswith("'") else word
            sy = _word_syllables(word, lang) if word else []
            for i, (text, stressed) in enumerate(sy):
                out.append(Syllable(text, stressed, i == 0, i == len(sy) - 1))
    if out:
        out[-1] = replace(out[-1], line_end=True)
    return out


def _sung_lines(line: str, lang: str) -> list[tuple[Syllable, ...]]:
    """A written line as one or two sung lines (a long line breathes at its inner comma)."""
    syl = _line_syllables(line, lang)
    if not syl:
        return []
    if len(syl) > 10:
        pieces = [p for p in _SPLIT_PUNCT.split(line) if _line_syllables(p, lang)]
        if len(pieces) >= 2:
            counts = [len(_line_syllables(p, lang)) for p in pieces]
            total = sum(counts)
            best, run = None, 0
            for k in range(1, len(pieces)):
                run += counts[k - 1]
                if run >= 3 and total - run >= 3 and (best is None or abs(total / 2 - run)
                                                      < abs(total / 2 - best[1])):
                    best = (k, run)
            if best is not None:
                head = ", ".join(pieces[:best[0]])
                tail = ", ".join(pieces[best[0]:])
                return [tuple(_line_syllables(head, lang)), tuple(_line_syllables(tail, lang))]
    return [tuple(syl)]


def _norm(text: str) -> str:
    return " ".join(re.findall(r"[^\W_]+", text.lower()))


def parse_lyrics(text: str, *, language: str = "en") -> Lyrics:
    """Stanzas of lines of syllables (see the module docstring for headers and choruses).

    ``language`` is "en", "es" or "pt" (or "auto": guessed from the words). Raises
    :class:`~tunecraft.errors.ParameterError` when nothing can be sung.
    """
    if not isinstance(text, str):
        raise ParameterError("the lyrics must be text")
    if len(text) > MAX_LYRICS_CHARS:
        raise ParameterError(f"the lyrics are {len(text)} characters long; at most "
                             f"{MAX_LYRICS_CHARS} fit a song")
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    lang = guess_language(text) if (language or "").strip().lower() == "auto" \
        else _language(language)
    # Blocks: (explicit kind or None, raw lines).
    blocks: list[tuple[str | None, list[str]]] = []
    current: tuple[str | None, list[str]] | None = None
    for raw in text.split("\n"):
        if not raw.strip():
            current = None
            continue
        head = _header(raw)
        if head is not None:
            current = (head[0], [head[1]] if head[1] else [])
            blocks.append(current)
            continue
        if current is None:
            current = (None, [])
            blocks.append(current)
        current[1].append(raw.strip())
    stanzas: list[tuple[str | None, tuple[tuple[Syllable, ...], ...], str]] = []
    chorus_lines: tuple[tuple[Syllable, ...], ...] | None = None
    for kind, lines in blocks:
        sung: list[tuple[Syllable, ...]] = []
        for line in lines:
            sung += _sung_lines(line, lang)
        if not sung:
            if kind == "chorus" and chorus_lines is not None:
                stanzas.append(("chorus", chorus_lines, "\n".join(lines)))  # "[Chorus]" again
            continue
        if kind == "chorus" and chorus_lines is None:
            chorus_lines = tuple(sung)
        stanzas.append((kind, tuple(sung), _norm(" ".join(lines))))
    if not stanzas:
        raise ParameterError("the lyrics are empty: there is no word to sing (give some words, "
                             "or leave --lyrics out for an instrumental)")
    has_chorus = any(k == "chorus" for k, _, _ in stanzas)
    repeats: dict[str, int] = {}
    for k, _, key in stanzas:
        if k is None:
            repeats[key] = repeats.get(key, 0) + 1
    out = []
    for k, lines, key in stanzas:
        if k is None:
            k = "chorus" if not has_chorus and repeats.get(key, 0) > 1 else "verse"
        out.append(Stanza(k, lines))
    return Lyrics(tuple(out), lang)


# ----------------------------------------------------------------------------------------------
# Mapping stanzas onto the form


_SILENT_KINDS = ("intro", "outro", "solo", "interlude", "post_chorus")
_VERSE_KINDS = ("verse", "a", "head", "b", "c")
_CHORUS_KINDS = ("chorus", "drop", "head", "a", "verse")


@dataclass(frozen=True, slots=True)
class LyricsLayout:
    """Which stanza each section sings (``None``: the voice rests), and what was left out.

    ``notes`` are sentences for a report (stanzas the form has no room for).
    """

    assignments: tuple[tuple[str, int | None], ...]  # (section name, stanza index)
    unsung: tuple[int, ...]
    notes: tuple[str, ...]

    def stanza_for(self, section_name: str) -> int | None:
        return dict(self.assignments).get(section_name)


def layout_lyrics(plan: Plan, lyrics: Lyrics, *, part: PartSpec | None = None) -> LyricsLayout:
    """Map stanzas onto sections.

    * The chorus stanza (the first one marked chorus) is sung in every chorus section, the same
      words each time; a form without a chorus uses its hook (drop, head, A strain).
    * Verse stanzas go to the verse sections in order, cycling when there are fewer stanzas
      than verses. Without a chorus stanza the song is strophic: verse and chorus sections
      alike take the stanzas in order; a single stanza is sung in all of them.
    * A bridge (pre-chorus, intro, outro) stanza goes to every section of that kind.
    * Intro, outro, solo, interlude and post-chorus sections, and sections of a kind no stanza
      fits (a bridge when the lyrics have none), are instrumental: the voice rests.

    Stanzas that no section sings are listed in ``unsung`` and ``notes`` (and logged): they are
    never dropped silently. Raises ParameterError when no section can carry the words.
    """
    kinds = [s.kind for s in plan.sections if part is None or part.plays_in(s.kind)]
    chorus_kind = next((k for k in _CHORUS_KINDS if k in kinds), None)
    verse_kinds = [k for k in _VERSE_KINDS if k in kinds and k != chorus_kind]
    if not verse_kinds:
        verse_kinds = [k for k in ("pre_chorus", "build", "breakdown", "bridge") if k in kinds
                       and k != chorus_kind][:1]
    by_kind: dict[str, list[int]] = {}
    for i, st in enumerate(lyrics.stanzas):
        by_kind.setdefault(st.kind, []).append(i)
    chorus_idx = by_kind.get("chorus", [None])[0]
    verses = by_kind.get("verse", [])
    strophic = chorus_idx is None
    sung: set[int] = set()
    out: list[tuple[str, int | None]] = []
    verse_n = 0
    for s in plan.sections:
        idx: int | None = None
        if part is not None and not part.plays_in(s.kind):
            pass
        elif s.kind in ("intro", "outro") and s.kind in by_kind:
            idx = by_kind[s.kind][0]
        elif s.kind in _SILENT_KINDS:
            idx = None
        elif s.kind == chorus_kind and not strophic:
            idx = chorus_idx
        elif s.kind in ("bridge", "pre_chorus") and s.kind in by_kind:
            idx = by_kind[s.kind][0]
        elif s.kind in verse_kinds or (strophic and s.kind == chorus_kind):
            if verses:
                idx = verses[verse_n % len(verses)]
                verse_n += 1
            elif chorus_idx is not None and s.kind == chorus_kind:
                idx = chorus_idx
        out.append((s.name, idx))
        if idx is not None:
            sung.add(idx)
    if not sung:
        raise ParameterError(
            "the form has no section for the voice to sing in (only "
            f"{', '.join(dict.fromkeys(kinds)) or 'nothing'}); make it longer with --duration")
    # A repeated chorus stanza is sung whenever the chorus is.
    unsung = tuple(i for i, st in enumerate(lyrics.stanzas) if i not in sung
                   and not (st.kind == "chorus" and chorus_idx in sung
                            and st.lines == lyrics.stanzas[chorus_idx].lines))
    notes = []
    if unsung:
        names = ", ".join(f"stanza {i + 1}, {lyrics.stanzas[i].kind.replace('_', '-')} "
                          f"(\"{_short(lyrics.stanzas[i])}\")" for i in unsung)
        notes.append(f"not sung: {names}; the form has no room for them "
                     "(make it longer with --duration)")
        log.warning("lyrics %s", notes[-1])
    return LyricsLayout(tuple(out), unsung, tuple(notes))


def _short(st: Stanza) -> str:
    t = _line_text(st.lines[0]) if st.lines else ""
    return t if len(t) <= 30 else t[:27] + "..."


# ----------------------------------------------------------------------------------------------
# Rhythm


@dataclass(frozen=True, slots=True)
class _Meter:
    bar: float
    beat: float  # the felt beat (a dotted quarter in compound metres)
    unit: float  # the written beat (1/denominator)
    compound: bool
    strong: tuple[float, ...]  # offsets in the bar that count as strong
    beats: tuple[float, ...]  # offsets of every beat


def _meter(plan: Plan) -> _Meter:
    num, den = plan.meter.numerator, plan.meter.denominator
    unit = 4 / den
    bar = num * unit
    compound = den >= 8 and num % 3 == 0 and num > 3
    if compound:
        beat = 3 * unit
    elif den >= 8:
        beat = 2 * unit
    else:
        beat = unit
    beats = tuple(i * beat for i in range(max(1, round(bar / beat))) if i * beat < bar - _EPS)
    strong = [0.0]
    if compound or (den == 2 and num == 2):
        strong = list(beats[::2] if len(beats) >= 4 else beats)
    elif len(beats) >= 4 and len(beats) % 2 == 0:
        strong.append(bar / 2)
    elif len(beats) >= 5:
        strong.append(beats[(len(beats) + 1) // 2])
    return _Meter(bar, beat, unit, compound, tuple(strong), beats)


def _level(m: _Meter, t: float) -> int:
    """3 strong beat, 2 other beat, 1 half-beat, 0 anything finer."""
    o = t % m.bar
    if o > m.bar - _EPS:
        o = 0.0
    if any(abs(o - s) < _EPS for s in m.strong):
        return 3
    if any(abs(o - b) < _EPS for b in m.beats):
        return 2
    half = m.unit if m.compound else m.beat / 2
    r = o % half
    return 1 if r < _EPS or half - r < _EPS else 0


def is_strong(plan: Plan, beat: float) -> bool:
    """Whether a time (beats from the start) falls on a strong beat of the plan's metre: beat 1
    and the mid-bar beat in 4/4, beat 1 in 3/4, beats 1 and 4 in 6/8."""
    return _level(_meter(plan), beat) == 3


_PICKUP = 0.5  # an unstressed opening may start an eighth early
_BREATH = 0.5  # the shortest rest between two lines
_NICE = (0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 4.0)


def _natural_bars(line: tuple[Syllable, ...], m: _Meter) -> int:
    """A line's phrase length: 2 bars, or 4 (or 8) for a long line, by an eighth-note pace and
    with a strong beat for every stressed syllable."""
    n = len(line)
    stressed = sum(s.stressed for s in line)
    for bars in (2, 4, 8):
        if n <= int(bars * m.bar / 0.5 * 0.6) + 1 and stressed <= bars * len(m.strong):
            return bars
    return 16


def _capacity(bars: int, m: _Meter) -> int:
    """The most syllables a phrase of ``bars`` bars can carry: sixteenths, a beat at the end
    and a breath."""
    return max(1, int((bars * m.bar - m.beat - _PICKUP - _BREATH) / 0.25) + 1)


def _line_rhythm(line: tuple[Syllable, ...], m: _Meter, slot0: float, slot1: float,
                 pace_bars: float, floor: float) -> list[tuple[float, float]]:
    """Onsets and ends of a line's syllables in the slot [slot0, slot1) (absolute beats).

    A dynamic programme places the syllables on a grid (eighths, sixteenths when crowded):
    stressed syllables on strong beats, unstressed ones between, note values near a pace set by
    the syllable count, words kept together, a long last note and a breath (at least an
    eighth rest) before the next line. An unstressed opening may start an eighth early (a
    pickup), never before ``floor``.
    """
    n = len(line)
    pickup = _PICKUP if not line[0].stressed else 0.0
    w0 = max(floor, slot0 - pickup)
    w1 = max(slot1 - _PICKUP - _BREATH, slot0 + 0.5 * m.bar)  # a breath, then a pickup
    min_final = min(m.beat, 1.0)
    step = 0.5 if not m.compound else m.unit / 1 if m.unit <= 0.5 else 0.5
    span = pace_bars * m.bar - _PICKUP - _BREATH - min_final
    for attempt in (step, 0.25):
        step = attempt
        grid = [w0 + k * step for k in range(int((w1 - min_final - w0) / step + _EPS) + 1)]
        if len(grid) >= n:
            break
    if len(grid) < n:
        raise ParameterError(f"{n} syllables do not fit in {(slot1 - slot0) / m.bar:g} bars")
    raw = span / max(n - 1, 1)
    top = 1.5 if m.compound else 1.0
    pace = min((v for v in _NICE if v >= step - _EPS), key=lambda v: abs(math.log2(v / raw)))
    pace = max(step, min(top, pace))
    max_gap = max(2 * pace, m.beat * 2, 2.0)

    def place_cost(i: int, t: float) -> float:
        lv = _level(m, t)
        s = line[i]
        if s.stressed:
            c = (0.0, 3.0, 5.0, 7.0)[3 - lv]
        else:
            c = (1.6, 0.0, 0.0, 0.6)[3 - lv]
        if t < slot0 - _EPS:
            c += 0.0 if not s.stressed else 4.0
        return c

    def gap_cost(i: int, d: float) -> float:
        c = 1.3 * abs(math.log2(d / pace))
        if not any(abs(d - v) < _EPS for v in _NICE):
            c += 0.6
        if not line[i].word_end and d > 1.5 * pace + _EPS:
            c += 0.8
        return c

    inf = float("inf")
    P = len(grid)
    cost = [[inf] * P for _ in range(n)]
    back = [[-1] * P for _ in range(n)]
    for a, t in enumerate(grid):
        late = max(0.0, t - slot0)
        cost[0][a] = place_cost(0, t) + 0.35 * late + (0.6 if late > m.bar else 0.0)
    max_steps = int(max_gap / step + _EPS)
    for i in range(1, n):
        for b in range(i, P):
            pc = place_cost(i, grid[b])
            best, arg = inf, -1
            for a in range(max(0, b - max_steps), b):
                if cost[i - 1][a] == inf:
                    continue
                c = cost[i - 1][a] + gap_cost(i - 1, grid[b] - grid[a])
                if c < best:
                    best, arg = c, a
            if arg >= 0:
                cost[i][b] = best + pc
                back[i][b] = arg
    # The last note: long (at least a beat), ideally ending the line's pace.
    target_end = w0 + (slot0 - w0) + span
    finals = []
    for b in range(P):
        if cost[n - 1][b] == inf:
            continue
        t = grid[b]
        c = cost[n - 1][b] + 0.15 * abs(t - target_end)
        finals.append((c, b))
    if not finals:
        raise ParameterError(f"{n} syllables do not fit in {(slot1 - slot0) / m.bar:g} bars")
    _, b = min(finals)
    idx = [b]
    for i in range(n - 1, 0, -1):
        b = back[i][b]
        idx.append(b)
    idx.reverse()
    onsets = [grid[k] for k in idx]
    hold = max(min_final, min(2 * m.beat, m.bar / 2) if not m.compound else m.beat)
    hold = max(hold, min(m.bar, w1 - onsets[-1]) if pace >= 1.0 else hold)
    out = []
    for i, t in enumerate(onsets):
        end = onsets[i + 1] if i + 1 < n else min(w1, t + hold)
        out.append((t, max(end, t + 0.25)))
    return out


def _stanza_slots(stanza_lines: list[tuple[Syllable, ...]], s: SectionPlan, m: _Meter,
                  repeat: bool, label: str) -> list[tuple[tuple[Syllable, ...], float, float,
                                                          float]]:
    """The lines of a stanza laid out in a section: (line, slot start, slot end, pace bars).

    Each line is a phrase of 2 or 4 bars by its length; a chorus shorter than half its section
    is sung again to fill it (the hook), a chorus section too short for the whole chorus (a
    four-bar tag) sings its opening lines; other spare bars go evenly to the lines (slower,
    longer-held phrases) or stay at the end as an instrumental tag.
    """
    nat = [_natural_bars(line, m) for line in stanza_lines]
    lines = list(stanza_lines)
    if repeat and sum(nat) > s.bars and nat[0] <= s.bars:
        # A short chorus (a tag at the end): its opening lines, as many as fit.
        k = max(j for j in range(1, len(nat) + 1) if sum(nat[:j]) <= s.bars)
        log.info("%s sings the first %d of the chorus's %d lines", s.name, k, len(lines))
        lines, nat = lines[:k], nat[:k]
    if repeat and sum(nat) * 2 <= s.bars:
        k = s.bars // sum(nat)
        lines, nat = lines * k, nat * k
    bars = list(nat)
    # Too long for the section: shorter phrases, down to one bar, while the syllables fit.
    while sum(bars) > s.bars:
        j = max(range(len(bars)), key=lambda i: (bars[i], -i))
        if bars[j] <= 1 or len(lines[j]) > _capacity(max(1, bars[j] // 2), m):
            cands = [i for i in range(len(bars))
                     if bars[i] > 1 and len(lines[i]) <= _capacity(max(1, bars[i] // 2), m)]
            if not cands:
                total = sum(len(line) for line in lines)
                raise ParameterError(
                    f"{total} syllables do not fit in {s.bars} bars ({label} in {s.name}); make "
                    "the piece longer with --duration or shorten the stanza")
            j = max(cands, key=lambda i: (bars[i], -i))
        bars[j] = max(1, bars[j] // 2)
    pace = [float(b) for b in bars]
    spare = s.bars - sum(bars)
    if spare and len(lines):
        factor = s.bars // sum(bars)
        if factor >= 2:
            bars = [b * factor for b in bars]
        spare = s.bars - sum(bars)
    out = []
    t = s.start
    for line, b, p in zip(lines, bars, pace, strict=True):
        out.append((line, t, t + b * m.bar, p))
        t += b * m.bar
    return out


# ----------------------------------------------------------------------------------------------
# Pitches


def _chord_pcs(plan: Plan, t: float) -> tuple[int, ...]:
    return plan.chord_at(max(0.0, t)).pitch_classes


def _nearest(cands: list[int], ref: float) -> int:
    return min(cands, key=lambda p: (abs(p - ref), p))


def _tones(pcs: tuple[int, ...] | list[int], low: int, high: int) -> list[int]:
    return [p for p in range(low, high + 1) if p % 12 in pcs]


def _sample(melody: list[Note], t: float) -> int | None:
    """Index of the rule melody's note at ``t``: the one sounding (or last begun), else the
    next."""
    prev = None
    for i, n in enumerate(melody):
        if n.start <= t + _EPS:
            prev = i
        else:
            return prev if prev is not None else i
    return prev


def _contour(ref: list[Note], ids: list[int | None], line_first: list[bool]) -> list[float]:
    """Target pitches: the sampled notes, with passing notes where several syllables fall on
    one note of the rule melody (a glide towards the next note; a neighbour arc when it
    repeats), never across a line break."""
    n = len(ids)
    out: list[float] = []
    i = 0
    while i < n:
        j = i
        while j + 1 < n and ids[j + 1] == ids[i] and not line_first[j + 1]:
            j += 1
        here = ref[ids[i]].pitch if ids[i] is not None else None
        if here is None:
            out += [math.nan] * (j - i + 1)
            i = j + 1
            continue
        nxt_id = ids[j + 1] if j + 1 < n and not line_first[j + 1] else None
        there = ref[nxt_id].pitch if nxt_id is not None else here
        length = j - i + 1
        for k in range(length):
            if there != here:
                out.append(here + (there - here) * k / length)
            else:
                out.append(here + (1.6 if length >= 3 and k % 2 == 1 else 0.0))
        i = j + 1
    return out


def _pitch_line(plan: Plan, low: int, high: int, ref: list[Note], ref_start: float,
                s: SectionPlan, timed: list[tuple[Syllable, float, float]],
                stanza_end: list[bool], line_first: list[bool]) -> list[int]:
    """Pitches for a section's syllables from the rule melody of its kind, harmonised.

    The rule melody's contour (its motifs, tessitura and cadences) is sampled at each
    syllable's onset, at the same offset in the first section of the kind, so a kind sings the
    same tune every time. Then: stressed, strong-beat and long notes become chord tones of the
    chord sounding there; every note stays in the scale and the voice's range; leaps inside a
    line stay within a fifth (an octave between lines); each line ends on a chord tone and the
    stanza on the tonic (or the chord's root when the chord has no tonic).
    """
    scale = set(plan.key.scale)
    m = _meter(plan)
    out: list[int] = []
    prev: int | None = None
    centre = (low + high) / 2
    ids = [_sample(ref, ref_start + max(0.0, t0 - s.start)) for _, t0, _ in timed]
    contour = _contour(ref, ids, line_first)
    for i, (syl, t0, t1) in enumerate(timed):
        raw = contour[i]
        target = raw if not math.isnan(raw) else (prev if prev is not None else centre)
        while target > high:
            target -= 12
        while target < low:
            target += 12
        pcs = _chord_pcs(plan, t0)
        structural = syl.stressed or _level(m, t0) == 3 or (t1 - t0) >= 1.5 * m.beat - _EPS
        limit = 12 if line_first[i] else 7
        if prev is not None and abs(target - prev) > limit:
            target = target - 12 * round((target - prev) / 12)
            target = min(max(target, low), high)
        if stanza_end[i]:
            tonic = plan.key.tonic
            goal = (tonic,) if tonic in pcs else (pcs[0],)
            cands = _tones(goal, low, high)
        elif structural or syl.line_end:
            cands = _tones(pcs, low, high)
        else:
            cands = [p for p in range(low, high + 1) if p % 12 in scale] or \
                list(range(low, high + 1))
        if prev is not None:
            near = [p for p in cands if abs(p - prev) <= limit]
            cands = near or cands
        p = _nearest(cands, target if prev is None else 0.8 * target + 0.2 * prev)
        out.append(p)
        prev = p
    return out


# ----------------------------------------------------------------------------------------------
# The vocal line


def write_vocal_line(plan: Plan, part: PartSpec, lyrics: Lyrics, *,
                     melisma: bool = False) -> tuple[Note, ...]:
    """Notes for the lyrics over the plan, each carrying its syllable in ``Note.lyric``.

    Stanzas go to sections as :func:`layout_lyrics` says; each line is a phrase (2 or 4 bars
    by its length) whose rhythm puts stressed syllables on strong beats and unstressed ones
    between, at a pace set by the syllable count, with a long note at the line's end and a
    breath (a rest) before the next line; pitches follow the rule melody's contour for the
    section kind (:func:`~tunecraft.compose.melody.write_melody`) retimed to the syllables and
    harmonised (see :func:`_pitch_line`), inside ``part.low``-``part.high``. The same stanza in
    the same kind of section gets the same notes, so every chorus is the same chorus.

    One note per syllable; with ``melisma`` a line's last syllable, when held two beats or more,
    is sung on three notes (the note, the step above, the note again); the lyric is on the
    first of them. Raises :class:`~tunecraft.errors.ParameterError` when a stanza cannot fit
    its section even in sixteenth notes.
    """
    from .melody import write_melody

    if not lyrics.stanzas:
        raise ParameterError("the lyrics are empty: there is no word to sing")
    layout = layout_lyrics(plan, lyrics, part=part)
    m = _meter(plan)
    low, high = part.low, part.high
    if high - low < 7:
        raise ParameterError(f"the voice's range {low}-{high} is too narrow for a tune")
    ref_part = replace(part, sections=None)
    melody = list(write_melody(plan, ref_part))
    first_of: dict[str, SectionPlan] = {}
    for s in plan.sections:
        first_of.setdefault(s.kind, s)
    notes: list[Note] = []
    floor = 0.0
    # (kind, stanza, bars) -> the first section so set and its events
    cache: dict[tuple[str, int, int],
                tuple[SectionPlan, list[tuple[float, float, int, Syllable, bool]]]] = {}
    for s in plan.sections:
        idx = layout.stanza_for(s.name)
        if idx is None:
            continue
        stanza = lyrics.stanzas[idx]
        key = (s.kind, idx, s.bars)
        # Same stanza, same kind and length (and the same chords): the same notes, shifted.
        events: list[tuple[float, float, int, Syllable, bool]] = []
        if key in cache and _same_chords(plan, cache[key][0], s):
            base = cache[key][0].start
            events = [(a - base + s.start, b - base + s.start, p, syl, last)
                      for a, b, p, syl, last in cache[key][1]]
            if events and events[0][0] < floor - _EPS:
                events = []
        if not events:
            events = _set_stanza(plan, s, stanza, m, low, high, melody, first_of[s.kind], floor)
            cache.setdefault(key, (s, events))
        vel_base = 62 + 36 * s.energy
        for a, b, p, syl, line_last in events:
            vel = int(min(118, max(35, vel_base + (8 if syl.stressed else 0)
                                   - (4 if line_last else 0))))
            text = lyric_text(syl)
            if melisma and syl.line_end and b - a >= 2.0 - _EPS:
                up = next(q for q in range(p + 1, p + 4) if q % 12 in plan.key.scale)
                up = up if up <= high else p
                d = b - a
                notes += [Note(p, a, d / 4, vel, text), Note(up, a + d / 4, d / 4, vel - 4),
                          Note(p, a + d / 2, d / 2, vel - 6)]
            else:
                notes.append(Note(p, a, b - a, vel, text))
        if events:
            floor = events[-1][1]
    notes.sort(key=lambda n: n.start)
    out: list[Note] = []
    for i, n in enumerate(notes):
        end = min(n.end, plan.length, notes[i + 1].start if i + 1 < len(notes) else plan.length)
        if end - n.start < 1 / 32:
            raise ParameterError("the lyrics do not fit the piece; make it longer with "
                                 "--duration")
        out.append(replace(n, duration=end - n.start))
    return tuple(out)


def _same_chords(plan: Plan, a: SectionPlan, b: SectionPlan) -> bool:
    ca = [(c.start - a.start, c.duration, c.root, c.quality) for c in plan.chords_in(a)]
    cb = [(c.start - b.start, c.duration, c.root, c.quality) for c in plan.chords_in(b)]
    return ca == cb


def _set_stanza(plan: Plan, s: SectionPlan, stanza: Stanza, m: _Meter, low: int, high: int,
                melody: list[Note], ref: SectionPlan, floor: float
                ) -> list[tuple[float, float, int, Syllable, bool]]:
    hook = stanza.kind == "chorus" or s.kind in ("chorus", "drop")
    slots = _stanza_slots(list(stanza.lines), s, m, repeat=hook,
                          label=f"the {stanza.kind} \"{_short(stanza)}\"")
    timed: list[tuple[Syllable, float, float]] = []
    stanza_end: list[bool] = []
    line_first: list[bool] = []
    for k, (line, a, b, pace) in enumerate(slots):
        rhythm = _line_rhythm(line, m, a, b, pace, floor)
        for j, (syl, (t0, t1)) in enumerate(zip(line, rhythm, strict=True)):
            timed.append((syl, t0, t1))
            stanza_end.append(k == len(slots) - 1 and j == len(line) - 1)
            line_first.append(j == 0)
        floor = rhythm[-1][1]
    ref_notes = [n for n in melody if ref.start - _EPS <= n.start < ref.end]
    pitches = _pitch_line(plan, low, high, ref_notes, ref.start, s, timed, stanza_end,
                          line_first)
    return [(t0, t1, p, syl, syl.line_end) for (syl, t0, t1), p in zip(timed, pitches,
                                                                       strict=True)]
