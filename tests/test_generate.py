"""Text to music, end to end: the guarantees of `generate`."""

from __future__ import annotations

import json

import pytest

import tunecraft
from paths import MUSICCAPS, SEED_PROMPTS
from tunecraft.api import generate
from tunecraft.styles import load_style, style_ids
from tunecraft.synth import RenderOptions

FAST = RenderOptions(backend="sine")


def _seed_prompts() -> list[str]:
    data = json.loads(SEED_PROMPTS.read_text(encoding="utf-8"))
    prompts = list(data["captions"]) + list(data["painting_descriptions"])
    prompts += [s["prompt"] for s in data["story_mode"]]
    prompts += [f"{g} {w}" for g, ws in [("pop", data["conditioning_words"]["places"]),
                                           ("rock", data["conditioning_words"]["eras"]),
                                           ("", data["conditioning_words"]["skill"])]
                for w in ws]
    prompts += [f"{e['genre']} in the style of {e['style']}"
                for e in data["jukebox_conditioning"]["examples"]]
    prompts += ["una canción de rock rápida", "uma música calma de piano"]
    return [p.strip() for p in prompts]


@pytest.mark.parametrize("prompt", _seed_prompts())
def test_every_seed_prompt_composes_and_keeps_its_guarantees(prompt):
    r = generate(prompt, seed=5, render=False)
    assert r.report.passed, [(c.name, c.expected, c.measured) for c in r.report.failures]
    score = r.score
    assert score.bpm == r.spec.bpm
    assert (score.key.tonic, score.key.mode) == (r.spec.key_tonic, r.spec.mode)
    assert (score.time_signature.numerator, score.time_signature.denominator) == r.spec.meter
    bar_s = score.time_signature.bar_beats * 60 / score.bpm
    assert abs(score.duration_seconds - r.spec.duration) <= bar_s
    assert any(t.role in ("lead", "vocal") and t.notes for t in score.tracks)
    assert len(score.sections) >= 1


@pytest.mark.parametrize(("prompt", "bpm", "key", "meter", "seconds"), [
    ("bpm: 130 funk in B flat major", 130, (10, "major"), (4, 4), 30),
    ("sad waltz at 84 bpm en re menor, 45 seconds", 84, (2, "minor"), (3, 4), 45),
    ("celtic jig in 6/8, in D major, 2 minutes", None, (2, "major"), (6, 8), 120),
    ("120 BPM techno in A minor, 20 seconds", 120, (9, "minor"), (4, 4), 20),
])
def test_explicit_values_are_exact(prompt, bpm, key, meter, seconds):
    r = generate(prompt, seed=1, render=False)
    s = r.score
    if bpm is not None:
        assert s.bpm == bpm and [t.bpm for t in s.tempos] == [bpm]
    assert (s.key.tonic, s.key.mode) == key
    assert (s.time_signature.numerator, s.time_signature.denominator) == meter
    bar_s = s.time_signature.bar_beats * 60 / s.bpm
    assert abs(s.duration_seconds - seconds) <= bar_s


def test_keyword_overrides_beat_the_prompt():
    r = generate("slow jazz in C major at 70 bpm", seed=2, bpm=142, key="F# minor", meter="3/4",
                 duration=12, render=False)
    s = r.score
    assert s.bpm == 142 and s.key.name == "F# minor" and str(s.time_signature) == "3/4"


def test_requested_instruments_play_and_excluded_ones_do_not():
    r = generate("reggae with steel drums and harmonica, no bass", seed=4, render=False)
    programs = {t.program for t in r.score.tracks if t.notes and not t.is_drum}
    assert {114, 22} <= programs
    assert not any(t.role == "bass" for t in r.score.tracks)
    r = generate("lofi hip hop with rhodes, sin batería", seed=4, render=False)
    assert not any(t.is_drum and t.notes for t in r.score.tracks)
    r = generate("uma música calma de piano, sem bateria", seed=4, render=False)
    assert not any(t.is_drum for t in r.score.tracks)
    assert any(t.program == 0 and t.notes for t in r.score.tracks)


