"""Measuring music: symbolic metrics of a score and the distance between two sets of scores.

>>> from tunecraft.evaluate import measure, compare_to_reference
>>> m = measure(score)                                          # doctest: +SKIP
>>> m.pitch_class_entropy, m.groove_consistency                 # doctest: +SKIP
>>> compare_to_reference([score], chorales)["distance"]          # doctest: +SKIP

The metrics follow the literature on evaluating generated music: Dong et al., *MuseGAN* (2018)
for scale consistency, empty bars/beats and polyphony; Wu & Yang, *The Jazz Transformer on the
Front Line* (2020) for pitch-class entropy and grooving-pattern similarity; Yang & Lerch, *On
the evaluation of generative models in music* (MGEval, 2020) for pitch range, note counts, the
inter-onset-interval and note-length histograms, and for comparing two *sets* of pieces.

Definitions (times are in beats, a quarter note being one beat, as everywhere in a
:class:`~tunecraft.score.Score`; "pitched" means notes of tracks that are not drum kits):

``pitch_class_entropy``
    Shannon entropy in bits of the pitch-class histogram of the pitched notes, **counted per
    note** (every note onset counts once, whatever its length), over the whole piece:
    ``H = -sum_i p_i log2 p_i``. 0 for one pitch class, ``log2 7 = 2.807`` for a diatonic scale
    used evenly, ``log2 12 = 3.585`` for all twelve used evenly. NaN without pitched notes.
``scale_consistency``
    The largest share of pitched notes (counted per note) lying in one of the 24 major and
    natural-minor scales; ``best_scale`` names it (the score's own key wins ties, so C major
    rather than A minor when both fit). 1.0 for purely diatonic music.
``groove_consistency``
    One minus the mean normalised Hamming distance between the onset patterns of consecutive
    bars. Each bar (bar lines from the meter map) becomes a binary vector on a grid of
    ``GROOVE_STEPS_PER_BEAT`` (16) steps per beat, 64 for a 4/4 bar as in Wu & Yang, marking the
    steps where any note (pitched or drum) starts. The distance of two bars is the number of
    differing steps over the grid length of the longer bar. Only pairs of consecutive bars that
    both hold an onset count, so silent intros and endings do not inflate the value. 1.0 for a
    pattern that repeats exactly; NaN for fewer than two such bars.
``empty_beat_rate``
    The share of beats (quarter-note spans ``[k, k+1)`` from 0 to the score's length) in which
    no note at all sounds, pitched or drum. A note sounds from its start to its end.
``polyphony``
    The mean number of pitched notes sounding at once, averaged over the time (in beats) during
    which at least one pitched note sounds. 1.0 for a monophonic line, 3.0 for block triads.
``pitch_range``
    Highest minus lowest pitched note, in semitones (0 without pitched notes).
``note_density``
    Notes per bar: all note onsets, pitched and drum, divided by the number of bars of the
    score. ``notes_per_second`` is the same count over the duration in seconds.
``pitch_class_histogram``
    The 12 per-note pitch-class shares (C first) behind the entropy.
``ioi_histogram``, ``note_length_histogram``
    MGEval's 12 note-value classes (whole, half, quarter, eighth, sixteenth, their dotted forms,
    and half, quarter and eighth triplets; see ``NOTE_VALUE_CLASSES``): the shares of
    inter-onset intervals between the distinct onset times of the pitched notes, and of pitched
    note durations, each assigned to the nearest class on a log scale (longer than a whole note
    counts as a whole note). ``mean_ioi`` is the mean inter-onset interval in beats.

Comparing sets (:func:`distribution_distance`) is described there.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from ..errors import ParameterError
from ..score.types import EPS as _EPS
from ..score.types import KeySignature, Score

__all__ = [
    "GROOVE_STEPS_PER_BEAT",
    "HISTOGRAM_METRICS",
    "NOTE_VALUE_CLASSES",
    "SCALAR_METRICS",
    "MusicMetrics",
    "compare_to_reference",
    "distribution_distance",
    "measure",
]

#: Grid of the onset patterns compared by ``groove_consistency`` (64 steps in a 4/4 bar).
GROOVE_STEPS_PER_BEAT = 16

#: MGEval's note-value classes in beats: whole, half, quarter, 8th, 16th, dotted half, dotted
#: quarter, dotted 8th, dotted 16th, half triplet, quarter triplet, 8th triplet.
NOTE_VALUE_CLASSES: tuple[float, ...] = (4.0, 2.0, 1.0, 0.5, 0.25, 3.0, 1.5, 0.75, 0.375,
                                         4 / 3, 2 / 3, 1 / 3)
NOTE_VALUE_NAMES: tuple[str, ...] = ("whole", "half", "quarter", "8th", "16th", "dotted half",
                                     "dotted quarter", "dotted 8th", "dotted 16th",
                                     "half triplet", "quarter triplet", "8th triplet")

_MAJOR_STEPS = (0, 2, 4, 5, 7, 9, 11)
_MINOR_STEPS = (0, 2, 3, 5, 7, 8, 10)


@dataclass(frozen=True)
class MusicMetrics:
    """Symbolic metrics of one score (see the module documentation for each definition)."""

    pitch_class_entropy: float
    scale_consistency: float
    groove_consistency: float
    empty_beat_rate: float
    polyphony: float
    pitch_range: int
    note_density: float
    notes_per_second: float
    mean_ioi: float
    best_scale: str
    n_notes: int
    n_pitched_notes: int
    n_bars: int
    duration_seconds: float
    pitch_class_histogram: tuple[float, ...]
    ioi_histogram: tuple[float, ...]
    note_length_histogram: tuple[float, ...]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict: tuples become lists and NaN (undefined) becomes None."""

        def clean(v: Any) -> Any:
            if isinstance(v, float):
                return None if math.isnan(v) else v
            if isinstance(v, (tuple, list)):
                return [clean(x) for x in v]
            return v

        return {k: clean(v) for k, v in asdict(self).items()}


