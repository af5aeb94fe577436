from __future__ import annotations

import json
import math
import random
from dataclasses import replace
from pathlib import Path

import pytest

from builders import band_score, melody_score, track
from tunecraft.errors import OutputFileError, ParameterError
from tunecraft.evaluate import (
    MusicMetrics,
    adherence,
    compare_to_reference,
    distribution_distance,
    measure,
    piano_roll_png,
)
from tunecraft.io.midi import write_midi
from tunecraft.score import KeySignature, Score, TempoChange, TimeSignature

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def score_of(*tracks, bpm: float = 120.0, length: float | None = None, **kw) -> Score:
    return Score(tracks=tuple(tracks), tempos=(TempoChange(0, bpm),), length=length, **kw)


def scale(pitches, step: float = 1.0, **kw):
    return track("Lead", [(p, i * step, step, 80) for i, p in enumerate(pitches)],
                 role="lead", **kw)


def drum_bar(pattern, bar: int):
    """Drum hits at 16th-note steps of one 4/4 bar: ``pattern`` is a set of (step, drum)."""
    return [(drum, bar * 4 + step / 4, 0.25, 100) for step, drum in pattern]


# ------------------------------------------------------------------------------------------
# One score, known values


def test_c_major_scale_is_fully_in_scale_with_seven_equal_classes():
    m = measure(score_of(scale([60, 62, 64, 65, 67, 69, 71])))
    assert m.scale_consistency == pytest.approx(1.0)
    assert m.best_scale == "C major"
    assert m.pitch_class_entropy == pytest.approx(math.log2(7))
    assert sum(m.pitch_class_histogram) == pytest.approx(1.0)
    assert m.pitch_class_histogram[1] == 0.0 and m.pitch_class_histogram[0] == pytest.approx(1 / 7)


def test_entropy_counts_notes_not_durations():
    # C lasts 4 beats, D half a beat: per-note counting gives exactly one bit.
    t = track("Lead", [(60, 0, 4.0, 80), (62, 4, 0.5, 80)], role="lead")
    assert measure(score_of(t)).pitch_class_entropy == pytest.approx(1.0)


def test_chromatic_scale_has_maximal_entropy_and_lower_scale_consistency():
    m = measure(score_of(scale(range(60, 72))))
    assert m.pitch_class_entropy == pytest.approx(math.log2(12))
    assert m.scale_consistency == pytest.approx(7 / 12)


def test_single_pitch_has_zero_entropy_and_range():
    m = measure(score_of(scale([64, 64, 76, 64])))
    assert m.pitch_class_entropy == 0.0
    assert m.pitch_range == 12
    assert measure(score_of(scale([64]))).pitch_range == 0


def test_scale_consistency_prefers_the_scores_own_key_on_ties():
    notes = scale([57, 59, 60, 62, 64, 65, 67])
    assert measure(score_of(notes)).best_scale == "C major"
    a_minor = score_of(notes, key_signatures=(KeySignature(0, 9, "minor"),))
    assert measure(a_minor).best_scale == "A minor"


def test_repeating_drum_groove_is_perfectly_consistent_and_random_one_is_not():
    groove = {(0, 36), (4, 38), (8, 36), (12, 38)} | {(s, 42) for s in range(0, 16, 2)}
    steady = track("Drums", [n for bar in range(8) for n in drum_bar(groove, bar)],
                   is_drum=True, role="drums")
    assert measure(score_of(steady)).groove_consistency == pytest.approx(1.0)

    rng = random.Random(7)
    hits = [n for bar in range(8)
            for n in drum_bar({(s, 36) for s in range(16) if rng.random() < 0.5}, bar)]
    chaotic = track("Drums", hits, is_drum=True, role="drums")
    value = measure(score_of(chaotic)).groove_consistency
    assert 0.0 < value < 0.95


def test_groove_uses_bar_lengths_from_the_meter_map():
    # Two bars of 3/4 with the same rhythm: consistent, although 3/4 bars are not 4 beats.
    notes = [(60, b * 3 + t, 0.5, 80) for b in range(2) for t in (0, 1, 2)]
    s = score_of(track("Lead", notes), time_signatures=(TimeSignature(0, 3, 4),))
    assert measure(s).groove_consistency == pytest.approx(1.0)
    # Read in 4/4 the same notes fall differently in each bar.
    assert measure(score_of(track("Lead", notes))).groove_consistency < 1.0


def test_groove_ignores_silent_bars_and_is_nan_without_two_playing_bars():
    s = score_of(track("Lead", [(60, 8, 1, 80), (60, 12, 1, 80)]), length=24.0)
    assert measure(s).groove_consistency == pytest.approx(1.0)
    assert math.isnan(measure(score_of(track("Lead", [(60, 0, 1, 80)]))).groove_consistency)


