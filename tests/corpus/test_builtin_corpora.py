from __future__ import annotations

import time

import pytest

import tunecraft.corpus.driver as driver
from tunecraft.corpus import BUILTIN_CORPORA, corpus_cache_dir, ingest, read_manifest
from tunecraft.corpus.sources import split_abc
from tunecraft.errors import ParameterError
from tunecraft.io.midi import read_midi


def test_the_bundled_corpora_are_named():
    assert {"bach-chorales", "essen-folk", "oneill", "ryans"} <= set(BUILTIN_CORPORA)
    assert all(isinstance(d, str) and d for d in BUILTIN_CORPORA.values())


def test_five_chorales_then_the_cache(tmp_path, monkeypatch):
    t0 = time.perf_counter()
    first = ingest(["corpus:bach-chorales:5"], tmp_path / "one", workers=2)
    cold = time.perf_counter() - t0
    assert first.added + first.skipped == 5 and first.failed == 0
    entries = read_manifest(tmp_path / "one")
    assert len(entries) == 5
    for e in entries:
        assert e["source"].startswith("corpus:bach-chorales/bwv") and e["kind"] == "corpus"
        if e["status"] == "ok":
            assert e["tracks"] == 4 and e["notes"] > 100  # four voices: S, A, T, B
            piece = read_midi(tmp_path / "one" / e["path"])
            assert piece.note_count == e["notes"]
        else:
            assert e["status"] == "skipped" and "repeats" in e["reason"]

    cache = corpus_cache_dir("bach-chorales")
    assert (cache / "index.jsonl").is_file()
    for e in entries:
        if e["status"] == "ok":
            assert (cache / f"{e['id']}.mid").is_file()

    # The second time nothing is parsed: no unit reaches an engine.
    def no_parsing(units, **_):
        assert not units, [u.source for u in units]
        return iter(())

    monkeypatch.setattr(driver, "run_units", no_parsing)
    t0 = time.perf_counter()
    second = ingest(["corpus:bach-chorales:5"], tmp_path / "two", workers=2)
    warm = time.perf_counter() - t0
    assert (second.added, second.skipped) == (first.added, first.skipped)
    assert read_manifest(tmp_path / "two") == entries
    assert ((tmp_path / "one" / "manifest.jsonl").read_bytes()
            == (tmp_path / "two" / "manifest.jsonl").read_bytes())
    assert warm < cold


def test_five_essen_folk_songs(tmp_path):
    report = ingest(["corpus:essen-folk:5"], tmp_path / "corpus", workers=2)
    assert report.added == 5
    entries = read_manifest(tmp_path / "corpus")
    assert [e["source"] for e in entries] == [f"corpus:essen-folk/altdeu10/{i}"
                                              for i in range(1, 6)]
    for e in entries:
        assert e["kind"] == "corpus" and e["tracks"] == 1 and e["notes"] > 10
        assert e["key"].endswith(("major", "minor"))
    score = read_midi(tmp_path / "corpus" / entries[0]["path"])
    assert score.title == "Das Hildebrandslied"


def test_corpus_and_files_resume_together(tmp_path, music_dir):
    corpus = tmp_path / "corpus"
    ingest(["corpus:essen-folk:3"], corpus, workers=1)
    report = ingest(["corpus:essen-folk:4", music_dir / "a.mid"], corpus, workers=1)
    assert (report.added, report.already) == (2, 3)


def test_unknown_corpus_lists_the_names(tmp_path):
    with pytest.raises(ParameterError, match=r"bach-chorales.*essen-folk.*oneill.*ryans"):
        ingest(["corpus:mozart"], tmp_path / "c")


def test_abc_splitting_keeps_the_header_and_numbers():
    data = b"%abc\nL:1/8\n\nX: 7\nT:A\nK:C\nCDEF|\n\nX:9\nT:B\nK:G\nGABc|\n"
    tunes = split_abc(data)
    assert [ref for ref, _ in tunes] == ["7", "9"]
    assert all(text.startswith(b"%abc\nL:1/8\n") for _, text in tunes)
    assert b"T:B" not in tunes[0][1]
    # Repeated or missing X: numbers fall back to positions; no X: at all is one tune.
    assert [r for r, _ in split_abc(b"X:1\nK:C\nC|\nX:1\nK:C\nD|\n")] == ["1", "2"]
    assert [r for r, _ in split_abc(b"K:C\nCDEF|\n")] == ["1"]
    assert split_abc(b"\n\n") == []
