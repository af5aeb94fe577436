"""The networks: the tutorial's LSTM layer for layer; the Transformer's KV cache."""

from __future__ import annotations

import pytest
import torch

from tunecraft.errors import ParameterError
from tunecraft.models.lstm import LSTMConfig, MelodyLSTM
from tunecraft.models.transformer import MelodyTransformer, TransformerConfig


def test_lstm_layers_match_the_tutorial():
    cfg = LSTMConfig(vocab_size=358)
    net = MelodyLSTM(cfg)
    assert cfg.seq_len == 100
    assert net.lstm1.hidden_size == 256 and net.lstm1.num_layers == 1 and net.lstm1.batch_first
    assert net.lstm2.input_size == 256 and net.lstm2.hidden_size == 256
    assert isinstance(net.dropout, torch.nn.Dropout) and net.dropout.p == pytest.approx(0.3)
    assert (net.dense.in_features, net.dense.out_features) == (256, 358)
    names = [n for n, _ in net.named_children()]
    assert names == ["embed", "lstm1", "dropout", "lstm2", "dense"]
    logits, _ = net(torch.zeros(2, 100, dtype=torch.long))
    assert logits.shape == (2, 100, 358)


def test_lstm_normalized_input_is_the_tutorials_scalar():
    net = MelodyLSTM(LSTMConfig(vocab_size=50, input_mode="normalized"))
    assert net.embed is None and net.lstm1.input_size == 1
    logits, _ = net(torch.randint(0, 50, (1, 10)))
    assert logits.shape == (1, 10, 50)


def test_lstm_state_continues_like_a_cache():
    torch.manual_seed(0)
    net = MelodyLSTM(LSTMConfig.debug(30)).eval()
    x = torch.randint(0, 30, (1, 12))
    full, _ = net(x)
    _, st = net(x[:, :8])
    step, _ = net(x[:, 8:], st)
    assert torch.allclose(full[:, 8:], step, atol=1e-5)


def test_transformer_kv_cache_gives_the_same_logits():
    torch.manual_seed(0)
    cfg = TransformerConfig(vocab_size=40, seq_len=64, d_model=32, n_layers=3, n_heads=4,
                            d_ff=64, dropout=0.1)
    net = MelodyTransformer(cfg).eval()
    x = torch.randint(0, 40, (2, 20))
    full, _ = net(x)
    logits, cache = net(x[:, :7])  # prefill
    steps = [logits]
    for t in range(7, 20):  # then one token at a time
        logits, cache = net(x[:, t:t + 1], cache)
        steps.append(logits)
    cached = torch.cat(steps, dim=1)
    assert torch.allclose(full, cached, atol=1e-5)
    assert cache[0][0].shape == (2, 4, 20, 8)
    # several new tokens at once over a cache
    _, c5 = net(x[:, :5])
    chunk, _ = net(x[:, 5:11], c5)
    assert torch.allclose(full[:, 5:11], chunk, atol=1e-5)


def test_transformer_is_causal_and_tied():
    torch.manual_seed(0)
    net = MelodyTransformer(TransformerConfig.debug(30)).eval()
    x = torch.randint(0, 30, (1, 10))
    y = x.clone()
    y[0, 7:] = (y[0, 7:] + 1) % 30
    assert torch.allclose(net(x)[0][:, :7], net(y)[0][:, :7], atol=1e-6)
    assert net.head.weight is net.tok.weight
    with pytest.raises(ParameterError, match="context"):
        net(torch.zeros(1, 33, dtype=torch.long))


def test_configs_serialise_and_validate():
    for cls in (LSTMConfig, TransformerConfig):
        cfg = cls.debug(77)
        assert cls.from_dict(cfg.to_dict()) == cfg
    with pytest.raises(ParameterError):
        TransformerConfig(vocab_size=10, d_model=30, n_heads=4)
    with pytest.raises(ParameterError):
        LSTMConfig(vocab_size=10, input_mode="one-hot")
