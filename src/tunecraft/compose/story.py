"""Story mode: one piece whose style follows a timeline of prompts.

>>> from tunecraft.compose.story import parse_timeline, story
>>> timeline = parse_timeline(["0:00 time to meditate", "0:15 time to wake up"])
>>> result = story(timeline, duration=30, seed=1)                   # doctest: +SKIP
>>> [s.name for s in result.score.sections]                         # doctest: +SKIP
['time to meditate', 'time to wake up']

How a story is written, as a composer would describe it:

* **Segments.** Each line of the timeline is a segment, understood on its own
  (:func:`tunecraft.understand.parse` with the segment's length): its style, tempo, metre,
  instruments and drums come from its own words. Each segment is composed as a piece of its own
  (its own form, harmony and parts, :func:`tunecraft.compose.compose`) and is one section marker
  of the story, named after its prompt.
* **Switching where asked.** A segment lasts a whole number of its own bars, chosen so the next
  one starts at the bar line nearest the requested time. The tempo ramp in the last bar (below)
  changes that bar's length, so the bar count is chosen with the ramp counted in. The JSON says
  the requested and the actual times.
* **Tempo.** The tempo map changes at each boundary to the new segment's tempo exactly; over the
  last bar before it the tempo moves there in steps (one per beat: an accelerando or a
  ritardando) when the two tempos differ by 3 bpm or more.
* **Keys.** A key the prompt names is kept. Otherwise the segment takes the key nearest the
  previous one on the circle of fifths that has its own mode (from its words or style): the
  relative key when the mode changes, the dominant when the energy rises, the subdominant when
  it falls, the same key when it stays (or the style's own key, when that is among these
  neighbours). The choice and its reason are in the JSON.
* **One tune.** The motif of the first segment whose hook has a real shape (three notes or
  more) becomes the story's motif: every segment's hook is built from it (its rhythm as a share
  of the bar, re-gridded to the segment's metre; its contour in scale steps and its chord degree,
  so it comes back in the segment's key). A calm segment whose own tunes are much sparser plays
  it augmented (notes twice as long).
* **Transitions.** Into each new segment: a drum fill in the last bar when both sides have
  drums (and a crash on the new downbeat when the new segment has drums); a riser (reverse
  cymbal, GM 119, peaking on the downbeat) into energetic segments; crossfaded orchestration:
  the outgoing pads and strings hold into the first bar of the new segment, fading in two
  softer strokes, and the incoming ones enter softly in the last bar before (tones outside the
  other segment's key are left out). Drums play only in the segments whose request has them.
"""

from __future__ import annotations

import itertools
import logging
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from ..checks import resolve_seed
from ..errors import ParameterError
from ..score import (
    Chord,
    KeySignature,
    Note,
    Score,
    Section,
    TempoChange,
    TimeSignature,
    Track,
)
from ..score.types import EPS as _EPS
from .composition import Check, Composition, sections_json

if TYPE_CHECKING:
    from ..understand import MusicSpec
    from .melody import Motif
    from .plan import Plan

log = logging.getLogger(__name__)

__all__ = ["StorySegment", "parse_timeline", "story"]

DEFAULT_TAIL_SECONDS = 15.0  # the last segment's length when no duration is given
MAX_SECONDS = 1200.0  # 20 minutes, as for generate
RAMP_MIN_BPM = 3.0  # smaller tempo changes switch at the boundary without a ramp
RISER_PROGRAM = 119  # Reverse Cymbal
RISER_PITCH = 60
RISER_PEAK_SECONDS = 1.45  # the GM reverse cymbal swells for about this long at C4
_PAD_ROLES = ("pad", "strings")


# ----------------------------------------------------------------------------------------------
# The timeline

_TIME = re.compile(r"(?:(\d+):)?(\d+):(\d{1,2}(?:\.\d+)?)|(\d+(?:\.\d+)?)s?")
_LINE = re.compile(r"^\s*(\S+)\s*(?:[-–—|:]\s*)?(.*?)\s*$")


def _seconds(text: str) -> float | None:
    m = _TIME.fullmatch(text)
    if not m:
        return None
    if m.group(4) is not None:
        return float(m.group(4))
    hours = int(m.group(1) or 0)
    minutes = int(m.group(2))
    secs = float(m.group(3))
    if secs >= 60 or (m.group(1) is not None and minutes >= 60):
        return None
    return hours * 3600 + minutes * 60 + secs


