"""Continuation: the input unchanged, then more of the same piece, joined at a bar line."""

from __future__ import annotations

import json

import pytest

from tunecraft.compose import Composition
from tunecraft.compose.continuation import continue_score, scale_steps
from tunecraft.errors import ParameterError, TunecraftError
from tunecraft.score import (
    Chord,
    KeySignature,
    Note,
    Score,
    TempoChange,
    TimeSignature,
    Track,
)

D_MINOR = KeySignature(0.0, 2, "minor")
MOTIF_STEPS = [2, -1, -1]  # D5 F5 E5 D5: up a third, down, down


def cont(made) -> dict:
    """What the continuation's JSON says about it: the join, what was kept and changed..."""
    return made.meta["continuation"]


def _band() -> Score:
    """Six bars of 3/4 at 100 bpm in D minor: lead (with a recurring motif), chords, bass,
    drums. Chords Dm | Gm | A | Dm | Gm A | Dm."""
    lead: list[Note] = []
    motif = [(74, 0.0, 1.0), (77, 1.0, 0.5), (76, 1.5, 0.5), (74, 2.0, 1.0)]
    answers = {1: [(70, 0.0, 1.5), (69, 1.5, 0.5), (67, 2.0, 1.0)],
               3: [(72, 0.0, 1.0), (73, 1.0, 1.0), (76, 2.0, 1.0)],
               5: [(74, 0.0, 3.0)]}  # fmt: skip
    for bar in range(6):
        t0 = bar * 3.0
        cell = motif if bar in (0, 2, 4) else answers[bar]
        shift = {0: 0, 2: -2, 4: 2}.get(bar, 0)
        for p, o, d in cell:
            lead.append(Note(p + (shift if cell is motif else 0), t0 + o, d, 84))
    harmony = [(2, "m"), (7, "m"), (9, ""), (2, "m"), (7, "m"), (2, "m")]
    chords = [Chord(i * 3.0, 3.0, r, q) for i, (r, q) in enumerate(harmony)]
    comp, bass, drums = [], [], []
    for c in chords:
        tones = [60 + ((pc - 60) % 12) for pc in c.pitch_classes]
        for beat in (1.0, 2.0):
            comp += [Note(p, c.start + beat, 0.9, 64) for p in tones]
        bass.append(Note(38 + (c.root - 2) % 12 - (12 if (c.root - 2) % 12 > 6 else 0),
                         c.start, 2.0, 90))
        drums += [Note(36, c.start, 0.25, 100), Note(38, c.start + 1, 0.25, 90),
                  Note(38, c.start + 2, 0.25, 90)]
        drums += [Note(42, c.start + o, 0.25, 70) for o in (0, 0.5, 1, 1.5, 2, 2.5)]
    return Score(
        tracks=(Track("Flute", tuple(lead), program=73, role="lead", volume=110, pan=70),
                Track("Piano", tuple(comp), program=0, role="chords", volume=90, pan=50),
                Track("Bass", tuple(bass), program=33, role="bass", volume=100, pan=64),
                Track("Drums", tuple(drums), is_drum=True, role="drums", volume=95, pan=64)),
        tempos=(TempoChange(0.0, 100.0),), time_signatures=(TimeSignature(0.0, 3, 4),),
        key_signatures=(D_MINOR,), chords=tuple(chords), title="band in D minor", length=18.0)


def _piano_melody() -> Score:
    """A piano melody alone, 4/4 at 84 bpm, G major, four bars, no chords given."""
    pitches = [67, 71, 74, 71, 72, 71, 69, 67, 67, 71, 74, 71, 72, 74, 67, 67]
    notes = [Note(p, i * 1.0, 1.0, 76) for i, p in enumerate(pitches)]
    return Score(tracks=(Track("Piano", tuple(notes), program=0, role="lead"),),
                 tempos=(TempoChange(0.0, 84.0),), key_signatures=(KeySignature(0.0, 7),),
                 length=16.0)


