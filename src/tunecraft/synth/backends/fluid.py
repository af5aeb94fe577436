"""FluidSynth backend: libfluidsynth (found through pyfluidsynth) driven through ctypes.

Each track is rendered by a fresh synth so the result never depends on what was rendered
before (FluidSynth keeps voice and block state between notes). Creating a synth is cheap because
it loads samples dynamically: only those of the preset it plays, through FluidSynth's sample
cache, while one "keeper" synth per SoundFont file (kept for the life of the process) holds the
file validated and its structure cached.

Float output comes from ``fluid_synth_write_float`` straight into numpy buffers. FluidSynth's own
reverb and chorus are off (tunecraft adds effects per stem). FluidSynth renders in blocks of 64
frames and starts a note at the next block, so note times are rounded to the nearest block
(±0.7 ms at 44.1 kHz); results are identical run to run. Stretches where no voice sounds are
not rendered at all (they are silent), so a track that plays in a few sections costs only those.
"""

from __future__ import annotations

import ctypes
import functools
import logging
import os
import threading
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from ...errors import RenderError
from ...io.files import native_stderr_to_log
from ...score import Score, Track
from .base import DRUM_BANK, DRUM_CHANNEL, Backend, check_soundfont, note_events, note_spans

log = logging.getLogger(__name__)

#: The General MIDI SoundFonts FluidSynth plays by default, best first (Debian's packages).
#: MuseScore General has the better instruments (a sampled grand, real strings and brass);
#: its lossless SF2 (musescore-general-soundfont-lossless) loads as fast as FluidR3 because
#: FluidSynth reads only the samples a piece plays. Its SF3 is last: FluidSynth decodes every
#: Ogg sample when it loads one (3-5 s and ~500 MB), so FluidR3 goes first when both are here.
SOUNDFONTS = (
    "/usr/share/sounds/sf2/MuseScore_General_Full.sf2",  # musescore-general-soundfont-lossless
    "/usr/share/sounds/sf2/FluidR3_GM.sf2",  # fluid-soundfont-gm
    "/usr/share/sounds/sf3/MuseScore_General_Full.sf3",  # musescore-general-soundfont
)
DEFAULT_SOUNDFONT = SOUNDFONTS[1]  # FluidR3: what the tests' measured figures were made with
BLOCK = 64  # FluidSynth's internal block size (FLUID_BUFSIZE)
GAIN = 1.0  # synth.gain: a single track at unity, no headroom needed in float
POLYPHONY = 512
_KEEP_MAX = 2
CHUNK = 64 * BLOCK  # frames per write while voices ring out with no event due

_c = ctypes
_SIGNATURES: dict[str, tuple[Any, tuple[Any, ...]]] = {
    "new_fluid_settings": (_c.c_void_p, ()),
    "delete_fluid_settings": (None, (_c.c_void_p,)),
    "fluid_settings_setnum": (_c.c_int, (_c.c_void_p, _c.c_char_p, _c.c_double)),
    "fluid_settings_setint": (_c.c_int, (_c.c_void_p, _c.c_char_p, _c.c_int)),
    "new_fluid_synth": (_c.c_void_p, (_c.c_void_p,)),
    "delete_fluid_synth": (None, (_c.c_void_p,)),
    "fluid_synth_sfload": (_c.c_int, (_c.c_void_p, _c.c_char_p, _c.c_int)),
    "fluid_synth_program_select": (_c.c_int, (_c.c_void_p, _c.c_int, _c.c_int, _c.c_int,
                                              _c.c_int)),
    "fluid_synth_noteon": (_c.c_int, (_c.c_void_p, _c.c_int, _c.c_int, _c.c_int)),
    "fluid_synth_noteoff": (_c.c_int, (_c.c_void_p, _c.c_int, _c.c_int)),
    "fluid_synth_get_active_voice_count": (_c.c_int, (_c.c_void_p,)),
    "fluid_synth_write_float": (_c.c_int, (_c.c_void_p, _c.c_int, _c.c_void_p, _c.c_int,
                                           _c.c_int, _c.c_void_p, _c.c_int, _c.c_int)),
}
_LOG_FN = ctypes.CFUNCTYPE(None, ctypes.c_int, ctypes.c_char_p, ctypes.c_void_p)