def parse_timeline(items: Sequence[str]) -> list[tuple[float, str]]:
    """Lines like ``"0:00 time to meditate"``, ``"1:05 time to run"`` or ``"15 fireworks"``
    (seconds) -> ``[(0.0, "time to meditate"), ...]``.

    Times are ``M:SS``, ``H:MM:SS`` or seconds (``15``, ``15.5``, ``15s``); a dash, colon or
    bar may separate the time from the prompt. Blank lines and lines starting with ``#`` are
    skipped (a story file may have comments). The order is checked by :func:`story`.
    Raises :class:`~tunecraft.errors.ParameterError` for a line without a readable time or
    without a prompt.
    """
    if isinstance(items, str):
        items = items.splitlines()
    out: list[tuple[float, str]] = []
    for n, item in enumerate(items, 1):
        if not isinstance(item, str):
            raise ParameterError(f"story line {n}: expected text like '0:15 time to wake up', "
                                 f"got {type(item).__name__}")
        line = item.strip()
        if not line or line.startswith("#"):
            continue
        m = _LINE.match(line)
        assert m is not None  # a non-empty line always has a first word
        word, prompt = m.group(1), m.group(2)
        at = _seconds(word.rstrip(":-"))
        if at is None:
            raise ParameterError(f"story line {n} ({line!r}): {word!r} is not a time; start the "
                                 "line with M:SS or seconds, e.g. '1:05 time to run'")
        if not prompt:
            raise ParameterError(f"story line {n} ({line!r}): the prompt is empty; say what "
                                 "should play from that time, e.g. '0:15 time to wake up'")
        out.append((at, prompt))
    return out


def _clock(seconds: float) -> str:
    m, s = divmod(seconds, 60)
    return f"{int(m)}:{s:05.2f}".replace(".00", "")


def _check_timeline(timeline: Sequence[tuple[float, str]],
                    duration: float | None) -> tuple[list[tuple[float, str]], float]:
    if isinstance(timeline, str) or not isinstance(timeline, Sequence):
        raise ParameterError("the story timeline must be a list of (seconds, prompt) pairs; "
                             "use parse_timeline for lines like '0:15 time to wake up'")
    if not timeline:
        raise ParameterError("the story is empty: give at least one line like "
                             "'0:00 time to meditate'")
    items: list[tuple[float, str]] = []
    for i, item in enumerate(timeline, 1):
        try:
            at, prompt = item
            at = float(at)
        except (TypeError, ValueError):
            raise ParameterError(f"story item {i} ({item!r}) is not a (seconds, prompt) pair"
                                 ) from None
        if not math.isfinite(at) or at < 0:
            raise ParameterError(f"story item {i}: time {at!r} must be a number of seconds "
                                 ">= 0")
        if not isinstance(prompt, str) or not prompt.strip():
            raise ParameterError(f"story item {i} at {_clock(at)}: the prompt is empty")
        items.append((at, prompt.strip()))
    if items[0][0] > _EPS:
        raise ParameterError(f"the story starts at {_clock(items[0][0])}: the first line must "
                             "be at 0:00 (say what plays from the start)")
    for (a, pa), (b, pb) in itertools.pairwise(items):
        if b <= a + _EPS:
            what = "twice" if abs(b - a) <= _EPS else "out of order"
            raise ParameterError(f"story times must increase: {_clock(b)} ({pb!r}) comes "
                                 f"{what} after {_clock(a)} ({pa!r})")
    last = items[-1][0]
    if duration is None:
        duration = last + DEFAULT_TAIL_SECONDS
    try:
        duration = float(duration)
    except (TypeError, ValueError):
        raise ParameterError(f"duration {duration!r} must be a number of seconds") from None
    if not math.isfinite(duration) or duration <= 0:
        raise ParameterError(f"duration {duration!r} must be a positive number of seconds")
    if duration > MAX_SECONDS:
        raise ParameterError(f"duration {duration:g} s is longer than the 20-minute limit")
    for at, prompt in items:
        if at >= duration - _EPS:
            raise ParameterError(f"story time {_clock(at)} ({prompt!r}) is at or beyond the end "
                                 f"of the piece ({_clock(duration)}); give a longer duration")
    return items, duration


