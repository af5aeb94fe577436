"""`tunecraft chat --script FILE --json`: one JSON object per message, '---' starts a new
conversation with empty memory; and the optional planner behind TUNECRAFT_LLM_URL, served
here by a fake OpenAI-compatible endpoint on loopback."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import ClassVar

from click.testing import CliRunner

from tunecraft.cli.main import cli


def _chat(tmp_path: Path, lines: list[str], *extra: str):
    script = tmp_path / "script.txt"
    script.write_text("\n".join(lines) + "\n", encoding="utf-8")
    r = CliRunner().invoke(cli, ["chat", "--script", str(script), "--json", "--workdir",
                                 str(tmp_path / "work"), "--seed", "3", *extra],
                           catch_exceptions=False)
    assert r.exit_code == 0, r.output
    return [json.loads(line) for line in r.output.splitlines() if line.startswith("{")]


def test_the_script_contract(tmp_path):
    out = _chat(tmp_path, ["hola", "una pieza tranquila de piano de 6 segundos",
                           "hazlo más rápido", "---", "make it faster", "rain for 2 seconds"])
    assert [(o["conversation"], o["turn"]) for o in out] == [(1, 1), (1, 2), (1, 3), (2, 1),
                                                             (2, 2)]
    assert set(out[0]) == {"conversation", "turn", "say", "calls", "reply"}
    assert out[0]["calls"] == [] and "Hola" in out[0]["reply"]
    made = out[1]["calls"][0]
    assert made["tool"] == "generate" and made["ok"] and made["error"] is None
    assert made["args"]["duration"] == 6
    assert all(Path(p).is_absolute() and Path(p).exists() for p in made["outputs"])
    assert out[2]["calls"][0]["args"]["source"] == made["outputs"][0]
    # A new conversation forgets the piece.
    assert out[3]["calls"][0]["ok"] is False and "no piece" in out[3]["reply"]
    assert out[4]["calls"][0]["tool"] == "sound" and out[4]["calls"][0]["ok"]


def test_files_mentioned_are_inputs_and_errors_do_not_stop_the_script(tmp_path):
    import numpy as np
    import soundfile as sf

    song = tmp_path / "song.wav"
    t = np.arange(22050 * 2) / 22050
    sf.write(song, 0.3 * np.sin(2 * np.pi * 220 * t), 22050)
    out = _chat(tmp_path, [f"separate the drums from {song}", "denoise nothere.wav",
                           "what can you do?"])
    assert out[0]["calls"][0]["args"]["source"] == str(song) and out[0]["calls"][0]["ok"]
    assert out[1]["calls"][0]["ok"] is False and "nothere.wav" in out[1]["calls"][0]["error"]
    assert "generate" in out[2]["reply"]


class _FakeLLM(BaseHTTPRequestHandler):
    seen: ClassVar[list[dict]] = []

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        _FakeLLM.seen.append(body)
        user = body["messages"][-1]["content"]
        calls = [] if "no tools" in user else [{"id": "1", "type": "function", "function": {
            "name": "sound", "arguments": json.dumps({"request": "waves", "duration": 2})}}]
        answer = {"choices": [{"message": {"role": "assistant", "content": None,
                                           "tool_calls": calls}}]}
        data = json.dumps(answer).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


def test_a_language_model_on_loopback_plans_with_the_same_tools(tmp_path, monkeypatch):
    server = HTTPServer(("127.0.0.1", 0), _FakeLLM)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        monkeypatch.setenv("TUNECRAFT_LLM_URL", f"http://127.0.0.1:{server.server_port}/v1")
        out = _chat(tmp_path, ["something for the beach", "no tools: rain for 2 seconds"])
    finally:
        server.shutdown()
    request = _FakeLLM.seen[0]
    assert {t["function"]["name"] for t in request["tools"]} >= {"generate", "sound", "mix",
                                                                 "speak", "separate"}
    assert out[0]["calls"][0]["tool"] == "sound"
    assert out[0]["calls"][0]["args"] == {"request": "waves", "duration": 2.0}
    # The model called no tool: the offline rules planned instead.
    assert out[1]["calls"][0]["tool"] == "sound" and "rain" in out[1]["calls"][0]["args"][
        "request"]


def test_an_endpoint_that_does_not_answer_falls_back_to_the_rules(tmp_path, monkeypatch):
    monkeypatch.setenv("TUNECRAFT_LLM_URL", "http://127.0.0.1:9/v1")  # discard port: refused
    out = _chat(tmp_path, ["rain for 2 seconds"])
    assert out[0]["calls"][0]["tool"] == "sound" and out[0]["calls"][0]["ok"]