def _route_log(level: int, message: bytes | None, _data: object) -> None:
    text = (message or b"").decode("utf-8", "replace")
    log.log(logging.ERROR if level == 0 else logging.DEBUG, "fluidsynth: %s", text)


_log_callback = _LOG_FN(_route_log)  # kept referenced for the life of the process


class _Lib:
    """The libfluidsynth functions this backend calls (attributes named as in C)."""

    fluid_synth_write_float: Any
    fluid_synth_noteon: Any
    fluid_synth_noteoff: Any
    fluid_synth_get_active_voice_count: Any

    def __init__(self, path: str) -> None:
        cdll = ctypes.CDLL(path)
        for name, (restype, argtypes) in _SIGNATURES.items():
            fn = getattr(cdll, name)
            fn.restype, fn.argtypes = restype, list(argtypes)
            setattr(self, name, fn)
        # FluidSynth logs to stderr by default; send its messages to Python logging instead.
        set_log = cdll.fluid_set_log_function
        set_log.restype = ctypes.c_void_p
        set_log.argtypes = [ctypes.c_int, _LOG_FN, ctypes.c_void_p]
        for level in range(5):  # FLUID_PANIC .. FLUID_DBG
            set_log(level, _log_callback, None)


@functools.lru_cache(maxsize=1)
def _library() -> _Lib:
    """Load libfluidsynth once (ImportError/OSError when it is missing)."""
    import contextlib
    import io

    # pyfluidsynth finds libfluidsynth on every platform, and prints where when the CI
    # variable is set: that line must not reach the user's standard output.
    said = io.StringIO()
    with contextlib.redirect_stdout(said):
        import fluidsynth
    if said.getvalue().strip():
        log.debug("pyfluidsynth: %s", said.getvalue().strip())
    return _Lib(fluidsynth.lib)


def default_soundfont() -> str | None:
    """The best installed SoundFont of :data:`SOUNDFONTS`, or None."""
    return next((f for f in SOUNDFONTS if Path(f).is_file()), None)


def probe(*, default_font: bool = True) -> str | None:
    """Why this backend cannot run here, or None when it can.

    ``default_font``: also require the default SoundFont (not needed when one is given).
    """
    try:
        _library()
    except (ImportError, OSError, AttributeError) as exc:
        return f"libfluidsynth is not usable ({exc})"
    if default_font and default_soundfont() is None:
        return ("no General MIDI SoundFont is installed (apt musescore-general-soundfont-lossless "
                "or fluid-soundfont-gm)")
    return None


class _Synth:
    """One FluidSynth synthesizer with one SoundFont loaded."""

    def __init__(self, lib: _Lib, path: Path, sample_rate: int) -> None:
        self.lib = lib
        self.settings = lib.new_fluid_settings()
        if not self.settings:
            raise RenderError("FluidSynth could not create its settings (out of memory?)")
        for key, value in (("synth.reverb.active", 0), ("synth.chorus.active", 0),
                           ("synth.polyphony", POLYPHONY), ("synth.cpu-cores", 1),
                           ("synth.dynamic-sample-loading", 1)):
            lib.fluid_settings_setint(self.settings, key.encode(), value)
        lib.fluid_settings_setnum(self.settings, b"synth.sample-rate", float(sample_rate))
        lib.fluid_settings_setnum(self.settings, b"synth.gain", GAIN)
        with native_stderr_to_log(log, "FluidSynth"):  # GLib prints CRITICAL lines here
            self.synth = lib.new_fluid_synth(self.settings)
            if not self.synth:
                lib.delete_fluid_settings(self.settings)
                raise RenderError("FluidSynth could not start a synthesizer")
            self.sfid = lib.fluid_synth_sfload(self.synth, os.fsencode(path), 0)
        if self.sfid < 0:
            self.close()
            raise RenderError(f"SoundFont {path}: FluidSynth cannot read it (not a valid "
                              "SoundFont?)")

    def close(self) -> None:
        if self.synth:
            self.lib.delete_fluid_synth(self.synth)
            self.synth = None
        if self.settings:
            self.lib.delete_fluid_settings(self.settings)
            self.settings = None