#: Metrics holding one number, compared by absolute difference.
SCALAR_METRICS: tuple[str, ...] = (
    "pitch_class_entropy", "scale_consistency", "groove_consistency", "empty_beat_rate",
    "polyphony", "pitch_range", "note_density", "notes_per_second", "mean_ioi",
)  # fmt: skip
#: Metrics holding a histogram, compared by Euclidean distance (as MGEval does).
HISTOGRAM_METRICS: tuple[str, ...] = ("pitch_class_histogram", "ioi_histogram",
                                      "note_length_histogram")


# ----------------------------------------------------------------------------------------------
# One score


def _shares(counts: np.ndarray) -> tuple[float, ...]:
    total = float(counts.sum())
    if total <= 0:
        return tuple(0.0 for _ in counts)
    return tuple(float(c) / total for c in counts)


def _entropy_bits(p: Sequence[float]) -> float:
    a = np.asarray(p, dtype=float)
    a = a[a > 0]
    if a.size == 0:
        return math.nan
    return float(-(a * np.log2(a)).sum()) + 0.0  # + 0.0 turns -0.0 into 0.0


def _scales(score: Score) -> list[tuple[str, frozenset[int]]]:
    """The 24 major and natural-minor scales, the score's own key first (it wins ties)."""
    out: list[tuple[str, frozenset[int]]] = []
    for mode, steps in (("major", _MAJOR_STEPS), ("minor", _MINOR_STEPS)):
        for tonic in range(12):
            out.append((KeySignature(0.0, tonic, mode).name,
                        frozenset((tonic + s) % 12 for s in steps)))
    name = score.key.name
    out.sort(key=lambda s: s[0] != name)
    return out


