"""The MusicXML a musician prints: checked by re-reading every style's output with music21.

Humanised timing stays in the MIDI; the notation is written on one grid per track, with
readable values (at most one dot, plain triplets only where the music swings), the
instrument's clef, pianos on a grand staff, drums in drum notation on a percussion staff,
chord symbols, whole-number tempo marks and one "accel."/"rit." per tempo ramp.
"""

from __future__ import annotations

from fractions import Fraction

import music21
import pytest

from builders import track_parts
from tunecraft.api import generate
from tunecraft.io.musicxml import (
    BASS_CLEF_PROGRAMS,
    DRUM_NOTATION,
    drum_display,
    drum_key,
    notatable_pieces,
    notation_grid,
    score_to_music21,
    swung,
    tempo_ramps,
    write_musicxml,
)
from tunecraft.score import Note, Score, TempoChange, Track
from tunecraft.score.types import CHORD_QUALITIES
from tunecraft.styles import load_style, style_ids


@pytest.mark.parametrize("style", style_ids())
def test_every_style_prints_as_a_readable_score(tmp_path, style):
    prompt = load_style(style).name
    r = generate(f"{prompt} music", duration=15, seed=3, render=False)
    score = r.score
    parsed = music21.converter.parse(write_musicxml(score, tmp_path / "s.musicxml"))
    groups = track_parts(parsed)
    assert [g[0].partName for g in groups] == [t.name for t in score.tracks]
    for track, staves in zip(score.tracks, groups, strict=True):
        grid = notation_grid(track)
        clefs = [type(s.recurse().getElementsByClass("Clef").first()).__name__ for s in staves]
        elements = [e for s in staves for e in s.recurse().notesAndRests]
        # Readable values: never two dots; tuplets only plain triplets on a triplet track.
        assert max((e.duration.dots for e in elements), default=0) <= 1, track.name
        tuplets = [t for e in elements for t in e.duration.tuplets]
        assert all((t.numberNotesActual, t.numberNotesNormal) == (3, 2) for t in tuplets)
        assert all(len(e.duration.tuplets) <= 1 for e in elements)
        if grid == 4:
            assert tuplets == [], track.name
        if track.is_drum:
            assert clefs == ["PercussionClef"]
            notes = [n for s in staves for n in s.recurse().notes]
            members = [m for n in notes for m in (n.notes if hasattr(n, "notes") else [n])]
            assert members and all(isinstance(m, music21.note.Unpitched) for m in members)
        elif track.program in BASS_CLEF_PROGRAMS:
            assert clefs == ["BassClef"], track.name
        elif track.program in range(24, 32):
            assert clefs == ["Treble8vbClef"], track.name
        elif track.program == 41:
            assert clefs == ["AltoClef"]
    tempos = list(parsed.recurse().getElementsByClass("MetronomeMark"))
    shown = [m.number for m in tempos if m.number is not None]
    assert shown and all(float(x).is_integer() for x in shown)
    if score.chords:
        assert len(list(parsed.recurse().getElementsByClass("ChordSymbol"))) >= min(
            4, len(score.chords))


def test_a_grand_staff_for_the_piano_and_the_hands_read_back_as_one_track(tmp_path):
    notes = tuple(Note(p, i * 1.0, 1.0) for i, p in enumerate((48, 64, 52, 67, 55, 72, 43, 60)))
    score = Score(tracks=(Track("Piano", notes, program=0, role="chords"),),
                  tempos=(TempoChange(0, 100),))
    path = write_musicxml(score, tmp_path / "p.musicxml")
    parsed = music21.converter.parse(path)
    staves = list(parsed.parts)
    assert [type(s).__name__ for s in staves] == ["PartStaff", "PartStaff"]
    assert sorted(n.pitch.midi for n in staves[0].recurse().notes) == [60, 64, 67, 72]
    assert sorted(n.pitch.midi for n in staves[1].recurse().notes) == [43, 48, 52, 55]
    text = path.read_text()
    assert text.count("<score-part ") == 1 and "<staves>2</staves>" in text
    from tunecraft.io.musicxml import read_musicxml

    back = read_musicxml(path)
    assert [(n.pitch, n.start) for n in back.tracks[0].notes] == [(n.pitch, n.start)
                                                                  for n in notes]


def test_drum_notation_is_standard_and_reads_back():
    assert DRUM_NOTATION[36][:2] == ("F", 4) and DRUM_NOTATION[38][:2] == ("C", 5)
    assert DRUM_NOTATION[42] == ("G", 5, "x") and DRUM_NOTATION[49][2] == "x"
    for key in range(0, 128):
        assert drum_key(*drum_display(key)) == key
    assert len({drum_display(k) for k in range(128)}) == 128


def test_readable_values():
    def values(a, b, **kw):
        return [y - x for x, y in notatable_pieces(Fraction(a), Fraction(b), **kw)]

    assert values(0, Fraction(15, 4)) == [3, Fraction(3, 4)]  # not a triple-dotted half
    assert values(1, 4) == [1, 2]                            # no dotted half off the half bar
    assert values(Fraction(3, 2), 3, compound=True) == [Fraction(3, 2)]
    assert values(Fraction(1, 3), 1) == [Fraction(2, 3)]     # the rest of a triplet beat
    assert values(0, Fraction(5, 4)) == [1, Fraction(1, 4)]


