"""Reading and validating style files (TOML, stdlib ``tomllib``).

Every problem is a :class:`StyleError` naming the file and the key, e.g.
``styles/rock.toml: drums.grooves.verse.kick has 15 steps, expected 16 (4/4 at 4 steps a beat)``.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Mapping
from functools import cache, lru_cache
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any

from ..errors import ParameterError, TunecraftError
from ..score.types import ROLES
from .model import (
    BASS_CHARS,
    COMP_PATTERNS,
    DEFAULT_VELOCITIES,
    DRUM_CHARS,
    DRUM_VOICES,
    MASTER_CHARACTERS,
    ORNAMENTS,
    RHYTHM_CHARS,
    SCALES,
    SECTION_TYPES,
    BassPattern,
    DrumSettings,
    DrumVoice,
    FormTemplate,
    Groove,
    HarmonySettings,
    InstrumentDefault,
    MelodyCharacter,
    MixSettings,
    RequestDefaults,
    Style,
    StyleError,
    TempoRange,
    meter_bar_beats,
    parse_meter,
)
from .numerals import _NUMERAL_RE, parse_numeral, split_slot

__all__ = ["all_styles", "find_style", "load_style", "parse_style", "style_ids"]

log = logging.getLogger(__name__)

_ID_RE = re.compile(r"[a-z0-9_]+")
_MODES = ("major", "minor")
_STEP_CHOICES = (1, 2, 3, 4, 6, 8, 12)


def _close(word: str, choices: Any, n: int = 1) -> list[str]:
    import difflib  # only when reporting a mistake

    return difflib.get_close_matches(word, list(choices), n=n)


def _data_dir() -> Any:
    return resources.files("tunecraft.styles").joinpath("data")


def _frozen(d: Mapping[str, Any]) -> Mapping[str, Any]:
    return MappingProxyType(dict(d))


class _Reader:
    """Typed access to one style file's data, with errors naming the file and key path."""

    def __init__(self, label: str) -> None:
        self.label = label

    def fail(self, path: str, problem: str) -> StyleError:
        return StyleError(f"{self.label}: {path} {problem}" if path else f"{self.label}: {problem}")

    def table(self, data: Mapping[str, Any], key: str, path: str, *, required: bool = True,
              allowed: set[str] | frozenset[str] | None = None) -> Mapping[str, Any]:
        full = f"{path}.{key}" if path else key
        if key not in data:
            if required:
                raise self.fail(full, "is missing")
            return {}
        value = data[key]
        if not isinstance(value, Mapping):
            raise self.fail(full, f"must be a table, not {type(value).__name__}")
        if allowed is not None:
            self.only(value, full, allowed)
        return value

    def only(self, value: Mapping[str, Any], path: str, allowed: set[str] | frozenset[str]) -> None:
        for k in value:
            if k not in allowed:
                near = _close(k, sorted(allowed), n=1)
                hint = f" (did you mean {near[0]!r}?)" if near else \
                    f" (known: {', '.join(sorted(allowed))})"
                raise self.fail(f"{path}.{k}" if path else k, f"is not a known key{hint}")

    _MISSING = object()

    def _value(self, data: Mapping[str, Any], key: str, path: str, default: Any) -> Any:
        """``(full key path, value)``; the default when the key is absent (``_MISSING`` if it
        has none and the value is required)."""
        full = f"{path}.{key}" if path else key
        if key in data:
            return full, data[key]
        if default is None:
            raise self.fail(full, "is missing")
        return full, self._MISSING

    def _known(self, full: str, v: str, choices: frozenset[str]) -> None:
        if v not in choices:
            near = _close(v, sorted(choices), n=1)
            hint = f"did you mean {near[0]!r}?" if near else f"known: {', '.join(sorted(choices))}"
            raise self.fail(full, f"is {v!r}, not a known value ({hint})")

    def number(self, data: Mapping[str, Any], key: str, path: str, lo: float, hi: float, *,
               default: float | None = None, integer: bool = False) -> float:
        full, v = self._value(data, key, path, default)
        if v is self._MISSING:
            return default  # type: ignore[return-value]
        if isinstance(v, bool) or not isinstance(v, (int, float)) or (integer and
                                                                       not isinstance(v, int)):
            raise self.fail(full, f"must be {'a whole number' if integer else 'a number'}, "
                                  f"not {v!r}")
        if not lo <= v <= hi:
            raise self.fail(full, f"is {v!r}, outside {lo:g}-{hi:g}")
        return v

    def integer(self, data: Mapping[str, Any], key: str, path: str, lo: int, hi: int, *,
                default: int | None = None) -> int:
        return int(self.number(data, key, path, lo, hi, default=default, integer=True))

    def string(self, data: Mapping[str, Any], key: str, path: str, *,
               default: str | None = None, choices: frozenset[str] | None = None) -> str:
        full, v = self._value(data, key, path, default)
        if v is self._MISSING:
            return default  # type: ignore[return-value]
        if not isinstance(v, str):
            raise self.fail(full, f"must be a string, not {v!r}")
        if choices is not None:
            self._known(full, v, choices)
        return v

    def strings(self, data: Mapping[str, Any], key: str, path: str, *,
                default: tuple[str, ...] | None = None,
                choices: frozenset[str] | None = None) -> tuple[str, ...]:
        full, v = self._value(data, key, path, default)
        if v is self._MISSING:
            return default  # type: ignore[return-value]
        if not isinstance(v, list) or not all(isinstance(s, str) for s in v):
            raise self.fail(full, f"must be a list of strings, not {v!r}")
        if choices is not None:
            for i, item in enumerate(v):
                self._known(f"{full}[{i}]", item, choices)
        return tuple(v)

    def boolean(self, data: Mapping[str, Any], key: str, path: str, *,
                default: bool | None = None) -> bool:
        full, v = self._value(data, key, path, default)
        if v is self._MISSING:
            return default  # type: ignore[return-value]
        if not isinstance(v, bool):
            raise self.fail(full, f"must be true or false, not {v!r}")
        return v

    def meter(self, text: Any, path: str) -> str:
        try:
            num, den = parse_meter(text)
        except (TunecraftError, TypeError, ValueError) as exc:
            raise self.fail(path, f"is {text!r}, not a meter like 4/4 or 6/8 ({exc})") from None
        return f"{num}/{den}"

    def grid(self, text: Any, path: str, chars: frozenset[str], meter: str, spb: int,
             what: str) -> str:
        if not isinstance(text, str):
            raise self.fail(path, f"must be a grid string like \"x---o---\", not {text!r}")
        g = text.replace(" ", "").replace("|", "")
        bad = sorted({c for c in g if c not in chars})
        if bad:
            raise self.fail(path, f"has {''.join(bad)!r}, not {what} grid characters "
                                  f"(allowed: {' '.join(sorted(chars))})")
        expected = meter_bar_beats(meter) * spb
        if len(g) != expected:
            raise self.fail(path, f"has {len(g)} steps, expected {expected:g} "
                                  f"({meter} at {spb} steps a beat)")
        return g

    def steps_per_beat(self, data: Mapping[str, Any], path: str, default: int, meter: str) -> int:
        spb = self.integer(data, "steps_per_beat", path, 1, 12, default=default)
        if spb not in _STEP_CHOICES:
            raise self.fail(f"{path}.steps_per_beat", f"is {spb}; use one of "
                                                      f"{', '.join(map(str, _STEP_CHOICES))}")
        if abs(meter_bar_beats(meter) * spb - round(meter_bar_beats(meter) * spb)) > 1e-9:
            raise self.fail(f"{path}.steps_per_beat", f"{spb} does not fill a bar of {meter} "
                                                      "with whole steps")
        return spb


