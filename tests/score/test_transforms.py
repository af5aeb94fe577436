from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from strategies import scores
from tunecraft.errors import ScoreError
from tunecraft.score import (
    Note,
    Score,
    TempoChange,
    Track,
    concat,
    merge,
    quantize,
    retempo,
    slice_score,
    transpose,
)

SETTINGS = settings(max_examples=60, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@SETTINGS
@given(scores(), st.integers(-12, 12))
def test_transpose_there_and_back_is_identity(score, k):
    try:
        there = transpose(score, k)
    except ScoreError:
        return  # some pitch would leave 0-127
    assert transpose(there, -k) == score


def test_transpose_moves_pitches_key_and_chords_but_not_drums():
    from tunecraft.score import Chord, KeySignature

    s = Score(tracks=(Track("P", (Note(60, 0, 1),)), Track("D", (Note(36, 0, 1),), is_drum=True,
                                                            role="drums")),
              key_signatures=(KeySignature(0, 0),), chords=(Chord(0, 4, 0, "maj7"),))
    t = transpose(s, 2)
    assert t.tracks[0].notes[0].pitch == 62
    assert t.tracks[1].notes[0].pitch == 36
    assert t.key.tonic == 2 and t.chords[0].root == 2
    with pytest.raises(ScoreError, match="outside"):
        transpose(s, 100)


@SETTINGS
@given(scores(), st.data())
def test_slice_then_concat_restores(score, data):
    # Cut on a section boundary where no note rings across.
    cuts = [s.start for s in score.sections[1:]
            if not any(n.start < s.start < n.end for n in score.notes)]
    if not cuts:
        return
    cut = data.draw(st.sampled_from(cuts))
    a = slice_score(score, 0, cut)
    b = slice_score(score, cut, float(score.length))
    assert a.length == cut
    assert concat(a, b) == score


def test_slice_cuts_ringing_notes_at_the_end():
    s = Score(tracks=(Track("P", (Note(60, 0, 6), Note(62, 5, 1))),), length=8)
    part = slice_score(s, 0, 4)
    assert [(n.pitch, n.duration) for n in part.tracks[0].notes] == [(60, 4.0)]
    assert part.length == 4


@SETTINGS
@given(scores(), st.sampled_from([0.25, 0.5, 1 / 3, 1.0]))
def test_quantize_is_idempotent_and_on_grid(score, grid):
    q = quantize(score, grid)
    assert quantize(q, grid) == q
    for n in q.notes:
        assert abs(n.start / grid - round(n.start / grid)) < 1e-6
        assert n.duration >= grid - 1e-6


def test_quantize_snaps_to_nearest():
    s = Score(tracks=(Track("P", (Note(60, 0.13, 0.4),)),))
    n = quantize(s, 0.25).tracks[0].notes[0]
    assert (n.start, n.duration) == (0.25, 0.25)


def test_retempo_keeps_beats_and_ratios():
    s = Score(tracks=(Track("P", (Note(60, 0, 8),)),),
              tempos=(TempoChange(0, 100), TempoChange(4, 50)))
    r = retempo(s, 120)
    assert [t.bpm for t in r.tempos] == [120, 60]
    assert r.tracks == s.tracks
    assert r.duration_seconds == pytest.approx(s.duration_seconds * 100 / 120)


def test_merge_overlays_tracks():
    a = Score(tracks=(Track("A", (Note(60, 0, 4),)),), tempos=(TempoChange(0, 90),))
    b = Score(tracks=(Track("B", (Note(48, 0, 8),)),))
    m = merge(a, b)
    assert [t.name for t in m.tracks] == ["A", "B"]
    assert m.bpm == 90 and m.length == 8


def test_transforms_do_not_change_their_input():
    s = Score(tracks=(Track("P", (Note(60, 0.1, 1),)),))
    before = s.to_dict()
    transpose(s, 3), quantize(s), retempo(s, 60), slice_score(s, 0, 1), concat(s, s)
    assert s.to_dict() == before
