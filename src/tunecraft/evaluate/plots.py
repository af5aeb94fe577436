"""Pictures of a score: a piano roll as a PNG.

>>> from tunecraft.evaluate import piano_roll_png
>>> piano_roll_png(score, "song.png")                      # doctest: +SKIP

matplotlib is imported on first use, with its Agg canvas only (no pyplot, no GUI, no global
backend switch). When ``MPLCONFIGDIR`` is not set, it is pointed at a private folder under the
temporary directory, so matplotlib neither needs a writable home nor picks up a personal
``matplotlibrc`` that would change how the pictures look.
"""

from __future__ import annotations

import math
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import OutputFileError
from ..gm import DRUM_KEYS
from ..io.files import atomic_output, check_output
from ..score.types import Score, Track, note_name

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["piano_roll_png"]

_DPI = 110
# Colour-blind friendly, distinct at small sizes (Okabe-Ito, then tab10 extras).
_COLOURS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#8C564B",
            "#F0E442", "#7F7F7F", "#17BECF", "#9467BD", "#BCBD22")
_BLACK_KEYS = frozenset({1, 3, 6, 8, 10})
_LANE_HEIGHTS = (0.9, 0.4, 0.2, 0.12)


def _matplotlib() -> tuple[Any, Any]:
    """Import matplotlib lazily; give it a writable config folder when none is set."""
    if not os.environ.get("MPLCONFIGDIR"):
        folder = Path(tempfile.gettempdir()) / f"tunecraft-matplotlib-{os.getuid()}"
        folder.mkdir(mode=0o700, exist_ok=True)
        os.environ["MPLCONFIGDIR"] = str(folder)
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    return Figure, FigureCanvasAgg


def _fmt_time(seconds: float) -> str:
    m, s = divmod(round(seconds), 60)
    return f"{m}:{s:02d}"


def _rgba(colour: str, alpha: float) -> tuple[float, float, float, float]:
    from matplotlib.colors import to_rgba

    r, g, b, _ = to_rgba(colour)
    return (r, g, b, alpha)


def _doubles(a: Track, b: Track) -> bool:
    """Whether ``a`` mostly plays notes that ``b`` also plays (same pitch, overlapping)."""
    spans: dict[int, list[tuple[float, float]]] = {}
    for n in b.notes:
        spans.setdefault(n.pitch, []).append((n.start, n.end))
    hits = sum(1 for n in a.notes
               if any(s < n.end and n.start < e for s, e in spans.get(n.pitch, ())))
    return hits >= 0.2 * len(a.notes)


def _nesting(tracks: list[Track]) -> list[int]:
    """A drawing level per track: one more than the deepest earlier track it doubles.

    Doubling tracks are drawn thinner on top of the ones they double, so both colours show.
    """
    levels: list[int] = []
    for i, t in enumerate(tracks):
        below = [levels[j] for j in range(i) if _doubles(t, tracks[j])]
        levels.append(min(len(_LANE_HEIGHTS) - 1, 1 + max(below)) if below else 0)
    return levels


def _main_meter(score: Score) -> str:
    """The meter that covers most of the score (a one-beat pickup bar is not "the" meter)."""
    ts = score.time_signatures
    end = max(float(score.length or 0.0), ts[-1].beat)
    spans = [((ts[i + 1].beat if i + 1 < len(ts) else end) - t.beat, -i) for i, t in
             enumerate(ts)]
    return str(ts[-max(spans)[1]])


def _draw_bars_and_sections(ax: Axes, score: Score, *, label_sections: bool) -> None:
    for i, b in enumerate(score.bar_lines()):
        ax.axvline(b, color="#000000", alpha=0.10 if i % 4 else 0.22, lw=0.6, zorder=0.5)
    for i, s in enumerate(score.sections):
        if i % 2:
            ax.axvspan(s.start, s.end, color="#000000", alpha=0.035, lw=0, zorder=0.1)
        ax.axvline(s.start, color="#333333", lw=1.1, ls="--", alpha=0.8, zorder=0.6)
        if label_sections:
            ax.text(s.start + 0.15, 1.005, s.name, transform=ax.get_xaxis_transform(),
                    ha="left", va="bottom", fontsize=9, fontweight="bold", color="#333333",
                    clip_on=False)


def _bar_ticks(ax: Axes, score: Score) -> None:
    lines = score.bar_lines()
    if not lines:
        return
    step = max(1, math.ceil(len(lines) / 32))
    if step > 1:
        step = min((s for s in (2, 4, 8, 16, 32, 64) if s >= step), default=step)
    ticks = [b for i, b in enumerate(lines) if i % step == 0]
    ax.set_xticks(ticks)
    ax.set_xticklabels([str(i + 1) for i in range(0, len(lines), step)], fontsize=8)


