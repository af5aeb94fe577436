"""Part writers: every style's roles write valid, idiomatic parts; humanize stays small."""

from __future__ import annotations

import dataclasses
import itertools
from collections import defaultdict
from functools import cache

import pytest

from tunecraft import understand
from tunecraft.compose.parts import humanize, write_part
from tunecraft.compose.plan import PartSpec, Plan, make_plan
from tunecraft.errors import ParameterError
from tunecraft.score import Note
from tunecraft.styles import load_style, style_ids

MELODY_ROLES = {"lead", "melody", "vocal"}
CHORD_PATTERNS = {"pulse", "block", "comp", "strum", "stabs", "power", "marcato", "skank", "chop",
                  "waltz", "oompah", "montuno", "sustain"}


@cache
def plan_for(prompt: str, *, duration: float = 60, seed: int = 7,
             meter: tuple[int, int] | None = None) -> Plan:
    spec = understand.parse(prompt, duration=duration, seed=seed)
    if meter is not None:
        spec = dataclasses.replace(spec, meter=meter)
    return make_plan(spec, load_style(spec.style), seed=seed)


def style_plan(style_id: str, meter: str | None = None, duration: float = 90) -> Plan:
    style = load_style(style_id)
    spec = understand.parse(style.name, duration=duration, seed=5)
    spec = dataclasses.replace(spec, style=style_id)
    if meter is not None:
        num, den = meter.split("/")
        spec = dataclasses.replace(spec, meter=(int(num), int(den)))
    return make_plan(spec, style, seed=5)


def part_for(plan: Plan, role: str, **changes) -> PartSpec:
    inst = plan.style.instrument(role)
    spec = PartSpec(name=inst.name, role=role, program=inst.program, is_drum=inst.drum,
                    low=inst.low, high=inst.high, pattern=inst.pattern, rhythm=inst.rhythm,
                    rhythm_steps_per_beat=inst.rhythm_steps_per_beat, sections=inst.sections)
    return dataclasses.replace(spec, **changes)


def assert_valid(notes: tuple[Note, ...], plan: Plan, part: PartSpec) -> None:
    assert all(isinstance(n, Note) and n.duration > 0 for n in notes)
    assert list(notes) == sorted(notes, key=lambda n: (n.start, n.pitch))
    assert all(n.start >= 0 and n.end <= plan.length + 1e-6 for n in notes)
    if part.role in ("drums", "percussion"):
        assert all(35 <= n.pitch <= 81 for n in notes)
        assert all(n.duration <= 0.25 + 1e-9 for n in notes)
    else:
        assert all(part.low <= n.pitch <= part.high for n in notes), part
    played = [(s.start, s.end) for s in plan.sections if part.plays_in(s.kind)]
    assert all(any(a - 1e-6 <= n.start < b for a, b in played) for n in notes)


def bar_hits(notes, start: float, length: float) -> set[tuple[int, float]]:
    return {(n.pitch, round(n.start - start, 3)) for n in notes
            if start - 1e-6 <= n.start < start + length - 1e-6}


# ----------------------------------------------------------------------------------------------


def _style_meters():
    return [(sid, meter) for sid in style_ids() for meter in load_style(sid).meters]


@pytest.mark.parametrize(("style_id", "meter"), _style_meters())
def test_every_role_of_every_style_writes_valid_notes(style_id, meter):
    plan = style_plan(style_id, meter)
    assert str(plan.meter) == meter
    wrote = 0
    for role in plan.style.instruments:
        if role in MELODY_ROLES:
            continue
        part = part_for(plan, role)
        notes = write_part(plan, part)
        assert_valid(notes, plan, part)
        wrote += bool(notes)
    assert wrote >= 2  # at least harmony and bass sound
    has_drums = bool(plan.style.instrument("drums"))
    assert has_drums == plan.style.has_kit


@pytest.mark.parametrize("meter", [(4, 4), (3, 4), (6, 8), (2, 4), (12, 8), (7, 8)])
@pytest.mark.parametrize("prompt", ["upbeat pop song", "bossa nova", "jazz"])
def test_every_meter_works_with_fallbacks(prompt, meter):
    plan = plan_for(prompt, meter=meter, duration=40)
    for role in ("harmony", "bass", "drums", "pad", "arp", "counter"):
        if plan.style.instrument(role) is None:
            continue
        part = part_for(plan, role)
        notes = write_part(plan, part)
        assert_valid(notes, plan, part)
        assert notes or not any(part.plays_in(s.kind) for s in plan.sections)


