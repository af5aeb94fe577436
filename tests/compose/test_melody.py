"""The melody writer, judged as a musician would: harmony, steps, form, cadence, breath, motifs."""

from __future__ import annotations

from collections import Counter
from functools import cache
from itertools import pairwise

import pytest

from tunecraft.compose.melody import write_melody
from tunecraft.compose.plan import HOME_KINDS, PartSpec, Plan, make_plan
from tunecraft.score.types import Note
from tunecraft.styles import load_style
from tunecraft.understand import parse

PROMPTS = {
    "pop": "an upbeat pop song",
    "rock": "a rock song",
    "jazz": "a jazz tune",
    "waltz": "a waltz",
    "celtic": "a celtic jig in 6/8",
    "blues": "a slow blues",
    "bossa_nova": "bossa nova",
    "classical": "a classical piece",
    "indian_classical": "indian classical raga",
    "edm": "an edm track",
}
SEEDS = (1, 2, 3)
CASES = [(name, seed) for name in PROMPTS for seed in SEEDS]
EPS = 1e-6


@cache
def _plan(prompt: str, seed: int, duration: float = 60.0) -> Plan:
    spec = parse(prompt, duration=duration, seed=seed)
    return make_plan(spec, load_style(spec.style), seed=seed)


def _lead(plan: Plan) -> PartSpec:
    lead = plan.style.instruments["lead"]
    return PartSpec("lead", "lead", lead.program, low=lead.low, high=lead.high)


@cache
def _melody(prompt: str, seed: int, duration: float = 60.0) -> tuple[Note, ...]:
    plan = _plan(prompt, seed, duration)
    return write_melody(plan, _lead(plan))


def _strong_offsets(plan: Plan) -> tuple[float, ...]:
    """The downbeat, and the mid-bar beat in 4/4, 2/2 and 12/8."""
    m = plan.meter
    if (m.numerator, m.denominator) in ((4, 4), (2, 2), (12, 8)):
        return (0.0, plan.bar_beats / 2)
    return (0.0,)


def _connected(notes: tuple[Note, ...]) -> list[tuple[Note, Note]]:
    """Pairs of consecutive notes with no rest between them (a melodic interval)."""
    return [(a, b) for a, b in pairwise(notes) if b.start - a.end < 0.125]


def _scale(plan: Plan) -> set[int]:
    return {(plan.key.tonic + s) % 12 for s in plan.style.melody.scale(plan.key.mode)}


def _is_step(a: int, b: int, scale: set[int]) -> bool:
    """A step: two semitones or fewer, or neighbouring tones of a gapped scale."""
    lo, hi = sorted((a, b))
    if hi - lo <= 2:
        return True
    return lo % 12 in scale and hi % 12 in scale and hi - lo <= 3 and not any(
        p % 12 in scale for p in range(lo + 1, hi))


# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "seed"), CASES)
def test_notes_are_valid_sorted_monophonic_and_inside_the_piece(name: str, seed: int) -> None:
    plan = _plan(PROMPTS[name], seed)
    notes = _melody(PROMPTS[name], seed)
    assert len(notes) >= 4 * plan.total_bars // 8
    assert all(isinstance(n, Note) and n.duration > 0 for n in notes)
    assert [n.start for n in notes] == sorted(n.start for n in notes)
    for a, b in pairwise(notes):
        assert a.end <= b.start + EPS, f"{a} overlaps {b}"
    assert notes[0].start >= 0
    assert notes[-1].end <= plan.sections[-1].end + EPS
    assert min(n.duration for n in notes) >= 1 / 8 - EPS


