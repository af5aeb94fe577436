"""Argument checks that several verbs share, with one rule each."""

from __future__ import annotations

import secrets

from .errors import ParameterError


def check_seed(seed: object) -> int:
    """A seed is a whole number 0 or more; booleans are not seeds."""
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ParameterError(f"seed {seed!r} must be a whole number 0 or more")
    return seed


def resolve_seed(seed: object | None) -> int:
    """The seed to use: the one given (checked), or a fresh random one to record."""
    return secrets.randbelow(2**31) if seed is None else check_seed(seed)
