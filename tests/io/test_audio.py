"""Audio files: round trips per format, resampling, and every way a file can be bad."""

from __future__ import annotations

import logging
import os

import numpy as np
import pytest

from tunecraft.audio import Audio
from tunecraft.errors import InputFileError, OutputFileError, ParameterError
from tunecraft.io.audio import (
    AUDIO_READ_EXTS,
    AUDIO_WRITE_EXTS,
    read_audio,
    resample,
    write_audio,
)

SR = 44100


def tone(seconds: float = 1.0, freq: float = 440.0, sr: int = SR, amp: float = 0.5,
         channels: int = 2) -> Audio:
    t = np.arange(round(seconds * sr)) / sr
    left = amp * np.sin(2 * np.pi * freq * t)
    right = amp * np.sin(2 * np.pi * freq * 1.5 * t) * 0.8
    return Audio(np.stack([left, right][:channels]).astype(np.float32), sr)


def best_correlation(a: np.ndarray, b: np.ndarray, max_lag: int = 20) -> float:
    """Largest normalised correlation over lags of at most ``max_lag`` frames (codec delay).

    20 frames is well under half a period of 440 Hz, so a signal that is inverted or off by
    half a cycle does not pass.
    """
    n = min(len(a), len(b)) - 2 * max_lag
    x = a[max_lag:max_lag + n]
    best = -1.0
    for lag in range(2 * max_lag + 1):
        y = b[lag:lag + n]
        best = max(best, float(np.dot(x, y) / (np.linalg.norm(x) * np.linalg.norm(y) + 1e-12)))
    return best


def test_extension_constants():
    assert {".wav", ".flac", ".mp3", ".ogg"} <= set(AUDIO_WRITE_EXTS) <= set(AUDIO_READ_EXTS)
    assert ".oga" in AUDIO_READ_EXTS and ".aiff" in AUDIO_READ_EXTS


@pytest.mark.parametrize("ext", [".wav", ".flac"])
def test_lossless_round_trip_24_bit(tmp_path, ext):
    a = tone()
    path = write_audio(a, tmp_path / f"t{ext}")
    b = read_audio(path)
    assert b.sample_rate == SR and b.channels == 2 and b.frames == a.frames
    assert np.max(np.abs(b.samples - a.samples)) < 1e-4
    assert b.samples.dtype == np.float32


def test_wav_defaults_to_pcm_24_and_float_subtype_keeps_overs(tmp_path):
    import soundfile as sf

    path = write_audio(tone(0.1), tmp_path / "t.wav")
    assert sf.info(str(path)).subtype == "PCM_24"
    loud = Audio(np.array([[0.0, 1.5, -2.0, 0.25]], np.float32), SR)
    path = write_audio(loud, tmp_path / "f.wav", subtype="float")
    assert sf.info(str(path)).subtype == "FLOAT"
    np.testing.assert_array_equal(read_audio(path).samples, loud.samples)


def test_flac_pcm16(tmp_path):
    import soundfile as sf

    path = write_audio(tone(0.2), tmp_path / "t.flac", subtype="PCM_16")
    assert sf.info(str(path)).subtype == "PCM_16"
    assert np.max(np.abs(read_audio(path).samples - tone(0.2).samples)) < 1e-4


def test_integer_formats_clip_with_a_warning(tmp_path, caplog):
    loud = Audio(np.array([[0.0, 1.5, -2.0, 0.25] * 100], np.float32), SR)
    with caplog.at_level(logging.WARNING, logger="tunecraft.io.audio"):
        path = write_audio(loud, tmp_path / "loud.wav")
    assert any("clipped" in r.getMessage() and r.levelno == logging.WARNING
               for r in caplog.records)
    back = read_audio(path).samples
    assert back.max() <= 1.0 and back.min() >= -1.0
    assert back[0, 1] == pytest.approx(1.0, abs=1e-6) and back[0, 2] == pytest.approx(-1.0)
    assert back[0, 3] == pytest.approx(0.25, abs=1e-6)


@pytest.mark.parametrize("ext", [".mp3", ".ogg"])
def test_lossy_round_trip_tone(tmp_path, ext):
    a = tone(2.0, channels=1)
    path = write_audio(a, tmp_path / f"t{ext}")
    b = read_audio(path)
    assert b.sample_rate == SR
    assert abs(b.duration - a.duration) < 0.06          # within a few codec frames
    assert best_correlation(a.samples[0], b.samples[0]) > 0.9
    assert best_correlation(a.samples[0], -b.samples[0]) < 0.5      # the check can fail


def test_mp3_stereo_bitrate(tmp_path):
    a = tone(4.0)
    small = write_audio(a, tmp_path / "lo.mp3", bitrate_kbps=64)
    big = write_audio(a, tmp_path / "hi.mp3", bitrate_kbps=320)
    kbps = os.path.getsize(big) * 8 / 4.0 / 1000
    assert 280 < kbps < 360
    assert os.path.getsize(small) < os.path.getsize(big) / 3
    assert read_audio(big).channels == 2
    with pytest.raises(ParameterError, match="bitrate"):
        write_audio(a, tmp_path / "x.mp3", bitrate_kbps=500)