# ----------------------------------------------------------------------------------------------
# Keys


def _fifths(tonic: int, mode: str) -> int:
    """Position on the circle of fifths by key signature (C major = A minor = 0, G = 1...)."""
    major = tonic if mode == "major" else (tonic + 3) % 12
    pos = (major * 7) % 12
    return pos - 12 if pos > 6 else pos


def fifths_distance(a: tuple[int, str], b: tuple[int, str]) -> int:
    """Steps between two keys on the circle of fifths (relative keys are 0 apart)."""
    d = abs(_fifths(*a) - _fifths(*b)) % 12
    return min(d, 12 - d)


def _key_name(tonic: int, mode: str) -> str:
    return KeySignature(0.0, tonic, mode).name


def _related_key(prev: tuple[int, str], spec: MusicSpec, prev_energy: float
                 ) -> tuple[tuple[int, str], str]:
    """The key for a segment that names none: near ``prev`` in the segment's own mode."""
    mode = spec.mode
    own = (spec.key_tonic, mode)
    pt, pm = prev
    if mode == pm:
        same, dom, sub = (pt, mode), ((pt + 7) % 12, mode), ((pt + 5) % 12, mode)
        if own in (same, dom, sub):
            return own, f"{_key_name(*own)}, the style's key, is next to {_key_name(*prev)}"
        if spec.energy > prev_energy + 0.05:
            return dom, f"the dominant of {_key_name(*prev)}: the energy rises"
        if spec.energy < prev_energy - 0.05:
            return sub, f"the subdominant of {_key_name(*prev)}: the energy falls"
        return same, f"{_key_name(*prev)} continues: the energy stays"
    rel = ((pt + 9) % 12, "minor") if pm == "major" else ((pt + 3) % 12, "major")
    near = [rel, ((rel[0] + 7) % 12, mode), ((rel[0] + 5) % 12, mode)]
    if own in near:
        return own, f"{_key_name(*own)}, the style's key, is next to {_key_name(*prev)}"
    return rel, f"the relative {mode} of {_key_name(*prev)}"


# ----------------------------------------------------------------------------------------------
# Results


@dataclass(frozen=True)
class StorySegment:
    """One segment of a story: where it was asked to start, where it starts, what it is.

    ``at`` is the requested time in seconds; ``start_seconds`` the actual start (a bar line);
    ``spec`` the segment's request as understood (its key is the one chosen, its duration the
    actual length); ``key_choice`` says why that key.
    """

    at: float
    prompt: str
    start_beat: float
    start_seconds: float
    spec: Any  # MusicSpec
    bars: int = 0
    end_beat: float = 0.0
    end_seconds: float = 0.0
    key_choice: str = ""
    augmented: bool = False

    @property
    def name(self) -> str:
        return _section_name(self.prompt)

    def to_dict(self) -> dict[str, Any]:
        s = self.spec
        return {
            "prompt": self.prompt, "requested_seconds": self.at,
            "actual_seconds": round(self.start_seconds, 4),
            "offset_seconds": round(self.start_seconds - self.at, 4),
            "start_beat": self.start_beat, "end_beat": self.end_beat,
            "end_seconds": round(self.end_seconds, 4), "bars": self.bars,
            "style": s.style, "bpm": s.bpm, "key": s.key_name, "key_choice": self.key_choice,
            "meter": f"{s.meter[0]}/{s.meter[1]}", "drums": s.drums, "energy": s.energy,
            "motif_augmented": self.augmented,
        }


def _section_name(prompt: str) -> str:
    name = " ".join(prompt.split())
    return name if len(name) <= 60 else name[:57].rstrip() + "..."


# ----------------------------------------------------------------------------------------------
# Timing


def _ramp(a: float, b: float, meter: TimeSignature) -> list[tuple[float, float]]:
    """Tempo steps over one bar from ``a`` towards ``b``: (offset in beats, bpm)."""
    if abs(a - b) < RAMP_MIN_BPM:
        return []
    steps = max(2, min(8, meter.numerator))
    unit = meter.bar_beats / steps
    return [(k * unit, round(a + (b - a) * (k + 1) / (steps + 1), 3)) for k in range(steps)]


