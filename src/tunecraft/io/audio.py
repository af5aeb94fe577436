"""Audio files: read and write WAV, FLAC, MP3, OGG Vorbis (and read AIFF) through soundfile.

soundfile (libsndfile >= 1.1 inside its wheel) does every format here, MP3 included, so there is
one code path. soundfile and scipy are imported inside the functions.

Writing defaults, chosen for the places the files go next:

* ``.wav``: 24-bit PCM (``PCM_24``), which every DAW and player opens; pass ``subtype="FLOAT"``
  for 32-bit float, which keeps values above full scale.
* ``.flac``: 24-bit (``PCM_24``); ``subtype="PCM_16"`` for CD resolution.
* ``.mp3``: MPEG Layer III at a constant bitrate (``bitrate_kbps``, 192 by default).
* ``.ogg``: Vorbis at quality 6 (about 190 kbit/s for stereo music).

**Clipping.** Integer and lossy formats cannot hold values outside [-1, 1]: such samples are
clipped to full scale and a WARNING names the peak, so nothing is clipped silently. A float WAV
is written as it is.
"""

from __future__ import annotations

import logging
import math
import os
from pathlib import Path

import numpy as np

from ..audio import Audio
from ..errors import InputFileError, OutputFileError, ParameterError
from .files import atomic_output, check_input, check_output, native_stderr_to_log

log = logging.getLogger(__name__)

AUDIO_READ_EXTS: tuple[str, ...] = (".wav", ".flac", ".mp3", ".ogg", ".oga", ".aiff", ".aif")
AUDIO_WRITE_EXTS: tuple[str, ...] = (".wav", ".flac", ".mp3", ".ogg")

# extension -> (libsndfile format, default subtype)
_WRITE_FORMATS: dict[str, tuple[str, str]] = {
    ".wav": ("WAV", "PCM_24"),
    ".flac": ("FLAC", "PCM_24"),
    ".mp3": ("MP3", "MPEG_LAYER_III"),
    ".ogg": ("OGG", "VORBIS"),
}
_SFC_SET_ADD_PEAK_CHUNK = 0x1050  # libsndfile's sndfile.h
_FLOAT_SUBTYPES = frozenset({"FLOAT", "DOUBLE"})
_MP3_RATES = frozenset({8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000})
_VORBIS_COMPRESSION = 0.4  # libsndfile: Vorbis quality = 1 - compression level -> q6
_KIND = {".wav": "WAV", ".flac": "FLAC", ".mp3": "MP3", ".ogg": "OGG", ".oga": "OGG",
         ".aiff": "AIFF", ".aif": "AIFF"}