def test_two_silent_beats_out_of_eight():
    lead = track("Lead", [(60, 0, 1, 80), (62, 1, 1, 80), (64, 4, 2, 80)])
    hats = track("Drums", [(42, 6, 0.25, 90), (42, 7.5, 0.25, 90)], is_drum=True, role="drums")
    m = measure(score_of(lead, hats, length=8.0))
    assert m.empty_beat_rate == pytest.approx(0.25)  # beats 2 and 3 are silent


def test_a_held_note_fills_every_beat_it_spans():
    m = measure(score_of(track("Pad", [(60, 0.5, 7.0, 80)]), length=8.0))
    assert m.empty_beat_rate == 0.0


def test_block_triads_have_polyphony_three():
    triads = [(root + i, bar * 4, 4.0, 70) for bar, root in enumerate((60, 65, 67, 60))
              for i in (0, 4, 7)]
    m = measure(score_of(track("Keys", triads, role="chords")))
    assert m.polyphony == pytest.approx(3.0)


def test_polyphony_is_time_weighted_and_ignores_silence_and_drums():
    # One beat of a single note, one beat of a dyad, two beats of silence, drums throughout.
    keys = track("Keys", [(60, 0, 2, 80), (64, 1, 1, 80)])
    kit = track("Drums", [(36, b, 0.5, 100) for b in range(4)], is_drum=True, role="drums")
    m = measure(score_of(keys, kit, length=4.0))
    assert m.polyphony == pytest.approx(1.5)
    assert measure(score_of(scale([60, 62, 64]))).polyphony == pytest.approx(1.0)


def test_pitch_range_ignores_drums():
    kit = track("Drums", [(81, 0, 0.25, 100), (35, 1, 0.25, 100)], is_drum=True, role="drums")
    m = measure(score_of(scale([48, 55, 67]), kit))
    assert m.pitch_range == 19


def test_note_density_is_all_notes_per_bar_and_per_second():
    # 2 bars of 4/4 at 120 bpm (4 s): 8 lead notes and 8 hi-hats.
    kit = track("Drums", [(42, b, 0.25, 90) for b in range(8)], is_drum=True, role="drums")
    m = measure(score_of(scale(range(60, 68)), kit))
    assert m.n_bars == 2 and m.n_notes == 16 and m.n_pitched_notes == 8
    assert m.note_density == pytest.approx(8.0)
    assert m.notes_per_second == pytest.approx(4.0)


def test_ioi_and_note_length_histograms_use_note_value_classes():
    m = measure(melody_score())  # eight eighth notes
    assert m.ioi_histogram[3] == pytest.approx(1.0)  # index 3: eighth
    assert m.note_length_histogram[3] == pytest.approx(1.0)
    assert m.mean_ioi == pytest.approx(0.5)
    triplets = score_of(track("Lead", [(60, i / 3, 1 / 3, 80) for i in range(6)]))
    assert measure(triplets).ioi_histogram[11] == pytest.approx(1.0)  # 8th triplet


def test_empty_score_gives_nan_not_errors():
    m = measure(Score(length=4.0))
    assert math.isnan(m.pitch_class_entropy) and math.isnan(m.polyphony)
    assert m.empty_beat_rate == 1.0 and m.pitch_range == 0 and m.n_notes == 0
    d = m.to_dict()
    assert d["pitch_class_entropy"] is None
    json.dumps(d)  # JSON-ready


def test_measure_refuses_what_is_not_a_score():
    with pytest.raises(ParameterError):
        measure("song.mid")  # type: ignore[arg-type]


def test_to_dict_is_json_ready_and_complete():
    d = measure(band_score(8)).to_dict()
    for key in ("pitch_class_entropy", "scale_consistency", "groove_consistency",
                "empty_beat_rate", "polyphony", "pitch_range", "note_density",
                "pitch_class_histogram", "ioi_histogram"):
        assert key in d
    assert isinstance(d["pitch_class_histogram"], list) and len(d["pitch_class_histogram"]) == 12
    assert json.loads(json.dumps(d)) == d


def test_band_score_values_are_plausible():
    m = measure(band_score(8))
    assert m.scale_consistency == pytest.approx(1.0)
    assert m.empty_beat_rate == 0.0
    assert m.polyphony > 3.0
    assert 0.8 < m.groove_consistency <= 1.0


# ------------------------------------------------------------------------------------------
# Sets of scores


def _diatonic_set(n: int, seed: int) -> list[MusicMetrics]:
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        pitches = [60 + rng.choice((0, 2, 4, 5, 7, 9, 11)) for _ in range(rng.randint(12, 20))]
        out.append(measure(score_of(scale(pitches, step=rng.choice((0.5, 1.0))))))
    return out


def _chromatic_set(n: int, seed: int) -> list[MusicMetrics]:
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        pitches = [rng.randint(40, 90) for _ in range(rng.randint(30, 50))]
        out.append(measure(score_of(scale(pitches, step=rng.choice((0.25, 0.75))))))
    return out


