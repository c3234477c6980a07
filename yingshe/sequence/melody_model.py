"""A melody model on disk, and sampling a piece from it under the event grammar.

One safetensors file (written and read by :mod:`yingshe.sequence.lm`, as the poem models are)
holds the Transformer's weights (float16 in the shipped models, computed in
float32) and, in its JSON metadata, ``{"kind": "melody", "style": "chorale" | "folk", "gpt":
GPTConfig, "tokenizer": MusicTokenizer (vocabulary, voices, fingerprint), "train": ...}``.

:func:`generate` samples token by token with the network's key/value cache
(:class:`yingshe.nets.transformer.KVCache`), masking every token the
:class:`~yingshe.sequence.melody_tokens.Grammar` forbids before drawing. Pieces longer than the
model's context slide: the header (``<bos> key meter``) stays, the oldest bars go, and the cache
is refilled from a bar line, the way the model saw its training windows.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

KIND = "melody"
STYLES = ("chorale", "folk")
HEADER = 3  # <bos> key meter


@dataclass
class MelodyModel:
    model: object  # yingshe.nets.transformer.GPT
    tokenizer: object  # yingshe.sequence.melody_tokens.MusicTokenizer
    meta: dict = field(default_factory=dict)
    record: dict = field(default_factory=dict)  # {"source", "sha256", ...} for Artwork.weights

    @property
    def style(self) -> str:
        return self.meta.get("style") or ("chorale" if self.tokenizer.voices == 4 else "folk")


def save_model(path: str | os.PathLike, model, tokenizer, style: str, extra: dict | None = None, *,
               dtype=None) -> Path:
    from yingshe.sequence.lm import save_lm

    return save_lm(path, model, tokenizer, dict(extra or {}) | {"kind": KIND, "format": 1, "style": style},
                   dtype=dtype)


def model_from_tensors(tensors: dict, meta: dict, *, device="cpu") -> MelodyModel:
    from yingshe.sequence.lm import gpt_from_tensors
    from yingshe.sequence.melody_tokens import MusicTokenizer

    model, tok = gpt_from_tensors(tensors, meta, MusicTokenizer, device=device, expect_kind=KIND)
    return MelodyModel(model, tok, meta)


def resolve(spec: str):
    """The weights file of a shipped model name, a model file or a run folder
    (:class:`yingshe.core.weights.ResolvedWeights`, with its sha256)."""
    from yingshe.sequence.lm import resolve_model

    return resolve_model(spec, "yingshe-melody")


def load_model(spec: str, *, device="cpu", resolved=None) -> MelodyModel:
    """A shipped model by name (``bach-chorale``, ``folk-melody``), a model file, or a run folder."""
    from yingshe.sequence.lm import load_gpt

    return load_gpt(resolved or resolve(spec), lambda tensors, meta: model_from_tensors(tensors, meta, device=device))


# --------------------------------------------------------------------------- sampling

def window_start(seq: list[int], tok, room: int) -> int:
    """Index in ``seq`` of the earliest bar token after which at most ``room`` tokens follow
    (where a slid context resumes); a plain cut when no bar line fits."""
    n = len(seq)
    for j in range(max(HEADER, n - room), n):
        if tok.kind_of(seq[j]) == "bar":
            return j
    return max(HEADER, n - room)


def generate(mm: MelodyModel, grammar, prompt: list[int], *, generator=None, temperature: float = 1.0,
             top_k: int | None = None, top_p: float | None = None, progress=None, max_tokens: int = 100_000):
    """Continue ``prompt`` (token ids, starting with ``<bos>``) until the grammar is done.

    Returns (ids, interrupted). Tokens the grammar forces (the only one allowed) are taken
    without a draw, so they cost no sampling step. ``progress`` counts bars."""
    import numpy as np
    import torch

    from yingshe.nets.transformer import KVCache, sample_next

    model, tok = mm.model, mm.tokenizer
    device = next(model.parameters()).device
    block = model.config.block_size
    seq: list[int] = []
    for i in prompt:
        grammar.advance(i)
        seq.append(int(i))
    cache = KVCache(model.config.n_layer)
    pending = list(seq)  # tokens not yet fed into the cache
    neg = torch.tensor(float("-inf"))
    interrupted = False
    bars_seen = grammar.bars_done
    while not grammar.done and len(seq) < max_tokens:
        if progress is not None and progress.stopped():
            interrupted = True
            break
        allowed = grammar.allowed()
        choices = np.flatnonzero(allowed)
        if len(choices) == 1:  # forced: no need to ask the network
            nxt = int(choices[0])
        else:
            if cache.length + len(pending) > block:  # slide: header + the latest bars
                j = window_start(seq, tok, block * 3 // 4 - HEADER)
                cache = KVCache(model.config.n_layer)
                pending = seq[:HEADER] + seq[j:]
            with torch.no_grad():
                logits, _ = model(torch.tensor([pending], dtype=torch.long, device=device), cache=cache)
            pending = []
            logits = logits[:, -1, :].float().cpu()  # (1, vocab)
            logits = torch.where(torch.from_numpy(allowed)[None], logits, neg)
            nxt = int(sample_next(logits, temperature, top_k, top_p, generator)[0, 0])
        grammar.advance(nxt)
        seq.append(nxt)
        pending.append(nxt)
        if progress is not None and grammar.bars_done > bars_seen:
            progress.update(grammar.bars_done - bars_seen)
            bars_seen = grammar.bars_done
    return seq, interrupted
