"""Sampling music from a trained model: ``sample(model_dir, prompt=..., bars=8, seed=...)``.

(This module is ``sampling`` and not ``sample`` so that ``tunecraft.models.sample`` stays the
function.)

* **Transformer** (REMI): the sequence starts with ``BOS``, ``Bar`` and the meter's ``TimeSig``
  token (or with the prompt's tokens and a fresh ``Bar``), and tokens are drawn one at a time
  until the requested number of bars is complete. The KV cache holds the keys and values of
  every earlier position, so each new token costs one position's work; when the context is
  full, the last half of it is fed again and sampling goes on. ``EOS`` is not allowed before the
  last bar, and the meter stays the one asked for (its ``TimeSig`` token only right after a
  ``Bar``, no other meter's).
* **LSTM** (the tutorial's tokens): the sequence starts with the prompt's tokens (or one token
  drawn from how training pieces begin), and ``bars * beats_per_bar / 0.5`` tokens are drawn,
  each sounding for half a beat, as in the tutorial. Its recurrent state is its cache.

Each draw divides the logits by ``temperature`` and keeps the smallest set of tokens whose
probability reaches ``top_p`` (nucleus sampling). A seed fixes every draw: same seed, same
music. Tempo and meter come from the prompt, else from the model's corpus; the key signature of
the result is the key its notes are in (Krumhansl-Schmuckler), the instrument the prompt's lead
or the corpus's usual one.
"""

from __future__ import annotations

import logging
import math
import secrets
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..errors import ParameterError
from ..score.types import KeySignature, Note, Score, TimeSignature
from .store import LoadedModel, load_model
from .tokens import (
    STEP_BEATS,
    NoteTokenizer,
    RemiTokenizer,
    defaults_of,
    make_score,
    piece_notes,
)

log = logging.getLogger(__name__)

__all__ = ["estimate_key", "sample", "sample_notes"]

def estimate_key(notes: Sequence[Note]) -> KeySignature:
    """The key whose profile best fits the notes (:func:`tunecraft.analysis.key_of_notes`)."""
    from ..analysis import key_of_notes

    tonic, mode, _ = key_of_notes(notes)
    return KeySignature(0.0, tonic, mode)


# ----------------------------------------------------------------------------------------------
# Drawing tokens


def _draw(logits: Any, temperature: float, top_p: float, gen: Any,
          banned: Sequence[int] = ()) -> int:
    import torch

    x = logits.float().clone()
    if banned:
        x[list(banned)] = -math.inf
    x = x / max(temperature, 1e-4)
    probs = torch.softmax(x, dim=-1)
    if top_p < 1.0:
        sorted_p, order = torch.sort(probs, descending=True)
        cum = torch.cumsum(sorted_p, dim=-1)
        keep = cum - sorted_p < top_p  # the smallest prefix reaching top_p
        keep[0] = True
        probs = torch.zeros_like(probs).scatter(0, order[keep], sorted_p[keep])
    return int(torch.multinomial(probs / probs.sum(), 1, generator=gen))


def _generate(lm: LoadedModel, prime: list[int], *, temperature: float, top_p: float, gen: Any,
              max_new: int, stop: Any = None, banned: Any = None) -> list[int]:
    """Draw up to ``max_new`` tokens after ``prime``; ``stop(token, ids)`` ends before a token.

    ``banned(ids)`` lists the tokens not allowed next.
    """
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # one token at a time: threads only wait on each other
    try:
        return _generate_loop(lm, prime, temperature=temperature, top_p=top_p, gen=gen,
                              max_new=max_new, stop=stop, banned=banned)
    finally:
        torch.set_num_threads(threads)


