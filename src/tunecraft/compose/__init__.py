"""Composition: a request (:class:`~tunecraft.understand.MusicSpec`) becomes a Score.

The steps, each in its own module:

1. ``plan``: the form (sections whose bars add up to the requested length) and the harmony
   (one progression per section kind, so choruses repeat; a cadence at the end);
2. ``ensemble``: the instruments, their roles, registers, patterns, levels and pans;
3. ``melody``: the tune, from motifs that return and develop over the chords;
4. ``parts``: comping, pads, arpeggios, bass lines, grooves with fills and crashes,
   counter-lines; then ``humanize`` (timing and velocity, deterministic per seed).

Guarantees: exactly the requested tempo, key and meter; the length within one bar of the
request; every requested instrument present and every excluded one absent; the same request and
seed give the same score.
"""

from __future__ import annotations

import logging
import os
from dataclasses import replace
from typing import TYPE_CHECKING

from ..score import KeySignature, Note, Score, Section, TempoChange, Track
from .composition import Check, Composition, sections_json
from .ensemble import build_ensemble
from .plan import PartSpec, Plan, SectionPlan, make_plan, score_role

if TYPE_CHECKING:
    from ..styles import Style
    from ..understand import MusicSpec
    from .lyrics import Lyrics
    from .melody import Motif

log = logging.getLogger(__name__)

__all__ = ["MELODY_ENGINES", "Check", "Composition", "PartSpec", "Plan", "SectionPlan",
           "build_ensemble", "compose", "compose_score", "make_plan"]


def _pitched_percussion(plan: Plan, part: PartSpec) -> tuple[Note, ...]:
    """Timpani and the like: the chord root on each section's downbeat, louder and on every
    bar in high-energy sections, and a roll into the big sections (chorus, drop, finale)."""
    notes: list[Note] = []
    bar = plan.bar_beats

    def root_in_range(beat: float) -> int:
        pc = plan.chord_at(beat).root
        p = part.low + (pc - part.low) % 12
        return p if p <= part.high else p - 12

    for i, s in enumerate(plan.sections):
        if not part.plays_in(s.kind):
            continue
        every = s.energy >= 0.75
        for b in range(s.bars if every else 1):
            t = s.start + b * bar
            vel = int(min(120, 70 + 45 * s.energy))
            notes.append(Note(root_in_range(t), t, min(bar, 2.0), vel))
        nxt = plan.sections[i + 1] if i + 1 < len(plan.sections) else None
        if nxt is not None and (nxt.kind in ("chorus", "drop") or nxt.energy > s.energy + 0.2):
            start = nxt.start - min(bar, 2.0)
            steps = round((nxt.start - start) / 0.125)
            pitch = root_in_range(nxt.start)
            for k in range(steps):
                vel = int(50 + 60 * k / max(steps - 1, 1))
                notes.append(Note(pitch, start + k * 0.125, 0.125, vel))
    notes = [n for n in notes if n.start < plan.length]
    return tuple(sorted(notes, key=lambda n: (n.start, n.pitch)))


MELODY_ENGINES = ("rules", "learned")


def _played_by(character, spec: MusicSpec):
    """The style's way with a tune, as the request's player would play it: a context word's
    ``melody`` table (words.toml: "a beginner" keeps to nine semitones, by step, unsyncopated;
    "a virtuoso" takes two octaves, leaps and runs) replaces those traits of the style's."""
    from ..understand.lexicon import load

    contexts = load().context
    for cid in getattr(spec, "context", ()):
        writing = contexts.get(cid, {}).get("melody")
        if writing:
            character = replace(character, **writing)
    return character


_VOICE_PROGRAMS = (52, 53, 54, 85)  # Choir Aahs, Voice Oohs, Synth Voice, Lead 6 (voice)


