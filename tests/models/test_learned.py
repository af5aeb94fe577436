"""Learned melodies for generate: in key, in register, repeating per section kind, ending home."""

from __future__ import annotations

from functools import cache
from itertools import pairwise

import pytest

from tunecraft.compose.learned import fit_to_key, fit_to_register, write_learned_melody
from tunecraft.compose.plan import PartSpec, Plan, make_plan
from tunecraft.score import KeySignature, Note
from tunecraft.styles import load_style
from tunecraft.understand import parse


@cache
def _plan(prompt: str, seed: int, duration: float = 40.0) -> Plan:
    spec = parse(prompt, duration=duration, seed=seed)
    return make_plan(spec, load_style(spec.style), seed=seed)


def _symbol(plan, t):
    c = plan.chord_at(t + 1e-3)
    return c.root, c.quality


def _relative(notes, s):
    return [(n.pitch, round(n.start - s.start, 6)) for n in notes
            if s.start - 1e-6 <= n.start < s.end - 1e-6]


@pytest.mark.parametrize("prompt,seed", [("an upbeat pop song in D major", 1),
                                         ("a sad waltz in A minor", 2)])
def test_learned_melody_fits_the_plan(prompt, seed):
    plan = _plan(prompt, seed)
    part = PartSpec("lead", "lead", 73, low=62, high=86)
    notes = write_learned_melody(plan, part)
    assert notes == write_learned_melody(plan, part)  # same plan, same tune
    assert len(notes) >= plan.total_bars
    scale = set(plan.key.scale)  # or the chord's (a minor key's major dominant)
    assert all(n.pitch % 12 in scale or n.pitch % 12 in plan.chord_at(n.start + 1e-3)
               .pitch_classes for n in notes)
    assert all(part.low <= n.pitch <= part.high for n in notes)
    assert all(a.end <= b.start + 1e-6 for a, b in pairwise(notes))
    assert notes[-1].pitch % 12 == plan.key.tonic
    assert abs(notes[-1].end - plan.length) < 1e-6
    # every section of a kind plays the same tune (the final note aside), except where its
    # chords differ (a repeat of another length has its cadence elsewhere)
    by_kind: dict[str, list] = {}
    for s in plan.sections:
        by_kind.setdefault(s.kind, []).append(s)
    repeated = [ss for ss in by_kind.values() if len(ss) > 1]
    for ss in repeated:
        first = _relative(notes, ss[0])[:-1]
        for s in ss[1:]:
            other = _relative(notes, s)
            n = min(len(first), len(other) - 1)
            same = [i for i in range(n) if _symbol(plan, ss[0].start + first[i][1])
                    == _symbol(plan, s.start + first[i][1])]
            assert n > 0
            assert [other[i] for i in same] == [first[i] for i in same]


def test_fit_to_key_and_register():
    tune = [Note(p, i * 0.5, 0.5) for i, p in enumerate((67, 69, 71, 72, 74, 72, 71, 69, 67))]
    out = fit_to_key(tune, KeySignature(0, 2, "minor"))  # G major -> D minor
    assert {n.pitch % 12 for n in out} <= set(KeySignature(0, 2, "minor").scale)
    low = fit_to_register(out, 40, 55)
    assert all(40 <= n.pitch <= 55 for n in low)
    assert [n.start for n in low] == [n.start for n in tune]


def test_strong_beats_sound_chord_tones_and_the_chorus_lifts():
    plan = _plan("a pop song in C", 3, 90.0)
    part = PartSpec("lead", "lead", 73, low=60, high=84)
    notes = write_learned_melody(plan, part)
    strong = [n for n in notes if n.start % plan.bar_beats in (0.0, 2.0) or n.duration >= 1.0]
    assert strong
    assert all(n.pitch % 12 in plan.chord_at(n.start + 1e-3).pitch_classes for n in strong)

    def middle(kind):
        ps = [n.pitch for s in plan.sections if s.kind == kind for n in notes
              if s.start <= n.start < s.end]
        return sum(ps) / len(ps)

    assert middle("chorus") >= middle("verse") + 3


def test_fit_to_chords_moves_strong_beat_strangers_to_the_nearest_chord_tone():
    from tunecraft.compose.learned import fit_to_chords

    plan = _plan("a pop song in C", 3)
    chord = plan.chords[0]
    outside = next(p for p in range(62, 74) if p % 12 not in chord.pitch_classes)
    tune = [Note(outside, 0.0, 0.5), Note(outside, 0.5, 0.5)]  # beat 1 and the off-beat
    out, moved = fit_to_chords(tune, plan, 0.0, 55, 90)
    assert moved == 1
    assert out[0].pitch % 12 in chord.pitch_classes and abs(out[0].pitch - outside) <= 2
    assert out[1].pitch == outside  # a passing note off the beat stays


def test_smooth_leaps_takes_the_nearer_octave():
    from tunecraft.compose.learned import smooth_leaps

    tune = [Note(60, 0.0, 1.0), Note(74, 1.0, 1.0), Note(62, 2.0, 1.0)]
    assert [n.pitch for n in smooth_leaps(tune, 48, 84)] == [60, 62, 62]
    assert [n.pitch for n in smooth_leaps(tune, 60, 84)] == [60, 62, 62]
    assert [n.pitch for n in smooth_leaps(tune, 70, 84)][1] == 74  # no room an octave down


def test_a_strong_beat_note_does_not_move_in_octaves_with_the_bass():
    from tunecraft.compose.learned import _parallel, fit_to_chords

    plan = _plan("a pop song in C", 3)
    changes = [(a, b) for a, b in pairwise(plan.chords) if a.root != b.root
               and (b.root - a.root) % 12 in (5, 7)]
    a, b = changes[0]
    up = (b.root - a.root + 6) % 12 - 6 > 0
    first = 60 + a.root  # the root of the first chord, an octave above the bass
    second = first + ((b.root - a.root) % 12 if up else (b.root - a.root) % 12 - 12)
    tune = [Note(first, a.end - 1.0, 1.0), Note(second, b.start, 1.0)]
    assert _parallel(plan, tune[0], tune[0].start, second, b.start)
    out, moved = fit_to_chords(tune, plan, 0.0, 48, 84)
    assert moved >= 1 and out[1].pitch != second
    assert out[1].pitch % 12 in b.pitch_classes
