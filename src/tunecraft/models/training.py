"""Training a model on a corpus folder: ``train(corpus_dir, out_dir=..., model="transformer")``,
configured by a :class:`TrainConfig` (serialisable; sampling lives in ``sampling.py``).

(This module is ``training`` and not ``train`` so that ``tunecraft.models.train`` stays the
function.)

What happens, in order:

1. The corpus's ``ok`` pieces are read and each becomes one line of notes
   (:func:`~tunecraft.models.tokens.piece_notes`: all tracks merged, or the top voice with
   ``parts="melody"``), transposed and tokenized (step 3). This per-piece work runs on a local
   process pool (``engine="local"``, ``workers`` processes, default one per core) or as Ray
   tasks (``engine="ray"``, on the cluster at ``RAY_ADDRESS`` or a local Ray), through
   :func:`tunecraft.corpus.engines.map_ordered`; the results are the same on every engine.
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
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any, NamedTuple

from .. import errors as _errors
from ..errors import InputFileError, ParameterError, TunecraftError
from ..score.types import Score
from .tokens import (
    PARTS,
    UNK,
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

__all__ = ["EpochStats", "TrainConfig", "TrainReport", "load_pieces", "train"]

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


def _fallback_entries(corpus_dir: Path) -> Iterator[tuple[str, Path]]:
    """``(id, path)`` of the ``ok`` pieces, read without tunecraft.corpus (when it is absent)."""
    manifest = corpus_dir / "manifest.jsonl"
    if not manifest.is_file():
        raise InputFileError(corpus_dir, "not a corpus folder (no manifest.jsonl); make one "
                             "with `tunecraft ingest`")
    for line in manifest.read_text().splitlines():
        if not line.strip():
            continue
        try:
            e = json.loads(line)
        except ValueError:
            continue
        if e.get("status") == "ok" and e.get("path"):
            yield str(e["id"]), corpus_dir / e["path"]


def _read_manifest_corpus(corpus_dir: Path) -> list[tuple[str, Score]]:
    """Fallback reader of the corpus format (used only when tunecraft.corpus is absent)."""
    from ..io.midi import read_midi

    out = []
    for pid, path in _fallback_entries(corpus_dir):
        try:
            out.append((pid, read_midi(path)))
        except InputFileError as exc:
            log.warning("skipping %s: %s", pid, exc)
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
    scores: list[Score]  # the usable pieces, each cut to what default_meta reads (_outline)


# -- the per-piece work (run in worker processes or Ray tasks) --------------------------------

_LOW, _HIGH = 21, 108  # the piano range the transpositions stay in


@dataclass(frozen=True)
class _PieceJob:
    """One piece to prepare: its corpus file, and the options of the run."""

    piece_id: str
    path: str
    kind: str
    parts: str
    augment: int
    data: bytes | None = None  # the file's bytes, for a worker that may not see our disks
    lenient: bool = False  # an unreadable file is skipped with a warning (fallback reader)
    transpose: bool = True  # False for a validation piece: only the piece as it is


class _PieceResult(NamedTuple):
    """What a worker sends back for one piece: plain lists, and a small score outline."""

    piece_id: str
    outline: Score | None  # None: no notes in the chosen parts (the piece is not used)
    # per transposition, the piece as it is first: REMI ids (transformer), or the tutorial's
    # note strings (lstm: the vocabulary is built in the driver, on the training pieces only)
    variants: list[list[Any]]
    error: tuple[str, str | None, str] | None = None  # (TunecraftError class, path, message)


_REMI: RemiTokenizer | None = None


def _remi() -> RemiTokenizer:
    """This process's REMI tokenizer (its configuration is fixed: the same in every worker)."""
    global _REMI
    if _REMI is None:
        _REMI = RemiTokenizer()
    return _REMI


def _outline(score: Score) -> Score:
    """The score cut to what ``default_meta`` reads: its first tempo, meter and key, and each
    track with one note (so the programs of tracks with notes are still seen)."""
    return Score(tracks=tuple(replace(t, notes=t.notes[:1]) for t in score.tracks),
                 tempos=score.tempos[:1], time_signatures=score.time_signatures[:1],
                 key_signatures=score.key_signatures[:1], title=score.title)


