"""Training throughput (tokens per second) of the tutorial's LSTM and the Transformer on this CPU.

    python benchmarks/train.py [--batches N] [--batch-size B] [--threads T]

Times forward + backward + AdamW step on windows of random tokens at each model's own window
length, after one warm-up batch; prints one line per model.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path


def main() -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    import torch
    import torch.nn.functional as F

    from tunecraft.models.build_default import DEFAULT_CONFIG
    from tunecraft.models.lstm import LSTMConfig
    from tunecraft.models.store import build_network
    from tunecraft.models.transformer import TransformerConfig

    ap = argparse.ArgumentParser()
    ap.add_argument("--batches", type=int, default=5)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--threads", type=int, default=None)
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    vocab = 340
    models = [
        ("lstm (tutorial: 2x256, window 100)", "lstm", LSTMConfig(vocab_size=vocab)),
        ("transformer (default model)", "transformer",
         TransformerConfig(vocab_size=vocab, **DEFAULT_CONFIG)),
        ("transformer (TransformerConfig())", "transformer", TransformerConfig(vocab_size=vocab)),
    ]
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, batch "
          f"{args.batch_size}")
    print(f"{'model':<36}{'params':>10}{'window':>8}{'tokens/s':>11}")
    for label, kind, cfg in models:
        torch.manual_seed(0)
        net = build_network(kind, cfg)
        net.train()
        opt = torch.optim.AdamW(net.parameters(), lr=1e-3)
        x = torch.randint(0, vocab, (args.batch_size, cfg.seq_len + 1))
        t0 = 0.0
        for i in range(args.batches + 1):
            if i == 1:
                t0 = time.perf_counter()
            logits, _ = net(x[:, :-1])
            loss = F.cross_entropy(logits.reshape(-1, vocab), x[:, 1:].reshape(-1))
            opt.zero_grad()
            loss.backward()
            opt.step()
        dt = time.perf_counter() - t0
        tps = args.batches * args.batch_size * cfg.seq_len / dt
        params = sum(p.numel() for p in net.parameters())
        print(f"{label:<36}{params:>10,}{cfg.seq_len:>8}{tps:>11,.0f}")


if __name__ == "__main__":
    main()
