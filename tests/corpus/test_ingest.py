from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

from builders import melody_score
from tunecraft.corpus import (
    BUILTIN_CORPORA,
    IngestReport,
    ingest,
    load_corpus,
    read_manifest,
)
from tunecraft.corpus.manifest import ManifestWriter
from tunecraft.errors import InputFileError, OutputFileError, ParameterError
from tunecraft.io.midi import read_midi
from tunecraft.io.musicxml import read_musicxml
from tunecraft.score import Score


def _by_source(entries):
    return {Path(e["source"]).name: e for e in entries}


def test_folder_ingest_counts_statuses_and_reasons(music_dir, tmp_path):
    report = ingest([music_dir], tmp_path / "corpus", workers=2)
    assert isinstance(report, IngestReport)
    assert (report.added, report.skipped, report.failed, report.already) == (5, 2, 1, 0)
    entries = read_manifest(tmp_path / "corpus")
    assert len(entries) == 8 == len(report.entries)
    got = _by_source(entries)
    assert got["bad.mid"]["status"] == "failed"
    assert "not a valid MIDI file" in got["bad.mid"]["reason"]
    assert got["empty.mid"]["status"] == "skipped"
    assert got["empty.mid"]["reason"] == "the file is empty"
    assert got["notes.txt"]["status"] == "skipped"
    assert "unsupported file type '.txt'" in got["notes.txt"]["reason"]
    for name in ("bad.mid", "empty.mid", "notes.txt"):
        assert "path" not in got[name]
    assert {got[n]["kind"] for n in ("a.mid", "b.midi")} == {"midi"}
    assert got["c.musicxml"]["kind"] == "musicxml"
    assert got["tunes.abc#1"]["kind"] == got["tunes.abc#2"]["kind"] == "abc"


def test_manifest_fields_of_an_ok_entry(music_dir, tmp_path):
    ingest([music_dir / "a.mid"], tmp_path / "corpus")
    lines = (tmp_path / "corpus" / "manifest.jsonl").read_text().splitlines()
    assert len(lines) == 1
    e = json.loads(lines[0])
    digest = hashlib.sha256((music_dir / "a.mid").read_bytes()).hexdigest()
    assert e == {
        "id": digest[:16], "source": str(music_dir / "a.mid"), "hash": digest, "status": "ok",
        "path": f"pieces/{digest[:16]}.mid", "duration": 2.0, "notes": 8, "key": "C major",
        "tempo": 120.0, "tracks": 1, "kind": "midi",
    }
    assert list(e)[:4] == ["id", "source", "hash", "status"]


def test_pieces_are_written_and_read_back_with_the_same_notes(music_dir, tmp_path):
    corpus = tmp_path / "corpus"
    ingest([music_dir], corpus, workers=2)
    got = _by_source(read_manifest(corpus))
    expected = {
        "a.mid": read_midi(music_dir / "a.mid"),
        "b.midi": read_midi(music_dir / "sub" / "b.midi"),
        "c.musicxml": read_musicxml(music_dir / "c.musicxml"),
    }
    assert expected["a.mid"].notes == melody_score().notes
    for name, score in expected.items():
        piece = read_midi(corpus / got[name]["path"])
        assert piece.notes == score.notes, name
        assert piece.tempos == score.tempos
        assert got[name]["notes"] == score.note_count
        assert got[name]["tracks"] == len(score.tracks)
        assert got[name]["duration"] == pytest.approx(score.duration_seconds, abs=1e-3)
    assert got["c.musicxml"]["tempo"] == 90.0
    pieces = sorted(p.name for p in (corpus / "pieces").iterdir())
    assert pieces == sorted(f"{e['id']}.mid" for e in got.values() if e["status"] == "ok")


def test_each_abc_tune_is_a_piece_with_repeats_expanded(music_dir, tmp_path):
    corpus = tmp_path / "corpus"
    ingest([music_dir / "tunes.abc"], corpus)
    entries = read_manifest(corpus)
    assert [e["source"] for e in entries] == [f"{music_dir / 'tunes.abc'}#1",
                                              f"{music_dir / 'tunes.abc'}#2"]
    reel, air = (read_midi(corpus / e["path"]) for e in entries)
    assert entries[0]["notes"] == 64  # each strain played twice
    pitches = [n.pitch for n in reel.notes]
    assert pitches[:16] == pitches[16:32] and pitches[32:48] == pitches[48:]
    assert reel.title == "Repeat Reel" and air.title == "Little Air"
    assert str(air.time_signature) == "3/4"
    assert entries[1]["key"] == "A minor" and entries[1]["notes"] == 9
    assert entries[0]["id"] != entries[1]["id"]


