"""Pieces made in code for the transcription tests and benchmark, and the note F1 used on them."""

from __future__ import annotations

import numpy as np

from tunecraft.score import Note, Score, TempoChange, Track

# (pitch, start beat, duration beats): a two-bar-phrase piano tune in C, quarters and eighths.
MELODY = (
    (60, 0.0, 1.0), (64, 1.0, 1.0), (67, 2.0, 0.5), (65, 2.5, 0.5), (64, 3.0, 1.0),
    (62, 4.0, 0.5), (64, 4.5, 0.5), (65, 5.0, 1.0), (69, 6.0, 1.0), (67, 7.0, 1.0),
    (72, 8.0, 0.5), (71, 8.5, 0.5), (69, 9.0, 0.5), (67, 9.5, 0.5), (65, 10.0, 1.0),
    (64, 11.0, 0.5), (62, 11.5, 0.5), (60, 12.0, 2.0),
)
BASS = (
    (48, 0.0, 2.0), (43, 2.0, 2.0), (41, 4.0, 2.0), (45, 6.0, 2.0),
    (41, 8.0, 2.0), (43, 10.0, 2.0), (36, 12.0, 2.0),
)
INNER = (
    (55, 0.0, 2.0), (55, 2.0, 2.0), (57, 4.0, 2.0), (57, 6.0, 2.0),
    (53, 8.0, 2.0), (55, 10.0, 2.0), (52, 12.0, 2.0),
)


def _track(name: str, notes, *, program: int = 0, role: str = "lead", velocity: int = 90
           ) -> Track:
    return Track(name=name, notes=tuple(Note(p, s, d, velocity) for p, s, d in notes),
                 program=program, role=role)


def melody_piece(bpm: float = 100.0) -> Score:
    """18 monophonic piano notes at ``bpm``."""
    return Score(tracks=(_track("Piano", MELODY),), tempos=(TempoChange(0, bpm),))


def duet_piece(bpm: float = 100.0) -> Score:
    """The melody over a piano bass line (two voices)."""
    return Score(tracks=(_track("Melody", MELODY),
                         _track("Bass", BASS, role="bass", velocity=80)),
                 tempos=(TempoChange(0, bpm),))


def trio_piece(bpm: float = 100.0) -> Score:
    """Melody, an inner voice and the bass, all piano (three voices)."""
    return Score(tracks=(_track("Melody", MELODY),
                         _track("Inner", INNER, role="harmony", velocity=70),
                         _track("Bass", BASS, role="bass", velocity=80)),
                 tempos=(TempoChange(0, bpm),))


def reference_notes(score: Score, *, until: float | None = None
                    ) -> tuple[np.ndarray, np.ndarray]:
    """(intervals in seconds [n, 2], pitches in Hz [n]) of a score's pitched notes."""
    rows = []
    for t in score.tracks:
        if t.is_drum:
            continue
        for n in t.notes:
            s, e = score.seconds_at(n.start), score.seconds_at(n.end)
            if until is None or s < until:
                rows.append((s, e, n.pitch))
    return _arrays(rows)


def _arrays(rows) -> tuple[np.ndarray, np.ndarray]:
    if not rows:
        return np.zeros((0, 2)), np.zeros(0)
    a = np.array(sorted(rows), dtype=float)
    return a[:, :2], 440.0 * 2.0 ** ((a[:, 2] - 69) / 12)


def note_f1(reference: Score, estimate: Score, *, until: float | None = None,
            onset_tolerance: float = 0.05) -> tuple[float, float, float]:
    """mir_eval onset-only note precision, recall and F1 (50 ms onset tolerance)."""
    import mir_eval

    ref_i, ref_p = reference_notes(reference, until=until)
    est_i, est_p = reference_notes(estimate, until=until)
    if len(est_p) == 0 or len(ref_p) == 0:
        return 0.0, 0.0, 0.0
    p, r, f, _ = mir_eval.transcription.precision_recall_f1_overlap(
        ref_i, ref_p, est_i, est_p, onset_tolerance=onset_tolerance, offset_ratio=None)
    return float(p), float(r), float(f)
