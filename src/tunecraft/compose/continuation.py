"""Continuation: a piece (MIDI, MusicXML, or audio once transcribed) goes on from where it ends.

>>> from tunecraft.compose.continuation import continue_score
>>> result = continue_score(score, duration=20, seed=1)            # doctest: +SKIP
>>> result.score      # the input, unchanged, then 20 s more        # doctest: +SKIP
>>> result.new        # the continuation alone, from beat 0          # doctest: +SKIP

How a continuation is written, as a composer would describe it:

* **What is kept.** The tempo, meter and key in force at the input's end, and every track
  (name, program, drum flag, volume, pan), unless the prompt states otherwise. Only what the
  prompt says explicitly changes (the spec's evidence tells said from implied): "faster" and
  "slower" are relative to the input (x1.2, /1.2), "in 4/4" changes the meter, "in G major" the
  key, "jazz" the style, a named instrument joins, "no drums" silences the kit. Without a
  prompt the style is guessed from the instrumentation and tempo (a kit with a bass and
  guitars: rock; a kit with synths: pop or EDM; strings alone: classical; a piano alone:
  classical, or a lullaby when slow), and said in ``notes``. A file whose key signature is the
  bare C major default and whose notes say otherwise gets the key its notes have.
* **Roles.** A track's role is used when it is specific (lead, bass, drums, pad...); a generic
  "harmony" track is read from its notes: the lowest, mostly single-note track is the bass, the
  highest, most single-note one the lead, long held chords a pad, other chords the comping. A
  piano alone playing melody and chords continues as both hands in its one track.
* **The tune grows from the input's.** The lead's characteristic motif, the pattern of 3-6
  notes (scale steps and rhythm) that recurs most often, or else its opening, is the hook
  motif of the continuation (:func:`~tunecraft.compose.melody.write_melody` with ``motif``);
  the other sections develop it (inversion, rhythmic variation, a new tail). The melody keeps
  the input lead's register, density and step/leap balance.
* **The join.** The continuation starts at the input's end rounded up to the next bar line
  (``join_beat``); when the input stops mid-bar, the lead completes that bar with a pickup
  stepping into the first new note. The harmony continues from the input's last chord
  (``score.chords`` or read from the last bar's notes): after a dominant, subtonic or
  subdominant chord the continuation opens on the tonic (a cadence into the new section); after
  the tonic its progression simply begins; after any other chord (ii, vi, iii...) a link bar on
  the dominant leads home first; a new key is reached through its dominant. Each track's
  loudness starts at the level of its last two bars and moves, over four bars, to its overall
  level in the input. Notes still sounding at the join ring to their natural end.
* **Exactness.** The input's notes, tempo map, meters and keys are unchanged before the join;
  a changed tempo or meter takes effect exactly at ``join_beat``. The output lasts the input
  plus ``duration`` seconds within one bar. The continuation ends on a cadence.
"""

from __future__ import annotations

import logging
import math
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from itertools import pairwise
from typing import TYPE_CHECKING, Any

from ..checks import check_seed
from ..errors import ParameterError
from ..score import (
    Chord,
    KeySignature,
    Note,
    Score,
    Section,
    TempoChange,
    TimeSignature,
    Track,
    snap,
)
from ..score.types import EPS as _EPS
from .composition import Composition

if TYPE_CHECKING:
    from ..styles import Style
    from ..understand import MusicSpec
    from .melody import Motif
    from .plan import PartSpec, Plan

log = logging.getLogger(__name__)

__all__ = ["MAX_SECONDS", "continue_score"]

MAX_SECONDS = 1200.0  # 20 minutes, for the input and for the continuation
_END_TOLERANCE = 0.25  # beats a note may ring past a bar line without starting a new bar
_TEMPO_STEP = 1.2  # "faster" / "slower"
_MELODIC_ROLES = ("lead", "melody", "vocal")
_SPEC_ROLE = {"lead": "lead", "vocal": "vocal", "counter": "counter", "chords": "chords",
              "harmony": "harmony", "bass": "bass", "drums": "drums", "percussion": "percussion",
              "pad": "pad", "arp": "arp", "strings": "strings"}  # fmt: skip


# ----------------------------------------------------------------------------------------------
# Reading the input


def _pitched(tracks: Sequence[Track]) -> list[Track]:
    return [t for t in tracks if not t.is_drum and t.notes]


def _input_end(score: Score) -> float:
    """Where the input's music ends: its last note's end, or its length when that is a little
    later (a rest to the bar line), never a trailing stretch of more than a bar of silence."""
    notes_end = max(n.end for n in score.notes)
    length = float(score.length or 0.0)
    bar = score.time_signature_at(notes_end).bar_beats
    if notes_end < length <= notes_end + bar + _EPS:
        return length
    return notes_end


def _join(score: Score, end: float) -> float:
    """The bar line at or after ``end`` (a note ringing a little past a bar line is let ring)."""
    line = score.next_bar_line(max(0.0, end - _END_TOLERANCE))
    return line if line >= end - _END_TOLERANCE - _EPS else score.next_bar_line(end)


def _polyphony(t: Track) -> float:
    """Notes per onset (1.0: a single line)."""
    onsets = Counter(round(n.start * 16) for n in t.notes)
    return len(t.notes) / max(1, len(onsets))


def _mean(values: Sequence[float], default: float = 0.0) -> float:
    return sum(values) / len(values) if values else default


