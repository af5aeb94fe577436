"""Rendering: a score becomes stems, a premaster and a mastered stereo mix.

>>> from tunecraft.synth import RenderOptions, render, render_stems
>>> audio = render(score)                                              # doctest: +SKIP
>>> r = render_stems(score, RenderOptions(backend="sine", reverb=0.3))  # doctest: +SKIP
>>> r.mix, r.premaster, r.stems["Bass"], r.backend                     # doctest: +SKIP

Each track is synthesized alone (FluidSynth, TinySoundFont or a numpy additive synth), dry and
centred; the mixer sets its level and pan and adds its chorus and reverb, giving its stem; the
stems add up to the premaster (which runs one reverb on the bus of every track's send: the
reverb is linear), and each stem is computed when first asked for; mastering sets the loudness
(EBU R128) under a true-peak ceiling. Synthesizers and their libraries load on first use.
"""

from __future__ import annotations

from .backends import available_backends, get_backend
from .mastering import master, measure_loudness, true_peak_dbtp
from .options import BACKEND_NAMES, Rendered, RenderOptions
from .renderer import render, render_stems

__all__ = [
    "BACKEND_NAMES",
    "RenderOptions",
    "Rendered",
    "available_backends",
    "get_backend",
    "master",
    "measure_loudness",
    "render",
    "render_stems",
    "true_peak_dbtp",
]
