"""Interpolated modified Kneser–Ney n-gram language model (Chen & Goodman 1998), in numpy.

The peer of the Transformers in bench/poem.py (trained on the poem model's own character ids,
one token stream) and bench/melody.py (trained on the melody model's event ids, one sequence per
transposed piece, each left-padded with ``<pad>``), scored on the same validation tokens.

    P(w | h) = max(c(hw) − D(c(hw)), 0) / c(h·)  +  γ(h) · P(w | h′)
    γ(h)     = (D₁ N₁(h·) + D₂ N₂(h·) + D₃₊ N₃₊(h·)) / c(h·)

with raw counts at the highest order, continuation counts N₁₊(·g) below it (the number of
distinct one-token left extensions of g), three discounts per order from the counts of counts
(D₁ = 1 − 2Y n₂/n₁, D₂ = 2 − 3Y n₃/n₂, D₃₊ = 3 − 4Y n₄/n₃, Y = n₁/(n₁ + 2n₂); at least 0.05,
and 0.5, 1, 1.5 when some nₖ is 0), and the unigram interpolated with the uniform distribution
over the vocabulary. An unseen context falls back to the lower order entirely.

The first token of every sequence is never predicted (``<bos>``, or the stream's start). With
``pad``, sequences are left-padded with it, so every token has a full context; without, a token
nearer a sequence's start than the order uses the orders that fit. N-grams are packed into int64
codes (base = the vocabulary size), counted with ``np.unique`` and looked up with
``np.searchsorted``; the lower orders' counts come from the distinct n-grams of the order above.
"""

from __future__ import annotations

import numpy as np


def _discounts(counts: np.ndarray) -> np.ndarray:
    """(0, D₁, D₂, D₃₊) of one order's counts (index: the count, 3 for 3 or more)."""
    n = [int((counts == i).sum()) for i in (1, 2, 3, 4)]
    if min(n) == 0:
        return np.array([0.0, 0.5, 1.0, 1.5])
    y = n[0] / (n[0] + 2 * n[1])
    d = np.array([1 - 2 * y * n[1] / n[0], 2 - 3 * y * n[2] / n[1], 3 - 4 * y * n[3] / n[2]])
    return np.concatenate([[0.0], np.clip(d, 0.05, None)])


