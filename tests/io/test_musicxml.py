"""MusicXML: Score -> music21 -> file -> Score, and reading files made elsewhere."""

from __future__ import annotations

import time
import zipfile
from pathlib import Path

import pytest

from builders import band_score, track, track_parts
from tunecraft.errors import InputFileError, OutputFileError
from tunecraft.io.musicxml import read_musicxml, score_to_music21, write_musicxml
from tunecraft.score import (
    KeySignature,
    Note,
    Score,
    Section,
    TempoChange,
    TimeSignature,
)

music21 = pytest.importorskip("music21")


def rich_score() -> Score:
    """Every notation feature on a 1/4-beat grid: 3/4 -> 4/4, keys, tempos, voices, lyrics."""
    melody = track("Flute melody", [
        (72, 0.0, 1.0, 90, "Hel-"), (74, 1.0, 0.5, 90, "-lo"), (76, 1.5, 0.5, 90, "my"),
        (77, 2.5, 1.0, 90, "friend"),        # crosses the bar line at beat 3 -> tied
        (79, 3.5, 2.5, 90, "sing"),           # dotted value ending on the next bar line
        (75, 6.0, 0.75, 90), (74, 6.75, 0.25, 90), (72, 7.0, 5.0, 90, "long"),  # crosses bar 10
        (70, 12.0, 1.25, 90), (72, 13.25, 0.75, 90),
        (69, 14.0, 2.0, 90, "la"), (71, 16.0, 4.0, 90),
    ], program=73, role="lead")
    chords = track("Piano chords", [
        *[(p, 0.0, 3.0, 70) for p in (48, 52, 55)],
        *[(p, 3.0, 3.0, 70) for p in (47, 50, 55)],
        *[(p, 6.0, 2.0, 70) for p in (51, 55, 58)],
        *[(p, 8.0, 4.0, 70) for p in (53, 56, 60)],        # chord crossing into the next bar
        *[(p, 12.0, 2.0, 70) for p in (51, 55, 58)],
        *[(p, 14.0, 8.0, 70) for p in (45, 48, 52)],       # two whole bars, tied
    ], program=0, role="chords")
    overlap = track("Strings", [
        (60, 0.0, 6.0, 60),                                  # long note over two 3/4 bars
        (64, 0.0, 1.0, 60), (65, 1.0, 1.0, 60), (67, 2.0, 0.5, 60), (60, 4.0, 1.0, 60),
        (55, 6.0, 4.0, 60), (62, 6.0, 2.0, 60), (63, 8.0, 1.0, 60), (62, 9.0, 3.0, 60),
        (57, 14.0, 3.0, 60), (64, 14.0, 1.0, 60), (60, 15.5, 0.5, 60),
    ], program=48, role="strings")
    drums = track("Drums", [
        (36, 0.0, 0.5, 100), (42, 0.0, 0.5, 70), (38, 1.0, 0.5, 100), (42, 1.5, 0.25, 70),
        (36, 6.0, 0.5, 100), (49, 6.0, 1.0, 110), (38, 7.0, 0.5, 100), (36, 14.0, 0.5, 100),
    ], is_drum=True, role="drums")
    return Score(
        tracks=(melody, chords, overlap, drums),
        tempos=(TempoChange(0, 100), TempoChange(6, 140), TempoChange(16.5, 90)),
        time_signatures=(TimeSignature(0, 3, 4), TimeSignature(6, 4, 4)),
        key_signatures=(KeySignature(0, 0, "major"), KeySignature(6, 3, "major"),
                        KeySignature(14, 9, "minor")),
        sections=(Section("intro", 0, 6), Section("verse", 6, 8), Section("chorus", 14, 8)),
        title="Rich test",
        length=22.0,
    )


def _expected(t) -> list[tuple[float, int, float]]:
    """What notation keeps: start, pitch and length; for drums start and key (a drum hit's
    written length is the time to the next hit, as drummers read it)."""
    return sorted((n.start, n.pitch, 0.0 if t.is_drum else n.duration) for n in t.notes)


def _m21_part_notes(part) -> list[tuple[float, int, float]]:
    out = []
    stripped = part.stripTies()
    for el in stripped.recurse().notes:
        off = float(el.getOffsetInHierarchy(stripped))
        for p in el.pitches:
            out.append((off, p.midi, float(el.quarterLength)))
    return sorted(out)


