"""A small decoder-only Transformer over REMI tokens, with a KV cache for sampling.

Pre-LN blocks (``x + attn(LN(x))``, ``x + mlp(LN(x))``), causal multi-head self-attention
(``scaled_dot_product_attention``), learned absolute positions, GELU MLP, a final LayerNorm and
an output layer tied to the token embedding.

``forward(ids, cache=None)`` returns logits and a new cache: one ``(keys, values)`` pair per
layer holding every position seen so far. Feeding a prompt once and then one token at a time
with the cache gives the same logits as running the whole sequence again (a test checks this),
at a fraction of the cost.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import ParameterError
from .limits import check_model_size

__all__ = ["KVCache", "MelodyTransformer", "TransformerConfig"]

KVCache = list[tuple[torch.Tensor, torch.Tensor]]


@dataclass(frozen=True)
class TransformerConfig:
    """A decoder-only Transformer. ``debug()`` is a tiny one for tests."""

    vocab_size: int
    seq_len: int = 256  # training window and context length
    d_model: int = 128
    n_layers: int = 4
    n_heads: int = 4
    d_ff: int = 512
    dropout: float = 0.1

    def __post_init__(self) -> None:
        if self.vocab_size < 2:
            raise ParameterError("a Transformer needs a vocabulary of at least 2 tokens")
        if self.d_model % self.n_heads:
            raise ParameterError(f"d_model {self.d_model} must divide into {self.n_heads} heads")
        if self.seq_len < 2 or self.n_layers < 1 or not 0 <= self.dropout < 1:
            raise ParameterError("Transformer config: seq_len >= 2, n_layers >= 1, "
                                 "dropout in [0, 1)")
        check_model_size("Transformer", self.parameter_count())

    def parameter_count(self) -> int:
        """Roughly how many weights the network holds (embeddings, blocks, head)."""
        d, v = self.d_model, self.vocab_size
        block = 4 * d * d + 2 * d * self.d_ff + 9 * d + self.d_ff
        return 2 * v * d + self.seq_len * d + self.n_layers * block

    @classmethod
    def debug(cls, vocab_size: int) -> TransformerConfig:
        return cls(vocab_size=vocab_size, seq_len=32, d_model=16, n_layers=2, n_heads=2,
                   d_ff=32, dropout=0.0)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TransformerConfig:
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})


class _Attention(nn.Module):
    def __init__(self, c: TransformerConfig) -> None:
        super().__init__()
        self.n_heads = c.n_heads
        self.qkv = nn.Linear(c.d_model, 3 * c.d_model)
        self.out = nn.Linear(c.d_model, c.d_model)
        self.dropout = c.dropout

    def forward(self, x: torch.Tensor, past: tuple[torch.Tensor, torch.Tensor] | None
                ) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
        b, t, d = x.shape
        h = self.n_heads
        q, k, v = self.qkv(x).view(b, t, 3, h, d // h).permute(2, 0, 3, 1, 4)
        if past is not None:
            k = torch.cat([past[0], k], dim=2)
            v = torch.cat([past[1], v], dim=2)
        p = self.dropout if self.training else 0.0
        n_past = k.shape[2] - t
        if n_past == 0:
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True, dropout_p=p)
        else:  # new queries see every cached position and the new ones up to themselves
            mask = torch.ones(t, k.shape[2], dtype=torch.bool, device=x.device).tril(n_past)
            y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=p)
        return self.out(y.transpose(1, 2).reshape(b, t, d)), (k, v)


class _Block(nn.Module):
    def __init__(self, c: TransformerConfig) -> None:
        super().__init__()
        self.ln1 = nn.LayerNorm(c.d_model)
        self.attn = _Attention(c)
        self.ln2 = nn.LayerNorm(c.d_model)
        self.mlp = nn.Sequential(nn.Linear(c.d_model, c.d_ff), nn.GELU(),
                                 nn.Linear(c.d_ff, c.d_model))
        self.drop = nn.Dropout(c.dropout)

    def forward(self, x: torch.Tensor, past: Any) -> tuple[torch.Tensor, Any]:
        a, kv = self.attn(self.ln1(x), past)
        x = x + self.drop(a)
        x = x + self.drop(self.mlp(self.ln2(x)))
        return x, kv


class MelodyTransformer(nn.Module):
    """Token + position embeddings -> pre-LN blocks -> LayerNorm -> tied output layer."""

    def __init__(self, config: TransformerConfig) -> None:
        super().__init__()
        self.config = c = config
        self.tok = nn.Embedding(c.vocab_size, c.d_model)
        self.pos = nn.Embedding(c.seq_len, c.d_model)
        self.drop = nn.Dropout(c.dropout)
        self.blocks = nn.ModuleList(_Block(c) for _ in range(c.n_layers))
        self.ln_f = nn.LayerNorm(c.d_model)
        self.head = nn.Linear(c.d_model, c.vocab_size, bias=False)
        self.head.weight = self.tok.weight  # tied
        self.apply(self._init)
        for name, p in self.named_parameters():  # GPT-2's scaled init of residual outputs
            if name.endswith("out.weight") or name.endswith("mlp.2.weight"):
                nn.init.normal_(p, 0.0, 0.02 / math.sqrt(2 * c.n_layers))

    @staticmethod
    def _init(m: nn.Module) -> None:
        if isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, 0.0, 0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Embedding):
            nn.init.normal_(m.weight, 0.0, 0.02)

    def forward(self, ids: torch.Tensor, cache: KVCache | None = None
                ) -> tuple[torch.Tensor, KVCache]:
        """Logits ``[batch, time, vocab]`` and the cache extended by ``ids``."""
        start = cache[0][0].shape[2] if cache else 0
        t = ids.shape[1]
        if start + t > self.config.seq_len:
            raise ParameterError(f"{start + t} tokens exceed the model's context of "
                                 f"{self.config.seq_len}")
        pos = torch.arange(start, start + t, device=ids.device)
        x = self.drop(self.tok(ids) + self.pos(pos))
        new: KVCache = []
        for i, block in enumerate(self.blocks):
            x, kv = block(x, cache[i] if cache else None)
            new.append(kv)
        return self.head(self.ln_f(x)), new