def _generate_loop(lm: LoadedModel, prime: list[int], *, temperature: float, top_p: float,
                   gen: Any, max_new: int, stop: Any, banned: Any) -> list[int]:
    import torch

    net = lm.net
    ids = list(prime)
    new: list[int] = []
    with torch.no_grad():
        if lm.kind == "transformer":
            ctx = lm.config.seq_len
            window = ids[-(ctx - 1):] if len(ids) >= ctx else ids
            logits, cache = net(torch.tensor([window]))
            for _ in range(max_new):
                tid = _draw(logits[0, -1], temperature, top_p, gen,
                            banned(ids) if banned else ())
                if stop is not None and stop(tid, ids):
                    break
                ids.append(tid)
                new.append(tid)
                if cache[0][0].shape[2] >= ctx:  # context full: keep its last half
                    logits, cache = net(torch.tensor([ids[-(ctx // 2):]]))
                else:
                    logits, cache = net(torch.tensor([[tid]]), cache)
        else:
            logits, state = net(torch.tensor([ids[-lm.config.seq_len:]]))
            for _ in range(max_new):
                tid = _draw(logits[0, -1], temperature, top_p, gen,
                            banned(ids) if banned else ())
                if stop is not None and stop(tid, ids):
                    break
                ids.append(tid)
                new.append(tid)
                logits, state = net(torch.tensor([[tid]]), state)
    return new


def _generator(seed: int | None) -> Any:
    import torch

    g = torch.Generator()
    g.manual_seed(secrets.randbelow(2**31) if seed is None else int(seed))
    return g


def sample_notes(lm: LoadedModel, *, bars: int, meter: TimeSignature,
                 prompt: Sequence[Note] = (), temperature: float = 1.0, top_p: float = 0.95,
                 seed: int | None = None) -> tuple[list[Note], float]:
    """New notes continuing ``prompt`` (or starting afresh) for ``bars`` bars of ``meter``.

    Returns the new notes and the beat where they start (0, or the prompt's length rounded up to
    a bar line); the notes lie in ``[start, start + bars * bar_beats)``.
    """
    if bars < 1:
        raise ParameterError("sample at least 1 bar")
    if not temperature > 0:
        raise ParameterError(f"temperature {temperature!r} must be above 0")
    if not 0 < top_p <= 1:
        raise ParameterError(f"top-p {top_p!r} must be in (0, 1]")
    gen = _generator(seed)
    bar = meter.bar_beats
    tok = lm.tokenizer
    if isinstance(tok, RemiTokenizer):
        from ..score.types import TempoChange, Track

        if prompt:
            ps = Score(tracks=(Track("Prompt", tuple(prompt), role="lead"),),
                       tempos=(TempoChange(0.0, 120.0),),
                       time_signatures=(TimeSignature(0.0, meter.numerator, meter.denominator),))
            prime = tok.encode(ps, prompt, eos=False)
            prime.append(tok.bar_id)
        else:
            prime = [tok.bos_id, tok.bar_id]
            ts = tok.time_signature_id(meter.numerator, meter.denominator)
            if ts is not None:
                prime.append(ts)
            else:
                log.info("the model has no token for %s; sampling in its own meter", meter)
        start_bar = prime.count(tok.bar_id) - 1
        state = {"bars": 1}
        specials = (tok.pad_id, tok.bos_id, tok.eos_id)
        ts_id = tok.time_signature_id(meter.numerator, meter.denominator)
        other_ts = tuple(i for t, i in tok.vocab.items() if t.startswith("TimeSig_")
                         and i != ts_id)
        # The meter is fixed: its TimeSig token only right after a Bar, no other meter's.
        after_bar = (*specials, *other_ts)
        elsewhere = (*after_bar, ts_id) if ts_id is not None else after_bar

        def banned(ids: list[int]) -> tuple[int, ...]:
            if ts_id is None:
                return specials
            return after_bar if ids and ids[-1] == tok.bar_id else elsewhere

        def stop(tid: int, ids: list[int]) -> bool:
            if tid == tok.bar_id:
                state["bars"] += 1
                return state["bars"] > bars
            return tid == tok.eos_id

        new = _generate(lm, prime, temperature=temperature, top_p=top_p, gen=gen,
                        max_new=bars * 96, stop=stop, banned=banned)
        notes, _ = tok.decode_notes(prime + new)
        start = start_bar * bar
        out = [n for n in notes if start - 1e-9 <= n.start < start + bars * bar]
    else:
        assert isinstance(tok, NoteTokenizer)
        if prompt:
            prime = tok.encode(prompt)
        else:
            import torch

            counts = lm.meta.get("_start_counts") or _start_counts(lm)
            w = torch.tensor([float(c) for c in counts]) + 1e-3
            w[0] = 0.0
            prime = [int(torch.multinomial(w / w.sum(), 1, generator=gen))]
        steps = round(bars * bar / STEP_BEATS)
        prompt_end = max((n.end for n in prompt), default=0.0)
        start = math.ceil(prompt_end / bar - 1e-9) * bar if prompt else 0.0
        if prompt:
            new = _generate(lm, prime, temperature=temperature, top_p=top_p, gen=gen,
                            max_new=steps, banned=lambda ids: (0,))
        else:  # the first token is the drawn opening
            new = prime + _generate(lm, prime, temperature=temperature, top_p=top_p, gen=gen,
                                    max_new=steps - 1, banned=lambda ids: (0,))
        out = tok.decode_notes(new, start=start)
    end = start + bars * bar
    clipped = [Note(n.pitch, n.start, min(n.end, end) - n.start, n.velocity) for n in out
               if n.start < end - 1e-9]
    return clipped, start


def _start_counts(lm: LoadedModel) -> list[int]:
    import json

    data = json.loads((lm.folder / "vocab.json").read_text())
    counts = data.get("start_counts") or [1] * lm.tokenizer.vocab_size
    lm.meta["_start_counts"] = counts
    return counts


def sample(model_dir: str | Path | LoadedModel | None = None, *, prompt: Score | None = None,
           bars: int = 8, temperature: float = 1.0, top_p: float = 0.95,
           seed: int | None = None, include_prompt: bool = True) -> Score:
    """Sample ``bars`` bars of music from a model (default: the model shipped with tunecraft).

    With a ``prompt`` the model continues it (its tracks merged into one line, or its top voice
    for a melody model) and the result holds the prompt followed by the new bars
    (``include_prompt=False``: the new bars only, still placed after the prompt). Deterministic
    for a seed.
    """
    lm = model_dir if isinstance(model_dir, LoadedModel) else load_model(model_dir)
    bpm, meter, _key, program = defaults_of(lm.meta)
    prompt_notes: tuple[Note, ...] = ()
    if prompt is not None:
        bpm, meter = prompt.bpm, prompt.time_signature
        prompt_notes = piece_notes(prompt, parts=lm.meta.get("parts", "all"))
        lead = next((t for t in prompt.tracks if not t.is_drum and t.notes), None)
        if lead is not None:
            program = lead.program
    new, start = sample_notes(lm, bars=bars, meter=meter, prompt=prompt_notes,
                              temperature=temperature, top_p=top_p, seed=seed)
    notes = list(prompt_notes) + new if include_prompt else new
    key = prompt.key if prompt is not None else estimate_key(new)
    return make_score(notes, bpm=bpm, meter=meter, key=key, program=program,
                      length=start + bars * meter.bar_beats,
                      title=f"sampled from {lm.folder.name}")
