"""Story mode: one piece following a timeline of prompts, switching where asked."""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass
from typing import Any

import pytest

from paths import SEED_PROMPTS
from tunecraft.compose.story import fifths_distance, parse_timeline, story
from tunecraft.errors import ParameterError


def _seed_timeline() -> list[tuple[float, str]]:
    items = json.loads(SEED_PROMPTS.read_text(encoding="utf-8"))["story_mode"]
    return [(float(x["at_s"]), x["prompt"]) for x in items]


@pytest.fixture(scope="module")
def seed_story():
    from tunecraft import api

    return api.story(_seed_timeline(), seed=7)


@dataclass(frozen=True)
class Seg:
    """A segment as the composition gives it: its JSON and the request it is checked on."""

    at: float
    prompt: str
    start_beat: float
    end_beat: float
    start_seconds: float
    bars: int
    key_choice: str
    augmented: bool
    spec: Any


def segments(made) -> list[Seg]:
    checks = getattr(made, "composition", made).checks
    return [Seg(d["requested_seconds"], d["prompt"], d["start_beat"], d["end_beat"],
                d["actual_seconds"], d["bars"], d["key_choice"], d["motif_augmented"], c.spec)
            for d, c in zip(made.meta["story"]["segments"], checks, strict=True)]


def _bar_seconds(seg) -> float:
    num, den = seg.spec.meter
    return num * 4 / den * 60.0 / seg.spec.bpm


def _notes_in(score, seg, *, drums: bool):
    return [n for t in score.tracks if t.is_drum == drums and (drums or t.role != "fx")
            for n in t.notes if seg.start_beat - 1e-6 <= n.start < seg.end_beat - 1e-6]


# -- the timeline ------------------------------------------------------------------------------


def test_parse_timeline_reads_clock_times_seconds_and_comments():
    got = parse_timeline(["0:00 time to meditate", "", "# a comment", "1:05 - time to run",
                          "75.5 fireworks", "1:02:03 | the end"])
    assert got == [(0.0, "time to meditate"), (65.0, "time to run"), (75.5, "fireworks"),
                   (3723.0, "the end")]


@pytest.mark.parametrize("line, words", [
    ("soon time to run", "not a time"),
    ("0:75 time to run", "not a time"),
    ("0:15", "prompt is empty"),
    ("0:15   ", "prompt is empty"),
])
def test_parse_timeline_rejects_bad_lines_readably(line, words):
    with pytest.raises(ParameterError, match=words) as err:
        parse_timeline(["0:00 calm piano", line])
    assert "line 2" in str(err.value)


@pytest.mark.parametrize("timeline, duration, words", [
    ([], None, "empty"),
    ([(5, "calm piano")], None, "must be at 0:00"),
    ([(0, "calm piano"), (20, "rock"), (10, "jazz")], 40, "must increase"),
    ([(0, "calm piano"), (10, "rock"), (10, "jazz")], 40, "twice"),
    ([(0, "calm piano"), (30, "rock")], 20, "beyond the end"),
    ([(0, "calm piano"), (30, "rock")], 30, "beyond the end"),
    ([(0, "calm piano"), (10, "   ")], 30, "prompt is empty"),
    ([(0, "calm piano at 60 bpm"), (2, "fast rock")], 30, "less than one bar"),
    ([(0, "calm piano"), (10, "fast rock at 60 bpm")], 11, "less than one bar"),
    ([(0, "calm piano")], -3, "positive"),
    ([(0, "calm piano")], 5000, "20-minute"),
])
def test_bad_timelines_raise_parameter_errors(timeline, duration, words):
    with pytest.raises(ParameterError, match=words):
        story(timeline, duration=duration, seed=1)


# -- the seed story ----------------------------------------------------------------------------


def test_each_segment_is_a_section_named_after_its_prompt(seed_story):
    timeline = _seed_timeline()
    score = seed_story.score
    assert [s.name for s in score.sections] == [p for _, p in timeline]
    for sec, seg in zip(score.sections, segments(seed_story), strict=True):
        assert sec.start == pytest.approx(seg.start_beat)
        assert sec.end == pytest.approx(seg.end_beat)
    assert score.sections[-1].end == pytest.approx(score.length)