# ----------------------------------------------------------------------------------------------
# Sections of the file


_TOP_KEYS = {"name", "description", "aliases", "tempo", "meters", "swing", "swing_unit", "modes",
             "energy", "harmony", "drums", "bass", "instruments", "melody", "form", "mix",
             "request"}


def _harmony(r: _Reader, data: Mapping[str, Any]) -> HarmonySettings:
    h = r.table(data, "harmony", "", allowed={"harmonic_rhythm", "major", "minor"})
    hr_raw = h.get("harmonic_rhythm", 1)
    sections: dict[str, float] = {}
    if isinstance(hr_raw, Mapping):
        r.only(hr_raw, "harmony.harmonic_rhythm", SECTION_TYPES | {"default"})
        hr = r.number(hr_raw, "default", "harmony.harmonic_rhythm", 0.125, 8, default=1)
        for s in hr_raw:
            if s != "default":
                sections[s] = r.number(hr_raw, s, "harmony.harmonic_rhythm", 0.125, 8)
    else:
        hr = r.number(h, "harmonic_rhythm", "harmony", 0.125, 8, default=1)
    pools: dict[str, Mapping[str, tuple[tuple[str, ...], ...]]] = {}
    cadences: dict[str, tuple[tuple[str, ...], ...]] = {}
    for mode in _MODES:
        table = r.table(h, mode, "harmony", allowed=SECTION_TYPES | {"cadences"})
        by_section: dict[str, tuple[tuple[str, ...], ...]] = {}
        for section, pool in table.items():
            path = f"harmony.{mode}.{section}"
            progs = _pool(r, pool, path, mode)
            if section != "cadences":
                per_bar = sections.get(section, hr)
                for i, prog in enumerate(progs):
                    bars = len(prog) / per_bar
                    if abs(bars - round(bars)) > 1e-9:
                        raise r.fail(f"{path}[{i}]", f"has {len(prog)} chord slots, which at "
                                     f"{per_bar:g} chords a bar is {bars:g} bars; a progression "
                                     "must fill whole bars")
                by_section[section] = progs
            else:
                cadences[mode] = progs
        if "verse" not in by_section:
            raise r.fail(f"harmony.{mode}.verse", "is missing (every style needs a verse pool "
                                                  "in both modes)")
        pools[mode] = _frozen(by_section)
    return HarmonySettings(hr, _frozen(sections), _frozen(pools), _frozen(cadences))


