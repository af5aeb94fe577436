"""The typed, validated form of a style file: frozen dataclasses and the vocabularies they use."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from ..errors import ParameterError
from ..score.types import TimeSignature

__all__ = [
    "BASS_CHARS",
    "COMP_PATTERNS",
    "DEFAULT_VELOCITIES",
    "DRUM_CHARS",
    "DRUM_VOICES",
    "MASTER_CHARACTERS",
    "ORNAMENTS",
    "RHYTHM_CHARS",
    "SCALES",
    "SECTION_FALLBACKS",
    "SECTION_TYPES",
    "BassPattern",
    "DrumSettings",
    "DrumVoice",
    "FormTemplate",
    "Groove",
    "HarmonySettings",
    "InstrumentDefault",
    "MelodyCharacter",
    "MixSettings",
    "Style",
    "StyleError",
    "TempoRange",
    "parse_meter",
]


class StyleError(ParameterError):
    """A style file breaks the format: the message names the file and the key."""


EMPTY: Mapping[str, Any] = MappingProxyType({})

# Section types a form, a harmony pool, a groove or a bass pattern may name.
SECTION_TYPES = frozenset({
    "intro", "verse", "pre_chorus", "chorus", "post_chorus", "bridge", "breakdown", "build",
    "drop", "solo", "interlude", "head", "a", "b", "c", "outro",
})  # fmt: skip

# Where to look when a style has nothing written for a section type (then "verse", then any).
SECTION_FALLBACKS: Mapping[str, tuple[str, ...]] = MappingProxyType({
    "intro": ("verse",),
    "verse": (),
    "pre_chorus": ("build", "verse"),
    "chorus": ("verse",),
    "post_chorus": ("chorus",),
    "bridge": ("b", "breakdown", "verse"),
    "breakdown": ("bridge", "intro"),
    "build": ("pre_chorus", "verse"),
    "drop": ("chorus",),
    "solo": ("verse",),
    "interlude": ("intro", "bridge"),
    "head": ("a", "verse"),
    "a": ("head", "verse"),
    "b": ("bridge", "chorus"),
    "c": ("b", "bridge", "chorus"),
    "outro": ("intro", "chorus"),
})  # fmt: skip

# General MIDI percussion keys by the names a groove uses (a key number also works: "70").
DRUM_VOICES: Mapping[str, int] = MappingProxyType({
    "kick": 36, "kick2": 35, "snare": 38, "snare2": 40, "rim": 37, "clap": 39,
    "hat": 42, "pedal_hat": 44, "open_hat": 46, "ride": 51, "ride_bell": 53,
    "crash": 49, "crash2": 57, "china": 52, "splash": 55,
    "tom_floor": 41, "tom_floor_high": 43, "tom_low": 45, "tom_low_mid": 47, "tom_mid": 48,
    "tom_high": 50, "tambourine": 54, "cowbell": 56, "vibraslap": 58,
    "bongo_high": 60, "bongo_low": 61, "conga_mute": 62, "conga_high": 63, "conga_low": 64,
    "timbale_high": 65, "timbale_low": 66, "agogo_high": 67, "agogo_low": 68, "cabasa": 69,
    "shaker": 70, "maracas": 70, "whistle_short": 71, "whistle_long": 72, "guiro_short": 73,
    "guiro_long": 74, "claves": 75, "woodblock_high": 76, "woodblock_low": 77,
    "cuica_mute": 78, "cuica_open": 79, "triangle_mute": 80, "triangle": 81,
})  # fmt: skip

# Drum grid characters: accent, normal, ghost, rest; "r" a two-stroke roll, "t" a three-stroke
# roll inside one step (trap hi-hat rolls, snare build-ups).
DRUM_CHARS = frozenset("xo.-rt")
DEFAULT_VELOCITIES: Mapping[str, int] = MappingProxyType({"x": 112, "o": 88, ".": 46})

# Bass grid characters (see FORMAT.md): chord degrees, octave, fifth below, approaches, dead
# note; "-" holds the note before, "_" is silence.
BASS_CHARS = frozenset("R12345678vaAx-_")

# Comping rhythm characters: a chord struck accented, normal or soft; "-" holds, "_" is silence.
RHYTHM_CHARS = frozenset("xo.-_")

# Comping patterns an instrument may name; the composer implements each.
COMP_PATTERNS = frozenset({
    "line", "block", "sustain", "pulse", "strum", "fingerpick", "arpeggio_up", "arpeggio_down",
    "arpeggio_updown", "broken", "alberti", "stabs", "skank", "montuno", "tumbao", "oompah",
    "waltz", "stride", "power", "riff", "comp", "tremolo", "pizzicato", "drone", "marcato",
    "walking", "chop", "guajeo", "counterpoint", "voice",
})  # fmt: skip

# Scales a melody may prefer, as semitones above the tonic.
SCALES: Mapping[str, tuple[int, ...]] = MappingProxyType({
    "major": (0, 2, 4, 5, 7, 9, 11),
    "minor": (0, 2, 3, 5, 7, 8, 10),
    "harmonic_minor": (0, 2, 3, 5, 7, 8, 11),
    "melodic_minor": (0, 2, 3, 5, 7, 9, 11),
    "dorian": (0, 2, 3, 5, 7, 9, 10),
    "phrygian": (0, 1, 3, 5, 7, 8, 10),
    "phrygian_dominant": (0, 1, 4, 5, 7, 8, 10),
    "lydian": (0, 2, 4, 6, 7, 9, 11),
    "mixolydian": (0, 2, 4, 5, 7, 9, 10),
    "aeolian": (0, 2, 3, 5, 7, 8, 10),
    "major_pentatonic": (0, 2, 4, 7, 9),
    "minor_pentatonic": (0, 3, 5, 7, 10),
    "blues": (0, 3, 5, 6, 7, 10),
    "major_blues": (0, 2, 3, 4, 7, 9),
    "bebop_dominant": (0, 2, 4, 5, 7, 9, 10, 11),
    "whole_tone": (0, 2, 4, 6, 8, 10),
    # Raga-like (thaat) scales of Hindustani music.
    "bilawal": (0, 2, 4, 5, 7, 9, 11),
    "yaman": (0, 2, 4, 6, 7, 9, 11),
    "khamaj": (0, 2, 4, 5, 7, 9, 10),
    "kafi": (0, 2, 3, 5, 7, 9, 10),
    "asavari": (0, 2, 3, 5, 7, 8, 10),
    "bhairavi": (0, 1, 3, 5, 7, 8, 10),
    "bhairav": (0, 1, 4, 5, 7, 8, 11),
    "todi": (0, 1, 3, 6, 7, 8, 11),
    "bhupali": (0, 2, 4, 7, 9),
    "malkauns": (0, 3, 5, 8, 10),
})  # fmt: skip

ORNAMENTS = frozenset({
    "grace", "mordent", "trill", "turn", "roll", "cut", "tap", "slide", "bend", "vibrato",
    "fall", "scoop", "glissando", "staccato", "shake", "run", "appoggiatura", "gamaka", "meend",
    "andolan", "kan", "murki", "blue_note", "ghost", "tremolo", "arpeggiated",
})  # fmt: skip

MASTER_CHARACTERS = frozenset({
    "clean", "warm", "bright", "punchy", "loud", "wide", "dark", "vintage", "lofi", "airy",
    "heavy", "natural", "intimate", "cinematic", "retro",
})  # fmt: skip


def _empty() -> Mapping[str, Any]:
    return EMPTY


def parse_meter(text: str) -> tuple[int, int]:
    """"6/8" -> (6, 8); raises ParameterError (via TimeSignature) on nonsense."""
    num, sep, den = str(text).partition("/")
    if not sep or not num.strip().isdigit() or not den.strip().isdigit():
        raise ParameterError(f"meter {text!r} must look like 4/4 or 6/8")
    ts = TimeSignature(0.0, int(num), int(den))
    return ts.numerator, ts.denominator


def meter_bar_beats(meter: str) -> float:
    num, den = parse_meter(meter)
    return num * 4 / den


def _pick(items: tuple[Any, ...], section: str, meter: str) -> Any | None:
    """The item written for ``section`` in ``meter``, following SECTION_FALLBACKS."""
    in_meter = [i for i in items if i.meter == meter]
    if not in_meter:
        return None
    seen: list[str] = []
    queue = [section]
    while queue:
        s = queue.pop(0)
        if s in seen:
            continue
        seen.append(s)
        for item in in_meter:
            if s in item.sections:
                return item
        queue.extend(SECTION_FALLBACKS.get(s, ()))
    for item in in_meter:
        if "verse" in item.sections:
            return item
    return in_meter[0]


# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TempoRange:
    """Beats per minute: the style's usual range and its default."""

    min: float
    max: float
    default: float

    def clamp(self, bpm: float) -> float:
        return min(max(bpm, self.min), self.max)


