"""Reading the vocabulary files of ``understand/data`` (see ``data/FORMAT.md``), checked.

Each file is validated as it is read; a mistake is a :class:`VocabularyError` whose message
names the file, the entry and the key ("understand/data/instruments.toml: [violin].program is
200, not a General MIDI program 0-127"), as the style loader does for style files.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Mapping
from functools import cache
from typing import Any

from ..errors import ParameterError

__all__ = ["FILES", "VocabularyError", "read_vocabulary"]

FILES = ("genres.toml", "instruments.toml", "words.toml", "ensembles.toml")

#: The sections of words.toml that map ids to entries with words.
WORD_SECTIONS = ("tempo", "mood", "energy", "density", "change", "structure", "context")
FUNCTION_LISTS = ("alone", "filler", "intensifier", "negation", "performer", "postfix_negation",
                  "role_arp", "role_bass", "role_chords", "role_lead", "role_pad")


class VocabularyError(ParameterError):
    """A vocabulary file breaks the format: the message names the file, the entry and the key."""


class _Check:
    def __init__(self, name: str) -> None:
        self.label = f"understand/data/{name}"

    def fail(self, where: str, problem: str) -> VocabularyError:
        return VocabularyError(f"{self.label}: {where} {problem}" if where
                               else f"{self.label}: {problem}")

    def table(self, value: Any, where: str) -> Mapping[str, Any]:
        if not isinstance(value, Mapping):
            raise self.fail(where, f"must be a table, not {type(value).__name__}")
        return value

    def keys(self, entry: Mapping[str, Any], where: str, required: set[str],
             optional: set[str] | frozenset[str] = frozenset()) -> None:
        for k in sorted(required - set(entry)):
            raise self.fail(f"{where}.{k}", "is missing")
        for k in sorted(set(entry) - required - set(optional)):
            known = ", ".join(sorted(required | set(optional)))
            raise self.fail(f"{where}.{k}", f"is not a known key (known: {known})")

    def words(self, value: Any, where: str, *, empty: bool = False) -> None:
        if not isinstance(value, list) or not all(isinstance(w, str) and w.strip()
                                                  for w in value):
            raise self.fail(where, "must be a list of words (non-empty strings)")
        if not value and not empty:
            raise self.fail(where, "is empty")

    def number(self, value: Any, where: str, lo: float, hi: float) -> None:
        if isinstance(value, bool) or not isinstance(value, (int, float)) \
                or not lo <= value <= hi:
            raise self.fail(where, f"is {value!r}, not a number from {lo:g} to {hi:g}")

    def band(self, value: Any, where: str, lo: float, hi: float) -> None:
        if not isinstance(value, list) or len(value) != 2:
            raise self.fail(where, f"is {value!r}, not a pair [low, high]")
        for i, v in enumerate(value):
            self.number(v, f"{where}[{i}]", lo, hi)
        if value[0] > value[1]:
            raise self.fail(where, f"is {value!r}: low is above high")

    def one_of(self, value: Any, where: str, choices: Any, what: str) -> None:
        if value not in choices:
            raise self.fail(where, f"is {value!r}, not {what}")


def _roles() -> tuple[str, ...]:
    from .spec import ROLES

    return ROLES


def _genres(c: _Check, data: Mapping[str, Any]) -> None:
    for sid, entry in data.items():
        where = f"[{sid}]"
        entry = c.table(entry, where)
        c.keys(entry, where, set(), {"strong", "weak"})
        for k in ("strong", "weak"):
            if k in entry:
                c.words(entry[k], f"{where}.{k}", empty=True)


def _instruments(c: _Check, data: Mapping[str, Any]) -> None:
    for name, entry in data.items():
        where = f"[{name}]"
        entry = c.table(entry, where)
        c.keys(entry, where, {"program", "role"}, {"words", "drum", "generic", "negates"})
        p = entry["program"]
        if isinstance(p, bool) or not isinstance(p, int) or not 0 <= p <= 127:
            raise c.fail(f"{where}.program", f"is {p!r}, not a General MIDI program 0-127")
        c.one_of(entry["role"], f"{where}.role", _roles(), f"a role ({', '.join(_roles())})")
        for k in ("drum", "generic"):
            if k in entry and not isinstance(entry[k], bool):
                raise c.fail(f"{where}.{k}", f"is {entry[k]!r}; use true or false")
        for k in ("words", "negates"):
            if k in entry:
                c.words(entry[k], f"{where}.{k}", empty=True)


#: What a context word may change in how the tune is written (a style's ``[melody]`` keys),
#: and the bounds of each.
MELODY_WRITING = {"range": (5, 36), "step_probability": (0, 1), "max_leap": (2, 19),
                  "density": (0.1, 3), "syncopation": (0, 1), "rest_probability": (0, 1),
                  "repetition": (0, 1)}


def _melody_writing(c: _Check, table: Any, where: str) -> None:
    table = c.table(table, where)
    c.keys(table, where, set(), set(MELODY_WRITING))
    for k, (lo, hi) in MELODY_WRITING.items():
        if k in table:
            c.number(table[k], f"{where}.{k}", lo, hi)


def _words(c: _Check, data: Mapping[str, Any]) -> None:
    from ..styles import style_ids

    instruments = _cached("instruments.toml")  # looked up only: no copy
    styles = style_ids()
    allowed = {
        "tempo": ({"band", "words"}, {"very"}), "mood": ({"valence", "arousal", "words"}, set()),
        "energy": ({"words"}, {"energy", "density"}), "density": ({"density", "words"}, set()),
        "change": ({"words"}, {"tempo"}), "structure": ({"words"}, set()),
        "context": ({"words"}, {"kind", "style", "tempo", "instruments", "energy", "density",
                                "melody"}),
    }
    for section in (*WORD_SECTIONS, "function", "language", "mood_style",
                    "mood_style_acoustic"):
        if section not in data:
            raise c.fail(f"[{section}]", "is missing")
    for section in WORD_SECTIONS:
        required, optional = allowed[section]
        for eid, entry in c.table(data[section], f"[{section}]").items():
            where = f"[{section}.{eid}]"
            entry = c.table(entry, where)
            c.keys(entry, where, required, optional)
            c.words(entry["words"], f"{where}.words")
            for k in ("band", "very"):
                if k in entry:
                    c.band(entry[k], f"{where}.{k}", 20, 300)
            if section == "context" and "tempo" in entry:
                c.band(entry["tempo"], f"{where}.tempo", 20, 300)
            if section == "context" and "melody" in entry:
                _melody_writing(c, entry["melody"], f"{where}.melody")
            for k in ("valence", "arousal", "energy", "density"):
                if k in entry:
                    c.number(entry[k], f"{where}.{k}", -1, 1)
            if "style" in entry:
                c.one_of(entry["style"], f"{where}.style", styles, "a style file's id")
            if section == "change" and "tempo" in entry:
                c.one_of(entry["tempo"], f"{where}.tempo", data["tempo"], "a [tempo] id")
            for i, name in enumerate(entry.get("instruments", ())):
                c.one_of(name, f"{where}.instruments[{i}]", instruments,
                         "an instrument of instruments.toml")
    fn = c.table(data["function"], "[function]")
    c.keys(fn, "[function]", set(FUNCTION_LISTS))
    for k in FUNCTION_LISTS:
        c.words(fn[k], f"[function].{k}")
    lang = c.table(data["language"], "[language]")
    c.keys(lang, "[language]", {"en", "es", "pt"})
    for k in ("en", "es", "pt"):
        c.words(lang[k], f"[language].{k}")
    for section in ("mood_style", "mood_style_acoustic"):
        for mood, sid in c.table(data[section], f"[{section}]").items():
            c.one_of(mood, f"[{section}].{mood}", data["mood"], "a [mood] id")
            c.one_of(sid, f"[{section}].{mood}", styles, "a style file's id")


def _ensembles(c: _Check, data: Mapping[str, Any]) -> None:
    from ..styles import style_ids
    from ..styles.model import COMP_PATTERNS

    instruments = _cached("instruments.toml")  # looked up only: no copy
    for eid, entry in data.items():
        where = f"[{eid}]"
        entry = c.table(entry, where)
        c.keys(entry, where, {"words", "players"}, {"name", "style", "drums"})
        c.words(entry["words"], f"{where}.words")
        if "style" in entry:
            c.one_of(entry["style"], f"{where}.style", style_ids(), "a style file's id")
        if "drums" in entry and not isinstance(entry["drums"], bool):
            raise c.fail(f"{where}.drums", f"is {entry['drums']!r}; use true or false")
        players = entry["players"]
        if not isinstance(players, list) or not players:
            raise c.fail(f"{where}.players", "must be a non-empty list of player tables")
        names: set[str] = set()
        for i, player in enumerate(players):
            pw = f"{where}.players[{i}]"
            player = c.table(player, pw)
            c.keys(player, pw, {"instrument", "role"}, {"name", "pattern", "register"})
            c.one_of(player["instrument"], f"{pw}.instrument", instruments,
                     "an instrument of instruments.toml")
            c.one_of(player["role"], f"{pw}.role", _roles(), f"a role ({', '.join(_roles())})")
            if "pattern" in player:
                c.one_of(player["pattern"], f"{pw}.pattern", COMP_PATTERNS,
                         "a comping pattern of styles/FORMAT.md")
            if "register" in player:
                c.band(player["register"], f"{pw}.register", 0, 127)
            name = player.get("name", player["instrument"])
            if name in names:
                raise c.fail(f"{pw}.name", f"{name!r} is given to two players; name them apart")
            names.add(name)


_CHECKS: dict[str, Callable[[_Check, Mapping[str, Any]], None]] = {
    "genres.toml": _genres, "instruments.toml": _instruments, "words.toml": _words,
    "ensembles.toml": _ensembles,
}


def parse_vocabulary(name: str, text: str) -> dict[str, Any]:
    """Validate the text of one vocabulary file (``name`` as in :data:`FILES`)."""
    c = _Check(name)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise c.fail("", f"is not valid TOML ({exc})") from None
    _CHECKS[name](c, data)
    return data


@cache
def _cached(name: str) -> dict[str, Any]:
    from importlib import resources

    if name not in _CHECKS:
        raise VocabularyError(f"understand/data/{name} is not a vocabulary file "
                              f"({', '.join(FILES)})")
    text = resources.files("tunecraft.understand").joinpath("data", name).read_text("utf-8")
    return parse_vocabulary(name, text)


def read_vocabulary(name: str) -> dict[str, Any]:
    """The checked contents of one vocabulary file (a fresh copy: callers may change it)."""
    import copy

    return copy.deepcopy(_cached(name))
