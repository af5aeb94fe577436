"""Score to audio: synthesize each track, mix the stems, master the sum."""

from __future__ import annotations

import logging
import math
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from ..audio import Audio
from ..errors import ParameterError, RenderError
from ..score import Score, Track
from .backends import Backend, get_backend
from .backends.base import frames_for
from .mastering import master
from .mixer import (
    FADE_S,
    add_reverb,
    apply_chorus,
    dc_block,
    fade_curve,
    needs_loudness,
    part_loudness,
    place,
    reverb_send,
    reverb_wet,
    tune_gains,
    tune_index,
)
from .options import Rendered, RenderOptions

log = logging.getLogger(__name__)

def unique_names(names: Iterable[str]) -> list[str]:
    """Track names made unique: a repeated "Piano" becomes "Piano 2"; a blank one "Track 3"."""
    used: set[str] = set()
    out: list[str] = []
    for i, raw in enumerate(names, start=1):
        base = raw.strip() or f"Track {i}"
        name, k = base, 2
        while name in used:
            name, k = f"{base} {k}", k + 1
        used.add(name)
        out.append(name)
    return out


def _workers() -> int:
    return max(1, min(2, os.cpu_count() or 1))


def _cost(track: Track) -> float:
    """A rough synthesis cost (voice-beats), to start the longest tracks first."""
    return sum(n.duration for n in track.notes)


def _place_tracks(score: Score, backend: Backend, options: RenderOptions, frames: int,
                  ) -> np.ndarray:
    """Every track synthesized, levelled, panned and chorused: float32 ``[tracks, 2, frames]``.

    With a thread-safe backend two threads synthesize whole tracks (the synthesizer releases
    the interpreter); otherwise tracks are synthesized one by one. Each track is written into
    its own row, so results never depend on the threads.
    """
    sr = options.sample_rate
    tracks = list(score.tracks)
    placed = np.empty((len(tracks), 2, frames), dtype=np.float32)
    trims = [backend.trim(t) for t in tracks]
    loudness = [-math.inf] * len(tracks)

    def one(i: int) -> None:
        track = tracks[i]
        dry = backend.render_track(score, track, frames=frames)
        if dry.shape != (2, frames) or dry.dtype != np.float32:
            raise RenderError(f"the {backend.name} synthesizer returned audio of shape "
                              f"{dry.shape} for track {track.name!r}; expected (2, {frames})")
        row = placed[i]
        place(dry, track, out=row, trim=trims[i])
        del dry
        wet = apply_chorus(row, track, sample_rate=sr, chorus=options.chorus)
        if wet is not row:
            row[...] = wet
        loudness[i] = _loudness_of(tracks, i, row, sr)

    order = sorted(range(len(tracks)), key=lambda i: -_cost(tracks[i]))
    if _workers() < 2 or len(tracks) < 2 or not backend.thread_safe:
        for i in order:
            one(i)
    else:
        with ThreadPoolExecutor(max_workers=_workers(),
                                thread_name_prefix="tunecraft-render") as ex:
            for job in [ex.submit(one, i) for i in order]:
                job.result()
    for i, g in enumerate(tune_gains(tracks, loudness)):  # the accompaniment under the tune
        if g != 1.0:
            placed[i] *= np.float32(g)
    return placed


def _loudness_of(tracks: list[Track], i: int, row: np.ndarray, sample_rate: int) -> float:
    """Part ``i``'s loudness where :func:`tune_gains` will look at it: only in a piece with a
    tune, and not for drums."""
    if tune_index(tracks) is None or not needs_loudness(tracks[i]):
        return -math.inf
    return part_loudness(row, sample_rate)