def _bar_seconds(bpm: float, meter: TimeSignature, ramp: list[tuple[float, float]]) -> float:
    if not ramp:
        return meter.bar_beats * 60.0 / bpm
    unit = meter.bar_beats / len(ramp)
    return sum(unit * 60.0 / r for _, r in ramp)


def _bars_to(target: float, start: float, bpm: float, meter: TimeSignature,
             ramp: list[tuple[float, float]]) -> int:
    """Whole bars from ``start`` s whose end (the last bar ramped) is nearest ``target`` s."""
    plain = meter.bar_beats * 60.0 / bpm
    last = _bar_seconds(bpm, meter, ramp)
    guess = max(1, round((target - start - last) / plain) + 1)
    best = min((n for n in (guess - 1, guess, guess + 1) if n >= 1),
               key=lambda n: (abs(start + (n - 1) * plain + last - target), n))
    return best


# ----------------------------------------------------------------------------------------------
# Composing the segments


@dataclass
class _Seg:
    at: float
    prompt: str
    spec: Any
    meter: TimeSignature
    key_choice: str = ""
    bars: int = 0
    start_beat: float = 0.0
    plan: Plan | None = None
    score: Score | None = None
    augment: int = 1
    seed: int = 0
    ramp: list[tuple[float, float]] = field(default_factory=list)

    @property
    def bpm(self) -> float:
        return float(self.spec.bpm)

    @property
    def length(self) -> float:
        return self.bars * self.meter.bar_beats

    @property
    def end_beat(self) -> float:
        return self.start_beat + self.length


def _lead_and_character(spec: Any, plan: Plan):
    from ..styles import load_style
    from .ensemble import build_ensemble

    style = load_style(spec.style)
    parts = build_ensemble(spec, style, plan)
    lead = next((p for p in parts if p.role in ("lead", "vocal")), None)
    ch = style.melody
    if lead is not None and lead.source == "explicit" and ch.density < 0.75:
        ch = replace(ch, density=0.75)  # as compose() does for a named melody instrument
    return lead, ch


def _natural_motif(seg: _Seg, seed: int) -> Motif | None:
    from .melody import hook_motif

    assert seg.plan is not None
    lead, ch = _lead_and_character(seg.spec, seg.plan)
    if lead is None:
        return None
    return hook_motif(seg.plan, lead, character=ch)


def _story_motif(segs: list[_Seg], seed: int) -> tuple[Motif | None, int]:
    """The story's motif: the first segment's hook motif with a real shape (3+ notes)."""
    from .melody import motif_notes

    first: tuple[Motif, int] | None = None
    for i, seg in enumerate(segs):
        m = _natural_motif(seg, seed)
        if m is None:
            continue
        if first is None:
            first = (m, i)
        if motif_notes(m) >= 3:
            return m, i
    return first if first is not None else (None, 0)