_keepers: dict[tuple[str, int, int], _Synth] = {}
_keepers_lock = threading.Lock()


def _keep_loaded(lib: _Lib, path: Path, sample_rate: int) -> None:
    """Load ``path`` once per process (validating it) and keep it in FluidSynth's cache."""
    st = path.stat()
    key = (str(path.resolve()), st.st_mtime_ns, st.st_size)
    with _keepers_lock:
        if key in _keepers:
            _keepers[key] = _keepers.pop(key)  # most recently used last
            return
        _keepers[key] = _Synth(lib, path, sample_rate)
        while len(_keepers) > _KEEP_MAX:
            _keepers.pop(next(iter(_keepers))).close()


class FluidSynthBackend(Backend):
    """General MIDI through FluidSynth (the best of :data:`SOUNDFONTS` by default)."""

    name: ClassVar[str] = "fluidsynth"
    thread_safe: ClassVar[bool] = True

    def __init__(self, *, soundfont: str | os.PathLike[str] | None = None,
                 sample_rate: int = 44100) -> None:
        super().__init__(sample_rate=sample_rate)
        try:
            self._lib = _library()
        except (ImportError, OSError, AttributeError) as exc:
            raise RenderError(f"FluidSynth is not usable here ({exc}); install libfluidsynth3 "
                              "or choose backend tinysoundfont") from None
        self.soundfont = check_soundfont(soundfont or default_soundfont() or DEFAULT_SOUNDFONT)
        _keep_loaded(self._lib, self.soundfont, sample_rate)

    def render_track(self, score: Score, track: Track, *, frames: int) -> np.ndarray:
        out = np.zeros((2, frames), dtype=np.float32)
        events = note_events(note_spans(score, track, self.sample_rate), quantum=BLOCK)
        lib = self._lib
        synth = _Synth(lib, self.soundfont, self.sample_rate)
        try:
            s = synth.synth
            chan = self._select_program(synth, track)
            write = lib.fluid_synth_write_float
            voices = lib.fluid_synth_get_active_voice_count
            left, right = out[0].ctypes.data, out[1].ctypes.data
            noteon, noteoff = lib.fluid_synth_noteon, lib.fluid_synth_noteoff

            def play(pos: int, end: int) -> None:
                # Silence costs nothing: with no voice sounding the output stays zero, so skip
                # to the next event (block-aligned, as every event is). While voices ring out,
                # write in chunks and stop as soon as the last one has ended.
                while pos < end and voices(s) > 0:
                    n = min(end - pos, CHUNK)
                    write(s, n, left, pos, 1, right, pos, 1)
                    pos += n

            pos = 0
            for ev in events:
                frame = min(ev.frame, frames)
                if frame > pos:
                    play(pos, frame)
                    pos = frame
                if ev.frame >= frames:
                    break
                if ev.on:
                    noteon(s, chan, ev.pitch, ev.velocity)
                else:
                    noteoff(s, chan, ev.pitch)
            if frames > pos:
                play(pos, frames)
        finally:
            synth.close()
        return out

    def _select_program(self, synth: _Synth, track: Track) -> int:
        lib, s = self._lib, synth.synth
        if track.is_drum:  # the kit by its program (GS: 25 = TR-808...), else the standard
            if lib.fluid_synth_program_select(s, DRUM_CHANNEL, synth.sfid, DRUM_BANK,
                                              track.program) != 0 and \
                    lib.fluid_synth_program_select(s, DRUM_CHANNEL, synth.sfid, DRUM_BANK,
                                                   0) != 0:
                log.warning("SoundFont %s has no drum kit (bank 128); track %r is silent",
                            self.soundfont, track.name)
            return DRUM_CHANNEL
        if lib.fluid_synth_program_select(s, 0, synth.sfid, 0, track.program) != 0:
            log.warning("SoundFont %s has no program %d; track %r uses program 0",
                        self.soundfont, track.program, track.name)
            lib.fluid_synth_program_select(s, 0, synth.sfid, 0, 0)
        return 0