def _reason(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return (text[-1] if text else type(exc).__name__)[:160]


def read_audio(path: str | os.PathLike[str], *, sample_rate: int | None = None,
               mono: bool = False, max_seconds: float | None = None) -> Audio:
    """Read an audio file into :class:`~tunecraft.audio.Audio` (float32, ``[channels, frames]``).

    Args:
        path: a ``.wav``, ``.flac``, ``.mp3``, ``.ogg``/``.oga`` or ``.aiff``/``.aif`` file.
        sample_rate: resample to this rate (polyphase filtering) unless the file already has it.
        mono: average the channels into one.
        max_seconds: refuse files longer than this, before decoding them.

    Raises:
        InputFileError: missing, empty, corrupt, of an unknown kind, or longer than
            ``max_seconds``.
        ParameterError: ``sample_rate`` or ``max_seconds`` is out of range.
    """
    if sample_rate is not None and (not isinstance(sample_rate, int)
                                    or not 1000 <= sample_rate <= 384000):
        raise ParameterError(f"sample rate {sample_rate!r} is outside 1000-384000 Hz")
    if max_seconds is not None and not (max_seconds > 0 and math.isfinite(max_seconds)):
        raise ParameterError(f"max_seconds {max_seconds!r} must be a positive number")
    p = check_input(path, kinds=AUDIO_READ_EXTS)
    kind = _KIND[p.suffix.lower()]

    import soundfile as sf

    try:
        with native_stderr_to_log(log, "libsndfile"), sf.SoundFile(p) as f:
            sr = int(f.samplerate)
            channels = int(f.channels)
            known = f.frames if 0 < f.frames < 2**62 else None
            limit = None if max_seconds is None else math.ceil(max_seconds * sr)
            if limit is not None and known is not None and known > limit:
                raise InputFileError(p, f"the audio lasts {known / sr:.1f} s; the limit is "
                                        f"{max_seconds:g} s")
            # Read at most one frame past the limit, so an unknown length cannot exhaust memory.
            data = f.read(frames=-1 if limit is None else limit + 1, dtype="float32",
                          always_2d=True)
    except InputFileError:
        raise
    except (sf.LibsndfileError, sf.SoundFileError, RuntimeError, ValueError, TypeError,
            OSError, EOFError) as exc:
        raise InputFileError(p, f"not a readable {kind} audio file ({_reason(exc)})") from None
    if limit is not None and data.shape[0] > limit:
        raise InputFileError(p, f"the audio lasts more than {max_seconds:g} s, the limit")
    if data.shape[0] == 0 or channels == 0:
        raise InputFileError(p, "the file holds no audio")
    if not np.isfinite(data).all():
        raise InputFileError(p, "the file holds invalid samples (NaN or infinity)")
    samples = np.ascontiguousarray(data.T)
    if mono and samples.shape[0] > 1:
        samples = samples.mean(axis=0, keepdims=True)
    if sample_rate is not None and sample_rate != sr:
        samples = _resample(samples, sr, sample_rate)
        sr = sample_rate
    log.debug("read %s: %d ch, %d Hz, %.2f s", p, samples.shape[0], sr, samples.shape[1] / sr)
    return Audio(samples.astype(np.float32, copy=False), sr)


def _resample(samples: np.ndarray, src: int, dst: int) -> np.ndarray:
    """Band-limited polyphase resampling along the frame axis."""
    from scipy.signal import resample_poly

    g = math.gcd(src, dst)
    out = resample_poly(samples.astype(np.float64), dst // g, src // g, axis=1)
    return out.astype(np.float32)


def resample(audio: Audio, sample_rate: int) -> Audio:
    """``audio`` at another sample rate (polyphase filtering; a no-op at the same rate)."""
    if not isinstance(sample_rate, int) or not 1000 <= sample_rate <= 384000:
        raise ParameterError(f"sample rate {sample_rate!r} is outside 1000-384000 Hz")
    if sample_rate == audio.sample_rate:
        return audio
    return Audio(_resample(audio.samples, audio.sample_rate, sample_rate), sample_rate)


def write_audio(audio: Audio, path: str | os.PathLike[str], *, subtype: str | None = None,
                bitrate_kbps: int = 192) -> Path:
    """Write ``audio`` to ``path`` (``.wav``, ``.flac``, ``.mp3`` or ``.ogg``) and return it.

    The format follows the extension; ``subtype`` overrides the default encoding (for example
    ``"FLOAT"`` or ``"PCM_16"`` for WAV, ``"PCM_16"`` for FLAC; see the module docstring).
    ``bitrate_kbps`` (32-320) sets the MP3 bitrate. Samples outside [-1, 1] are clipped, with
    a warning, in every format but float WAV. The file appears atomically: a failed write
    leaves nothing behind.

    Raises:
        OutputFileError: unknown extension, unwritable folder, an encoding the format does
            not have, or a sample rate / channel count the format cannot hold.
        ParameterError: the audio holds NaN or infinite samples, or the bitrate is out of range.
    """
    p = check_output(path, kinds=AUDIO_WRITE_EXTS)
    fmt, default_subtype = _WRITE_FORMATS[p.suffix.lower()]
    sub = (subtype or default_subtype).upper()

    import soundfile as sf

    if not sf.check_format(fmt, sub):
        allowed = ", ".join(sorted(sf.available_subtypes(fmt)))
        raise OutputFileError(p, f"{fmt} files cannot hold {sub!r} audio (try one of: "
                                 f"{allowed})")
    if fmt == "MP3":
        if audio.channels > 2:
            raise OutputFileError(p, f"MP3 holds 1 or 2 channels, not {audio.channels}")
        if audio.sample_rate not in _MP3_RATES:
            raise OutputFileError(p, f"MP3 cannot hold {audio.sample_rate} Hz audio (it takes "
                                     "8000-48000 Hz; resample first)")
        if not 32 <= bitrate_kbps <= 320:
            raise ParameterError(f"MP3 bitrate {bitrate_kbps!r} kbit/s is outside 32-320")
    if fmt == "FLAC" and audio.channels > 8:
        raise OutputFileError(p, f"FLAC holds up to 8 channels, not {audio.channels}")
    if audio.frames and not np.isfinite(audio.samples).all():
        raise ParameterError("the audio holds NaN or infinite samples; it cannot be written")

    data = audio.samples.T  # soundfile wants [frames, channels]
    if sub not in _FLOAT_SUBTYPES and audio.peak > 1.0:
        log.warning("%s: the audio peaks at %.2f (%+.1f dBFS); samples above full scale are "
                    "clipped in %s %s", p, audio.peak, 20 * math.log10(audio.peak), fmt, sub)
        data = np.clip(data, -1.0, 1.0)
    extra: dict[str, object] = {}
    if fmt == "MP3":
        extra = {"bitrate_mode": "CONSTANT",
                 "compression_level": (320 - bitrate_kbps) / (320 - 32)}
    elif fmt == "OGG" and sub == "VORBIS":
        extra = {"compression_level": _VORBIS_COMPRESSION}
    with atomic_output(p) as tmp:
        try:
            with sf.SoundFile(tmp, "w", audio.sample_rate, audio.channels, subtype=sub,
                              format=fmt, **extra) as f:
                if sub in _FLOAT_SUBTYPES:
                    # libsndfile's PEAK chunk carries the time of writing: without it the same
                    # audio always makes the same file.
                    sf._snd.sf_command(f._file, _SFC_SET_ADD_PEAK_CHUNK, sf._ffi.NULL, 0)
                f.write(np.ascontiguousarray(data))
        except (sf.LibsndfileError, sf.SoundFileError, RuntimeError, OSError) as exc:
            raise OutputFileError(p, f"could not be written as {fmt} ({_reason(exc)})") from None
    log.info("wrote %s (%s %s, %d ch, %d Hz, %.2f s)", p, fmt, sub, audio.channels,
             audio.sample_rate, audio.duration)
    return p