@pytest.fixture(scope="module")
def rich_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("mxl") / "rich.musicxml"
    write_musicxml(rich_score(), path)
    return path


def test_music21_parse_gives_same_notes_per_part(rich_file):
    score = rich_score()
    parsed = music21.converter.parse(rich_file)
    groups = track_parts(parsed)
    assert [g[0].partName for g in groups] == [t.name for t in score.tracks]
    for group, t in zip(groups, score.tracks, strict=True):
        if t.is_drum:  # unpitched: read back through tunecraft's drum map (next test)
            continue
        assert sorted(n for p in group for n in _m21_part_notes(p)) == _expected(t), t.name


def test_written_file_has_marks_meters_keys_lyrics_and_voices(rich_file):
    parsed = music21.converter.parse(rich_file)
    first = parsed.parts[0]
    assert parsed.metadata.bestTitle == "Rich test"
    marks = [(float(r.getOffsetInHierarchy(first)), r.content)
             for r in first.recurse().getElementsByClass("RehearsalMark")]
    assert marks == [(0.0, "intro"), (6.0, "verse"), (14.0, "chorus")]
    mms = [(float(m.getOffsetInHierarchy(first)), m.getQuarterBPM())
           for m in first.recurse().getElementsByClass("MetronomeMark")]
    assert mms == [(0.0, 100), (6.0, 140), (16.5, 90)]
    tss = [(float(t.getOffsetInHierarchy(first)), t.ratioString)
           for t in first.recurse().getElementsByClass("TimeSignature")]
    assert tss == [(0.0, "3/4"), (6.0, "4/4")]
    keys = [(float(k.getOffsetInHierarchy(first)), k.sharps)
            for k in first.recurse().getElementsByClass("KeySignature")]
    assert keys == [(0.0, 0), (6.0, -3), (14.0, 0)]
    lyrics = [n.lyric for n in first.stripTies().recurse().notes if n.lyric]
    assert lyrics == ["Hel", "lo", "my", "friend", "sing", "long", "la"]
    syllabic = [n.lyrics[0].syllabic for n in first.recurse().notes if n.lyrics][:3]
    assert syllabic == ["begin", "end", "single"]
    groups = track_parts(parsed)
    strings = groups[2][0]
    assert any(m.voices for m in strings.getElementsByClass("Measure"))
    # Eb major is spelled with flats; the piano is on a grand staff (treble over bass).
    piano = groups[1]
    assert len(piano) == 2 and [type(p.recurse().getElementsByClass("Clef").first()).__name__
                                for p in piano] == ["TrebleClef", "BassClef"]
    names = {p.name for staff in piano for n in staff.recurse().notes for p in n.pitches}
    assert "E-" in names and "D#" not in names
    # Part instruments: GM program, drums on MIDI channel 10 with a percussion clef.
    assert parsed.parts[0].getInstrument().midiProgram == 73
    drum_part = groups[3][0]
    assert drum_part.getInstrument().midiChannel == 9
    assert isinstance(drum_part.recurse().getElementsByClass("Clef").first(),
                      music21.clef.PercussionClef)


def test_read_back_equals_score(rich_file):
    score = rich_score()
    back = read_musicxml(rich_file)
    assert back.title == score.title
    assert [t.name for t in back.tracks] == [t.name for t in score.tracks]
    for a, b in zip(score.tracks, back.tracks, strict=True):
        assert _expected(b) == _expected(a), a.name
        if not a.is_drum:  # a chord has one velocity (its loudest note's)
            assert [n.velocity for n in b.notes] == [n.velocity for n in a.notes], a.name

    def hits(t):
        return sorted((n.start, n.pitch, n.velocity) for n in t.notes)

    assert hits(back.tracks[3]) == hits(score.tracks[3])  # every drum hit keeps its velocity
    melody = back.tracks[0]
    assert [(n.start, n.lyric) for n in melody.notes if n.lyric] == [
        (n.start, n.lyric) for n in score.tracks[0].notes if n.lyric]
    assert back.tracks[0].program == 73 and back.tracks[0].role == "lead"
    assert back.tracks[3].is_drum and back.tracks[3].role == "drums"
    assert back.tempos == score.tempos
    assert back.time_signatures == score.time_signatures
    assert back.key_signatures == score.key_signatures
    assert back.sections == score.sections
    assert back.length == score.length


