"""Tempo of audio, measured independently of how it was made (librosa's onset envelope)."""

from __future__ import annotations

import math

import numpy as np

from ..audio import Audio
from ..errors import ParameterError


def tempo_estimate(audio: Audio, *, prior: float | None = None) -> float:
    """Estimate the tempo of ``audio`` in bpm with librosa (onset envelope of the mono mix).

    ``prior`` centres librosa's tempo prior (a log-normal one octave wide); None uses librosa's
    neutral default of 120 bpm, so nothing about the expected answer leaks into the estimate.
    Returns ``nan`` when the audio is too short or silent to tell. librosa is imported here,
    on first use (set ``NUMBA_CACHE_DIR`` to a persistent folder to keep its compiled code).
    """
    if not isinstance(audio, Audio):
        raise ParameterError(f"tempo_estimate needs an Audio, got {type(audio).__name__}")
    if prior is not None and not (math.isfinite(prior) and 20.0 <= prior <= 400.0):
        raise ParameterError(f"tempo prior {prior!r} bpm must be between 20 and 400")
    y = np.ascontiguousarray(audio.mono(), dtype=np.float32)
    sr = audio.sample_rate
    if y.size < 4 * sr or not np.any(np.abs(y) > 1e-6):
        return math.nan
    import librosa

    # A 256-sample hop at 22.05 kHz (11.6 ms), scaled to the audio's rate without resampling:
    # librosa's usual 512 quantises the beat period so coarsely that 120 bpm reads as 117.5.
    hop = max(32, round(256 * sr / 22050))
    n_fft = 2 ** max(8, round(math.log2(2048 * sr / 22050)))  # 2048 at 22.05 kHz
    envelope = librosa.onset.onset_strength(y=y, sr=sr, hop_length=hop, n_fft=n_fft)
    if not np.any(envelope > 0):
        return math.nan
    tempo = librosa.feature.tempo(onset_envelope=envelope, sr=sr, hop_length=hop,
                                  start_bpm=120.0 if prior is None else float(prior))
    value = float(np.asarray(tempo).ravel()[0])
    return value if value > 0 else math.nan