def test_mono_and_resample_on_read(tmp_path):
    path = write_audio(tone(1.0), tmp_path / "t.wav")
    b = read_audio(path, sample_rate=16000, mono=True)
    assert b.channels == 1 and b.sample_rate == 16000
    assert b.frames == 16000
    # 440 Hz survives: the spectrum peak (of the mix of 440 and 660 Hz) is at one of them.
    spec = np.abs(np.fft.rfft(b.samples[0]))
    peak_hz = np.argmax(spec) * 16000 / b.frames
    assert min(abs(peak_hz - 440), abs(peak_hz - 660)) < 2
    c = read_audio(path, sample_rate=SR)
    assert c.frames == SR


def test_resample_up_and_down_keeps_the_tone():
    a = tone(0.5, channels=1, sr=22050)
    up = resample(a, 48000)
    assert up.sample_rate == 48000 and up.frames == 24000
    spec = np.abs(np.fft.rfft(up.samples[0]))
    assert abs(np.argmax(spec) * 48000 / up.frames - 440) < 3
    assert resample(a, 22050) is a
    with pytest.raises(ParameterError):
        resample(a, 10)


def test_max_seconds(tmp_path):
    path = write_audio(tone(2.0), tmp_path / "t.flac")
    assert read_audio(path, max_seconds=2.5).duration == pytest.approx(2.0)
    with pytest.raises(InputFileError, match="limit") as info:
        read_audio(path, max_seconds=1.0)
    assert "\n" not in str(info.value)


def test_corrupt_file(tmp_path, rng):
    path = tmp_path / "noise.wav"
    path.write_bytes(rng.integers(0, 256, 4096, dtype=np.uint8).tobytes())
    with pytest.raises(InputFileError, match="not a readable WAV") as info:
        read_audio(path)
    assert "\n" not in str(info.value) and str(path) in str(info.value)


def test_wav_with_wrong_extension_content(tmp_path):
    path = tmp_path / "fake.mp3"
    path.write_text("this is a text file, not an mp3\n" * 20)
    with pytest.raises(InputFileError, match="MP3"):
        read_audio(path)


def test_empty_missing_unknown(tmp_path):
    empty = tmp_path / "empty.wav"
    empty.touch()
    with pytest.raises(InputFileError, match="empty"):
        read_audio(empty)
    with pytest.raises(InputFileError, match="no such file"):
        read_audio(tmp_path / "missing.flac")
    other = tmp_path / "song.xyz"
    other.write_bytes(b"abc")
    with pytest.raises(InputFileError, match="unknown file type"):
        read_audio(other)


def test_header_only_wav_holds_no_audio(tmp_path):
    path = write_audio(Audio(np.zeros((1, 0), np.float32), SR), tmp_path / "zero.wav")
    with pytest.raises(InputFileError, match="no audio"):
        read_audio(path)


def test_write_refuses_unknown_extension_before_work(tmp_path):
    with pytest.raises(OutputFileError, match="unknown file type"):
        write_audio(tone(0.1), tmp_path / "t.aac")
    with pytest.raises(OutputFileError, match="cannot hold"):
        write_audio(tone(0.1), tmp_path / "t.flac", subtype="VORBIS")
    with pytest.raises(OutputFileError, match="Hz"):
        write_audio(tone(0.1, sr=96000), tmp_path / "t.mp3")
    assert list(tmp_path.iterdir()) == []


def test_unwritable_folder(tmp_path):
    if os.geteuid() == 0:
        blocker = tmp_path / "a_file"
        blocker.write_text("x")
        target = blocker / "out.wav"            # a folder that is a regular file
    else:
        folder = tmp_path / "ro"
        folder.mkdir()
        folder.chmod(0o500)
        target = folder / "out.wav"
    try:
        with pytest.raises(OutputFileError) as info:
            write_audio(tone(0.1), target)
        assert "\n" not in str(info.value)
    finally:
        if os.geteuid() != 0:
            (tmp_path / "ro").chmod(0o700)


def test_nan_audio_is_refused(tmp_path):
    bad = Audio(np.array([[0.0, np.nan]], np.float32), SR)
    with pytest.raises(ParameterError, match="NaN"):
        write_audio(bad, tmp_path / "nan.wav")
    assert list(tmp_path.iterdir()) == []


def test_failed_write_leaves_no_partial_file(tmp_path, monkeypatch):
    import soundfile as sf

    real_write = sf.SoundFile.write

    def write_then_fail(self, data):
        real_write(self, data[:100])                       # something on disk...
        raise sf.SoundFileRuntimeError("disk full")       # ...then the failure

    monkeypatch.setattr(sf.SoundFile, "write", write_then_fail)
    target = tmp_path / "song.wav"
    target_existing = tmp_path / "old.wav"
    target_existing.write_bytes(b"previous take")
    with pytest.raises(OutputFileError, match="disk full"):
        write_audio(tone(0.5), target)
    with pytest.raises(OutputFileError):
        write_audio(tone(0.5), target_existing)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["old.wav"]
    assert target_existing.read_bytes() == b"previous take"


def test_aiff_and_oga_read(tmp_path):
    import soundfile as sf

    a = tone(0.3)
    sf.write(str(tmp_path / "t.aiff"), a.samples.T, SR, subtype="PCM_16")
    assert read_audio(tmp_path / "t.aiff").frames == a.frames
    sf.write(str(tmp_path / "t.oga"), a.samples.T, SR, format="OGG", subtype="VORBIS")
    assert read_audio(tmp_path / "t.oga").channels == 2