def _piece_result(piece_id: str, score: Score, kind: str, parts: str, augment: int,
                  transpose: bool = True) -> _PieceResult:
    """One piece's line, its transpositions (or only itself) and their tokens."""
    line = piece_notes(score, parts=parts)
    if not line:
        return _PieceResult(piece_id, None, [])
    shifted = [s for _, s in transpositions(line_score(score, line), semitones=augment,
                                            low=_LOW, high=_HIGH)]
    if not transpose:
        shifted = shifted[:1]
    if kind == "lstm":
        variants: list[list[Any]] = [NoteTokenizer.strings(s.tracks[0].notes) for s in shifted]
    else:
        tok = _remi()
        variants = [tok.encode(s, s.tracks[0].notes) for s in shifted]
    return _PieceResult(piece_id, _outline(score), variants)


_SKIP = "skip"  # the error kind of a piece that is left out with a warning, never fatal


def _prepare_piece(job: _PieceJob) -> _PieceResult:
    """Read one corpus piece and prepare it (the worker function of the data preparation).

    tunecraft's own errors come back as data (they do not all pickle) and are raised again by
    the driver.
    """
    from ..io.midi import read_midi

    try:
        if job.data is None:
            score = read_midi(job.path)
        else:
            with tempfile.TemporaryDirectory(prefix="tunecraft-train-") as d:
                f = Path(d) / Path(job.path).name
                f.write_bytes(job.data)
                try:
                    score = read_midi(f)
                except InputFileError as exc:
                    raise InputFileError(job.path, exc.problem) from None
        return _piece_result(job.piece_id, score, job.kind, job.parts, job.augment,
                             job.transpose)
    except TunecraftError as exc:
        return _PieceResult(job.piece_id, None, [], (type(exc).__name__,
                                                     getattr(exc, "path", None),
                                                     getattr(exc, "problem", str(exc))))
    except Exception as exc:  # a tokenizer's complaint about one piece: that piece is skipped
        first = str(exc).strip().splitlines()[0][:160] if str(exc).strip() else ""
        return _PieceResult(job.piece_id, None, [], (_SKIP, str(job.path),
                                                     f"could not be tokenized "
                                                     f"({type(exc).__name__}: {first})"))


def _raise_error(error: tuple[str, str | None, str]) -> None:
    name, path, message = error
    cls = getattr(_errors, name, None)
    if not (isinstance(cls, type) and issubclass(cls, TunecraftError)):
        cls = TunecraftError
    if path is not None and cls in (InputFileError, _errors.OutputFileError):
        raise cls(path, message)
    raise cls(message)


# -- the driver ------------------------------------------------------------------------------


def _assemble(results: Sequence[_PieceResult], kind: str, *, seed: int,
              val_fraction: float) -> _Data:
    """Split by piece, build the LSTM's vocabulary, encode: the prepared data."""
    usable = [r for r in results if r.outline is not None]
    if len(usable) < 2:
        raise ParameterError(f"the corpus has {len(usable)} piece(s) with notes; training needs "
                             "at least 2 (ingest more music)")
    variants = {r.piece_id: r.variants for r in usable}
    train_ids, val_ids = split_by_piece([r.piece_id for r in usable], val_fraction=val_fraction,
                                        seed=seed)
    tokenizer: NoteTokenizer | RemiTokenizer
    if kind == "lstm":
        # As NoteTokenizer.build on the training pieces' transpositions: every string, sorted.
        seen = {t for pid in train_ids for strings in variants[pid] for t in strings}
        tokenizer = NoteTokenizer((UNK, *sorted(seen)))
        index = {t: i for i, t in enumerate(tokenizer.vocab)}

        def enc(v: list[Any]) -> list[int]:
            return [index.get(t, 0) for t in v]
    else:
        tokenizer = RemiTokenizer()

        def enc(v: list[Any]) -> list[int]:
            return list(v)
    train = [[enc(v) for v in variants[pid]] for pid in train_ids]
    val = [enc(variants[pid][0]) for pid in val_ids]  # the piece as it is
    return _Data(tokenizer, train, val, train_ids, val_ids, [r.outline for r in usable])


