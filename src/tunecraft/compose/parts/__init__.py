"""Part writers: one instrument's notes for a whole piece, from the plan and the style.

:func:`write_part` dispatches on the part's role (and, where it matters, its pattern):

* ``harmony``/``chords``: comping by ``part.pattern`` and ``part.rhythm`` (block chords, pulses,
  strums, stabs, skanks, montunos, oompah/waltz after-beats, power chords, tremolo...), with
  voice leading between consecutive voicings and anticipations in syncopated styles;
* ``pad``/``strings``/``fx``: sustained voicings, common tones held, a string crescendo into a
  louder section;
* ``arp`` (and any part whose pattern is an arpeggio, Alberti bass, broken chord or fingerpicking):
  chord tones in order, restarting at each chord change;
* ``bass``: the style's bass pattern for each section (a walking line where the part walks);
* ``drums``: the style's groove per section, fills before each new section and every
  ``fill_every`` bars, crashes on section starts, a snare roll out of a build into a chorus/drop;
* ``percussion``: hand percussion from the groove's percussion voices, or a light pattern;
* ``counter`` (and ``line`` patterns on other roles): a line that answers the melody.

Section energy shapes every part: sparser and softer below the style's energy, fuller above it.
Every part ends on the final chord, held from its downbeat. :func:`humanize` then moves timing and
velocity a little, deterministically for the plan's seed.

All times are in beats; the output of both functions is a sorted tuple of valid notes inside
``[0, plan.length]``.
"""

from __future__ import annotations

import logging

from ...errors import ParameterError
from ...score import Note
from ...score.types import EPS as _EPS
from ..plan import PartSpec, Plan
from .bass import _bass
from .chords import _arp, _comp, _drone, _sustain
from .common import (
    _TICK,
    ARP_PATTERNS,
    CRASH,
    LINE_PATTERNS,
    MELODY_ROLES,
    SUSTAIN_PATTERNS,
    SUSTAIN_ROLES,
    _finish,
)
from .drums import _drums, _percussion, fill_notes
from .lines import _counter, _riff, _voice

log = logging.getLogger(__name__)

__all__ = ["CRASH", "fill_notes", "humanize", "write_part"]


def write_part(plan: Plan, part: PartSpec, *, melody: tuple[Note, ...] = ()) -> tuple[Note, ...]:
    """The notes of one part for the whole piece, sorted, inside ``[0, plan.length]``.

    ``melody`` (the lead's notes) is what a counter-line answers. Lead and vocal parts are
    written by :mod:`tunecraft.compose.melody`, not here.
    """
    if not isinstance(plan, Plan) or not isinstance(part, PartSpec):
        raise ParameterError("write_part needs a Plan and a PartSpec")
    role, pattern = part.role, part.pattern
    if role in MELODY_ROLES:
        raise ParameterError("lead parts are written by compose.melody")
    if not plan.chords or not plan.sections:
        return ()
    if pattern == "voice" and not part.is_drum:
        return _voice(plan, part, melody)
    if role == "drums" or (part.is_drum and role != "percussion"):
        if not plan.style.drums.kit:
            log.debug("%s has no drum kit; %s plays a plain groove", plan.style.id, part.name)
        return _drums(plan, part)
    if role == "percussion":
        return _percussion(plan, part)
    if role == "bass":
        return _bass(plan, part)
    if pattern in LINE_PATTERNS or (role == "counter" and pattern is None):
        return _counter(plan, part, melody)
    if pattern == "riff":
        return _riff(plan, part)
    if pattern in ARP_PATTERNS or role == "arp":
        return _arp(plan, part)
    if role in SUSTAIN_ROLES and (pattern in SUSTAIN_PATTERNS or pattern is None):
        return _sustain(plan, part)
    if pattern == "drone":
        return _drone(plan, part)
    if pattern == "sustain" and not part.rhythm:
        return _sustain(plan, part)
    return _comp(plan, part)


def _humanize_scale(part: PartSpec) -> tuple[float, float]:
    """(timing spread in ms, within-chord spread in ms) by role: drums tight, pads loose."""
    if part.role in ("drums", "percussion") or part.is_drum:
        return 4.0, 0.0
    if part.role in SUSTAIN_ROLES:
        return 12.0, 3.0
    if part.role == "bass":
        return 6.0, 0.0
    return 8.0, 2.0


def humanize(notes: tuple[Note, ...], plan: Plan, part: PartSpec) -> tuple[Note, ...]:
    """Small, seeded timing and velocity variations that keep the part valid.

    Onsets move by a few milliseconds (drums least, pads most), the notes of one chord together
    (plus a strum spread, low to high on the beat and high to low off it, for ``strum``);
    velocities move by up to 6. Nothing starts before beat 0 or ends after the piece.
    """
    if not notes:
        return ()
    rng = plan.rng("humanize", part.name)
    beats_per_ms = plan.bpm / 60000.0
    spread_ms, chord_ms = _humanize_scale(part)
    strum = part.pattern == "strum"
    by_start: dict[int, list[Note]] = {}
    for n in sorted(notes, key=lambda n: (n.start, n.pitch)):
        by_start.setdefault(round(n.start * 960), []).append(n)
    end = plan.length
    out: list[Note] = []
    for tick in sorted(by_start):
        group = by_start[tick]
        shift = max(-2.0, min(2.0, rng.gauss(0.0, 0.5))) * spread_ms * beats_per_ms
        upstroke = abs((tick / 960) % 1.0) > _EPS
        order = sorted(group, key=lambda n: n.pitch, reverse=strum and upstroke)
        per_note = min(7.0, 24.0 / max(len(order), 1)) * beats_per_ms if strum else 0.0
        for j, n in enumerate(order):
            dt = shift + j * per_note
            if chord_ms and len(order) > 1 and not strum:
                dt += rng.uniform(-chord_ms, chord_ms) * beats_per_ms
            start = max(0.0, n.start + dt)
            if n.start < _EPS:
                start = max(0.0, dt) if dt > 0 else 0.0
            note_end = min(n.end + (0.0 if part.is_drum or part.role in ("drums", "percussion")
                                    else dt * 0.5), end)
            if note_end <= start + _TICK:
                note_end = min(start + max(n.duration, _TICK), end)
            if note_end - start < _TICK:
                start = max(0.0, note_end - max(n.duration, _TICK))
            jitter = round(max(-6.0, min(6.0, rng.gauss(0.0, 2.5))))
            out.append(Note(n.pitch, start, max(note_end - start, _TICK),
                            max(1, min(127, n.velocity + jitter)), n.lyric))
    return _finish(out, plan, drums=part.is_drum or part.role in ("drums", "percussion"))

