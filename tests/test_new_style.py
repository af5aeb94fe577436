"""Adding a style is adding a file: a new TOML file is understood, composed and rendered."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import tunecraft.styles

DATA = Path(tunecraft.styles.__file__).parent / "data"

CHECK = """
from tunecraft.api import generate
from tunecraft.synth import RenderOptions
r = generate("a cheerful polka for a village dance", duration=12, seed=1,
             options=RenderOptions(backend="sine"))
assert r.spec.style == "polka", r.spec.style
assert r.report.passed, r.report.summary()
assert str(r.score.time_signature) == "2/4"
assert r.audio.peak > 0.05
print("ok", r.spec.style, r.spec.bpm)
"""


def test_a_new_style_file_is_understood_and_composed():
    march = (DATA / "march.toml").read_text(encoding="utf-8")
    polka = re.sub(r'^name = ".*"$', 'name = "Polka"', march, count=1, flags=re.M)
    polka = re.sub(r"^aliases = \[.*\]$", 'aliases = ["polka", "oom-pah", "polca"]', polka,
                   count=1, flags=re.M)
    path = DATA / "polka.toml"
    assert not path.exists()
    path.write_text(polka, encoding="utf-8")
    try:
        r = subprocess.run([sys.executable, "-c", CHECK], capture_output=True, text=True,
                           timeout=120, check=False)
    finally:
        path.unlink()
    assert r.returncode == 0, r.stderr[-2000:]
    assert r.stdout.startswith("ok polka")