def piano_roll_png(score: Score, path: str | os.PathLike[str], *, title: str | None = None
                   ) -> Path:
    """Draw ``score`` as a piano roll and write it to ``path`` (a .png); return the path.

    Pitched tracks share one panel (pitch against bars), one colour per track, brighter for
    louder notes; drum kits get their own band below with a row per drum sound. Bar lines are
    faint (every fourth a little darker), sections are dashed lines with their names on top and
    alternate shading. The file is written atomically: on any error no file (and no partial
    file) is left at ``path``. Raises :class:`~tunecraft.errors.OutputFileError` for a path
    that is not a .png or cannot be written.
    """
    p = Path(path)
    if p.suffix.lower() != ".png":
        raise OutputFileError(p, f"a piano roll is a PNG picture; name it .png, not "
                                 f"{p.suffix or '(no extension)'!r}")
    check_output(p)
    Figure, FigureCanvasAgg = _matplotlib()
    from matplotlib.patches import Patch

    pitched = [t for t in score.tracks if not t.is_drum and t.notes]
    drums = [t for t in score.tracks if t.is_drum and t.notes]
    colours = {id(t): _COLOURS[i % len(_COLOURS)] for i, t in enumerate(score.tracks)}
    length = float(score.length or 0.0) or 4.0
    n_bars = len(score.bar_lines())
    drum_keys = sorted({n.pitch for t in drums for n in t.notes})

    width = min(30.0, max(11.0, 4.0 + 0.32 * n_bars))
    pitches = [n.pitch for t in pitched for n in t.notes]
    lo, hi = (min(pitches) - 2, max(pitches) + 2) if pitches else (58, 74)
    roll_h = min(9.0, max(3.6, 0.12 * (hi - lo)))
    drum_h = max(1.0, 0.19 * len(drum_keys)) if drum_keys else 0.0
    fig = Figure(figsize=(width, roll_h + drum_h + 1.3), dpi=_DPI, layout="constrained")
    FigureCanvasAgg(fig)
    if drum_keys:
        gs = fig.add_gridspec(2, 1, height_ratios=(roll_h, drum_h), hspace=0.02)
        ax = fig.add_subplot(gs[0])
        dax: Axes | None = fig.add_subplot(gs[1], sharex=ax)
    else:
        ax, dax = fig.add_subplot(1, 1, 1), None

    # Keyboard shading and octave lines.
    for pitch in range(lo, hi + 1):
        if pitch % 12 in _BLACK_KEYS:
            ax.axhspan(pitch - 0.5, pitch + 0.5, color="#000000", alpha=0.04, lw=0, zorder=0)
        if pitch % 12 == 0:
            ax.axhline(pitch - 0.5, color="#000000", alpha=0.18, lw=0.6, zorder=0.2)
    _draw_bars_and_sections(ax, score, label_sections=True)

    handles = []
    levels = _nesting(pitched)
    for t, level in zip(pitched, levels, strict=True):
        c = colours[id(t)]
        ax.barh([n.pitch for n in t.notes], [n.duration for n in t.notes],
                left=[n.start for n in t.notes], height=_LANE_HEIGHTS[level],
                color=[_rgba(c, 0.35 + 0.65 * n.velocity / 127) for n in t.notes],
                edgecolor=_rgba(c, 1.0), linewidth=0.4, zorder=2)
        handles.append(Patch(facecolor=c, edgecolor=c, label=f"{t.name} ({t.instrument})"))
    octaves = [pc for pc in range(lo, hi + 1) if pc % 12 == 0]
    ax.set_yticks(octaves)
    ax.set_yticklabels([note_name(pc) for pc in octaves], fontsize=8)
    ax.set_ylim(lo - 0.5, hi + 0.5)
    ax.set_xlim(0, length)
    ax.set_ylabel("pitch")
    if not pitched:
        ax.text(0.5, 0.5, "no pitched notes", transform=ax.transAxes, ha="center",
                va="center", color="#777777")

    if dax is not None:
        row = {k: i for i, k in enumerate(drum_keys)}
        for i in range(len(drum_keys)):
            if i % 2:
                dax.axhspan(i - 0.5, i + 0.5, color="#000000", alpha=0.04, lw=0, zorder=0)
        _draw_bars_and_sections(dax, score, label_sections=False)
        for t in drums:
            c = colours[id(t)]
            dax.barh([row[n.pitch] for n in t.notes],
                     [min(max(n.duration, 0.12), 0.25) for n in t.notes],
                     left=[n.start for n in t.notes], height=0.7,
                     color=[_rgba(c, 0.3 + 0.7 * n.velocity / 127) for n in t.notes],
                     edgecolor="none", zorder=2)
            handles.append(Patch(facecolor=c, edgecolor=c, label=f"{t.name} (drums)"))
        dax.set_yticks(range(len(drum_keys)))
        dax.set_yticklabels([DRUM_KEYS.get(k, f"drum {k}") for k in drum_keys], fontsize=7)
        dax.set_ylim(-0.5, len(drum_keys) - 0.5)
        dax.set_xlim(0, length)
        ax.tick_params(labelbottom=False)
        _bar_ticks(dax, score)
        dax.set_xlabel("bar")
    else:
        _bar_ticks(ax, score)
        ax.set_xlabel("bar")

    key = score.key
    facts = (f"{key.name}  ·  {_main_meter(score)}  ·  {score.bpm:g} bpm  ·  {n_bars} bars  ·  "
             f"{_fmt_time(score.duration_seconds)}  ·  {score.note_count} notes")
    fig.suptitle(title or score.title or "Piano roll", fontsize=13, fontweight="bold")
    ax.set_title(facts, fontsize=9, color="#444444", pad=20)
    if handles:
        ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.005, 1.0),
                  fontsize=8, frameon=False, title="tracks", title_fontsize=9,
                  borderaxespad=0.0)
    with atomic_output(p) as tmp:
        try:
            fig.savefig(tmp, format="png", dpi=_DPI)
        except OSError as exc:
            raise OutputFileError(p, f"cannot be written ({exc.strerror or exc})") from None
    return p
