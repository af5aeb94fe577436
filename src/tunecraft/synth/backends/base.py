"""The interface every synthesizer backend implements, and the note timing they share."""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import numpy as np

from ...errors import InputFileError, RenderError
from ...io.files import check_input
from ...score import Score, Track

SOUNDFONT_KINDS = (".sf2", ".sf3", ".sfo")
DRUM_CHANNEL = 9  # MIDI channel 10, counted from 0
DRUM_BANK = 128


@dataclass(frozen=True, slots=True)
class NoteSpan:
    """One note in frames: sounding from ``start`` (inclusive) to ``end`` (exclusive)."""

    start: int
    end: int
    pitch: int
    velocity: int


@dataclass(frozen=True, slots=True)
class NoteEvent:
    """A note-on (``on`` True) or note-off at ``frame``."""

    frame: int
    on: bool
    pitch: int
    velocity: int


def note_spans(score: Score, track: Track, sample_rate: int) -> list[NoteSpan]:
    """The notes of ``track`` in frames, timed by the score's tempo map.

    A note that is struck again before it ends is cut where the new one starts (one key cannot
    sound twice on a MIDI channel), so note-ons and note-offs always pair up. Every span is at
    least one frame long. Sorted by start, then pitch.
    """
    by_pitch: dict[int, list[tuple[int, int, int]]] = {}
    for n in track.notes:
        start = round(score.seconds_at(n.start) * sample_rate)
        end = round(score.seconds_at(n.end) * sample_rate)
        by_pitch.setdefault(n.pitch, []).append((start, end, n.velocity))
    spans: list[NoteSpan] = []
    for pitch, items in by_pitch.items():
        items.sort()
        for i, (start, end, velocity) in enumerate(items):
            if i + 1 < len(items):
                end = min(end, items[i + 1][0])
            if end <= start:
                if i + 1 < len(items) and items[i + 1][0] == start:
                    continue  # the same key struck twice at once: keep the later copy
                end = start + 1
            spans.append(NoteSpan(start, end, pitch, velocity))
    spans.sort(key=lambda s: (s.start, s.pitch))
    return spans


def note_events(spans: list[NoteSpan], *, quantum: int = 1) -> list[NoteEvent]:
    """Note-on/off events for ``spans``, frames rounded to multiples of ``quantum``.

    At one frame, note-offs come before note-ons, so a key struck again restarts cleanly. A note
    that rounding would make empty keeps one quantum.
    """
    events: list[NoteEvent] = []
    for s in spans:
        start = round(s.start / quantum) * quantum
        end = max(round(s.end / quantum) * quantum, start + quantum)
        events.append(NoteEvent(start, True, s.pitch, s.velocity))
        events.append(NoteEvent(end, False, s.pitch, 0))
    events.sort(key=lambda e: (e.frame, e.on, e.pitch))
    return events


def check_soundfont(path: str | Path) -> Path:
    """The SoundFont file at ``path``, or a one-line :class:`RenderError` naming it."""
    try:
        return check_input(path, kinds=SOUNDFONT_KINDS)
    except InputFileError as exc:
        raise RenderError(f"SoundFont {exc.path}: {exc.problem}") from None


def frames_for(seconds: float, sample_rate: int) -> int:
    return max(0, math.ceil(seconds * sample_rate - 1e-9))


class Backend(ABC):
    """A synthesizer that renders one track at a time.

    ``render_track`` returns the track dry (no reverb or chorus), centred, at unity gain, as a
    float32 ``[2, frames]`` array, with every note timed by ``score.seconds_at``. Drum tracks use
    the General MIDI drum kit. A backend object may hold a loaded SoundFont; ``close`` frees it.
    """

    name: ClassVar[str]
    #: True when render_track may run for several tracks at once in threads (results are the
    #: same as rendering one by one).
    thread_safe: ClassVar[bool] = False

    def __init__(self, *, sample_rate: int = 44100) -> None:
        self.sample_rate = sample_rate

    @abstractmethod
    def render_track(self, score: Score, track: Track, *, frames: int) -> np.ndarray:
        """Render ``track`` of ``score`` to float32 ``[2, frames]``."""

    def trim(self, track: Track) -> float:
        """The linear gain that levels ``track``'s instrument with the others of this
        backend's SoundFont (:mod:`tunecraft.synth.levels`); 1 where it is not known."""
        from ..levels import trim_gain

        font = getattr(self, "soundfont", None)
        return trim_gain(Path(font).resolve().name if font else None, track.program,
                         is_drum=track.is_drum)

    def close(self) -> None:  # noqa: B027 - optional hook
        """Free what the backend holds (a loaded SoundFont)."""

    def __enter__(self) -> Backend:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name} {self.sample_rate} Hz>"
