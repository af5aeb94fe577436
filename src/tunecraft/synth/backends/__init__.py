"""Synthesizer backends: FluidSynth, TinySoundFont and a numpy additive synth.

Nothing is probed at import time: :func:`available_backends` imports each backend's module (and
its native library) the first time it is asked.
"""

from __future__ import annotations

import functools
import logging
import os
from importlib import import_module

from ...errors import ParameterError, RenderError
from ..options import BACKEND_NAMES
from .base import Backend, NoteEvent, NoteSpan, note_events, note_spans

log = logging.getLogger(__name__)

_MODULES = {
    "fluidsynth": (".fluid", "FluidSynthBackend"),
    "tinysoundfont": (".tsf", "TinySoundFontBackend"),
    "sine": (".sine", "SineBackend"),
}

__all__ = ["Backend", "NoteEvent", "NoteSpan", "available_backends", "get_backend",
           "note_events", "note_spans", "unavailable_reason"]


@functools.cache
def unavailable_reason(name: str, *, own_soundfont: bool = False) -> str | None:
    """Why backend ``name`` cannot run here, or None when it can (probed once per process).

    With ``own_soundfont`` the backend's default SoundFont need not be installed.
    """
    if name not in _MODULES:
        raise ParameterError(f"unknown render backend {name!r} (choose {', '.join(_MODULES)})")
    module = import_module(_MODULES[name][0], __name__)
    reason: str | None = module.probe(default_font=not own_soundfont)
    if reason:
        log.debug("render backend %s is not available: %s", name, reason)
    return reason


def available_backends() -> list[str]:
    """Backends usable here with their default SoundFont, best first."""
    return [name for name in BACKEND_NAMES if unavailable_reason(name) is None]


def get_backend(name: str = "auto", *, soundfont: str | os.PathLike[str] | None = None,
                sample_rate: int = 44100) -> Backend:
    """A ready backend: ``name`` or, for "auto", the best one available.

    ``soundfont`` replaces the default General MIDI font of the SoundFont backends (with "auto"
    it rules out the sine backend, which has no use for one). Raises :class:`RenderError` when
    the backend cannot run here or the SoundFont is missing or unreadable.
    """
    own = soundfont is not None
    if name == "auto":
        order = ("fluidsynth", "tinysoundfont") if own else BACKEND_NAMES
        usable = [n for n in order if unavailable_reason(n, own_soundfont=own) is None]
        if not usable:
            raise RenderError("no SoundFont synthesizer is usable here; install libfluidsynth3 "
                              "or tinysoundfont, or choose backend sine")
        name = usable[0]
        log.info("rendering with the %s backend", name)
    elif name not in _MODULES:
        raise ParameterError(f"unknown render backend {name!r} (choose auto, "
                             f"{', '.join(_MODULES)})")
    else:
        reason = unavailable_reason(name, own_soundfont=own and name != "sine")
        if reason is not None:
            raise RenderError(f"the {name} backend is not available here: {reason} "
                              f"(available: {', '.join(available_backends())})")
    module_name, class_name = _MODULES[name]
    cls = getattr(import_module(module_name, __name__), class_name)
    if name == "sine":
        if own:
            log.info("the sine backend ignores the SoundFont %s", soundfont)
        backend: Backend = cls(sample_rate=sample_rate)
    else:
        backend = cls(soundfont=soundfont, sample_rate=sample_rate)
    return backend
