"""Same request + same seed = identical files: 22 requests across the verbs, hashed, and
5 voice requests where the voices are installed.

Runs the CLI as a user types it (generate, story, arrange, continue, render, sound, denoise;
speak, sing, convert-voice, generate --sing) and prints one SHA-256 per written file. Run it
twice, or before and after a change, and compare:

    .venv/bin/python benchmarks/determinism.py --out /tmp/det-a --json /tmp/a.json
    .venv/bin/python benchmarks/determinism.py --out /tmp/det-b --inputs /tmp/det-a/inputs \
        --json /tmp/b.json --compare /tmp/a.json

``--inputs`` reuses the example inputs of an earlier run (they are made by ``tunecraft demo
--examples``, whose pop song itself is generated), so a change in the composer does not change
what arrange and continue are given. The JSON sidecars are hashed without the version field
and with the run's folder name replaced.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

GENERATE = [
    ("pop", ["upbeat pop song with piano, bass and drums", "--duration", "12"]),
    ("jazz", ["jazz trio, swing, 140 bpm", "--duration", "12"]),
    ("waltz", ["a gentle waltz in 3/4 with strings", "--duration", "12"]),
    ("lofi", ["laid-back lofi hip hop with rhodes, 85 bpm", "--duration", "12"]),
    ("bossa", ["bossa nova con flauta", "--duration", "12"]),
    ("rock", ["hard rock with distorted guitars in E minor", "--duration", "12"]),
    ("quartet", ["a string quartet, slow and sad", "--duration", "12"]),
    ("edm", ["energetic edm drop at 128 bpm", "--duration", "12"]),
    ("lyrics", ["folk ballad with acoustic guitar", "--duration", "12", "--lyrics",
                "{inputs}/lyrics.txt"]),
    ("stems", ["funk with slap bass and horns", "--duration", "10", "--stems"]),
]
OTHER = [
    ("story", ["story", "0:00 calm piano", "0:06 energetic rock", "--duration", "12"]),
    ("story-file", ["story", "--file", "{inputs}/story.txt", "--duration", "50"]),
    ("arrange-mid", ["arrange", "{inputs}/tune.mid", "string quartet"]),
    ("arrange-hum", ["arrange", "{inputs}/hum.wav", "jazz with saxophone"]),
    ("arrange-dur", ["arrange", "{inputs}/tune.mid", "bossa nova", "--duration", "20"]),
    ("continue", ["continue", "{inputs}/song.mid", "--duration", "8"]),
    ("continue-prompt", ["continue", "{inputs}/song.mid", "--duration", "8", "--prompt",
                         "faster, with strings"]),
    ("continue-new", ["continue", "{inputs}/tune.mid", "--duration", "8", "--only-new"]),
    ("continue-audio", ["continue", "{inputs}/take.wav", "--duration", "6"]),
    ("render", ["render", "{inputs}/song.mid"]),
    ("sound", ["sound", "rain and thunder", "--duration", "6", "--loop"]),
    ("denoise", ["denoise", "{inputs}/take.wav"]),
]
VOICE = [
    ("speak-en", ["speak", "Welcome to the studio. The session starts at 10:30."]),
    ("speak-ssml-es", ["speak", "<speak>Hola <break time='300ms'/> <prosody pitch='+2st' "
                                "rate='slow'>mundo, 2 horas</prosody></speak>", "--lang", "es"]),
    ("sing", ["sing", "{inputs}/lyrics.txt", "--melody", "{inputs}/song.mid"]),
    ("convert-voice", ["convert-voice", "{inputs}/hum.wav", "--pitch", "-3", "--formant",
                       "0.9"]),
    ("generate-sing", ["pop ballad with piano", "--duration", "12", "--lyrics",
                       "{inputs}/lyrics.txt", "--sing"]),
]
_NO_SEED = ("render", "speak", "sing", "convert-voice", "denoise")


def digest(path: Path, root: Path) -> str:
    data = path.read_bytes()
    if path.suffix == ".json":  # without the version and the run's own folder
        doc = json.loads(data.decode().replace(str(root), "<out>"))
        doc.pop("tunecraft", None)
        data = json.dumps(doc, sort_keys=True).encode()
    return hashlib.sha256(data).hexdigest()[:16]


def run(exe: str, name: str, args: list[str], out: Path, inputs: Path) -> dict[str, str]:
    target = out / name / f"{name}.wav"
    argv = [a.format(inputs=inputs) for a in args]
    if argv[0] in ("story", "arrange", "continue", "sound", *_NO_SEED):
        cmd = [exe, *argv]
    else:
        cmd = [exe, "generate", *argv]
    cmd += ["-q", "-o", str(target)] if cmd[1] in _NO_SEED else ["--seed", "7", "-q", "-o",
                                                                  str(target)]
    subprocess.run(cmd, check=True)
    return {str(p.relative_to(out / name)): digest(p, out)
            for p in sorted((out / name).rglob("*")) if p.is_file()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--inputs", type=Path, help="example inputs of an earlier run")
    ap.add_argument("--json", type=Path, help="write the hashes here")
    ap.add_argument("--compare", type=Path, help="hashes of an earlier run")
    args = ap.parse_args()
    exe = str(Path(sys.executable).parent / "tunecraft")
    if args.out.exists():
        shutil.rmtree(args.out)
    args.out.mkdir(parents=True)
    inputs = args.out / "inputs"
    if args.inputs:
        shutil.copytree(args.inputs, inputs)
    else:
        subprocess.run([exe, "demo", "-q", "-o", str(args.out / "demo.wav"), "--examples",
                        str(inputs)], check=True, env={**os.environ})
    hashes: dict[str, dict[str, str]] = {}
    voices = shutil.which("espeak-ng") is not None
    for name, argv in GENERATE + OTHER + (VOICE if voices else []):
        t0 = time.perf_counter()
        hashes[name] = run(exe, name, argv, args.out, inputs)
        print(f"{name:16s} {len(hashes[name])} files  {time.perf_counter() - t0:5.1f} s  "
              + " ".join(f"{k}:{v[:8]}" for k, v in hashes[name].items() if "/" not in k))
    if args.json:
        args.json.write_text(json.dumps(hashes, indent=1, sort_keys=True))
    if args.compare:
        before = json.loads(args.compare.read_text())
        same = [n for n in hashes if hashes[n] == before.get(n)]
        print(f"\nidentical: {len(same)} of {len(hashes)} requests")
        for n in hashes:
            if hashes[n] != before.get(n):
                diff = sorted(k for k in set(hashes[n]) | set(before.get(n, {}))
                              if hashes[n].get(k) != before.get(n, {}).get(k))
                print(f"  differs: {n}: {', '.join(diff)}")


if __name__ == "__main__":
    main()