def _pool(r: _Reader, pool: Any, path: str, mode: str) -> tuple[tuple[str, ...], ...]:
    if not isinstance(pool, list) or not pool:
        raise r.fail(path, "must be a non-empty list of progressions like [[\"I\", \"V\", "
                           "\"vi\", \"IV\"]]")
    out = []
    for i, prog in enumerate(pool):
        p = f"{path}[{i}]"
        if not isinstance(prog, list) or not prog or not all(isinstance(s, str) for s in prog):
            raise r.fail(p, f"must be a non-empty list of Roman numerals, not {prog!r}")
        for slot in prog:
            try:
                parts = split_slot(slot)
            except ParameterError as exc:
                raise r.fail(p, str(exc)) from None
            for numeral in parts:
                try:
                    parse_numeral(numeral, mode)
                except ParameterError as exc:
                    raise r.fail(p, f"has {exc}") from None
                head = numeral.split("/")[0]
                m = _NUMERAL_RE.fullmatch(head)
                if (mode == "minor" and m and "b" in m.group(1)
                        and m.group(2).lower() in ("iii", "vi", "vii")):
                    raise r.fail(p, f"chord {numeral!r}: in a minor key {m.group(2)} is already "
                                    f"the flat degree; write {head.replace('b', '', 1)!r}")
        out.append(tuple(prog))
    return tuple(out)


def _voices(r: _Reader, g: Mapping[str, Any], path: str, meter: str, spb: int,
            reserved: set[str]) -> tuple[DrumVoice, ...]:
    voices = []
    for name, value in g.items():
        if name in reserved:
            continue
        vp = f"{path}.{name}"
        if name in DRUM_VOICES:
            key = DRUM_VOICES[name]
        elif name.isdigit() and 27 <= int(name) <= 87:
            key = int(name)
        else:
            near = _close(name, sorted(DRUM_VOICES), n=1)
            hint = f"did you mean {near[0]!r}?" if near else "use a name from FORMAT.md or a " \
                                                              "General MIDI key 27-87"
            raise r.fail(vp, f"is not a drum voice ({hint})")
        vspb = spb
        if isinstance(value, Mapping):
            r.only(value, vp, {"grid", "steps_per_beat"})
            vspb = r.steps_per_beat(value, vp, spb, meter)
            value = value.get("grid")
            vp = f"{vp}.grid"
        grid = r.grid(value, vp, DRUM_CHARS, meter, vspb, "drum")
        voices.append(DrumVoice(name, key, grid, vspb))
    return tuple(voices)