def _vocal_part(spec: MusicSpec, parts: tuple[PartSpec, ...],
                lead: PartSpec | None) -> tuple[tuple[PartSpec, ...], PartSpec]:
    """The part that sings the lyrics (role "vocal"), and the ensemble with it.

    A lead already on a voice patch sings them. A lead the style chose is replaced by a voice
    (GM 53 "Voice Oohs"; 52 "Choir Aahs" when the request names a choir) in a lead singer's
    range, C4-G5. A lead the request named (a violin) keeps playing as a counter-line that
    answers the voice, so every requested instrument is still heard. If the request rules
    voices out ("no vocals"), the lead plays the words.
    """
    choir = any(r.program == 52 for r in spec.instruments) or "choir" in str(
        getattr(spec, "prompt", "")).lower()
    excluded = tuple(getattr(spec, "excluded", ()) or ())
    if lead is not None and (lead.program in _VOICE_PROGRAMS
                             or any(w in ("vocal", "vocals", "voice", "voices", "singing")
                                    for w in excluded)):
        vocal = replace(lead, role="vocal", sections=None)
        return tuple(vocal if p is lead else p for p in parts), vocal
    vocal = PartSpec(name="Choir" if choir else "Voice", role="vocal",
                     program=52 if choir else 53, low=60, high=79,
                     volume=lead.volume if lead is not None else 100,
                     pan=64, source="inferred")
    if lead is None:
        return (vocal, *parts), vocal
    if lead.source == "explicit":
        counter = replace(lead, role="counter")
        return (vocal, *(counter if p is lead else p for p in parts)), vocal
    return tuple(vocal if p is lead else p for p in parts), vocal


def _yield_to_tune(tracks: list[Track], parts: tuple[PartSpec, ...]) -> list[Track]:
    """The accompaniment under the tune and free of semitone rubs against it
    (:mod:`.parts.clearance`), once every part is written and humanized."""
    from .parts.clearance import clear_of_tune

    tune = next((t.notes for t in tracks if t.role in ("lead", "vocal") and t.notes), ())
    out = []
    for track, part in zip(tracks, parts, strict=True):
        if not track.is_drum and track.notes:
            # A chord voice under C3 muddies the chord; a counter-line may go lower.
            floor = max(part.low - 12, 40 if part.role == "counter" else 48)
            track = replace(track, notes=clear_of_tune(track.notes, tune, role=part.role,
                                                        floor=floor))
        out.append(track)
    return out


def compose(spec: MusicSpec, *, seed: int, melody_engine: str = "rules",
            lyrics: Lyrics | None = None, melisma: bool = False,
            model: str | os.PathLike[str] | None = None) -> Composition:
    """Compose the music for a request (text to music): a :class:`Composition` holding the
    score, the request as understood and how it was made, as data. Deterministic for a seed.

    The options are those of :func:`compose_score`. The composition's JSON holds the spec, its
    explanation, the sections and, when lyrics are sung, how their syllables were laid out.
    """
    from ..understand import explain

    score, plan = _write(spec, seed=seed, melody_engine=melody_engine, lyrics=lyrics,
                         melisma=melisma, model=model)
    meta: dict[str, object] = {"spec": spec.to_dict(), "explanation": explain(spec).splitlines(),
                               "sections": sections_json(score)}
    if lyrics is not None:
        from .lyrics import layout_lyrics

        sung = sum(n.lyric is not None for t in score.tracks for n in t.notes)
        meta["lyrics"] = {"syllables": sung, "notes": list(layout_lyrics(plan, lyrics).notes)}
    return Composition(kind="piece", score=score, spec=spec, seed=seed,
                       request={"prompt": spec.prompt, "seed": seed}, meta=meta,
                       checks=(Check(spec, score),), reverb=float(plan.style.mix.reverb))


