"""Optional planning by a language model the user runs (llama.cpp's server, Ollama, vLLM...):
``TUNECRAFT_LLM_URL`` names an OpenAI-compatible endpoint; the same tool registry is offered
as functions and the model's tool calls become the plan. Nothing is sent anywhere else; when
the endpoint fails or calls no tool, the offline rules plan instead."""

from __future__ import annotations

import json
import logging
import os
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

from .router import Plan, Ref, Step, _language_of
from .tools import TOOLS, schemas

log = logging.getLogger(__name__)

TIMEOUT = 60.0
SYSTEM = ("You are tunecraft's conductor. Call the tools that do what the user asks about "
          "music, sound and voices; use '@last' for the latest result's file and '@prev' for "
          "the previous call's output in this answer. Files made so far: {files}.")


def router_from_env() -> Callable[[str, Any], Plan | None] | None:
    url = os.environ.get("TUNECRAFT_LLM_URL", "").strip()
    if not url:
        return None
    return LLMRouter(url, model=os.environ.get("TUNECRAFT_LLM_MODEL", "local"),
                     key=os.environ.get("TUNECRAFT_LLM_KEY"))


def _ref(value: Any) -> Any:
    if isinstance(value, list):
        return [_ref(v) for v in value]
    if value in ("@last", "$last", "last"):
        return Ref("audio")
    if value in ("@prev", "$prev"):
        return Ref("prev")
    if value in ("@score", "$score"):
        return Ref("score")
    return value


class LLMRouter:
    def __init__(self, url: str, *, model: str = "local", key: str | None = None) -> None:
        self.url = url if url.rstrip("/").endswith("/chat/completions") else \
            url.rstrip("/") + "/chat/completions"
        self.model = model
        self.key = key

    def __call__(self, message: str, memory: Any) -> Plan | None:
        files = [str(a.audio or a.score) for a in memory.artefacts[-5:]
                 if (a.audio or a.score)] or ["none"]
        body = {"model": self.model, "tools": schemas(), "tool_choice": "auto",
                "messages": [{"role": "system", "content": SYSTEM.format(files=", ".join(files))},
                             {"role": "user", "content": message}]}
        request = urllib.request.Request(self.url, data=json.dumps(body).encode(),
                                         headers={"Content-Type": "application/json",
                                                  **({"Authorization": f"Bearer {self.key}"}
                                                     if self.key else {})})
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
                answer = json.load(response)
            calls = answer["choices"][0]["message"].get("tool_calls") or []
        except (OSError, ValueError, KeyError, IndexError, urllib.error.URLError) as e:
            log.warning("the language model at %s did not answer (%s); planning offline",
                        self.url, e)
            return None
        steps = []
        for call in calls:
            fn = call.get("function", {})
            name = fn.get("name")
            if name not in TOOLS:
                log.warning("the language model called an unknown tool %r; planning offline",
                            name)
                return None
            try:
                args = json.loads(fn.get("arguments") or "{}")
            except ValueError:
                return None
            steps.append(Step(name, {k: _ref(v) for k, v in args.items()}))
        if not steps:
            return None
        return Plan("tools", _language_of(message, memory.lang), tuple(steps), how="llm")
