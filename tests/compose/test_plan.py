from __future__ import annotations

import pytest

from tunecraft.compose.plan import make_plan, plan_form
from tunecraft.styles import load_style, style_ids
from tunecraft.understand import parse


@pytest.mark.parametrize("style_id", style_ids())
@pytest.mark.parametrize("seconds", [6, 20, 30, 75, 180, 300])
def test_form_fills_the_requested_length_within_a_bar(style_id, seconds):
    style = load_style(style_id)
    spec = parse(style.name, duration=seconds, seed=3)
    plan = make_plan(spec, style, seed=3)
    bar_seconds = plan.bar_beats * 60 / plan.bpm
    assert abs(plan.total_bars * bar_seconds - seconds) <= bar_seconds / 2 + 1e-9
    starts = [s.start for s in plan.sections]
    assert starts == sorted(starts) and plan.sections[0].start == 0
    for a, b in zip(plan.sections, plan.sections[1:], strict=False):
        assert a.end == pytest.approx(b.start)
    # The chord timeline covers the piece without gaps.
    assert plan.chords[0].start == 0
    assert plan.chords[-1].end == pytest.approx(plan.length)
    for a, b in zip(plan.chords, plan.chords[1:], strict=False):
        assert a.end == pytest.approx(b.start)


def test_choruses_repeat_their_harmony_and_the_piece_ends_on_the_tonic():
    spec = parse("pop song", duration=180, seed=11)
    style = load_style("pop")
    plan = make_plan(spec, style, seed=11)
    choruses = [s for s in plan.sections if s.kind == "chorus"]
    assert len(choruses) >= 2
    shapes = [[(c.start - s.start, c.root, c.quality) for c in plan.chords_in(s)]
              for s in choruses[:-1]]
    assert all(shape == shapes[0] for shape in shapes)
    assert plan.chords[-1].root == plan.key.tonic


def test_final_chorus_lifts_and_sections_are_named_in_order():
    plan = make_plan(parse("pop song", duration=180, seed=2), load_style("pop"), seed=2)
    choruses = [s for s in plan.sections if s.kind == "chorus"]
    assert choruses[-1].energy > choruses[0].energy
    assert [s.name for s in choruses][:2] == ["chorus 1", "chorus 2"]


def test_requested_structure_is_played_in_order():
    spec = parse("rock song with intro, verse, chorus, bridge, chorus, outro", duration=90,
                 seed=1)
    plan = make_plan(spec, load_style("rock"), seed=1)
    assert [s.kind for s in plan.sections] == ["intro", "verse", "chorus", "bridge", "chorus",
                                               "outro"]


def test_a_requested_drop_is_in_the_form():
    plan = make_plan(parse("edm with a drop", duration=60, seed=1), load_style("edm"), seed=1)
    assert "drop" in [s.kind for s in plan.sections]


def test_plan_form_rejects_an_empty_piece():
    from tunecraft.errors import ParameterError

    with pytest.raises(ParameterError):
        plan_form(load_style("pop"), bars=0, bar_beats=4, energy=0.5)
