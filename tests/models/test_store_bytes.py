"""The shipped model rebuilds byte for byte: safetensors headers are written canonically."""

from __future__ import annotations

import json
import struct

from tunecraft.models import DEFAULT_MODEL_DIR
from tunecraft.models.store import _canonical_header


def test_header_is_canonical_and_idempotent(tmp_path):
    path = DEFAULT_MODEL_DIR / "model.safetensors"
    raw = path.read_bytes()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    assert raw[8:8 + n].rstrip() == json.dumps(header, sort_keys=True,
                                               separators=(",", ":")).encode()
    copy = tmp_path / "m.safetensors"
    copy.write_bytes(raw)
    _canonical_header(copy)
    assert copy.read_bytes() == raw