def _prepare(pieces: list[tuple[str, Score]], kind: str, *, parts: str, seed: int,
             val_fraction: float, augment: int) -> _Data:
    """The prepared data of pieces already read, in this process."""
    return _assemble([_piece_result(pid, s, kind, parts, augment) for pid, s in pieces], kind,
                     seed=seed, val_fraction=val_fraction)


def _corpus_jobs(corpus_dir: Path, kind: str, *, parts: str, augment: int,
                 ship: bool) -> list[_PieceJob]:
    """The jobs of a corpus's ``ok`` pieces, in manifest order (as ``load_pieces`` reads them)."""
    if not corpus_dir.is_dir():
        raise InputFileError(corpus_dir, "no such corpus folder")
    try:
        from ..corpus import PIECES_DIR, read_manifest
    except ImportError:
        entries = list(_fallback_entries(corpus_dir))
        lenient = True
    else:
        entries = []
        for e in read_manifest(corpus_dir):
            if e.get("status") != "ok":
                continue
            p = corpus_dir / e.get("path", f"{PIECES_DIR}/{e['id']}.mid")
            if not p.is_file():  # as load_corpus says it
                raise InputFileError(p, f"piece {e['id']} ({e.get('source')}) is listed in the "
                                        "manifest but missing; run ingest again to restore it")
            entries.append((e["id"], p))
        lenient = False
    jobs = []
    for pid, p in entries:
        data = None
        if ship:
            try:
                data = p.read_bytes()
            except OSError:
                data = None  # the worker reports it
        jobs.append(_PieceJob(pid, str(p), kind, parts, augment, data, lenient))
    return jobs


def _prepare_corpus(corpus_dir: str | Path, kind: str, *, parts: str, seed: int,
                    val_fraction: float, augment: int, engine: str = "local",
                    workers: int | None = None) -> _Data:
    """The prepared data of a corpus folder, the per-piece work run on ``engine``."""
    if parts not in PARTS:
        raise ParameterError(f"parts {parts!r} is unknown (use 'all' or 'melody')")
    try:
        from ..corpus.engines import check_engine, map_ordered
    except ImportError:  # pragma: no cover - tunecraft without its corpus package
        if engine != "local":
            raise ParameterError(f"engine {engine!r} needs tunecraft.corpus") from None
        check_engine, map_ordered = None, None
    if check_engine is not None:
        check_engine(engine, workers)
    # Ray tasks are sent the files' bytes: a cluster's workers need not see our disks.
    jobs = _corpus_jobs(Path(corpus_dir), kind, parts=parts, augment=augment,
                        ship=engine == "ray")
    # Validation pieces are not transposed. Which they are depends on which pieces have notes,
    # known only once read: guess that all have (the usual case), and transpose afterwards any
    # piece the real split puts in training after all.
    ids = [j.piece_id for j in jobs]
    if len(set(ids)) >= 2:
        guess = set(split_by_piece(ids, val_fraction=val_fraction, seed=seed)[1])
        jobs = [replace(j, transpose=j.piece_id not in guess) for j in jobs]

    def run(todo: list[_PieceJob]) -> list[_PieceResult]:
        if map_ordered is None:  # pragma: no cover
            results = [_prepare_piece(j) for j in todo]
        else:
            results = map_ordered(_prepare_piece, todo, engine=engine, workers=workers)
        for job, r in zip(todo, results, strict=True):
            if r.error is not None and r.error[0] != _SKIP and not (
                    job.lenient and r.error[0] == "InputFileError"):
                _raise_error(r.error)
        return results

    t0 = time.perf_counter()
    results = run(jobs)
    kept = []
    for job, r in zip(jobs, results, strict=True):
        if r.error is not None:
            log.warning("skipping %s: %s: %s", job.piece_id, r.error[1], r.error[2])
            continue
        kept.append((job, r))
    usable = [r.piece_id for _, r in kept if r.outline is not None]
    if len(usable) >= 2:
        train_ids = set(split_by_piece(usable, val_fraction=val_fraction, seed=seed)[0])
        redo = [i for i, (j, _) in enumerate(kept) if not j.transpose and j.piece_id in train_ids]
        if redo:
            again = run([replace(kept[i][0], transpose=True) for i in redo])
            for i, r in zip(redo, again, strict=True):
                kept[i] = (kept[i][0], r)
    log.info("prepared %d pieces in %.1f s (%s engine)", len(jobs), time.perf_counter() - t0,
             engine)
    return _assemble([r for _, r in kept], kind, seed=seed, val_fraction=val_fraction)


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


