"""Scoring continuations with a language model: which rhyme word fits a line best.

(Candidates drawn in one batch are ranked by the log-probabilities ``GPT.generate`` reports.)
"""

from __future__ import annotations


def score_suffixes(model, prefix: list[int], suffixes: list[list[int]], *, batch: int = 256) -> list[float]:
    """Summed log-probability of each ``suffix`` after ``prefix``. The prefix is run once (KV
    cache) and shared by every suffix; suffixes are scored in batches."""
    import torch

    from yingshe.nets.transformer import KVCache

    device = next(model.parameters()).device
    block = model.config.block_size
    longest = max((len(s) for s in suffixes), default=0)
    prefix = prefix[-(block - longest):] if len(prefix) + longest > block else prefix
    if not prefix:
        raise ValueError("score_suffixes needs a non-empty prefix")
    scores: list[float] = []
    with torch.no_grad():
        base = KVCache(model.config.n_layer)
        logits, _ = model(torch.tensor([prefix], device=device), cache=base)  # (1, 1, V)
        first = torch.log_softmax(logits[0, -1].float(), dim=-1)  # (V,)
        for i in range(0, len(suffixes), batch):
            chunk = suffixes[i:i + batch]
            n, L = len(chunk), max(len(s) for s in chunk)
            ids = torch.zeros(n, L, dtype=torch.long, device=device)
            for r, s in enumerate(chunk):
                ids[r, :len(s)] = torch.tensor(s, dtype=torch.long)
            cache = KVCache(model.config.n_layer)
            cache.k = [k.expand(n, -1, -1, -1) for k in base.k]
            cache.v = [v.expand(n, -1, -1, -1) for v in base.v]
            cache.length = base.length
            total = first[ids[:, 0]].clone()  # (n,)
            if L > 1:
                x, _ = model(ids[:, :-1], cache=cache)  # (n, L-1, V)
                logp = torch.log_softmax(x.float(), dim=-1).gather(-1, ids[:, 1:, None])[..., 0]
                mask = torch.zeros(n, L - 1, dtype=torch.bool, device=device)
                for r, s in enumerate(chunk):
                    mask[r, :len(s) - 1] = True
                total += (logp * mask).sum(dim=1)
            scores.extend(total.tolist())
    return scores

