"""The corpora bundled with music21, addressable as ``corpus:NAME`` or ``corpus:NAME:N``.

Items are listed without parsing anything (chorale files by the Riemenschneider order of
``music21.corpus.chorales.Iterator``; ABC collections split into tunes as text), so taking the
first N items costs only those N. What a parse extracts is cached per item, keyed by the
SHA-256 of the item's source text and the extractor/music21 versions, under
``corpus_cache_dir(name)``:

```
$TUNECRAFT_CACHE/corpora/<name>/      (default ~/.cache/tunecraft/corpora/<name>/)
  index.jsonl      one manifest-style entry per item extracted (ok or skipped; failures
                   are retried)
  <id>.mid         the piece, as tunecraft writes it
```

The second ingest of a corpus reads only the cache: no music21 parse at all.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import logging
import os
from pathlib import Path
from typing import Any

from ..errors import InputFileError, ParameterError
from .sources import Unit, abc_units, sha256_file

log = logging.getLogger(__name__)

#: Bundled corpora by name (the descriptions are shown to users).
BUILTIN_CORPORA: dict[str, str] = {
    "bach-chorales": "J. S. Bach's four-part chorales, 371 in Riemenschneider order "
                     "(MusicXML; repeats expanded, chorales whose repeats fail are skipped)",
    "essen-folk": "Essen folk song collection: about 8,500 mostly German and Chinese folk "
                  "melodies (ABC)",
    "oneill": "O'Neill's Music of Ireland (1850): about 2,000 Irish dance tunes and airs (ABC)",
    "ryans": "Ryan's Mammoth Collection (1883): about 1,050 fiddle tunes (ABC)",
    "palestrina": "Palestrina's mass movements: about 1,300 pieces of Renaissance polyphony "
                  "(Humdrum; slow to parse)",
}

PREFIX = "corpus:"
#: Bump when what an item extracts changes: older cache entries are then ignored.
EXTRACT_VERSION = "1"
_FOLDERS = {"essen-folk": "essenFolksong", "oneill": "oneills1850", "ryans": "ryansMammoth",
            "palestrina": "palestrina", "bach-chorales": "bach"}
INDEX_NAME = "index.jsonl"


def is_corpus_source(source: object) -> bool:
    return isinstance(source, str) and source.startswith(PREFIX)


def parse_corpus_source(source: str) -> tuple[str, int | None]:
    """``"corpus:essen-folk:5"`` -> ``("essen-folk", 5)``.

    Raises:
        ParameterError: an unknown name or a count that is not a positive whole number.
    """
    rest = source[len(PREFIX):]
    name, _, count = rest.partition(":")
    name = name.strip().lower()
    if name not in BUILTIN_CORPORA:
        raise ParameterError(f"unknown corpus {name!r} in {source!r}; the bundled corpora are "
                             f"{', '.join(BUILTIN_CORPORA)}")
    if not count:
        return name, None
    try:
        n = int(count)
    except ValueError:
        n = 0
    if n <= 0:
        raise ParameterError(f"{source!r}: the count after the corpus name must be a whole "
                             f"number above 0 (as in corpus:{name}:50)")
    return name, n


def cache_root() -> Path:
    env = os.environ.get("TUNECRAFT_CACHE")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "tunecraft"


def corpus_cache_dir(name: str) -> Path:
    """Where the extracted pieces of a bundled corpus are cached."""
    return cache_root() / "corpora" / name


def _music21_corpus_dir() -> Path:
    spec = importlib.util.find_spec("music21")
    if spec is None or not spec.submodule_search_locations:
        raise ParameterError("the bundled corpora need music21 (pip install music21)")
    return Path(next(iter(spec.submodule_search_locations))) / "corpus"


def cache_version() -> str:
    from importlib.metadata import version

    try:
        m21 = version("music21")
    except Exception:  # pragma: no cover - music21 always has metadata when installed
        m21 = "?"
    return f"{EXTRACT_VERSION}/music21-{m21}"


def _chorale_paths() -> list[tuple[str, Path]]:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from music21 import corpus
        from music21.corpus import chorales

        names = list(chorales.Iterator(returnType="filename"))
        base = _music21_corpus_dir()
        out = []
        for n in names:
            stem = n.split("/", 1)[-1]
            found = [base / "bach" / f"{stem}{ext}" for ext in (".mxl", ".xml", ".musicxml")]
            path = next((p for p in found if p.is_file()), None)
            if path is None:
                with contextlib.suppress(Exception):
                    path = Path(corpus.getWork(n))
            if path is None:
                log.warning("corpus:bach-chorales: %s is listed but not found; left out", n)
                continue
            out.append((stem, path))
    return out


def corpus_units(name: str, limit: int | None = None) -> list[Unit]:
    """The first ``limit`` items (all when None) of a bundled corpus, in a fixed order."""
    units: list[Unit] = []
    base = _music21_corpus_dir()
    strict = "strict" if name == "bach-chorales" else "lenient"
    if name == "bach-chorales":
        for stem, path in _chorale_paths():
            if limit is not None and len(units) >= limit:
                break
            units.append(Unit(source=f"{PREFIX}{name}/{stem}", kind="corpus",
                              hash=sha256_file(path), reader="music21", path=os.fspath(path),
                              suffix=path.suffix.lower(), expand_repeats=strict, corpus=name,
                              item=stem))
        return units
    folder = base / _FOLDERS[name]
    if not folder.is_dir():
        raise InputFileError(folder, f"the music21 corpus folder for {name!r} is missing")
    ext = ".krn" if name == "palestrina" else ".abc"
    for path in sorted(folder.glob(f"*{ext}")):
        if limit is not None and len(units) >= limit:
            break
        if ext == ".abc":
            units.extend(abc_units(path.read_bytes(), f"{PREFIX}{name}/{path.stem}",
                                   kind="corpus", expand_repeats=strict, corpus=name,
                                   item=path.stem))
        else:
            units.append(Unit(source=f"{PREFIX}{name}/{path.stem}", kind="corpus",
                              hash=sha256_file(path), reader="music21", path=os.fspath(path),
                              suffix=ext, expand_repeats=strict, corpus=name, item=path.stem))
    return units[:limit] if limit is not None else units


# ----------------------------------------------------------------------------------------------
# Cache


class CorpusCache:
    """The extraction cache of one bundled corpus (read at start, appended as items finish)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.dir = corpus_cache_dir(name)
        self.version = cache_version()
        self.entries: dict[str, dict[str, Any]] = {}  # hash -> entry
        self._newline_first = False  # the index ends in a partial line (an interrupted run)
        self._load()

    def _load(self) -> None:
        path = self.dir / INDEX_NAME
        try:
            raw = path.read_bytes()
        except OSError:
            return
        self._newline_first = bool(raw) and not raw.endswith(b"\n")
        lines = raw.split(b"\n")[:-1]
        for line in lines:
            try:
                e = json.loads(line)
            except ValueError:
                continue
            if isinstance(e, dict) and e.get("v") == self.version and "hash" in e:
                self.entries[e["hash"]] = e

    def lookup(self, unit: Unit) -> tuple[dict[str, Any], bytes | None] | None:
        """The cached result for a unit: ``(entry, MIDI bytes or None)``, or None on a miss."""
        e = self.entries.get(unit.hash)
        if e is None:
            return None
        entry = {k: v for k, v in e.items() if k not in ("v", "file")}
        entry["source"] = unit.source
        if e.get("status") != "ok":
            return entry, None
        entry["path"] = f"pieces/{entry['id']}.mid"
        try:
            return entry, (self.dir / e["file"]).read_bytes()
        except (OSError, KeyError):
            return None

    def store(self, entry: dict[str, Any], midi: bytes | None) -> None:
        """Remember an ok or skipped result (failures are retried next time; a cache that
        cannot be written is only logged)."""
        from ..io.files import atomic_output

        if entry.get("status") not in ("ok", "skipped"):
            return
        try:
            self.dir.mkdir(parents=True, exist_ok=True)
            record = {k: v for k, v in entry.items() if k != "path"}
            record["v"] = self.version
            if midi is not None:
                record["file"] = f"{entry['id']}.mid"
                with atomic_output(self.dir / record["file"]) as tmp:
                    tmp.write_bytes(midi)
            line = ("\n" if self._newline_first else "") + json.dumps(record, ensure_ascii=False)
            line += "\n"
            self._newline_first = False
            with open(self.dir / INDEX_NAME, "ab") as f:
                f.write(line.encode("utf-8"))
            self.entries[entry["hash"]] = record
        except Exception as exc:  # the cache is an optimisation, never a reason to stop
            log.warning("corpus cache %s: cannot write (%s)", self.dir, exc)