@dataclass(frozen=True)
class TrainConfig:
    """How to train, as data: every option of :func:`train` but the folders and the callbacks.

    ``model`` "lstm" (the tutorial's) or "transformer"; ``network`` the network's size: an
    ``LSTMConfig``/``TransformerConfig``, a dict of its fields, ``"debug"`` (the tiny test
    model) or None (the default size), its window set by ``seq_len`` when given. ``parts``
    "all" merges every track of a piece, "melody" keeps its top voice; ``augment`` is the
    largest transposition (0: none); ``lr`` None takes the model's default; training stops
    after ``patience`` epochs without improvement, or after the epoch that passes
    ``max_seconds``. ``engine`` ("local" or "ray") and ``workers`` say where the data is
    prepared; the result does not depend on them. :meth:`to_dict` and :meth:`from_dict` make
    it JSON (a model folder's ``meta.json`` records it under ``training.config``).
    """

    model: str = "transformer"
    epochs: int = 10
    batch_size: int = 32
    seq_len: int | None = None
    lr: float | None = None
    device: str = "cpu"
    seed: int = 0
    patience: int = 3
    network: Any = None
    parts: str = "all"
    val_fraction: float = 0.1
    augment: int = 5
    max_seconds: float | None = None
    engine: str = "local"
    workers: int | None = None

    def __post_init__(self) -> None:
        if self.model not in ("lstm", "transformer"):
            raise ParameterError(f"model {self.model!r} is unknown (use 'lstm' or "
                                 "'transformer')")
        for name, value in (("epochs", self.epochs), ("batch size", self.batch_size),
                            ("patience", self.patience)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ParameterError(f"{name} must be a whole number of at least 1 (got "
                                     f"{value!r})")
        if self.lr is not None and not (isinstance(self.lr, (int, float))
                                        and math.isfinite(self.lr) and 0 < self.lr <= 10):
            raise ParameterError(f"learning rate {self.lr!r} must be a number above 0 and at "
                                 "most 10")

    @property
    def learning_rate(self) -> float:
        return float(self.lr if self.lr is not None else _DEFAULT_LR[self.model])

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        net = self.network
        d["network"] = net.to_dict() if hasattr(net, "to_dict") else net
        return d

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainConfig:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ParameterError(f"unknown training option(s): {', '.join(unknown)} (known: "
                                 f"{', '.join(sorted(known))})")
        return cls(**data)


@dataclass
class _Run:
    """Where a training run stands: what is checkpointed after every epoch."""

    history: list[EpochStats] = field(default_factory=list)
    best_val: float = math.inf
    best_epoch: int = 0
    bad: int = 0
    step: int = 0
    best_state: dict[str, Any] | None = None

    def state(self, model: str, cfg: Any, net: Any, opt: Any) -> dict[str, Any]:
        import torch

        return {"kind": model, "config": cfg.to_dict(), "model": net.state_dict(),
                "optimizer": opt.state_dict(), "rng": torch.get_rng_state(),
                "history": [asdict(h) for h in self.history], "best_val": self.best_val,
                "best_epoch": self.best_epoch, "bad": self.bad, "step": self.step,
                "best_model": self.best_state}


def _resume(ckpt: Path, out: Path, model: str, cfg: Any, net: Any, opt: Any, dev: Any) -> _Run:
    """The run saved in the checkpoint, its weights, optimizer and RNG state restored."""
    import torch

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
    run = _Run([EpochStats(**h) for h in state["history"]], state["best_val"],
               state["best_epoch"], state["bad"], state["step"], state["best_model"])
    log.info("resuming %s training at epoch %d", model, len(run.history) + 1)
    return run


def _train_epoch(net: Any, opt: Any, windows: list[list[int]], batch_size: int, lr: float,
                 run: _Run, dev: Any, epoch: int,
                 batch_progress: Callable[[int, int, int], None] | None
                 ) -> tuple[float, int, float]:
    """One pass over the windows (AdamW, linear warm-up, clipping at 1.0). Returns the summed
    loss, the tokens and the learning rate reached."""
    import torch
    import torch.nn.functional as F

    tot_loss, tot_tok, cur_lr = 0.0, 0, lr
    for i in range(0, len(windows), batch_size):
        batch = torch.tensor(windows[i:i + batch_size], dtype=torch.long, device=dev)
        run.step += 1
        cur_lr = lr * min(1.0, run.step / WARMUP_STEPS)
        for g in opt.param_groups:
            g["lr"] = cur_lr
        logits, _ = net(batch[:, :-1])
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), batch[:, 1:].reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
        opt.step()
        n_tok = batch[:, 1:].numel()
        tot_loss += float(loss.detach()) * n_tok
        tot_tok += n_tok
        if batch_progress is not None:  # (epoch, windows done, windows in the epoch)
            batch_progress(epoch, min(i + batch_size, len(windows)), len(windows))
    return tot_loss, tot_tok, cur_lr


