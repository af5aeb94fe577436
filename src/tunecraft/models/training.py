"""Training a model on a corpus folder: ``train(corpus_dir, model="transformer", ...)``.

(This module is ``training`` and not ``train`` so that ``tunecraft.models.train`` stays the
function.)

What happens, in order:

1. The corpus's ``ok`` pieces are read (``tunecraft.corpus.load_corpus``) and each becomes one
   line of notes (:func:`~tunecraft.models.tokens.piece_notes`: all tracks merged, or the top
   voice with ``parts="melody"``).
2. Pieces are split into training and validation sets **by piece**, seeded.
3. Training pieces are augmented by transposition (every shift within +-5 semitones that keeps
   them in range) and tokenized; validation pieces are tokenized as they are. The LSTM's
   vocabulary is built on the (augmented) training pieces.
4. Each epoch, every training piece is played in one of its transpositions (drawn from the
   seed and the epoch), the pieces are shuffled and concatenated into one token stream (as the
   tutorial does with its notes), and the stream is cut into windows of ``seq_len + 1``.
   The validation stream is fixed.
5. AdamW with a linear warm-up, gradient clipping at 1.0; per epoch the train loss, validation
   loss, perplexity, next-token accuracy and tokens per second are reported (``progress``
   callback, and ``logging``).
6. After every epoch a checkpoint (weights, optimizer, RNG state, history) is written to
   ``out_dir/checkpoints/last.pt``; ``resume=True`` continues from it, and the result is the same
   as an uninterrupted run. The model folder always holds the best epoch's weights (lowest
   validation loss); training stops early after ``patience`` epochs without improvement.

Everything is seeded: the same corpus, options and seed give the same weights on CPU.
"""

from __future__ import annotations

import json
import logging
import math
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..errors import InputFileError, ParameterError
from ..score.types import Score
from .tokens import (
    NoteTokenizer,
    RemiTokenizer,
    default_meta,
    line_score,
    piece_notes,
    split_by_piece,
    start_distribution,
    transpositions,
)

log = logging.getLogger(__name__)

__all__ = ["EpochStats", "TrainReport", "load_pieces", "train"]

WARMUP_STEPS = 100
_DEFAULT_LR = {"lstm": 2e-3, "transformer": 1e-3}


@dataclass(frozen=True)
class EpochStats:
    """The figures of one epoch."""

    epoch: int
    train_loss: float
    val_loss: float
    perplexity: float
    accuracy: float
    tokens_per_s: float
    seconds: float
    lr: float

    def __str__(self) -> str:
        return (f"epoch {self.epoch}: train loss {self.train_loss:.3f}, val loss "
                f"{self.val_loss:.3f}, perplexity {self.perplexity:.2f}, accuracy "
                f"{self.accuracy:.1%}, {self.tokens_per_s:,.0f} tokens/s, {self.seconds:.1f} s")


@dataclass(frozen=True)
class TrainReport:
    """What a training run did and reached."""

    model: str
    out_dir: str
    epochs_run: int
    best_epoch: int
    stopped_early: bool
    history: tuple[EpochStats, ...]
    pieces_train: int
    pieces_val: int
    train_tokens: int  # one epoch's training stream
    val_tokens: int
    vocab_size: int
    parameters: int
    device: str
    wall_s: float
    config: dict[str, Any] = field(default_factory=dict)

    @property
    def best(self) -> EpochStats | None:
        return next((h for h in self.history if h.epoch == self.best_epoch), None)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["history"] = [asdict(h) for h in self.history]
        return d

    def __str__(self) -> str:
        b = self.best
        figs = (f"val loss {b.val_loss:.3f}, perplexity {b.perplexity:.2f}, accuracy "
                f"{b.accuracy:.1%}") if b else "no epoch finished"
        stop = " (stopped early)" if self.stopped_early else ""
        return (f"{self.model}: {self.epochs_run} epochs{stop}, best epoch {self.best_epoch}: "
                f"{figs}; {self.pieces_train} training / {self.pieces_val} validation pieces, "
                f"{self.parameters:,} parameters, {self.wall_s:.0f} s on {self.device}")


