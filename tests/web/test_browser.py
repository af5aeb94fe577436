"""The studio in a real browser: Debian's chromium driven by Playwright against a running
`tunecraft serve` on loopback. Type a prompt, generate, wait for the player, download the MIDI
and read it; and no request ever leaves this computer.

Skips, saying why, where chromium or Python's playwright is not installed (the Makefile
installs both when it can; `playwright install`, which downloads browsers, is never run).
"""

from __future__ import annotations

import io
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

import pytest

CHROMIUM = "/usr/bin/chromium"
EXE = shutil.which("tunecraft", path=str(Path(sys.executable).parent)) or "tunecraft"

pytestmark = [
    pytest.mark.skipif(not Path(CHROMIUM).exists(),
                       reason="no chromium at /usr/bin/chromium (apt install chromium)"),
    pytest.mark.skipif(__import__("importlib").util.find_spec("playwright") is None,
                       reason="Python's playwright is not installed (pip install playwright)"),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    data = tmp_path_factory.mktemp("studio")
    port = _free_port()
    env = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False", "PYTHONWARNINGS": "ignore"}
    proc = subprocess.Popen([EXE, "serve", "--port", str(port), "--data", str(data),
                             "--workers", "1"], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    t0 = time.time()
    while True:
        try:
            with urllib.request.urlopen(f"{base}/api/health", timeout=2) as r:
                if r.status == 200:
                    break
        except OSError:
            pass
        if proc.poll() is not None or time.time() - t0 > 90:
            proc.kill()
            raise AssertionError(f"the server did not start: {proc.stdout.read()}")
        time.sleep(0.3)
    yield base
    proc.terminate()
    try:
        proc.wait(20)
    except subprocess.TimeoutExpired:
        proc.kill()


def _launch(playwright):
    """Debian's chromium, headless, with nothing that would call another host."""
    return playwright.chromium.launch(
        executable_path=CHROMIUM, headless=True,
        args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
              "--disable-background-networking", "--disable-component-update",
              "--disable-sync"])


def test_type_generate_play_and_download_the_midi(server, tmp_path):
    from playwright.sync_api import sync_playwright

    outside: list[str] = []
    with sync_playwright() as p:
        browser = _launch(p)
        page = browser.new_page(accept_downloads=True, viewport={"width": 1400,
                                                                  "height": 1000})

        def watch(request):
            host = urlparse(request.url).hostname
            if request.url.startswith(("data:", "blob:")) or host in ("127.0.0.1",
                                                                       "localhost"):
                return
            outside.append(request.url)

        page.on("request", watch)
        page.goto(server + "/", wait_until="load", timeout=90_000)
        page.locator("#generate").wait_for(timeout=90_000)
        page.locator("#prompt textarea").fill("calm celtic tune with tin whistle, 100 bpm")
        page.locator("#duration input").fill("8")
        page.locator("#seed textarea, #seed input").first.fill("4")
        page.locator("#generate").click()
        link = page.locator("#downloads a[download$='.mid']").first
        link.wait_for(timeout=120_000)
        page.locator("#player audio").first.wait_for(state="attached", timeout=30_000)
        assert "100 bpm" in page.locator("#info").inner_text()
        with page.expect_download() as info:
            link.click()
        data = Path(info.value.path()).read_bytes()
        shot = os.environ.get("TUNECRAFT_SCREENSHOT") or str(tmp_path / "studio.png")
        page.screenshot(path=shot, full_page=True)
        browser.close()
    assert data[:4] == b"MThd"
    import mido

    tempo = next(m.tempo for t in mido.MidiFile(file=io.BytesIO(data)).tracks for m in t
                 if m.type == "set_tempo")
    assert round(mido.tempo2bpm(tempo)) == 100
    assert outside == [], outside  # nothing from another host
    with urllib.request.urlopen(f"{server}/api/jobs", timeout=5) as r:
        library = __import__("json").loads(r.read())["jobs"]
    assert library[0]["params"]["seed"] == 4 and library[0]["status"] == "done"


def test_the_chat_tab_answers_and_plays(server):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = _launch(p)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(server + "/", wait_until="load", timeout=90_000)
        page.get_by_role("tab", name="Chat").click()
        box = page.locator("#chat-input textarea")
        box.fill("a calm piano piece, 6 seconds")
        page.locator("#chat-send").click()
        page.locator("#chat").get_by_text("bpm").first.wait_for(timeout=120_000)
        page.locator("#player audio").first.wait_for(state="attached", timeout=30_000)
        box.fill("hazlo más rápido")
        page.locator("#chat-send").click()
        page.locator("#chat").get_by_text("Cambiado").first.wait_for(timeout=120_000)
        text = page.locator("#chat").inner_text()
        browser.close()
    assert "a calm piano piece" in text and "tempo" in text
