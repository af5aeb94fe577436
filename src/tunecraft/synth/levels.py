"""Per-program level trims: every General MIDI instrument of a SoundFont at one loudness.

SoundFonts voice their instruments at very different levels (in FluidR3 an acoustic bass plays
a phrase several LU louder than a flute playing the same one), so a track's MIDI volume would
mean a different loudness for every instrument, and a style's balance (the tune on top, the
bass under it) would come out differently for every band. ``data/program_levels.json`` holds,
per SoundFont file name, the integrated loudness (LUFS) of each program playing one reference
phrase dry (``benchmarks/program_levels.py`` measures and writes it); a track is trimmed by
the difference between its program and the font's median, at most :data:`MAX_TRIM_DB` either
way. A SoundFont not in the file is played as it is.
"""

from __future__ import annotations

import functools
import json
import statistics
from importlib import resources

MAX_TRIM_DB = 9.0
DRUMS = "drums"  # the key of the drum kit in the table
# Other files of the same instruments: MuseScore General's SF3 holds the lossless SF2's
# samples in Ogg.
_SAME = {"MuseScore_General_Full.sf3": "MuseScore_General_Full.sf2",
         "MuseScore_General.sf3": "MuseScore_General_Full.sf2",
         "MuseScore_General.sf2": "MuseScore_General_Full.sf2"}


@functools.cache
def _table() -> dict[str, dict[str, float]]:
    text = resources.files("tunecraft.synth").joinpath("data", "program_levels.json").read_text(
        "utf-8")
    return {font: {k: float(v) for k, v in levels.items()}
            for font, levels in json.loads(text)["fonts"].items()}


@functools.cache
def _reference(font: str) -> float:
    levels = _table()[font]
    return statistics.median(v for k, v in levels.items() if k != DRUMS)


def trim_db(font: str | None, program: int, *, is_drum: bool = False) -> float:
    """The gain in dB that brings ``program`` (or the drum kit) of SoundFont file ``font`` to
    the font's median loudness; 0 for a font or program the table does not know."""
    font = _SAME.get(font or "", font)
    if not font or font not in _table():
        return 0.0
    level = _table()[font].get(DRUMS if is_drum else str(program))
    if level is None:
        return 0.0
    return max(-MAX_TRIM_DB, min(MAX_TRIM_DB, _reference(font) - level))


def trim_gain(font: str | None, program: int, *, is_drum: bool = False) -> float:
    """:func:`trim_db` as a linear gain."""
    return 10.0 ** (trim_db(font, program, is_drum=is_drum) / 20.0)