def _assign_roles(tracks: Sequence[Track]) -> dict[str, str]:
    """The role each track plays in the continuation (see the module docs)."""
    roles: dict[str, str] = {}
    generic: list[Track] = []
    for t in tracks:
        if not t.notes:
            continue
        if t.is_drum:
            roles[t.name] = "percussion" if t.role == "percussion" else "drums"
        elif t.role == "melody":
            roles[t.name] = "lead"
        elif t.role != "harmony":
            roles[t.name] = t.role
        else:
            generic.append(t)
    pitched = _pitched(tracks)
    mean_pitch = {t.name: _mean([n.pitch for n in t.notes]) for t in pitched}
    if generic:
        if "bass" not in roles.values():
            low = min(generic, key=lambda t: mean_pitch[t.name])
            if (len(pitched) > 1 and mean_pitch[low.name] < 55 and _polyphony(low) < 1.3
                    and mean_pitch[low.name] <= min(mean_pitch.values()) + _EPS):
                roles[low.name] = "bass"
                generic.remove(low)
        if generic and not any(r in _MELODIC_ROLES for r in roles.values()):
            best = max(generic, key=lambda t: mean_pitch[t.name] - 6 * (_polyphony(t) - 1))
            if _polyphony(best) < 1.6 or len(pitched) == 1:
                roles[best.name] = "lead"
                generic.remove(best)
        for t in generic:
            long_notes = _mean([n.duration for n in t.notes]) >= 0.75 * 4
            roles[t.name] = "pad" if long_notes and _polyphony(t) >= 1.5 else "chords"
    # One lead: further melody tracks answer it.
    seen_lead = False
    for t in tracks:
        if roles.get(t.name) in _MELODIC_ROLES:
            if seen_lead:
                roles[t.name] = "counter"
            seen_lead = True
    return roles


def _skyline(notes: Sequence[Note]) -> list[Note]:
    """The top line of a part: the highest note of each onset."""
    by_onset: dict[int, Note] = {}
    for n in notes:
        k = round(n.start * 48)
        if k not in by_onset or n.pitch > by_onset[k].pitch:
            by_onset[k] = n
    return [by_onset[k] for k in sorted(by_onset)]


def _degree_index(pitch: int, key: KeySignature) -> int:
    """Diatonic position of a pitch in a key (7 per octave; chromatic notes round down)."""
    rel = pitch - key.tonic
    octave, pc = divmod(rel, 12)
    steps = [(s - key.tonic) % 12 for s in key.scale]
    deg = max(i for i, s in enumerate(steps) if s <= pc)
    return octave * 7 + deg


def scale_steps(notes: Sequence[Note], key: KeySignature) -> list[int]:
    """The moves between consecutive notes in scale steps of ``key`` (a line's contour)."""
    idx = [_degree_index(n.pitch, key) for n in notes]
    return [b - a for a, b in pairwise(idx)]


_TRIADS = (("", (0, 4, 7)), ("m", (0, 3, 7)), ("dim", (0, 3, 6)))


def estimate_chord(notes: Sequence[Note], start: float, end: float,
                   key: KeySignature) -> Chord | None:
    """The triad that best explains the pitched notes sounding in ``[start, end)``."""
    weight = [0.0] * 12
    lowest: tuple[int, float] | None = None
    for n in notes:
        a, b = max(n.start, start), min(n.end, end)
        if b - a <= _EPS:
            continue
        weight[n.pitch % 12] += b - a
        if lowest is None or n.pitch < lowest[0]:
            lowest = (n.pitch, b - a)
    total = sum(weight)
    if total <= 0:
        return None
    best, best_score = None, -math.inf
    for root in range(12):
        for quality, ivs in _TRIADS:
            pcs = {(root + i) % 12 for i in ivs}
            score = sum(w for pc, w in enumerate(weight) if pc in pcs)
            score -= 0.6 * sum(w for pc, w in enumerate(weight) if pc not in pcs)
            score += 0.4 * weight[root]
            if lowest is not None and lowest[0] % 12 == root:
                score += 0.25 * total
            if all(pc in key.scale for pc in pcs):
                score += 0.1 * total
            if quality == "dim":
                score -= 0.1 * total
            if score > best_score:
                best, best_score = Chord(snap(start), max(end - start, 1 / 960), root,
                                         quality), score
    return best


def _chord_at(score: Score, pitched: Sequence[Note], beat: float,
              key: KeySignature) -> Chord | None:
    for c in score.chords:
        if c.start - _EPS <= beat < c.end - _EPS:
            return c
    sig = score.time_signature_at(beat)
    bar_start = beat - ((beat - sig.beat) % sig.bar_beats)
    return estimate_chord(pitched, bar_start, bar_start + sig.bar_beats, key)


def _last_chord(score: Score, end: float, key: KeySignature) -> Chord | None:
    """The input's last harmony: its chord timeline at the end, or read from its last bar."""
    if score.chords:
        last = max(score.chords, key=lambda c: c.start)
        if last.end >= end - score.time_signature_at(end).bar_beats:
            return last
    pitched = [n for t in _pitched(score.tracks) for n in t.notes]
    last_onset = max(n.start for n in pitched)
    sig = score.time_signature_at(last_onset)
    bar_start = last_onset - ((last_onset - sig.beat) % sig.bar_beats)
    return estimate_chord(pitched, bar_start, max(end, last_onset + 0.25), key)


# ----------------------------------------------------------------------------------------------
# The motif


