"""The MIDI-LSTM tutorial's network, layer for layer, in PyTorch.

The tutorial (Keras): windows of 100 tokens -> ``LSTM(256, return_sequences=True)`` ->
``Dropout(0.3)`` -> ``LSTM(256)`` -> ``Dense(n_vocab)`` -> softmax. Here:

* the same two LSTM layers of 256 units, the same dropout of 0.3 between them, the same dense
  layer over the vocabulary; the softmax is folded into the loss (cross-entropy on logits) and
  into sampling;
* the input is an **embedding** of each token id (``input_mode="embedding"``, the default)
  rather than the tutorial's id divided by the vocabulary size (``"normalized"``, kept as an
  option): a learned vector per token trains far faster than one scalar whose size means
  nothing;
* the second LSTM returns every step and the loss is taken at every position of the window
  (teacher forcing), not only after its last token: the same parameters, a hundred times more
  signal per window. Sampling reads the last position, as the tutorial does.

The recurrent state ``(h, c)`` is the LSTM's cache when sampling token by token.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import torch
from torch import nn

from ..errors import ParameterError
from .limits import check_model_size

__all__ = ["LSTMConfig", "MelodyLSTM"]


@dataclass(frozen=True)
class LSTMConfig:
    """The tutorial's LSTM. ``debug()`` is a tiny one for tests."""

    vocab_size: int
    seq_len: int = 100
    hidden: int = 256
    embed_dim: int = 96
    dropout: float = 0.3
    input_mode: str = "embedding"  # or "normalized" (the tutorial's id / vocab_size)

    def __post_init__(self) -> None:
        if self.vocab_size < 2:
            raise ParameterError("an LSTM needs a vocabulary of at least 2 tokens")
        if self.input_mode not in ("embedding", "normalized"):
            raise ParameterError(f"LSTM input mode {self.input_mode!r} is unknown "
                                 "(use 'embedding' or 'normalized')")
        if not 0 <= self.dropout < 1 or self.hidden < 1 or self.seq_len < 2:
            raise ParameterError("LSTM config: dropout must be in [0, 1), hidden >= 1, "
                                 "seq_len >= 2")
        check_model_size("LSTM", self.parameter_count())

    def parameter_count(self) -> int:
        """Roughly how many weights the network holds (embedding, two LSTM layers, head)."""
        h, e, v = self.hidden, self.embed_dim, self.vocab_size
        return v * e + 4 * h * (e + h + 1) + 4 * h * (2 * h + 1) + h * v + v

    @classmethod
    def debug(cls, vocab_size: int) -> LSTMConfig:
        return cls(vocab_size=vocab_size, seq_len=16, hidden=16, embed_dim=8)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LSTMConfig:
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})


class MelodyLSTM(nn.Module):
    """Embedding -> LSTM(256) -> Dropout(0.3) -> LSTM(256) -> Linear(vocab)."""

    def __init__(self, config: LSTMConfig) -> None:
        super().__init__()
        self.config = config
        c = config
        in_size = c.embed_dim if c.input_mode == "embedding" else 1
        self.embed = nn.Embedding(c.vocab_size, c.embed_dim) if c.input_mode == "embedding" \
            else None
        self.lstm1 = nn.LSTM(in_size, c.hidden, batch_first=True)
        self.dropout = nn.Dropout(c.dropout)
        self.lstm2 = nn.LSTM(c.hidden, c.hidden, batch_first=True)
        self.dense = nn.Linear(c.hidden, c.vocab_size)

    def _inputs(self, ids: torch.Tensor) -> torch.Tensor:
        if self.embed is not None:
            return self.embed(ids)
        return (ids.float() / self.config.vocab_size).unsqueeze(-1)

    def forward(self, ids: torch.Tensor, state: Any = None) -> tuple[torch.Tensor, Any]:
        """Logits ``[batch, time, vocab]`` and the recurrent state to continue from."""
        s1, s2 = state if state is not None else (None, None)
        x, s1 = self.lstm1(self._inputs(ids), s1)
        x, s2 = self.lstm2(self.dropout(x), s2)
        return self.dense(x), (s1, s2)
