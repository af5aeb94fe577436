"""Where the tests' data lives: inside the repository, so a fresh clone passes on its own."""

from __future__ import annotations

from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"
SEED_PROMPTS = DATA / "seed_prompts.json"
MUSICCAPS = DATA / "musiccaps" / "musiccaps-public.csv"