def _note_value_histogram(values: np.ndarray) -> tuple[float, ...]:
    counts = np.zeros(len(NOTE_VALUE_CLASSES))
    values = values[values > _EPS]
    if values.size:
        classes = np.log2(np.asarray(NOTE_VALUE_CLASSES))
        idx = np.abs(np.log2(np.minimum(values, 4.0))[:, None] - classes[None, :]).argmin(axis=1)
        np.add.at(counts, idx, 1)
    return _shares(counts)


def _bars(score: Score) -> list[tuple[float, float]]:
    lines = list(score.bar_lines())
    end = float(score.length or 0.0)
    return [(b, lines[i + 1] if i + 1 < len(lines) else end) for i, b in enumerate(lines)]


def _groove(score: Score, onsets: np.ndarray) -> float:
    bars = _bars(score)
    if len(bars) < 2:
        return math.nan
    starts = np.array([b for b, _ in bars])
    patterns: list[np.ndarray] = []
    for b0, b1 in bars:
        steps = max(1, round((b1 - b0) * GROOVE_STEPS_PER_BEAT))
        pat = np.zeros(steps, dtype=bool)
        patterns.append(pat)
    if onsets.size:
        which = np.searchsorted(starts, onsets + _EPS, side="right") - 1
        for bar, t in zip(which, onsets, strict=True):
            if bar < 0:
                continue
            pat = patterns[bar]
            step = round((t - bars[bar][0]) * GROOVE_STEPS_PER_BEAT)
            pat[min(step, pat.size - 1)] = True
    dists: list[float] = []
    for a, b in itertools.pairwise(patterns):
        if not (a.any() and b.any()):
            continue
        n = max(a.size, b.size)
        pa = np.zeros(n, dtype=bool)
        pb = np.zeros(n, dtype=bool)
        pa[: a.size] = a
        pb[: b.size] = b
        dists.append(float(np.count_nonzero(pa ^ pb)) / n)
    return 1.0 - float(np.mean(dists)) if dists else math.nan


def _empty_beat_rate(score: Score, starts: np.ndarray, ends: np.ndarray) -> float:
    length = float(score.length or 0.0)
    n_beats = math.ceil(length - _EPS)
    if n_beats <= 0:
        return math.nan
    cover = np.zeros(n_beats + 1, dtype=np.int64)
    if starts.size:
        first = np.clip(np.floor(starts + _EPS).astype(np.int64), 0, n_beats)
        last = np.clip(np.ceil(ends - _EPS).astype(np.int64), 0, n_beats)  # exclusive
        keep = last > first
        np.add.at(cover, first[keep], 1)
        np.add.at(cover, last[keep], -1)
    sounding = np.cumsum(cover)[:n_beats] > 0
    return float(np.count_nonzero(~sounding)) / n_beats


def _polyphony(starts: np.ndarray, ends: np.ndarray) -> float:
    if starts.size == 0:
        return math.nan
    times = np.unique(np.concatenate([starts, ends]))
    delta = np.zeros(times.size, dtype=np.int64)
    np.add.at(delta, np.searchsorted(times, starts), 1)
    np.add.at(delta, np.searchsorted(times, ends), -1)
    count = np.cumsum(delta)[:-1]
    width = np.diff(times)
    busy = width[count > 0].sum()
    if busy <= 0:
        return math.nan
    return float((count * width).sum() / busy)