def extract_motif(lead: Sequence[Note], score: Score, key: KeySignature,
                  meter: TimeSignature) -> tuple[Motif | None, dict[str, Any]]:
    """The lead's characteristic motif, as a :class:`~tunecraft.compose.melody.Motif` in
    ``meter``, and a description of it (where it came from, its steps and rhythm).

    The pattern of 3-6 notes whose scale steps and rhythm (onset gaps, to a sixteenth) recur
    most often (ties: the longer one, then the earlier); a lead without a repeated pattern
    gives its opening (up to six notes within two bars).
    """
    from .melody import fit_motif

    line = _skyline(lead)
    if len(line) < 3:
        return None, {"source": "none", "reason": "the lead has fewer than three notes"}
    steps = scale_steps(line, key)
    gaps = [round((b.start - a.start) * 4) / 4 for a, b in pairwise(line)]
    best: tuple[float, int, int] | None = None  # (weight, n, first index)
    count_of = 0
    for n in range(6, 2, -1):
        seen: dict[tuple, list[int]] = {}
        for i in range(len(line) - n + 1):
            key_ = (tuple(steps[i:i + n - 1]), tuple(gaps[i:i + n - 1]))
            if all(s == 0 for s in key_[0]) or any(g <= 0 for g in key_[1]):
                continue
            seen.setdefault(key_, []).append(i)
        for occ in seen.values():
            # Occurrences that do not overlap.
            count, last = 0, -10**9
            for i in occ:
                if i >= last + n - 1:
                    count, last = count + 1, i
            if count < 2:
                continue
            cand = (count * (n - 1), n, -occ[0])
            if best is None or cand > (best[0], best[1], -best[2]):
                best, count_of = (cand[0], n, occ[0]), count
    sig = score.time_signature_at(line[0].start)
    bar = sig.bar_beats
    if best is not None:
        _, n, i0 = best
        chosen = line[i0:i0 + n]
        source = "repeated"
    else:
        i0 = 0
        chosen = [x for x in line if x.start < line[0].start + 2 * bar - _EPS][:6]
        if len(chosen) < 3:
            chosen = line[:3]
        source = "opening"
    first = chosen[0]
    # A swung lead (off-beats late, at about two thirds of the beat) is read straight: the
    # melody writer swings again in a swung style.
    fracs = [x.start % 1.0 for x in line if 0.1 < x.start % 1.0 < 0.9]
    swung = len(fracs) >= 4 and sum(1 for f in fracs if 0.58 <= f <= 0.76) >= 0.6 * len(fracs)

    def straight(t: float) -> float:
        f = t % 1.0
        return t - f + 0.5 if swung and 0.58 <= f <= 0.76 else t

    sig = score.time_signature_at(first.start)
    bar = sig.bar_beats
    o0 = (straight(first.start) - sig.beat) % bar
    o0 = 0.0 if bar - o0 < 0.25 else o0
    events: list[tuple[float, int, bool]] = []
    prev_idx = None
    for x in chosen:
        at = o0 + straight(x.start) - straight(first.start)
        if at >= 2 * bar - _EPS:
            break
        idx = _degree_index(x.pitch, key)
        events.append((at, 0 if prev_idx is None else idx - prev_idx, False))
        prev_idx = idx
    bars = 1 if events[-1][0] + 0.25 <= bar + _EPS else 2
    last = chosen[len(events) - 1]
    tail = events[-1][0] + last.duration
    if tail < bars * bar - 0.25:
        events.append((round(tail * 4) / 4, 0, True))  # the breath after the motif
    pitched = [n for t in _pitched(score.tracks) for n in t.notes]
    chord = _chord_at(score, pitched, first.start, key)
    degree = 0
    if chord is not None:
        rel = (first.pitch - chord.root) % 12
        degree = 1 if rel in (3, 4) else 2 if rel in (6, 7, 8) else 0
    from .melody import Motif as _M

    raw = _M(tuple(events), bars, degree)
    motif = fit_motif(raw, TimeSignature(0.0, sig.numerator, sig.denominator), meter)
    info = {"source": source, "start_beat": first.start,
            "notes": [x.pitch for x in chosen[:len([e for e in events if not e[2]])]],
            "scale_steps": [s for _, s, r in events if not r][1:],
            "onsets": [round(o, 4) for o, _, r in motif.events if not r],
            "bars": bars, "chord_degree": degree, "occurrences": count_of or 1}
    return motif, info


# ----------------------------------------------------------------------------------------------
# The request


def _guess_style(tracks: Sequence[Track], roles: Mapping[str, str], bpm: float,
                 meter: tuple[int, int]) -> tuple[str, str]:
    from ..gm import program_family

    pitched = _pitched(tracks)
    families = [program_family(t.program) for t in pitched]
    programs = {t.program for t in pitched}
    drums = any(t.is_drum and t.notes for t in tracks)
    if drums:
        if 32 in programs and any(f in ("piano", "reed", "brass") for f in families):
            return "jazz", "a kit, an acoustic bass and piano or horns: jazz"
        if any(f == "guitar" for f in families) and (programs & {29, 30} or bpm >= 100):
            return "rock", "a kit, a bass and guitars: rock"
        if any(f in ("synth lead", "synth pad") for f in families):
            return ("edm", "a kit with synths at a dance tempo: EDM") if bpm >= 120 else (
                "pop", "a kit with synths: pop")
        return "pop", "a band with a drum kit: pop"
    if families and all(f in ("strings", "ensemble") for f in families):
        return "classical", "strings only: classical"
    if families and all(f == "piano" for f in families):
        if bpm < 80 and meter in ((3, 4), (6, 8), (4, 4)):
            return "lullaby", "a piano alone at a slow tempo: a lullaby"
        return "classical", "a piano alone: classical"
    if families and all(f == "guitar" for f in families):
        return "folk", "guitars alone: folk"
    if families and all(f in ("synth pad", "synth effects") for f in families):
        return "ambient", "synth pads alone: ambient"
    return "classical", "no drum kit: classical"


def _velocity_energy(score: Score, end: float) -> float:
    """The energy (0..1) the input's last bars suggest, from how loudly they are played."""
    bar = score.time_signature_at(end).bar_beats
    vel = [n.velocity for t in _pitched(score.tracks) for n in t.notes if n.start >= end - 2 * bar]
    v = _mean(vel, 80.0)
    return min(0.95, max(0.1, 0.15 + (v - 40.0) / 80.0 * 0.8))


@dataclass
class _Request:
    spec: MusicSpec
    kept: dict[str, Any]
    changed: dict[str, Any]
    notes: list[str]
    loudness: float = 1.0  # "louder" / "softer"


