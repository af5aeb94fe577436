from __future__ import annotations

import pytest

from tunecraft.errors import ParameterError
from tunecraft.styles import NumeralError, parse_numeral, realize, realize_progression


def pcs(numeral: str, tonic: int | str = 0, mode: str = "major") -> set[int]:
    return set(realize(numeral, tonic, mode).pitch_classes)


@pytest.mark.parametrize(("numeral", "tonic", "mode", "expected_root", "expected_pcs"), [
    ("I", 0, "major", 0, {0, 4, 7}),
    ("V7", 0, "major", 7, {7, 11, 2, 5}),            # G B D F
    ("bVII", 0, "major", 10, {10, 2, 5}),            # Bb
    ("ii7", 0, "major", 2, {2, 5, 9, 0}),            # Dm7
    ("Imaj7", 0, "major", 0, {0, 4, 7, 11}),
    ("iiø7", 0, "major", 2, {2, 5, 8, 0}),           # Dm7b5
    ("viidim", 0, "major", 11, {11, 2, 5}),
    ("#ivdim7", 0, "major", 6, {6, 9, 0, 3}),
    ("bII7", 0, "major", 1, {1, 5, 8, 11}),          # tritone substitute
    ("iv6", 0, "major", 5, {5, 8, 0, 2}),            # borrowed Fm6
    ("Vsus4", 0, "major", 7, {7, 0, 2}),
    ("I5", 0, "major", 0, {0, 7}),
    ("Iadd9", 0, "major", 0, {0, 4, 7, 2}),
    ("III+", 0, "major", 4, {4, 8, 0}),
    ("i", 9, "minor", 9, {9, 0, 4}),                 # A C E
    ("III", 9, "minor", 0, {0, 4, 7}),               # C in A minor
    ("VI", 9, "minor", 5, {5, 9, 0}),                # F
    ("VII", 9, "minor", 7, {7, 11, 2}),              # G
    ("V7", 9, "minor", 4, {4, 8, 11, 2}),            # E7, harmonic minor
    ("#viidim7", 9, "minor", 8, {8, 11, 2, 5}),      # G#dim7
    ("bII", 9, "minor", 10, {10, 2, 5}),             # Neapolitan Bb
    ("IV", 9, "minor", 2, {2, 6, 9}),                # dorian IV: D major
    ("iv9", 9, "minor", 2, {2, 5, 9, 0, 4}),
])
def test_known_chords(numeral, tonic, mode, expected_root, expected_pcs):
    chord = realize(numeral, tonic, mode)
    assert chord.root == expected_root
    assert set(chord.pitch_classes) == expected_pcs


def test_secondary_dominants_and_inversions():
    assert realize("V7/V", "C").root == 2 and realize("V7/V", "C").quality == "7"   # D7
    assert realize("V7/vi", "C").root == 4                                          # E7
    assert realize("viidim7/V", "C").root == 6                                      # F#dim7
    assert realize("V7/iv", "A", "minor").root == 9                                 # A7 -> Dm
    c = realize("I/3", 0)
    assert (c.root, c.bass) == (0, 4)                                               # C/E
    assert realize("I/5", 0).bass == 7
    assert realize("V7/7", 0).bass == 5                                             # G7/F
    assert realize("iiø7/3", 9, "minor").bass == 2                                  # Bø7/D


def test_key_given_as_name_and_other_keys():
    assert realize("V7", "Bb").root == 5                                            # F7
    assert realize("ii7", "F#").pitch_classes == (8, 11, 3, 6)                      # G#m7
    assert realize("i", "E", "minor").pitch_classes == (4, 7, 11)


def test_progression_timing_and_split_slots():
    chords = realize_progression(["Imaj7", "vi7", "ii7 V7", "I"], 0, "major", 8.0, 4.0)
    assert [(c.start, c.duration) for c in chords] == [
        (8.0, 4.0), (12.0, 4.0), (16.0, 2.0), (18.0, 2.0), (20.0, 4.0)]
    assert [c.root for c in chords] == [0, 9, 2, 7, 0]
    merged = realize_progression(["I", "I", "IV", "V"], 0, merge_repeats=True)
    assert [(c.root, c.start, c.duration) for c in merged] == [
        (0, 0.0, 8.0), (5, 8.0, 4.0), (7, 12.0, 4.0)]


@pytest.mark.parametrize("bad", ["", "H", "IIII", "V13", "Iq", "imaj9", "i+", "V/", "I/9",
                                 "V/V/V", "vii°/x"])
def test_bad_numerals_raise_clear_errors(bad):
    with pytest.raises(NumeralError) as info:
        realize(bad, 0)
    assert isinstance(info.value, ParameterError)
    assert str(info.value)


def test_bad_mode_and_tonic():
    with pytest.raises(ParameterError):
        parse_numeral("I", "dorian")
    with pytest.raises(ParameterError):
        realize("I", 12)
    with pytest.raises(ParameterError):
        realize_progression(["I"], 0, beats_per_chord=0)