def measure(score: Score) -> MusicMetrics:
    """Measure one score (see the module documentation for the definition of each metric).

    Undefined values are NaN: the pitch metrics of a score without pitched notes, the groove of
    a score with fewer than two bars holding notes.
    """
    if not isinstance(score, Score):
        raise ParameterError(f"measure() needs a Score, not {type(score).__name__}")
    pitched = [n for t in score.tracks if not t.is_drum for n in t.notes]
    every = [n for t in score.tracks for n in t.notes]
    p_start = np.array([n.start for n in pitched], dtype=float)
    p_end = np.array([n.end for n in pitched], dtype=float)
    p_pitch = np.array([n.pitch for n in pitched], dtype=np.int64)
    a_start = np.array([n.start for n in every], dtype=float)
    a_end = np.array([n.end for n in every], dtype=float)

    pc_counts = np.bincount(p_pitch % 12, minlength=12) if pitched else np.zeros(12)
    pc_hist = _shares(pc_counts)
    if pitched:
        best_scale, best_share = "", -1.0
        for name, pcs in _scales(score):
            share = float(sum(pc_counts[pc] for pc in pcs)) / len(pitched)
            if share > best_share + _EPS:
                best_scale, best_share = name, share
        scale_consistency = best_share
        pitch_range = int(p_pitch.max() - p_pitch.min())
    else:
        best_scale, scale_consistency, pitch_range = "", math.nan, 0

    onsets = np.unique(p_start)
    iois = np.diff(onsets)
    bars = len(score.bar_lines())
    seconds = score.duration_seconds
    return MusicMetrics(
        pitch_class_entropy=_entropy_bits(pc_hist),
        scale_consistency=scale_consistency,
        groove_consistency=_groove(score, np.sort(a_start)),
        empty_beat_rate=_empty_beat_rate(score, a_start, a_end),
        polyphony=_polyphony(p_start, p_end),
        pitch_range=pitch_range,
        note_density=len(every) / bars if bars else math.nan,
        notes_per_second=len(every) / seconds if seconds > 0 else math.nan,
        mean_ioi=float(iois.mean()) if iois.size else math.nan,
        best_scale=best_scale,
        n_notes=len(every),
        n_pitched_notes=len(pitched),
        n_bars=bars,
        duration_seconds=float(seconds),
        pitch_class_histogram=pc_hist,
        ioi_histogram=_note_value_histogram(iois),
        note_length_histogram=_note_value_histogram(p_end - p_start),
    )


# ----------------------------------------------------------------------------------------------
# Two sets of scores


def _values(items: Sequence[MusicMetrics], name: str) -> tuple[list[int], np.ndarray]:
    """The pieces (by index) where a metric is defined, and its values as rows."""
    keep: list[int] = []
    rows: list[np.ndarray] = []
    for i, m in enumerate(items):
        v = np.atleast_1d(np.asarray(getattr(m, name), dtype=float))
        if v.size and np.all(np.isfinite(v)) and (name not in HISTOGRAM_METRICS or v.sum() > 0):
            keep.append(i)
            rows.append(v)
    width = rows[0].size if rows else 1
    return keep, (np.vstack(rows) if rows else np.zeros((0, width)))


def _intra(x: np.ndarray) -> np.ndarray:
    out = [np.linalg.norm(x[i + 1:] - x[i], axis=1) for i in range(len(x) - 1)]
    return np.concatenate(out) if out else np.zeros(0)


def _inter(x: np.ndarray, y: np.ndarray, same: np.ndarray) -> np.ndarray:
    """Distances between every piece of x and of y, leaving out a piece paired with itself."""
    out = [np.linalg.norm(y - x[i], axis=1)[~same[i]] for i in range(len(x))]
    return np.concatenate(out) if out else np.zeros(0)


def _bandwidth(values: np.ndarray) -> float:
    """Silverman's rule of thumb on the pooled distances."""
    n = values.size
    sd = float(values.std(ddof=1)) if n > 1 else 0.0
    q75, q25 = np.percentile(values, [75, 25])
    spread = min(sd, float(q75 - q25) / 1.34) if q75 > q25 else sd
    h = 0.9 * spread * n ** -0.2
    if h <= 0:
        h = 1e-3 * max(1.0, float(np.abs(values).max()))
    return h