def _grooves(r: _Reader, d: Mapping[str, Any], key: str, default_meter: str, spb: int,
             meters: tuple[str, ...], *, fills: bool) -> tuple[Groove, ...]:
    table = r.table(d, key, "drums", required=False)
    out = []
    for name, g in table.items():
        path = f"drums.{key}.{name}"
        if not isinstance(g, Mapping):
            raise r.fail(path, "must be a table of drum voices")
        meter = r.meter(g["meter"], f"{path}.meter") if "meter" in g else default_meter
        if meter not in meters:
            raise r.fail(f"{path}.meter", f"is {meter}, not one of the style's meters "
                                          f"({', '.join(meters)})")
        if fills:
            sections: tuple[str, ...] = ()
        elif "sections" in g:
            sections = r.strings(g, "sections", path, choices=SECTION_TYPES)
        elif name in SECTION_TYPES:
            sections = (name,)
        else:
            raise r.fail(path, f"{name!r} is not a section type; name the groove after one "
                               f"({', '.join(sorted(SECTION_TYPES))}) or give it sections = [...]")
        gspb = r.steps_per_beat(g, path, spb, meter)
        voices = _voices(r, g, path, meter, gspb, {"meter", "sections", "steps_per_beat"})
        out.append(Groove(name, sections, meter, gspb, voices))
    return tuple(out)


def _drums(r: _Reader, data: Mapping[str, Any], meters: tuple[str, ...]) -> DrumSettings:
    d = r.table(data, "drums", "", allowed={"kit", "steps_per_beat", "crash_on_section_start",
                                            "fill_every", "velocities", "grooves", "fills"})
    kit = r.boolean(d, "kit", "drums")
    spb = r.steps_per_beat(d, "drums", 4, meters[0])
    vel_table = r.table(d, "velocities", "drums", required=False, allowed={"x", "o", "."})
    velocities = dict(DEFAULT_VELOCITIES)
    for mark in vel_table:
        velocities[mark] = r.integer(vel_table, mark, "drums.velocities", 1, 127)
    grooves = _grooves(r, d, "grooves", meters[0], spb, meters, fills=False)
    fills = _grooves(r, d, "fills", meters[0], spb, meters, fills=True)
    if not kit and (grooves or fills):
        raise r.fail("drums.grooves", "is given but drums.kit is false; remove the grooves or "
                                      "set kit = true")
    if kit:
        for m in meters:
            if not any(g.meter == m for g in grooves):
                raise r.fail("drums.grooves", f"has no groove in {m}, one of the style's meters")
    return DrumSettings(
        kit=kit, grooves=grooves, fills=fills,
        crash_on_section_start=r.boolean(d, "crash_on_section_start", "drums", default=kit),
        fill_every=r.integer(d, "fill_every", "drums", 1, 64, default=8),
        velocities=_frozen(velocities))


def _bass(r: _Reader, data: Mapping[str, Any], meters: tuple[str, ...]) -> tuple[BassPattern, ...]:
    b = r.table(data, "bass", "", allowed={"steps_per_beat", "patterns"})
    spb = r.steps_per_beat(b, "bass", 4, meters[0])
    patterns = r.table(b, "patterns", "bass")
    out = []
    for name, p in patterns.items():
        path = f"bass.patterns.{name}"
        if not isinstance(p, Mapping):
            raise r.fail(path, "must be a table with a grid")
        r.only(p, path, {"grid", "meter", "sections", "steps_per_beat", "velocity"})
        meter = r.meter(p["meter"], f"{path}.meter") if "meter" in p else meters[0]
        if meter not in meters:
            raise r.fail(f"{path}.meter", f"is {meter}, not one of the style's meters "
                                          f"({', '.join(meters)})")
        if "sections" in p:
            sections = r.strings(p, "sections", path, choices=SECTION_TYPES)
        elif name in SECTION_TYPES:
            sections = (name,)
        else:
            raise r.fail(path, f"{name!r} is not a section type; name the pattern after one or "
                               "give it sections = [...]")
        pspb = r.steps_per_beat(p, path, spb, meter)
        if "grid" not in p:
            raise r.fail(f"{path}.grid", "is missing")
        grid = r.grid(p["grid"], f"{path}.grid", BASS_CHARS, meter, pspb, "bass")
        out.append(BassPattern(name, sections, meter, pspb, grid,
                               r.integer(p, "velocity", path, 1, 127, default=96)))
    for m in meters:
        if not any(p.meter == m for p in out):
            raise r.fail("bass.patterns", f"has no pattern in {m}, one of the style's meters")
    return tuple(out)


