"""The mixer: each track's dry signal becomes a stem (level, pan, chorus, its own reverb).

Every effect is per stem and linear, so the stems add up to the premaster (to float32 rounding),
which the renderer makes with one reverb on the bus of all the sends. The reverb send depends
on the track's role: drums and bass stay drier, pads and strings sit further back.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from ..score import Track

REVERB_BY_ROLE = {
    "drums": 0.45, "percussion": 0.5, "bass": 0.2, "pad": 1.6, "strings": 1.6, "vocal": 1.2,
    "fx": 1.5, "lead": 1.0, "melody": 1.0,
}  # fmt: skip
"""Multiplier of the reverb send per role (1.0 for roles not listed)."""

CHORUS_BY_ROLE = {
    "drums": 0.0, "percussion": 0.0, "bass": 0.0, "pad": 1.0, "strings": 1.0, "fx": 1.0,
    "chords": 0.8, "harmony": 0.8, "arp": 0.6, "counter": 0.6, "lead": 0.4, "melody": 0.4,
    "vocal": 0.3,
}  # fmt: skip
"""Multiplier of the chorus mix per role (0.6 for roles not listed)."""

ROOM_SIZE = 0.6
DAMPING = 0.45
FADE_S = 0.3  # longest fade at the very end of the tail


def volume_gain(volume: int) -> float:
    """Linear gain of a MIDI volume (CC7) value: (volume / 127) squared (127 is unity)."""
    return (volume / 127.0) ** 2


def pan_gains(pan: int) -> tuple[float, float]:
    """Constant-power (-3 dB at centre) left/right gains for MIDI pan 0 (left)-64-127 (right)."""
    position = (pan - 64) / (64.0 if pan <= 64 else 63.0)  # -1 .. 1, 64 exactly centre
    angle = (position + 1.0) * math.pi / 4.0
    return math.cos(angle), math.sin(angle)


def reverb_send(track: Track, amount: float) -> float:
    return amount * REVERB_BY_ROLE.get(track.role, 1.0)


def chorus_mix(track: Track, amount: float) -> float:
    if track.is_drum:
        return 0.0
    return min(1.0, amount * CHORUS_BY_ROLE.get(track.role, 0.6))


def place(dry: np.ndarray, track: Track, out: np.ndarray | None = None, *,
          trim: float = 1.0) -> np.ndarray:
    """Level and pan a dry ``[2, frames]`` signal (into ``out`` when given); ``trim`` is the
    instrument's level trim (:mod:`tunecraft.synth.levels`), before its volume.

    Panning keeps the source's own stereo image at centre and narrows it towards the sides
    (mid/side), so a hard-left track has nothing on the right and its power stays constant.
    """
    left, right = pan_gains(track.pan)
    g = volume_gain(track.volume) * math.sqrt(2.0) * trim
    width = 1.0 - abs(left - right)
    if out is None:
        out = np.empty_like(dry, dtype=np.float32)
    if width > 1.0 - 1e-9:  # centre: the source as it is
        np.multiply(dry[0], np.float32(g * left), out=out[0])
        np.multiply(dry[1], np.float32(g * right), out=out[1])
        return out
    mid = (dry[0] + dry[1]) * np.float32(0.5)
    side = (dry[0] - dry[1]) * np.float32(0.5 * width)
    np.multiply(mid + side, np.float32(g * left), out=out[0])
    np.multiply(mid - side, np.float32(g * right), out=out[1])
    return out


TUNE_HEADROOM_LU = 3.0  # every accompanying part at least this far under the tune...
# ... and sustained parts further: their reverb sends are the largest and add about 2 LU.
_HEADROOM_BY_ROLE = {"pad": 5.0, "strings": 5.0}
_UNLEVELLED = ("drums", "percussion")
MELODIC_ROLES = ("lead", "vocal", "melody")


def tune_index(tracks: Sequence[Track]) -> int | None:
    """The track that carries the tune (the first lead, vocal or melody with notes)."""
    return next((i for i, t in enumerate(tracks)
                 if t.role in MELODIC_ROLES and t.notes and not t.is_drum), None)


_LOUDNESS_BLOCK = 1 << 14  # samples per gating block of part_loudness (0.37 s at 44.1 kHz)


def part_loudness(x: np.ndarray, sample_rate: int) -> float:
    """The loudness (LUFS) of a placed ``[2, frames]`` part, cheaply, for comparing parts with
    each other: its mid signal in blocks of :data:`_LOUDNESS_BLOCK` samples, each block's
    K-weighted power from one FFT (Parseval: the power spectrum times the K-weighting's), then
    BS.1770's absolute (-70 LUFS) and relative (-10 LU) gates. A twentieth of the work of
    filtering the whole part (the K-weighting does not carry across block edges, which
    moves a part's figure by a few tenths of a LU)."""
    from .mastering import _gated, _k_spectrum

    n = _LOUDNESS_BLOCK
    mid = (x[0] + x[1]) * np.float32(0.5)
    blocks = mid.shape[-1] // n
    if blocks == 0:
        return -math.inf
    spectra = np.fft.rfft(mid[: blocks * n].reshape(blocks, n).astype(np.float64), axis=1)
    weight = np.abs(_k_spectrum(sample_rate, n)) ** 2
    weight[1:-1] *= 2.0  # the negative frequencies
    return _gated((np.abs(spectra) ** 2 * weight).sum(axis=1) / (n * n))


def tune_gains(tracks: Sequence[Track], loudness: Sequence[float]) -> list[float]:
    """The gain that keeps each part that accompanies a tune :data:`TUNE_HEADROOM_LU` under it
    (five for pads and strings, whose reverb sends are the largest), from the parts'
    loudness (:func:`part_loudness`). A chord part of four voices, a pad that never rests or
    a bass voiced hot would otherwise bury the melody (a jazz trio's bass stem came out 2 LU
    above the piano's tune). The accompaniment is only ever turned down; the tune, drums and
    percussion keep their level; without a tune every gain is 1."""
    gains = [1.0] * len(tracks)
    tune = tune_index(tracks)
    if tune is None or not math.isfinite(loudness[tune]):
        return gains
    for i, t in enumerate(tracks):
        if i == tune or t.is_drum or t.role in _UNLEVELLED or not math.isfinite(loudness[i]):
            continue
        limit = loudness[tune] - _HEADROOM_BY_ROLE.get(t.role, TUNE_HEADROOM_LU)
        if loudness[i] > limit:
            gains[i] = 10.0 ** ((limit - loudness[i]) / 20.0)
    return gains


def needs_loudness(track: Track) -> bool:
    """Whether :func:`tune_gains` looks at this part's loudness."""
    return bool(track.notes) and not track.is_drum and track.role not in _UNLEVELLED


def fade_curve(frames: int) -> np.ndarray:
    """The half-cosine fade-out applied to the last ``frames`` frames of every stem."""
    return (0.5 + 0.5 * np.cos(np.linspace(0.0, np.pi, frames))).astype(np.float32)


def first_sound(x: np.ndarray) -> int:
    """The first frame of ``[channels, frames]`` that is not silent (``frames`` if none)."""
    step = 1 << 16
    for a in range(0, x.shape[1], step):
        hit = np.flatnonzero(np.any(x[:, a:a + step], axis=0))
        if hit.size:
            return a + int(hit[0])
    return x.shape[1]


def reverb_wet(x: np.ndarray, sample_rate: int) -> tuple[int, np.ndarray | None]:
    """The reverb's wet signal for ``x``: ``(start, wet)``, where ``wet`` covers the frames from
    ``start`` on (the reverb of leading silence is silence); ``(frames, None)`` for silence.

    The reverb is linear: the reverb of a sum of signals is the sum of their reverbs (to float
    rounding), which lets the renderer run one reverb on a bus of every track's send.
    """
    start = first_sound(x)
    if start >= x.shape[1]:
        return start, None
    import pedalboard

    room = pedalboard.Reverb(room_size=ROOM_SIZE, damping=DAMPING, wet_level=1.0, dry_level=0.0,
                             width=1.0)
    return start, room(np.ascontiguousarray(x[:, start:]), sample_rate)


def apply_chorus(x: np.ndarray, track: Track, *, sample_rate: int, chorus: float) -> np.ndarray:
    """``x`` with the track's chorus (``x`` itself when it has none)."""
    mix = chorus_mix(track, chorus)
    if mix <= 0.0 or not np.any(x):
        return x
    import pedalboard

    return pedalboard.Chorus(rate_hz=0.8, depth=0.2, centre_delay_ms=7.0, feedback=0.0,
                             mix=mix)(x, sample_rate)


def add_reverb(x: np.ndarray, track: Track, *, sample_rate: int, reverb: float) -> None:
    """Add the track's own reverb send to ``x`` (float32 ``[2, frames]``), in place."""
    send = reverb_send(track, reverb)
    if send <= 0.0:
        return
    start, wet = reverb_wet(x, sample_rate)
    if wet is not None:
        wet *= np.float32(send)
        x[:, start:] += wet


def process_track(dry: np.ndarray, track: Track, *, sample_rate: int, reverb: float,
                  chorus: float, fade_frames: int = 0) -> np.ndarray:
    """A track's stem: placed in the stereo field, with its chorus and its reverb send.

    The last ``fade_frames`` fade out (a half cosine) so a release cut off at the end never
    clicks.
    """
    x = place(dry.astype(np.float32, copy=False), track)
    x = apply_chorus(x, track, sample_rate=sample_rate, chorus=chorus)
    x = np.ascontiguousarray(x, dtype=np.float32)
    if not x.flags.writeable:
        x = x.copy()
    add_reverb(x, track, sample_rate=sample_rate, reverb=reverb)
    fade = min(x.shape[1], fade_frames)
    if fade > 0:
        x[:, -fade:] *= fade_curve(fade)
    return x


DC_CUTOFF_HZ = 10.0  # the DC blocker's corner: far below any note, above the drift of a patch
_DC_BLOCK = 4096  # samples per block of the blocked recursion in :func:`dc_block`
_DC_STRETCH = 64 * _DC_BLOCK  # samples computed at a time (6 s at 44.1 kHz)


def dc_block(x: np.ndarray, sample_rate: int, *, cutoff: float = DC_CUTOFF_HZ) -> np.ndarray:
    """Remove a signal's DC offset: the classic one-pole DC blocker, y[n] = x[n] - x[n-1] +
    R y[n-1] with R = 1 - 2 pi cutoff / rate, run exactly in numpy (float64).

    Some General MIDI pad patches carry a DC offset (FluidR3's warm pad left +0.17 of full
    scale in an ambient mix, 85 % of its energy below 20 Hz), which loudness normalisation
    then amplifies and the limiter spends its headroom on. The recursion is computed block by
    block: inside a block as a scaled cumulative sum, the state carried from block to block;
    a stretch of :data:`_DC_STRETCH` samples at a time, so the float64 temporaries stay small
    however long the piece. ``x`` is ``[channels, frames]``; a new array of its dtype comes
    back.
    """
    frames = x.shape[-1]
    out = np.empty(x.shape, x.dtype)
    if frames == 0:
        return out
    r = 1.0 - 2.0 * math.pi * cutoff / sample_rate
    j = np.arange(_DC_BLOCK, dtype=np.float64)
    up, down = r ** -j, r ** j
    carry = r ** (j + 1)  # how the state entering a block lives on inside it
    decay = r ** _DC_BLOCK
    lead = x.shape[:-1]
    prev_x = np.zeros(lead)  # x[n-1] before the stretch
    state = np.zeros(lead)  # y[n-1] before the stretch
    for s in range(0, frames, _DC_STRETCH):
        seg = np.asarray(x[..., s:s + _DC_STRETCH], dtype=np.float64)
        n = seg.shape[-1]
        blocks = -(-n // _DC_BLOCK)
        v = np.zeros((*lead, blocks * _DC_BLOCK))  # x[n] - x[n-1] (np.diff's prepend is slow)
        v[..., 0] = seg[..., 0] - prev_x
        np.subtract(seg[..., 1:], seg[..., :-1], out=v[..., 1:n])
        prev_x = seg[..., -1]
        w = v.reshape(*lead, blocks, _DC_BLOCK)
        w = np.cumsum(w * up, axis=-1) * down  # each block from a zero state
        # The state entering each block (the output just before it): the block before's own
        # last value plus what the state before that left of itself after a block.
        last = w[..., -1]
        states = np.empty(last.shape)
        states[..., 0] = state
        for k in range(1, blocks):
            states[..., k] = last[..., k - 1] + decay * states[..., k - 1]
        w += states[..., None] * carry
        y = w.reshape(*lead, -1)[..., :n]
        state = y[..., -1].copy()
        out[..., s:s + n] = y
    return out