def test_lead_parts_are_not_written_here():
    plan = plan_for("upbeat pop song")
    with pytest.raises(ParameterError):
        write_part(plan, part_for(plan, "lead"))


# ----------------------------------------------------------------------------------------------
# Harmony


@pytest.mark.parametrize("style_id", sorted(style_ids()))
def test_chord_parts_play_chord_tones_at_each_chord(style_id):
    plan = style_plan(style_id)
    for role in ("harmony", "chords", "pad", "strings"):
        inst = plan.style.instrument(role)
        if inst is None or inst.pattern not in CHORD_PATTERNS:
            continue
        notes = write_part(plan, part_for(plan, role))
        good = total = 0
        for chord in plan.chords:
            pcs = set(chord.pitch_classes) | ({chord.bass} if chord.bass is not None else set())
            at = [n for n in notes if abs(n.start - chord.start) < 1e-6]
            total += len(at)
            good += sum(n.pitch % 12 in pcs for n in at)
        if total:
            assert good / total >= 0.9, (role, good, total)


def _voicings(notes) -> list[tuple[int, ...]]:
    by_start = defaultdict(list)
    for n in notes:
        by_start[round(n.start, 4)].append(n.pitch)
    return [tuple(sorted(v)) for _, v in sorted(by_start.items()) if len(v) >= 3]


@pytest.mark.parametrize(("prompt", "role", "pattern"), [
    ("upbeat pop song", "harmony", None),
    ("jazz standard", "harmony", None),
    ("classical piece", "harmony", "block"),
    ("bossa nova", "harmony", None),
])
def test_voice_leading_moves_little(prompt, role, pattern):
    plan = plan_for(prompt, duration=90)
    part = part_for(plan, role)
    if pattern:
        part = dataclasses.replace(part, pattern=pattern, rhythm=None)
    voicings = _voicings(write_part(plan, part))
    moves = []
    for a, b in itertools.pairwise(voicings):
        if a != b:
            moves.append(sum(min(abs(p - q) for q in a) for p in b) / len(b))
    assert len(moves) >= 4
    assert sum(moves) / len(moves) <= 4.0
    assert min(min(v) for v in voicings) >= 40  # nothing below E2


def test_pads_hold_common_tones():
    plan = plan_for("upbeat pop song", duration=90)
    part = part_for(plan, "pad", sections=None)
    notes = write_part(plan, part)
    # Fewer strikes than chords x voices: shared notes ring on through the changes.
    assert len(notes) < 3 * len(plan.chords)
    assert any(n.duration > plan.chords[0].duration + 1e-6 for n in notes)


def test_energy_thins_the_comping():
    plan = plan_for("pop song", duration=90)
    notes = write_part(plan, part_for(plan, "harmony"))
    density = {}
    for s in plan.sections:
        onsets = {n.start for n in notes if s.start <= n.start < s.end}
        density.setdefault(s.kind, []).append(len(onsets) / s.bars)
    quiet = min(sum(v) / len(v) for k, v in density.items() if k in ("intro", "verse"))
    loud = max(sum(v) / len(v) for k, v in density.items() if k == "chorus")
    assert quiet < loud


# ----------------------------------------------------------------------------------------------
# Drums


def _main_bars(plan: Plan, kinds: tuple[str, ...]):
    """Bar starts inside sections of ``kinds``, leaving out fill bars and the final bar."""
    every = plan.style.drums.fill_every
    for s in plan.sections:
        if s.kind not in kinds:
            continue
        for i in range(s.bars - 1):
            if every and (i + 1) % every == 0:
                continue
            start = s.start + i * plan.bar_beats
            if start < plan.length - plan.bar_beats:
                yield start


def test_house_kick_is_four_on_the_floor():
    plan = plan_for("house track", duration=90)
    notes = write_part(plan, part_for(plan, "drums"))
    kicks = {round(n.start, 3) for n in notes if n.pitch == 36}
    bars = list(_main_bars(plan, ("verse", "chorus", "drop")))
    assert bars
    for b in bars:
        assert all(round(b + k, 3) in kicks for k in range(4)), b


def test_rock_snare_backbeat():
    plan = plan_for("rock song", duration=90)
    notes = write_part(plan, part_for(plan, "drums"))
    snares = {round(n.start, 3) for n in notes if n.pitch == 38}
    bars = list(_main_bars(plan, ("verse", "chorus")))
    assert bars
    for b in bars:
        assert round(b + 1, 3) in snares and round(b + 3, 3) in snares
        assert round(b, 3) not in snares