def test_choruses_really_repeat():
    r = generate("pop song with a catchy chorus", duration=120, seed=8, render=False)
    s = r.score
    choruses = [sec for sec in s.sections if sec.name.startswith("chorus")]
    assert len(choruses) >= 2
    lead = next(t for t in s.tracks if t.role in ("lead", "vocal"))

    def notes_in(sec):
        return [(n.pitch, round(n.start - sec.start, 1)) for n in lead.notes
                if sec.start <= n.start < sec.end]

    first, second = notes_in(choruses[0]), notes_in(choruses[1])
    same = len(set(first) & set(second)) / max(len(first), 1)
    assert same >= 0.8


@pytest.mark.parametrize("style_id", style_ids())
def test_every_style_composes_and_renders(style_id):
    style = load_style(style_id)
    r = generate(f"{style.name} music", duration=12, seed=3, options=FAST)
    assert r.report.passed, [(c.name, c.measured) for c in r.report.failures]
    assert r.audio is not None and r.audio.peak > 0.05
    has_drums = any(t.is_drum and t.notes for t in r.score.tracks)
    assert has_drums == (style.has_kit and r.spec.drums)


def test_same_request_and_seed_give_identical_files(tmp_path):
    a = generate("upbeat bossa nova with flute", duration=10, seed=42, options=FAST)
    b = generate("upbeat bossa nova with flute", duration=10, seed=42, options=FAST)
    pa, pb = a.save(tmp_path / "a.wav"), b.save(tmp_path / "b.wav")
    for x, y in zip(pa.paths, pb.paths, strict=True):
        assert x.read_bytes() == y.read_bytes(), x.name
    c = generate("upbeat bossa nova with flute", duration=10, seed=43, render=False)
    assert c.score != a.score


def test_result_json_carries_spec_sections_seed_and_report(tmp_path):
    r = generate("epic cinematic trailer with choir and timpani", duration=20, seed=9,
                 options=FAST)
    bundle = r.save(tmp_path / "epic.wav", stems=False)
    data = json.loads(bundle.json.read_text())
    assert data["request"]["seed"] == 9
    assert data["spec"]["style"] == "cinematic"
    assert data["adherence"]["passed"] is True
    assert [s["name"] for s in data["sections"]] == [s.name for s in r.score.sections]
    assert tunecraft.load(bundle.midi).sections == r.score.sections


def test_a_named_duo_is_a_duo_with_the_tune_on_top():
    r = generate("sad waltz for piano and cello", duration=30, seed=2, render=False)
    pitched = [t for t in r.score.tracks if not t.is_drum and t.notes]
    assert {t.program for t in pitched} == {0, 42}  # piano and cello, nothing added
    lead = next(t for t in pitched if t.role == "lead")
    assert lead.program == 42  # the cello sings, the piano accompanies
    chords = next(t for t in pitched if t.role in ("chords", "harmony"))

    def mean(t):
        return sum(n.pitch for n in t.notes) / len(t.notes)

    assert mean(lead) > mean(chords)


def test_musiccaps_requests_keep_their_guarantees():
    import csv

    with MUSICCAPS.open(newline="", encoding="utf-8") as f:
        captions = [row["caption"] for row in csv.DictReader(f)][:60]
    failed = []
    for i, caption in enumerate(captions):
        r = generate(caption, seed=i, render=False)
        if not r.report.passed:
            failed.append((i, [c.note for c in r.report.failures]))
    assert failed == []


def test_explicit_percussion_plays_even_where_the_style_has_no_kit():
    r = generate("classical piece for strings and percussion", seed=3, render=False)
    assert any(t.is_drum and t.notes for t in r.score.tracks)
    r = generate("epic orchestral trailer music, no vocals", seed=3, render=False)
    assert not any(t.program in (52, 53) and t.notes for t in r.score.tracks)


