"""Rebuild the shipped model ``tunecraft/models/default/``.

Run ``python -m tunecraft.models.build_default`` (``make model``).

It ingests music21's bundled Essen folk songs and Bach chorales (``corpus:essen-folk:N``,
``corpus:bach-chorales:M``), trains the small Transformer on their **melodies** (the top voice
of each piece: the tune of a folk song, the soprano of a chorale, the line ``generate`` needs)
with a fixed seed, and writes the model folder and its ``MODEL_CARD.md``. Options::

    --folk N --chorales M --epochs E --minutes T --out DIR --corpus DIR --seed S
"""

from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path
from typing import Any

from .store import DEFAULT_MODEL_DIR

log = logging.getLogger(__name__)

FOLK = 300
CHORALES = 60
SEED = 0
EPOCHS = 10  # fixed, so `make model` rebuilds the shipped weights exactly
MINUTES = 0.0  # no time budget (a positive value stops early on a slow machine)
BATCH = 32
LR = 2e-3

#: The shipped model's network: small enough to train in minutes on a 2-core CPU.
DEFAULT_CONFIG: dict[str, Any] = {"seq_len": 192, "d_model": 96, "n_layers": 3, "n_heads": 4,
                                  "d_ff": 384, "dropout": 0.1}


def default_corpus_dir() -> Path:
    import os

    root = os.environ.get("TUNECRAFT_CACHE")
    base = Path(root).expanduser() if root else Path.home() / ".cache" / "tunecraft"
    return base / "default-model-corpus"


def build_corpus(out_dir: Path, *, folk: int = FOLK, chorales: int = CHORALES) -> Path:
    """Ingest the bundled folk songs and chorales into a corpus folder (cached by ingest)."""
    from ..corpus import ingest

    sources = [f"corpus:essen-folk:{folk}", f"corpus:bach-chorales:{chorales}"]
    ingest(sources, out_dir)
    return out_dir


def _card(report: Any, *, folk: int, chorales: int, minutes: float, seed: int,
          epochs: int, wall: float, corpus_s: float) -> str:
    b = report.best
    c = report.config
    budget = f" or {minutes:g} minutes" if minutes > 0 else ""
    rows = "\n".join(
        f"| {h.epoch} | {h.train_loss:.3f} | {h.val_loss:.3f} | {h.perplexity:.2f} | "
        f"{h.accuracy:.1%} | {h.tokens_per_s:,.0f} |" for h in report.history)
    return f"""# tunecraft default model

A small decoder-only Transformer over miditok REMI tokens that writes **melodies** (one line,
folk-song and chorale-soprano style). `tunecraft sample` uses it when no model is named, and
`generate --melody-engine learned` samples its tunes from it (`tunecraft.compose.learned`).

## Data

- `corpus:essen-folk:{folk}` (the first {folk} tunes of music21's Essen folk song collection) and
  `corpus:bach-chorales:{chorales}` (the first {chorales} Bach chorales, Riemenschneider order),
  ingested with `tunecraft.corpus.ingest`.
- Each piece's top voice only (`parts="melody"`): the folk tune, the chorale's soprano.
- Split by piece, seeded: {report.pieces_train} training pieces, {report.pieces_val} validation
  pieces. Training pieces are augmented by transposition (every shift within +-5 semitones that
  stays in the piano range; one drawn per piece per epoch).
- {report.train_tokens:,} training tokens per epoch, {report.val_tokens:,} validation tokens.

## Model

- REMI tokens (miditok): Bar, TimeSig, Position (8 per beat), Pitch 21-108, Velocity (8 bins),
  Duration; BOS/EOS around each piece; vocabulary {report.vocab_size}.
- Transformer: {c['n_layers']} pre-LN layers, d_model {c['d_model']}, {c['n_heads']} heads,
  feed-forward {c['d_ff']}, context {c['seq_len']} tokens, learned positions, tied output
  layer, dropout {c['dropout']}; {report.parameters:,} parameters; float32 safetensors.

## Training

AdamW (lr {LR}, weight decay 0.01, 100 warm-up steps), batch {BATCH}, gradient clipping 1.0,
seed {seed}, {epochs} epochs{budget}, early stopping (patience 3); the best
epoch by validation loss is kept. On {report.device}.

| epoch | train loss | val loss | perplexity | accuracy | tokens/s |
|---|---|---|---|---|---|
{rows}

**Result** (best epoch {report.best_epoch}): validation loss {b.val_loss:.3f} per token,
perplexity {b.perplexity:.2f}, next-token accuracy {b.accuracy:.1%}. Training wall time
{report.wall_s:.0f} s; corpus ingest {corpus_s:.0f} s; whole build {wall:.0f} s.

## Rebuild

```
make model        # = python -m tunecraft.models.build_default
```

Deterministic for the seed on the same CPU and library versions (the corpus is cached by
`tunecraft.corpus` after the first parse).

## Limits

Trained on about {folk + chorales} short European melodies: it knows folk-song and chorale
phrasing in common meters (4/4, 3/4, 2/4, 6/8), not other styles; `generate` fits its tunes
to the requested key, meter, form and register afterwards.
"""


def build(*, out: Path = DEFAULT_MODEL_DIR, corpus: Path | None = None, folk: int = FOLK,
          chorales: int = CHORALES, epochs: int = EPOCHS, minutes: float = MINUTES,
          seed: int = SEED) -> Any:
    """Ingest, train and write the default model folder with its model card."""
    from .training import train

    t0 = time.perf_counter()
    corpus_dir = corpus or default_corpus_dir()
    build_corpus(corpus_dir, folk=folk, chorales=chorales)
    corpus_s = time.perf_counter() - t0

    report = train(corpus_dir, model="transformer", epochs=epochs, batch_size=BATCH, lr=LR,
                   out_dir=out, seed=seed, patience=3, network=dict(DEFAULT_CONFIG),
                   parts="melody", max_seconds=minutes * 60 if minutes > 0 else None,
                   corpus_info={"sources": [f"corpus:essen-folk:{folk}",
                                            f"corpus:bach-chorales:{chorales}"]})
    import shutil

    shutil.rmtree(out / "checkpoints", ignore_errors=True)  # not shipped
    wall = time.perf_counter() - t0
    (out / "MODEL_CARD.md").write_text(_card(report, folk=folk, chorales=chorales,
                                             minutes=minutes, seed=seed, epochs=epochs,
                                             wall=wall, corpus_s=corpus_s))
    return report


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m tunecraft.models.build_default",
                                 description=__doc__.splitlines()[0])
    ap.add_argument("--folk", type=int, default=FOLK)
    ap.add_argument("--chorales", type=int, default=CHORALES)
    ap.add_argument("--epochs", type=int, default=EPOCHS)
    ap.add_argument("--minutes", type=float, default=MINUTES)
    ap.add_argument("--seed", type=int, default=SEED)
    ap.add_argument("--out", type=Path, default=DEFAULT_MODEL_DIR)
    ap.add_argument("--corpus", type=Path, default=None)
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    report = build(out=args.out, corpus=args.corpus, folk=args.folk, chorales=args.chorales,
                   epochs=args.epochs, minutes=args.minutes, seed=args.seed)
    log.info("%s", report)
    log.info("wrote %s", args.out)


if __name__ == "__main__":
    main()