# ----------------------------------------------------------------------------------------------
# Data


def _read_manifest_corpus(corpus_dir: Path) -> list[tuple[str, Score]]:
    """Fallback reader of the corpus format (used only when tunecraft.corpus is absent)."""
    from ..io.midi import read_midi

    manifest = corpus_dir / "manifest.jsonl"
    if not manifest.is_file():
        raise InputFileError(corpus_dir, "not a corpus folder (no manifest.jsonl); make one "
                             "with `tunecraft ingest`")
    out = []
    for line in manifest.read_text().splitlines():
        if not line.strip():
            continue
        try:
            e = json.loads(line)
        except ValueError:
            continue
        if e.get("status") == "ok" and e.get("path"):
            try:
                out.append((str(e["id"]), read_midi(corpus_dir / e["path"])))
            except InputFileError as exc:
                log.warning("skipping %s: %s", e.get("id"), exc)
    return out


def load_pieces(corpus_dir: str | Path) -> list[tuple[str, Score]]:
    """``(id, score)`` of every ``ok`` piece of a corpus folder."""
    p = Path(corpus_dir)
    if not p.is_dir():
        raise InputFileError(p, "no such corpus folder")
    try:
        from ..corpus import load_corpus
    except ImportError:
        return _read_manifest_corpus(p)
    return list(load_corpus(p))


@dataclass
class _Data:
    tokenizer: NoteTokenizer | RemiTokenizer
    train: list[list[list[int]]]  # per piece: its transpositions' ids
    val: list[list[int]]
    train_ids: list[str]
    val_ids: list[str]
    scores: list[Score]


def _prepare(pieces: list[tuple[str, Score]], kind: str, *, parts: str, seed: int,
             val_fraction: float, augment: int) -> _Data:
    lines = {pid: piece_notes(s, parts=parts) for pid, s in pieces}
    usable = [(pid, s) for pid, s in pieces if lines[pid]]
    if len(usable) < 2:
        raise ParameterError(f"the corpus has {len(usable)} piece(s) with notes; training needs "
                             "at least 2 (ingest more music)")
    scores = {pid: line_score(s, lines[pid]) for pid, s in usable}
    train_ids, val_ids = split_by_piece([pid for pid, _ in usable], val_fraction=val_fraction,
                                        seed=seed)
    low, high = (21, 108)
    shifted = {pid: [s for _, s in transpositions(scores[pid], semitones=augment, low=low,
                                                  high=high)] for pid in train_ids}
    tokenizer: NoteTokenizer | RemiTokenizer
    if kind == "lstm":
        tokenizer = NoteTokenizer.build(n for pid in train_ids for s in shifted[pid]
                                        for n in [s.tracks[0].notes])

        def enc(s: Score) -> list[int]:
            return tokenizer.encode(s.tracks[0].notes)  # type: ignore[union-attr]
    else:
        tokenizer = RemiTokenizer()

        def enc(s: Score) -> list[int]:
            return tokenizer.encode(s, s.tracks[0].notes)  # type: ignore[call-arg]
    train = [[enc(s) for s in shifted[pid]] for pid in train_ids]
    val = [enc(scores[pid]) for pid in val_ids]
    return _Data(tokenizer, train, val, train_ids, val_ids, [s for _, s in usable])


def _stream(data: _Data, epoch: int, seed: int) -> list[int]:
    """One epoch's training stream: each piece in one transposition, shuffled, concatenated."""
    rng = random.Random(f"epoch:{seed}:{epoch}")
    chosen = [variants[rng.randrange(len(variants))] for variants in data.train]
    rng.shuffle(chosen)
    return [t for ids in chosen for t in ids]