def _request(source: Score, *, prompt: str | None, duration: float, seed: int, end: float,
             key: KeySignature, key_note: str, roles: Mapping[str, str]) -> _Request:
    from ..understand import DURATION_RANGE, Evidence, InstrumentRequest, MusicSpec, parse

    bpm = source.bpm_at(max(0.0, end - _EPS))
    sig = source.time_signature_at(max(0.0, end - _EPS))
    meter = (sig.numerator, sig.denominator)
    style, why = _guess_style(source.tracks, roles, bpm, meter)
    energy = _velocity_energy(source, end)
    kept: dict[str, Any] = {"tempo_bpm": bpm, "meter": f"{meter[0]}/{meter[1]}",
                            "key": key.name, "tracks": [t.name for t in source.tracks
                                                        if t.notes]}
    changed: dict[str, Any] = {}
    notes = [key_note] if key_note else []
    ev: dict[str, Evidence] = {
        "bpm": Evidence(bpm, (), "inferred", "the input's tempo at its end"),
        "meter": Evidence(list(meter), (), "inferred", "the input's meter at its end"),
        "key": Evidence(key.name, (), "inferred", key_note or "the input's key"),
        "style": Evidence(style, (), "inferred", f"guessed from the input: {why}"),
        "energy": Evidence(round(energy, 3), (), "inferred", "from the input's last bars"),
        "duration": Evidence(duration, (), "explicit", "given as an option"),
    }
    loudness = 1.0
    instruments = tuple(
        InstrumentRequest(name=t.name, program=t.program,
                          is_drum=t.is_drum, role=_SPEC_ROLE.get(roles[t.name], "harmony"),
                          source="inferred")
        for t in source.tracks if t.name in roles)
    ev["instruments"] = Evidence([i.name for i in instruments], (), "inferred",
                                 "the input's tracks, each continuing")
    spec = MusicSpec(prompt=prompt or "", style=style, bpm=bpm, key_tonic=key.tonic,
                     mode=key.mode, meter=meter, duration=duration,
                     drums=any(i.is_drum for i in instruments), instruments=instruments,
                     energy=round(energy, 3), density=0.5, seed=seed, evidence=ev)
    if prompt is None:
        notes.append(f"style guessed from the input: {why}")
        return _Request(spec, kept, changed, notes)
    asked = parse(prompt, duration=min(max(duration, DURATION_RANGE[0]), DURATION_RANGE[1]),
                  seed=seed)
    said = {k for k, e in asked.evidence.items() if e.source == "explicit"}
    updates: dict[str, Any] = {"prompt": prompt, "language": asked.language}
    if "style" in said:
        updates["style"] = asked.style
        updates["genres"] = asked.genres
        ev["style"] = asked.evidence["style"]
        changed["style"] = asked.style
    else:
        notes.append(f"style guessed from the input: {why}")
    if "bpm" in said:
        words = asked.evidence["bpm"].words
        numeric = any(re.search(r"\d", w) for w in words)
        if not numeric and "faster" in asked.changes:
            new_bpm = round(min(300.0, bpm * _TEMPO_STEP), 1)
            note = f"faster: the input's {bpm:g} bpm x{_TEMPO_STEP:g}"
        elif not numeric and "slower" in asked.changes:
            new_bpm = round(max(20.0, bpm / _TEMPO_STEP), 1)
            note = f"slower: the input's {bpm:g} bpm /{_TEMPO_STEP:g}"
        else:
            new_bpm, note = asked.bpm, asked.evidence["bpm"].note
        updates["bpm"] = new_bpm
        ev["bpm"] = Evidence(new_bpm, words, "explicit", note)
        changed["tempo_bpm"] = new_bpm
        kept.pop("tempo_bpm")
    if "meter" in said and tuple(asked.meter) != meter:
        updates["meter"] = asked.meter
        ev["meter"] = asked.evidence["meter"]
        changed["meter"] = f"{asked.meter[0]}/{asked.meter[1]}"
        kept.pop("meter")
    if "key" in said or "mode" in said:
        tonic = asked.key_tonic if "key" in said else key.tonic
        if (tonic, asked.mode) != (key.tonic, key.mode):
            updates.update(key_tonic=tonic, mode=asked.mode)
            ev["key"] = asked.evidence.get("key") or asked.evidence["mode"]
            changed["key"] = KeySignature(0.0, tonic, asked.mode).name
            kept.pop("key")
    if asked.moods and asked.evidence.get("moods") and asked.evidence["moods"].source == \
            "explicit":
        updates["moods"] = asked.moods
        updates["energy"] = asked.energy
        ev["energy"] = asked.evidence["energy"]
        changed["energy"] = asked.energy
    explicit = tuple(i for i in asked.instruments if i.source == "explicit")
    if explicit:
        updates["instruments"] = instruments + explicit
        changed["instruments_added"] = [i.name for i in explicit]
    if asked.excluded:
        updates["excluded"] = asked.excluded
        changed["excluded"] = list(asked.excluded)
    drums_ev = asked.evidence.get("drums")
    if drums_ev is not None and drums_ev.source == "explicit":
        updates["drums"] = asked.drums
        changed["drums"] = asked.drums
    if asked.structure:
        updates["structure"] = asked.structure
        changed["structure"] = list(asked.structure)
    if "louder" in asked.changes:
        loudness = 1.15
        changed["dynamics"] = "louder"
    elif "softer" in asked.changes:
        loudness = 0.82
        changed["dynamics"] = "softer"
    spec = replace(spec, **updates, evidence=ev)
    if not changed:
        notes.append("the prompt states nothing that changes the input's tempo, meter, key, "
                     "style or instruments: all kept")
    return _Request(spec, kept, changed, notes, loudness)


# ----------------------------------------------------------------------------------------------
# The plan


def _function_of(chord: Chord | None, key: KeySignature) -> str:
    if chord is None:
        return "unknown"
    rel = (chord.root - key.tonic) % 12
    if rel == 0:
        return "tonic"
    if rel == 7 or (rel == 11 and chord.quality.startswith("dim")):
        return "dominant"
    if rel == 10 and (key.mode == "minor" or chord.quality in ("", "7")):
        return "subtonic"
    if rel == 5:
        return "subdominant"
    return "other"


def _tonic_chord(key: KeySignature, start: float, duration: float) -> Chord:
    return Chord(start, duration, key.tonic, "m" if key.mode == "minor" else "")