def test_mxl_round_trip(tmp_path):
    score = rich_score()
    path = write_musicxml(score, tmp_path / "rich.mxl")
    assert zipfile.is_zipfile(path)
    with zipfile.ZipFile(path) as zf:
        assert "META-INF/container.xml" in zf.namelist()
    back = read_musicxml(path)
    assert [_expected(t) for t in back.tracks] == [_expected(t) for t in score.tracks]


def test_xml_extension_and_band_score_round_trip(tmp_path):
    score = band_score(8)
    back = read_musicxml(write_musicxml(score, tmp_path / "band.xml"))
    # Keys and bass last 0.9 beat: notation rounds them to the 1/4-beat grid (1.0).
    for a, b in zip(score.tracks, back.tracks, strict=True):
        assert [(n.pitch, n.start) for n in b.notes] == [(n.pitch, n.start) for n in a.notes]
        assert a.is_drum or all(abs(x.duration - y.duration) <= 0.125 + 1e-9
                                for x, y in zip(a.notes, b.notes, strict=True))
    assert back.tracks[3].role == "bass" and back.tracks[3].program == 33


def test_humanised_times_are_quantised_for_notation(tmp_path):
    tick = 1 / 960
    straight = track("Piano", [
        (60, 0.0 + 7 * tick, 1.0 - 5 * tick, 80),
        (62, 1.0 - 11 * tick, 1.0 + 3 * tick, 80),
        (64, 2.0 + 4 * tick, 0.25, 80), (65, 2.25, 0.25 - 3 * tick, 80), (67, 2.5, 0.5, 80),
        (72, 3.0 + 2 * tick, 2 * tick, 80),       # a tiny blip keeps one grid step
    ])
    shuffle = track("Sax", [
        (64, 0.0, 2 / 3 - 6 * tick, 80), (65, 2 / 3 + 5 * tick, 1 / 3, 80),
        (67, 1.0, 2 / 3, 80), (69, 5 / 3 - 4 * tick, 1 / 3, 80), (71, 2.0, 2 * tick, 80),
    ], program=65)
    score = Score(tracks=(straight, shuffle))
    back = read_musicxml(write_musicxml(score, tmp_path / "h.musicxml"))
    third = 1 / 3
    want = {0: [(60, 0.0, 1.0), (62, 1.0, 1.0), (64, 2.0, 0.25), (65, 2.25, 0.25),
                (67, 2.5, 0.5), (72, 3.0, 0.25)],
            1: [(64, 0.0, 2 * third), (65, 2 * third, third), (67, 1.0, 2 * third),
                (69, 5 * third, third), (71, 2.0, third)]}
    for ti, notes in want.items():
        got = [(n.pitch, n.start, n.duration) for n in back.tracks[ti].notes]
        assert [g[0] for g in got] == [w[0] for w in notes]
        assert [x for g in got for x in g[1:]] == pytest.approx(
            [x for w in notes for x in w[1:]], abs=1e-3)
    # The score itself was not changed by writing it.
    assert score.tracks[0].notes[0].start == pytest.approx(7 / 960)


def test_pickup_bar_is_read_as_end_of_first_bar(tmp_path):
    from music21 import meter, note, stream

    part = stream.Part()
    part.partName = "Voice"
    m0 = stream.Measure(number=0)
    m0.append([meter.TimeSignature("4/4"), note.Note("G4", quarterLength=1)])
    m1 = stream.Measure(number=1)
    m1.append([note.Note("C5", quarterLength=2), note.Note("E5", quarterLength=2)])
    m0.padAsAnacrusis()
    part.append([m0, m1])
    s = stream.Score([part])
    path = tmp_path / "pickup.musicxml"
    s.write("musicxml", fp=path)
    back = read_musicxml(path)
    assert [(n.pitch, n.start, n.duration) for n in back.tracks[0].notes] == [
        (67, 3.0, 1.0), (72, 4.0, 2.0), (76, 6.0, 2.0)]
    assert back.time_signatures == (TimeSignature(0, 4, 4),)


