"""JSON writing and the score summary behind ``tunecraft info``."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from builders import band_score, track
from tunecraft.errors import OutputFileError, ParameterError
from tunecraft.io.json import score_summary, write_json
from tunecraft.score import KeySignature, Score, Section, TempoChange, TimeSignature


def test_write_json_keeps_order_utf8_and_indent(tmp_path):
    data = {"zeta": 1, "alpha": "canção ♪", "nested": {"b": 2, "a": [1, 2]}}
    path = write_json(data, tmp_path / "out.json")
    text = path.read_text(encoding="utf-8")
    assert text.index('"zeta"') < text.index('"alpha"') < text.index('"nested"')
    assert "canção ♪" in text                       # not \\u-escaped
    assert '\n  "alpha"' in text and '\n    "b": 2' in text
    assert json.loads(text) == data


def test_write_json_converts_numpy_and_paths(tmp_path):
    data = {"peak": np.float32(0.5), "bars": np.int64(8), "curve": np.arange(3),
            "file": Path("a/b.wav")}
    back = json.loads(write_json(data, tmp_path / "n.json").read_text())
    assert back == {"peak": 0.5, "bars": 8, "curve": [0, 1, 2], "file": "a/b.wav"}


def test_write_json_refuses_nan_and_unknown_objects_without_output(tmp_path):
    with pytest.raises(ParameterError, match="JSON"):
        write_json({"x": float("nan")}, tmp_path / "nan.json")
    with pytest.raises(ParameterError, match="object"):
        write_json({"x": object()}, tmp_path / "obj.json")
    with pytest.raises(OutputFileError, match="unknown file type"):
        write_json({}, tmp_path / "x.txt")
    assert list(tmp_path.iterdir()) == []


def test_write_json_unwritable(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(OutputFileError):
        write_json({"a": 1}, blocker / "x.json")
    if os.geteuid() != 0:  # pragma: no cover - root ignores folder permissions
        ro = tmp_path / "ro"
        ro.mkdir()
        ro.chmod(0o500)
        try:
            with pytest.raises(OutputFileError, match="not writable"):
                write_json({"a": 1}, ro / "x.json")
        finally:
            ro.chmod(0o700)


def test_write_json_replaces_atomically(tmp_path):
    path = tmp_path / "s.json"
    write_json({"v": 1}, path)
    write_json({"v": 2}, path)
    assert json.loads(path.read_text()) == {"v": 2}
    assert [p.name for p in tmp_path.iterdir()] == ["s.json"]


def test_score_summary_of_band_score():
    score = band_score(8)
    s = score_summary(score)
    assert s["title"] == "Band test"
    assert s["bpm"] == 120.0 and s["key"] == "C major" and s["meter"] == "4/4"
    assert s["duration_beats"] == 32.0 and s["duration_seconds"] == 16.0 and s["bars"] == 8
    assert s["note_count"] == score.note_count
    assert [t["name"] for t in s["tracks"]] == [t.name for t in score.tracks]
    lead = s["tracks"][0]
    assert lead["instrument"] == "Flute" and lead["program"] == 73 and lead["role"] == "lead"
    assert lead["notes"] == 32 and lead["lowest_pitch"] >= 60 and lead["highest_pitch"] <= 72
    drums = s["tracks"][4]
    assert drums["is_drum"] and drums["instrument"] == "Drum Kit"
    assert (drums["lowest"], drums["highest"]) == ("C2", "F#2")
    assert [(x["name"], x["start_seconds"], x["bar"]) for x in s["sections"]] == [
        ("verse", 0.0, 1), ("chorus", 8.0, 5)]
    assert s["chords"] == 8 and s["chord_symbols"] == ["C", "Am", "F", "G"]
    json.dumps(s)  # JSON-ready


def test_score_summary_with_changes():
    score = Score(
        tracks=(track("Voice", [(60, 0, 1, 80, "la"), (64, 7, 3, 80)], role="vocal"),
                track("Empty", [])),
        tempos=(TempoChange(0, 60), TempoChange(3, 120)),
        time_signatures=(TimeSignature(0, 3, 4), TimeSignature(3, 4, 4)),
        key_signatures=(KeySignature(0, 2, "minor"), KeySignature(7, 10, "major")),
        sections=(Section("intro", 0, 3), Section("verse", 3, 8)),
    )
    s = score_summary(score)
    assert s["tempos"] == [{"beat": 0.0, "bar": 1, "seconds": 0.0, "bpm": 60.0},
                           {"beat": 3.0, "bar": 2, "seconds": 3.0, "bpm": 120.0}]
    assert s["meters"] == [{"beat": 0.0, "bar": 1, "meter": "3/4"},
                           {"beat": 3.0, "bar": 2, "meter": "4/4"}]
    assert [k["name"] for k in s["keys"]] == ["D minor", "Bb major"]
    assert (s["keys"][1]["tonic"], s["keys"][1]["mode"]) == ("Bb", "major")
    assert s["keys"][1]["bar"] == 3          # bars start at beats 0, 3, 7
    assert s["bars"] == 3 and s["duration_beats"] == 11.0 and s["duration_seconds"] == 7.0
    assert s["sections"][1] == {"name": "verse", "start_beat": 3.0, "length_beats": 8.0,
                                "bar": 2, "start_seconds": 3.0}
    assert s["tracks"][0]["lyrics"] == 1
    assert (s["tracks"][0]["lowest"], s["tracks"][0]["highest"]) == ("C4", "E4")
    assert s["tracks"][1]["notes"] == 0 and s["tracks"][1]["lowest"] is None
    assert s["chords"] == 0 and s["chord_symbols"] == []


def test_empty_score_summary():
    s = score_summary(Score())
    assert s["bars"] == 0 and s["duration_seconds"] == 0.0 and s["tracks"] == []
