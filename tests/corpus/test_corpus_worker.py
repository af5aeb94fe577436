from __future__ import annotations

import io

import mido

from builders import melody_score
from tunecraft.corpus.sources import Unit, sha256_bytes
from tunecraft.corpus.worker import MIDI_KEY, process_unit
from tunecraft.io.midi import midi_to_score
from tunecraft.io.musicxml import write_musicxml

# Start repeats with no end: music21 cannot expand them ("badly formed repeats").
UNEXPANDABLE = b"X:1\nT:Odd\nM:4/4\nL:1/4\nK:C\nCDEF|GABc:|:cBAG|FEDC|:DEFG|\n"


def _abc_unit(text: bytes, mode: str) -> Unit:
    return Unit(source="t.abc", kind="abc", hash=sha256_bytes(text), reader="abc", data=text,
                suffix=".abc", expand_repeats=mode)


def test_strict_repeats_skip_with_a_reason_and_lenient_keeps_the_tune():
    strict = process_unit(_abc_unit(UNEXPANDABLE, "strict"))
    assert strict["status"] == "skipped"
    assert strict["reason"].startswith("its repeats could not be expanded")
    lenient = process_unit(_abc_unit(UNEXPANDABLE, "lenient"))
    assert lenient["status"] == "ok" and lenient["notes"] == 20


def test_a_tune_without_notes_is_skipped():
    res = process_unit(_abc_unit(b"X:1\nT:Silence\nM:4/4\nK:C\nz8|\n", "lenient"))
    assert res["status"] == "skipped" and res["reason"] == "it has no notes"


def test_titles_outside_latin1_are_written_plainly(tmp_path):
    score = melody_score().replace(title="Jesu – meine Freude ’s Lied")
    path = tmp_path / "t.musicxml"
    write_musicxml(score, path)
    res = process_unit(Unit(source=str(path), kind="musicxml", hash="0" * 64,
                            reader="musicxml", path=str(path), suffix=".musicxml"))
    assert res["status"] == "ok", res
    back = midi_to_score(mido.MidiFile(file=io.BytesIO(res[MIDI_KEY])))
    assert back.title == "Jesu - meine Freude 's Lied"
    assert back.notes == score.notes


def test_shipped_bytes_give_the_same_result_as_the_file(tmp_path):
    path = tmp_path / "song.musicxml"
    write_musicxml(melody_score(), path)
    unit = Unit(source=str(path), kind="musicxml", hash="1" * 64, reader="musicxml",
                path=str(path), suffix=".musicxml")
    shipped = Unit(source=str(path), kind="musicxml", hash="1" * 64, reader="musicxml",
                   path="/elsewhere/song.musicxml", data=path.read_bytes(), suffix=".musicxml")
    assert process_unit(unit) == process_unit(shipped)


def test_a_piece_that_reads_too_slowly_is_skipped(monkeypatch):
    import tunecraft.corpus.worker as worker

    monkeypatch.setitem(worker.TIME_LIMITS, "abc", 1e-4)
    res = process_unit(_abc_unit(b"X:1\nT:Slow\nM:4/4\nL:1/8\nK:D\nDEFG ABcd|\n", "lenient"))
    assert res["status"] == "skipped"
    assert res["reason"] == "it took more than 0.0001 s to read; left out"