def train(corpus_dir: str | Path, *, out_dir: str | Path, config: TrainConfig | None = None,
          resume: bool = False, progress: Callable[[EpochStats], None] | None = None,
          batch_progress: Callable[[int, int, int], None] | None = None,
          corpus_info: dict[str, Any] | None = None, **options: Any) -> TrainReport:
    """Train the tutorial's LSTM or the Transformer on a corpus folder; write a model folder.

    ``config`` (:class:`TrainConfig`) says how; keyword ``options`` change its fields
    (``model="lstm", epochs=2, network="debug"``...). ``resume`` continues from the
    checkpoint in ``out_dir``. ``progress(stats)`` is called after each epoch,
    ``batch_progress(epoch, done, total)`` after each batch (windows done of the epoch's
    total). ``corpus_info`` is recorded in the model card's metadata.
    """
    import torch

    from .store import build_network

    try:
        tc = replace(config or TrainConfig(), **options)
    except TypeError as exc:
        raise ParameterError(f"unknown training option ({exc})") from None
    dev = _device(tc.device)
    t_start = time.perf_counter()
    out = Path(out_dir)
    data = _prepare_corpus(corpus_dir, tc.model, parts=tc.parts, seed=tc.seed,
                           val_fraction=tc.val_fraction, augment=tc.augment, engine=tc.engine,
                           workers=tc.workers)
    cfg = _make_config(tc.model, data.tokenizer.vocab_size, tc.seq_len, tc.network)
    lr = tc.learning_rate
    epoch_len = len(_stream(data, 0, tc.seed))
    val_stream = [t for ids in data.val for t in ids]
    if epoch_len < cfg.seq_len + 1:
        raise ParameterError(f"the training pieces hold {epoch_len} tokens, fewer than one "
                             f"window of {cfg.seq_len + 1}; ingest more music or pass a "
                             "smaller --seq-len")
    val_windows = _val_windows(val_stream, cfg.seq_len)
    if not val_windows:
        raise ParameterError("the validation pieces hold fewer than 2 tokens; ingest more music")
    pad_id = data.tokenizer.pad_id if isinstance(data.tokenizer, RemiTokenizer) else None

    torch.manual_seed(tc.seed)
    net = build_network(tc.model, cfg).to(dev)
    opt = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=0.01)
    ckpt = out / "checkpoints" / "last.pt"
    run = _resume(ckpt, out, tc.model, cfg, net, opt, dev) if resume else _Run()

    prev_det = torch.are_deterministic_algorithms_enabled()
    torch.use_deterministic_algorithms(True, warn_only=True)
    stopped = run.bad >= tc.patience
    try:
        net.train()
        for epoch in range(len(run.history) + 1, tc.epochs + 1):
            if stopped:
                break
            t0 = time.perf_counter()
            windows = _windows(_stream(data, epoch, tc.seed), cfg.seq_len)
            random.Random(f"batches:{tc.seed}:{epoch}").shuffle(windows)
            tot_loss, tot_tok, cur_lr = _train_epoch(net, opt, windows, tc.batch_size, lr, run,
                                                     dev, epoch, batch_progress)
            train_time = time.perf_counter() - t0
            val_loss, acc = _evaluate(net, val_windows, tc.batch_size, dev, pad_id)
            stats = EpochStats(epoch, tot_loss / max(tot_tok, 1), val_loss,
                               math.exp(min(val_loss, 50.0)), acc, tot_tok / max(train_time, 1e-9),
                               time.perf_counter() - t0, cur_lr if tot_tok else lr)
            run.history.append(stats)
            log.info("%s", stats)
            if progress is not None:
                progress(stats)
            if val_loss < run.best_val - 1e-4:
                run.best_val, run.best_epoch, run.bad = val_loss, epoch, 0
                run.best_state = {k: v.detach().cpu().clone()
                                  for k, v in net.state_dict().items()}
            else:
                run.bad += 1
            stopped = run.bad >= tc.patience
            ckpt.parent.mkdir(parents=True, exist_ok=True)
            torch.save(run.state(tc.model, cfg, net, opt), ckpt)
            if tc.max_seconds is not None and time.perf_counter() - t_start > tc.max_seconds:
                log.info("time budget of %.0f s reached after epoch %d", tc.max_seconds, epoch)
                break
            if stopped:
                log.info("no improvement for %d epochs: stopping early", tc.patience)
    finally:
        torch.use_deterministic_algorithms(prev_det)

    report = TrainReport(
        model=tc.model, out_dir=str(out), epochs_run=len(run.history),
        best_epoch=run.best_epoch, stopped_early=stopped and len(run.history) < tc.epochs,
        history=tuple(run.history), pieces_train=len(data.train_ids),
        pieces_val=len(data.val_ids), train_tokens=epoch_len, val_tokens=len(val_stream),
        vocab_size=data.tokenizer.vocab_size,
        parameters=sum(p.numel() for p in net.parameters()), device=str(dev),
        wall_s=time.perf_counter() - t_start, config=cfg.to_dict())
    _write_model(out, tc, cfg, run, data, report, corpus_dir=corpus_dir,
                 corpus_info=corpus_info, val_tokens=len(val_stream))
    return report


