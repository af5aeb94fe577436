"""The plan of a piece: its form (sections with bar counts) and its harmony (a chord timeline).

:func:`make_plan` turns a :class:`~tunecraft.understand.MusicSpec` and a style into a
:class:`Plan`. Everything the part writers need is in the plan: tempo, key, meter, the sections
with their energy, and the chords. Sections of one kind share their progression, so a chorus is
the same chorus every time; the choruses (else the verses) and the last section end on a
cadence to the tonic, so the key is heard.

Guarantees kept here: the bar count gives the requested duration within half a bar; the tempo,
key and meter are exactly those of the spec.
"""

from __future__ import annotations

import bisect
import logging
import random
from collections import Counter
from dataclasses import dataclass, field
from functools import cached_property

from ..errors import ParameterError
from ..score import Chord, KeySignature, TimeSignature
from ..styles import Style, realize_progression
from ..styles.model import SECTION_FALLBACKS

log = logging.getLogger(__name__)

# Section words a request may use -> the style's section types.
STRUCTURE_WORDS = {
    "intro": "intro", "verse": "verse", "pre-chorus": "pre_chorus", "pre_chorus": "pre_chorus",
    "prechorus": "pre_chorus", "chorus": "chorus", "hook": "chorus", "refrain": "chorus",
    "post-chorus": "post_chorus", "bridge": "bridge", "breakdown": "breakdown",
    "build-up": "build", "buildup": "build", "build up": "build", "build": "build",
    "drop": "drop", "solo": "solo", "interlude": "interlude", "outro": "outro",
    "ending": "outro", "coda": "outro", "head": "head",
}  # fmt: skip

# When a piece is too short for the style's whole form, sections go in this order (first to go
# first); a kind's later occurrences go before its first.
_DROP_ORDER = ("post_chorus", "interlude", "solo", "breakdown", "pre_chorus", "bridge", "c",
               "build", "head", "verse", "a", "b", "drop", "chorus", "intro", "outro")


@dataclass(frozen=True, slots=True)
class SectionPlan:
    """One section of the form. ``start`` in beats; ``energy`` 0..1 drives dynamics and density."""

    name: str
    kind: str
    start: float
    bars: int
    bar_beats: float
    energy: float
    occurrence: int  # 0 for the first section of its kind
    final: bool  # the last section of its kind

    @property
    def length(self) -> float:
        return self.bars * self.bar_beats

    @property
    def end(self) -> float:
        return self.start + self.length


# The roles a part can play; anything else plays as "harmony".
PART_ROLES = frozenset({"lead", "vocal", "harmony", "chords", "bass", "drums", "percussion",
                        "pad", "arp", "counter", "strings"})


def score_role(role: str) -> str:
    """The part role a request or a part carries, or "harmony" for an unknown one."""
    return role if role in PART_ROLES else "harmony"


@dataclass(frozen=True, slots=True)
class PartSpec:
    """One instrument of the ensemble and how it plays.

    ``role`` is a score role (lead, harmony, chords, bass, drums, percussion, pad, arp, counter,
    strings, vocal); ``pattern``/``rhythm`` come from the style's instrument defaults (see
    styles/FORMAT.md: comping pattern names and x/o/./-/_ hit grids); ``sections`` lists the
    section kinds it plays in (None: all); ``low``/``high`` is its register (MIDI pitches).
    ``source`` says whether the request named it ("explicit") or the style/request implied it.
    """

    name: str
    role: str
    program: int
    is_drum: bool = False
    low: int = 48
    high: int = 84
    pattern: str | None = None
    rhythm: str | None = None
    rhythm_steps_per_beat: int = 4
    sections: tuple[str, ...] | None = None
    volume: int = 100
    pan: int = 64
    source: str = "inferred"

    def plays_in(self, kind: str) -> bool:
        return self.sections is None or kind in self.sections


@dataclass(frozen=True)
class Plan:
    """Form, harmony and the fixed facts of a piece, shared by every part writer."""

    style: Style
    bpm: float
    key: KeySignature
    meter: TimeSignature
    sections: tuple[SectionPlan, ...]
    chords: tuple[Chord, ...]
    seed: int
    swing: float = 0.0
    swing_unit: float = 0.5
    progressions: dict[str, tuple[str, ...]] = field(default_factory=dict, compare=False)

    @property
    def bar_beats(self) -> float:
        return self.meter.bar_beats

    @property
    def total_bars(self) -> int:
        return sum(s.bars for s in self.sections)

    @property
    def length(self) -> float:
        return self.total_bars * self.bar_beats

    def chords_in(self, section: SectionPlan) -> tuple[Chord, ...]:
        return tuple(c for c in self.chords if section.start - 1e-9 <= c.start < section.end)

    @cached_property
    def chord_starts(self) -> tuple[float, ...]:
        """Start beats of the chords, for bisecting (the timeline is sorted)."""
        return tuple(c.start for c in self.chords)

    def chord_at(self, beat: float) -> Chord:
        """The chord sounding at ``beat`` (the last chord outside the timeline)."""
        i = bisect.bisect_right(self.chord_starts, beat + 1e-9) - 1
        if i >= 0 and beat < self.chords[i].end:
            return self.chords[i]
        return self.chords[-1]

    def rng(self, *parts: object) -> random.Random:
        """A random generator for one purpose, stable for a seed whatever else is drawn."""
        return random.Random(f"{self.seed}:" + ":".join(str(p) for p in parts))