def _plan(spec: MusicSpec, style: Style, *, bars: int, seed: int, last: Chord | None,
          input_key: KeySignature) -> tuple[Plan, dict[str, Any]]:
    """The continuation's plan: the style's form without an intro, harmony that takes off
    from the input's last chord (see the module docs)."""
    import random

    from .plan import Plan, plan_form, plan_harmony

    meter = TimeSignature(0.0, *spec.meter)
    key = KeySignature(0.0, spec.key_tonic, spec.mode)
    bb = meter.bar_beats
    key_change = (key.tonic, key.mode) != (input_key.tonic, input_key.mode)
    function = _function_of(last, key) if not key_change else "key change"
    link = bars >= 3 and (key_change or function in ("other", "unknown"))
    body = bars - 1 if link else bars
    sections = list(plan_form(style, bars=body, bar_beats=bb, energy=float(spec.energy),
                              structure=tuple(spec.structure)))
    if len(sections) > 1 and sections[0].kind == "intro":  # a continuation needs no intro
        nxt = sections[1]
        sections = [replace(nxt, start=0.0, bars=nxt.bars + sections[0].bars), *sections[2:]]
    chords, chosen = plan_harmony(style, tuple(sections), key, random.Random(f"{seed}:harmony"))
    chords = list(chords)
    info: dict[str, Any] = {"input_last_chord": last.spelled(input_key) if last else None,
                            "function": function, "link_bar": None}
    first = chords[0]
    if function in ("dominant", "subtonic", "subdominant", "key change", "other", "unknown"):
        if (first.root, first.quality) != (key.tonic, "m" if key.mode == "minor" else ""):
            chords[0] = _tonic_chord(key, first.start, first.duration)
        info["opening"] = "a cadence into the new section: it opens on the tonic"
    else:
        info["opening"] = "after the tonic, the section's progression begins"
    if link:
        dom = Chord(0.0, bb, (key.tonic + 7) % 12, "7")
        chords = [dom] + [replace(c, start=c.start + bb) for c in chords]
        s0 = sections[0]
        sections = [replace(s0, bars=s0.bars + 1)] + [replace(s, start=s.start + bb)
                                                      for s in sections[1:]]
        info["link_bar"] = dom.spelled(key)
        info["opening"] = (f"a link bar on the dominant ({dom.spelled(key)}) leads "
                           + ("into the new key" if key_change else "home to the tonic"))
    info["first_chords"] = [c.spelled(key) for c in chords[:4]]
    plan = Plan(style=style, bpm=float(spec.bpm), key=key, meter=meter,
                sections=tuple(sections), chords=tuple(chords), seed=seed, swing=style.swing,
                swing_unit=style.swing_unit, progressions=chosen)
    return plan, info


# ----------------------------------------------------------------------------------------------
# The parts


def _register(notes: Sequence[Note], *, min_span: int, floor: int = 21,
              ceiling: int = 108) -> tuple[int, int]:
    lo, hi = min(n.pitch for n in notes), max(n.pitch for n in notes)
    lo, hi = lo - 2, hi + 2
    while hi - lo < min_span:
        lo, hi = lo - 1, hi + 1
    return max(floor, lo), min(ceiling, hi)


_STYLE_ROLE = {"chords": "harmony", "counter": "counter", "strings": "strings", "pad": "pad",
               "arp": "arp"}  # fmt: skip


def _part_for(track: Track, role: str, style: Style, *,
              register: tuple[int, int] | None = None) -> PartSpec:
    from .plan import PartSpec

    default = style.instrument(_STYLE_ROLE.get(role, role)) or style.instrument(role)
    if register is not None:
        low, high = register
    elif track.is_drum:
        low, high = 35, 81
    elif role == "bass":
        low, high = _register(track.notes, min_span=14)
    elif role in _MELODIC_ROLES:
        low, high = _register(track.notes, min_span=17)
    else:
        low, high = _register(track.notes, min_span=14)
    pattern = getattr(default, "pattern", None)
    if role in ("chords", "harmony") and pattern in (None, "line"):
        pattern = "block"
    return PartSpec(name=track.name, role=role, program=track.program,
                    is_drum=track.is_drum, low=low, high=high, pattern=pattern,
                    rhythm=getattr(default, "rhythm", None),
                    rhythm_steps_per_beat=getattr(default, "rhythm_steps_per_beat", 4),
                    sections=None, volume=track.volume, pan=track.pan, source="explicit")


def _character(style: Style, lead: Sequence[Note], key: KeySignature):
    """The style's melody character, moved toward how the input's lead moves."""
    ch = style.melody
    line = _skyline(lead)
    if len(line) < 3:
        return ch
    span = max(line[-1].start - line[0].start, 1.0)
    density = min(3.0, max(0.35, (len(line) - 1) / span))
    steps = [abs(s) for s in scale_steps(line, key)]
    stepwise = sum(1 for s in steps if s <= 1) / len(steps)
    leap = max(abs(b.pitch - a.pitch) for a, b in pairwise(line))
    return replace(ch, density=round(0.5 * ch.density + 0.5 * density, 3),
                   step_probability=round(min(0.95, max(0.3, stepwise)), 3),
                   max_leap=int(min(12, max(5, leap))))


def _scale_velocities(notes: Sequence[Note], r0: float, r1: float, ramp: float) -> list[Note]:
    out = []
    for n in notes:
        x = min(1.0, n.start / ramp) if ramp > 0 else 1.0
        f = r0 + (r1 - r0) * x
        out.append(replace(n, velocity=max(1, min(127, round(n.velocity * f)))))
    return out


def _pickup(lead_in: Sequence[Note], first_new: Note | None, join: float, end: float,
            key: KeySignature, meter_bar: float) -> list[Note]:
    """The lead's pickup into the join when the input stops mid-bar: a note a step from the
    first new note, on the last beat before the join."""
    if first_new is None or join - end < 1.0 - _EPS:
        return []
    length = 1.0 if join - end < 2.0 - _EPS else min(2.0, join - end)
    scale = [p for p in range(first_new.pitch - 3, first_new.pitch) if p % 12 in key.scale]
    prev = lead_in[-1].pitch if lead_in else first_new.pitch
    pitch = scale[-1] if scale and prev <= first_new.pitch else next(
        (p for p in range(first_new.pitch + 1, first_new.pitch + 4) if p % 12 in key.scale),
        first_new.pitch)
    vel = lead_in[-1].velocity if lead_in else first_new.velocity
    return [Note(pitch, join - length, length, vel)]


# ----------------------------------------------------------------------------------------------
# The verb


