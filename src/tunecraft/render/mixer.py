"""The mixer: each track's dry signal becomes a stem (level, pan, chorus, its own reverb).

Every effect is per stem, so the stems add up exactly to the premaster. The reverb send depends
on the track's role: drums and bass stay drier, pads and strings sit further back.
"""

from __future__ import annotations

import math

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


def place(dry: np.ndarray, track: Track) -> np.ndarray:
    """Level and pan a dry ``[2, frames]`` signal.

    Panning keeps the source's own stereo image at centre and narrows it towards the sides
    (mid/side), so a hard-left track has nothing on the right and its power stays constant.
    """
    left, right = pan_gains(track.pan)
    g = volume_gain(track.volume) * math.sqrt(2.0)
    width = 1.0 - abs(left - right)
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


def process_track(dry: np.ndarray, track: Track, *, sample_rate: int, reverb: float,
                  chorus: float, fade_frames: int = 0) -> np.ndarray:
    """A track's stem: placed in the stereo field, with its chorus and its reverb send.

    The last ``fade_frames`` fade out (a half cosine) so a release cut off at the end never
    clicks.
    """
    x = place(dry.astype(np.float32, copy=False), track)
    mix = chorus_mix(track, chorus)
    send = reverb_send(track, reverb)
    if (mix > 0.0 or send > 0.0) and np.any(x):
        import pedalboard

        if mix > 0.0:
            x = pedalboard.Chorus(rate_hz=0.8, depth=0.2, centre_delay_ms=7.0, feedback=0.0,
                                  mix=mix)(x, sample_rate)
        if send > 0.0:
            room = pedalboard.Reverb(room_size=ROOM_SIZE, damping=DAMPING, wet_level=1.0,
                                     dry_level=0.0, width=1.0)
            wet = room(x, sample_rate)
            wet *= np.float32(send)
            wet += x
            x = wet
    x = np.ascontiguousarray(x, dtype=np.float32)
    if not x.flags.writeable:
        x = x.copy()
    fade = min(x.shape[1], fade_frames)
    if fade > 0:
        x[:, -fade:] *= (0.5 + 0.5 * np.cos(np.linspace(0.0, np.pi, fade))).astype(np.float32)
    return x
