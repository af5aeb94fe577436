"""Batches: one bundle per request, summary.csv in file order, bad lines as rows with their
error, resumable by content, identical files on Ray."""

from __future__ import annotations

import csv
import json

import pytest
from click.testing import CliRunner

from tunecraft import api
from tunecraft.cli.main import cli
from tunecraft.errors import InputFileError

LINES = [
    "calm piano piece",
    json.dumps({"prompt": "bossa nova con flauta", "duration": 6, "seed": 3, "name": "bossa"}),
    json.dumps({"prompt": "rock", "bpm": "fast"}),
    "{not json",
    json.dumps({"prompt": "jazz trio", "bpm": 900}),
    json.dumps({"prompt": "waltz", "colour": "blue"}),
]


def _rows(folder):
    with open(folder / "summary.csv", newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_every_request_is_a_row_and_good_ones_are_bundles(tmp_path):
    batch = tmp_path / "batch.txt"
    batch.write_text("# a comment\n" + "\n".join(LINES) + "\n\n", encoding="utf-8")
    result = api.batch(batch, tmp_path / "out", duration=5, workers=2)
    rows = _rows(tmp_path / "out")
    assert [r["line"] for r in rows] == ["2", "3", "4", "5", "6", "7"]
    assert [r["status"] for r in rows] == ["made", "made", "failed", "failed", "failed",
                                           "failed"]
    assert (result.made, result.failed) == (2, 4)
    assert "bpm cannot be 'fast'" in rows[2]["error"]
    assert "not valid JSON" in rows[3]["error"]
    assert "900 bpm" in rows[4]["error"]
    assert "unknown option 'colour'" in rows[5]["error"]
    made = rows[1]
    assert made["seed"] == "3" and made["adherence_passed"] == "True"
    files = made["files"].split(";")
    assert {f.rsplit(".", 1)[1] for f in files} == {"wav", "mid", "musicxml", "json"}
    assert files[0].startswith("0003-bossa-")
    assert all((tmp_path / "out" / f).exists() for f in files)
    doc = json.loads((tmp_path / "out" / next(f for f in files if f.endswith(".json")))
                     .read_text())
    assert doc["request"]["seed"] == 3
    assert float(made["seconds_of_music"]) >= 5 and float(made["wall_seconds"]) > 0
    # A request with no seed gets one from its content: the same on every run.
    assert rows[0]["seed"] == str(api.batch(batch, tmp_path / "again", duration=5,
                                            workers=1).rows[0]["seed"])


def test_a_second_run_skips_what_is_finished_and_remakes_what_changed(tmp_path):
    batch = tmp_path / "batch.txt"
    batch.write_text("calm piano piece\nupbeat pop song\n", encoding="utf-8")
    out = tmp_path / "out"
    first = api.batch(batch, out, duration=5, workers=1)
    assert first.made == 2
    stamp = {p.name: p.stat().st_mtime_ns for p in out.iterdir()}
    again = api.batch(batch, out, duration=5, workers=1)
    assert (again.made, again.skipped) == (0, 2)
    assert [r["wall_seconds"] for r in _rows(out)] == [str(r["wall_seconds"])
                                                        for r in first.rows]
    assert all(p.stat().st_mtime_ns == stamp[p.name] for p in out.iterdir()
               if p.name != "summary.csv")
    batch.write_text("calm piano piece\nupbeat pop song at 130 bpm\n", encoding="utf-8")
    changed = api.batch(batch, out, duration=5, workers=1)
    assert (changed.made, changed.skipped) == (1, 1)
    assert [r["status"] for r in _rows(out)] == ["done earlier", "made"]


def test_ray_makes_the_same_files(tmp_path):
    pytest.importorskip("ray", reason="the scale extra (ray) is not installed")
    batch = tmp_path / "batch.txt"
    batch.write_text("calm piano piece\n" + json.dumps({"prompt": "funk", "seed": 4}) + "\n",
                     encoding="utf-8")
    local = api.batch(batch, tmp_path / "local", duration=5, workers=2)
    ray = api.batch(batch, tmp_path / "ray", duration=5, engine="ray", workers=2)
    assert (local.made, ray.made) == (2, 2)
    for row in local.rows:
        for name in row["files"].split(";"):
            if name.endswith((".wav", ".mid", ".musicxml")):
                assert (tmp_path / "local" / name).read_bytes() == \
                    (tmp_path / "ray" / name).read_bytes(), name


def test_bad_batch_files_exit_2_with_one_line(tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_text("# nothing\n\n", encoding="utf-8")
    with pytest.raises(InputFileError, match="no requests"):
        api.batch(empty, tmp_path / "out")
    for args, words in ((["batch", str(tmp_path / "missing.txt"), "-o", str(tmp_path / "o")],
                         "no such batch file"),
                        (["batch", str(empty), "-o", str(tmp_path / "o")], "no requests"),
                        (["batch", str(empty), "-o", str(tmp_path / "o"), "--duration", "1"],
                         "outside 5-1200")):
        r = CliRunner().invoke(cli, args)
        assert r.exit_code == 2 and words in r.output and "Traceback" not in r.output