def test_pop_crash_at_each_section_start():
    plan = plan_for("upbeat energetic pop song", duration=90)
    notes = write_part(plan, part_for(plan, "drums"))
    crashes = {round(n.start, 3) for n in notes if n.pitch == 49}
    assert len(plan.sections) >= 4
    for s in plan.sections[1:]:
        assert round(s.start, 3) in crashes, s.name


def test_fill_in_the_bar_before_the_chorus():
    plan = plan_for("upbeat pop song", duration=90)
    notes = write_part(plan, part_for(plan, "drums"))
    checked = 0
    for prev, sec in zip(plan.sections, plan.sections[1:], strict=False):
        if sec.kind != "chorus" or prev.bars < 2:
            continue
        last = bar_hits(notes, sec.start - plan.bar_beats, plan.bar_beats)
        first = bar_hits(notes, prev.start + plan.bar_beats, plan.bar_beats)
        assert last != first
        fill_keys = {41, 43, 45, 47, 48, 50}
        snares = sum(k == 38 for k, _ in last)
        assert any(k in fill_keys for k, _ in last) or snares >= 4
        checked += 1
    assert checked


def test_roll_into_the_drop_after_a_build():
    plan = plan_for("edm with a build-up and a drop", duration=120)
    notes = write_part(plan, part_for(plan, "drums"))
    pairs = [(a, b) for a, b in zip(plan.sections, plan.sections[1:], strict=False)
             if a.kind == "build" and b.kind in ("drop", "chorus")]
    assert pairs
    for _build, drop in pairs:
        roll = sorted((n for n in notes if n.pitch == 38
                       and drop.start - plan.bar_beats <= n.start < drop.start),
                      key=lambda n: n.start)
        assert len(roll) >= 16
        assert roll[-1].velocity > roll[0].velocity + 20
        assert any(n.pitch == 49 and abs(n.start - drop.start) < 1e-6 for n in notes)


def test_drums_only_in_their_sections():
    plan = plan_for("upbeat pop song", duration=90)
    part = part_for(plan, "drums", sections=("chorus",))
    notes = write_part(plan, part)
    assert notes
    for n in notes:
        sec = next(s for s in plan.sections if s.start - 1e-6 <= n.start < s.end)
        assert sec.kind == "chorus"


def test_low_energy_thins_the_hats():
    plan = plan_for("pop song", duration=90)
    notes = write_part(plan, part_for(plan, "drums"))
    verse = next(s for s in plan.sections if s.kind == "verse")
    style_verse_energy = plan.style.form.energy["verse"]
    assert verse.energy <= plan.style.energy  # a verse below the song's energy
    hats = [n for n in notes if n.pitch == 42 and verse.start <= n.start < verse.end]
    per_bar = len(hats) / verse.bars
    assert per_bar <= 8
    assert style_verse_energy < 0.6


# ----------------------------------------------------------------------------------------------
# Bass, arpeggios, counter-lines


def test_waltz_bass_on_beat_one():
    plan = plan_for("a viennese waltz", duration=60)
    assert (plan.meter.numerator, plan.meter.denominator) == (3, 4)
    notes = write_part(plan, part_for(plan, "bass"))
    starts = {round(n.start, 3) for n in notes}
    for bar in range(plan.total_bars):
        assert round(bar * 3.0, 3) in starts


def test_jazz_bass_walks_in_quarters():
    plan = plan_for("jazz standard", duration=90)
    notes = write_part(plan, part_for(plan, "bass"))
    solo = [s for s in plan.sections if s.kind in ("a", "solo", "head", "verse")]
    assert solo
    s = solo[0]
    onsets = sorted({n.start for n in notes if s.start <= n.start < s.end})
    assert len(onsets) >= 3.5 * s.bars
    pitches = [n.pitch for n in notes if s.start <= n.start < s.end]
    assert max(abs(a - b) for a, b in itertools.pairwise(pitches)) <= 12


def test_arpeggio_follows_pattern_and_chords():
    plan = plan_for("upbeat pop song", duration=90)
    part = part_for(plan, "arp", sections=None)
    notes = write_part(plan, part)
    assert notes
    pcs_ok = sum(n.pitch % 12 in plan.chord_at(n.start).pitch_classes for n in notes)
    assert pcs_ok / len(notes) >= 0.95
    # Within one chord an upward arpeggio rises until it wraps.
    chord = plan.chords[2]
    inside = [n.pitch for n in notes if chord.start <= n.start < chord.end][:3]
    assert inside == sorted(inside)