def _check(source: Score, duration: float, prompt: str | None, seed: int) -> None:
    if not isinstance(source, Score):
        raise ParameterError(f"continue needs a score, not {type(source).__name__}")
    if source.note_count == 0:
        raise ParameterError("the piece to continue has no notes: there is nothing to go on "
                             "from")
    if isinstance(duration, bool) or not isinstance(duration, (int, float)) \
            or not math.isfinite(duration):
        raise ParameterError(f"duration {duration!r} must be a number of seconds")
    if duration <= 0:
        raise ParameterError(f"the continuation must last more than 0 seconds (got "
                             f"{duration:g})")
    if duration > MAX_SECONDS:
        raise ParameterError(f"the continuation can last at most 20 minutes ({MAX_SECONDS:g} "
                             f"s); {duration:g} s asked")
    if source.duration_seconds > MAX_SECONDS + _EPS:
        raise ParameterError(f"the piece to continue lasts {source.duration_seconds / 60:.1f} "
                             "minutes; tunecraft continues pieces up to 20 minutes long")
    if prompt is not None and (not isinstance(prompt, str) or not prompt.strip()):
        raise ParameterError("the prompt is empty: leave it out to keep everything, or say "
                             "what should change ('faster, in 4/4')")
    seed = check_seed(seed)


def _input_key(source: Score, end: float) -> tuple[KeySignature, str]:
    from ..analysis import key_estimate

    key = source.key_at(max(0.0, end - _EPS))
    bare = len(source.key_signatures) == 1 and (key.tonic, key.mode) == (0, "major")
    if not bare or not _pitched(source.tracks):
        return KeySignature(0.0, key.tonic, key.mode), ""
    tonic, mode, corr = key_estimate(source)
    if (tonic, mode) != (0, "major") and corr >= 0.5:
        est = KeySignature(0.0, tonic, mode)
        return est, (f"the file's key signature is the bare C major default; its notes say "
                     f"{est.name} (correlation {corr:.2f})")
    return KeySignature(0.0, key.tonic, key.mode), ""


def continue_score(source: Score, *, duration: float, prompt: str | None = None,
                   seed: int, only_new: bool = False, source_name: str | None = None,
                   transcribed: bool = False) -> Composition:
    """Continue ``source`` for ``duration`` seconds (see the module docs for how).

    ``prompt`` may change the tempo, meter, key, style, dynamics or instruments; only what it
    states explicitly changes. The composition's score is the input followed by the
    continuation (the input's notes unchanged), or with ``only_new`` the continuation alone,
    from beat 0; ``scores`` holds both (``full``, ``new``) and the ``source``. Its JSON says
    where the join is (the bar line after the input ends, in beats and seconds; ``new_offset``
    is where ``new`` starts in ``full``), what carried over (``kept``), what the prompt changed
    (``changed``), the role each track played and the choices made. ``source_name`` and
    ``transcribed`` describe the input for the JSON. Deterministic for a seed. Raises
    :class:`~tunecraft.errors.ParameterError` for a score without notes, a duration <= 0 or
    over 20 minutes, an input over 20 minutes and an empty prompt.
    """
    from ..styles import load_style

    _check(source, duration, prompt, seed)
    end = _input_end(source)
    join = _join(source, end)
    in_key, key_note = _input_key(source, end)
    roles = _assign_roles(source.tracks)
    req = _request(source, prompt=prompt, duration=float(duration), seed=seed, end=end,
                   key=in_key, key_note=key_note, roles=roles)
    spec = req.spec
    style = load_style(spec.style)
    meter = TimeSignature(0.0, *spec.meter)
    bar_s = meter.bar_beats * 60.0 / spec.bpm
    target = source.seconds_at(end) + float(duration) - source.seconds_at(join)
    bars = max(1, round(target / bar_s))
    spec = replace(spec, duration=round(bars * bar_s, 6))
    last = _last_chord(source, end, in_key)
    plan, harmony = _plan(spec, style, bars=bars, seed=seed, last=last, input_key=in_key)

    parts, both_hands, silenced = _input_parts(source, roles, spec, style, req)
    new_tracks = _added_parts(source, spec, style, req, parts)
    lead_pair = next(((t, p) for t, p in parts if p.role == "lead"), None)
    melody, motif_info, lead_in = _tune(lead_pair, source, in_key, plan, style)
    written = _write_parts(parts, both_hands, melody, plan)
    _carry_dynamics(source, end, parts, written, plan, req.loudness)

    # A pickup completes the input's last bar.
    pickup: list[Note] = []
    if lead_pair is not None and written.get(lead_pair[0].name):
        first_new = written[lead_pair[0].name][0] if written[lead_pair[0].name][0].start < \
            plan.bar_beats else None
        pickup = _pickup(lead_in, first_new, join, end, plan.key, plan.bar_beats)
    new_offset = join
    if pickup:
        new_offset = snap(join - source.time_signature_at(join - _EPS).bar_beats)
        new_offset = max(new_offset, 0.0)
    lead_name = lead_pair[0].name if lead_pair is not None else None
    score, new = _assemble(source, plan, written, new_tracks, pickup, lead_name, end=end,
                           join=join, new_offset=new_offset,
                           keys_from=(in_key if key_note else None))

    notes = list(req.notes)
    if silenced:
        notes.append(f"silent after the join (the prompt excludes them): {', '.join(silenced)}")
    if pickup:
        notes.append(f"the input stops mid-bar (beat {end:g}); the lead's pickup completes the "
                     f"bar into the join at beat {join:g}")
    if motif_info is not None:
        notes.append(f"motif from the input's lead ({motif_info['source']}): scale steps "
                     f"{motif_info['scale_steps']}")
    elif lead_pair is None:
        notes.append("no lead track: the continuation has no tune of its own")
    roles_used = {t.name: p.role for t, p in parts}
    for name in both_hands:
        roles_used[name] = "lead + chords + bass (both hands)"
    log.info("continuation: join at beat %g (%.2f s), %d bars of %s at %g bpm in %s", join,
             source.seconds_at(join), bars, plan.meter, plan.bpm, plan.key.name)
    output = new if only_new else score
    join_seconds = score.seconds_at(join)
    request = {"source": source_name, "prompt": prompt, "seed": seed,
               "duration": round(score.duration_seconds - join_seconds, 4),
               "only_new": bool(only_new)}
    meta = {"continuation": {
        "source": source_name, "transcribed": bool(transcribed), "input_end_beat": snap(end),
        "join_beat": join, "join_seconds": round(join_seconds, 4), "new_offset_beat": new_offset,
        "kept": dict(req.kept), "changed": dict(req.changed), "roles": dict(roles_used),
        "motif": dict(motif_info) if motif_info else None, "harmony": dict(harmony),
        "notes": list(notes), "duration_seconds": round(output.duration_seconds, 4)},
        "spec": spec.to_dict()}
    return Composition(kind="continuation", score=output, spec=spec, seed=seed,
                       request=request, meta=meta,
                       scores={"full": score, "new": new, "source": source},
                       reverb=float(style.mix.reverb))


