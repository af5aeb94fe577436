"""Melody conditioning: a heard tune, arranged in the style a prompt asks for.

:func:`arrange` keeps the tune **note for note** in the lead (moved by whole octaves into the
lead instrument's register) and writes everything else: the request is parsed with the tune's
tempo, key and meter (the tune sets them, whatever the prompt says), the chords come from
:func:`tunecraft.compose.harmonize.harmonize`, and the accompaniment from the usual part
writers (:func:`tunecraft.compose.parts.write_part`) over a :class:`~tunecraft.compose.Plan`
built here. The form, as section markers:

* ``intro``: 2 bars (4 when bars are short) of the accompaniment over the tune's opening
  chords, ending on the dominant; one accompanying voice quotes the tune's opening motif;
* ``melody``: the tune; ``melody 2`` (and ``melody 3``) when a longer ``duration`` asks for it,
  a livelier accompaniment and the lead an octave up where the instrument has room;
* ``ending``: a cadence (IV V7 | I in 4/4, V7 | I otherwise), the last chord held.

Ensembles, from the request as understood (:func:`tunecraft.understand.parse`; no prompt word
is read here): an SATB or a cappella choir, or a choir named alone -> four voices (the soprano
sings the tune, alto, tenor and bass voiced from the chords), no instruments, no drums; a
string quartet -> violin 1 (tune), violin 2, viola, cello, no drums; an opera or a singer -> a
voice (GM 53) over the band; a guitar -> an overdriven (or nylon) guitar lead with the band;
tribal music, or flutes with percussion -> flute lead, hand percussion and a drone pad; a synth
with no genre -> the EDM style; anything else as the request is understood
(:func:`tunecraft.compose.build_ensemble`).
"""

from __future__ import annotations

import logging
import math
import statistics
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from ..checks import check_seed
from ..errors import ParameterError
from ..score import Chord, KeySignature, Note, Score, Section, TempoChange, TimeSignature, Track
from ..styles import realize
from .composition import Composition, sections_json
from .harmonize import harmonize
from .parts.lines import voice_pitch
from .plan import PartSpec, Plan, SectionPlan, score_role

if TYPE_CHECKING:
    from ..transcribe.hum import HeardMelody

log = logging.getLogger(__name__)

__all__ = ["arrange"]

_VOICES = (52, 53, 54, 85)
_ENERGY = {"intro": 0.4, "verse": 0.55, "chorus": 0.75, "outro": 0.45}


# ----------------------------------------------------------------------------------------------
# The request


def _understand(prompt: str, heard: HeardMelody, seed: int, duration: float | None):
    """The request, with the tune's tempo, key and meter. A synth named with no genre makes
    an electronic arrangement (EDM), not a pop song."""
    from ..understand import parse

    meter = f"{heard.meter.numerator}/{heard.meter.denominator}"
    bpm = min(300.0, max(20.0, round(heard.bpm, 2)))
    kwargs = dict(bpm=bpm, key=heard.key.name, meter=meter, seed=seed,
                  duration=None if duration is None else min(1200.0, max(5.0, duration)))
    spec = parse(prompt, **kwargs)
    synth = any(r.source == "explicit" and 80 <= r.program <= 103 for r in spec.instruments)
    if spec.style == "pop" and spec.evidence["style"].source == "default" and synth:
        spec = parse(prompt, style="edm", **kwargs)
    return spec


def _ensemble_kind(spec: Any) -> str:
    """"choir" (SATB: an a cappella or mixed choir, or a choir named alone), "quartet" (a
    string quartet) or "band" (everything else, as the request is understood)."""
    named = [r for r in spec.instruments if r.source == "explicit" and not r.is_drum]
    if spec.ensemble == "satb_choir" or (named and all(r.program == 52 for r in named)):
        return "choir"
    if spec.ensemble == "string_quartet":
        return "quartet"
    return "band"


# ----------------------------------------------------------------------------------------------
# Voicing lines (choir, quartet)


