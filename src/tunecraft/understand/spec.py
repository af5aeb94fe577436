"""What a request asks for: :class:`MusicSpec`, with the words behind every attribute.

All types are frozen dataclasses holding tuples. ``MusicSpec.evidence`` maps each attribute name
to an :class:`Evidence` saying which words of the prompt set it, or that it is a default or a
clamp. ``to_dict``/``from_dict`` give a JSON-ready round trip.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from ..errors import ParameterError

SCHEMA = "tunecraft.spec/1"

ROLES: tuple[str, ...] = ("lead", "harmony", "chords", "bass", "drums", "pad", "arp", "counter",
                          "strings", "percussion", "vocal")
SOURCES: tuple[str, ...] = ("explicit", "inferred", "default")
LANGUAGES: tuple[str, ...] = ("en", "es", "pt")

# Documented ranges of explicit values (an explicit value outside them is a ParameterError).
BPM_RANGE = (20.0, 300.0)
DURATION_RANGE = (5.0, 1200.0)  # 5 seconds to 20 minutes
MAX_PROMPT_CHARS = 10_000


@dataclass(frozen=True, slots=True)
class Evidence:
    """Why an attribute has its value.

    Attributes:
        value: the value it was given (JSON-ready).
        words: the words of the prompt (normalised: lower case, no accents) that set it.
        source: "explicit" (said in the prompt or given as an option), "inferred" (implied by
            other words: a style, a mood, a place) or "default" (nothing said).
        note: a plain sentence for the explanation, e.g. a clamp or how a conflict was resolved.
    """

    value: Any
    words: tuple[str, ...] = ()
    source: str = "default"
    note: str = ""

    def __post_init__(self) -> None:
        if self.source not in SOURCES:
            raise ParameterError(f"evidence source {self.source!r} must be one of "
                                 f"{', '.join(SOURCES)}")
        object.__setattr__(self, "words", tuple(self.words))

    def to_dict(self) -> dict[str, Any]:
        return {"value": _jsonable(self.value), "words": list(self.words), "source": self.source,
                "note": self.note}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Evidence:
        return cls(value=data.get("value"), words=tuple(data.get("words", ())),
                   source=data.get("source", "default"), note=data.get("note", ""))


@dataclass(frozen=True, slots=True)
class InstrumentRequest:
    """One instrument part asked for (or implied).

    ``program`` is the General MIDI program 0-127 (0 for a drum kit, with ``is_drum``); ``role``
    one of :data:`ROLES`; ``words`` the prompt words that asked for it (empty when implied);
    ``source`` "explicit" or "inferred". A player of a named ensemble may also say how it plays:
    ``pattern`` (a comping pattern, or "voice": one voice of a chorale texture) and
    ``register`` (lowest and highest MIDI note); otherwise the style decides.
    """

    name: str
    program: int
    is_drum: bool = False
    role: str = "lead"
    words: tuple[str, ...] = ()
    source: str = "explicit"
    pattern: str | None = None
    register: tuple[int, int] | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.program, int) or not 0 <= self.program <= 127:
            raise ParameterError(f"instrument {self.name!r}: program {self.program!r} is "
                                 "outside General MIDI 0-127")
        if self.role not in ROLES:
            raise ParameterError(f"instrument {self.name!r}: role {self.role!r} must be one of "
                                 f"{', '.join(ROLES)}")
        if self.source not in SOURCES:
            raise ParameterError(f"instrument {self.name!r}: source {self.source!r} is unknown")
        object.__setattr__(self, "words", tuple(self.words))
        if self.register is not None:
            low, high = (int(x) for x in self.register)
            if not 0 <= low < high <= 127:
                raise ParameterError(f"instrument {self.name!r}: register {self.register!r} "
                                     "must be two MIDI notes, low below high")
            object.__setattr__(self, "register", (low, high))

    @property
    def family(self) -> str:
        """The General MIDI family ("piano", "guitar", "bass"...), or "drums"."""
        if self.is_drum:
            return "drums" if self.role == "drums" else "percussion"
        from ..gm import program_family

        return program_family(self.program)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"name": self.name, "program": self.program,
                                "is_drum": self.is_drum, "role": self.role,
                                "words": list(self.words), "source": self.source}
        if self.pattern is not None:
            data["pattern"] = self.pattern
        if self.register is not None:
            data["register"] = list(self.register)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> InstrumentRequest:
        register = data.get("register")
        return cls(name=data["name"], program=int(data["program"]),
                   is_drum=bool(data.get("is_drum", False)), role=data.get("role", "lead"),
                   words=tuple(data.get("words", ())), source=data.get("source", "explicit"),
                   pattern=data.get("pattern"),
                   register=tuple(register) if register is not None else None)


@dataclass(frozen=True, slots=True)
class MusicSpec:
    """A request, fully resolved. See :func:`tunecraft.understand.parse`.

    Attributes:
        prompt: the text as given.
        language: "en", "es" or "pt".
        style: a style id: the name of a file in ``tunecraft/styles/data``.
        genres: every genre word found, in prompt order.
        moods: mood ids found ("calm", "sad", "epic"...), in prompt order.
        bpm: tempo in quarter notes per minute.
        key_tonic: pitch class 0-11 of the tonic; ``mode`` "major" or "minor".
        meter: (numerator, denominator).
        duration: length in seconds.
        instruments: the parts, explicit ones first, then those implied by the style.
        excluded: instrument names, families or roles excluded by a negation.
        drums: whether a drum kit plays.
        energy, density: 0..1.
        structure: section words asked for, in the order written.
        context: places, eras, skill levels and imagery words found.
        ensemble: a named ensemble ("string_quartet", "satb_choir"...; see
            ``data/ensembles.toml``) whose players are the instruments, or None.
        changes: changes relative to existing music ("faster", "slower", "louder",
            "softer"), in prompt order; what they change is the caller's business.
        seed: the random seed, or None.
        evidence: attribute name -> :class:`Evidence`.
    """

    prompt: str
    language: str = "en"
    style: str = "pop"
    genres: tuple[str, ...] = ()
    moods: tuple[str, ...] = ()
    bpm: float = 120.0
    key_tonic: int = 0
    mode: str = "major"
    meter: tuple[int, int] = (4, 4)
    duration: float = 30.0
    instruments: tuple[InstrumentRequest, ...] = ()
    excluded: tuple[str, ...] = ()
    drums: bool = True
    energy: float = 0.5
    density: float = 0.5
    structure: tuple[str, ...] = ()
    context: tuple[str, ...] = ()
    ensemble: str | None = None
    changes: tuple[str, ...] = ()
    seed: int | None = None
    evidence: Mapping[str, Evidence] = field(default_factory=dict)

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        known = _style_ids()
        if self.style not in known:
            raise ParameterError(f"style {self.style!r} is unknown (known: {', '.join(known)})")
        if self.language not in LANGUAGES:
            raise ParameterError(f"language {self.language!r} must be one of en, es, pt")
        if self.mode not in ("major", "minor"):
            raise ParameterError(f"mode {self.mode!r} must be 'major' or 'minor'")
        if not isinstance(self.key_tonic, int) or not 0 <= self.key_tonic <= 11:
            raise ParameterError(f"key tonic {self.key_tonic!r} must be a pitch class 0-11")
        for name in ("energy", "density"):
            v = getattr(self, name)
            if not 0.0 <= v <= 1.0:
                raise ParameterError(f"{name} {v!r} must be between 0 and 1")
        set_(self, "bpm", float(self.bpm))
        set_(self, "duration", float(self.duration))
        set_(self, "meter", (int(self.meter[0]), int(self.meter[1])))
        for name in ("genres", "moods", "instruments", "excluded", "structure", "context",
                     "changes"):
            set_(self, name, tuple(getattr(self, name)))
        set_(self, "evidence", MappingProxyType(dict(self.evidence)))

    # -- conveniences -------------------------------------------------------------------------

    @property
    def key_name(self) -> str:
        """"D minor", "Bb major"... (conventional spelling)."""
        from ..score.types import KeySignature

        return KeySignature(0.0, self.key_tonic, self.mode).name

    @property
    def explicit_instruments(self) -> tuple[InstrumentRequest, ...]:
        return tuple(i for i in self.instruments if i.source == "explicit")

    def instrument_for(self, role: str) -> InstrumentRequest | None:
        """The first instrument playing ``role``, or None."""
        return next((i for i in self.instruments if i.role == role), None)

    # -- serialisation ------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (schema ``tunecraft.spec/1``; ``ensemble`` and ``changes``
        appear when the request names them)."""
        data: dict[str, Any] = {
            "schema": SCHEMA,
            "prompt": self.prompt,
            "language": self.language,
            "style": self.style,
            "genres": list(self.genres),
            "moods": list(self.moods),
            "bpm": self.bpm,
            "key_tonic": self.key_tonic,
            "mode": self.mode,
            "key": self.key_name,
            "meter": list(self.meter),
            "duration": self.duration,
            "instruments": [i.to_dict() for i in self.instruments],
            "excluded": list(self.excluded),
            "drums": self.drums,
            "energy": self.energy,
            "density": self.density,
            "structure": list(self.structure),
            "context": list(self.context),
            "seed": self.seed,
            "evidence": {k: v.to_dict() for k, v in self.evidence.items()},
        }
        if self.ensemble is not None:
            data["ensemble"] = self.ensemble
        if self.changes:
            data["changes"] = list(self.changes)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> MusicSpec:
        if data.get("schema") != SCHEMA:
            raise ParameterError(f"not a tunecraft spec (schema {data.get('schema')!r}, "
                                 f"expected {SCHEMA!r})")
        try:
            return cls(
                prompt=data["prompt"], language=data["language"], style=data["style"],
                genres=tuple(data["genres"]), moods=tuple(data["moods"]), bpm=data["bpm"],
                key_tonic=int(data["key_tonic"]), mode=data["mode"],
                meter=tuple(data["meter"]), duration=data["duration"],
                instruments=tuple(InstrumentRequest.from_dict(i) for i in data["instruments"]),
                excluded=tuple(data["excluded"]), drums=bool(data["drums"]),
                energy=float(data["energy"]), density=float(data["density"]),
                structure=tuple(data["structure"]), context=tuple(data["context"]),
                ensemble=data.get("ensemble"), changes=tuple(data.get("changes", ())),
                seed=data.get("seed"),
                evidence={k: Evidence.from_dict(v) for k, v in data.get("evidence", {}).items()},
            )
        except (KeyError, TypeError, ValueError, IndexError) as exc:
            if isinstance(exc, ParameterError):
                raise
            raise ParameterError(f"spec data is incomplete or malformed ({exc!r})") from None


#: Roles that accompany: a named instrument in one of them makes a small group complete.
ACCOMPANYING_ROLES = frozenset({"chords", "harmony", "bass", "strings", "pad", "arp"})


def small_group(instruments: Iterable[InstrumentRequest]) -> bool:
    """Whether the named instruments are the whole band: two or more pitched instruments, one
    of which accompanies ("piano and cello", "violin and guitar"). Then nothing pitched is added
    (the style's drums may still play). "Choir and timpani" in an orchestral style is not: it
    names soloists, and the style's orchestra plays around them.

    ``understand.parse`` (what explain shows) and ``compose.ensemble`` (what plays) both ask
    this, so what explain says is what the score has.
    """
    named = [r for r in instruments if r.source == "explicit" and not r.is_drum]
    return len(named) >= 2 and any(r.role in ACCOMPANYING_ROLES for r in named)


def _jsonable(value: Any) -> Any:
    if isinstance(value, tuple | list):
        return [_jsonable(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return value


def _style_ids() -> tuple[str, ...]:
    """The styles: one data file each (tunecraft/styles/data/*.toml)."""
    from ..styles import style_ids

    return style_ids()
