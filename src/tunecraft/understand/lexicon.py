"""The multilingual vocabulary: data files under ``understand/data`` turned into a phrase index.

Text and vocabulary are normalised the same way (:func:`normalize`: lower case, accents
stripped, apostrophes dropped, hyphens and slashes to spaces) and split into tokens
(:func:`tokenize`). The index maps a tuple of tokens to the :class:`Hit` objects it stands for;
the matcher tries the longest phrase first, so "drum and bass" is a genre and not two
instruments. Loading happens once, on first use (``functools.cache``).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any

_TOKEN_RE = re.compile(r"[a-z0-9]+(?:&[a-z0-9]+)*%?|&|[.,;:!?()]")
_APOSTROPHES = str.maketrans({"'": None, "\u2019": None, "\u2018": None, "`": None,
                              "\u00b4": None})
_SPACERS = str.maketrans({"-": " ", "\u2010": " ", "\u2011": " ", "\u2013": " ",
                          "\u2014": " ", "_": " ", "/": " ", "+": " ", '"': " ",
                          "\u201c": " ", "\u201d": " "})


def strip_accents(text: str) -> str:
    """"batería" -> "bateria", keeping case and every other character; "ß" and such stay."""
    out = []
    for ch in text:
        decomposed = unicodedata.normalize("NFKD", ch)
        base = "".join(c for c in decomposed if not unicodedata.combining(c))
        out.append(base if len(base) == 1 else ch)
    return "".join(out)


def normalize(text: str) -> str:
    """Lower case, no accents, no apostrophes ("80's" -> "80s"); the same length per character
    except for the dropped apostrophes. Hyphens are kept (see :func:`tokenize`)."""
    s = strip_accents(text.translate(_APOSTROPHES))
    return "".join(c.lower() if len(c.lower()) == 1 else c for c in s)


def tokenize(text: str) -> list[tuple[str, int, int]]:
    """Tokens of already normalised text with their spans: words, numbers, "&", punctuation."""
    spaced = text.translate(_SPACERS)
    return [(m.group(), m.start(), m.end()) for m in _TOKEN_RE.finditer(spaced)]


def phrase_key(phrase: str) -> tuple[str, ...]:
    return tuple(t for t, _, _ in tokenize(normalize(phrase)) if t not in ".,;:!?()")


@dataclass(frozen=True, slots=True)
class Hit:
    """What a phrase means: ``kind`` is one of genre, instrument, tempo, mood, energy, density,
    structure, context, exclude; ``id`` the canonical value; ``data`` the entry's table."""

    kind: str
    id: str
    strength: float = 1.0
    data: Any = field(default=None, compare=False, hash=False)


@dataclass(frozen=True, slots=True)
class Lexicon:
    index: dict[tuple[str, ...], tuple[Hit, ...]]
    max_len: int
    instruments: dict[str, dict[str, Any]]
    styles: Mapping[str, dict[str, Any]]
    tempo: dict[str, dict[str, Any]]
    moods: dict[str, dict[str, Any]]
    ensembles: dict[str, dict[str, Any]]
    context: dict[str, dict[str, Any]]
    function: dict[str, frozenset[str]]
    function_phrases: dict[str, frozenset[tuple[str, ...]]]
    language: dict[str, frozenset[str]]

    def lookup(self, tokens: tuple[str, ...]) -> tuple[Hit, ...]:
        """Hits for a token tuple, trying the last word without a plural "s"/"es"."""
        hits = self.index.get(tokens)
        if hits:
            return hits
        last = tokens[-1]
        for cut in ("s", "es"):
            if len(last) > len(cut) + 2 and last.endswith(cut) and not last.endswith("ss"):
                hits = self.index.get((*tokens[:-1], last[: -len(cut)]))
                if hits:
                    return hits
        return ()


def _read(name: str) -> dict[str, Any]:
    from .vocabulary import read_vocabulary

    return read_vocabulary(name)


def _inner_hits(index: dict[tuple[str, ...], list[Hit]], key: tuple[str, ...]
                ) -> Iterator[tuple[int, Hit]]:
    """The hits of every phrase inside ``key`` but ``key`` itself, left to right and shortest
    first, each with where its phrase ends in ``key``."""
    for a in range(len(key)):
        for b in range(a + 1, len(key) + 1):
            if (a, b) != (0, len(key)):
                for h in list(index.get(key[a:b], ())):
                    yield b, h