@pytest.fixture(scope="module")
def band() -> Score:
    return _band()


@pytest.fixture(scope="module")
def band_result(band) -> Composition:
    return continue_score(band, duration=12.0, seed=3)


def _input_notes(score: Score) -> dict[str, list[Note]]:
    return {t.name: list(t.notes) for t in score.tracks}


def test_input_notes_unchanged_at_their_times(band, band_result):
    out = band_result.score
    for t in band.tracks:
        got = out.track(t.name)
        before = [n for n in got.notes if n.start < cont(band_result)["join_beat"] - 1e-9]
        assert before == list(t.notes), t.name


def test_tempo_meter_key_kept_without_prompt(band, band_result):
    out = band_result.score
    join = cont(band_result)["join_beat"]
    assert join == 18.0
    assert out.tempos == band.tempos  # unchanged before the join and the same after
    assert out.bpm_at(join + 1) == 100.0
    assert out.time_signature_at(join + 1) .numerator == 3
    assert str(out.time_signature_at(join + 1)) == "3/4"
    assert (out.key_at(join + 1).tonic, out.key_at(join + 1).mode) == (2, "minor")
    assert band_result.spec.bpm == 100.0 and cont(band_result)["changed"] == {}
    assert cont(band_result)["kept"]["key"] == "D minor"


def test_same_tracks_continue_after_the_join(band, band_result):
    out = band_result.score
    assert [t.name for t in out.tracks] == [t.name for t in band.tracks]
    for t in band.tracks:
        o = out.track(t.name)
        assert (o.program, o.is_drum, o.volume, o.pan) == (t.program, t.is_drum, t.volume, t.pan)
        after = [n for n in o.notes if n.start >= cont(band_result)["join_beat"] - 1e-9]
        assert after, f"{t.name} has no notes after the join"
    assert cont(band_result)["roles"] == {"Flute": "lead", "Piano": "chords", "Bass": "bass",
                                 "Drums": "drums"}


def test_length_is_input_plus_duration_within_a_bar(band, band_result):
    bar_s = 3 * 60 / 100
    total = band_result.score.duration_seconds
    assert abs(total - (band.duration_seconds + 12.0)) <= bar_s + 1e-6
    assert abs(band_result.scores["new"].duration_seconds - 12.0) <= bar_s + 1e-6


def test_continuation_reuses_the_input_motif(band, band_result):
    motif = cont(band_result)["motif"]
    assert motif is not None and motif["source"] == "repeated"
    assert cont(band_result)["motif"]["scale_steps"] == MOTIF_STEPS
    lead = [n for n in band_result.scores["new"].track("Flute").notes]
    steps = scale_steps(lead, D_MINOR)
    k = len(MOTIF_STEPS)
    assert any(steps[i:i + k] == MOTIF_STEPS for i in range(len(steps) - k + 1)), steps


def test_dynamics_continue_from_the_last_bars(band, band_result):
    new_lead = band_result.scores["new"].track("Flute").notes
    first = [n.velocity for n in new_lead if n.start < 6.0]
    assert abs(sum(first) / len(first) - 84) <= 14


def test_harmony_takes_off_from_the_last_chord(band_result):
    # The input ends on D minor (the tonic): the new section's progression begins.
    assert cont(band_result)["harmony"]["input_last_chord"] == "Dm"
    assert cont(band_result)["harmony"]["function"] == "tonic"
    assert band_result.score.chords[6].start == 18.0


def test_only_new_starts_at_zero_without_input_notes(band, band_result):
    new = band_result.scores["new"]
    assert new.notes and min(n.start for n in new.notes) < 0.05
    assert all(n.start >= 0 for n in new.notes)
    out_after = sorted((t.name, n.pitch, round(n.start - cont(band_result)["join_beat"], 6))
                       for t in band_result.score.tracks for n in t.notes
                       if n.start >= cont(band_result)["join_beat"] - 1e-9)
    got = sorted((t.name, n.pitch, round(n.start, 6)) for t in new.tracks for n in t.notes)
    assert got == out_after  # exactly the continuation, and nothing of the input
    assert new.bpm == 100.0 and str(new.time_signature) == "3/4"