def test_segments_start_within_a_bar_of_the_requested_times_on_bar_lines(seed_story):
    score = seed_story.score
    bar_lines = score.bar_lines()
    segs = segments(seed_story)
    assert segs[0].start_seconds == 0.0
    for prev, seg in itertools.pairwise(segs):
        actual = score.seconds_at(seg.start_beat)
        assert actual == pytest.approx(seg.start_seconds, abs=1e-4)
        assert abs(actual - seg.at) <= _bar_seconds(prev) + 1e-6, seg.prompt
        assert any(abs(b - seg.start_beat) < 1e-6 for b in bar_lines)
        # The nearest bar line: one bar more or less of the segment before (its last bar,
        # with the tempo ramp, moved along) would not land closer.
        off = abs(actual - seg.at)
        if prev.bars > 1:
            assert off <= abs(actual - _bar_seconds(prev) - seg.at) + 1e-6
        assert off <= abs(actual + _bar_seconds(prev) - seg.at) + 1e-6


def test_total_length_is_within_a_bar_of_the_duration(seed_story):
    last = segments(seed_story)[-1]
    expected = _seed_timeline()[-1][0] + 15.0
    assert abs(seed_story.score.duration_seconds - expected) <= _bar_seconds(last) + 1e-6


def test_tempo_changes_at_each_boundary_to_the_segment_tempo(seed_story):
    score = seed_story.score
    changes = {round(t.beat, 6) for t in score.tempos}
    for seg in segments(seed_story):
        assert round(seg.start_beat, 6) in changes
        assert score.bpm_at(seg.start_beat) == pytest.approx(seg.spec.bpm)
        assert score.bpm_at(seg.end_beat - seg.spec.meter[0] * 4 / seg.spec.meter[1] - 1e-3) \
            == pytest.approx(seg.spec.bpm)  # steady until the last bar
    tempos = [s.spec.bpm for s in segments(seed_story)]
    assert len(set(tempos)) > 1  # the seed story really changes tempo
    # Meter and key maps change on the boundaries only.
    starts = {round(s.start_beat, 6) for s in segments(seed_story)}
    assert {round(t.beat, 6) for t in score.time_signatures} <= starts
    assert {round(k.beat, 6) for k in score.key_signatures} <= starts


def test_a_tempo_ramp_leads_into_a_different_tempo(seed_story):
    score = seed_story.score
    a, b = segments(seed_story)[0], segments(seed_story)[1]
    ramp = [t for t in score.tempos if a.start_beat < t.beat < b.start_beat]
    assert len(ramp) >= 2
    lo, hi = sorted((a.spec.bpm, b.spec.bpm))
    assert all(lo < t.bpm < hi for t in ramp)


def test_drums_play_only_where_the_prompt_asks(seed_story):
    segs = {s.prompt: s for s in segments(seed_story)}
    assert not segs["time to meditate"].spec.drums
    assert segs["time to give 100%"].spec.drums
    for seg in segments(seed_story):
        drums = _notes_in(seed_story.score, seg, drums=True)
        assert bool(drums) == seg.spec.drums, seg.prompt


def test_keys_are_kept_or_related(seed_story):
    score = seed_story.score
    segs = segments(seed_story)
    for prev, seg in itertools.pairwise(segs):
        key = score.key_at(seg.start_beat)
        assert (key.tonic, key.mode) == (seg.spec.key_tonic, seg.spec.mode)
        assert fifths_distance((prev.spec.key_tonic, prev.spec.mode),
                               (seg.spec.key_tonic, seg.spec.mode)) <= 1
        assert seg.key_choice


def test_an_explicit_key_is_honoured():
    r = story([(0, "calm piano in C major"), (12, "energetic rock in F# minor")], duration=24,
              seed=3)
    keys = [(s.spec.key_name, s.key_choice) for s in segments(r)]
    assert keys == [("C major", "as requested"), ("F# minor", "as requested")]
    assert r.score.key_at(segments(r)[1].start_beat).name == "F# minor"


def test_each_segment_keeps_its_own_request(seed_story):
    for seg, report in zip(segments(seed_story), seed_story.reports, strict=True):
        assert report.passed, (seg.prompt, report.summary())


def _motif_windows(score, seg, span_bars: int):
    """(onset pattern as 16ths of the window, interval directions) for each window."""
    lead = [n for t in score.tracks if t.role == "lead" for n in t.notes
            if seg.start_beat - 1e-6 <= n.start < seg.end_beat - 1e-6]
    bar = seg.spec.meter[0] * 4 / seg.spec.meter[1]
    window = bar * span_bars
    out = []
    for k in range(seg.bars - span_bars + 1):
        t0 = seg.start_beat + k * bar
        notes = sorted((n for n in lead if t0 - 0.05 <= n.start < t0 + window - 0.05),
                       key=lambda n: n.start)
        onsets = tuple(round((n.start - t0) / window * 16) for n in notes)
        dirs = tuple((b.pitch > a.pitch) - (b.pitch < a.pitch)
                     for a, b in itertools.pairwise(notes))
        out.append((onsets, dirs))
    return out