_INSTR_KEYS = {"program", "name", "low", "high", "pattern", "rhythm", "rhythm_steps_per_beat",
               "sections"}


def _instruments(r: _Reader, data: Mapping[str, Any], meter: str,
                 kit: bool) -> Mapping[str, InstrumentDefault]:
    t = r.table(data, "instruments", "", allowed=ROLES)
    out: dict[str, InstrumentDefault] = {}
    for role, spec in t.items():
        path = f"instruments.{role}"
        if not isinstance(spec, Mapping):
            raise r.fail(path, "must be a table like { program = 0, name = \"Piano\", low = 48, "
                               "high = 84 }")
        r.only(spec, path, _INSTR_KEYS)
        drum = role in ("drums", "percussion")
        program = r.integer(spec, "program", path, 0, 127, default=0 if drum else None)
        name = r.string(spec, "name", path)
        if not name.strip():
            raise r.fail(f"{path}.name", "is empty")
        if drum:
            low = r.integer(spec, "low", path, 27, 87, default=27)
            high = r.integer(spec, "high", path, 27, 87, default=87)
        else:
            low = r.integer(spec, "low", path, 0, 127)
            high = r.integer(spec, "high", path, 0, 127)
            if high - low < 12:
                raise r.fail(path, f"register {low}-{high} is narrower than an octave")
        if low >= high:
            raise r.fail(path, f"low {low} must be below high {high}")
        pattern = r.string(spec, "pattern", path, choices=COMP_PATTERNS) \
            if "pattern" in spec else None
        rspb = r.integer(spec, "rhythm_steps_per_beat", path, 1, 12, default=4)
        if rspb not in _STEP_CHOICES:
            raise r.fail(f"{path}.rhythm_steps_per_beat", f"is {rspb}; use one of "
                                                           f"{', '.join(map(str, _STEP_CHOICES))}")
        rhythm = r.grid(spec["rhythm"], f"{path}.rhythm", RHYTHM_CHARS, meter, rspb,
                        "rhythm") if "rhythm" in spec else None
        sections = r.strings(spec, "sections", path, choices=SECTION_TYPES) \
            if "sections" in spec else None
        out[role] = InstrumentDefault(role, program, name, low, high, pattern, rhythm, rspb,
                                      sections, drum)
    for role in ("lead", "harmony", "bass"):
        if role not in out:
            raise r.fail(f"instruments.{role}", "is missing (every style names a lead, a "
                                                "harmony and a bass instrument)")
    if kit and "drums" not in out:
        raise r.fail("instruments.drums", "is missing while drums.kit is true")
    if not kit and "drums" in out:
        raise r.fail("instruments.drums", "is given while drums.kit is false")
    return _frozen(out)


def _melody(r: _Reader, data: Mapping[str, Any]) -> MelodyCharacter:
    p = "melody"
    m = r.table(data, p, "", allowed={"range", "step_probability", "max_leap", "density",
                                      "syncopation", "phrase_bars", "rest_probability",
                                      "repetition", "scales", "ornaments"})
    scales_t = r.table(m, "scales", p, allowed=set(_MODES))
    scales = {mode: r.string(scales_t, mode, "melody.scales", choices=frozenset(SCALES))
              for mode in scales_t}
    return MelodyCharacter(
        range=r.integer(m, "range", p, 5, 36),
        step_probability=r.number(m, "step_probability", p, 0, 1),
        max_leap=r.integer(m, "max_leap", p, 1, 19, default=7),
        density=r.number(m, "density", p, 0.1, 8),
        syncopation=r.number(m, "syncopation", p, 0, 1),
        phrase_bars=r.integer(m, "phrase_bars", p, 1, 16),
        rest_probability=r.number(m, "rest_probability", p, 0, 1, default=0.1),
        repetition=r.number(m, "repetition", p, 0, 1, default=0.5),
        scales=_frozen(scales),
        ornaments=r.strings(m, "ornaments", p, default=(), choices=ORNAMENTS),
    )