def story(timeline: Sequence[tuple[float, str]], *, duration: float | None = None,
          seed: int | None = None) -> Composition:
    """Compose one piece that follows a timeline of prompts.

    ``timeline`` holds ``(seconds, prompt)`` pairs (see :func:`parse_timeline`), the first at 0,
    times increasing. The last segment runs to ``duration`` seconds (default: the last time
    plus 15 s). Each segment switches at the bar line nearest its requested time and is one
    section marker named after its prompt; see the module docs for tempo, keys, the shared
    motif and the transitions. The composition checks each segment against its own request;
    its JSON holds the timeline (requested and actual times), the segments, their specs, the
    shared motif and the transitions. Deterministic for a seed. Raises
    :class:`~tunecraft.errors.ParameterError` for an empty or unordered timeline, times at or
    beyond the duration, an empty prompt or a segment shorter than one bar.
    """
    from ..styles import load_style
    from ..understand import DURATION_RANGE, parse
    from . import compose_score
    from .melody import fit_motif, motif_notes
    from .plan import make_plan

    items, duration = _check_timeline(timeline, duration)
    seed = resolve_seed(seed)

    # 1. Understand each segment; check that each lasts at least a bar.
    segs: list[_Seg] = []
    for i, (at, prompt) in enumerate(items):
        end = items[i + 1][0] if i + 1 < len(items) else duration
        asked = min(max(end - at, DURATION_RANGE[0]), DURATION_RANGE[1])
        spec = parse(prompt, duration=asked, seed=seed)
        meter = TimeSignature(0.0, *spec.meter)
        bar = meter.bar_beats * 60.0 / spec.bpm
        if end - at < bar - _EPS:
            where = "the end" if i + 1 == len(items) else _clock(end)
            raise ParameterError(f"the segment {prompt!r} from {_clock(at)} to {where} lasts "
                                 f"{end - at:.2f} s, less than one bar ({bar:.2f} s of "
                                 f"{meter} at {spec.bpm:g} bpm); give it more time")
        segs.append(_Seg(at, prompt, spec, meter))

    # 2. Keys: explicit ones stay, the others are related to the key before.
    for i, seg in enumerate(segs):
        ev = seg.spec.evidence.get("key")
        if i == 0:
            seg.key_choice = "as requested" if ev is not None and ev.source == "explicit" \
                else "the style's key"
            continue
        if ev is not None and ev.source == "explicit":
            seg.key_choice = "as requested"
            continue
        prev = segs[i - 1].spec
        (tonic, mode), why = _related_key((prev.key_tonic, prev.mode), seg.spec, prev.energy)
        seg.key_choice = why
        if (tonic, mode) != (seg.spec.key_tonic, seg.spec.mode):
            seg.spec = replace(seg.spec, key_tonic=tonic, mode=mode)

    # 3. Bar counts: each boundary on the bar line nearest its requested time.
    start_s = 0.0
    beat = 0.0
    for i, seg in enumerate(segs):
        seg.start_beat = beat
        if i + 1 < len(segs):
            seg.ramp = _ramp(seg.bpm, segs[i + 1].bpm, seg.meter)
            seg.bars = _bars_to(segs[i + 1].at, start_s, seg.bpm, seg.meter, seg.ramp)
            start_s += (seg.bars - 1) * seg.meter.bar_beats * 60.0 / seg.bpm + _bar_seconds(
                seg.bpm, seg.meter, seg.ramp)
        else:
            plain = seg.meter.bar_beats * 60.0 / seg.bpm
            seg.bars = max(1, round((duration - start_s) / plain))
        beat += seg.length
        seg.spec = replace(seg.spec, duration=seg.bars * seg.meter.bar_beats * 60.0 / seg.bpm)
        seg.seed = seed + 1009 * i  # own harmony and development; the motif is shared
        # Later segments arrive with their music, not with an intro of their own.
        seg.plan = make_plan(seg.spec, load_style(seg.spec.style), seed=seg.seed,
                             intro=i == 0)

    # 4. One motif for the whole story.
    motif, motif_from = _story_motif(segs, seed)
    source_meter = segs[motif_from].meter

    # 5. Compose each segment with the shared motif.
    for i, seg in enumerate(segs):
        fitted = None
        if motif is not None:
            own = _natural_motif(seg, seed)
            per_bar = motif_notes(motif) / motif.bars
            if own is not None and per_bar >= 2 * motif_notes(own) / own.bars \
                    and seg.bars >= 4 * motif.bars:
                seg.augment = 2  # a calm segment states the busy motif slowly
            fitted = fit_motif(motif, source_meter, seg.meter, augment=seg.augment)
        seg.score = compose_score(seg.spec, seed=seg.seed, motif=fitted, intro=i == 0)

    score, transitions = _assemble(segs, seed)
    segments = tuple(StorySegment(
        at=seg.at, prompt=seg.prompt, start_beat=seg.start_beat,
        start_seconds=score.seconds_at(seg.start_beat), spec=seg.spec, bars=seg.bars,
        end_beat=seg.end_beat, end_seconds=score.seconds_at(seg.end_beat),
        key_choice=seg.key_choice, augmented=seg.augment == 2) for seg in segs)
    for s in segments:
        log.info("story: %r asked at %.2f s, starts at %.2f s (%d bars of %s at %g bpm, %s)",
                 s.prompt, s.at, s.start_seconds, s.bars, s.spec.meter, s.spec.bpm,
                 s.spec.key_name)
    reverb = sum(float(load_style(s.spec.style).mix.reverb) for s in segs) / len(segs)
    return Composition(
        kind="story", score=score, spec=segs[0].spec, seed=seed,
        request={"timeline": [{"at": s.at, "prompt": s.prompt} for s in segments],
                 "duration": duration, "seed": seed},
        meta={"story": {
            "segments": [{**s.to_dict(), "spec": s.spec.to_dict()} for s in segments],
            "motif": {"from_segment": motif_from, "prompt": segments[motif_from].prompt},
            "transitions": [dict(t) for t in transitions],
            "duration_seconds": round(score.duration_seconds, 4)},
            "sections": sections_json(score, bars=False, end=True)},
        checks=tuple(Check(seg.spec, seg.score, ("story", "segments", i, "adherence"))
                     for i, seg in enumerate(segs) if seg.score is not None),
        reverb=reverb)