def test_deterministic_for_a_seed(band):
    a = continue_score(band, duration=8.0, seed=11)
    b = continue_score(band, duration=8.0, seed=11)
    c = continue_score(band, duration=8.0, seed=12)
    assert a.score.to_dict() == b.score.to_dict()
    assert a.scores["new"].to_dict() != c.scores["new"].to_dict()


def test_prompt_faster_in_four_four_changes_only_after_the_join(band):
    r = continue_score(band, duration=10.0, prompt="faster, in 4/4", seed=2)
    out, join = r.score, cont(r)["join_beat"]
    assert out.tempos[0] == TempoChange(0.0, 100.0)
    assert TempoChange(join, 120.0) in out.tempos
    assert out.bpm_at(join - 0.5) == 100.0 and out.bpm_at(join + 0.5) == 120.0
    assert str(out.time_signature_at(join - 0.5)) == "3/4"
    assert str(out.time_signature_at(join + 0.5)) == "4/4"
    assert cont(r)["changed"]["tempo_bpm"] == 120.0 and cont(r)["changed"]["meter"] == "4/4"
    assert "key" in cont(r)["kept"] and out.key_at(join + 1).tonic == 2
    for t in band.tracks:  # still exact before the join
        assert [n for n in out.track(t.name).notes if n.start < join] == list(t.notes)
    assert r.scores["new"].bpm == 120.0 and str(r.scores["new"].time_signature) == "4/4"


def test_prompt_new_key_goes_through_its_dominant(band):
    r = continue_score(band, duration=12.0, prompt="in F major", seed=2)
    key = r.score.key_at(cont(r)["join_beat"])
    assert (key.tonic, key.mode) == (5, "major")
    assert cont(r)["harmony"]["link_bar"] == "C7"
    assert r.score.key_at(0).tonic == 2


def test_piano_melody_continues_as_a_piano_melody():
    src = _piano_melody()
    r = continue_score(src, duration=10.0, seed=5)
    assert [t.name for t in r.score.tracks] == ["Piano"]
    assert r.spec.style in ("classical", "lullaby")
    assert any("style guessed" in n for n in cont(r)["notes"])
    assert r.score.bpm_at(cont(r)["join_beat"] + 1) == 84.0
    assert r.score.key_at(cont(r)["join_beat"]).tonic == 7
    new = r.scores["new"].track("Piano").notes
    assert new and all(48 <= n.pitch <= 90 for n in new)


def test_midi_round_trip_input(tmp_path, band):
    from tunecraft.api import load, save_score

    path = save_score(band, tmp_path / "band.mid")
    loaded = load(path)
    r = continue_score(loaded, duration=6.0, seed=1)
    assert r.score.bpm_at(cont(r)["join_beat"] + 0.5) == pytest.approx(100.0)
    assert str(r.score.time_signature_at(cont(r)["join_beat"])) == "3/4"
    for t in loaded.tracks:
        assert [n for n in r.score.track(t.name).notes if n.start < cont(r)["join_beat"]] == \
            list(t.notes)


def test_mid_bar_ending_joins_at_the_next_bar_line():
    src = _piano_melody()
    cut = src.replace(tracks=(src.tracks[0].with_notes(src.tracks[0].notes[:14]),),
                      length=14.0)
    r = continue_score(cut, duration=6.0, seed=1)
    assert cont(r)["join_beat"] == 16.0 and cont(r)["input_end_beat"] == 14.0
    assert cont(r)["new_offset_beat"] == 12.0  # the pickup completes the input's last bar
    pickup = [n for n in r.score.track("Piano").notes if 14.0 <= n.start < 16.0]
    assert pickup
    assert [n for n in r.score.track("Piano").notes if n.start < 14.0] == \
        list(cut.tracks[0].notes)
    assert all(n.start >= 2.0 - 1e-9 for n in r.scores["new"].notes)  # the pickup bar rests first


