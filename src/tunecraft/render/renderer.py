"""Score to audio: synthesize each track, mix the stems, master the sum."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from ..audio import Audio
from ..errors import ParameterError, RenderError
from ..score import Score, Track
from .backends import Backend, get_backend
from .backends.base import frames_for
from .mastering import master
from .mixer import FADE_S, process_track
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


def _stems(score: Score, backend: Backend, options: RenderOptions, frames: int,
           ) -> list[np.ndarray]:
    """Every track's stem, in track order.

    On two threads: with a thread-safe backend each thread synthesizes and mixes whole tracks;
    otherwise tracks are synthesized one by one while the mixing of the previous ones (reverb
    and chorus release the interpreter) runs beside it. Results never depend on the threads.
    """
    sr = options.sample_rate
    fade = min(round(FADE_S * sr), round(options.tail_seconds * sr))

    def finish(track: Track, dry: np.ndarray) -> np.ndarray:
        if dry.shape != (2, frames) or dry.dtype != np.float32:
            raise RenderError(f"the {backend.name} synthesizer returned audio of shape "
                              f"{dry.shape} for track {track.name!r}; expected (2, {frames})")
        return process_track(dry, track, sample_rate=sr, reverb=options.reverb,
                             chorus=options.chorus, fade_frames=fade)

    def whole(track: Track) -> np.ndarray:
        return finish(track, backend.render_track(score, track, frames=frames))

    tracks = list(score.tracks)
    if _workers() < 2 or len(tracks) < 2:
        return [whole(t) for t in tracks]
    with ThreadPoolExecutor(max_workers=_workers(), thread_name_prefix="tunecraft-render") as ex:
        if backend.thread_safe:
            return list(ex.map(whole, tracks))
        jobs = [ex.submit(finish, t, backend.render_track(score, t, frames=frames))
                for t in tracks]
        return [job.result() for job in jobs]


def render_stems(score: Score, options: RenderOptions | None = None) -> Rendered:
    """Render ``score`` to stems, their premaster sum and the mastered mix.

    Raises :class:`RenderError` when the score has no notes, no synthesizer is usable, or the
    SoundFont is missing or unreadable; :class:`ParameterError` for a bad argument.
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
    began = time.perf_counter()
    with get_backend(options.backend, soundfont=options.soundfont, sample_rate=sr) as backend:
        stems = _stems(score, backend, options, frames)
    premaster = np.zeros((2, frames), dtype=np.float32)
    for stem in stems:
        premaster += stem
    if not np.isfinite(premaster).all():
        raise RenderError(f"the {backend.name} synthesizer produced invalid samples (NaN)")
    synth_s = time.perf_counter() - began
    pre = Audio(premaster, sr)
    del premaster
    mix = master(pre, target_lufs=options.target_lufs,
                 ceiling_dbtp=options.ceiling_dbtp) if options.master else pre
    names = unique_names(t.name for t in score.tracks)
    stem_audio: dict[str, Audio] = {}
    for name in names:
        stem_audio[name] = Audio(stems.pop(0), sr)  # frees each array once copied
    total = time.perf_counter() - began
    log.info("rendered %.1f s of audio with %s in %.2f s (synthesis and mixing %.2f s, %.0fx "
             "real time)", frames / sr, backend.name, total, synth_s, frames / sr / total)
    return Rendered(mix=mix, premaster=pre, stems=stem_audio, backend=backend.name)


def render(score: Score, options: RenderOptions | None = None) -> Audio:
    """The mastered stereo mix of ``score`` (see :func:`render_stems`)."""
    return render_stems(score, options).mix