# ----------------------------------------------------------------------------------------------
# Assembling one score


class _Tracks:
    """Tracks of the story: the same instrument (name, program, drum flag) is one track."""

    def __init__(self) -> None:
        self.meta: dict[tuple[str, int, bool], Track] = {}
        self.notes: dict[tuple[str, int, bool], list[Note]] = {}
        self.names: dict[str, tuple[str, int, bool]] = {}

    def key_for(self, t: Track) -> tuple[str, int, bool]:
        key = (t.name, t.program, t.is_drum)
        if key in self.meta:
            return key
        name, n = t.name, 2
        while name in self.names and self.names[name] != (name, t.program, t.is_drum):
            name, n = f"{t.name} {n}", n + 1
            if (name, t.program, t.is_drum) in self.meta:
                return (name, t.program, t.is_drum)
        key = (name, t.program, t.is_drum)
        self.names[name] = key
        self.meta[key] = replace(t, name=name, notes=())
        self.notes[key] = []
        return key

    def add(self, key: tuple[str, int, bool], notes: Sequence[Note]) -> None:
        self.notes[key].extend(notes)

    def tracks(self) -> tuple[Track, ...]:
        return tuple(self.meta[k].with_notes(self.notes[k]) for k in self.meta)


def _shift(n: Note, offset: float) -> Note:
    return replace(n, start=n.start + offset)


def _in_scale(pitch: int, key: tuple[int, str]) -> bool:
    return pitch % 12 in KeySignature(0.0, key[0], key[1]).scale


def _assemble(segs: list[_Seg], seed: int) -> tuple[Score, list[dict[str, Any]]]:
    tracks = _Tracks()
    seg_keys: list[dict[tuple[str, int, bool], Track]] = []  # per segment: key -> its track
    tempos: list[TempoChange] = []
    meters: list[TimeSignature] = []
    keys: list[KeySignature] = []
    chords: list[Chord] = []
    sections: list[Section] = []
    for seg in segs:
        assert seg.score is not None
        off = seg.start_beat
        mine: dict[tuple[str, int, bool], Track] = {}
        for t in seg.score.tracks:
            k = tracks.key_for(t)
            tracks.add(k, [_shift(n, off) for n in t.notes])
            mine[k] = t
        seg_keys.append(mine)
        tempos.append(TempoChange(off, seg.bpm))
        bar_start = seg.end_beat - seg.meter.bar_beats
        tempos += [TempoChange(bar_start + o, bpm) for o, bpm in seg.ramp]
        meters.append(TimeSignature(off, seg.meter.numerator, seg.meter.denominator))
        keys.append(KeySignature(off, seg.spec.key_tonic, seg.spec.mode))
        chords += [replace(c, start=c.start + off) for c in seg.score.chords]
        sections.append(Section(_section_name(seg.prompt), off, seg.length))

    transitions: list[dict[str, Any]] = []
    for i in range(1, len(segs)):
        transitions.append(_transition(segs[i - 1], segs[i], seg_keys[i - 1], seg_keys[i],
                                       tracks, seed))
    total = segs[-1].end_beat
    title = " / ".join(_section_name(s.prompt) for s in segs)
    if len(title) > 120:
        title = title[:117] + "..."
    score = Score(tracks=tracks.tracks(), tempos=tuple(tempos), time_signatures=tuple(meters),
                  key_signatures=tuple(keys), sections=tuple(sections), chords=tuple(chords),
                  title=title, length=total)
    # The risers need the final tempo map (they peak on the downbeat, in seconds).
    risers = [(segs[i].start_beat, segs[i - 1]) for i in range(1, len(segs))
              if transitions[i - 1].get("riser")]
    if risers:
        notes = []
        for b, prev in risers:
            t = score.seconds_at(b) - RISER_PEAK_SECONDS
            start = max(score.beat_at(max(t, 0.0)), prev.start_beat)
            end = min(b + 0.5, total)
            notes.append(Note(RISER_PITCH, start, end - start, 100))
        riser = Track("Riser", tuple(notes), program=RISER_PROGRAM, role="fx", volume=80)
        score = score.replace(tracks=(*score.tracks, riser), length=total)
    return score, transitions


