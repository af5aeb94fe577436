"""Voices (issue 11): speaking text and SSML, listening, converting a voice and singing.

* :mod:`.ssml` reads SSML (and plain text) into segments a voice speaks; :mod:`.numbers`
  reads numbers as words in English, Spanish and Portuguese.
* :mod:`.engines`: the voices. A piper voice model (English, ``joe``) run on ONNX Runtime with
  phonemes from the espeak-ng program, and espeak-ng's own voices (es, pt-br, en...).
* :mod:`.speak`: segments to a levelled recording (-16 LUFS).
* :mod:`.listen`: English speech to words with times (pocketsphinx).
* :mod:`.world`: WORLD analysis and synthesis (pyworld); :mod:`.convert` moves a voice's
  pitch and formants; :mod:`.sing` sings lyrics on a melody.

The engines load on first use; ``import tunecraft.speech`` is pure Python.
"""

from __future__ import annotations

from .numbers import number_words, ordinal_words
from .ssml import Segment, SSMLError, parse_ssml

__all__ = ["SSMLError", "Segment", "number_words", "ordinal_words", "parse_ssml"]