def test_api_bundle_records_the_join(tmp_path, band):
    from tunecraft.api import continue_music, save_score

    path = save_score(band, tmp_path / "in.mid")
    r = continue_music(path, duration=6.0, seed=4, options=_sine())
    b = r.save(tmp_path / "out.wav")
    data = json.loads(b.json.read_text())
    c = data["continuation"]
    assert c["join_beat"] == 18.0 and c["join_seconds"] == pytest.approx(10.8)
    assert c["source"].endswith("in.mid") and c["kept"]["meter"] == "3/4"
    assert data["spec"]["bpm"] == 100.0
    only = continue_music(path, duration=6.0, seed=4, options=_sine(), only_new=True)
    b2 = only.save(tmp_path / "new.wav")
    new_data = json.loads(b2.json.read_text())
    assert new_data["score"]["length_beats"] == pytest.approx(only.scores["new"].length)


def _sine():
    from tunecraft.synth import RenderOptions

    return RenderOptions(backend="sine")


@pytest.mark.parametrize("kwargs, words", [
    ({"duration": 0}, "more than 0"),
    ({"duration": -3}, "more than 0"),
    ({"duration": 1201}, "20 minutes"),
    ({"duration": 5, "prompt": "   "}, "prompt is empty"),
])  # fmt: skip
def test_bad_parameters(band, kwargs, words):
    with pytest.raises(ParameterError, match=words) as exc:
        continue_score(band, seed=1, **kwargs)
    assert exc.value.exit_code == 2


def test_empty_and_over_long_inputs():
    empty = Score(tracks=(Track("Piano"),))
    with pytest.raises(ParameterError, match="no notes"):
        continue_score(empty, duration=5, seed=1)
    long = Score(tracks=(Track("Piano", (Note(60, 0, 1), Note(62, 2500, 1))),),
                 tempos=(TempoChange(0, 120),))
    with pytest.raises(ParameterError, match="20 minutes"):
        continue_score(long, duration=5, seed=1)


def test_midi_without_notes_is_a_clear_error(tmp_path):
    from tunecraft.api import continue_music
    from tunecraft.io.midi import write_midi

    path = write_midi(Score(tracks=(Track("Piano"),)), tmp_path / "empty.mid")
    with pytest.raises(TunecraftError, match="no notes"):
        continue_music(path, duration=5, seed=1, render=False)


def test_audio_input_is_transcribed_and_continued(tmp_path):
    from tunecraft.api import continue_music
    from tunecraft.io.audio import write_audio
    from tunecraft.synth import RenderOptions, available_backends, render

    if "fluidsynth" not in available_backends():
        pytest.skip("the fluidsynth backend is not available here")
    src = _piano_melody()
    src = src.replace(tempos=(TempoChange(0.0, 100.0),))
    wav = tmp_path / "melody.wav"
    write_audio(render(src, options=RenderOptions(backend="fluidsynth", reverb=0.0)), wav)
    r = continue_music(wav, duration=8.0, seed=1, render=False)
    assert cont(r)["transcribed"]
    bpm = r.score.bpm_at(cont(r)["join_beat"] + 0.5)
    assert abs(bpm - 100.0) / 100.0 <= 0.05 or abs(bpm / 2 - 100.0) / 100.0 <= 0.05 \
        or abs(bpm * 2 - 100.0) / 100.0 <= 0.05, bpm
    heard = r.scores["source"]
    for t in heard.tracks:  # the output starts with exactly the transcribed notes
        before = [n for n in r.score.track(t.name).notes if n.start < cont(r)["join_beat"] - 1e-9]
        assert before == list(t.notes)
    assert r.score.tempos[:len(heard.tempos)] == heard.tempos
    assert any(n.start >= cont(r)["join_beat"] for n in r.score.notes)