def _inner_lines(chords: Sequence[Chord], top: Sequence[Note], ranges: Sequence[tuple[int, int]],
                 bass_range: tuple[int, int]) -> tuple[list[list[tuple[float, float, int]]],
                                                       list[tuple[float, float, int]]]:
    """Per chord: a bass pitch (the root, nearest the last one) and one pitch for each inner
    voice between the bass and the tune, filling in the chord's missing tones (third first)
    and voice-led to move by small steps."""
    inner: list[list[tuple[float, float, int]]] = [[] for _ in ranges]
    bass: list[tuple[float, float, int]] = []
    prev: list[int | None] = [None] * len(ranges)
    prev_bass: int | None = None
    for c in chords:
        sounding = [n.pitch for n in top if n.start < c.end and n.end > c.start]
        ceiling = min(sounding) if sounding else 80
        pcs = c.pitch_classes
        lo, hi = bass_range
        root = c.bass if c.bass is not None else c.root
        roots = [p for p in range(lo, hi + 1) if p % 12 == root]
        b = min(roots, key=lambda p: abs(p - prev_bass) if prev_bass is not None
                else abs(p - (lo + hi) / 2)) if roots else lo
        bass.append((c.start, c.end, b))
        prev_bass = b
        covered = {b % 12} | {n % 12 for n in sounding[:1]}
        for i, (low, high) in enumerate(ranges):
            want = set(pcs[1:3]) - covered or set(pcs) - covered or set(pcs)
            floor = b + 2 if i == len(ranges) - 1 else b
            p = voice_pitch(pcs, low, high, prev[i], ceiling=ceiling, floor=floor, want=want)
            if p is None:
                p = max(low, min(high, ceiling - 3))
            inner[i].append((c.start, c.end, p))
            covered.add(p % 12)
            prev[i] = p
            ceiling = p
    return inner, bass


def _pulse(spans: Sequence[tuple[float, float, int]], step: float, velocity: int,
           accent_every: float) -> list[Note]:
    out = []
    for s, e, p in spans:
        t = s
        while t < e - 1e-6:
            d = min(step, e - t)
            acc = 8 if abs((t / accent_every) - round(t / accent_every)) < 1e-6 else 0
            out.append(Note(p, t, d * 0.92 if step < 4 else d, min(127, velocity + acc)))
            t += step
    return out


# ----------------------------------------------------------------------------------------------
# The arrangement


def _fit_octaves(notes: Sequence[Note], low: int, high: int) -> int:
    pitches = [n.pitch for n in notes]
    med = statistics.median(pitches)
    centre = (low + high) / 2
    best = min(range(-4, 5), key=lambda k: (sum(not low <= p + 12 * k <= high for p in pitches),
                                            abs(med + 12 * k - centre)))
    shift = 12 * best
    if any(not 0 <= p + shift <= 127 for p in pitches):
        shift = 0
    return shift


def _section_plans(kinds: Sequence[tuple[str, str, int]], bar: float, style, energy: float
                   ) -> tuple[SectionPlan, ...]:
    out = []
    start = 0.0
    seen: dict[str, int] = {}
    counts: dict[str, int] = {}
    for _, kind, _ in kinds:
        counts[kind] = counts.get(kind, 0) + 1
    for name, kind, bars in kinds:
        occ = seen.get(kind, 0)
        seen[kind] = occ + 1
        e = float(style.form.energy.get(kind, _ENERGY[kind]))
        e = min(1.0, max(0.05, e + 0.6 * (energy - style.energy) + 0.1 * occ))
        out.append(SectionPlan(name, kind, start, bars, bar, e, occ, occ == counts[kind] - 1))
        start += bars * bar
    return tuple(out)


def _adjust_parts(parts: list[PartSpec], spec: Any) -> list[PartSpec]:
    """An opera (or a singer named) sings the tune; a guitar named plays it overdriven (or on
    nylon strings when an acoustic or classical guitar is named); tribal music is a flute over
    hand percussion and a drone."""
    lead = next((p for p in parts if p.role in ("lead", "vocal")), None)
    if lead is None:
        return parts
    explicit = [r for r in spec.instruments if r.source == "explicit"]
    singer = any(r.role == "vocal" for r in explicit) or "opera" in spec.context
    guitar = next((r for r in explicit if 24 <= r.program <= 31), None)
    flute = any(r.program in (72, 73, 74, 75, 77, 78, 79) for r in explicit)
    if singer and lead.program not in _VOICES:
        new = replace(lead, name="Voice", program=53, low=60, high=81, role="vocal")
        parts = [new if p is lead else p for p in parts]
        lead = new
    if guitar is not None and 24 <= lead.program <= 31:
        nylon = guitar.program in (24, 25)
        prog = 24 if nylon else 29
        new = replace(lead, program=prog, name="Nylon Guitar" if nylon else "Overdriven Guitar",
                      low=52, high=88)
        parts = [new if p is lead else p for p in parts]
    if "tribal" in spec.context or (flute and any(p.role == "percussion" for p in parts)):
        keep = []
        for p in parts:
            if p.role == "drums" or (p.role in ("chords", "harmony", "bass")
                                     and p.source != "explicit"):
                continue
            if p.role == "pad":
                p = replace(p, name="Drone", program=89, pattern="drone", low=45, high=64)
            keep.append(p)
        if not any(p.role == "pad" for p in keep):
            keep.append(PartSpec(name="Drone", role="pad", program=89, low=45, high=64,
                                 pattern="drone", volume=80))
        parts = keep
    return parts