def _mix_tracks(score: Score, backend: Backend, options: RenderOptions, frames: int,
                fade: int) -> np.ndarray:
    """The premaster without keeping the tracks: each placed track is added to the sum and to
    the reverb bus, in track order, and dropped.

    It equals :func:`_premaster` of :func:`_place_tracks` bit for bit (the same additions in
    the same order) while holding at most a few tracks at once, so a long piece rendered
    without stems needs a fraction of the memory. Synthesis still runs on two threads; the
    sums are made in track order whatever order the threads finish in.
    """
    from concurrent.futures import Future

    sr = options.sample_rate
    tracks = list(score.tracks)
    premaster = np.zeros((2, frames), dtype=np.float32)
    bus: np.ndarray | None = None
    scratch = np.empty_like(premaster)

    trims = [backend.trim(t) for t in tracks]
    tune = tune_index(tracks)
    loudness = [-math.inf] * len(tracks)
    waiting: dict[int, np.ndarray] = {}  # parts before the tune, until its loudness is known

    def one(i: int) -> np.ndarray:
        track = tracks[i]
        dry = backend.render_track(score, track, frames=frames)
        if dry.shape != (2, frames) or dry.dtype != np.float32:
            raise RenderError(f"the {backend.name} synthesizer returned audio of shape "
                              f"{dry.shape} for track {track.name!r}; expected (2, {frames})")
        row = np.empty((2, frames), dtype=np.float32)
        place(dry, track, out=row, trim=trims[i])
        del dry
        wet = apply_chorus(row, track, sample_rate=sr, chorus=options.chorus)
        row = row if wet is row else np.ascontiguousarray(wet, dtype=np.float32)
        loudness[i] = _loudness_of(tracks, i, row, sr)
        return row

    def levelled(i: int, x: np.ndarray) -> None:
        """Add part ``i`` under the tune (:func:`tune_gains`), in track order; parts before
        the tune wait for it."""
        if tune is not None and i < tune:
            waiting[i] = x
            return
        gains = tune_gains(tracks, loudness)
        for j in [*sorted(waiting), i]:
            y = waiting.pop(j, x if j == i else None)
            if gains[j] != 1.0:
                y *= np.float32(gains[j])
            add(j, y)

    def add(i: int, x: np.ndarray) -> None:
        nonlocal bus
        premaster[...] += x
        send = reverb_send(tracks[i], options.reverb)
        if send > 0.0:
            if bus is None:
                bus = np.zeros_like(premaster)
            bus += np.multiply(x, np.float32(send), out=scratch)

    threaded = _workers() >= 2 and len(tracks) >= 2 and backend.thread_safe
    if not threaded:
        for i in range(len(tracks)):
            levelled(i, one(i))
    else:
        with ThreadPoolExecutor(max_workers=_workers(),
                                thread_name_prefix="tunecraft-render") as ex:
            ahead = _workers() + 1  # tracks rendered ahead of the running sum
            jobs: dict[int, Future[np.ndarray]] = {}
            for i in range(len(tracks)):
                for j in range(i, min(i + ahead, len(tracks))):
                    if j not in jobs:
                        jobs[j] = ex.submit(one, j)
                levelled(i, jobs.pop(i).result())
    if bus is not None:
        start, wet = reverb_wet(bus, sr)
        bus = None
        if wet is not None:
            premaster[:, start:] += wet
            del wet
    if fade > 0:
        premaster[:, -fade:] *= fade_curve(fade)
    return premaster


class _Stems(Mapping[str, Audio]):
    """The stems of one render, keyed by unique track name, each made on first use.

    A stem is its track's placed signal plus that track's own reverb send, with the end fade,
    through the DC blocker (:func:`~tunecraft.synth.mixer.dc_block`) as the premaster is.
    The premaster was made from the same signals with one reverb on the bus of every send (the
    reverb is linear), so the stems add up to the premaster to float32 rounding. A stem is
    computed in place of its placed signal, so asking for the stems costs no extra memory.
    """

    def __init__(self, names: list[str], placed: np.ndarray, tracks: list[Track], *,
                 sample_rate: int, reverb: float, fade: int) -> None:
        self._index = {name: i for i, name in enumerate(names)}
        self._placed = placed
        self._tracks = tracks
        self._sr, self._reverb, self._fade = sample_rate, reverb, fade
        self._done: dict[str, Audio] = {}
        self._lock = threading.Lock()

    def __getitem__(self, name: str) -> Audio:
        stem = self._done.get(name)
        if stem is not None:
            return stem
        i = self._index[name]  # KeyError for an unknown name
        with self._lock:
            stem = self._done.get(name)
            if stem is None:
                x = self._placed[i]
                add_reverb(x, self._tracks[i], sample_rate=self._sr, reverb=self._reverb)
                if self._fade > 0:
                    x[:, -self._fade:] *= fade_curve(self._fade)
                stem = self._done[name] = Audio(dc_block(x, self._sr), self._sr)
        return stem

    def __iter__(self) -> Iterator[str]:
        return iter(self._index)

    def __len__(self) -> int:
        return len(self._index)

    def __repr__(self) -> str:
        return f"<stems {', '.join(self._index)}>"