def compose_score(spec: MusicSpec, *, seed: int, style: Style | None = None,
                  melody_engine: str = "rules", motif: Motif | None = None,
                  lyrics: Lyrics | None = None, intro: bool = True, melisma: bool = False,
                  model: str | os.PathLike[str] | None = None) -> Score:
    """Write the score for a request. Deterministic for a seed.

    ``melody_engine`` "rules" writes the tune from motifs (``compose.melody``); "learned"
    samples it from a model (``compose.learned``): ``model`` names a folder written by
    ``tunecraft train``, else the model shipped with tunecraft is used.
    ``motif`` (rules engine; see :func:`compose.melody.hook_motif` and ``fit_motif``) gives
    the hook the motif of another piece: story mode shares one motif across its segments.
    ``lyrics`` (``compose.lyrics.parse_lyrics``) makes the tune a vocal line that sings them
    (``compose.lyrics.write_vocal_line``) on a voice patch; see ``_vocal_part``.
    ``intro=False`` starts without an intro section (story mode's later segments);
    ``melisma`` lets a held syllable at a line's end move over a few notes.
    """
    return _write(spec, seed=seed, style=style, melody_engine=melody_engine, motif=motif,
                  lyrics=lyrics, intro=intro, melisma=melisma, model=model)[0]


def _write(spec: MusicSpec, *, seed: int, style: Style | None = None,
           melody_engine: str = "rules", motif: Motif | None = None,
           lyrics: Lyrics | None = None, intro: bool = True, melisma: bool = False,
           model: str | os.PathLike[str] | None = None) -> tuple[Score, Plan]:
    from ..errors import ParameterError

    if melody_engine not in MELODY_ENGINES:
        raise ParameterError(f"melody engine {melody_engine!r} is unknown (use "
                             f"{' or '.join(MELODY_ENGINES)})")
    if model is not None and melody_engine != "learned":
        raise ParameterError("a model is used by the learned melody engine: add "
                             "--melody-engine learned")
    from ..styles import load_style
    from .melody import write_melody
    from .parts import humanize, write_part

    style = style or load_style(spec.style)
    plan = make_plan(spec, style, seed=seed, intro=intro)
    parts = build_ensemble(spec, style, plan)
    lead = next((p for p in parts if p.role in ("lead", "vocal")), None)
    character = _played_by(style.melody, spec)
    if lead is not None and lead.source == "explicit" and character.density < 0.75:
        # "a calming violin melody": a named melody instrument is heard, even in sparse styles.
        character = replace(character, density=0.75)
    melody: tuple[Note, ...] = ()
    if lyrics is not None:
        from .lyrics import write_vocal_line

        parts, lead = _vocal_part(spec, parts, lead)
        melody = write_vocal_line(plan, lead, lyrics, melisma=melisma)
    elif lead is not None and melody_engine == "learned":
        from .learned import write_learned_melody

        melody = tuple(write_learned_melody(plan, lead, model_dir=model))
    elif lead is not None:
        melody = write_melody(plan, lead, character=character, motif=motif)
    tracks: list[Track] = []
    for part in parts:
        if part is lead:
            notes = melody
        elif part.role == "percussion" and not part.is_drum:
            notes = _pitched_percussion(plan, part)
        else:
            notes = write_part(plan, part, melody=melody)
        notes = humanize(tuple(notes), plan, part)
        if not notes:
            log.debug("part %s has no notes in this form", part.name)
        tracks.append(Track(name=part.name, notes=tuple(notes),
                            program=0 if part.is_drum else part.program, is_drum=part.is_drum,
                            role=score_role(part.role), volume=part.volume,
                            pan=part.pan))
    tracks = _yield_to_tune(tracks, parts)
    sections = tuple(Section(s.name, s.start, s.length) for s in plan.sections)
    title = f"{style.name} in {plan.key.name}"
    score = Score(tracks=tuple(tracks), tempos=(TempoChange(0.0, plan.bpm),),
                  time_signatures=(plan.meter,),
                  key_signatures=(KeySignature(0.0, plan.key.tonic, plan.key.mode),),
                  sections=sections, chords=plan.chords, title=title, length=plan.length)
    return score, plan