@dataclass(frozen=True, slots=True)
class HarmonySettings:
    """Chord-progression pools per mode and section type, as Roman numerals.

    ``pools[mode][section]`` is a tuple of progressions; a progression is a tuple of slots, each
    lasting ``1 / chords_per_bar(section)`` bars ("ii7 V7" shares one slot).
    """

    harmonic_rhythm: float
    harmonic_rhythm_sections: Mapping[str, float] = field(default_factory=_empty, hash=False)
    pools: Mapping[str, Mapping[str, tuple[tuple[str, ...], ...]]] = field(
        default_factory=_empty, hash=False)
    cadences: Mapping[str, tuple[tuple[str, ...], ...]] = field(default_factory=_empty, hash=False)

    def chords_per_bar(self, section: str) -> float:
        return self.harmonic_rhythm_sections.get(section, self.harmonic_rhythm)

    def progressions(self, section: str, mode: str = "major") -> tuple[tuple[str, ...], ...]:
        """The pool for ``section`` in ``mode`` (falling back along SECTION_FALLBACKS)."""
        by_section = self.pools.get(mode) or self.pools.get("major") or EMPTY
        seen: list[str] = []
        queue = [section]
        while queue:
            s = queue.pop(0)
            if s in seen:
                continue
            seen.append(s)
            if s in by_section:
                return by_section[s]
            queue.extend(SECTION_FALLBACKS.get(s, ()))
        return by_section.get("verse") or next(iter(by_section.values()), ())

    def bars(self, progression: tuple[str, ...], section: str = "verse") -> float:
        """How many bars ``progression`` lasts in ``section``."""
        return len(progression) / self.chords_per_bar(section)


