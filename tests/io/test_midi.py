from __future__ import annotations

import mido
import pytest
from hypothesis import HealthCheck, given, settings

from builders import band_score, track
from strategies import scores
from tunecraft.errors import InputFileError, OutputFileError
from tunecraft.io.midi import read_midi, write_midi
from tunecraft.score import KeySignature, Score, TempoChange, TimeSignature


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                                 HealthCheck.data_too_large])
@given(scores(lyrics=True))
def test_midi_round_trip_is_exact(tmp_path, score):
    path = tmp_path / "x.mid"
    write_midi(score, path)
    back = read_midi(path, allow_empty=True)
    assert back.tempos == score.tempos
    assert back.time_signatures == score.time_signatures
    assert back.key_signatures == score.key_signatures
    assert back.sections == score.sections
    assert back.length == score.length
    assert [t for t in back.tracks] == [t for t in score.tracks if t.notes]


def test_file_layout_a_daw_understands(tmp_path):
    s = band_score(8, bpm=97).replace(
        tempos=(TempoChange(0, 97), TempoChange(16, 133.33)),
        time_signatures=(TimeSignature(0, 4, 4), TimeSignature(16, 2, 4)),
        key_signatures=(KeySignature(0, 9, "minor"),))
    path = write_midi(s, tmp_path / "band.mid")
    mid = mido.MidiFile(path)
    assert mid.type == 1 and len(mid.tracks) == 1 + len(s.tracks)
    conductor = [m for m in mid.tracks[0] if m.is_meta]
    markers = [m.text for m in conductor if m.type == "marker"]
    assert markers == [sec.name for sec in s.sections]
    assert [m.tempo for m in conductor if m.type == "set_tempo"] == [618557, 450011]
    assert [m.key for m in conductor if m.type == "key_signature"] == ["Am"]
    by_name = {}
    for trk in mid.tracks[1:]:
        name = next(m.name for m in trk if m.type == "track_name")
        by_name[name] = trk
    drum_channels = {m.channel for m in by_name["Drums"] if m.type == "note_on"}
    assert drum_channels == {9}
    bass_prog = [m.program for m in by_name["Bass"] if m.type == "program_change"]
    assert bass_prog == [33]
    pans = [m.value for m in by_name["Pad"] if m.type == "control_change" and m.control == 10]
    assert pans == [40]
    channels = [next(m.channel for m in t if m.type == "note_on") for t in mid.tracks[1:]]
    non_drum = [c for c, t in zip(channels, s.tracks, strict=True) if not t.is_drum]
    assert len(set(non_drum)) == len(non_drum) and 9 not in non_drum
    assert read_midi(path) == s


def test_lyrics_are_lyric_events(tmp_path):
    s = Score(tracks=(track("Voice", [(60, 0, 1, 80, "hel"), (62, 1, 1, 80, "lo")],
                            role="vocal"),))
    path = write_midi(s, tmp_path / "v.mid")
    texts = [m.text for m in mido.MidiFile(path).tracks[1] if m.type == "lyrics"]
    assert texts == ["hel", "lo"]
    assert [n.lyric for n in read_midi(path).tracks[0].notes] == ["hel", "lo"]


def test_reads_foreign_type0_file(tmp_path):
    mid = mido.MidiFile(type=0, ticks_per_beat=96)
    t = mido.MidiTrack()
    t += [mido.MetaMessage("set_tempo", tempo=600000, time=0),
          mido.Message("program_change", channel=0, program=24, time=0),
          mido.Message("note_on", channel=0, note=64, velocity=70, time=0),
          mido.Message("note_on", channel=9, note=36, velocity=100, time=0),
          mido.Message("note_off", channel=9, note=36, velocity=0, time=24),
          mido.Message("note_on", channel=0, note=64, velocity=0, time=72)]
    mid.tracks.append(t)
    mid.save(tmp_path / "f.mid")
    s = read_midi(tmp_path / "f.mid")
    assert s.bpm == 100
    guitar = next(t for t in s.tracks if not t.is_drum)
    drums = next(t for t in s.tracks if t.is_drum)
    assert guitar.program == 24 and guitar.notes[0].duration == 1.0
    assert drums.notes[0].duration == 0.25 and drums.role == "drums"


def test_bad_midi_inputs(tmp_path):
    with pytest.raises(InputFileError, match="no such file"):
        read_midi(tmp_path / "missing.mid")
    (tmp_path / "empty.mid").write_bytes(b"")
    with pytest.raises(InputFileError, match="empty"):
        read_midi(tmp_path / "empty.mid")
    (tmp_path / "junk.mid").write_bytes(b"MThd\x00\x00\x00\x06garbage" * 3)
    with pytest.raises(InputFileError, match="not a valid MIDI"):
        read_midi(tmp_path / "junk.mid")
    (tmp_path / "text.mid").write_text("hello, I am not music")
    with pytest.raises(InputFileError, match="not a valid MIDI"):
        read_midi(tmp_path / "text.mid")
    write_midi(Score(), tmp_path / "silent.mid")
    with pytest.raises(InputFileError, match="no notes"):
        read_midi(tmp_path / "silent.mid")
    with pytest.raises(OutputFileError, match="unknown MIDI file type"):
        write_midi(band_score(1), tmp_path / "x.wav")


def test_written_files_get_ordinary_permissions(tmp_path):
    import os

    old = os.umask(0o022)
    try:
        path = write_midi(band_score(1), tmp_path / "perm.mid")
    finally:
        os.umask(old)
    assert path.stat().st_mode & 0o777 == 0o644


def test_text_beyond_latin1_survives(tmp_path):
    s = Score(tracks=(track("Violão – coração", [(60, 0, 1, 80, "ção"), (62, 1, 1, 80, "’s")],
                            role="vocal"),), title="Canción — “uma música”")
    path = write_midi(s, tmp_path / "u.mid")
    back = read_midi(path)
    assert back.title == s.title and back.tracks[0].name == "Violão – coração"
    assert [n.lyric for n in back.tracks[0].notes] == ["ção", "’s"]


def test_reads_latin1_text(tmp_path):
    mid = mido.MidiFile(type=1, ticks_per_beat=480, charset="latin1")
    t = mido.MidiTrack()
    t += [mido.MetaMessage("track_name", name="Canción"),
          mido.Message("note_on", note=60, velocity=80, time=0),
          mido.Message("note_off", note=60, velocity=0, time=480)]
    mid.tracks.append(t)
    mid.save(tmp_path / "l.mid")
    assert read_midi(tmp_path / "l.mid").tracks[0].name == "Canción"
