"""The ensemble: which instruments play, in which role, register, pattern, level and pan.

The request (``MusicSpec.instruments``) says which instruments play and in what role; the
style gives each role its register, comping pattern, rhythm, the sections it plays in and its
place in the mix. An instrument the request names plays in every section (so it is always
heard); one the style implies keeps the style's sections when the piece has them.
"""

from __future__ import annotations

import logging
from dataclasses import replace

from ..gm import program_family, program_name
from ..styles import Style
from ..understand.spec import small_group
from .plan import PartSpec, Plan, score_role

log = logging.getLogger(__name__)

# Which style instrument to borrow settings from, per role.
_STYLE_ROLE = {"chords": "harmony", "vocal": "lead", "strings": "strings", "counter": "counter",
               "percussion": "percussion"}  # fmt: skip

# Comfortable registers by General MIDI family when the style has nothing for the role.
_FAMILY_RANGE = {
    "piano": (48, 84), "chromatic percussion": (60, 96), "organ": (48, 84),
    "guitar": (52, 81), "bass": (28, 55), "strings": (48, 88), "ensemble": (48, 84),
    "brass": (52, 82), "reed": (50, 84), "pipe": (60, 96), "synth lead": (60, 88),
    "synth pad": (48, 79), "synth effects": (48, 84), "ethnic": (52, 84),
    "percussive": (36, 72), "sound effects": (48, 84),
}  # fmt: skip
_PER_PROGRAM_RANGE = {
    40: (55, 93), 41: (48, 84), 42: (36, 72), 43: (28, 55), 32: (28, 55), 47: (40, 55),
    52: (53, 79), 53: (53, 79), 56: (55, 82), 57: (40, 72), 58: (28, 58), 60: (41, 77),
    65: (49, 81), 66: (44, 76), 67: (36, 69), 68: (58, 91), 70: (34, 72), 71: (50, 89),
    73: (60, 96), 72: (74, 102), 74: (60, 96), 104: (48, 77), 105: (48, 79),
}  # fmt: skip
# Instruments that can carry their own accompaniment (a solo piano plays both hands).
_POLYPHONIC = {"piano", "organ", "guitar", "chromatic percussion", "synth pad", "ensemble"}

_MELODIC = ("lead", "vocal")


def instrument_range(program: int) -> tuple[int, int]:
    """A comfortable register (lowest and highest MIDI note) for a General MIDI program."""
    return _PER_PROGRAM_RANGE.get(program, _FAMILY_RANGE[program_family(program)])


def _register(program: int, role: str, style_low: int | None, style_high: int | None,
              style_program: int | None) -> tuple[int, int]:
    if style_low is not None and style_high is not None and style_program == program:
        return style_low, style_high
    low, high = instrument_range(program)
    if role == "bass" and program_family(program) != "bass":
        return max(low - 12, 24), min(high - 12, 64)  # a cello or tuba carrying the bass
    if role in ("chords", "harmony", "pad", "strings") and high - low > 30:
        return max(low, 45), min(high, 81)
    if style_low is not None and style_high is not None:  # borrow the style's range where
        lo, hi = max(low, style_low - 5), min(high, style_high + 5)  # the instrument allows
        if hi - lo >= 12:
            return lo, hi
    return low, high


def _style_player(style: Style, role: str, program: int):
    """The style's instrument whose register, pattern and rhythm a part borrows: the one of
    the style's roles for it that plays the same program (reggae's organ bubbles while its
    guitar skanks, though both comp), else the role's usual one."""
    usual = style.instrument(_STYLE_ROLE.get(role, role)) or style.instrument(role)
    same = [inst for inst in (style.instrument(role), usual)
            if inst is not None and inst.program == program]
    return same[0] if same else usual


def _display_name(name: str, program: int, is_drum: bool) -> str:
    if is_drum:
        return name.title() if name else "Drums"
    return name.title() if name else program_name(program)


