"""Musical measurements that more than one stage uses: the key of some notes, the tempo of
some audio. Below transcribe, compose, corpus, models and evaluate; above score and audio only.
"""

from __future__ import annotations

from .key import best_key, key_estimate, key_of_notes, pitch_class_histogram
from .tempo import tempo_estimate

__all__ = ["best_key", "key_estimate", "key_of_notes", "pitch_class_histogram",
           "tempo_estimate"]