def _premaster(placed: np.ndarray, tracks: list[Track], options: RenderOptions,
               fade: int) -> np.ndarray:
    """The sum of the stems: every placed track, plus one reverb on the bus of their sends."""
    sr = options.sample_rate
    premaster = np.zeros(placed.shape[1:], dtype=np.float32)
    bus: np.ndarray | None = None
    scratch = np.empty_like(premaster)
    for i, track in enumerate(tracks):
        x = placed[i]
        premaster += x
        send = reverb_send(track, options.reverb)
        if send > 0.0:
            if bus is None:
                bus = np.zeros_like(premaster)
            bus += np.multiply(x, np.float32(send), out=scratch)
    del scratch
    if bus is not None:
        start, wet = reverb_wet(bus, sr)
        del bus
        if wet is not None:
            premaster[:, start:] += wet
            del wet
    if fade > 0:
        premaster[:, -fade:] *= fade_curve(fade)
    return premaster


def render_stems(score: Score, options: RenderOptions | None = None, *,
                 stems: bool = True,
                 progress: Callable[[str, float], None] | None = None) -> Rendered:
    """Render ``score`` to stems, their premaster sum and the mastered mix.

    Each stem (its track with its own reverb) is computed when it is first asked for; the
    premaster uses one reverb on the bus of all the sends, so a render that needs only the mix
    runs one reverb, not one per track. With ``stems=False`` the tracks are not kept (the
    same mix, bit for bit, in much less memory) and ``Rendered.stems`` is empty.

    Raises :class:`RenderError` when the score has no notes, no synthesizer is usable, or the
    SoundFont is missing or unreadable; :class:`ParameterError` for a bad argument.
    ``progress(stage, fraction)`` hears "synthesizing" and then "mastering" (0 to 1 within
    the render).
    """
    if not isinstance(score, Score):
        raise ParameterError(f"render needs a Score, got {type(score).__name__}")
    if options is None:
        options = RenderOptions()
    elif not isinstance(options, RenderOptions):
        raise ParameterError(f"options must be RenderOptions, got {type(options).__name__}")
    if score.note_count == 0:
        raise RenderError("the score has no notes to render")
    sr = options.sample_rate
    frames = frames_for(score.duration_seconds + options.tail_seconds, sr)
    fade = min(frames, round(FADE_S * sr), round(options.tail_seconds * sr))
    began = time.perf_counter()
    if progress is not None:
        progress("synthesizing", 0.0)
    tracks = list(score.tracks)
    placed = None
    with get_backend(options.backend, soundfont=options.soundfont, sample_rate=sr) as backend:
        if stems:
            placed = _place_tracks(score, backend, options, frames)
            premaster = _premaster(placed, tracks, options, fade)
        else:
            premaster = _mix_tracks(score, backend, options, frames, fade)
    premaster = dc_block(premaster, sr)  # and each stem: they still add up to it
    if not np.isfinite(premaster).all():
        raise RenderError(f"the {backend.name} synthesizer produced invalid samples (NaN)")
    synth_s = time.perf_counter() - began
    pre = Audio(premaster, sr)
    del premaster
    if progress is not None and options.master:
        progress("mastering", 0.7)
    mix = master(pre, target_lufs=options.target_lufs,
                 ceiling_dbtp=options.ceiling_dbtp) if options.master else pre
    stem_map: Mapping[str, Audio] = {}
    if placed is not None:
        stem_map = _Stems(unique_names(t.name for t in tracks), placed, tracks, sample_rate=sr,
                          reverb=options.reverb, fade=fade)
    total = time.perf_counter() - began
    log.info("rendered %.1f s of audio with %s in %.2f s (synthesis and mixing %.2f s, %.0fx "
             "real time)", frames / sr, backend.name, total, synth_s, frames / sr / total)
    font = getattr(backend, "soundfont", None)
    return Rendered(mix=mix, premaster=pre, stems=stem_map, backend=backend.name,
                    soundfont=Path(font).name if font else "")


def render(score: Score, options: RenderOptions | None = None) -> Audio:
    """The mastered stereo mix of ``score`` (see :func:`render_stems`); tracks are not kept."""
    return render_stems(score, options, stems=False).mix