def build_ensemble(spec, style: Style, plan: Plan) -> tuple[PartSpec, ...]:
    """The parts of the piece, in score order: melody first, then harmony, bass, drums."""
    kinds = {s.kind for s in plan.sections}
    parts: list[PartSpec] = []
    names: set[str] = set()
    fixed: dict[str, tuple[int, int]] = {}  # registers the request gives
    has_lead = False
    requests = list(spec.instruments)
    explicit_pitched = [r for r in requests if r.source == "explicit" and not r.is_drum]
    small = small_group(requests)  # the same question parse asked: explain = the score
    if small:
        # "piano and cello": a duo, not a band. The style's drums may stay; no other pitched
        # instrument is added, and a keyboard or guitar takes the bass line (a left hand).
        # A kit makes it a band: the bass and comping parts parse added for it play too.
        requests = [r for r in requests if r.source == "explicit" or r.is_drum
                    or (r.role in ("chords", "bass") and spec.drums)]
        if not any(r.role == "bass" for r in requests) and "bass" not in spec.excluded:
            holder = next((r for r in explicit_pitched
                           if program_family(r.program) in ("piano", "organ", "guitar")
                           or r.program == 46), None)
            if holder is not None:
                hand = "left hand" if program_family(holder.program) in ("piano", "organ") \
                    else "bass notes"
                requests.append(replace(holder, name=f"{holder.name} ({hand})",
                                         role="bass", source="inferred"))
    excluded = tuple(spec.excluded)
    requests = _with_harmony(requests, style, excluded,
                             band=not small and any(
                                 r.source != "explicit" for r in spec.instruments))
    for req in requests:
        if req.is_drum and not spec.drums and (
                req.source != "explicit" or req.role == "drums" or "percussion" in excluded):
            continue  # an explicitly requested percussion part plays even without a kit
        if req.source != "explicit" and _is_excluded(req, excluded):
            continue
        role = score_role(req.role)
        if req.is_drum and role not in ("drums", "percussion"):
            role = "percussion"
        if role in _MELODIC:
            if has_lead:
                # A second melody instrument answers the first; a choir with a lead sings pads.
                role = "pad" if role == "vocal" else "counter"
            has_lead = has_lead or role in _MELODIC
        default = _style_player(style, role, req.program)
        low, high = _register(req.program, role, getattr(default, "low", None),
                              getattr(default, "high", None), getattr(default, "program", None))
        sections = getattr(default, "sections", None)
        if req.source == "explicit" or sections is None or not (set(sections) & kinds):
            sections = None
        name = _display_name(req.name, req.program, req.is_drum)
        base, n = name, 2
        while name in names:
            name, n = f"{base} {n}", n + 1
        names.add(name)
        levels, pans = style.mix.levels, style.mix.pan
        pattern = getattr(default, "pattern", None)
        if req.pattern is not None:  # a named ensemble's player says how it plays
            pattern = req.pattern
        if req.register is not None:
            low, high = req.register
            fixed[name] = req.register
        rhythm = getattr(default, "rhythm", None)
        parts.append(PartSpec(
            name=name, role=role, program=req.program, is_drum=req.is_drum, low=low, high=high,
            pattern=pattern, rhythm=rhythm,
            rhythm_steps_per_beat=getattr(default, "rhythm_steps_per_beat", 4),
            sections=tuple(sections) if sections else None,
            volume=int(levels.get(role, levels.get(_STYLE_ROLE.get(role, role), 100))),
            pan=int(pans.get(role, pans.get(_STYLE_ROLE.get(role, role), 64))),
            source=req.source))
    if not has_lead:
        parts = _promote_lead(parts)
    parts = _both_hands(parts)
    parts = _spread_accompaniment(parts)
    parts = _under_the_tune(parts)
    parts = [replace(p, low=fixed[p.name][0], high=fixed[p.name][1]) if p.name in fixed else p
             for p in parts]
    order = {"lead": 0, "vocal": 0, "counter": 1, "arp": 2, "chords": 3, "harmony": 3,
             "strings": 4, "pad": 5, "bass": 6, "percussion": 7, "drums": 8}
    return tuple(sorted(parts, key=lambda p: order.get(p.role, 5)))


def _promote_lead(parts: list[PartSpec]) -> list[PartSpec]:
    """No melody instrument was asked for: a pitched part sings the tune (a lone piano or
    guitar then gets its accompaniment from :func:`_both_hands`)."""
    pitched = [p for p in parts if not p.is_drum and p.role not in ("bass",)]
    if not pitched:
        return parts
    # A singing instrument (the counter-line, then strings, winds, brass, a synth lead) carries
    # the tune before a keyboard or guitar does.
    singing = ("strings", "reed", "pipe", "brass", "synth lead", "ethnic")
    first = min(pitched, key=lambda p: (p.role != "counter",
                                        program_family(p.program) not in singing,
                                        pitched.index(p)))
    lead = replace(first, role="lead", sections=None)
    return [lead if p is first else p for p in parts]


