"""Interpolated modified Kneser–Ney n-gram language model (Chen & Goodman 1998), in numpy.

The peer of the poem Transformer in bench/poem.py: trained on the same token stream (the
Transformer's own character ids) and scored on the same validation stream. N-grams are keyed by
a 64-bit multiplicative hash of their ids (collisions are vanishingly rare at a few million
n-grams), counted with ``np.unique`` and looked up with ``np.searchsorted``.

    P(w | h) = max(c(hw) − D(c(hw)), 0) / c(h·)  +  γ(h) · P(w | h′)
    γ(h)     = (D₁ N₁(h·) + D₂ N₂(h·) + D₃₊ N₃₊(h·)) / c(h·)

with raw counts at the highest order, continuation counts N₁₊(·g) below it, three discounts per
order from the counts of counts (D₁ = 1 − 2Y n₂/n₁, D₂ = 2 − 3Y n₃/n₂, D₃₊ = 3 − 4Y n₄/n₃,
Y = n₁/(n₁ + 2n₂)), and the unigram interpolated with the uniform distribution over the
vocabulary. An unseen context falls back to the lower order entirely.
"""

from __future__ import annotations

import numpy as np

_MUL = np.uint64(0x9E3779B97F4A7C15)
_ADD = np.uint64(0x632BE59BD9B4E019)


def _keys(ids: np.ndarray, k: int) -> np.ndarray:
    """Hash of every k-gram of ``ids`` (the k-gram ending at position i is at index i - k + 1)."""
    n = len(ids) - k + 1
    h = np.zeros(max(n, 0), dtype=np.uint64)
    with np.errstate(over="ignore"):
        for j in range(k):
            h = (h * _MUL + ids[j:j + n].astype(np.uint64) + _ADD) ^ (h >> np.uint64(29))
    return h


def _discounts(counts: np.ndarray) -> np.ndarray:
    n = [int((counts == i).sum()) for i in (1, 2, 3, 4)]
    if min(n) == 0:
        return np.array([0.5, 1.0, 1.5])
    y = n[0] / (n[0] + 2 * n[1])
    d = np.array([1 - 2 * y * n[1] / n[0], 2 - 3 * y * n[2] / n[1], 3 - 4 * y * n[3] / n[2]])
    return np.clip(d, 0.05, None)


class KneserNey:
    def __init__(self, order: int = 5):
        self.order = order

    def fit(self, ids, vocab_size: int) -> "KneserNey":
        ids = np.asarray(ids, dtype=np.int64)
        self.V = int(vocab_size)
        N = self.order
        uniq: dict[int, np.ndarray] = {}
        for k in range(1, N + 1):
            uniq[k] = np.unique(_keys(ids, k))
        self.tables = {}
        for k in range(1, N + 1):
            if k == N:  # raw counts
                keys, counts = np.unique(_keys(ids, k), return_counts=True)
            else:  # continuation counts: distinct left extensions of each k-gram
                ext = _keys(ids, k + 1)  # (k+1)-gram at index i spans ids[i .. i+k]
                suffix = _keys(ids[1:], k)[: len(ext)]  # k-gram ids[i+1 .. i+k]
                pairs = np.unique(np.stack([ext, suffix], axis=1), axis=0)
                keys, counts = np.unique(pairs[:, 1], return_counts=True)
            D = _discounts(counts)
            disc = D[np.minimum(counts, 3) - 1]
            # per context (the k-gram minus its last id): total, and how many w have count 1, 2, 3+
            if k > 1:
                grams = _keys(ids, k)
                ctx_of = _keys(ids, k - 1)[: len(grams)]
                order = np.argsort(grams, kind="stable")
                first = np.unique(grams[order], return_index=True)[1]
                gram_ctx = ctx_of[order][first]  # context hash of each unique k-gram (same order as keys)
                # keys here come from the k-gram stream; for lower orders some k-grams only occur as
                # suffixes, so map through searchsorted
                idx = np.searchsorted(np.unique(grams), keys)
                idx = np.clip(idx, 0, len(gram_ctx) - 1)
                ctx = gram_ctx[idx]
            else:
                ctx = np.zeros(len(keys), dtype=np.uint64)
            ckeys, inv = np.unique(ctx, return_inverse=True)
            total = np.bincount(inv, weights=counts, minlength=len(ckeys))
            gamma_num = np.bincount(inv, weights=disc, minlength=len(ckeys))
            self.tables[k] = dict(keys=keys, p=np.maximum(counts - disc, 0), ckeys=ckeys, total=total,
                                  gamma=gamma_num / np.maximum(total, 1e-12))
        return self

    def log_probs(self, ids, start: int = 0) -> np.ndarray:
        """Natural-log probability of ``ids[i]`` given ``ids[:i]`` for i >= start (max(1, start))."""
        ids = np.asarray(ids, dtype=np.int64)
        pos = np.arange(max(1, start), len(ids))
        t1 = self.tables[1]
        uni_keys = _keys(ids, 1)
        p = self._lookup(t1, uni_keys[pos], np.zeros(len(pos), dtype=np.uint64), 1.0 / self.V,
                         np.ones(len(pos), dtype=bool))
        for k in range(2, self.order + 1):
            t = self.tables[k]
            ok = pos - k + 1 >= 0
            gram = np.zeros(len(pos), dtype=np.uint64)
            ctx = np.zeros(len(pos), dtype=np.uint64)
            kg, cg = _keys(ids, k), _keys(ids, k - 1)
            gram[ok] = kg[pos[ok] - k + 1]
            ctx[ok] = cg[pos[ok] - k + 1]
            p = self._lookup(t, gram, ctx, p, ok)
        return np.log(p)

    @staticmethod
    def _lookup(t, gram, ctx, lower, ok):
        ci = np.clip(np.searchsorted(t["ckeys"], ctx), 0, len(t["ckeys"]) - 1)
        seen_ctx = ok & (t["ckeys"][ci] == ctx) & (t["total"][ci] > 0)
        gi = np.clip(np.searchsorted(t["keys"], gram), 0, len(t["keys"]) - 1)
        hit = seen_ctx & (t["keys"][gi] == gram)
        total = np.where(seen_ctx, t["total"][ci], 1.0)
        own = np.where(hit, t["p"][gi], 0.0) / total
        mixed = own + np.where(seen_ctx, t["gamma"][ci], 1.0) * lower
        return np.where(seen_ctx, mixed, lower)