def _form(r: _Reader, data: Mapping[str, Any]) -> FormTemplate:
    f = r.table(data, "form", "", allowed={"sequence", "bars", "energy"})
    seq = r.strings(f, "sequence", "form", choices=SECTION_TYPES)
    if not seq:
        raise r.fail("form.sequence", "is empty")
    bars_t = r.table(f, "bars", "form", allowed=SECTION_TYPES)
    bars = {s: r.integer(bars_t, s, "form.bars", 1, 64) for s in bars_t}
    for s in seq:
        if s not in bars:
            raise r.fail(f"form.bars.{s}", f"is missing (form.sequence uses {s!r})")
    energy_t = r.table(f, "energy", "form", required=False, allowed=SECTION_TYPES)
    energy = {s: r.number(energy_t, s, "form.energy", 0, 1) for s in energy_t}
    return FormTemplate(seq, _frozen(bars), _frozen(energy))


def _mix(r: _Reader, data: Mapping[str, Any]) -> MixSettings:
    m = r.table(data, "mix", "", allowed={"reverb", "delay", "character", "pan", "levels"})
    pan_t = r.table(m, "pan", "mix", required=False, allowed=ROLES)
    lev_t = r.table(m, "levels", "mix", required=False, allowed=ROLES)
    return MixSettings(
        reverb=r.number(m, "reverb", "mix", 0, 1),
        delay=r.number(m, "delay", "mix", 0, 1, default=0.0),
        character=r.string(m, "character", "mix", default="clean", choices=MASTER_CHARACTERS),
        pan=_frozen({k: r.integer(pan_t, k, "mix.pan", 0, 127) for k in pan_t}),
        levels=_frozen({k: r.integer(lev_t, k, "mix.levels", 0, 127) for k in lev_t}),
    )


def _request(r: _Reader, data: Mapping[str, Any]) -> RequestDefaults:
    q = r.table(data, "request", "", required=False,
                allowed={"ensemble", "density", "drums", "comping", "means"})
    means = r.table(q, "means", "request", required=False)
    ens = r.table(q, "ensemble", "request", required=False, allowed=ROLES)
    drums = q.get("drums")
    if drums is not None and not isinstance(drums, bool):
        raise r.fail("request.drums", f"is {drums!r}; use true or false")
    return RequestDefaults(
        ensemble=_frozen({k: r.string(ens, k, "request.ensemble") for k in ens}),
        density=r.number(q, "density", "request", 0, 1, default=0.5), drums=drums,
        comping=tuple(r.strings(q, "comping", "request", default=())),
        means=_frozen({k: r.string(means, k, "request.means") for k in means}))


def parse_style(data: Mapping[str, Any], style_id: str, label: str | None = None) -> Style:
    """Validate the parsed TOML of one style file and build a :class:`Style`."""
    r = _Reader(label or f"styles/{style_id}.toml")
    r.only(data, "", _TOP_KEYS)
    name = r.string(data, "name", "")
    if not name.strip():
        raise r.fail("name", "is empty")
    tempo_t = r.table(data, "tempo", "", allowed={"min", "max", "default"})
    tempo = TempoRange(r.number(tempo_t, "min", "tempo", 20, 320),
                       r.number(tempo_t, "max", "tempo", 20, 320),
                       r.number(tempo_t, "default", "tempo", 20, 320))
    if not tempo.min <= tempo.default <= tempo.max:
        raise r.fail("tempo", f"needs min <= default <= max (got {tempo.min:g}, "
                              f"{tempo.default:g}, {tempo.max:g})")
    meter_list = data.get("meters")
    if not isinstance(meter_list, list) or not meter_list:
        raise r.fail("meters", "must be a non-empty list like [\"4/4\"] (the first is the "
                               "default)")
    meters = tuple(r.meter(m, f"meters[{i}]") for i, m in enumerate(meter_list))
    if len(set(meters)) != len(meters):
        raise r.fail("meters", "lists a meter twice")
    swing = r.number(data, "swing", "", 0, 0.75, default=0.0)
    if 0 < swing < 0.5:
        raise r.fail("swing", f"is {swing:g}; use 0 (straight) or 0.5-0.75 (the share of each "
                              "pair taken by its first note: 0.67 is triplet swing)")
    swing_unit = r.number(data, "swing_unit", "", 0.25, 0.5, default=0.5)
    if swing_unit not in (0.25, 0.5):
        raise r.fail("swing_unit", f"is {swing_unit:g}; use 0.5 (eighths) or 0.25 (sixteenths)")
    modes_t = r.table(data, "modes", "", allowed=set(_MODES))
    modes = {m: r.number(modes_t, m, "modes", 0, 1, default=0.0) for m in _MODES}
    if sum(modes.values()) <= 0:
        raise r.fail("modes", "needs a positive weight for major or minor")
    drums = _drums(r, data, meters)
    style = Style(
        id=style_id,
        name=name,
        description=r.string(data, "description", "", default=""),
        aliases=r.strings(data, "aliases", "", default=()),
        tempo=tempo,
        meters=meters,
        swing=swing,
        swing_unit=swing_unit,
        modes=_frozen(modes),
        energy=r.number(data, "energy", "", 0, 1, default=0.5),
        harmony=_harmony(r, data),
        drums=drums,
        bass=_bass(r, data, meters),
        instruments=_instruments(r, data, meters[0], drums.kit),
        melody=_melody(r, data),
        form=_form(r, data),
        mix=_mix(r, data),
        request=_request(r, data),
        source=r.label,
    )
    return style


