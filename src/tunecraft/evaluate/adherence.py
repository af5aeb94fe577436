"""Prompt adherence: does a generated score (and its audio) give what the request asked for?

:func:`adherence` compares a :class:`~tunecraft.understand.MusicSpec` with the
:class:`~tunecraft.score.Score` made for it, and optionally the rendered
:class:`~tunecraft.audio.Audio`, and returns an :class:`AdherenceReport` of named checks.

Hard checks are guarantees tunecraft makes (``generate`` repairs or retries when one fails):

==============  ===============================================================================
``tempo``       the tempo map is exactly ``spec.bpm`` from beat 0, with no tempo changes
``key``         the key signature at beat 0 is the requested key (later key changes are noted)
``meter``       every time signature is the requested meter
``instruments`` every explicitly requested instrument has a track with notes (its GM program;
                a drum track for a kit or percussion)
``excluded``    nothing excluded by the request plays (names, GM families, roles, vocals)
``drums``       no drum kit plays when drums are off; one plays when they are on and the style
                has a kit
``length``      the score is within one bar of the requested duration
``audio_length`` (with audio) the audio lasts at least the score and at most 3 s longer
``sections``    the score has at least one section
==============  ===============================================================================

Soft checks are measurements that inform but do not decide (``hard=False``):

* ``tempo_audio``: an independent librosa tempo estimate of the audio (no hint of the requested
  tempo), accepted within 4 % up to a factor of 2 or 1/2 (and 3/2, 2/3 in compound meters).
  Tempo trackers are unreliable on short or drumless music, hence soft.
* ``key_analysis``: a Krumhansl-Kessler key estimate of the pitched notes agrees with the
  requested key or its relative major/minor.
* ``sections_cover``: the sections follow each other without gaps and cover the whole score.

Speed: without the audio tempo check a report on a 30 s piece takes well under 50 ms (the
first call reads the style file; later ones take under a millisecond). librosa is imported only
inside :func:`tempo_estimate`. Its first use in a process costs about a second when numba's
compiled code is cached, and about 15 s when numba must compile it: point ``NUMBA_CACHE_DIR``
at a persistent folder (the Makefile uses ``.cache/numba``) so it compiles once. After that an
estimate on 30 s of 44.1 kHz audio takes about 0.1 s.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ..analysis import best_key, key_estimate, pitch_class_histogram, tempo_estimate
from ..audio import Audio
from ..errors import ParameterError
from ..score.types import EPS, KeySignature, Score, Track
from ..understand.exclusions import excluded_by
from ..understand.exclusions import is_kit as _is_kit

if TYPE_CHECKING:
    from ..understand.spec import InstrumentRequest, MusicSpec

log = logging.getLogger(__name__)

__all__ = [
    "AUDIO_TAIL_SECONDS",
    "TEMPO_TOLERANCE",
    "AdherenceReport",
    "Check",
    "adherence",
    "key_estimate",
    "tempo_estimate",
]

#: Relative tolerance of the audio tempo estimate (4 %).
TEMPO_TOLERANCE = 0.04
#: The most audio may run past the end of the score (release and reverb tail), in seconds.
AUDIO_TAIL_SECONDS = 3.0


_TIME_TOLERANCE_S = 1e-3  # seconds


# ----------------------------------------------------------------------------------------------
# Report types


@dataclass(frozen=True)
class Check:
    """One comparison between the request and the result.

    Attributes:
        name: a short id ("tempo", "key", "instruments"...).
        passed: whether the result fits the request.
        expected: what the request asked for (JSON-ready).
        measured: what the result has (JSON-ready; None when it could not be measured).
        hard: a guarantee (True) or an informative measurement (False).
        note: one plain sentence, mostly to say what is wrong.
    """

    name: str
    passed: bool
    expected: Any
    measured: Any
    hard: bool = True
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "passed": bool(self.passed),
                "expected": _jsonable(self.expected), "measured": _jsonable(self.measured),
                "hard": bool(self.hard), "note": self.note}


@dataclass(frozen=True)
class AdherenceReport:
    """The checks of :func:`adherence`, in a fixed order."""

    checks: tuple[Check, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "checks", tuple(self.checks))

    @property
    def passed(self) -> bool:
        """True when every hard check passed (soft checks never fail a report)."""
        return all(c.passed for c in self.checks if c.hard)

    @property
    def failures(self) -> tuple[Check, ...]:
        """The hard checks that failed."""
        return tuple(c for c in self.checks if c.hard and not c.passed)

    @property
    def warnings(self) -> tuple[Check, ...]:
        """The soft checks that failed."""
        return tuple(c for c in self.checks if not c.hard and not c.passed)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.checks)

    def get(self, name: str) -> Check | None:
        """The check called ``name``, or None when it was not run."""
        return next((c for c in self.checks if c.name == name), None)

    def __getitem__(self, name: str) -> Check:
        check = self.get(name)
        if check is None:
            raise KeyError(f"no check named {name!r} (checks: {', '.join(self.names)})")
        return check

    def summary(self) -> str:
        """One line per failed check, or "all guarantees hold"."""
        bad = [f"{c.name}: {c.note}" for c in self.failures]
        return "; ".join(bad) if bad else "all guarantees hold"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {"passed": self.passed, "failures": [c.name for c in self.failures],
                "warnings": [c.name for c in self.warnings],
                "checks": [c.to_dict() for c in self.checks]}


# ----------------------------------------------------------------------------------------------
# Public helpers


# ----------------------------------------------------------------------------------------------
# The report


def adherence(spec: MusicSpec, score: Score, audio: Audio | None = None, *,
              audio_tempo: bool = True) -> AdherenceReport:
    """Check ``score`` (and ``audio``, when given) against ``spec``; see the module docs.

    ``audio_tempo=False`` skips the librosa tempo estimate (the slow part: about a second for
    its first use in a process) while keeping the other audio checks.
    """
    from ..understand.spec import MusicSpec

    if not isinstance(spec, MusicSpec):
        raise ParameterError(f"adherence needs a MusicSpec, got {type(spec).__name__}")
    if not isinstance(score, Score):
        raise ParameterError(f"adherence needs a Score, got {type(score).__name__}")
    if audio is not None and not isinstance(audio, Audio):
        raise ParameterError(f"audio must be an Audio or None, got {type(audio).__name__}")
    checks = [_check_tempo(spec, score)]
    if audio is not None and audio_tempo:
        checks.append(_check_audio_tempo(spec, audio))
    checks += [
        _check_key(spec, score),
        _check_key_analysis(spec, score),
        _check_meter(spec, score),
        _check_instruments(spec, score),
        _check_excluded(spec, score),
        _check_drums(spec, score),
        _check_length(spec, score),
    ]
    if audio is not None:
        checks.append(_check_audio_length(score, audio))
    checks += _check_sections(score)
    return AdherenceReport(tuple(checks))


# -- tempo -------------------------------------------------------------------------------------


def _check_tempo(spec: MusicSpec, score: Score) -> Check:
    measured = [{"beat": t.beat, "bpm": round(t.bpm, 6)} for t in score.tempos]
    first = score.tempos[0]
    if abs(first.bpm - spec.bpm) > EPS * max(1.0, spec.bpm):
        note = f"the score plays at {first.bpm:g} bpm; the request asked for {spec.bpm:g} bpm"
        return Check("tempo", False, spec.bpm, measured, True, note)
    if len(score.tempos) > 1:
        changes = ", ".join(f"{t.bpm:g} bpm at beat {t.beat:g}" for t in score.tempos[1:])
        return Check("tempo", False, spec.bpm, measured, True,
                     f"the tempo changes ({changes}); the request asked for a steady "
                     f"{spec.bpm:g} bpm")
    return Check("tempo", True, spec.bpm, measured, True)


def _tempo_ratios(meter: tuple[int, int]) -> tuple[float, ...]:
    num, den = meter
    compound = den == 8 and num % 3 == 0 and num > 3
    return (1.0, 2.0, 0.5, 1.5, 2.0 / 3.0) if compound else (1.0, 2.0, 0.5)


def _check_audio_tempo(spec: MusicSpec, audio: Audio) -> Check:
    ratios = _tempo_ratios(spec.meter)
    expected = {"bpm": spec.bpm, "accepted_ratios": [round(r, 4) for r in ratios],
                "tolerance": TEMPO_TOLERANCE}
    try:
        bpm = tempo_estimate(audio)
    except Exception as exc:  # a soft measurement never breaks the report
        log.warning("audio tempo estimate failed", exc_info=True)
        return Check("tempo_audio", False, expected, None, False,
                     f"the tempo of the audio could not be measured ({type(exc).__name__}: "
                     f"{exc})")
    if not math.isfinite(bpm):
        return Check("tempo_audio", False, expected, None, False,
                     "the audio is too short or too quiet to measure its tempo")
    best = min(ratios, key=lambda r: abs(bpm / (spec.bpm * r) - 1.0))
    error = abs(bpm / (spec.bpm * best) - 1.0)
    measured = {"bpm": round(bpm, 2), "ratio": round(best, 4), "error": round(error, 4)}
    if error <= TEMPO_TOLERANCE:
        note = "" if best == 1.0 else (f"heard {bpm:.1f} bpm, {_ratio_words(best)} the "
                                       f"requested {spec.bpm:g} bpm")
        return Check("tempo_audio", True, expected, measured, False, note)
    return Check("tempo_audio", False, expected, measured, False,
                 f"the audio sounds like {bpm:.1f} bpm; the request asked for {spec.bpm:g} bpm "
                 "(a tempo tracker can be fooled by sparse or drumless music)")


def _ratio_words(ratio: float) -> str:
    return {2.0: "double", 0.5: "half", 1.5: "one and a half times"}.get(ratio, "two thirds of")


# -- key ---------------------------------------------------------------------------------------


def _check_key(spec: MusicSpec, score: Score) -> Check:
    want = KeySignature(0.0, spec.key_tonic, spec.mode)
    keys = [{"beat": k.beat, "key": k.name} for k in score.key_signatures]
    first = score.key_signatures[0]
    if (first.tonic, first.mode) != (want.tonic, want.mode):
        return Check("key", False, want.name, keys, True,
                     f"the score is written in {first.name}; the request asked for {want.name}")
    note = ""
    if len(score.key_signatures) > 1:
        note = "the key later moves to " + ", ".join(
            f"{k.name} at beat {k.beat:g}" for k in score.key_signatures[1:])
    return Check("key", True, want.name, keys, True, note)


def _relative(tonic: int, mode: str) -> tuple[int, str]:
    return ((tonic + 9) % 12, "minor") if mode == "major" else ((tonic + 3) % 12, "major")


def _check_key_analysis(spec: MusicSpec, score: Score) -> Check:
    want = KeySignature(0.0, spec.key_tonic, spec.mode)
    hist = pitch_class_histogram(n for t in score.tracks if not t.is_drum for n in t.notes)
    if hist.sum() <= 0:
        return Check("key_analysis", True, want.name, None, False,
                     "no pitched notes to analyse")
    tonic, mode, r = best_key(hist)
    found = KeySignature(0.0, tonic, mode)
    measured = {"key": found.name, "correlation": round(r, 3)}
    if (tonic, mode) == (want.tonic, want.mode):
        return Check("key_analysis", True, want.name, measured, False)
    if (tonic, mode) == _relative(want.tonic, want.mode):
        return Check("key_analysis", True, want.name, measured, False,
                     f"the notes lean towards the relative key, {found.name}")
    return Check("key_analysis", False, want.name, measured, False,
                 f"the notes sound more like {found.name} than {want.name}")


# -- meter -------------------------------------------------------------------------------------


def _check_meter(spec: MusicSpec, score: Score) -> Check:
    want = f"{spec.meter[0]}/{spec.meter[1]}"
    found = [str(t) for t in score.time_signatures]
    wrong = [f"{t} at beat {t.beat:g}" for t in score.time_signatures
             if (t.numerator, t.denominator) != tuple(spec.meter)]
    if wrong:
        return Check("meter", False, want, found, True,
                     f"the score has {', '.join(wrong)}; the request asked for {want} throughout")
    return Check("meter", True, want, found, True)


# -- instruments -------------------------------------------------------------------------------


def _describe(track: Track) -> str:
    return f"{track.name} ({track.instrument})"


def _serves(request: InstrumentRequest, track: Track) -> bool:
    if not track.notes:
        return False
    if request.is_drum:
        return _is_kit(track) if request.role == "drums" else track.is_drum
    return not track.is_drum and track.program == request.program


def _check_instruments(spec: MusicSpec, score: Score) -> Check:
    wanted = [i for i in spec.instruments if i.source == "explicit"]
    expected = [f"{i.name} ({'drum kit' if i.is_drum else f'program {i.program}'})"
                for i in wanted]
    measured = [_describe(t) for t in score.tracks if t.notes]
    missing = [i.name for i in wanted if not any(_serves(i, t) for t in score.tracks)]
    if missing:
        return Check("instruments", False, expected, measured, True,
                     f"requested but not playing: {', '.join(missing)}")
    return Check("instruments", True, expected, measured, True)


def _check_excluded(spec: MusicSpec, score: Score) -> Check:
    # "drums" is the drums check's business when the spec turned drums off, so one fault is
    # reported once.
    terms = [t for t in spec.excluded if not (t in ("drums", "drum") and not spec.drums)]
    offenders: list[str] = []
    # An instrument the request names outright wins over a vaguer exclusion ("synth voice ...
    # no vocals"): the tracks serving explicit requests are not counted here.
    asked = [r for r in spec.instruments if r.source == "explicit"]
    for term in terms:
        for t in score.tracks:
            if t.notes and excluded_by(term, t) and not any(_serves(r, t) for r in asked):
                offenders.append(f"{_describe(t)} plays although {term!r} was excluded")
    measured = sorted({_describe(t) for t in score.tracks if t.notes})
    if offenders:
        return Check("excluded", False, list(spec.excluded), measured, True,
                     "; ".join(offenders))
    return Check("excluded", True, list(spec.excluded), measured, True)


def _check_drums(spec: MusicSpec, score: Score) -> Check:
    kits = [t.name for t in score.tracks if _is_kit(t) and t.notes]
    if not spec.drums:
        if kits:
            return Check("drums", False, False, kits, True,
                         f"a drum kit plays ({', '.join(kits)}) although the request said "
                         "no drums")
        return Check("drums", True, False, kits, True)
    from ..styles import load_style

    has_kit = load_style(spec.style).has_kit
    if has_kit and not kits:
        return Check("drums", False, True, kits, True,
                     f"no drum kit plays, though drums are on and {spec.style} has a kit")
    note = "" if has_kit or kits else f"{spec.style} has no drum kit, so none is required"
    return Check("drums", True, True if has_kit else "optional", kits, True, note)


# -- length and form ---------------------------------------------------------------------------


def _check_length(spec: MusicSpec, score: Score) -> Check:
    bar_seconds = spec.meter[0] * 4 / spec.meter[1] * 60.0 / spec.bpm
    got = score.duration_seconds
    expected = {"seconds": spec.duration, "tolerance_seconds": round(bar_seconds, 4)}
    measured = round(got, 3)
    if abs(got - spec.duration) > bar_seconds + _TIME_TOLERANCE_S:
        longer = "longer" if got > spec.duration else "shorter"
        return Check("length", False, expected, measured, True,
                     f"the score lasts {got:.1f} s, more than a bar ({bar_seconds:.2f} s) "
                     f"{longer} than the requested {spec.duration:g} s")
    return Check("length", True, expected, measured, True)


def _check_audio_length(score: Score, audio: Audio) -> Check:
    want = score.duration_seconds
    got = audio.duration
    expected = {"min_seconds": round(want, 3), "max_seconds": round(want + AUDIO_TAIL_SECONDS, 3)}
    measured = round(got, 3)
    if got < want - _TIME_TOLERANCE_S:
        return Check("audio_length", False, expected, measured, True,
                     f"the audio stops at {got:.2f} s, before the score ends at {want:.2f} s")
    if got > want + AUDIO_TAIL_SECONDS + _TIME_TOLERANCE_S:
        return Check("audio_length", False, expected, measured, True,
                     f"the audio runs {got - want:.1f} s past the end of the score (at most "
                     f"{AUDIO_TAIL_SECONDS:g} s of tail expected)")
    return Check("audio_length", True, expected, measured, True)


def _check_sections(score: Score) -> list[Check]:
    names = [s.name for s in score.sections]
    present = Check("sections", bool(names), "at least one section", names, True,
                    "" if names else "the score has no sections (intro, verse, chorus...)")
    if not names:
        return [present, Check("sections_cover", False, "contiguous sections covering the score",
                               None, False, "no sections to check")]
    length = float(score.length or 0.0)
    eps = 1e-6
    gaps: list[str] = []
    if score.sections[0].start > eps:
        gaps.append(f"nothing before beat {score.sections[0].start:g}")
    for a, b in zip(score.sections, score.sections[1:], strict=False):
        if b.start > a.end + eps:
            gaps.append(f"a gap between {a.name!r} and {b.name!r} (beats {a.end:g}-{b.start:g})")
    if score.sections[-1].end < length - eps:
        gaps.append(f"the last section ends at beat {score.sections[-1].end:g}, before the "
                    f"score ends at beat {length:g}")
    spans = [[s.name, s.start, s.end] for s in score.sections]
    cover = Check("sections_cover", not gaps, {"start": 0.0, "end": length}, spans, False,
                  "; ".join(gaps))
    return [present, cover]


# ----------------------------------------------------------------------------------------------


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