def test_counter_line_answers_the_melody():
    plan = plan_for("upbeat pop song", duration=60)
    # A placeholder melody: a held note then rests, every bar.
    melody = tuple(Note(72 + (b % 3), b * 4.0, 1.0, 90) for b in range(plan.total_bars))
    part = part_for(plan, "counter", pattern="line", sections=None)
    notes = write_part(plan, part, melody=melody)
    assert_valid(notes, plan, part)
    assert notes
    moving = [n for n in notes if n.start % 4.0 >= 1.0 - 1e-6]   # in the melody's rests
    under = [n for n in notes if n.start % 4.0 < 1.0 - 1e-6]     # against the melody's note
    assert len(moving) > len(under)
    for n in under:  # under the melody's note, below it
        m = next(m for m in melody if m.start <= n.start < m.end)
        assert n.pitch < m.pitch
    strong = [n for n in notes if n.start % 2.0 < 1e-6]  # beats 1 and 3: chord tones
    chord_tones = sum(n.pitch % 12 in plan.chord_at(n.start).pitch_classes for n in strong)
    assert chord_tones / len(strong) >= 0.9
    leaps = [abs(a.pitch - b.pitch) for a, b in itertools.pairwise(notes)]
    assert sum(leaps) / len(leaps) <= 5
    assert sum(x == 0 for x in leaps) <= len(leaps) // 3  # it moves


def test_percussion_part_is_light_and_valid():
    plan = plan_for("bossa nova", duration=40)
    part = PartSpec("Congas", "percussion", 0, is_drum=True)
    notes = write_part(plan, part)
    assert_valid(notes, plan, part)
    assert notes and all(n.pitch not in (36, 38, 49) for n in notes)


# ----------------------------------------------------------------------------------------------
# Humanize and determinism


def _match(a, b):
    by_pitch_a, by_pitch_b = defaultdict(list), defaultdict(list)
    for n in a:
        by_pitch_a[n.pitch].append(n)
    for n in b:
        by_pitch_b[n.pitch].append(n)
    assert by_pitch_a.keys() == by_pitch_b.keys()
    for p in by_pitch_a:
        xs = sorted(by_pitch_a[p], key=lambda n: n.start)
        ys = sorted(by_pitch_b[p], key=lambda n: n.start)
        assert len(xs) == len(ys)
        yield from zip(xs, ys, strict=True)


@pytest.mark.parametrize("role", ["harmony", "drums", "bass", "pad", "counter"])
def test_humanize_is_small_valid_and_deterministic(role):
    plan = plan_for("upbeat pop song", duration=40)
    plan = dataclasses.replace(plan, bpm=120.0)
    part = part_for(plan, role, sections=None)
    notes = write_part(plan, part)
    once = humanize(notes, plan, part)
    assert once == humanize(notes, plan, part)
    assert once != notes
    assert_valid(once, plan, part)
    pairs = list(_match(notes, once))
    assert all(abs(x.start - y.start) <= 0.05 for x, y in pairs)
    assert all(abs(x.velocity - y.velocity) <= 6 for x, y in pairs)
    assert any(x.start != y.start for x, y in pairs)


def test_humanize_strums_low_to_high_on_the_beat():
    plan = dataclasses.replace(plan_for("upbeat pop song", duration=40), bpm=120.0)
    part = part_for(plan, "harmony", pattern="strum", sections=None)
    notes = write_part(plan, part)
    out = humanize(notes, plan, part)
    chord = [n for n in out if abs(n.start - 0.0) < 0.05 and n.duration > 0.2]
    assert len(chord) >= 3
    by_pitch = sorted(chord, key=lambda n: n.pitch)
    assert [n.start for n in by_pitch] == sorted(n.start for n in by_pitch)
    assert by_pitch[-1].start > by_pitch[0].start


def test_humanize_seed_changes_the_result():
    a = plan_for("upbeat pop song", duration=40, seed=1)
    b = dataclasses.replace(a, seed=2)
    part = part_for(a, "harmony")
    notes = write_part(a, part)
    assert humanize(notes, a, part) != humanize(notes, b, part)


@pytest.mark.parametrize("prompt", ["upbeat pop song", "jazz standard", "bossa nova"])
def test_parts_are_deterministic_per_seed(prompt):
    a, b = plan_for(prompt, seed=11), plan_for(prompt, seed=11, duration=60.0)
    for role in a.style.instruments:
        if role in MELODY_ROLES:
            continue
        part = part_for(a, role)
        assert write_part(a, part) == write_part(b, part)