# ----------------------------------------------------------------------------------------------
# Form


def _normalise_structure(words: tuple[str, ...], style: Style) -> list[str]:
    kinds = [STRUCTURE_WORDS.get(w.lower().strip(), None) for w in words]
    return [k for k in kinds if k is not None]


def _base_bars(kind: str, style: Style) -> int:
    bars = style.form.bars
    if kind in bars:
        return int(bars[kind])
    for alt in SECTION_FALLBACKS.get(kind, ()):
        if alt in bars:
            return int(bars[alt])
    return int(bars.get("verse", 8))


_CORE_KEEP = ("chorus", "drop", "a", "head", "verse", "b")  # the heart of a form, best first
_GROWS = ("chorus", "drop", "verse", "solo", "a", "b", "head")  # may double in long pieces
_EDGES = ("intro", "outro")


def _phrase(bars: int) -> int:
    """Round a bar budget down to whole four-bar phrases (or leave a short one as it is)."""
    return bars if bars < 4 else bars - bars % 4


def _fit_sequence(seq: list[str], base: dict[str, int], total: int) -> list[tuple[str, int]]:
    """Sections in the style's order whose bar counts add up to exactly ``total``.

    The intro and outro shrink for short pieces (about an eighth of the piece each, at least
    two bars) and vanish below eight bars. The middle of the style's form is played in order,
    cycling for long pieces, each section whole, while it fits. The heart of the form (the
    chorus, the drop, the A strain) is always there and always last before the outro; a piece
    too short for the form gets the sections that lead into it. Bars left over lengthen the
    outro (up to four bars), then the last section.
    """
    middle = [k for k in seq if k not in _EDGES] or ["verse"]
    keep = next((c for c in _CORE_KEEP if c in middle), middle[-1])
    edge_cap = max(2, (total // 8) // 2 * 2)
    intro = min(base.get("intro", 0), edge_cap) if "intro" in seq and total >= 8 else 0
    outro = min(base.get("outro", 0), edge_cap) if "outro" in seq and total >= 8 else 0
    budget = total - intro - outro
    body: list[tuple[str, int]] = []
    used = 0
    i = 0
    if sum(base[k] for k in middle) <= budget:
        # Long form: the style's whole form, with more verse-to-chorus rounds inserted after
        # the second chorus (before the bridge and the final choruses), so a five-minute song
        # still has one bridge, its breakdown and build where the style has them, and an ending.
        body = [(k, base[k]) for k in middle]
        used = sum(b for _, b in body)
        first_keep = middle.index(keep)
        cycle = [(k, base[k]) for k in middle[: first_keep + 1]]
        keeps = [j for j, (k, _) in enumerate(body) if k == keep]
        at = (keeps[1] if len(keeps) > 1 else keeps[0]) + 1
        step = sum(b for _, b in cycle)
        if step and used + step <= budget:  # one more round, not five verses in a row
            body[at:at] = cycle
            at += len(cycle)
            used += step
        # An instrumental break (a solo over the verse changes) before the bridge, then the
        # final choruses ride out.
        solo = base.get("solo", base.get(cycle[0][0], 8)) if cycle else 8
        if budget - used >= solo + base[keep] and "solo" not in middle:
            body.insert(at, ("solo", solo))
            base = {**base, "solo": solo}
            used += solo
        # Still room: sections grow by whole repeats of themselves (a double chorus, a
        # longer solo), the final ones first, rather than more and more sections.
        grown = True
        while grown:
            grown = False
            for j in range(len(body) - 1, -1, -1):
                k, b = body[j]
                if k in _GROWS and b < 4 * base[k] and budget - used >= base[k]:
                    body[j] = (k, b + base[k])
                    used += base[k]
                    grown = True
        i = len(middle)
    else:
        while True:
            kind = middle[i % len(middle)]
            bars = base[kind]
            if used + bars > budget:
                break
            body.append((kind, bars))
            used += bars
            i += 1
    # The form ends on its heart: drop trailing sections after the last keep-section.
    while body and body[-1][0] != keep and any(k == keep for k, _ in body):
        used -= body.pop()[1]
    if not any(k == keep for k, _ in body):
        keep_bars = min(base[keep], _phrase(budget)) or budget
        room = budget - keep_bars
        lead_in: list[tuple[str, int]] = []
        before = middle[: middle.index(keep)] if keep in middle else []
        for kind in reversed(before):
            bars = min(base[kind], _phrase(room))
            if bars < min(4, base[kind]) or bars > room:
                break
            lead_in.insert(0, (kind, bars))
            room -= bars
        body = [*lead_in, (keep, keep_bars)]
        used = sum(b for _, b in body)
    left = budget - used
    # Room for one more whole chorus at the end of a long piece: repeat it.
    if left >= base[keep] >= 4 and total >= 48:
        body.append((keep, base[keep]))
        left -= base[keep]
    if left >= 4:  # one more (shortened) section of the form
        kind = middle[i % len(middle)] if body and body[-1][0] != keep else keep
        body.append((kind, _phrase(left)))
        left -= _phrase(left)
    if outro and left > 0:
        add = min(left, 4)
        outro += add
        left -= add
    if left > 0:
        k, b = body[-1]
        body[-1] = (k, b + left)
    items = ([("intro", intro)] if intro else []) + body + ([("outro", outro)] if outro else [])
    return [(k, b) for k, b in items if b > 0]


def _scale_bars(items: list[tuple[str, int]], total: int) -> list[tuple[str, int]]:
    """Stretch or squeeze a form to ``total`` bars, keeping every section and its order.

    Bar counts stay proportional (largest remainders first); sections shorter than one bar
    are dropped from the end only when there are more sections than bars.
    """
    items = items[:total] if len(items) > total else items
    weight = sum(b for _, b in items)
    exact = [b * total / weight for _, b in items]
    bars = [max(1, int(x)) for x in exact]
    order = sorted(range(len(items)), key=lambda i: exact[i] - int(exact[i]), reverse=True)
    i = 0
    while sum(bars) < total:
        bars[order[i % len(order)]] += 1
        i += 1
    while sum(bars) > total:
        j = max(range(len(bars)), key=lambda k: bars[k])
        bars[j] -= 1
    return [(k, b) for (k, _), b in zip(items, bars, strict=True)]


def plan_form(style: Style, *, bars: int, bar_beats: float, energy: float,
              structure: tuple[str, ...] = (), intro: bool = True) -> tuple[SectionPlan, ...]:
    """Sections with bar counts that add up to ``bars``.

    ``structure`` (section words from the request, in order) replaces the style's form;
    ``energy`` (0..1) shifts the style's per-section energy. ``intro=False`` starts straight
    in (a later segment of a story arrives with its music, not with a second intro).
    """
    if bars < 1:
        raise ParameterError("a piece needs at least one bar")
    asked = _normalise_structure(structure, style)
    seq = list(style.form.sequence)
    if not intro:
        asked = [k for k in asked if k != "intro"]
        seq = [k for k in seq if k != "intro"] or seq
    if len(asked) >= 3:  # a whole form was asked for: play it
        seq = asked
    else:  # "with a drop", "with an intro": make sure the form has them
        for kind in asked:
            if kind not in seq:
                at = len(seq) - 1 if seq and seq[-1] == "outro" else len(seq)
                seq.insert(0 if kind == "intro" else at, kind)
    base = {k: _base_bars(k, style) for k in seq}
    if len(asked) >= 3:  # a requested form keeps every section it names, shortened as needed
        items = _scale_bars([(k, base[k]) for k in seq], bars)
    else:
        items = _fit_sequence(seq, base, bars)
    counts = Counter(k for k, _ in items)
    seen: Counter[str] = Counter()
    shift = energy - style.energy
    out = []
    start = 0.0
    for i, (kind, n) in enumerate(items):
        occ = seen[kind]
        seen[kind] += 1
        name = kind.replace("_", "-") + (f" {occ + 1}" if counts[kind] > 1 else "")
        e = float(style.form.energy.get(kind, style.energy)) + 0.8 * shift
        final = occ == counts[kind] - 1
        if kind in ("chorus", "drop") and final and counts[kind] > 1:
            e += 0.1  # the last chorus lifts
        if i == len(items) - 1 and kind != "outro" and len(items) > 1:
            e += 0.05
        out.append(SectionPlan(name, kind, start, n, bar_beats, min(1.0, max(0.05, e)), occ,
                               final))
        start += n * bar_beats
    return tuple(out)


# ----------------------------------------------------------------------------------------------
# Harmony


def _progression_chords(style: Style, kind: str, prog: tuple[str, ...], key: KeySignature,
                        start: float, bars: int, bar_beats: float,
                        cadence: tuple[str, ...] | None) -> list[Chord]:
    per_bar = style.harmony.chords_per_bar(kind)
    slot_beats = bar_beats / per_bar
    slots_needed = max(1, round(bars * per_bar))
    slots = [prog[i % len(prog)] for i in range(slots_needed)]
    if cadence:
        k = min(len(cadence), len(slots))
        slots[-k:] = list(cadence[-k:])
    chords = list(realize_progression(slots, key.tonic, key.mode, start, slot_beats,
                                      merge_repeats=True))
    # The last chord ends exactly at the section end (rounding of fractional slots).
    end = start + bars * bar_beats
    if chords and abs(chords[-1].end - end) > 1e-6:
        last = chords[-1]
        chords[-1] = Chord(last.start, max(end - last.start, 1 / 960), last.root, last.quality,
                           last.bass)
    return chords


#: Section kinds that come home to the tonic: where a song's chorus ends, a tune's A strain.
HOME_KINDS = ("chorus", "a", "head", "theme", "drop")


def _home_kinds(sections: tuple[SectionPlan, ...]) -> set[str]:
    """The section kinds that end on a cadence to the tonic, besides the last section: the
    chorus (or A strain, head, theme, drop), else the verse. Ending them at home every time is
    what makes the key heard: the tonic chord returns on the strong bars that close each
    phrase group."""
    kinds = {s.kind for s in sections}
    home = kinds & set(HOME_KINDS)
    return home or (kinds & {"verse"})


def _closing_cadence(style: Style, key: KeySignature, rng: random.Random) -> tuple[str, ...]:
    """The cadence sections end on: one of the style's that lands on the tonic (no deceptive
    endings), an authentic one (through the dominant) where the style has one. In minor its
    dominant is major ("v" -> "V"): the raised leading tone tells the key from its relative
    major, which shares every other note."""
    cadences = style.harmony.cadences.get(key.mode) or style.harmony.cadences.get("major") or ()
    closing = [c for c in cadences
               if realize_progression(c[-1:], key.tonic, key.mode)[-1].root == key.tonic]
    dominant = (key.tonic + 7) % 12
    authentic = [c for c in closing if any(
        ch.root == dominant for ch in realize_progression(c, key.tonic, key.mode))]
    pool = authentic or closing
    if not pool:
        return ("V", "I") if key.mode == "major" else ("V", "i")
    cadence = tuple(rng.choice(pool))
    if key.mode == "minor":
        cadence = tuple(_major_dominant(n) for n in cadence)
    return cadence


def _major_dominant(numeral: str) -> str:
    """"v" -> "V", "v7" -> "V7" (a minor key's dominant with its leading tone); others kept."""
    if numeral.startswith("v") and not numeral.startswith(("vi", "v/")):
        return "V" + numeral[1:]
    return numeral


def plan_harmony(style: Style, sections: tuple[SectionPlan, ...], key: KeySignature,
                 rng: random.Random) -> tuple[tuple[Chord, ...], dict[str, tuple[str, ...]]]:
    """One progression per section kind (so repeats are real repeats); the home sections
    (:func:`_home_kinds`) and the last one end on the closing cadence."""
    chosen: dict[str, tuple[str, ...]] = {}
    for kind in dict.fromkeys(s.kind for s in sections):
        pool = style.progressions(kind, key.mode)
        if not pool:
            raise ParameterError(f"style {style.id!r} has no chord progressions for {kind}")
        chosen[kind] = tuple(rng.choice(pool))
    final_cadence = _closing_cadence(style, key, rng)
    home = _home_kinds(sections)
    chords: list[Chord] = []
    for i, s in enumerate(sections):
        cadence = final_cadence if i == len(sections) - 1 or s.kind in home else None
        chords += _progression_chords(style, s.kind, chosen[s.kind], key, s.start, s.bars,
                                      s.bar_beats, cadence)
    return tuple(chords), chosen


def make_plan(spec, style: Style, *, seed: int, intro: bool = True) -> Plan:
    """Plan a piece for a request: form to the requested length, harmony from the style.

    ``intro=False`` plans no intro section (see :func:`plan_form`)."""
    num, den = spec.meter
    meter = TimeSignature(0.0, int(num), int(den))
    key = KeySignature(0.0, int(spec.key_tonic), spec.mode)
    bar_seconds = meter.bar_beats * 60.0 / float(spec.bpm)
    bars = max(1, round(float(spec.duration) / bar_seconds))
    sections = plan_form(style, bars=bars, bar_beats=meter.bar_beats, energy=float(spec.energy),
                         structure=tuple(spec.structure), intro=intro)
    rng = random.Random(f"{seed}:harmony")
    chords, chosen = plan_harmony(style, sections, key, rng)
    return Plan(style=style, bpm=float(spec.bpm), key=key, meter=meter, sections=sections,
                chords=chords, seed=seed, swing=style.swing, swing_unit=style.swing_unit,
                progressions=chosen)