def _windows(stream: Sequence[int], seq_len: int) -> list[list[int]]:
    """Windows of ``seq_len + 1`` tokens (inputs and next-token targets), end to end."""
    n = len(stream)
    return [list(stream[i:i + seq_len + 1]) for i in range(0, n - seq_len, seq_len)]


def _val_windows(stream: Sequence[int], seq_len: int) -> list[list[int]]:
    wins = _windows(stream, seq_len)
    covered = len(wins) * seq_len
    if len(stream) - covered >= 2:  # the tail, as a shorter window
        wins.append(list(stream[covered:]))
    return wins


# ----------------------------------------------------------------------------------------------
# The loop


def _device(device: str) -> Any:
    import torch

    if device == "cpu":
        return torch.device("cpu")
    if device == "cuda":
        if not torch.cuda.is_available():
            raise ParameterError("--device cuda was asked for, but this PyTorch sees no CUDA GPU "
                                 f"(torch {torch.__version__}; a CPU-only build or no driver)")
        return torch.device("cuda")
    raise ParameterError(f"device {device!r} is unknown (use 'cpu' or 'cuda')")


def _make_config(kind: str, vocab_size: int, seq_len: int | None, config: Any) -> Any:
    from .lstm import LSTMConfig
    from .transformer import TransformerConfig

    cls = LSTMConfig if kind == "lstm" else TransformerConfig
    if config is None:
        cfg = cls(vocab_size=vocab_size)
    elif config == "debug":
        cfg = cls.debug(vocab_size)
    elif isinstance(config, cls):
        cfg = config
    elif isinstance(config, dict):
        cfg = cls.from_dict({**config, "vocab_size": vocab_size})
    else:
        raise ParameterError(f"config for a {kind} must be a {cls.__name__}, a dict or 'debug'")
    from dataclasses import replace

    cfg = replace(cfg, vocab_size=vocab_size)
    if seq_len is not None:
        cfg = replace(cfg, seq_len=int(seq_len))
    return cfg


def _evaluate(net: Any, windows: list[list[int]], batch_size: int, dev: Any,
              pad_id: int | None) -> tuple[float, float]:
    """Mean loss per token and next-token accuracy over windows."""
    import torch
    import torch.nn.functional as F

    net.eval()
    total, correct, count = 0.0, 0, 0
    with torch.no_grad():
        for length in sorted({len(w) for w in windows}):
            same = [w for w in windows if len(w) == length]
            for i in range(0, len(same), batch_size):
                batch = torch.tensor(same[i:i + batch_size], dtype=torch.long, device=dev)
                logits, _ = net(batch[:, :-1])
                target = batch[:, 1:]
                mask = target != pad_id if pad_id is not None else torch.ones_like(
                    target, dtype=torch.bool)
                loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), target.reshape(-1),
                                       reduction="none").view_as(target)
                total += float(loss[mask].sum())
                correct += int(((logits.argmax(-1) == target) & mask).sum())
                count += int(mask.sum())
    net.train()
    return total / max(count, 1), correct / max(count, 1)