def _write_model(out: Path, tc: TrainConfig, cfg: Any, run: _Run, data: _Data,
                 report: TrainReport, *, corpus_dir: str | Path,
                 corpus_info: dict[str, Any] | None, val_tokens: int) -> None:
    """The model folder: the best epoch's weights, the tokenizer, and what made them."""
    from .store import build_network, save_model

    final = build_network(tc.model, cfg)
    if run.best_state is not None:
        final.load_state_dict(run.best_state)
    final.eval()
    extra = None
    if isinstance(data.tokenizer, NoteTokenizer):
        extra = {"start_counts": start_distribution(
            [v[0] for v in data.train if v], data.tokenizer.vocab_size)}
    b = report.best
    history = run.history
    meta = {
        "parts": tc.parts,
        "defaults": default_meta(data.scores),
        "corpus": {**(corpus_info or {}), "folder": str(corpus_dir),
                   "pieces": len(data.scores), "train_pieces": len(data.train_ids),
                   "val_pieces": len(data.val_ids), "augment_semitones": tc.augment,
                   "train_tokens_per_epoch": report.train_tokens, "val_tokens": val_tokens},
        "training": {"epochs_run": report.epochs_run, "best_epoch": run.best_epoch,
                     "batch_size": tc.batch_size, "lr": tc.learning_rate, "seed": tc.seed,
                     "device": report.device,
                     "val_loss": b.val_loss if b else None,
                     "perplexity": b.perplexity if b else None,
                     "accuracy": b.accuracy if b else None,
                     "tokens_per_s": (sum(h.tokens_per_s for h in history) / len(history)
                                      if history else None),
                     "wall_s": round(report.wall_s, 1), "parameters": report.parameters,
                     "history": [asdict(h) for h in history],
                     "config": tc.to_dict()},
    }
    save_model(out, kind=tc.model, net=final, tokenizer=data.tokenizer, meta=meta,
               tokenizer_extra=extra)
