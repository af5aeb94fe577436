"""Smoke check: every style turns into a valid four-bar score with the helpers."""

from __future__ import annotations

import pytest

from tunecraft.score import KeySignature, Note, Score, TempoChange, TimeSignature, Track
from tunecraft.styles import (
    bass_events,
    groove_events,
    load_style,
    parse_meter,
    realize_progression,
    style_ids,
    voice_chord,
)

BARS = 4


def four_bar_score(style_id: str) -> tuple[Score, tuple]:
    style = load_style(style_id)
    mode = style.mode
    tonic = 0 if mode == "major" else 9                      # C major or A minor
    num, den = parse_meter(style.meter)
    bar_beats = num * 4 / den
    progression = style.progressions("verse", mode)[0]
    per_bar = style.harmony.chords_per_bar("verse")
    slots = [progression[i % len(progression)] for i in range(round(BARS * per_bar))]
    chords = realize_progression(slots, tonic, mode, 0.0, bar_beats / per_bar)

    harmony = style.instruments["harmony"]
    voiced, prev = [], None
    for chord in chords:
        prev = voice_chord(chord, harmony.low, harmony.high, previous=prev)
        voiced.extend(Note(p, chord.start, chord.duration, 80) for p in prev)
    tracks = [Track(harmony.name, tuple(voiced), program=harmony.program, role="harmony")]

    bass = style.instruments["bass"]
    pattern = style.bass_pattern("verse")
    bass_notes = []
    for bar in range(BARS):
        for pitch, start, dur, vel in bass_events(pattern, chords, bar * bar_beats, bar_beats,
                                                  low=bass.low, high=bass.high,
                                                  swing=style.swing,
                                                  swing_unit=style.swing_unit):
            bass_notes.append(Note(pitch, start, dur, vel))
    tracks.append(Track(bass.name, tuple(bass_notes), program=bass.program, role="bass"))

    if style.has_kit:
        groove = style.groove("verse")
        hits = [Note(key, beat, 0.1, vel)
                for bar in range(BARS)
                for key, beat, vel in groove_events(groove, bar * bar_beats, bar_beats,
                                                    velocities=style.drums.velocities,
                                                    swing=style.swing,
                                                    swing_unit=style.swing_unit)]
        tracks.append(Track(style.instruments["drums"].name, tuple(hits), is_drum=True,
                            role="drums", program=style.instruments["drums"].program))
    score = Score(tracks=tuple(tracks), tempos=(TempoChange(0.0, style.tempo.default),),
                  time_signatures=(TimeSignature(0.0, num, den),),
                  key_signatures=(KeySignature(0.0, tonic, mode),), chords=chords,
                  title=style.name, length=BARS * bar_beats)
    return score, chords


@pytest.mark.parametrize("style_id", style_ids())
def test_style_renders_a_valid_score(style_id):
    style = load_style(style_id)
    score, chords = four_bar_score(style_id)
    num, den = parse_meter(style.meter)
    assert score.length == BARS * num * 4 / den
    assert Score.from_dict(score.to_dict()) == score              # the schema validates
    assert any(t.is_drum for t in score.tracks) == style.has_kit
    if style.has_kit:
        assert score.track(style.instruments["drums"].name).notes, "silent verse groove"
    assert [(c.root, c.quality, c.bass, c.start) for c in score.chords] == \
        [(c.root, c.quality, c.bass, c.start) for c in chords]
    harmony = style.instruments["harmony"]
    chord_notes = score.track(harmony.name).notes
    for chord in score.chords:
        sounding = {n.pitch % 12 for n in chord_notes if n.start == chord.start}
        assert sounding <= set(chord.pitch_classes) and len(sounding) >= 2
    for role in ("harmony", "bass"):
        inst = style.instruments[role]
        notes = score.track(inst.name).notes
        assert notes, f"{style_id}: no {role} notes"
        assert all(inst.low <= n.pitch <= inst.high for n in notes), role
    assert all(n.end <= score.length + 1e-9 for n in score.notes)
