"""Voices (issue 11): speaking text and SSML, and, to come, listening, converting a voice and
singing lyrics over a song.

So far: :mod:`.ssml` reads SSML (and plain text) into segments a voice can speak, each with
its language, voice, rate, pitch, volume and the pause after it, and :mod:`.numbers` reads
numbers as words in English, Spanish and Portuguese. Both are pure Python; the engines that
turn segments into sound (piper for English, espeak-ng for Spanish and Portuguese) come next.
"""

from __future__ import annotations

from .numbers import number_words, ordinal_words
from .ssml import Segment, SSMLError, parse_ssml

__all__ = ["SSMLError", "Segment", "number_words", "ordinal_words", "parse_ssml"]
