"""The studio under load: a real `tunecraft serve` on loopback, driven over HTTP.

Prints the latency from submit to done of a 30 s piece (p50 and p95) with 1 and with 4
concurrent clients, the jobs finished per minute, and the memory (RSS) of the server with its
workers, idle and at its peak under load (read from /proc).

    .venv/bin/python benchmarks/studio.py [--workers 2] [--jobs 6] [--seconds 30]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path


def _rss_mib(pid: int) -> float:
    """RSS of a process and all its descendants, in MiB."""
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        try:
            with open(f"/proc/{p}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
            with open(f"/proc/{p}/task/{p}/children") as f:
                todo += [int(c) for c in f.read().split()]
        except OSError:
            continue
    return total / 1024


def _call(base: str, path: str, body: dict | None = None) -> dict:
    req = urllib.request.Request(base + path, method="POST" if body is not None else "GET",
                                 data=json.dumps(body).encode() if body is not None else None,
                                 headers={"content-type": "application/json"})
    with urllib.request.urlopen(req, timeout=60) as r:
        return json.loads(r.read())


def _one(base: str, seed: int, seconds: float) -> float:
    t0 = time.perf_counter()
    job = _call(base, "/api/jobs", {"kind": "generate", "seed": seed, "duration": seconds,
                                    "prompt": "upbeat pop song with piano, bass and drums"})
    while True:
        status = _call(base, f"/api/jobs/{job['id']}")["status"]
        if status in ("done", "failed", "cancelled"):
            if status != "done":
                raise RuntimeError(f"job {job['id']} {status}")
            return time.perf_counter() - t0
        time.sleep(0.1)


def _clients(base: str, n: int, per: int, seconds: float, seed0: int) -> tuple[list[float],
                                                                             float]:
    latencies: list[float] = []
    lock = threading.Lock()

    def client(k: int) -> None:
        for i in range(per):
            t = _one(base, seed0 + k * 100 + i, seconds)
            with lock:
                latencies.append(t)

    t0 = time.perf_counter()
    threads = [threading.Thread(target=client, args=(k,)) for k in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return latencies, time.perf_counter() - t0


def _pct(values: list[float], q: float) -> float:
    v = sorted(values)
    return v[min(len(v) - 1, round(q * (len(v) - 1)))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--jobs", type=int, default=6, help="jobs per client")
    ap.add_argument("--seconds", type=float, default=30.0)
    args = ap.parse_args()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    data = tempfile.mkdtemp(prefix="tunecraft-studio-")
    exe = str(Path(sys.executable).parent / "tunecraft")
    server = subprocess.Popen([exe, "serve", "--port", str(port), "--data", data,
                               "--workers", str(args.workers)],
                              env={**os.environ, "GRADIO_ANALYTICS_ENABLED": "False"},
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                _call(base, "/api/health")
                break
            except OSError:
                time.sleep(0.2)
        _one(base, 0, 5)  # each worker's first job imports the composer and the renderer
        _one(base, 1, 5)
        time.sleep(1)
        idle = _rss_mib(server.pid)
        peak = [idle]
        stop = threading.Event()

        def sample() -> None:
            while not stop.wait(0.2):
                peak.append(_rss_mib(server.pid))

        watcher = threading.Thread(target=sample)
        watcher.start()
        one, _ = _clients(base, 1, args.jobs, args.seconds, 1000)
        four, wall = _clients(base, 4, args.jobs, args.seconds, 2000)
        stop.set()
        watcher.join()
        print(f"server: {args.workers} workers, {args.seconds:g} s pieces "
              f"(generate, prompt -> WAV, MP3, MIDI, MusicXML, JSON, piano roll)")
        print(f"1 client:  p50 {statistics.median(one):.2f} s   p95 {_pct(one, 0.95):.2f} s   "
              f"({len(one)} jobs)")
        print(f"4 clients: p50 {statistics.median(four):.2f} s   p95 {_pct(four, 0.95):.2f} s   "
              f"({len(four)} jobs)")
        print(f"jobs per minute (4 clients): {len(four) / wall * 60:.1f}")
        print(f"memory (server and workers, RSS): idle {idle:.0f} MiB, peak {max(peak):.0f} MiB")
    finally:
        server.terminate()
        server.wait(30)


if __name__ == "__main__":
    main()
