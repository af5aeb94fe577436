"""What every music-making verb of :mod:`tunecraft.api` returns: one :class:`Take`.

A Take is a :class:`~tunecraft.compose.Composition` (the score and how it was made, as data),
the reports that check it against the request, and, when rendered, the mastered audio, the
stems and the synthesizer that played them. ``take.save("song.wav")`` writes the bundle
(audio, MIDI, MusicXML, JSON; stems on request) through :func:`tunecraft.io.bundle.write_bundle`.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .errors import ParameterError

if TYPE_CHECKING:
    from .audio import Audio
    from .compose.composition import Composition
    from .io.bundle import Bundle
    from .score import Score

__all__ = ["Take"]


@dataclass(frozen=True)
class Take:
    """A composition, its self-check and its rendering.

    Attributes:
        composition: what was composed (:class:`~tunecraft.compose.Composition`).
        reports: one adherence report per check of the composition (a story has one per
            segment; a continuation or an arrangement, whose tempo, key and meter come from
            the music given, has none).
        audio: the mastered mix, or None when not rendered.
        stems: one signal per track when asked for.
        backend: the synthesizer and SoundFont that played the notes ("fluidsynth
            (MuseScore_General_Full.sf2)").
        attempts: how many times the music was composed to keep the request's guarantees.
    """

    composition: Composition
    reports: tuple[Any, ...] = ()
    audio: Audio | None = None
    stems: Mapping[str, Audio] = field(default_factory=dict)
    backend: str | None = None
    attempts: int = 1

    @property
    def score(self) -> Score:
        return self.composition.score

    @property
    def spec(self) -> Any:
        return self.composition.spec

    @property
    def seed(self) -> int:
        """The seed to give again for the same files (the request's; a retry composes with
        the next ones)."""
        return int(self.composition.request.get("seed", self.composition.seed))

    @property
    def meta(self) -> Mapping[str, Any]:
        return self.composition.meta

    @property
    def scores(self) -> Mapping[str, Score]:
        return self.composition.scores

    @property
    def report(self) -> Any:
        """The report of the whole piece (the first check), or None when there is none."""
        return self.reports[0] if self.reports else None

    def sidecar(self) -> dict[str, Any]:
        """The bundle's JSON keys besides the score: request, decisions, reports."""
        return self.composition.sidecar(self.reports)

    def save(self, path: str | os.PathLike[str], *, stems: bool = False,
             overwrite: bool = False, inputs: Iterable[str | os.PathLike[str]] = ()) -> Bundle:
        """Write PATH.wav (or .flac/.mp3/.ogg), PATH.mid, PATH.musicxml and PATH.json, and with
        ``stems`` one WAV per track in PATH-stems/, all or nothing.

        An existing bundle is replaced only with ``overwrite``; never one of ``inputs``."""
        from .io.bundle import write_bundle

        what = self.composition.kind
        if self.audio is None:
            raise ParameterError(f"this {what} was not rendered; call it with render=True")
        if stems and not self.stems:
            raise ParameterError(f"this {what} was rendered without stems; call it with "
                                 f"stems=True")
        return write_bundle(self.score, path, audio=self.audio,
                            stems=dict(self.stems) if stems else {}, backend=self.backend,
                            extra=self.sidecar(), overwrite=overwrite, inputs=inputs)