@pytest.mark.parametrize(("name", "seed"), CASES)
def test_pitches_stay_in_the_part_register(name: str, seed: int) -> None:
    plan = _plan(PROMPTS[name], seed)
    part = _lead(plan)
    notes = _melody(PROMPTS[name], seed)
    assert all(part.low <= n.pitch <= part.high for n in notes)
    # The tune keeps to about the style's range (a final lift may add an octave).
    pitches = sorted(n.pitch for n in notes)
    core = pitches[len(pitches) // 20: len(pitches) - len(pitches) // 20]
    assert core[-1] - core[0] <= plan.style.melody.range + 12


@pytest.mark.parametrize(("name", "seed"), CASES)
def test_strong_beats_are_chord_tones(name: str, seed: int) -> None:
    plan = _plan(PROMPTS[name], seed)
    notes = _melody(PROMPTS[name], seed)
    strong = [n for n in notes
              if any(abs(n.start % plan.bar_beats - o) < EPS for o in _strong_offsets(plan))]
    assert strong
    tones = sum(1 for n in strong if n.pitch % 12 in plan.chord_at(n.start).pitch_classes)
    assert tones / len(strong) >= 0.7


@pytest.mark.parametrize(("name", "seed"), CASES)
def test_mostly_stepwise_leaps_bounded_and_answered(name: str, seed: int) -> None:
    plan = _plan(PROMPTS[name], seed)
    ch = plan.style.melody
    notes = _melody(PROMPTS[name], seed)
    scale = _scale(plan)
    intervals = [b.pitch - a.pitch for a, b in pairwise(notes)]
    steps = sum(1 for a, b in pairwise(notes)
                if _is_step(a.pitch, b.pitch, scale))
    if ch.step_probability >= 0.6:
        assert steps / len(intervals) >= 0.5
    pairs = _connected(notes)
    assert all(abs(b.pitch - a.pitch) <= ch.max_leap for a, b in pairs)
    # A leap of a fourth or more is mostly answered by a move back the other way.
    leaps = [(b.pitch - a.pitch, c.pitch - b.pitch)
             for a, b, c in zip(notes, notes[1:], notes[2:], strict=False)
             if abs(b.pitch - a.pitch) >= 5 and b.start - a.end < 0.125
             and c.start - b.end < 0.125]
    if len(leaps) >= 4:
        answered = sum(1 for leap, then in leaps if leap * then < 0)
        assert answered / len(leaps) >= 0.6


@pytest.mark.parametrize("name", ["pop", "rock", "classical", "celtic", "edm", "waltz"])
def test_no_augmented_seconds_outside_the_scale(name: str) -> None:
    for seed in SEEDS:
        plan = _plan(PROMPTS[name], seed)
        scale = _scale(plan)
        for a, b in _connected(_melody(PROMPTS[name], seed)):
            if abs(a.pitch - b.pitch) != 3 or (a.pitch % 12 in scale and b.pitch % 12 in scale):
                continue
            chord = set(plan.chord_at(b.start).pitch_classes)
            assert {a.pitch % 12, b.pitch % 12} <= chord, f"augmented second {a} -> {b}"


@pytest.mark.parametrize(("name", "seed"), CASES)
def test_ends_on_a_long_tonic(name: str, seed: int) -> None:
    plan = _plan(PROMPTS[name], seed)
    last = _melody(PROMPTS[name], seed)[-1]
    assert last.pitch % 12 == plan.key.tonic
    assert last.duration >= 1.0
    assert last.end == pytest.approx(plan.sections[-1].end)


def _phrase_windows(plan: Plan) -> list[tuple[float, float]]:
    bars = max(2, min(8, plan.style.melody.phrase_bars))
    out = []
    for s in plan.sections:
        t = s.start
        while t + bars * plan.bar_beats <= s.end + EPS:
            out.append((t, t + bars * plan.bar_beats))
            t += bars * plan.bar_beats
    return out


@pytest.mark.parametrize(("name", "seed"), CASES)
def test_phrases_breathe(name: str, seed: int) -> None:
    """Every phrase-long window has a rest or a long note (at least a beat and a half)."""
    plan = _plan(PROMPTS[name], seed)
    notes = _melody(PROMPTS[name], seed)
    rests = [(a.end, b.start) for a, b in pairwise((Note(0, 0, 1e-3), *notes))
             if b.start - a.end >= 0.5 - EPS]
    for t0, t1 in _phrase_windows(plan):
        inside = [n for n in notes if t0 - EPS <= n.start < t1 - EPS]
        long_note = any(n.duration >= min(1.5, plan.bar_beats / 2) - EPS for n in inside)
        gap = any(r0 < t1 - EPS and r1 > t0 + EPS for r0, r1 in rests)
        assert long_note or gap or not inside, f"no breath between beats {t0} and {t1}"


def _section_notes(notes: tuple[Note, ...], start: float, end: float) -> list[tuple]:
    return [(n.pitch, round(n.start - start, 4), round(n.duration, 4)) for n in notes
            if start - EPS <= n.start < end - EPS]


@pytest.mark.parametrize(("name", "seed"),
                         [("pop", s) for s in (1, 2, 3, 4, 5)] + [("rock", 1), ("edm", 2),
                                                                   ("jazz", 1), ("waltz", 2)])
def test_a_section_kind_returns_note_for_note(name: str, seed: int) -> None:
    """Repeats of a kind match over their common whole phrases, except the documented lifts:
    the last phrase of the final chorus/drop/hook and the last phrase of the piece, and the
    last phrase of the shorter of two repeats of unequal length of a section that ends on
    the cadence home."""
    plan = _plan(PROMPTS[name], seed, 120.0)
    notes = _melody(PROMPTS[name], seed, 120.0)
    bars = max(2, min(8, plan.style.melody.phrase_bars))
    phrase = bars * plan.bar_beats
    by_kind: dict[str, list] = {}
    for s in plan.sections:
        by_kind.setdefault(s.kind, []).append(s)
    compared = 0
    for kind, sections in by_kind.items():
        if len(sections) < 2 or kind in ("intro", "outro"):
            continue
        first = sections[0]
        for other in sections[1:]:
            common = min(first.bars, other.bars) // bars
            if other.final or other is plan.sections[-1]:
                common = min(common, other.bars // bars - 1)
            if kind in HOME_KINDS and other.bars != first.bars:
                # A section that comes home ends on the cadence: where a repeat of another
                # length has it, the two differ in the shorter one's last phrase.
                common = min(common, min(first.bars, other.bars) // bars - 1)
            if common <= 0:
                continue
            span = common * phrase
            a = _section_notes(notes, first.start, first.start + span)
            b = _section_notes(notes, other.start, other.start + span)
            assert a == b, f"{other.name} differs from {first.name}"
            compared += 1
    assert compared >= 1


def test_the_final_chorus_lifts() -> None:
    """The last phrase of the final chorus differs from the first chorus (higher)."""
    lifted = 0
    for seed in (1, 2, 3, 4, 5):
        plan = _plan(PROMPTS["pop"], seed, 120.0)
        notes = _melody(PROMPTS["pop"], seed, 120.0)
        choruses = [s for s in plan.sections if s.kind == "chorus"]
        if len(choruses) < 2:
            continue
        first, last = choruses[0], choruses[-1]
        span = min(first.bars, last.bars) * plan.bar_beats
        a = [n.pitch for n in notes if first.start <= n.start < first.start + span]
        b = [n.pitch for n in notes if last.start <= n.start < last.start + span]
        if max(b) > max(a):
            lifted += 1
    assert lifted >= 3


def test_the_chorus_sits_higher_than_the_verse() -> None:
    higher = total = 0
    for seed in range(1, 9):
        plan = _plan(PROMPTS["pop"], seed)
        notes = _melody(PROMPTS["pop"], seed)

        def mean(kind: str, plan: Plan = plan, notes: tuple[Note, ...] = notes) -> float:
            ps = [n.pitch for s in plan.sections if s.kind == kind for n in notes
                  if s.start <= n.start < s.end]
            return sum(ps) / len(ps)

        total += 1
        higher += mean("chorus") > mean("verse")
    assert higher / total >= 0.6


@pytest.mark.parametrize(("name", "seed"), CASES)
def test_a_motif_recurs(name: str, seed: int) -> None:
    """Some one-bar rhythm with its contour occurs at least three times in a minute."""
    plan = _plan(PROMPTS[name], seed)
    notes = _melody(PROMPTS[name], seed)
    bars: Counter[tuple] = Counter()
    for b in range(plan.total_bars):
        t0 = b * plan.bar_beats
        inside = [n for n in notes if t0 - EPS <= n.start < t0 + plan.bar_beats - EPS]
        if len(inside) < 2:
            continue
        rhythm = tuple(round(n.start - t0, 3) for n in inside)
        contour = tuple((y.pitch > x.pitch) - (y.pitch < x.pitch)
                        for x, y in pairwise(inside))
        bars[(rhythm, contour)] += 1
    assert bars and bars.most_common(1)[0][1] >= 3


@pytest.mark.parametrize(("name", "seed"), [("pop", 1), ("celtic", 2), ("jazz", 3)])
def test_deterministic_per_seed(name: str, seed: int) -> None:
    plan = _plan(PROMPTS[name], seed)
    again = make_plan(parse(PROMPTS[name], duration=60, seed=seed), plan.style, seed=seed)
    assert write_melody(plan, _lead(plan)) == write_melody(again, _lead(again))
    other = _plan(PROMPTS[name], seed + 10)
    assert [n.pitch for n in write_melody(other, _lead(other))] != [
        n.pitch for n in write_melody(plan, _lead(plan))]


def test_velocity_follows_energy_and_phrase_arcs() -> None:
    plan = _plan(PROMPTS["pop"], 2)
    notes = _melody(PROMPTS["pop"], 2)
    assert all(30 <= n.velocity <= 120 for n in notes)
    assert len({n.velocity for n in notes}) > 5

    def mean_vel(kind: str) -> float:
        vs = [n.velocity for s in plan.sections if s.kind == kind for n in notes
              if s.start <= n.start < s.end]
        return sum(vs) / len(vs)

    assert mean_vel("chorus") > mean_vel("verse")


@pytest.mark.parametrize("meter", ["2/4", "3/4", "4/4", "6/8", "7/8", "12/8", "5/4"])
def test_every_metre_works(meter: str) -> None:
    plan = _plan(f"a folk song in {meter}", 4)
    assert f"{plan.meter}" == meter
    notes = write_melody(plan, _lead(plan))
    assert len(notes) > plan.total_bars
    assert all(n.end <= plan.length + EPS for n in notes)
    assert notes[-1].pitch % 12 == plan.key.tonic
    # Compound metres move in eighths: no note shorter than an eighth.
    if meter in ("6/8", "12/8"):
        assert min(n.duration for n in notes) >= 0.5 - EPS


def test_character_and_register_are_honoured() -> None:
    plan = _plan(PROMPTS["pop"], 1)
    busy = plan.style.melody.__class__(
        range=7, step_probability=0.95, max_leap=4, density=3.0, syncopation=0.0,
        phrase_bars=2, rest_probability=0.0, repetition=0.5)
    part = PartSpec("flute", "lead", 73, low=72, high=96)
    notes = write_melody(plan, part, character=busy)
    assert all(72 <= n.pitch <= 96 for n in notes)
    assert len(notes) > len(_melody(PROMPTS["pop"], 1))
    assert all(abs(b.pitch - a.pitch) <= 4 for a, b in _connected(notes))


def test_a_part_that_skips_sections_stays_silent_there() -> None:
    plan = _plan(PROMPTS["pop"], 1)
    lead = _lead(plan)
    part = PartSpec(lead.name, lead.role, lead.program, low=lead.low, high=lead.high,
                    sections=("chorus",))
    notes = write_melody(plan, part)
    for n in notes:
        assert any(s.kind == "chorus" and s.start <= n.start < s.end for s in plan.sections)
    assert notes[-1].pitch % 12 == plan.key.tonic


def test_swing_moves_off_beats() -> None:
    plan = _plan("a swing jazz tune", 1)
    assert plan.swing > 0.5
    offs = {round(n.start % 1, 3) for n in write_melody(plan, _lead(plan))}
    assert 0.5 not in offs
    assert any(abs(o - plan.swing) < 0.01 for o in offs)


def test_the_tune_does_not_move_in_parallel_octaves_or_fifths_with_the_roots():
    """Where the chord changes, the tune seldom goes from an octave or fifth above the root to
    the same interval above the next root in the root's direction (voice leading)."""
    moves = parallel = 0
    for name in ("pop", "rock", "celtic", "bossa_nova"):
        plan = _plan(PROMPTS[name], 3, 120.0)
        notes = sorted(_melody(PROMPTS[name], 3, 120.0), key=lambda n: n.start)
        for a, b in pairwise(notes):
            ca, cb = plan.chord_at(a.start + 1e-3), plan.chord_at(b.start + 1e-3)
            if ca.root == cb.root or a.pitch == b.pitch or b.start >= plan.length - 8:
                continue
            moves += 1
            bass = (cb.root - ca.root + 6) % 12 - 6
            same = (a.pitch - ca.root) % 12 == (b.pitch - cb.root) % 12
            parallel += same and (a.pitch - ca.root) % 12 in (0, 7) and \
                (b.pitch - a.pitch) * bass > 0
    assert moves > 20
    # Measured: 27 of 203 (13 %), 36 of 206 (17.5 %) without the rule; what is left are the
    # repeats of a motif and the cadences, which keep their notes.
    assert parallel / moves <= 0.15