def _input_parts(source: Score, roles: Mapping[str, str], spec: MusicSpec, style: Style,
                 req: _Request
                 ) -> tuple[list[tuple[Track, PartSpec]], dict[str, list[PartSpec]], list[str]]:
    """One part per input track, in its role (a piano alone playing tune and chords keeps
    both hands); tracks the prompt excludes fall silent. Returns the parts, the extra hands
    by track name, and the silenced tracks."""
    from ..understand.exclusions import excluded_by

    excluded = tuple(spec.excluded)
    silenced: list[str] = []
    parts: list[tuple[Track, PartSpec]] = []
    both_hands: dict[str, list[PartSpec]] = {}
    pitched = _pitched(source.tracks)
    for t in source.tracks:
        role = roles.get(t.name)
        if role is None or role == "fx":
            continue
        if any(excluded_by(term, t) for term in excluded) or (
                t.is_drum and "drums" in req.changed and not spec.drums):
            silenced.append(t.name)
            continue
        part = _part_for(t, role, style)
        if role == "lead" and len(pitched) == 1 and _polyphony(t) >= 1.5:
            # A piano alone playing tune and chords: both hands, in its one track.
            top = _skyline(t.notes)
            part = replace(part, low=_register(top, min_span=17)[0],
                           high=_register(top, min_span=17)[1])
            acc = replace(part, name=f"{t.name} (accompaniment)", role="chords",
                          low=max(part.low - 14, 40), high=max(part.low + 2, 55),
                          pattern="arpeggio_up" if style.id in ("classical", "lullaby",
                                                                  "waltz") else "block")
            lh = replace(part, name=f"{t.name} (left hand)", role="bass",
                         low=max(min(n.pitch for n in t.notes) - 2, 28), high=55,
                         pattern=None, rhythm=None)
            both_hands[t.name] = [acc, lh]
        parts.append((t, part))
    return parts, both_hands, silenced


def _added_parts(source: Score, spec: MusicSpec, style: Style, req: _Request,
                 parts: list[tuple[Track, PartSpec]]) -> list[Track]:
    """Instruments the prompt adds ("with strings"), and drums it asks for, join ``parts``
    (extended in place). Returns their new, empty tracks."""
    new_tracks: list[Track] = []
    added = [i for i in spec.instruments if i.source == "explicit"]
    if added:
        from .ensemble import _register as ens_register

        have = {t.program for t in source.tracks if not t.is_drum}
        has_lead = any(p.role == "lead" for _, p in parts)
        for req_i in added:
            if (not req_i.is_drum and req_i.program in have) or (
                    req_i.is_drum and any(t.is_drum for t, _ in parts)):
                continue
            role = req_i.role
            if role in _MELODIC_ROLES:
                role = "counter" if has_lead else "lead"
                has_lead = True
            default = style.instrument(_STYLE_ROLE.get(role, role))
            register = (35, 81) if req_i.is_drum else ens_register(
                req_i.program, role, getattr(default, "low", None),
                getattr(default, "high", None), getattr(default, "program", None))
            name = req_i.name.title() if req_i.name else "Drums"
            track_role = "drums" if req_i.is_drum else (
                role if role in ("lead", "bass", "pad", "counter", "strings", "chords", "arp")
                else "harmony")
            t = Track(name, (), program=0 if req_i.is_drum else req_i.program,
                      is_drum=req_i.is_drum, role=track_role)
            new_tracks.append(t)
            parts.append((t, _part_for(t, role, style, register=register)))
    if spec.drums and "drums" in req.changed and not any(t.is_drum for t, _ in parts):
        t = Track("Drums", (), program=0, is_drum=True, role="drums")
        new_tracks.append(t)
        parts.append((t, _part_for(t, "drums", style, register=(35, 81))))
    return new_tracks


def _tune(lead_pair: tuple[Track, PartSpec] | None, source: Score, in_key: KeySignature,
          plan: Plan, style: Style
          ) -> tuple[tuple[Note, ...], dict[str, Any] | None, list[Note]]:
    """The continuation's tune, grown from the input lead's motif and joined without a leap
    of more than a sixth. Returns the tune, what motif it grew from, and the input's lead
    line (its top notes)."""
    from .melody import write_melody
    from .parts import humanize

    if lead_pair is None:
        return (), None, []
    t, p = lead_pair
    motif, motif_info = None, None
    lead_in = _skyline(t.notes)
    if t.notes:
        motif, motif_info = extract_motif(t.notes, source, in_key, plan.meter)
        ch = _character(style, t.notes, in_key)
    else:
        ch = style.melody
    melody = write_melody(plan, p, character=ch, motif=motif, develop_motif=True)
    if melody and lead_in:
        # No leap of more than a sixth across the seam: move the tune by an octave when it
        # then still fits the lead's register.
        d = melody[0].pitch - lead_in[-1].pitch
        lo, hi = min(n.pitch for n in melody), max(n.pitch for n in melody)
        octave = -12 if d > 9 and lo - 12 >= p.low - 3 else (
            12 if d < -9 and hi + 12 <= p.high + 3 else 0)
        if octave:
            melody = tuple(replace(n, pitch=n.pitch + octave) for n in melody)
    return humanize(melody, plan, p), motif_info, lead_in


