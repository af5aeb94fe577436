"""Listening: English speech to text with word times, offline (pocketsphinx).

The audio goes to 16 kHz mono; pocketsphinx's voice activity detector cuts it into
utterances at the silences; each is decoded with the English acoustic and language models
shipped in the ``pocketsphinx`` wheel, then aligned against its own words (forced alignment)
for each word's start and end. Spanish and Portuguese are refused plainly: no offline
recogniser for them ships on PyPI with its model.
"""

from __future__ import annotations

import io
import logging
import math
import re
from dataclasses import dataclass

import numpy as np

from ..audio import Audio
from ..errors import ParameterError, RenderError
from .engines import LANGUAGE_NAMES

log = logging.getLogger(__name__)

SAMPLE_RATE = 16000
FRAME_S = 0.01  # pocketsphinx's frame
MAX_SECONDS = 2 * 3600.0
MIN_LEVEL_DBFS = -60.0  # quieter than this everywhere: silence
_FILLER = re.compile(r"^(<s>|</s>|<sil>|\[.*\]|\+\+.*\+\+)$", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Word:
    text: str
    start: float
    end: float


@dataclass(frozen=True, slots=True)
class Utterance:
    start: float
    end: float
    words: tuple[Word, ...]

    @property
    def text(self) -> str:
        return " ".join(w.text for w in self.words)


@dataclass(frozen=True, slots=True)
class Transcript:
    """What was heard: utterances (cut at silences) of words with times in seconds."""

    utterances: tuple[Utterance, ...]
    seconds: float
    lang: str = "en"

    @property
    def text(self) -> str:
        return " ".join(u.text for u in self.utterances if u.words)

    @property
    def words(self) -> tuple[Word, ...]:
        return tuple(w for u in self.utterances for w in u.words)

    def to_dict(self) -> dict:
        return {"text": self.text, "lang": self.lang, "seconds": round(self.seconds, 3),
                "utterances": [{"start": u.start, "end": u.end, "text": u.text,
                                "words": [{"word": w.text, "start": w.start, "end": w.end}
                                          for w in u.words]} for u in self.utterances]}

    def to_srt(self) -> str:
        """SubRip subtitles: one cue per utterance, long ones split at 12 words."""
        cues: list[tuple[float, float, str]] = []
        for u in self.utterances:
            words = list(u.words)
            for i in range(0, len(words), 12):
                chunk = words[i:i + 12]
                cues.append((chunk[0].start, chunk[-1].end, " ".join(w.text for w in chunk)))
        return "\n".join(f"{n}\n{_srt_time(a)} --> {_srt_time(b)}\n{text}\n"
                         for n, (a, b, text) in enumerate(cues, 1))


def _srt_time(t: float) -> str:
    ms = round(t * 1000)
    h, ms = divmod(ms, 3_600_000)
    m, ms = divmod(ms, 60_000)
    s, ms = divmod(ms, 1000)
    return f"{h:02d}:{m:02d}:{s:02d},{ms:03d}"


def check_language(lang: str) -> None:
    if lang not in LANGUAGE_NAMES:
        raise ParameterError(f"language {lang!r} is not one tunecraft knows "
                             f"({', '.join(LANGUAGE_NAMES)})")
    if lang != "en":
        raise ParameterError(f"no offline recogniser for {LANGUAGE_NAMES[lang]} is installed: "
                             "tunecraft listens to English only (pocketsphinx; no Spanish or "
                             "Portuguese recogniser ships its model on PyPI)")


def _decoders():
    try:
        from pocketsphinx import Decoder, Segmenter
    except ImportError:
        raise RenderError("listening needs pocketsphinx (`pip install tunecraft[voice]`)") \
            from None
    quiet = {"samprate": SAMPLE_RATE, "loglevel": "FATAL"}
    return Decoder(**quiet), Decoder(**quiet), Segmenter(sample_rate=SAMPLE_RATE)


def _word(name: str) -> str | None:
    if _FILLER.match(name):
        return None
    return re.sub(r"\(\d+\)$", "", name)


def listen(audio: Audio, *, lang: str = "en", align: bool = True) -> Transcript:
    """Recognise the English speech in ``audio``. ``align`` times each word by forced
    alignment against the words heard (a second pass); without it the decoder's own times."""
    check_language(lang)
    if audio.duration > MAX_SECONDS:
        raise ParameterError(f"the audio lasts {audio.duration / 60:.0f} min; tunecraft "
                             f"listens to at most {MAX_SECONDS / 60:.0f} min at once")
    from ..io.audio import resample

    x = resample(Audio(audio.mono()[np.newaxis, :], audio.sample_rate), SAMPLE_RATE).samples[0]
    peak = float(np.max(np.abs(x))) if x.size else 0.0
    if peak <= 10 ** (MIN_LEVEL_DBFS / 20):
        raise ParameterError("no speech was heard: the audio is silent")
    x = x * np.float32(0.9 / peak)  # the recogniser hears every recording at one level
    pcm = (np.clip(x, -1, 1) * 32767).astype("<i2").tobytes()
    decoder, aligner, segmenter = _decoders()
    utterances: list[Utterance] = []
    for piece in segmenter.segment(io.BytesIO(pcm)):
        decoder.start_utt()
        decoder.process_raw(piece.pcm, full_utt=True)
        decoder.end_utt()
        hyp = decoder.hyp()
        heard = [w for s in decoder.seg() if (w := _word(s.word))]
        if hyp is None or not heard:
            continue
        segs = decoder.seg()
        if align:
            aligner.set_align_text(" ".join(heard))
            aligner.start_utt()
            aligner.process_raw(piece.pcm, full_utt=True)
            aligner.end_utt()
            if aligner.hyp() is not None:
                segs = aligner.seg()
        t0 = float(piece.start_time)
        words = tuple(Word(w, round(t0 + s.start_frame * FRAME_S, 3),
                           round(t0 + (s.end_frame + 1) * FRAME_S, 3))
                      for s in segs if (w := _word(s.word)))
        if words:
            utterances.append(Utterance(round(t0, 3), round(float(piece.end_time), 3), words))
    if not utterances or not _speechlike(utterances, audio.duration):
        raise ParameterError("no speech was heard in the audio (silence, noise or music)")
    return Transcript(tuple(utterances), audio.duration, lang)


def _speechlike(utterances: list[Utterance], seconds: float) -> bool:
    """Noise decodes as a few long 'words': real speech has about 2-4 words a second."""
    words = sum(len(u.words) for u in utterances)
    spoken = sum(u.end - u.start for u in utterances)
    return words >= 1 and (words / max(spoken, 1e-3) >= 0.8 or words >= math.ceil(seconds))