@pytest.mark.parametrize("prompt", ["pop song with a catchy chorus", "epic edm festival track",
                                    "90s rock song"])
def test_a_five_minute_piece_has_a_song_form(prompt):
    r = generate(prompt, duration=300, seed=6, render=False)
    s = r.score
    assert r.report.passed
    assert abs(s.duration_seconds - 300) <= s.time_signature.bar_beats * 60 / s.bpm
    names = [sec.name for sec in s.sections]
    hook = "drop" if r.spec.style == "edm" else "chorus"
    assert sum(n.startswith(hook) for n in names) >= 2, names
    assert names[0] == "intro" and names[-1] == "outro"
    assert any(n.startswith(("bridge", "breakdown", "solo")) for n in names), names
    # Coherent to the last bar: the lead still plays in the last quarter, the piece ends home.
    lead = next(t for t in s.tracks if t.role in ("lead", "vocal"))
    assert any(n.start > 0.75 * float(s.length) for n in lead.notes)
    assert s.chords[-1].root == s.key.tonic


def test_pads_sit_above_the_comping_instead_of_doubling_it():
    r = generate("An 80s driving pop song with heavy drums and synth pads in the background",
                 duration=40, seed=1, render=False)
    comp = next(t for t in r.score.tracks if t.role in ("chords", "harmony"))
    pad = next(t for t in r.score.tracks if t.role == "pad")

    def mean(t):
        return sum(n.pitch for n in t.notes) / len(t.notes)

    assert mean(pad) >= mean(comp) + 3
    shared = {(n.pitch, n.start) for n in pad.notes} & {(n.pitch, n.start) for n in comp.notes}
    assert len(shared) < 0.5 * len(pad.notes)


def test_the_package_exposes_the_verbs():
    r = tunecraft.generate("calm celtic tune with tin whistle and harp", duration=15, seed=7,
                           render=False)
    assert isinstance(r, tunecraft.Take) and r.report.passed
    assert callable(tunecraft.story) and callable(tunecraft.arrange)
    assert callable(tunecraft.continue_music)


def _captions(n: int) -> list[str]:
    import csv

    with MUSICCAPS.open(newline="", encoding="utf-8") as f:
        return [row["caption"] for row in csv.DictReader(f)][:n]


@pytest.mark.parametrize("prompt", [
    "epic orchestral trailer with choir and timpani, no drums", "sad waltz for piano and cello",
    "A calming violin melody backed by a distorted guitar riff", "reggae with organ",
    *_captions(40)])
def test_what_explain_lists_is_what_the_score_plays(prompt):
    """Every instrument of the spec (what `explain` shows) plays, and nothing else does."""
    r = generate(prompt, seed=2, render=False)
    said = {(i.program, i.is_drum) for i in r.spec.instruments}
    played = {(t.program, t.is_drum) for t in r.score.tracks if t.notes}
    assert said == played, (sorted(said - played), sorted(played - said))


def test_named_soloists_in_an_orchestral_style_get_the_orchestra():
    r = generate("epic orchestral trailer with choir and timpani, no drums", seed=1,
                 render=False)
    roles = {t.role for t in r.score.tracks if t.notes}
    assert {"bass", "harmony"} <= roles or {"bass", "strings"} <= roles, roles
    assert r.score.note_count > 150


def test_generate_reports_its_stages_through_mastering():
    seen = []
    generate("calm piano", duration=8, seed=1, options=RenderOptions(backend="sine"),
             progress=lambda stage, f: seen.append((stage, f)))
    stages = [s for s, _ in seen]
    assert stages[:2] == ["understanding", "composing"]
    assert "synthesizing" in stages and "mastering" in stages
    fractions = [f for _, f in seen]
    assert fractions == sorted(fractions) and fractions[-1] <= 1.0
