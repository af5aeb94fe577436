"""What a composing verb returns: one frozen :class:`Composition`, data only.

Every verb of ``compose`` (:func:`~tunecraft.compose.compose` for text, ``arrange``,
``continue_score``, ``story``) returns a Composition: the score, the request as understood,
the seed, and what the composer decided as plain JSON data (the keys of the bundle's JSON).
It holds no audio and writes no files: :mod:`tunecraft.api` checks it against the request,
renders it and wraps all of it in one :class:`~tunecraft.take.Take`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..score import Score
    from ..understand import MusicSpec

__all__ = ["Check", "Composition", "sections_json"]


@dataclass(frozen=True)
class Check:
    """One request to hold the music to: ``score`` (the whole piece or one story segment) must
    keep ``spec``. ``slot`` is where the report goes in the bundle's JSON (a path of keys and
    list indexes)."""

    spec: MusicSpec
    score: Score
    slot: tuple[str | int, ...] = ("adherence",)


@dataclass(frozen=True)
class Composition:
    """What a composing verb made.

    Attributes:
        kind: what was made: "piece" (from words), "story", "arrangement" or "continuation".
        score: the music that is rendered and saved.
        spec: the request as understood (for a story, its first segment's; a continuation
            with no style of its own may have none).
        seed: the seed the music was composed with.
        request: what was asked, as JSON (the bundle's ``request`` key).
        meta: what the composer decided, as JSON: the other keys of the bundle's JSON.
        checks: the requests to check the music against (see :class:`Check`).
        scores: other views of the music by name (a continuation's ``new`` part alone, its
            ``full`` piece and its ``source``).
        reverb: the reverb the style asks for (0-1), or None for the default mix.
    """

    kind: str
    score: Score
    spec: MusicSpec | None
    seed: int
    request: Mapping[str, Any] = field(default_factory=dict)
    meta: Mapping[str, Any] = field(default_factory=dict)
    checks: tuple[Check, ...] = ()
    scores: Mapping[str, Score] = field(default_factory=dict)
    reverb: float | None = None

    def sidecar(self, reports: tuple[Any, ...] = ()) -> dict[str, Any]:
        """The bundle's JSON keys: the request, what was decided and one report per check."""
        import copy

        data: dict[str, Any] = {"request": copy.deepcopy(dict(self.request)),
                                **copy.deepcopy(dict(self.meta))}
        for check, report in zip(self.checks, reports, strict=False):
            *path, last = check.slot
            node: Any = data
            for key in path:
                node = node[key]
            node[last] = report.to_dict()
        return data


def sections_json(score: Score, *, bars: bool = True, end: bool = False) -> list[dict[str, Any]]:
    """The score's sections as the bundle lists them: name, start (beats, seconds), bars."""
    out = []
    for s in score.sections:
        item: dict[str, Any] = {"name": s.name, "start_beat": s.start}
        if bars:
            item["bars"] = round(s.length / score.time_signature_at(s.start).bar_beats, 3)
        item["start_seconds"] = round(score.seconds_at(s.start), 4)
        if end:
            item["end_seconds"] = round(score.seconds_at(s.end), 4)
        out.append(item)
    return out
