"""Tokens: both encodings round-trip; transposition augmentation; the split by piece."""

from __future__ import annotations

import pytest
from model_builders import folk_tune

from tunecraft.errors import ParameterError
from tunecraft.models.tokens import (
    NoteTokenizer,
    RemiTokenizer,
    normal_order,
    piece_notes,
    split_by_piece,
    transpositions,
)
from tunecraft.score import Note, Score, TimeSignature, Track


def _line(notes) -> Score:
    return Score(tracks=(Track("M", tuple(notes), role="lead"),))


def test_note_tokens_round_trip_on_the_tutorial_grid():
    pitches = [60, 62, 64, 65, 67, 69, 71, 72, 61, 70, 48, 84]
    notes = [Note(p, 0.5 * i, 0.5) for i, p in enumerate(pitches)]
    tok = NoteTokenizer.build([notes])
    assert tok.strings(notes)[:3] == ["C4", "D4", "E4"]
    back = tok.decode_notes(tok.encode(notes))
    assert [(n.pitch, n.start) for n in back] == [(n.pitch, n.start) for n in notes]


def test_note_tokens_chords_are_normal_order_pitch_classes():
    chord = [Note(p, 0.0, 1.0) for p in (67, 71, 74, 77)]  # G7
    notes = [*chord, Note(72, 0.5, 0.5)]
    tok = NoteTokenizer.build([notes])
    assert tok.strings(notes) == ["11.2.5.7", "C5"]
    back = tok.decode_notes(tok.encode(notes))
    assert sorted(n.pitch % 12 for n in back if n.start == 0) == [2, 5, 7, 11]
    assert all(60 <= n.pitch < 72 for n in back if n.start == 0)  # octave 4, as the tutorial
    assert normal_order([60, 64, 67]) == (0, 4, 7)
    assert normal_order([69, 72, 76]) == (9, 0, 4)


def test_note_tokens_unknown_strings_map_to_unk():
    tok = NoteTokenizer.build([[Note(60, 0, 1)]])
    assert tok.encode([Note(61, 0, 1)]) == [0]
    assert tok.decode_notes([0]) == []


@pytest.mark.parametrize("meter", [(4, 4), (3, 4), (6, 8)])
def test_remi_round_trip_keeps_pitches_onsets_durations(meter):
    s = folk_tune(3, meter=meter)
    tok = RemiTokenizer()
    notes = piece_notes(s)
    ids = tok.encode(s, notes)
    assert ids[0] == tok.bos_id and ids[-1] == tok.eos_id
    back, ts = tok.decode_notes(ids)
    assert (ts.numerator, ts.denominator) == meter
    assert [(n.pitch, n.start, n.duration) for n in back] == [
        (n.pitch, n.start, n.duration) for n in notes]


def test_remi_round_trip_polyphonic_merge():
    a = Track("A", (Note(72, 0, 1), Note(74, 1, 0.5), Note(76, 1.5, 2.5)), role="lead")
    b = Track("B", (Note(48, 0, 2), Note(55, 2, 2)), role="bass")
    s = Score(tracks=(a, b), time_signatures=(TimeSignature(0, 4, 4),))
    tok = RemiTokenizer()
    back, _ = tok.decode_notes(tok.encode(s))
    assert sorted((n.pitch, n.start, n.duration) for n in back) == sorted(
        (n.pitch, n.start, n.duration) for n in s.notes)
    assert piece_notes(s, parts="melody") == a.notes


def test_transpositions_stay_in_range_and_move_key():
    s = _line([Note(60, 0, 1), Note(105, 1, 1)])
    shifts = dict(transpositions(s, semitones=5, low=21, high=108))
    assert next(iter(shifts)) == 0
    assert sorted(shifts) == [-5, -4, -3, -2, -1, 0, 1, 2, 3]
    up = shifts[3]
    assert [n.pitch for n in up.notes] == [63, 108]
    assert up.key.tonic == 3


def test_split_by_piece_is_disjoint_seeded_and_complete():
    ids = [f"p{i}" for i in range(20)]
    tr, va = split_by_piece(ids, val_fraction=0.2, seed=1)
    assert not set(tr) & set(va) and set(tr) | set(va) == set(ids)
    assert len(va) == 4
    assert (tr, va) == split_by_piece(list(reversed(ids)), val_fraction=0.2, seed=1)
    assert va != split_by_piece(ids, val_fraction=0.2, seed=2)[1]
    with pytest.raises(ParameterError, match="at least 2"):
        split_by_piece(["only"], seed=0)


def test_training_windows_never_mix_validation_pieces(tiny_corpus):
    from tunecraft.models.training import _prepare, load_pieces

    pieces = load_pieces(tiny_corpus)
    data = _prepare(pieces, "transformer", parts="all", seed=0, val_fraction=0.2, augment=5)
    assert not set(data.train_ids) & set(data.val_ids)
    assert len(data.val_ids) == 2 and len(data.train_ids) == 8
    # each training piece carries its transpositions; validation pieces only themselves
    assert all(len(v) > 1 for v in data.train)