_ACCOMPANIMENT = ("chords", "harmony", "pad", "strings", "arp")


def _under_the_tune(parts: list[PartSpec]) -> list[PartSpec]:
    """Keep the tune on top: a low melody instrument (a cello, a trombone) sings in the upper
    part of its range, and chord parts stay at or below the middle of the tune's register."""
    lead = next((p for p in parts if p.role in _MELODIC), None)
    if lead is None or lead.is_drum:
        return parts
    if lead.high - lead.low > 24:
        lead_new = replace(lead, low=lead.high - 24)
        parts = [lead_new if p is lead else p for p in parts]
        lead = lead_new
    centre = (lead.low + lead.high) // 2
    out = []
    for p in parts:
        if p.role in _ACCOMPANIMENT and not p.is_drum and p.high > centre - 1:
            high = max(centre - 1, 55)
            low = max(36, min(p.low, high - 14))
            p = replace(p, low=low, high=high)
        out.append(p)
    return out


def _is_excluded(req, excluded: tuple[str, ...]) -> bool:
    """Whether an implied instrument is one the request ruled out ("no vocals", "sin bajo")."""
    if not excluded:
        return False
    from ..score import Track
    from ..understand.exclusions import excluded_by

    role = score_role(req.role)
    probe = Track(req.name or "x", (), program=req.program, is_drum=req.is_drum, role=role)
    return any(excluded_by(term, probe) for term in excluded)


_HARMONY_ROLES = ("chords", "harmony", "pad", "strings", "arp")


def _with_harmony(requests: list, style: Style, excluded: tuple[str, ...], *,
                  band: bool) -> list:
    """A band needs someone playing the chords: when the request implies a band (the style
    fills in instruments) and nobody has a chord role, the style's harmony instrument joins."""
    if not band or any(r.role in _HARMONY_ROLES for r in requests):
        return requests
    default = style.instrument("harmony")
    if default is None:
        return requests
    from ..understand.spec import InstrumentRequest

    req = InstrumentRequest(name=default.name.lower(), program=default.program,
                            role="chords", source="inferred")
    if _is_excluded(req, excluded):
        return requests
    return [*requests, req]


def _both_hands(parts: list[PartSpec]) -> list[PartSpec]:
    """A piano, guitar, harp or organ playing alone plays its own accompaniment too: the
    melody in the right hand, chords and a bass line in the left, as one player would."""
    pitched = [p for p in parts if not p.is_drum]
    if len(pitched) != 1 or pitched[0].role not in _MELODIC:
        return parts
    solo = pitched[0]
    if program_family(solo.program) not in _POLYPHONIC and solo.program != 46:
        return parts
    melody = replace(solo, name=f"{solo.name} (melody)", low=max(solo.low, 60))
    chords = replace(solo, name=f"{solo.name} (accompaniment)", role="chords",
                     low=max(solo.low - 12, 45), high=min(solo.high, 72),
                     pattern=solo.pattern if solo.pattern not in (None, "line") else
                     "arpeggio_up", rhythm=None, sections=None, volume=max(solo.volume - 18, 40),
                     source="inferred")
    bass = replace(solo, name=f"{solo.name} (left hand)", role="bass", low=max(solo.low - 24, 33),
                   high=55, pattern=None, rhythm=None, sections=None,
                   volume=max(solo.volume - 12, 40), source="inferred")
    return [melody if p is solo else p for p in parts] + [chords, bass]


def _spread_accompaniment(parts: list[PartSpec]) -> list[PartSpec]:
    """Pads and strings sit a fifth above the comping instrument, so the two do not play the
    same voicing note for note (a piano and a pad on one chord in one register)."""
    comp = next((p for p in parts if p.role in ("chords", "harmony") and not p.is_drum), None)
    sustained = [p for p in parts if p.role in ("pad", "strings") and not p.is_drum]
    if comp is None or not sustained:
        return parts
    # The comping instrument keeps the lower octave and a half of its range; the sustained
    # parts take the band a fifth above it.
    comp_new = replace(comp, high=min(comp.high, comp.low + 14))
    out = []
    for p in parts:
        if p is comp:
            p = comp_new
        elif p in sustained and p.low < comp.low + 7:
            p = replace(p, low=comp.low + 7, high=max(p.high, comp.low + 21))
        out.append(p)
    return out