def test_humanised_hits_stay_on_the_sixteenth_grid():
    tick = 1 / 960
    hats = tuple(Note(42, i * 0.5 + (3 if i % 2 else 2) * tick, 0.25) for i in range(16))
    drums = Track("Drums", hats, is_drum=True, role="drums")
    assert notation_grid(drums) == 4
    m21 = score_to_music21(Score(tracks=(drums,), tempos=(TempoChange(0, 120),)))
    assert not [e for e in m21.recurse().notesAndRests if e.duration.tuplets]
    # Swung eighths are written straight under a "Swing" mark, as jazz charts are...
    swing = Track("Ride", tuple(Note(51, b + off, 0.3) for b in range(8) for off in (0, 2 / 3)),
                  is_drum=True, role="drums")
    assert swung(swing) and notation_grid(swing) == 4
    m21 = score_to_music21(Score(tracks=(swing,), tempos=(TempoChange(0, 120),)))
    assert [e.offset for e in m21.recurse().notes][:4] == [0.0, 0.5, 1.0, 1.5]
    assert "Swing" in [x.content for x in m21.recurse().getElementsByClass("TextExpression")]
    # ...while real triplets stay triplets.
    triplets = Track("Sax", tuple(Note(60 + i % 3, i / 3, 1 / 3) for i in range(24)),
                     program=65)
    assert not swung(triplets) and notation_grid(triplets) == 3


def test_a_tempo_ramp_is_one_mark_and_the_tempo_reached(tmp_path):
    ramp = (TempoChange(0, 80), *(TempoChange(8 + i, 80 + 4.4 * (i + 1)) for i in range(8)),
            TempoChange(24, 100))
    assert tempo_ramps(ramp) == [(1, 8)]
    score = Score(tracks=(Track("P", tuple(Note(60, b, 1) for b in range(28))),), tempos=ramp)
    path = write_musicxml(score, tmp_path / "ramp.musicxml")
    text = path.read_text()
    assert text.count(">accel.<") == 1
    parsed = music21.converter.parse(path)
    shown = [m.number for m in parsed.recurse().getElementsByClass("MetronomeMark")
             if m.number is not None]
    assert shown == [80, 115, 100]  # the start, the tempo reached, the change after it
    from tunecraft.io.musicxml import read_musicxml

    back = read_musicxml(path).tempos  # the exact tempos are still there
    assert [(x.beat, round(x.bpm, 3)) for x in back] == [(x.beat, round(x.bpm, 3)) for x in ramp]


def test_transposing_instruments_are_written_as_the_player_reads(tmp_path):
    from tunecraft.io.musicxml import read_musicxml
    from tunecraft.score import KeySignature

    line = tuple(Note(p, i * 1.0, 1.0) for i, p in enumerate((60, 62, 64, 65, 67, 69, 71, 72)))
    score = Score(tracks=(Track("Clarinet", line, program=71), Track("Alto Sax", line, program=65),
                          Track("Flute", line, program=73)),
                  tempos=(TempoChange(0, 100),), key_signatures=(KeySignature(0, 0, "major"),))
    path = write_musicxml(score, tmp_path / "t.musicxml")
    parsed = music21.converter.parse(path)
    written = [[n.pitch.midi for n in p.recurse().notes][:2] for p in parsed.parts]
    assert written == [[62, 64], [69, 71], [60, 62]]  # B flat clarinet, E flat alto, flute
    sharps = [p.recurse().getElementsByClass("KeySignature").first().sharps
              for p in parsed.parts]
    assert sharps == [2, 3, 0]
    back = read_musicxml(path)  # read back at sounding pitch, in the concert key
    assert all([n.pitch for n in t.notes] == [n.pitch for n in line] for t in back.tracks)
    assert back.key_signatures == score.key_signatures


def test_many_parts_export_without_music21_chatter(tmp_path, capfd):
    tracks = tuple(Track(f"T{i}", (Note(60 + i % 12, 0, 1),), program=(i * 5) % 128)
                   for i in range(18))
    write_musicxml(Score(tracks=tracks, tempos=(TempoChange(0, 100),)), tmp_path / "m.xml")
    out, err = capfd.readouterr()
    assert out == "" and err == ""


@pytest.mark.parametrize("quality", sorted(CHORD_QUALITIES))
def test_every_chord_quality_is_a_chord_symbol_music21_spells(quality):
    from music21 import harmony

    from tunecraft.io.musicxml import _chord_figure
    from tunecraft.score import Chord, KeySignature

    for root, key in ((3, KeySignature(0.0, 3, "major")), (0, KeySignature(0.0, 0, "major"))):
        chord = Chord(0.0, 4.0, root, quality)
        symbol = harmony.ChordSymbol(_chord_figure(chord.spelled(key)))
        assert {p.pitchClass for p in symbol.pitches} == set(chord.pitch_classes), quality