def test_one_motif_recurs_in_every_segment(seed_story):
    score, segs = seed_story.score, segments(seed_story)
    source = segs[seed_story.meta["story"]["motif"]["from_segment"]]
    onsets, dirs = next(w for w in _motif_windows(score, source, 1) if len(w[0]) >= 3)
    for seg in segs:
        span = 2 if seg.augmented else 1
        found = False
        for o, d in _motif_windows(score, seg, span):
            if o[:len(onsets)] == onsets:
                agree = sum(x == y for x, y in zip(d, dirs, strict=False)) / max(1, len(dirs))
                found = found or agree >= 0.5
        assert found, f"the motif {onsets} {dirs} is not heard in {seg.prompt!r}"


def test_transitions_are_recorded_and_sound(seed_story):
    trans = seed_story.meta["story"]["transitions"]
    assert len(trans) == len(segments(seed_story)) - 1
    assert all(t["tempo_ramp"] for t in trans[:1])
    riser = next(t for t in seed_story.score.tracks if t.program == 119)
    for t, seg in zip(trans, segments(seed_story)[1:], strict=True):
        if t["riser"]:  # a reverse cymbal swells into the downbeat
            assert any(n.start < seg.start_beat <= n.end for n in riser.notes)
        if t["fill"]:
            kit = next(tr for tr in seed_story.score.tracks if tr.is_drum)
            bar = segments(seed_story)[segments(seed_story).index(seg) - 1]
            last = seg.start_beat - bar.spec.meter[0] * 4 / bar.spec.meter[1]
            toms_snares = [n for n in kit.notes if last <= n.start < seg.start_beat
                           and n.pitch in (38, 40, 41, 43, 45, 47, 48, 50)]
            assert toms_snares
    # Meditation -> wake up: the strings hold into the first bar of the new segment.
    assert trans[0]["held_into_next"] or trans[0]["entering_early"]


def test_same_seed_same_story_and_tracks_join_across_segments(seed_story):
    again = story(_seed_timeline(), seed=7)
    assert again.score == seed_story.score
    names = [t.name for t in seed_story.score.tracks]
    assert len(names) == len(set(names))
    other = story(_seed_timeline(), seed=8)
    assert other.score != seed_story.score


def test_short_render_and_bundle(tmp_path):
    from tunecraft import api
    from tunecraft.synth import RenderOptions

    r = api.story(parse_timeline(["0:00 calm piano", "0:06 energetic rock"]), duration=12,
                  seed=2, options=RenderOptions(backend="sine"))
    assert r.audio is not None
    assert r.audio.duration >= r.score.duration_seconds - 1e-3
    bundle = r.save(tmp_path / "story.wav")
    data = json.loads(bundle.json.read_text())
    segs = data["story"]["segments"]
    assert [s["prompt"] for s in segs] == ["calm piano", "energetic rock"]
    assert segs[1]["requested_seconds"] == 6.0
    assert segs[1]["actual_seconds"] == pytest.approx(segments(r)[1].start_seconds, abs=1e-3)
    assert "adherence" in segs[0] and "spec" in segs[0] and segs[1]["key_choice"]
    assert [s["name"] for s in data["sections"]] == ["calm piano", "energetic rock"]
    with pytest.raises(ParameterError, match="without stems"):
        r.save(tmp_path / "again.wav", stems=True)


def test_api_story_accepts_lines():
    from tunecraft import api

    r = api.story(["0:00 calm piano", "0:08 fast rock"], duration=16, seed=4, render=False)
    assert [s.name for s in r.score.sections] == ["calm piano", "fast rock"]


def test_later_segments_arrive_with_their_music_not_a_second_intro():
    from tunecraft.compose.story import story as _story

    r = _story([(0, "time to meditate"), (15, "time to run"), (30, "time to give 100%")],
               duration=45, seed=7)
    s = r.score
    leads = [t for t in s.tracks if t.role in ("lead", "vocal")]
    for seg in segments(r)[1:]:
        bar = s.time_signature_at(seg.start_beat).bar_beats
        first_bars = [n for t in leads for n in t.notes
                      if seg.start_beat <= n.start < seg.start_beat + 2 * bar]
        assert len(first_bars) >= 2, seg.prompt