@cache
def load() -> Lexicon:
    """Load every data file once and build the phrase index."""
    index: dict[tuple[str, ...], list[Hit]] = {}

    def add(phrase: str, hit: Hit, *, first: bool = False) -> None:
        key = phrase_key(phrase)
        if not key:
            return
        bucket = index.setdefault(key, [])
        if all((h.kind, h.id) != (hit.kind, hit.id) for h in bucket):
            bucket.insert(0, hit) if first else bucket.append(hit)

    genres = _read("genres.toml")
    for style, entry in genres.items():
        for w in entry.get("strong", ()):
            add(w, Hit("genre", style, 1.0))
        for w in entry.get("weak", ()):
            add(w, Hit("genre", style, 0.5))

    instruments = _read("instruments.toml")
    for name, entry in instruments.items():
        entry.setdefault("drum", False)
        entry.setdefault("negates", [name])
        for w in [name, *entry.get("words", ())]:
            add(w, Hit("instrument", name, 1.0, entry))

    words = _read("words.toml")
    for tid, entry in words["tempo"].items():
        for w in entry["words"]:
            add(w, Hit("tempo", tid, 1.0, entry))
    for mid, entry in words["mood"].items():
        for w in entry["words"]:
            add(w, Hit("mood", mid, 1.0, entry))
    for eid, entry in words["energy"].items():
        for w in entry["words"]:
            add(w, Hit("energy", eid, 1.0, entry))
    for did, entry in words["density"].items():
        for w in entry["words"]:
            add(w, Hit("density", did, 1.0, entry))
    for sid, entry in words["structure"].items():
        for w in entry["words"]:
            add(w, Hit("structure", sid, 1.0, entry))
    for cid, entry in words["context"].items():
        for w in entry["words"]:
            add(w, Hit("context", cid, 1.0, entry))
    ensembles = _read("ensembles.toml")
    for eid, entry in ensembles.items():
        entry.setdefault("name", eid.replace("_", " "))
        entry.setdefault("drums", False)
        for w in entry["words"]:
            add(w, Hit("ensemble", eid, 1.0, entry))
            # "jazz orchestra", "symphonic orchestra": the genre inside still names the genre.
            for _, h in _inner_hits(index, phrase_key(w)):
                if h.kind == "genre":
                    add(w, h)
    for cid, entry in words["change"].items():
        for w in entry["words"]:
            add(w, Hit("change", cid, 1.0, entry))
            if "tempo" in entry and not any(h.kind == "tempo"
                                            for h in index.get(phrase_key(w), ())):
                tid = entry["tempo"]
                add(w, Hit("tempo", tid, 1.0, words["tempo"][tid]))
    for w in ("instrumental", "instrumental music", "instrumental version", "no voice",
              "no vocals", "no singer", "no voices", "no singing", "vocal free", "vocalless",
              "without vocals", "karaoke", "sin voz", "sem voz", "sin letra", "sem letra",
              "sin vocales", "sem vocais", "no lyrics", "instrumental track"):
        add(w, Hit("exclude", "vocal", 1.0, {"negates": ["vocal"]}))
    for w in ("drumless", "no percussion", "beatless", "no beat", "no beats", "without percussion",
              "a cappella", "acapella", "a capella", "a cappella choir", "sin percusion",
              "sem percussao",
              "sin bateria", "sem bateria", "no drums", "without drums", "no drum"):
        negates = ["drums"] if "bateria" in w or "drum" in w else ["drums", "percussion"]
        if "cappella" in w or "capella" in w:
            negates = ["drums", "percussion"]
        add(w, Hit("exclude", "drums", 1.0, {"negates": negates}))

    # A genre phrase that names an instrument as a modifier ("sitar music", "guitar solo",
    # "piano house") or a tempo ("slow blues") also means that instrument or tempo.
    for key, bucket in list(index.items()):
        if len(key) < 2 or not any(h.kind == "genre" for h in bucket):
            continue
        kinds = {h.kind for h in bucket}
        for end, h in _inner_hits(index, key):
            if h.kind in kinds:
                continue
            if h.kind == "tempo" or (h.kind == "instrument" and end < len(key)
                                     and not index.get(key[-1:])):
                bucket.append(h)
                kinds.add(h.kind)

    # Every style's defaults come from its file (tunecraft/styles/data/<id>.toml), read when a
    # request first needs that style (reading all 35 would cost 0.2 s of every start); a style
    # added as a file is understood too: its id, name and aliases become genre words.
    from ..styles import style_ids

    styles = _StyleDefaults(instruments)
    for sid in style_ids():
        if sid not in genres:  # genres.toml holds the words of the styles it lists
            for w in sorted(style_request(sid, instruments)["words"]):
                add(w, Hit("genre", sid, 1.0), first=True)  # its own name beats older words
    function = {k: frozenset(" ".join(phrase_key(w)) for w in v)
                for k, v in words["function"].items()}
    function_phrases = {k: frozenset(phrase_key(w) for w in v)
                        for k, v in words["function"].items()}
    language = {k: frozenset(" ".join(phrase_key(w)) for w in v)
                for k, v in words["language"].items()}
    frozen = {k: tuple(v) for k, v in index.items()}
    return Lexicon(index=frozen, max_len=max(len(k) for k in frozen), instruments=instruments,
                   styles=styles, tempo=words["tempo"], moods=words["mood"],
                   ensembles=ensembles,
                   context=words["context"], function=function,
                   function_phrases=function_phrases, language=language)


