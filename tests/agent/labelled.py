"""The labelled requests of data/requests.tsv and how a plan is scored against them (shared by
the tests and benchmarks/conductor.py)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

DATA = Path(__file__).parent / "data" / "requests.tsv"
HELDOUT = Path(__file__).parent / "data" / "heldout.tsv"
HELDOUT2 = Path(__file__).parent / "data" / "heldout2.tsv"


@dataclass(frozen=True)
class Labelled:
    lang: str
    expected: str
    text: str
    slots: dict[str, str]


def load(path: Path = DATA) -> list[Labelled]:
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        lang, expected, text, *rest = line.split("\t")
        slots = dict(item.split("=", 1) for item in (rest[0] if rest else "").split(";")
                     if "=" in item)
        out.append(Labelled(lang, expected, text, slots))
    return out


def label(plan: Any) -> str:
    if plan.kind == "tools":
        return "+".join(s.tool for s in plan.steps)
    if plan.kind == "modify":
        return "modify:" + ",".join(sorted(plan.changes))
    if plan.kind == "unsupported":
        return f"unsupported:{plan.topic}"
    return plan.kind


def tool_ok(case: Labelled, plan: Any) -> bool:
    got = label(plan)
    if case.expected.startswith("modify:"):
        return got.startswith("modify:") and case.expected[7:] in got[7:].split(",")
    return got == case.expected


def slots_ok(case: Labelled, plan: Any) -> dict[str, bool]:
    """Each expected slot: whether the plan's first step (or its changes) has it."""
    if plan.kind == "modify":
        found: dict[str, Any] = dict(plan.changes)
    elif plan.steps:
        found = dict(plan.steps[0].args)
    else:
        found = {}
    out = {}
    for name, want in case.slots.items():
        got = found.get(name)
        if name == "duration" and isinstance(got, (int, float)):
            out[name] = abs(float(got) - float(want)) < 1e-6
        elif name in ("bpm",):
            out[name] = got is not None and abs(float(got) - float(want)) < 1e-6
        elif name in ("loop", "drums"):
            out[name] = str(got) == want
        else:
            out[name] = got is not None and str(got).strip().lower() == want.lower()
    return out