def test_bach_chorale_from_music21_corpus(tmp_path):
    chorale = music21.corpus.parse("bach/bwv66.6")
    path = tmp_path / "bwv66.6.musicxml"
    chorale.write("musicxml", fp=path)
    score = read_musicxml(path)
    assert len(score.tracks) == 4
    assert [t.name for t in score.tracks] == ["Soprano", "Alto", "Tenor", "Bass"]
    assert score.tracks[3].role == "bass"
    for t, part in zip(score.tracks, chorale.parts, strict=True):
        assert len(t.notes) == len(part.stripTies().recurse().notes)
        assert 30 <= min(n.pitch for n in t.notes) and max(n.pitch for n in t.notes) <= 84
    # The file says F# minor; 4/4 throughout, with a one-beat pickup moved to beat 3.
    assert (score.key.tonic, score.key.mode) == (6, "minor")
    assert min(n.start for n in score.notes) == 3.0
    assert score.time_signatures == (TimeSignature(0, 4, 4),)
    # Bar lines agree across parts: every note lies inside the score.
    assert max(n.end for n in score.notes) <= score.length


@pytest.mark.parametrize(("content", "why"), [
    (b"", "empty"),
    (b"\x00\x01\x02garbage" * 50, "not XML"),
    (b"<html><body>hello</body></html>", "score-partwise"),
    (b"<?xml version='1.0'?><score-partwise><part-list>", "MusicXML"),
])
def test_bad_files_raise_one_line_input_errors(tmp_path, content, why):
    path = tmp_path / "bad.musicxml"
    path.write_bytes(content)
    with pytest.raises(InputFileError) as info:
        read_musicxml(path)
    msg = str(info.value)
    assert "\n" not in msg and why in msg and str(path) in msg


def test_bad_mxl_and_missing_and_unknown_kind(tmp_path):
    bad = tmp_path / "bad.mxl"
    bad.write_bytes(b"PK not really a zip")
    with pytest.raises(InputFileError, match="zip"):
        read_musicxml(bad)
    with pytest.raises(InputFileError, match="no such file"):
        read_musicxml(tmp_path / "missing.musicxml")
    other = tmp_path / "song.mid"
    other.write_bytes(b"MThd")
    with pytest.raises(InputFileError, match="unknown file type"):
        read_musicxml(other)


def test_empty_part_list_is_an_input_error(tmp_path):
    path = tmp_path / "noparts.musicxml"
    path.write_text("<?xml version='1.0'?><score-partwise version='4.0'><part-list/>"
                    "</score-partwise>")
    with pytest.raises(InputFileError, match="no parts"):
        read_musicxml(path)


def test_write_refuses_unknown_extension_before_work(tmp_path):
    with pytest.raises(OutputFileError, match="unknown file type"):
        write_musicxml(rich_score(), tmp_path / "score.pdf")
    assert list(tmp_path.iterdir()) == []


def test_score_without_tracks_is_refused_and_empty_tracks_are_kept(tmp_path):
    with pytest.raises(OutputFileError, match="no tracks"):
        write_musicxml(Score(title="Nothing"), tmp_path / "e.musicxml")
    assert not (tmp_path / "e.musicxml").exists()
    score = Score(tracks=(track("Silent", []), track("P", [(60, 4, 1, 80)])), title="Some")
    back = read_musicxml(write_musicxml(score, tmp_path / "s.musicxml"))
    assert [t.name for t in back.tracks] == ["Silent", "P"] and back.tracks[0].notes == ()
    assert back.length == 8.0 and back.title == "Some"


def test_untitled_score_gets_no_music21_placeholder(tmp_path):
    path = write_musicxml(Score(tracks=(track("P", [(60, 0, 1, 80)]),)), tmp_path / "u.xml")
    text = path.read_text()
    assert "Music21 Fragment" not in text and ">Music21<" not in text


def test_score_to_music21_export_time_for_one_minute_band():
    score = band_score(30)                 # 60 s at 120 bpm, 8 tracks
    t0 = time.perf_counter()
    m21 = score_to_music21(score)
    from tunecraft.io.musicxml import music21_to_musicxml_bytes
    data = music21_to_musicxml_bytes(m21)
    elapsed = time.perf_counter() - t0
    assert data.count(b"<score-part ") == 8 and b"<score-partwise" in data
    assert elapsed < 10.0, f"MusicXML export took {elapsed:.1f} s"


