"""Bounds on what a model config may ask for, checked before anything is allocated."""

from __future__ import annotations

from ..errors import ParameterError

#: The largest network tunecraft builds: 200 million weights (800 MB in float32). A config
#: asking for more (``d_model`` 200000 would need hundreds of GB) is refused, not attempted.
MAX_PARAMETERS = 200_000_000


def check_model_size(kind: str, parameters: int) -> None:
    if parameters > MAX_PARAMETERS:
        raise ParameterError(f"this {kind} config needs about {parameters / 1e6:,.0f} million "
                             f"weights; the limit is {MAX_PARAMETERS / 1e6:,.0f} million")