# ----------------------------------------------------------------------------------------------
# Finding and caching


def style_ids() -> tuple[str, ...]:
    """The ids of the styles shipped with tunecraft, sorted."""
    return _style_ids()


@lru_cache(maxsize=1)
def _style_ids() -> tuple[str, ...]:
    return tuple(sorted(p.name[:-5] for p in _data_dir().iterdir()
                        if p.name.endswith(".toml") and not p.name.startswith(".")))


def _normalize_id(text: str) -> str:
    return re.sub(r"[\s\-&/]+", "_", text.strip().lower()).strip("_")


def load_style(id_or_path: str | os.PathLike[str]) -> Style:
    """A style by id ("rock", "drum and bass") or by the path of a user's own TOML file.

    Cached: a shipped style is read once per process; a user file again when it changes.
    """
    if isinstance(id_or_path, os.PathLike) or str(id_or_path).endswith(".toml") \
            or os.sep in str(id_or_path) or "/" in str(id_or_path):
        path = Path(id_or_path).expanduser()
        try:
            stat = path.stat()
        except OSError:
            raise StyleError(f"{path}: no such style file") from None
        return _load_path(str(path.resolve()), stat.st_mtime_ns, stat.st_size)
    if not isinstance(id_or_path, str):
        raise StyleError(f"a style is named by an id or a path, not {id_or_path!r}")
    sid = _normalize_id(id_or_path)
    if sid not in _style_ids():
        near = _close(sid, _style_ids(), n=3)
        hint = f"did you mean {', '.join(near)}?" if near else \
            f"known: {', '.join(_style_ids())}"
        raise StyleError(f"unknown style {id_or_path!r} ({hint})")
    return _load_builtin(sid)


@cache
def _load_builtin(sid: str) -> Style:
    label = f"styles/{sid}.toml"
    text = _data_dir().joinpath(f"{sid}.toml").read_text(encoding="utf-8")
    return _parse_text(text, sid, label)


@lru_cache(maxsize=64)
def _load_path(path: str, _mtime: int, _size: int) -> Style:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise StyleError(f"{path}: cannot read the style file ({exc})") from None
    sid = _normalize_id(p.stem)
    if not _ID_RE.fullmatch(sid):
        raise StyleError(f"{path}: the file name must give an id of letters, digits and '_'")
    return _parse_text(text, sid, path)


def _parse_text(text: str, sid: str, label: str) -> Style:
    import tomllib

    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise StyleError(f"{label}: not valid TOML ({exc})") from None
    style = parse_style(data, sid, label)
    log.debug("loaded style %s from %s", sid, label)
    return style


def all_styles() -> tuple[Style, ...]:
    """Every shipped style, loaded and validated, in id order."""
    return tuple(load_style(s) for s in _style_ids())


def find_style(name: str) -> Style | None:
    """The shipped style whose id, name or alias is ``name`` (case-insensitive), or None."""
    key = _normalize_id(name)
    if key in _style_ids():
        return load_style(key)
    return _alias_index().get(key)


@lru_cache(maxsize=1)
def _alias_index() -> Mapping[str, Style]:
    index: dict[str, Style] = {}
    for style in all_styles():
        for word in (style.name, *style.aliases):
            index.setdefault(_normalize_id(word), style)
    return MappingProxyType(index)
