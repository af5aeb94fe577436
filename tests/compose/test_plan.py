from __future__ import annotations

import pytest

from tunecraft.compose.plan import HOME_KINDS, make_plan, plan_form
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


@pytest.mark.parametrize(("prompt", "seed"), [("pop song in B minor", 20), ("edm in E minor", 76),
                                              ("a rock song in G", 4), ("house in C minor", 81)])
def test_every_chorus_comes_home_through_the_dominant(prompt, seed):
    """The key is heard: each chorus ends on the tonic chord, reached from the dominant where
    the style has an authentic cadence; in minor that dominant is major (its leading tone)."""
    spec = parse(prompt, duration=120, seed=seed)
    style = load_style(spec.style)
    plan = make_plan(spec, style, seed=seed)
    choruses = [s for s in plan.sections if s.kind in HOME_KINDS]
    assert choruses
    dominant = (plan.key.tonic + 7) % 12
    has_authentic = any(
        "V" in " ".join(c).upper().replace("VI", "").replace("IV", "")
        for c in style.harmony.cadences.get(plan.key.mode, ()))
    for s in choruses:
        chords = plan.chords_in(s)
        assert chords[-1].root == plan.key.tonic
        if has_authentic:
            cadence = chords[-3:]
            before = [c for c in cadence if c.root == dominant]
            assert before, f"{s.name} ends without the dominant"
            if plan.key.mode == "minor":
                assert before[-1].quality in ("", "7", "9", "7sus4", "sus4")


def test_the_key_finder_hears_the_declared_key():
    from tunecraft.analysis import key_estimate
    from tunecraft.compose import compose_score

    heard = 0
    prompts = ["a pop ballad in B minor", "an edm track in E minor", "a house piece in C minor",
               "a jazz tune in F", "a rock song in A", "a folk song in D minor"]
    for i, prompt in enumerate(prompts):
        spec = parse(prompt, duration=45, seed=i)
        score = compose_score(spec, seed=i)
        tonic, mode, _ = key_estimate(score)
        heard += (tonic, mode) == (score.key.tonic, score.key.mode)
    assert heard >= len(prompts) - 1
