"""Basic Pitch (ICASSP 2022) on ONNX Runtime: audio at 22.05 kHz -> raw note events.

The model ships inside the basic-pitch wheel (``nmp.onnx``); nothing is downloaded and
TensorFlow is never imported. The windowing and the time alignment follow
``basic_pitch.inference.run_inference`` exactly (2 s windows overlapping by 30 frames), but the
audio comes from an array, so in-memory audio needs no temporary file, and the windows go to the
model in batches. One ONNX session is kept per process. Note decoding is basic-pitch's own
(``basic_pitch.note_creation``).
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Iterator
from typing import Any

import numpy as np

from .postprocess import RawNote

log = logging.getLogger(__name__)

SAMPLE_RATE = 22050
FFT_HOP = 256
WINDOW = SAMPLE_RATE * 2 - FFT_HOP  # 43844 samples, the model's input length
OVERLAP_FRAMES = 30
OVERLAP = OVERLAP_FRAMES * FFT_HOP
HOP = WINDOW - OVERLAP
FPS = SAMPLE_RATE // FFT_HOP  # 86 frames per second, as basic-pitch counts them
MIDI_OFFSET = 21
BATCH = 8

_lock = threading.Lock()
_session: Any = None


@contextlib.contextmanager
def _quiet_root_logger() -> Iterator[None]:
    """basic_pitch's ``__init__`` logs WARNINGs on the root logger about optional backends
    (coremltools, tflite, TensorFlow) it probes at import. Hide them: they are not ours."""
    root = logging.getLogger()

    def drop(record: logging.LogRecord) -> bool:
        return record.name != "root"

    root.addFilter(drop)
    try:
        yield
    finally:
        root.removeFilter(drop)


def import_basic_pitch() -> tuple[Any, Any]:
    """``(basic_pitch, basic_pitch.note_creation)``, imported quietly."""
    with _quiet_root_logger():
        import basic_pitch
        from basic_pitch import note_creation
    return basic_pitch, note_creation


def session() -> Any:
    """The process-wide ONNX Runtime session of Basic Pitch's model (made on first use)."""
    global _session
    with _lock:
        if _session is None:
            import onnxruntime as ort

            bp, _ = import_basic_pitch()
            path = str(bp.ICASSP_2022_MODEL_PATH)
            if not path.endswith(".onnx"):
                path = str(bp.ICASSP_2022_MODEL_PATH.parent / "nmp.onnx")
            opts = ort.SessionOptions()
            opts.log_severity_level = 3
            _session = ort.InferenceSession(path, sess_options=opts,
                                            providers=["CPUExecutionProvider"])
            log.debug("loaded Basic Pitch ONNX model from %s", path)
        return _session


def infer(y: np.ndarray) -> dict[str, np.ndarray]:
    """Model activations of mono 22.05 kHz audio: ``note`` and ``onset`` ``[frames, 88]``,
    ``contour`` ``[frames, 264]``, at 86 frames per second (basic-pitch's time grid)."""
    y = np.ascontiguousarray(y, dtype=np.float32)
    n = y.shape[0]
    padded = np.concatenate([np.zeros(OVERLAP // 2, np.float32), y])
    starts = range(0, padded.shape[0], HOP)
    windows = np.zeros((len(starts), WINDOW, 1), np.float32)
    for i, s in enumerate(starts):
        chunk = padded[s:s + WINDOW]
        windows[i, :chunk.shape[0], 0] = chunk
    sess = session()
    names = ["StatefulPartitionedCall:1", "StatefulPartitionedCall:2",
             "StatefulPartitionedCall:0"]  # note, onset, contour
    parts: dict[str, list[np.ndarray]] = {"note": [], "onset": [], "contour": []}
    for b in range(0, windows.shape[0], BATCH):
        outs = sess.run(names, {"serving_default_input_2:0": windows[b:b + BATCH]})
        for key, out in zip(("note", "onset", "contour"), outs, strict=True):
            parts[key].append(out)
    keep = int(np.floor(n * (FPS / SAMPLE_RATE)))
    half = OVERLAP_FRAMES // 2
    result = {}
    for key, chunks in parts.items():
        out = np.concatenate(chunks)[:, half:-half, :]
        result[key] = out.reshape(-1, out.shape[2])[:keep]
    return result


def decode(output: dict[str, np.ndarray], *, onset_threshold: float, frame_threshold: float,
           min_frames: int, min_pitch: int, max_pitch: int,
           pitch_bends: bool) -> list[RawNote]:
    """Basic Pitch's polyphonic note decoding of model activations (its defaults: inferred
    onsets and the melodia trick on)."""
    _, nc = import_basic_pitch()
    frames = output["note"].copy()
    onsets = output["onset"].copy()
    lo, hi = min_pitch - MIDI_OFFSET, max_pitch - MIDI_OFFSET + 1
    frames[:, :lo] = 0
    frames[:, hi:] = 0
    onsets[:, :lo] = 0
    onsets[:, hi:] = 0
    events = nc.output_to_notes_polyphonic(
        frames, onsets, onset_thresh=onset_threshold, frame_thresh=frame_threshold,
        min_note_len=min_frames, infer_onsets=True, max_freq=None, min_freq=None,
        melodia_trick=True)
    if pitch_bends and events:
        events = nc.get_pitch_bends(output["contour"], events)
    else:
        events = [(*e, None) for e in events]
    times = nc.model_frames_to_time(output["contour"].shape[0])
    raw_onsets = output["onset"]
    n = raw_onsets.shape[0]
    notes = []
    for s, e, pitch, amp, bends in events:
        col = int(pitch) - MIDI_OFFSET
        peak = float(raw_onsets[max(s - 2, 0):min(s + 3, n), col].max())
        notes.append(RawNote(float(times[s]), float(times[min(e, n - 1)]), int(pitch),
                             float(amp), peak,
                             None if bends is None else tuple(int(b) for b in bends)))
    notes.sort(key=lambda r: (r.start, r.pitch, r.end))
    return notes