@dataclass(frozen=True, slots=True)
class DrumVoice:
    """One drum voice's line in a groove: a General MIDI key and a step grid."""

    name: str
    key: int
    grid: str
    steps_per_beat: int

    @property
    def steps(self) -> int:
        return len(self.grid)


@dataclass(frozen=True, slots=True)
class Groove:
    """One bar of drums (or a fill) for some section types in one meter."""

    name: str
    sections: tuple[str, ...]
    meter: str
    steps_per_beat: int
    voices: tuple[DrumVoice, ...]

    @property
    def steps(self) -> int:
        return round(meter_bar_beats(self.meter) * self.steps_per_beat)

    @property
    def keys(self) -> frozenset[int]:
        return frozenset(v.key for v in self.voices)


@dataclass(frozen=True, slots=True)
class DrumSettings:
    """The kit: grooves per section, fills, crashes and the velocity of each grid mark."""

    kit: bool
    grooves: tuple[Groove, ...] = ()
    fills: tuple[Groove, ...] = ()
    crash_on_section_start: bool = True
    fill_every: int = 8
    velocities: Mapping[str, int] = field(default_factory=lambda: DEFAULT_VELOCITIES, hash=False)

    def groove(self, section: str, meter: str) -> Groove | None:
        return _pick(self.grooves, section, meter) if self.kit else None

    def fills_for(self, meter: str) -> tuple[Groove, ...]:
        return tuple(f for f in self.fills if f.meter == meter) if self.kit else ()


@dataclass(frozen=True, slots=True)
class BassPattern:
    """One bar of bass as a grid of chord degrees (see FORMAT.md)."""

    name: str
    sections: tuple[str, ...]
    meter: str
    steps_per_beat: int
    grid: str
    velocity: int = 96

    @property
    def steps(self) -> int:
        return len(self.grid)


@dataclass(frozen=True, slots=True)
class InstrumentDefault:
    """The instrument a style gives a role by default."""

    role: str
    program: int
    name: str
    low: int
    high: int
    pattern: str | None = None
    rhythm: str | None = None
    rhythm_steps_per_beat: int = 4
    sections: tuple[str, ...] | None = None  # None: plays in every section
    drum: bool = False

    def plays_in(self, section: str) -> bool:
        return self.sections is None or section in self.sections


