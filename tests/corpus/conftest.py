from __future__ import annotations

from pathlib import Path

import pytest

from builders import band_score, melody_score
from tunecraft.io.midi import write_midi
from tunecraft.io.musicxml import write_musicxml

# Two tunes; the first has two repeated strains, which ingest expands: 32 notes written,
# 64 played.
ABC_TWO_TUNES = """%abc-2.1
X:1
T:Repeat Reel
M:4/4
L:1/8
K:D
|: DEFG ABcd | dcBA GFED :|
|: ABcd efga | gfed cBAG :|

X:2
T:Little Air
M:3/4
L:1/4
K:Am
A B c|e2 A|c B A|A3|]
"""


@pytest.fixture(autouse=True)
def _private_cache(tmp_path_factory, monkeypatch):
    """Bundled-corpus extraction goes to a per-test cache, never the user's."""
    monkeypatch.setenv("TUNECRAFT_CACHE", str(tmp_path_factory.mktemp("tunecraft-cache")))
    monkeypatch.delenv("RAY_ADDRESS", raising=False)


def make_music_dir(root: Path) -> Path:
    """A folder of music and junk: 5 good pieces, 1 corrupt, 1 empty, 1 text file."""
    src = root / "music"
    (src / "sub").mkdir(parents=True)
    write_midi(melody_score(), src / "a.mid")
    write_midi(band_score(2, n_tracks=3, seed=3), src / "sub" / "b.midi")
    write_musicxml(melody_score(90), src / "c.musicxml")
    (src / "tunes.abc").write_text(ABC_TWO_TUNES)
    (src / "bad.mid").write_bytes(b"MThd\x00\x00\x00\x06 this is not a MIDI file")
    (src / "empty.mid").write_bytes(b"")
    (src / "notes.txt").write_text("a shopping list, not music\n")
    return src


@pytest.fixture
def music_dir(tmp_path) -> Path:
    return make_music_dir(tmp_path)