def _densities(samples: Sequence[np.ndarray], h: float) -> tuple[np.ndarray, list[np.ndarray]]:
    """Gaussian kernel densities of each sample on one shared grid (binned, then smoothed)."""
    pooled = np.concatenate(samples)
    lo, hi = float(pooled.min()) - 4 * h, float(pooled.max()) + 4 * h
    n_grid = int(min(8192, max(256, math.ceil((hi - lo) / (h / 4)))))
    edges = np.linspace(lo, hi, n_grid + 1)
    dx = edges[1] - edges[0]
    half = math.ceil(4 * h / dx)
    k = np.exp(-0.5 * ((np.arange(-half, half + 1) * dx) / h) ** 2)
    out = []
    for s in samples:
        counts, _ = np.histogram(s, bins=edges)
        dens = np.convolve(counts.astype(float), k, mode="same")
        dens /= dens.sum() * dx
        out.append(dens)
    return np.full(n_grid, dx), out


def _overlap_kl(p_sample: np.ndarray, q_sample: np.ndarray, h: float) -> tuple[float, float]:
    dx, (p, q) = _densities([p_sample, q_sample], h)
    overlap = float(np.sum(np.minimum(p, q) * dx))
    floor = 1e-12
    mask = p > floor
    kl = float(np.sum(p[mask] * np.log(p[mask] / np.maximum(q[mask], floor)) * dx[mask]))
    return min(overlap, 1.0), max(kl, 0.0)


def distribution_distance(a: Sequence[MusicMetrics], b: Sequence[MusicMetrics]
                          ) -> dict[str, float]:
    """How far apart two sets of pieces are, per metric (Yang & Lerch's MGEval method).

    For each metric the distances between pieces are collected: the **intra-set** distances
    between every two pieces of ``a``, and of ``b``, and the **inter-set** distances between
    every piece of ``a`` and every piece of ``b`` (a piece found in both sets is not paired with
    itself). Distances are absolute differences for one-number metrics and Euclidean distances
    for histograms. Each collection is smoothed into a probability density with a Gaussian
    kernel (one bandwidth for the metric, Silverman's rule on all its distances) and each
    intra-set density is compared with the inter-set density by

    * the **overlapping area** ``OA = integral of min(p_intra, p_inter)`` (1: the two sets are
      as alike as the pieces within a set are; 0: entirely apart), and
    * the **Kullback-Leibler divergence** ``KL(p_intra || p_inter)`` in nats (0: alike).

    The value for a metric is the mean over ``a`` and ``b`` of these (a set of one piece has no
    intra-set distances and is left out of the mean, so one piece can be compared with a
    corpus). The result maps ``"<metric>.overlap"`` and ``"<metric>.kl"`` for every metric in
    ``SCALAR_METRICS`` and ``HISTOGRAM_METRICS``, and ``"mean.overlap"``/``"mean.kl"`` over
    them. A metric undefined for too many pieces (NaN in the metrics) gives NaN.

    Raises :class:`~tunecraft.errors.ParameterError` unless both sets hold a piece and one of
    them at least two.
    """
    a, b = list(a), list(b)
    for items in (a, b):
        for m in items:
            if not isinstance(m, MusicMetrics):
                raise ParameterError("distribution_distance() compares MusicMetrics (from "
                                     f"measure()), not {type(m).__name__}")
    if not a or not b or max(len(a), len(b)) < 2:
        raise ParameterError("comparing distributions needs at least one piece in each set "
                             f"and two in one of them (got {len(a)} and {len(b)})")
    out: dict[str, float] = {}
    for name in SCALAR_METRICS + HISTOGRAM_METRICS:
        ia, xa = _values(a, name)
        ib, xb = _values(b, name)
        same = np.array([[a[i] is b[j] or a[i] == b[j] for j in ib] for i in ia],
                        dtype=bool).reshape(len(ia), len(ib))
        inter = _inter(xa, xb, same)
        intras = [d for d in (_intra(xa), _intra(xb)) if d.size]
        if inter.size == 0 or not intras:
            out[f"{name}.overlap"] = out[f"{name}.kl"] = math.nan
            continue
        pooled = np.concatenate([inter, *intras])
        if np.ptp(pooled) <= _EPS:  # every distance equal: the distributions coincide
            out[f"{name}.overlap"], out[f"{name}.kl"] = 1.0, 0.0
            continue
        h = _bandwidth(pooled)
        pairs = [_overlap_kl(d, inter, h) for d in intras]
        out[f"{name}.overlap"] = float(np.mean([p[0] for p in pairs]))
        out[f"{name}.kl"] = float(np.mean([p[1] for p in pairs]))
    for what in ("overlap", "kl"):
        vals = [v for k, v in out.items() if k.endswith(f".{what}") and math.isfinite(v)]
        out[f"mean.{what}"] = float(np.mean(vals)) if vals else math.nan
    return out


