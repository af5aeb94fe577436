"""Understanding requests: prompt (English, Spanish, Portuguese) -> :class:`MusicSpec`.

>>> from tunecraft.understand import parse, explain
>>> spec = parse("a sad waltz on the piano in D minor, 2 minutes")
>>> spec.style, spec.meter, spec.key_name, spec.duration
('waltz', (3, 4), 'D minor', 120.0)

The vocabulary lives in ``understand/data/*.toml`` (read once, on first use); the parsing rules
are documented in :mod:`tunecraft.understand.parse`.
"""

from __future__ import annotations

from .explain import explain
from .parse import parse, parse_key, parse_meter, tempo_class
from .spec import (
    BPM_RANGE,
    DURATION_RANGE,
    MAX_PROMPT_CHARS,
    ROLES,
    Evidence,
    InstrumentRequest,
    MusicSpec,
)

__all__ = [
    "BPM_RANGE", "DURATION_RANGE", "MAX_PROMPT_CHARS", "ROLES", "Evidence",
    "InstrumentRequest", "MusicSpec", "explain", "parse", "parse_key", "parse_meter",
    "tempo_class",
]  # fmt: skip