class _StyleDefaults(Mapping[str, dict[str, Any]]):
    """Style id -> its defaults (see :func:`style_request`), each read on first use."""

    def __init__(self, instruments: dict[str, dict[str, Any]]) -> None:
        self._instruments = instruments
        self._read: dict[str, dict[str, Any]] = {}

    def __getitem__(self, sid: str) -> dict[str, Any]:
        from ..styles import style_ids

        if sid not in self._read:
            if sid not in style_ids():
                raise KeyError(sid)
            self._read[sid] = style_request(sid, self._instruments)["defaults"]
        return self._read[sid]

    def __iter__(self) -> Iterator[str]:
        from ..styles import style_ids

        return iter(style_ids())

    def __len__(self) -> int:
        from ..styles import style_ids

        return len(style_ids())


def style_requests(instruments: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """:func:`style_request` for every style file."""
    from ..styles import style_ids

    return {sid: style_request(sid, instruments) for sid in style_ids()}


def style_request(sid: str, instruments: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """What understanding needs of one style file: its defaults (tempo range and default,
    meter, mode, energy, density, drums, the ensemble by role) and its words (id, name,
    aliases). The ensemble is the file's ``[request] ensemble`` when it has one, checked
    against ``instruments``; else derived from its ``[instruments]`` by General MIDI program."""
    from ..errors import ParameterError
    from ..styles import load_style
    from .spec import ROLES

    st = load_style(sid)
    ensemble = dict(st.request.ensemble)
    for role, name in ensemble.items():
        if role not in ROLES:
            raise ParameterError(f"{st.source}: request.ensemble.{role} is not a role a "
                                 f"request can name (use {', '.join(ROLES)})")
        if name not in instruments:
            raise ParameterError(f"{st.source}: request.ensemble.{role} is {name!r}, not an "
                                 "instrument of understand/data/instruments.toml")
    for name in st.request.comping:
        if name not in instruments:
            raise ParameterError(f"{st.source}: request.comping has {name!r}, not an "
                                 "instrument of understand/data/instruments.toml")
    for word, name in st.request.means.items():
        if name not in instruments:
            raise ParameterError(f"{st.source}: request.means.{word} is {name!r}, not an "
                                 "instrument of understand/data/instruments.toml")
    if not ensemble:
        by_program = {(e["program"], bool(e.get("drum"))): n for n, e in instruments.items()}
        for role, inst in st.instruments.items():
            name = by_program.get((inst.program, bool(inst.drum or role == "drums")))
            if role == "drums":
                name = "drums"
            if name is not None and role in ("lead", "chords", "harmony", "bass", "drums",
                                             "pad"):
                ensemble["chords" if role == "harmony" else role] = name
    num, den = (int(x) for x in st.meter.split("/"))
    return {
        "defaults": {"tempo": [st.tempo.min, st.tempo.max], "bpm": st.tempo.default,
                     "meter": [num, den], "mode": st.mode, "energy": st.energy,
                     "density": st.request.density, "drums": st.default_drums,
                     "ensemble": ensemble, "comping": list(st.request.comping),
                     "means": dict(st.request.means)},
        "words": {sid.replace("_", " "), st.name.lower(), *(a.lower() for a in st.aliases)},
    }


_SPANISH_LETTERS = re.compile(r"[ñ¿¡]")
_PORTUGUESE_LETTERS = re.compile(r"[ãõçâêô]")


def detect_language(text: str) -> tuple[str, tuple[str, ...]]:
    """The language of a prompt or of lyrics, "en", "es" or "pt", and the words that told.

    Stop words of ``data/words.toml`` ([language]) are counted on the normalised text; each
    letter only Spanish writes (ñ ¿ ¡) or Portuguese writes (ã õ ç â ê ô) counts three. Most
    wins; ties and text with no clue go to English. The one language detector of tunecraft.
    """
    lang = load().language
    tokens = [t for t, _, _ in tokenize(normalize(text))]
    found = {k: [t for t in tokens if t in words] for k, words in lang.items()}
    low = text.lower()
    score = {k: len(v) for k, v in found.items()}
    score["es"] += 3 * len(_SPANISH_LETTERS.findall(low))
    score["pt"] += 3 * len(_PORTUGUESE_LETTERS.findall(low))
    best = max(("en", "es", "pt"), key=lambda k: (score[k], k == "en"))
    if not score[best]:
        return "en", ()
    return best, tuple(dict.fromkeys(found[best]))
