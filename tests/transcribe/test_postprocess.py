"""The cleaning rules on note lists made in code (no model, no audio)."""

from __future__ import annotations

from tunecraft.transcribe.postprocess import (
    RawNote,
    clean,
    drop_harmonics,
    drop_quiet,
    drop_short,
    merge_fragments,
    merge_retriggers,
)


def test_octave_harmonic_of_a_lower_note_is_removed():
    notes = [RawNote(1.0, 2.0, 48, 0.75, 0.9), RawNote(1.01, 1.2, 60, 0.4, 0.85),
             RawNote(1.0, 1.3, 67, 0.35, 0.8), RawNote(1.0, 1.4, 72, 0.3, 0.8)]
    kept, removed = drop_harmonics(notes, ratio=0.6)
    assert [n.pitch for n in kept] == [48]
    assert removed == 3


def test_loud_octave_is_a_real_note():
    notes = [RawNote(1.0, 2.0, 48, 0.7, 0.9), RawNote(1.0, 2.0, 60, 0.65, 0.9)]
    kept, removed = drop_harmonics(notes, ratio=0.6)
    assert len(kept) == 2 and removed == 0


def test_harmonic_needs_the_lower_note_sounding():
    # The upper note starts after the lower one has ended: not its harmonic.
    notes = [RawNote(0.0, 0.5, 48, 0.8, 0.9), RawNote(1.0, 1.5, 60, 0.3, 0.9)]
    kept, _ = drop_harmonics(notes, ratio=0.6)
    assert len(kept) == 2
    # A fifth is not a partial interval.
    kept, _ = drop_harmonics([RawNote(0, 1, 48, 0.8), RawNote(0, 1, 55, 0.3)], ratio=0.6)
    assert len(kept) == 2


def test_fragments_without_attack_are_merged():
    notes = [RawNote(0.0, 0.5, 60, 0.7, 0.95), RawNote(0.53, 1.0, 60, 0.5, 0.5)]
    kept, absorbed = merge_fragments(notes, max_gap=0.06)
    assert absorbed == 1 and len(kept) == 1
    assert kept[0].start == 0.0 and kept[0].end == 1.0 and kept[0].onset == 0.95


def test_repeated_notes_with_attacks_stay_apart():
    notes = [RawNote(0.0, 0.5, 60, 0.7, 0.95), RawNote(0.5, 1.0, 60, 0.7, 0.93)]
    kept, absorbed = merge_fragments(notes, max_gap=0.06)
    assert absorbed == 0 and len(kept) == 2
    # A wide gap keeps even a weak continuation apart.
    kept, _ = merge_fragments([RawNote(0, 0.5, 60, 0.7, 0.95), RawNote(0.7, 1, 60, 0.5, 0.4)],
                              max_gap=0.06)
    assert len(kept) == 2


def test_retrigger_is_one_note():
    notes = [RawNote(1.0, 1.05, 64, 0.5, 0.7), RawNote(1.06, 1.8, 64, 0.7, 0.9)]
    kept, absorbed = merge_retriggers(notes, window=0.09)
    assert absorbed == 1 and len(kept) == 1
    assert kept[0].start == 1.0 and kept[0].end == 1.8


def test_min_length():
    notes = [RawNote(0, 0.05, 60, 0.7), RawNote(0, 0.08, 62, 0.7), RawNote(0, 0.5, 64, 0.7)]
    kept, removed = drop_short(notes, min_duration=0.08)
    assert [n.pitch for n in kept] == [62, 64] and removed == 1


def test_quiet_note_among_loud_ones_is_a_ghost():
    notes = [RawNote(0.0, 1.0, 60, 0.8), RawNote(0.02, 0.4, 66, 0.3),
             RawNote(2.0, 2.5, 66, 0.3)]  # alone, the same strength is a real note
    kept, removed = drop_quiet(notes, floor=0.5)
    assert [(n.start, n.pitch) for n in kept] == [(0.0, 60), (2.0, 66)] and removed == 1


def test_clean_counts_every_rule_and_keeps_real_notes():
    real = [RawNote(i * 0.5, i * 0.5 + 0.45, 60 + i, 0.75, 0.95) for i in range(6)]
    ghosts = [RawNote(0.0, 0.1, 72, 0.35, 0.8),       # octave of the first
              RawNote(0.45, 0.7, 60, 0.45, 0.5),      # tail fragment of the first
              RawNote(2.0, 2.03, 90, 0.4, 0.2)]       # click
    kept, removed = clean(real + ghosts)
    assert kept == sorted(
        [RawNote(0.0, 0.7, 60, kept[0].amplitude, 0.95), *real[1:]],
        key=lambda n: n.start)
    assert removed["harmonics"] == 1 and removed["fragments"] == 1 and removed["short"] == 1
    assert clean([]) == ([], {r: 0 for r in removed})
