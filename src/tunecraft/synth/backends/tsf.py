"""TinySoundFont backend: the pure-pip SoundFont synthesizer (``tinysoundfont`` on PyPI).

The default SoundFont is TimGM6mb.sf2, the small General MIDI font shipped inside the
``pretty_midi`` package. The SoundFont is parsed once per backend; each track plays on a clone of
it (the binding's copy constructor shares the samples and starts from a clean state), so a track
never depends on what was rendered before. Timing is sample-accurate.
"""

from __future__ import annotations

import importlib.util
import logging
import os
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from ...errors import RenderError
from ...score import Score, Track
from .base import DRUM_CHANNEL, Backend, check_soundfont, note_events, note_spans

log = logging.getLogger(__name__)

GAIN_DB = -4.0  # brings TimGM6mb to about the level of FluidR3 at FluidSynth gain 1.0
MAX_VOICES = 256


def default_soundfont() -> Path | None:
    """TimGM6mb.sf2 inside the installed pretty_midi package (found without importing it)."""
    spec = importlib.util.find_spec("pretty_midi")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        path = Path(folder) / "TimGM6mb.sf2"
        if path.is_file():
            return path
    return None


def _module() -> Any:
    from tinysoundfont import _tinysoundfont  # the binding's SoundFont class (clone support)

    return _tinysoundfont


def probe(*, default_font: bool = True) -> str | None:
    """Why this backend cannot run here, or None when it can.

    ``default_font``: also require the default SoundFont (not needed when one is given).
    """
    try:
        _module()
    except ImportError as exc:
        return f"the tinysoundfont package is not usable ({exc})"
    if default_font and default_soundfont() is None:
        return "TimGM6mb.sf2 was not found (it ships with the pretty_midi package)"
    return None


class TinySoundFontBackend(Backend):
    """General MIDI through TinySoundFont (TimGM6mb by default)."""

    name: ClassVar[str] = "tinysoundfont"
    thread_safe: ClassVar[bool] = False  # the binding holds the GIL while rendering

    def __init__(self, *, soundfont: str | os.PathLike[str] | None = None,
                 sample_rate: int = 44100) -> None:
        super().__init__(sample_rate=sample_rate)
        try:
            self._tsf = _module()
        except ImportError as exc:
            raise RenderError(f"TinySoundFont is not installed ({exc}); run "
                              "pip install --no-deps tinysoundfont") from None
        if soundfont is None:
            soundfont = default_soundfont()
            if soundfont is None:
                raise RenderError("no SoundFont for tinysoundfont: TimGM6mb.sf2 (shipped with "
                                  "pretty_midi) was not found; pass a .sf2 file")
        self.soundfont = check_soundfont(soundfont)
        try:
            self._font = self._tsf.SoundFont(str(self.soundfont))
        except (RuntimeError, ValueError, OSError):
            raise RenderError(f"SoundFont {self.soundfont}: TinySoundFont cannot read it "
                              "(not a valid SoundFont?)") from None

    def render_track(self, score: Score, track: Track, *, frames: int) -> np.ndarray:
        sr = self.sample_rate
        font = self._tsf.SoundFont(self._font)  # a clean player sharing the loaded samples
        font.set_output(self._tsf.OutputMode.StereoInterleaved, sr, GAIN_DB)
        font.set_max_voices(MAX_VOICES)
        chan = self._select_program(font, track)
        out = np.zeros((frames, 2), dtype=np.float32)  # interleaved, as TinySoundFont writes
        pos = 0
        for ev in note_events(note_spans(score, track, sr)):
            frame = min(ev.frame, frames)
            if frame > pos:
                font.render(out[pos:frame], False)
                pos = frame
            if ev.on:
                font.channel_note_on(chan, ev.pitch, ev.velocity / 127.0)
            else:
                font.channel_note_off(chan, ev.pitch)
        if frames > pos:
            font.render(out[pos:frames], False)
        return np.ascontiguousarray(out.T)

    def _select_program(self, font: Any, track: Track) -> int:
        chan = DRUM_CHANNEL if track.is_drum else 0
        font.channel_set_bank(chan, 0)
        try:
            try:
                font.channel_set_preset_number(chan, track.program, track.is_drum)
            except RuntimeError:
                if not track.is_drum or track.program == 0:
                    raise
                font.channel_set_preset_number(chan, 0, True)  # the standard kit
        except RuntimeError:
            log.warning("SoundFont %s has no %s; track %r uses its first preset",
                        self.soundfont, "drum kit" if track.is_drum else
                        f"program {track.program}", track.name)
            font.channel_set_preset_index(chan, 0)
        return chan
