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
def _plan(prompt: str, seed: int) -> Plan:
    spec = parse(prompt, duration=40.0, seed=seed)
    return make_plan(spec, load_style(spec.style), seed=seed)


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
    scale = set(plan.key.scale)
    assert all(n.pitch % 12 in scale for n in notes)
    assert all(part.low <= n.pitch <= part.high for n in notes)
    assert all(a.end <= b.start + 1e-6 for a, b in pairwise(notes))
    assert notes[-1].pitch % 12 == plan.key.tonic
    assert abs(notes[-1].end - plan.length) < 1e-6
    # every section of a kind plays the same tune (the final note aside)
    by_kind: dict[str, list] = {}
    for s in plan.sections:
        by_kind.setdefault(s.kind, []).append(s)
    repeated = [ss for ss in by_kind.values() if len(ss) > 1]
    for ss in repeated:
        first = _relative(notes, ss[0])[:-1]
        for s in ss[1:]:
            other = _relative(notes, s)
            n = min(len(first), len(other) - 1)
            assert other[:n] == first[:n] and n > 0


def test_fit_to_key_and_register():
    tune = [Note(p, i * 0.5, 0.5) for i, p in enumerate((67, 69, 71, 72, 74, 72, 71, 69, 67))]
    out = fit_to_key(tune, KeySignature(0, 2, "minor"))  # G major -> D minor
    assert {n.pitch % 12 for n in out} <= set(KeySignature(0, 2, "minor").scale)
    low = fit_to_register(out, 40, 55)
    assert all(40 <= n.pitch <= 55 for n in low)
    assert [n.start for n in low] == [n.start for n in tune]