def arrange(melody: HeardMelody, prompt: str, *, seed: int, duration: float | None = None,
            source: str = "<melody>") -> Composition:
    """Arrange ``melody`` in the style ``prompt`` asks for, keeping the tune in the lead.

    ``duration`` (seconds) asks for a longer piece: the tune is played again (up to three
    times in all) while that fits. ``source`` names the melody in the JSON. Deterministic for
    a seed. See the module text. The composition's JSON says what melody was heard, what it
    set (tempo, key, meter), the lead, its octave shift and where the tune starts.
    """
    from ..styles import load_style
    from ..transcribe.hum import HeardMelody
    from .ensemble import build_ensemble

    if not isinstance(melody, HeardMelody):
        raise ParameterError(f"arrange needs a HeardMelody, got {type(melody).__name__}")
    seed = check_seed(seed)
    if duration is not None and not (isinstance(duration, (int, float)) and 5 <= duration <= 1200):
        raise ParameterError(f"duration {duration!r} must be 5 s to 20 minutes")
    tune = melody.notes
    if len(tune) < 2:
        raise ParameterError("the melody needs at least two notes")
    spec = _understand(prompt, melody, seed, duration)
    style = load_style(spec.style)
    meter = melody.meter
    key = KeySignature(0.0, melody.key.tonic, melody.key.mode)
    bar = meter.bar_beats
    bpm = float(spec.bpm)
    bar_s = bar * 60.0 / bpm
    tune_bars = max(1, math.ceil(max(n.end for n in tune) / bar - 1e-6))
    intro_bars = 2 if 2 * bar_s >= 3.0 else 4
    end_bars = 2
    repeats = 1
    if duration is not None:
        spare = duration - (intro_bars + end_bars) * bar_s
        repeats = max(1, min(3, round(spare / (tune_bars * bar_s))))
    kinds = [("intro", "intro", intro_bars)]
    for r in range(repeats):
        kinds.append(("melody" if r == 0 else f"melody {r + 1}", "verse" if r == 0 else
                      "chorus", tune_bars))
    kinds.append(("ending", "outro", end_bars))
    sections = _section_plans(kinds, bar, style, float(spec.energy))
    start0 = intro_bars * bar
    chords = _harmony(tune, key, meter, style, seed=seed, intro_bars=intro_bars,
                      tune_bars=tune_bars, repeats=repeats)
    plan = Plan(style=style, bpm=bpm, key=key, meter=meter, sections=sections,
                chords=tuple(chords), seed=seed, swing=style.swing,
                swing_unit=style.swing_unit)

    ensemble = _ensemble_kind(spec)
    if ensemble == "choir":
        parts = [PartSpec("Soprano", "vocal", 52, low=60, high=81, volume=104, pan=54),
                 PartSpec("Alto", "harmony", 52, low=53, high=74, volume=84, pan=74),
                 PartSpec("Tenor", "harmony", 52, low=48, high=67, volume=84, pan=44),
                 PartSpec("Bass", "bass", 52, low=40, high=60, volume=90, pan=84)]
    elif ensemble == "quartet":
        parts = [PartSpec("Violin 1", "lead", 40, low=62, high=93, volume=104, pan=40),
                 PartSpec("Violin 2", "harmony", 40, low=55, high=79, volume=80, pan=58),
                 PartSpec("Viola", "harmony", 41, low=48, high=72, volume=80, pan=74),
                 PartSpec("Cello", "bass", 42, low=36, high=60, volume=92, pan=90)]
    else:
        parts = _adjust_parts(list(build_ensemble(spec, style, plan)), spec)
    lead = next((p for p in parts if p.role in ("lead", "vocal")), None)
    if lead is None:
        lead = PartSpec("Melody", "lead", 73, low=60, high=96)
        parts.insert(0, lead)

    # The tune, octave-shifted as a whole into the lead's register.
    shift = _fit_octaves(tune, lead.low, lead.high)
    lead_notes: list[Note] = []
    for r in range(repeats):
        off = start0 + r * tune_bars * bar
        up = 12 if r > 0 and max(n.pitch for n in tune) + shift + 12 <= lead.high + 2 else 0
        for n in tune:
            accent = 6 if abs(n.start % bar) < 1e-6 else 0
            vel = min(127, 86 + accent + 6 * r)
            lead_notes.append(Note(n.pitch + shift + up, n.start + off, n.duration, vel,
                                   n.lyric))
    # Accompaniment ranges sit under the tune as played; one part quotes its opening motif.
    tune_low = min(n.pitch for n in tune) + shift
    motif = [n for n in tune if n.start < bar + (tune[0].start // bar) * bar]
    if ensemble in ("choir", "quartet"):
        tracks = _voiced(plan, parts, lead, lead_notes, motif, tune_low, quartet=ensemble
                         == "quartet")
    else:
        tracks = _accompanied(plan, parts, lead, lead_notes, motif, tune_low)
    title = f"{melody.score.title or 'melody'} - {prompt.strip()[:60]}"
    score = Score(tracks=tuple(tracks), tempos=(TempoChange(0.0, bpm),),
                  time_signatures=(meter,), key_signatures=(key,),
                  sections=tuple(Section(s.name, s.start, s.length) for s in sections),
                  chords=plan.chords, title=title, length=plan.length)
    return Composition(kind="arrangement", score=score, spec=spec, seed=seed,
                       request={"prompt": spec.prompt, "seed": seed, "melody": source},
                       meta=_meta(score, spec, melody, lead=lead.name, shift=shift,
                                  start=start0, ensemble=ensemble),
                       reverb=float(style.mix.reverb))


def _harmony(tune: Sequence[Note], key: KeySignature, meter: TimeSignature, style: Any, *,
             seed: int, intro_bars: int, tune_bars: int, repeats: int) -> list[Chord]:
    """The tune's chords (each time round), the intro on its opening chords ending on the
    dominant, and a cadence at the end (IV V7 | I in 4/4, V7 | I otherwise)."""
    bar = meter.bar_beats
    start0 = intro_bars * bar
    tune_chords = harmonize(tune, key=key, meter=meter, style=style,
                            length_beats=tune_bars * bar, seed=seed)
    chords: list[Chord] = []
    opening = [c for c in tune_chords if c.start < (intro_bars - 1) * bar]
    for c in opening:
        chords.append(Chord(c.start, min(c.end, (intro_bars - 1) * bar) - c.start, c.root,
                            c.quality))
    chords.append(realize("V7", key.tonic, key.mode, start=(intro_bars - 1) * bar, duration=bar))
    for r in range(repeats):
        off = start0 + r * tune_bars * bar
        chords += [Chord(c.start + off, c.duration, c.root, c.quality) for c in tune_chords]
    end0 = start0 + repeats * tune_bars * bar
    tonic = "I" if key.mode == "major" else "i"
    if meter.numerator == 4:
        chords += [realize("IV" if key.mode == "major" else "iv", key.tonic, key.mode,
                           start=end0, duration=bar / 2),
                   realize("V7", key.tonic, key.mode, start=end0 + bar / 2, duration=bar / 2)]
    else:
        chords.append(realize("V7", key.tonic, key.mode, start=end0, duration=bar))
    chords.append(realize(tonic, key.tonic, key.mode, start=end0 + bar, duration=bar))
    return [Chord(c.start, c.duration, c.root, c.quality) for c in chords]


def _voiced(plan: Plan, parts: Sequence[PartSpec], lead: PartSpec, lead_notes: list[Note],
            motif: Sequence[Note], tune_low: int, *, quartet: bool) -> list[Track]:
    """A choir or a string quartet: the inner voices and the bass voice-led from the chords
    under the tune (held by a choir, pulsing in a quartet); the first inner voice quotes the
    tune's opening motif in the intro."""
    from .parts import humanize

    bar, meter = plan.bar_beats, plan.meter
    inner_parts = [p for p in parts if p.role == "harmony"]
    bass_part = next(p for p in parts if p.role == "bass")
    ranges = [(p.low, min(p.high, tune_low + 4)) for p in inner_parts]
    inner, bass = _inner_lines(plan.chords, lead_notes, ranges, (bass_part.low, bass_part.high))
    tracks: list[Track] = []
    hint_done = False
    for p in parts:
        if p is lead:
            notes = lead_notes
        elif p.role == "bass":
            step = bar / 2 if meter.numerator == 4 and quartet else bar
            notes = _pulse(bass, step if quartet else 64.0, 84, bar)
        else:
            spans = inner[inner_parts.index(p)]
            notes = (_pulse(spans, 1.0 if meter.denominator == 4 else 1.5, 70, bar)
                     if quartet else _pulse(spans, 64.0, 72, bar))
            if not hint_done:
                notes = _with_hint(notes, motif, p, 0.0, bar)
                hint_done = True
        if p is not lead:
            notes = list(humanize(tuple(n for n in notes if n.start < plan.length), plan, p))
        tracks.append(_track(p, notes))
    return tracks


def _accompanied(plan: Plan, parts: Sequence[PartSpec], lead: PartSpec,
                 lead_notes: list[Note], motif: Sequence[Note], tune_low: int) -> list[Track]:
    """A band: every other part written by the part writers, kept under the tune; the first
    counter-line or chord part quotes the tune's opening motif in the intro."""
    from .parts import humanize, write_part

    tracks: list[Track] = []
    hint_done = False
    for p in parts:
        if p is lead:
            notes = lead_notes
        else:
            if p.role in ("chords", "harmony", "pad", "strings", "arp", "counter") \
                    and not p.is_drum and p.high > tune_low + 5:
                p = replace(p, high=max(tune_low + 5, p.low + 12))
            notes = list(write_part(plan, p, melody=tuple(lead_notes)))
            if not hint_done and p.role in ("counter", "chords", "harmony", "strings") \
                    and not p.is_drum:
                notes = _with_hint(notes, motif, p, 0.0, plan.bar_beats)
                hint_done = True
            notes = list(humanize(tuple(notes), plan, p))
        tracks.append(_track(p, notes))
    return tracks


def _meta(score: Score, spec: Any, heard: HeardMelody, *, lead: str, shift: int, start: float,
          ensemble: str) -> dict[str, Any]:
    """The JSON of the arrangement: the melody heard, what it set, the lead, the form."""
    from ..understand import explain

    given = (f"tempo {heard.bpm:g} bpm, key {heard.key.name} and meter {heard.meter} come "
             f"from the melody")
    return {
        "melody_heard": heard.to_dict(),
        "conditioning": {"set_by_melody": ["tempo", "key", "meter"], "note": given,
                         "lead": lead, "octave_shift": shift, "melody_start_beat": start,
                         "melody_start_seconds": round(score.seconds_at(start), 4),
                         "ensemble": ensemble},
        "spec": spec.to_dict(),
        "explanation": [given, *explain(spec).splitlines()],
        "chords": [{"beat": c.start, "symbol": c.spelled(score.key)} for c in score.chords],
        "sections": sections_json(score),
    }


def _with_hint(notes: Sequence[Note], motif: Sequence[Note], part: PartSpec, at: float,
               bar: float) -> list[Note]:
    """The part quotes the tune's opening motif in the first bar of the intro."""
    if not motif:
        return list(notes)
    first_bar = (motif[0].start // bar) * bar
    shift = _fit_octaves(motif, part.low, part.high)
    end = at + bar
    kept = [n for n in notes if not (at - 1e-6 <= n.start < end)]
    # A note held into the quote from before stops where it starts.
    kept = [Note(n.pitch, n.start, at - n.start, n.velocity, n.lyric)
            if n.start < at < n.end else n for n in kept]
    quote = [Note(n.pitch + shift, n.start - first_bar + at, min(n.duration, end - (
        n.start - first_bar + at)), 78) for n in motif if n.start - first_bar + at < end]
    return sorted([*kept, *quote], key=lambda n: (n.start, n.pitch))


def _track(part: PartSpec, notes: Sequence[Note]) -> Track:
    role = score_role(part.role)
    return Track(name=part.name, notes=tuple(notes), program=0 if part.is_drum else part.program,
                 is_drum=part.is_drum, role=role, volume=part.volume, pan=part.pan)
