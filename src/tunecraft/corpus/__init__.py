"""Corpora: folders of music made ready for learning (``tunecraft ingest``).

>>> from tunecraft.corpus import ingest, load_corpus
>>> report = ingest(["my_music/", "corpus:essen-folk:200"], "corpus")  # doctest: +SKIP
>>> pieces = load_corpus("corpus")                                     # doctest: +SKIP

A corpus folder holds ``manifest.jsonl`` (one JSON object per source piece, appended as work
completes) and ``pieces/<id>.mid`` (each ``ok`` piece as tunecraft-written MIDI). A manifest
entry::

    {"id": "<first 16 hex of hash>", "source": "<path, path#tune or corpus:name/item>",
     "hash": "<sha256 of the piece's content>", "status": "ok" | "skipped" | "failed",
     "reason": "<why, when not ok>", "path": "pieces/<id>.mid" (when ok),
     "duration": seconds, "notes": int, "key": "D minor", "tempo": bpm, "tracks": int
     (these five when ok), "kind": "midi" | "musicxml" | "abc" | "audio" | "corpus"
     | "unsupported"}

The hash is of the piece's source content: a file's bytes, or for one tune of an ABC file the
file header plus the tune's text. Ingesting is resumable: content already ``ok`` is counted as
``already`` and not redone. music21 and Ray are imported only when used.
"""

from __future__ import annotations

from .builtin import BUILTIN_CORPORA, corpus_cache_dir
from .driver import IngestReport, ingest, load_corpus
from .engines import ENGINES
from .manifest import MANIFEST_NAME, PIECES_DIR, read_manifest
from .sources import SUPPORTED_EXTS

__all__ = [
    "BUILTIN_CORPORA",
    "ENGINES",
    "MANIFEST_NAME",
    "PIECES_DIR",
    "SUPPORTED_EXTS",
    "IngestReport",
    "corpus_cache_dir",
    "ingest",
    "load_corpus",
    "read_manifest",
]