def test_a_set_compared_with_itself_overlaps_fully():
    a = _diatonic_set(12, 1)
    d = distribution_distance(a, a)
    assert d["mean.overlap"] == pytest.approx(1.0, abs=1e-6)
    assert d["mean.kl"] == pytest.approx(0.0, abs=1e-6)
    assert d["pitch_class_entropy.overlap"] == pytest.approx(1.0, abs=1e-6)


def test_clearly_different_sets_are_further_apart_than_similar_ones():
    a, a2, b = _diatonic_set(12, 1), _diatonic_set(12, 2), _chromatic_set(12, 3)
    similar, different = distribution_distance(a, a2), distribution_distance(a, b)
    assert different["mean.overlap"] < similar["mean.overlap"]
    assert different["mean.kl"] > similar["mean.kl"]
    assert different["pitch_range.overlap"] < 0.5
    assert different["scale_consistency.overlap"] < similar["scale_consistency.overlap"]
    for key, value in different.items():
        assert key.endswith((".overlap", ".kl"))
        assert math.isnan(value) or value >= 0


def test_distance_needs_enough_pieces_and_metrics():
    a = _diatonic_set(2, 1)
    with pytest.raises(ParameterError):
        distribution_distance(a[:1], a[1:])
    with pytest.raises(ParameterError):
        distribution_distance([], a)
    with pytest.raises(ParameterError):
        distribution_distance(a, [melody_score()])  # type: ignore[list-item]
    one = distribution_distance(a[:1], _diatonic_set(6, 5))  # one piece against a corpus
    assert 0.0 <= one["mean.overlap"] <= 1.0


def test_compare_to_reference_takes_scores_not_files(tmp_path: Path):
    path = write_midi(band_score(8), tmp_path / "band.mid")
    refs = [score_of(scale([60 + (i * 7 + k) % 12 for k in range(8)])) for i in range(5)]
    with pytest.raises(ParameterError, match=r"read files with tunecraft\.load"):
        compare_to_reference([path], refs)
    band = replace(band_score(8), title="band")
    report = compare_to_reference([band, band_score(4, seed=3)], refs)
    assert report["pieces"][0]["name"] == "band"
    assert report["generated"]["count"] == 2 and report["reference"]["count"] == 5
    pct = report["pieces"][0]["reference_percentile"]
    assert pct["polyphony"] == 100.0  # a band is more polyphonic than single melodies
    assert 0.0 <= report["distance"]["mean.overlap"] <= 1.0
    assert "MGEval" in report["method"]
    json.dumps(report)
    with pytest.raises(ParameterError):
        compare_to_reference([], refs)
    with pytest.raises(ParameterError):
        compare_to_reference([band_score(4)], [])


def test_existing_exports_are_kept():
    import tunecraft.evaluate as ev

    for name in ("adherence", "AdherenceReport", "Check", "key_estimate", "tempo_estimate",
                 "measure", "MusicMetrics", "distribution_distance", "piano_roll_png",
                 "compare_to_reference"):
        assert name in ev.__all__ and hasattr(ev, name)
    assert callable(adherence)


# ------------------------------------------------------------------------------------------
# Piano roll


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == PNG_MAGIC and data[12:16] == b"IHDR"
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def test_piano_roll_writes_a_plausible_png(tmp_path: Path):
    out = piano_roll_png(band_score(8), tmp_path / "roll.png", title="Band")
    assert out == tmp_path / "roll.png"
    data = out.read_bytes()
    w, h = _png_size(data)
    assert 800 <= w <= 4000 and 300 <= h <= 2000
    assert len(data) > 20_000  # notes, labels and legend, not a blank canvas
    assert not [p for p in tmp_path.iterdir() if p.name != "roll.png"]  # no temporary left


def test_piano_roll_of_empty_and_drum_only_scores(tmp_path: Path):
    kit = track("Drums", [(36, b, 0.25, 100) for b in range(8)], is_drum=True, role="drums")
    for i, s in enumerate((Score(length=4.0), score_of(kit))):
        data = piano_roll_png(s, tmp_path / f"r{i}.png").read_bytes()
        assert data[:8] == PNG_MAGIC


def test_piano_roll_bad_paths_raise_output_file_error(tmp_path: Path):
    blocker = tmp_path / "file.txt"
    blocker.write_text("x")
    with pytest.raises(OutputFileError):
        piano_roll_png(band_score(2), blocker / "roll.png")
    with pytest.raises(OutputFileError):
        piano_roll_png(band_score(2), tmp_path / "roll.jpg")
    with pytest.raises(OutputFileError):
        piano_roll_png(band_score(2), tmp_path)  # a folder
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file.txt"]


def test_piano_roll_leaves_no_partial_file_when_writing_fails(tmp_path: Path, monkeypatch):
    from matplotlib.figure import Figure

    def broken_savefig(self, fname, **kw):
        Path(fname).write_bytes(PNG_MAGIC + b"half a picture")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Figure, "savefig", broken_savefig)
    target = tmp_path / "roll.png"
    with pytest.raises(OutputFileError):
        piano_roll_png(band_score(2), target)
    assert list(tmp_path.iterdir()) == []