def _kit(mine: Mapping[tuple[str, int, bool], Track]) -> tuple[str, int, bool] | None:
    return next((k for k, t in mine.items() if t.is_drum and t.role == "drums"), None)


def _transition(out: _Seg, inc: _Seg, out_tracks: Mapping[tuple[str, int, bool], Track],
                in_tracks: Mapping[tuple[str, int, bool], Track], tracks: _Tracks,
                seed: int) -> dict[str, Any]:
    """Fill, crash, riser flag and crossfaded pads between two segments (edits ``tracks``)."""
    from .parts import CRASH, fill_notes

    b = inc.start_beat
    last = b - out.meter.bar_beats
    info: dict[str, Any] = {"at_beat": b, "into": inc.prompt, "tempo_ramp": bool(out.ramp),
                            "fill": False, "crash": False, "riser": False,
                            "held_into_next": [], "entering_early": []}
    out_kit, in_kit = _kit(out_tracks), _kit(in_tracks)
    # A drum fill into a segment with drums (a band that stops before a drumless one does).
    if out_kit is not None and in_kit is not None and out.plan is not None:
        plan = out.plan
        scale = 0.75 + 0.35 * max(out.spec.energy, inc.spec.energy)
        kept = [n for n in tracks.notes[out_kit] if not (last - _EPS <= n.start < b - _EPS)]
        fill = [Note(n.pitch, n.start + out.start_beat, n.duration, n.velocity)
                for n in fill_notes(plan, last - out.start_beat,
                                    plan.rng("story", "fill", inc.at), scale=scale)]
        tracks.notes[out_kit] = kept + fill
        info["fill"] = bool(fill)
    if in_kit is not None:
        here = [n for n in tracks.notes[in_kit] if abs(n.start - b) < 0.05]
        if not any(n.pitch == CRASH for n in here):
            tracks.add(in_kit, [Note(CRASH, b, 0.125, 112), Note(36, b, 0.125, 108)])
        info["crash"] = True
    # A riser into an energetic segment (placed once the tempo map is known).
    info["riser"] = inc.spec.energy >= 0.7 or inc.spec.energy >= out.spec.energy + 0.3
    # Crossfaded orchestration.
    out_key = (out.spec.key_tonic, out.spec.mode)
    in_key = (inc.spec.key_tonic, inc.spec.mode)
    in_bar = inc.meter.bar_beats
    for k, t in out_tracks.items():
        if t.role not in _PAD_ROLES or t.is_drum or k in in_tracks:
            continue
        ringing = [n for n in tracks.notes[k] if n.start < b - _EPS and n.end > b - 0.5]
        pitches = sorted({n.pitch for n in ringing if _in_scale(n.pitch, in_key)})
        if not pitches:
            continue
        vel = max(n.velocity for n in ringing)
        half = in_bar / 2
        tracks.add(k, [Note(p, b, half, max(1, round(vel * 0.55))) for p in pitches]
                   + [Note(p, b + half, half, max(1, round(vel * 0.3))) for p in pitches])
        info["held_into_next"].append(k[0])
    for k, t in in_tracks.items():
        if t.role not in _PAD_ROLES or t.is_drum or k in out_tracks:
            continue
        first = [n for n in t.notes if n.start < 0.25]
        pitches = sorted({n.pitch for n in first if _in_scale(n.pitch, out_key)})
        if not pitches:
            continue
        vel = max(n.velocity for n in first)
        bar = out.meter.bar_beats
        tracks.add(k, [Note(p, last, bar, max(1, round(vel * 0.4))) for p in pitches])
        info["entering_early"].append(k[0])
    return info