def _as_metrics(items: Iterable[Any], what: str) -> tuple[list[str], list[MusicMetrics]]:
    names: list[str] = []
    metrics: list[MusicMetrics] = []
    for i, item in enumerate(items):
        if isinstance(item, MusicMetrics):
            names.append(f"{what} {i + 1}")
            metrics.append(item)
            continue
        if isinstance(item, Score):
            names.append(item.title or f"{what} {i + 1}")
        else:  # files are read by the caller (tunecraft.load): evaluation takes no paths
            raise ParameterError(f"cannot measure {type(item).__name__}; give scores or "
                                 "MusicMetrics (read files with tunecraft.load)")
        metrics.append(measure(item))
    return names, metrics


def _summary(metrics: Sequence[MusicMetrics]) -> dict[str, Any]:
    mean: dict[str, float | None] = {}
    std: dict[str, float | None] = {}
    for name in SCALAR_METRICS:
        v = np.array([getattr(m, name) for m in metrics], dtype=float)
        v = v[np.isfinite(v)]
        mean[name] = float(v.mean()) if v.size else None
        std[name] = float(v.std()) if v.size else None
    return {"count": len(metrics), "mean": mean, "std": std}


def compare_to_reference(scores: Iterable[Any], reference_scores: Iterable[Any]
                         ) -> dict[str, Any]:
    """Measure pieces and place them against a reference corpus.

    Both arguments hold scores or ready :class:`MusicMetrics` (files are read by the caller,
    :func:`tunecraft.load`; ``tunecraft.api.evaluate_files`` does it). Returns a JSON-ready
    dict:

    ``pieces``: per piece its ``name``, ``metrics`` (:meth:`MusicMetrics.to_dict`) and, per
    one-number metric, ``reference_percentile``: the share (0-100) of reference pieces with a
    lower value, ties counted half. ``generated`` and ``reference``: count, mean and standard
    deviation of each metric. ``distance``: :func:`distribution_distance` of the two sets (NaN
    as None). ``method``: a one-line description of how the distance is computed.
    """
    names, gen = _as_metrics(scores, "piece")
    _, ref = _as_metrics(reference_scores, "reference")
    if not gen:
        raise ParameterError("nothing to evaluate: give at least one score")
    if not ref:
        raise ParameterError("the reference corpus holds no scores")
    pieces = []
    for name, m in zip(names, gen, strict=True):
        pct: dict[str, float | None] = {}
        for metric in SCALAR_METRICS:
            x = float(getattr(m, metric))
            r = np.array([getattr(q, metric) for q in ref], dtype=float)
            r = r[np.isfinite(r)]
            if not math.isfinite(x) or r.size == 0:
                pct[metric] = None
                continue
            pct[metric] = float(100.0 * (np.sum(r < x) + 0.5 * np.sum(r == x)) / r.size)
        pieces.append({"name": name, "metrics": m.to_dict(), "reference_percentile": pct})
    distance: dict[str, float | None] = {}
    if len(gen) + len(ref) >= 3:
        distance = {k: (None if math.isnan(v) else v)
                    for k, v in distribution_distance(gen, ref).items()}
    return {
        "pieces": pieces,
        "generated": _summary(gen),
        "reference": _summary(ref),
        "distance": distance,
        "method": "MGEval (Yang & Lerch 2020): per metric, Gaussian-kernel densities of "
                  "intra-set and inter-set distances, compared by overlapping area (1 = alike) "
                  "and KL divergence (0 = alike)",
    }