def test_second_run_is_all_already_and_rewrites_nothing(music_dir, tmp_path):
    corpus = tmp_path / "corpus"
    ingest([music_dir], corpus, workers=2)
    manifest = (corpus / "manifest.jsonl").read_bytes()
    mtimes = {p: p.stat().st_mtime_ns for p in (corpus / "pieces").iterdir()}
    again = ingest([music_dir], corpus, workers=2)
    assert (again.added, again.already) == (0, 5)
    # Bad files are retried (tools improve) but an unchanged outcome adds no line.
    assert (again.skipped, again.failed) == (2, 1)
    assert (corpus / "manifest.jsonl").read_bytes() == manifest
    assert {p: p.stat().st_mtime_ns for p in (corpus / "pieces").iterdir()} == mtimes


def test_resume_adds_only_new_files_and_restores_missing_pieces(music_dir, tmp_path):
    corpus = tmp_path / "corpus"
    ingest([music_dir / "a.mid"], corpus)
    first = read_manifest(corpus)[0]
    (corpus / first["path"]).unlink()
    report = ingest([music_dir], corpus, workers=2)
    assert (report.added, report.already) == (5, 0)  # a.mid redone: its piece was gone
    entries = read_manifest(corpus)
    assert [e["id"] for e in entries].count(first["id"]) == 1
    assert (corpus / first["path"]).is_file()


def test_duplicates_in_one_run_are_ingested_once(music_dir, tmp_path):
    (music_dir / "copy of a.mid").write_bytes((music_dir / "a.mid").read_bytes())
    report = ingest([music_dir / "a.mid", music_dir / "copy of a.mid", music_dir / "a.mid"],
                    tmp_path / "corpus")
    assert (report.added, report.already) == (1, 2)
    assert len(read_manifest(tmp_path / "corpus")) == 1


def test_a_partial_last_line_is_ignored_then_cut(music_dir, tmp_path):
    corpus = tmp_path / "corpus"
    ingest([music_dir / "a.mid"], corpus)
    with open(corpus / "manifest.jsonl", "ab") as f:
        f.write(b'{"id": "deadbeef", "source": "interrupted')
    assert len(read_manifest(corpus)) == 1
    report = ingest([music_dir / "tunes.abc"], corpus)
    assert report.added == 2
    lines = (corpus / "manifest.jsonl").read_text().splitlines()
    assert len(lines) == 3
    assert all(json.loads(line)["status"] == "ok" for line in lines)


def test_progress_reports_every_piece(music_dir, tmp_path):
    calls: list[tuple[int, int]] = []
    ingest([music_dir], tmp_path / "corpus", workers=2, progress=lambda d, t: calls.append((d, t)))
    assert calls[-1] == (8, 8)
    assert all(t == 8 for _, t in calls)
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)
    assert len(calls) >= 6  # a start call, then one per piece read


def test_one_worker_and_a_pool_write_the_same_manifest(music_dir, tmp_path):
    ingest([music_dir], tmp_path / "one", workers=1)
    ingest([music_dir], tmp_path / "pool", workers=2)
    assert ((tmp_path / "one" / "manifest.jsonl").read_bytes()
            == (tmp_path / "pool" / "manifest.jsonl").read_bytes())


def test_corpus_folder_inside_the_source_folder_is_not_ingested(music_dir):
    first = ingest([music_dir], music_dir / "corpus", workers=1)
    again = ingest([music_dir], music_dir / "corpus", workers=1)
    assert first.added == 5 and again.already == 5 and again.added == 0


def test_load_corpus_returns_scores_in_manifest_order(music_dir, tmp_path):
    corpus = tmp_path / "corpus"
    ingest([music_dir], corpus, workers=2)
    pieces = load_corpus(corpus)
    ok = [e for e in read_manifest(corpus) if e["status"] == "ok"]
    assert [i for i, _ in pieces] == [e["id"] for e in ok]
    assert all(isinstance(s, Score) and s.note_count > 0 for _, s in pieces)
    assert [s.note_count for _, s in pieces] == [e["notes"] for e in ok]
    assert load_corpus(corpus, status="failed") == []
    with pytest.raises(ParameterError, match="unknown status"):
        load_corpus(corpus, status="maybe")