class KneserNey:
    """``KneserNey(order, vocab, pad=None).fit(seqs)``: seqs are sequences of ids < ``vocab``
    (one token stream: ``[ids]``); then :meth:`log_probs` of a sequence, :meth:`nll` of many."""

    def __init__(self, order: int = 5, vocab: int = 256, pad: int | None = None):
        if order < 1 or vocab < 1:
            raise ValueError("the order and the vocabulary must be at least 1")
        if vocab ** order >= 2 ** 63:
            raise ValueError(f"{order}-grams of a vocabulary of {vocab} do not fit in 64-bit codes")
        self.n, self.V, self.B, self.pad = order, int(vocab), int(vocab), pad

    def _stream(self, seqs, start: int = 1):
        """The sequences end to end (each left-padded with ``pad`` if given), each token's
        position in its own padded sequence, where each sequence begins, and which positions are
        predicted (from ``start`` on, at least 1, in each unpadded sequence)."""
        off = self.n - 1 if self.pad is not None else 0
        seqs = [np.asarray(x, np.int64) for x in seqs]
        lengths = np.array([len(x) + off for x in seqs], np.int64)
        parts = [np.full(off, self.pad, np.int64)] * bool(off)
        ids = np.concatenate([y for x in seqs for y in (parts + [x])] or [np.zeros(0, np.int64)])
        begins = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64) if len(seqs) else lengths
        local = np.arange(len(ids), dtype=np.int64) - np.repeat(begins, lengths)
        return ids, local, begins[lengths > off], local >= max(1, start) + off

    def _codes(self, stream, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(codes, fits) of the k-grams ending at the stream's predicted positions; ``fits`` is
        False where the k-gram would reach before its (padded) sequence."""
        ids, local, _, predicted = stream
        c = np.zeros(len(ids), np.int64)
        m = len(ids) - (k - 1)
        if m > 0:
            for j in range(k):
                c[k - 1:] = c[k - 1:] * self.B + ids[j:j + m]
        return c[predicted], local[predicted] >= k - 1

    def fit(self, seqs) -> "KneserNey":
        stream = self._stream(seqs)
        ids, local, begins, _ = stream
        codes, fits = self._codes(stream, self.n)
        grams, counts = np.unique(codes[fits], return_counts=True)
        self.levels = {self.n: self._level(grams, counts)}
        for k in range(self.n - 1, 0, -1):
            types = grams  # the (k+1)-gram types: suffixes of the (k+2)-gram types, ...
            if self.pad is None and k + 1 < self.n and len(begins):
                # ... and (without padding) each sequence's first k+1 tokens, which no (k+2)-gram
                # extends to the left
                first = begins[local[np.minimum(begins + k, len(ids) - 1)] == k]
                starts = np.zeros(len(first), np.int64)
                for j in range(k + 1):
                    starts = starts * self.B + ids[first + j]
                types = np.unique(np.concatenate([types, starts]), return_counts=True)[0]
            # continuation counts: the number of distinct left extensions of each k-gram
            grams, counts = np.unique(types % self.B ** k, return_counts=True)
            self.levels[k] = self._level(grams, counts)
        return self

    def _code(self, ids) -> int:
        c = 0
        for t in ids:
            c = c * self.B + int(t)
        return c

    def _level(self, grams: np.ndarray, counts: np.ndarray) -> dict:
        D = _discounts(counts)
        ctx = grams // self.B
        order = np.argsort(ctx, kind="stable")
        grams, counts, ctx = grams[order], counts[order], ctx[order]
        uctx, start = np.unique(ctx, return_index=True)
        total = np.add.reduceat(counts, start) if len(counts) else np.zeros(0, np.int64)
        n1, n2, n3 = (np.add.reduceat(m.astype(np.int64), start) if len(counts) else np.zeros(0, np.int64)
                      for m in (counts == 1, counts == 2, counts >= 3))
        gamma_num = D[1] * n1 + D[2] * n2 + D[3] * n3
        g_order = np.argsort(grams)
        return {"grams": grams[g_order], "counts": counts[g_order], "ctx": uctx, "total": total,
                "gamma": gamma_num, "D": D}

    @staticmethod
    def _lookup(keys: np.ndarray, table: np.ndarray, values: np.ndarray) -> np.ndarray:
        if not len(table):
            return np.zeros(len(keys), values.dtype)
        i = np.clip(np.searchsorted(table, keys), 0, len(table) - 1)
        return np.where(table[i] == keys, values[i], 0)

    def _probs(self, codes: dict, fits: dict) -> np.ndarray:
        """P(w | h) of the n-grams whose codes (and whether they fit) are given for every order."""
        lv = self.levels[1]
        total1 = lv["total"].sum() if len(lv["total"]) else 1
        c = self._lookup(codes[1], lv["grams"], lv["counts"]).astype(np.float64)
        D = lv["D"][np.minimum(c, 3).astype(int)]
        p = (np.maximum(c - D, 0) + lv["gamma"].sum() / self.V) / total1  # unigram ⊕ uniform
        for k in range(2, self.n + 1):
            lv = self.levels[k]
            g = codes[k]
            h = g // self.B
            c = self._lookup(g, lv["grams"], lv["counts"]).astype(np.float64)
            tot = self._lookup(h, lv["ctx"], lv["total"]).astype(np.float64)
            gam = self._lookup(h, lv["ctx"], lv["gamma"]).astype(np.float64)
            D = lv["D"][np.minimum(c, 3).astype(int)]
            seen = fits[k] & (tot > 0)
            p = np.where(seen, (np.maximum(c - D, 0) + gam * p) / np.where(seen, tot, 1), p)
        return p

    def _log_probs(self, stream) -> np.ndarray:
        codes, fits = {}, {}
        for k in range(1, self.n + 1):
            codes[k], fits[k] = self._codes(stream, k)
        return np.log(self._probs(codes, fits))

    def log_probs(self, ids, start: int = 1) -> np.ndarray:
        """Natural-log probability of ``ids[i]`` given ``ids[:i]`` for i >= start (max(1, start))."""
        return self._log_probs(self._stream([ids], start))

    def nll(self, seqs) -> tuple[float, int]:
        """(mean nats per token, tokens) over every token but the first of each of ``seqs``."""
        lp = self._log_probs(self._stream(seqs))
        return float(-lp.mean()), len(lp)

    def check_normalised(self, context: list[int]) -> float:
        """Σ_w P(w | context): 1 for a proper model (a self-check)."""
        ctx = list(context) if self.pad is None else [self.pad] * (self.n - 1) + list(context)
        ws = np.arange(self.V, dtype=np.int64)
        codes, fits = {}, {}
        for k in range(1, self.n + 1):
            h = ctx[len(ctx) - (k - 1):] if 1 < k <= len(ctx) + 1 else []
            codes[k] = self._code(h) * self.B + ws
            fits[k] = np.full(self.V, k <= len(ctx) + 1)
        return float(self._probs(codes, fits).sum())