@dataclass(frozen=True, slots=True)
class MelodyCharacter:
    """How the style's melodies move."""

    range: int
    step_probability: float
    max_leap: int
    density: float
    syncopation: float
    phrase_bars: int
    rest_probability: float
    repetition: float
    scales: Mapping[str, str] = field(default_factory=_empty, hash=False)
    ornaments: tuple[str, ...] = ()

    def scale(self, mode: str) -> tuple[int, ...]:
        """Semitones above the tonic of the preferred scale in ``mode``."""
        name = self.scales.get(mode) or ("minor" if mode == "minor" else "major")
        return SCALES[name]


@dataclass(frozen=True, slots=True)
class FormTemplate:
    """The default form of a piece about three minutes long."""

    sequence: tuple[str, ...]
    bars: Mapping[str, int] = field(default_factory=_empty, hash=False)
    energy: Mapping[str, float] = field(default_factory=_empty, hash=False)

    @property
    def total_bars(self) -> int:
        return sum(self.bars[s] for s in self.sequence)

    @property
    def section_types(self) -> frozenset[str]:
        return frozenset(self.sequence)


@dataclass(frozen=True, slots=True)
class MixSettings:
    reverb: float
    delay: float = 0.0
    character: str = "clean"
    pan: Mapping[str, int] = field(default_factory=_empty, hash=False)
    levels: Mapping[str, int] = field(default_factory=_empty, hash=False)


@dataclass(frozen=True, slots=True)
class RequestDefaults:
    """The optional ``[request]`` table: how a request for the style is understood where the
    music of the file does not say it. ``ensemble`` is the band a request that names no
    instruments gets (role -> an instrument word of ``understand/data/instruments.toml``; empty:
    derived from ``[instruments]``), ``density`` how busy the parts are (0-1), ``drums``
    whether a kit plays by default (None: the file's ``drums.kit``), ``comping`` the
    instruments that play the chords when a request names one alone ("a house track with
    piano": the house piano stabs while the style's lead plays the tune), ``means`` what an
    instrument word means in this style (in funk "horns" is a horn section, not French
    horns)."""

    ensemble: Mapping[str, str] = field(default_factory=_empty, hash=False)
    density: float = 0.5
    drums: bool | None = None
    comping: tuple[str, ...] = ()
    means: Mapping[str, str] = field(default_factory=_empty, hash=False)


@dataclass(frozen=True, slots=True)
class Style:
    """Everything a style file says, validated."""

    id: str
    name: str
    description: str
    aliases: tuple[str, ...]
    tempo: TempoRange
    meters: tuple[str, ...]
    swing: float
    swing_unit: float
    modes: Mapping[str, float] = field(hash=False)
    energy: float
    harmony: HarmonySettings
    drums: DrumSettings
    bass: tuple[BassPattern, ...]
    instruments: Mapping[str, InstrumentDefault] = field(hash=False)
    melody: MelodyCharacter
    form: FormTemplate
    mix: MixSettings
    request: RequestDefaults = field(default_factory=RequestDefaults)
    source: str = ""

    # -- conveniences for the composer ----------------------------------------------------------

    @property
    def meter(self) -> str:
        """The default meter, e.g. "4/4"."""
        return self.meters[0]

    def time_signature(self, meter: str | None = None, beat: float = 0.0) -> TimeSignature:
        num, den = parse_meter(meter or self.meter)
        return TimeSignature(beat, num, den)

    @property
    def mode(self) -> str:
        """The more likely mode, "major" or "minor"."""
        return max(self.modes, key=lambda m: self.modes[m])

    @property
    def has_kit(self) -> bool:
        return self.drums.kit

    @property
    def default_drums(self) -> bool:
        """Whether a request for the style that says nothing of drums gets a kit."""
        return self.drums.kit if self.request.drums is None else self.request.drums

    def progressions(self, section: str, mode: str = "major") -> tuple[tuple[str, ...], ...]:
        return self.harmony.progressions(section, mode)

    def groove(self, section: str = "verse", meter: str | None = None) -> Groove | None:
        return self.drums.groove(section, meter or self.meter)

    def fills(self, meter: str | None = None) -> tuple[Groove, ...]:
        return self.drums.fills_for(meter or self.meter)

    def bass_pattern(self, section: str = "verse", meter: str | None = None) -> BassPattern | None:
        return _pick(self.bass, section, meter or self.meter)

    def instrument(self, role: str) -> InstrumentDefault | None:
        return self.instruments.get(role)