def test_load_corpus_errors(tmp_path, music_dir):
    with pytest.raises(InputFileError, match="no such corpus folder"):
        load_corpus(tmp_path / "nowhere")
    (tmp_path / "plain").mkdir()
    with pytest.raises(InputFileError, match="not a tunecraft corpus"):
        load_corpus(tmp_path / "plain")
    corpus = tmp_path / "corpus"
    ingest([music_dir / "a.mid"], corpus)
    (corpus / read_manifest(corpus)[0]["path"]).unlink()
    with pytest.raises(InputFileError, match="missing; run ingest again"):
        load_corpus(corpus)


def test_bad_inputs_raise_clear_errors(tmp_path, music_dir):
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(InputFileError, match="no music files found"):
        ingest([empty], tmp_path / "c1")
    junk = tmp_path / "junk"
    junk.mkdir()
    (junk / "readme.txt").write_text("hi")
    with pytest.raises(InputFileError, match="no music files found"):
        ingest([junk], tmp_path / "c2")
    assert not (tmp_path / "c2").exists()  # nothing created for a run that cannot start
    with pytest.raises(InputFileError, match="no such file or folder"):
        ingest([tmp_path / "typo"], tmp_path / "c3")
    with pytest.raises(ParameterError) as err:
        ingest(["corpus:beatles"], tmp_path / "c4")
    for name in BUILTIN_CORPORA:
        assert name in str(err.value)
    with pytest.raises(ParameterError, match="whole number"):
        ingest(["corpus:essen-folk:0"], tmp_path / "c5")
    afile = tmp_path / "afile"
    afile.write_text("x")
    with pytest.raises(OutputFileError, match="is a file"):
        ingest([music_dir], afile)
    with pytest.raises(ParameterError, match="unknown engine"):
        ingest([music_dir], tmp_path / "c6", engine="spark")
    with pytest.raises(ParameterError, match="workers"):
        ingest([music_dir], tmp_path / "c7", workers=0)
    with pytest.raises(ParameterError, match="at least one"):
        ingest([], tmp_path / "c8")


def test_a_corpus_being_written_is_locked(music_dir, tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    with ManifestWriter(corpus), pytest.raises(OutputFileError, match="another ingest"):
        ingest([music_dir / "a.mid"], corpus)


def test_importing_the_package_is_light():
    code = ("import sys, tunecraft.corpus; "
            "print(sorted(m for m in ('music21', 'ray', 'torch') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"


# -- audio -------------------------------------------------------------------------------------


def _has_transcribe() -> bool:
    try:
        from tunecraft.transcribe import transcribe  # noqa: F401
    except ImportError:
        return False
    return True


def _write_wav(score: Score, path: Path) -> None:
    from tunecraft.api import render
    from tunecraft.io.audio import write_audio

    write_audio(render(score), path)


@pytest.mark.skipif(_has_transcribe(), reason="tunecraft.transcribe is installed")
def test_audio_without_transcription_fails_with_a_reason(tmp_path, music_dir):
    wav = music_dir / "take.wav"
    wav.write_bytes(b"RIFF....WAVEfmt ")  # never opened: the transcriber is missing
    report = ingest([music_dir], tmp_path / "corpus", workers=2)
    entry = _by_source(report.entries)["take.wav"]
    assert entry["status"] == "failed" and entry["kind"] == "audio"
    assert "transcription is not available" in entry["reason"]


@pytest.mark.skipif(not _has_transcribe(),
                    reason="tunecraft.transcribe is not written yet (audio ingest path untested)")
def test_audio_is_transcribed_into_the_corpus(tmp_path):
    mir_eval = pytest.importorskip("mir_eval")
    import numpy as np

    score = melody_score(100)
    src = tmp_path / "audio"
    src.mkdir()
    _write_wav(score, src / "scale.wav")
    (src / "silence.wav").write_bytes(b"")
    report = ingest([src], tmp_path / "corpus")
    got = _by_source(report.entries)
    assert got["silence.wav"]["status"] == "skipped"
    entry = got["scale.wav"]
    assert entry["status"] == "ok" and entry["kind"] == "audio", entry
    piece = read_midi(tmp_path / "corpus" / entry["path"])

    def intervals(s: Score):
        iv = np.array([[s.seconds_at(n.start), s.seconds_at(n.end)] for n in s.notes])
        hz = np.array([440.0 * 2 ** ((n.pitch - 69) / 12) for n in s.notes])
        return iv, hz

    ref_iv, ref_hz = intervals(score)
    est_iv, est_hz = intervals(piece)
    _, _, f1, _ = mir_eval.transcription.precision_recall_f1_overlap(
        ref_iv, ref_hz, est_iv, est_hz, offset_ratio=None)
    assert f1 >= 0.85