def _write_parts(parts: Sequence[tuple[Track, PartSpec]],
                 both_hands: Mapping[str, Sequence[PartSpec]], melody: tuple[Note, ...],
                 plan: Plan) -> dict[str, list[Note]]:
    """Every part's notes in the continuation's own time (beat 0 at the join)."""
    from .parts import humanize, write_part

    written: dict[str, list[Note]] = {}
    for t, p in parts:
        if p.role == "lead":
            notes = list(melody)
        else:
            notes = list(humanize(write_part(plan, p, melody=melody), plan, p))
        if p.role == "drums" and notes and not any(n.pitch == 49 and n.start < 0.05
                                                   for n in notes):
            loud = max((n.velocity for n in notes if n.start < plan.bar_beats), default=90)
            notes.append(Note(49, 0.0, 0.25, loud))  # a crash marks the new section
        for extra in both_hands.get(t.name, ()):
            acc = humanize(write_part(plan, extra, melody=melody), plan, extra)
            notes += [replace(n, velocity=max(1, round(n.velocity * 0.72))) for n in acc]
        written[t.name] = notes
    return written


def _carry_dynamics(source: Score, end: float, parts: Sequence[tuple[Track, PartSpec]],
                    written: dict[str, list[Note]], plan: Plan, loudness: float) -> None:
    """Dynamics continue from the input's last bars, then settle to its average (each part's
    velocities scaled in place; "louder"/"softer" scale them all)."""
    bar_in = source.time_signature_at(max(0.0, end - _EPS)).bar_beats
    for t, _ in parts:
        notes = written[t.name]
        if not notes or not t.notes:
            if notes and loudness != 1.0:
                written[t.name] = _scale_velocities(notes, loudness, loudness, 0)
            continue
        tail = [n.velocity for n in t.notes if n.start >= end - 2 * bar_in - _EPS]
        in_all = _mean([n.velocity for n in t.notes])
        in_last = _mean(tail, in_all)
        head = [n.velocity for n in notes if n.start < 2 * plan.bar_beats]
        new_all = _mean([n.velocity for n in notes])
        new_first = _mean(head, new_all)
        r0 = min(2.0, max(0.4, in_last / new_first)) * loudness
        r1 = min(2.0, max(0.4, in_all / new_all)) * loudness
        written[t.name] = _scale_velocities(notes, r0, r1, 4 * plan.bar_beats)


def _assemble(source: Score, plan: Plan, written: Mapping[str, list[Note]],
              new_tracks: Sequence[Track], pickup: Sequence[Note], lead_name: str | None, *,
              end: float, join: float, new_offset: float,
              keys_from: KeySignature | None) -> tuple[Score, Score]:
    """The input unchanged then the continuation (tempo, meter and key maps, sections and
    chords joined at ``join``), and the continuation alone from ``new_offset``.
    ``keys_from`` replaces the input's key map (a bare default key corrected from its
    notes)."""
    out_tracks: list[Track] = []
    new_only: list[Track] = []
    shift = join - new_offset
    for t in (*source.tracks, *new_tracks):
        cont = written.get(t.name, [])
        extra = list(pickup) if t.name == lead_name else []
        moved = [replace(n, start=n.start + join) for n in cont]
        out_tracks.append(t.with_notes((*t.notes, *extra, *moved)))
        new_only.append(t.with_notes([replace(n, start=n.start - new_offset) for n in extra]
                                     + [replace(n, start=n.start + shift) for n in cont]))
    bpm_end = source.bpm_at(max(0.0, end - _EPS))
    tempos = list(source.tempos)
    if abs(plan.bpm - bpm_end) > 1e-6 or any(t.beat > join + _EPS for t in source.tempos):
        tempos = [t for t in tempos if t.beat < join - _EPS] + [TempoChange(join, plan.bpm)]
    sig_end = source.time_signature_at(max(0.0, end - _EPS))
    meters = [m for m in source.time_signatures if m.beat < join - _EPS]
    if (sig_end.numerator, sig_end.denominator) != (plan.meter.numerator,
                                                    plan.meter.denominator):
        meters.append(TimeSignature(join, plan.meter.numerator, plan.meter.denominator))
    keys = [k for k in source.key_signatures if k.beat < join - _EPS]
    if keys_from is not None:
        keys = [KeySignature(0.0, keys_from.tonic, keys_from.mode)]
    if (plan.key.tonic, plan.key.mode) != (keys[-1].tonic, keys[-1].mode):
        keys.append(KeySignature(join, plan.key.tonic, plan.key.mode))
    # The input's own sections (markers in someone else's file, possibly running past its
    # last note) end where the continuation begins.
    kept = [replace(s, length=min(s.length, join - s.start)) for s in source.sections
            if s.start < join - _EPS]
    sections = kept + [Section(s.name, s.start + join, s.length) for s in plan.sections]
    chords = [c for c in source.chords if c.start < join - _EPS]
    chords = [replace(c, duration=min(c.duration, join - c.start)) for c in chords]
    chords += [replace(c, start=c.start + join) for c in plan.chords]
    total = join + plan.length
    title = source.title or "continuation"
    score = Score(tracks=tuple(out_tracks), tempos=tuple(tempos), time_signatures=tuple(meters),
                  key_signatures=tuple(keys), sections=tuple(sections), chords=tuple(chords),
                  title=title, length=max(total, max(t.end for t in out_tracks)))
    new_meters = [TimeSignature(0.0, plan.meter.numerator, plan.meter.denominator)]
    if shift > _EPS and (sig_end.numerator, sig_end.denominator) != (plan.meter.numerator,
                                                                     plan.meter.denominator):
        new_meters = [TimeSignature(0.0, sig_end.numerator, sig_end.denominator),
                      TimeSignature(shift, plan.meter.numerator, plan.meter.denominator)]
    new_tempos = [TempoChange(0.0, plan.bpm)]
    if shift > _EPS and abs(plan.bpm - bpm_end) > 1e-6:
        new_tempos = [TempoChange(0.0, bpm_end), TempoChange(shift, plan.bpm)]
    new = Score(tracks=tuple(new_only), tempos=tuple(new_tempos),
                time_signatures=tuple(new_meters),
                key_signatures=(KeySignature(0.0, plan.key.tonic, plan.key.mode),),
                sections=tuple(Section(s.name, s.start + shift, s.length)
                               for s in plan.sections),
                chords=tuple(replace(c, start=c.start + shift) for c in plan.chords),
                title=f"{title} (continuation)", length=total - new_offset)
    return score, new