def test_import_tunecraft_does_not_import_music21():
    import subprocess
    import sys

    code = ("import sys, tunecraft.io.musicxml, tunecraft.io.audio, tunecraft.io.json; "
            "print('music21' in sys.modules, 'soundfile' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split()
    assert out == ["False", "False"]


def test_overlapping_same_pitch_notes_keep_their_lengths(tmp_path):
    score = Score(tracks=(track("Organ", [
        (60, 0.0, 8.0, 80), (60, 1.0, 1.0, 80), (60, 4.5, 0.5, 80), (64, 0.0, 2.0, 80),
    ]),))
    back = read_musicxml(write_musicxml(score, tmp_path / "o.musicxml"))
    assert _expected(back.tracks[0]) == _expected(score.tracks[0])


def test_note_fields_survive(tmp_path):
    n = Note(60, 0.0, 1.0, 33, "do")
    score = Score(tracks=(track("V", [(n.pitch, n.start, n.duration, n.velocity, n.lyric)],
                                role="vocal"),))
    back = read_musicxml(write_musicxml(score, tmp_path / "n.musicxml"))
    assert back.tracks[0].notes == (n,)


def test_same_pitch_voices_tied_across_a_bar_keep_their_own_lengths(tmp_path):
    score = Score(tracks=(track("Organ", [(60, 0.0, 6.0, 80), (60, 2.0, 3.0, 80),
                                          (60, 3.0, 1.5, 80)]),))
    back = read_musicxml(write_musicxml(score, tmp_path / "v.musicxml"))
    assert _expected(back.tracks[0]) == _expected(score.tracks[0])


def test_key_change_inside_a_bar_with_voices(tmp_path):
    score = Score(
        tracks=(track("Keys", [(60, 0, 4, 80), (64, 1, 2, 80), (67, 2.5, 0.5, 80)]),),
        key_signatures=(KeySignature(0, 0), KeySignature(1.5, 7, "minor")),
    )
    back = read_musicxml(write_musicxml(score, tmp_path / "k.musicxml"))
    assert back.key_signatures == score.key_signatures
    assert _expected(back.tracks[0]) == _expected(score.tracks[0])


@pytest.mark.parametrize("seed", range(6))
def test_random_grid_scores_round_trip(tmp_path, seed):
    import random

    rng = random.Random(seed)
    first = rng.choice([(4, 4), (3, 4), (6, 8), (7, 8), (5, 4), (2, 2)])
    ts0 = TimeSignature(0, *first)
    ts1 = TimeSignature(rng.randint(1, 3) * ts0.bar_beats, *rng.choice([(4, 4), (3, 8)]))
    tracks = []
    for ti in range(3):
        notes = {}
        grid = rng.choice([4, 3])  # notation writes one grid per track
        for _ in range(30):
            start = rng.randint(0, 24 * grid) / grid
            dur = rng.randint(1, 4 * grid) / grid
            pitch = rng.randint(36, 84)
            notes[(pitch, start, dur)] = (pitch, start, dur, rng.randint(1, 127),
                                          rng.choice([None, "la", "Hel-"]))
        tracks.append(track(f"T{ti}", notes.values(), is_drum=ti == 2,
                            program=rng.randint(0, 127)))
    score = Score(
        tracks=tuple(tracks), time_signatures=(ts0, ts1),
        key_signatures=(KeySignature(0, rng.randint(0, 11)),
                        KeySignature(rng.randint(1, 40) / 2, rng.randint(0, 11), "minor")),
        tempos=(TempoChange(0, 100), TempoChange(rng.randint(1, 80) / 4, 77.5)),
    )
    back = read_musicxml(write_musicxml(score, tmp_path / "r.musicxml"))
    for a, b in zip(score.tracks, back.tracks, strict=True):
        assert [(round(s, 6), p, round(d, 6)) for s, p, d in _expected(b)] == [
            (round(s, 6), p, round(d, 6)) for s, p, d in _expected(a)]
    assert back.time_signatures == score.time_signatures
    assert back.tempos == score.tempos
    assert back.key_signatures == score.key_signatures


def test_export_is_byte_identical_and_undated(tmp_path):
    from builders import band_score

    a, b = tmp_path / "a.musicxml", tmp_path / "b.musicxml"
    write_musicxml(band_score(2), a)
    write_musicxml(band_score(2), b)
    assert a.read_bytes() == b.read_bytes()
    assert b"encoding-date" not in a.read_bytes()