def train(corpus_dir: str | Path, *, model: str = "transformer", epochs: int = 10,
          batch_size: int = 32, seq_len: int | None = None, lr: float | None = None,
          device: str = "cpu", out_dir: str | Path, seed: int = 0, resume: bool = False,
          progress: Callable[[EpochStats], None] | None = None, patience: int = 3,
          config: Any = None, parts: str = "all", val_fraction: float = 0.1,
          augment: int = 5, corpus_info: dict[str, Any] | None = None,
          max_seconds: float | None = None) -> TrainReport:
    """Train the tutorial's LSTM or the Transformer on a corpus folder; write a model folder.

    ``config`` is an ``LSTMConfig``/``TransformerConfig``, a dict of its fields, ``"debug"``
    (the tiny test model) or None (the default size); ``seq_len`` overrides its window.
    ``parts`` "all" merges every track of a piece, "melody" keeps its top voice. ``augment``
    is the largest transposition (0: none). ``max_seconds`` stops after the epoch that passes
    that much training time.
    """
    import torch
    import torch.nn.functional as F

    from .store import build_network, save_model

    if model not in ("lstm", "transformer"):
        raise ParameterError(f"model {model!r} is unknown (use 'lstm' or 'transformer')")
    for name, value in (("epochs", epochs), ("batch size", batch_size)):
        if not isinstance(value, int) or value < 1:
            raise ParameterError(f"{name} must be a whole number of at least 1 (got {value!r})")
    if patience < 1:
        raise ParameterError("patience must be at least 1 epoch")
    dev = _device(device)
    t_start = time.perf_counter()
    out = Path(out_dir)
    pieces = load_pieces(corpus_dir)
    data = _prepare(pieces, model, parts=parts, seed=seed, val_fraction=val_fraction,
                    augment=augment)
    cfg = _make_config(model, data.tokenizer.vocab_size, seq_len, config)
    lr = float(lr if lr is not None else _DEFAULT_LR[model])
    if not lr > 0:
        raise ParameterError(f"learning rate {lr!r} must be positive")
    epoch_len = len(_stream(data, 0, seed))
    val_stream = [t for ids in data.val for t in ids]
    if epoch_len < cfg.seq_len + 1:
        raise ParameterError(f"the training pieces hold {epoch_len} tokens, fewer than one "
                             f"window of {cfg.seq_len + 1}; ingest more music or pass a "
                             "smaller --seq-len")
    val_windows = _val_windows(val_stream, cfg.seq_len)
    if not val_windows:
        raise ParameterError("the validation pieces hold fewer than 2 tokens; ingest more music")
    pad_id = data.tokenizer.pad_id if isinstance(data.tokenizer, RemiTokenizer) else None

    torch.manual_seed(seed)
    net = build_network(model, cfg).to(dev)
    opt = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=0.01)
    n_params = sum(p.numel() for p in net.parameters())
    history: list[EpochStats] = []
    best_val, best_epoch, bad, step, start_epoch = math.inf, 0, 0, 0, 1
    ckpt_dir = out / "checkpoints"
    ckpt = ckpt_dir / "last.pt"
    best_state: dict[str, Any] | None = None
    if resume:
        if not ckpt.is_file():
            raise InputFileError(ckpt, "no checkpoint to resume from (train without --resume "
                                 "first)")
        state = torch.load(ckpt, map_location=dev, weights_only=True)
        if state.get("kind") != model or state.get("config") != cfg.to_dict():
            raise ParameterError(f"the checkpoint in {out} is for another model or config; "
                                 "resume with the same options, or train afresh")
        net.load_state_dict(state["model"])
        opt.load_state_dict(state["optimizer"])
        torch.set_rng_state(state["rng"])
        history = [EpochStats(**h) for h in state["history"]]
        best_val, best_epoch, bad, step = (state["best_val"], state["best_epoch"], state["bad"],
                                           state["step"])
        best_state = state["best_model"]
        start_epoch = len(history) + 1
        log.info("resuming %s training at epoch %d", model, start_epoch)

    prev_det = torch.are_deterministic_algorithms_enabled()
    torch.use_deterministic_algorithms(True, warn_only=True)
    stopped = bad >= patience
    try:
        net.train()
        for epoch in range(start_epoch, epochs + 1):
            if stopped:
                break
            t0 = time.perf_counter()
            windows = _windows(_stream(data, epoch, seed), cfg.seq_len)
            random.Random(f"batches:{seed}:{epoch}").shuffle(windows)
            tot_loss, tot_tok = 0.0, 0
            for i in range(0, len(windows), batch_size):
                batch = torch.tensor(windows[i:i + batch_size], dtype=torch.long, device=dev)
                step += 1
                cur_lr = lr * min(1.0, step / WARMUP_STEPS)
                for g in opt.param_groups:
                    g["lr"] = cur_lr
                logits, _ = net(batch[:, :-1])
                loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]),
                                       batch[:, 1:].reshape(-1))
                opt.zero_grad(set_to_none=True)
                loss.backward()
                torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
                opt.step()
                n_tok = batch[:, 1:].numel()
                tot_loss += float(loss.detach()) * n_tok
                tot_tok += n_tok
            train_time = time.perf_counter() - t0
            val_loss, acc = _evaluate(net, val_windows, batch_size, dev, pad_id)
            stats = EpochStats(epoch, tot_loss / max(tot_tok, 1), val_loss,
                               math.exp(min(val_loss, 50.0)), acc, tot_tok / max(train_time, 1e-9),
                               time.perf_counter() - t0, cur_lr if tot_tok else lr)
            history.append(stats)
            log.info("%s", stats)
            if progress is not None:
                progress(stats)
            if val_loss < best_val - 1e-4:
                best_val, best_epoch, bad = val_loss, epoch, 0
                best_state = {k: v.detach().cpu().clone() for k, v in net.state_dict().items()}
            else:
                bad += 1
            stopped = bad >= patience
            ckpt_dir.mkdir(parents=True, exist_ok=True)
            torch.save({"kind": model, "config": cfg.to_dict(), "model": net.state_dict(),
                        "optimizer": opt.state_dict(), "rng": torch.get_rng_state(),
                        "history": [asdict(h) for h in history], "best_val": best_val,
                        "best_epoch": best_epoch, "bad": bad, "step": step,
                        "best_model": best_state}, ckpt)
            if max_seconds is not None and time.perf_counter() - t_start > max_seconds:
                log.info("time budget of %.0f s reached after epoch %d", max_seconds, epoch)
                break
            if stopped:
                log.info("no improvement for %d epochs: stopping early", patience)
    finally:
        torch.use_deterministic_algorithms(prev_det)

    final = build_network(model, cfg)
    if best_state is not None:
        final.load_state_dict(best_state)
    final.eval()
    wall = time.perf_counter() - t_start
    report = TrainReport(
        model=model, out_dir=str(out), epochs_run=len(history), best_epoch=best_epoch,
        stopped_early=stopped and len(history) < epochs, history=tuple(history),
        pieces_train=len(data.train_ids), pieces_val=len(data.val_ids), train_tokens=epoch_len,
        val_tokens=len(val_stream), vocab_size=data.tokenizer.vocab_size, parameters=n_params,
        device=str(dev), wall_s=wall, config=cfg.to_dict())
    extra = None
    if isinstance(data.tokenizer, NoteTokenizer):
        extra = {"start_counts": start_distribution(
            [v[0] for v in data.train if v], data.tokenizer.vocab_size)}
    b = report.best
    meta = {
        "parts": parts,
        "defaults": default_meta(data.scores),
        "corpus": {**(corpus_info or {}), "folder": str(corpus_dir),
                   "pieces": len(data.scores), "train_pieces": len(data.train_ids),
                   "val_pieces": len(data.val_ids), "augment_semitones": augment,
                   "train_tokens_per_epoch": epoch_len, "val_tokens": len(val_stream)},
        "training": {"epochs_run": report.epochs_run, "best_epoch": best_epoch,
                     "batch_size": batch_size, "lr": lr, "seed": seed, "device": str(dev),
                     "val_loss": b.val_loss if b else None,
                     "perplexity": b.perplexity if b else None,
                     "accuracy": b.accuracy if b else None,
                     "tokens_per_s": (sum(h.tokens_per_s for h in history) / len(history)
                                      if history else None),
                     "wall_s": round(wall, 1), "parameters": n_params,
                     "history": [asdict(h) for h in history]},
    }
    save_model(out, kind=model, net=final, tokenizer=data.tokenizer, meta=meta,
               tokenizer_extra=extra)
    return report
