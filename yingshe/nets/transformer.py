"""A decoder-only Transformer, written to be read (in the manner of nanoGPT's model.py).

Self-attention maps a sequence to its continuation. For each position t, every head asks a
question (query q_t), compares it with what every earlier position offers (keys k_s, s <= t)
and takes a weighted mean of what they hold (values v_s):

    Attention(Q, K, V) = softmax(Q Kᵀ / √d_k + M) V

where d_k is the size of one head and M is the causal mask (0 where s <= t, -inf where s > t),
so a position never sees the future. Multi-head attention runs n_head of these side by side on
n_embd / n_head channels each, concatenates them and mixes them with one linear layer:

    MultiHead(x) = Concat(head_1, ..., head_h) W_O,   head_i = Attention(x W_Q^i, x W_K^i, x W_V^i)

A block is pre-norm:  x = x + Attn(LN(x));  x = x + MLP(LN(x)).  The token embedding and the
output projection share one weight matrix (weight tying).

Public API (stable; the poem and melody mappings both use it):
    GPTConfig(vocab_size, block_size, n_layer, n_head, n_embd, dropout, bias)
    GPT(config).forward(idx, targets=None) -> (logits, loss)
    GPT.configure_optimizers(weight_decay, lr, betas) -> torch.optim.AdamW
    GPT.generate(idx, max_new_tokens, temperature=1.0, top_k=None, top_p=None,
                 generator=None, logits_processor=None, stop=None) -> idx
    KVCache(n_layer): GPT.forward(new_ids, cache=cache) feeds only new tokens while sampling
    sample_next(logits, temperature, top_k, top_p, generator) -> (B, 1) token ids
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Callable, Optional

import torch
import torch.nn as nn
from torch.nn import functional as F


@dataclass
class GPTConfig:
    vocab_size: int = 256    # number of distinct tokens
    block_size: int = 128    # longest context the model attends over (positions)
    n_layer: int = 4         # number of Transformer blocks
    n_head: int = 4          # attention heads per block
    n_embd: int = 128        # width of the residual stream (channels); divisible by n_head
    dropout: float = 0.0     # dropout on attention weights and residual branches (training only)
    bias: bool = False       # biases in Linear and LayerNorm layers

    def __post_init__(self):
        if self.n_embd % self.n_head:
            raise ValueError(f"n_embd ({self.n_embd}) must be divisible by n_head ({self.n_head})")
        for name in ("vocab_size", "block_size", "n_layer", "n_head", "n_embd"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"{name} must be at least 1")

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "GPTConfig":
        names = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in d.items() if k in names})


class LayerNorm(nn.Module):
    """LayerNorm with an optional bias (PyTorch's has no bias=False before 2.1 on every path)."""

    def __init__(self, ndim: int, bias: bool):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(ndim))
        self.bias = nn.Parameter(torch.zeros(ndim)) if bias else None

    def forward(self, x):
        return F.layer_norm(x, self.weight.shape, self.weight, self.bias, 1e-5)


class CausalSelfAttention(nn.Module):
    """Multi-head causal self-attention: softmax(QKᵀ/√d_k + M)V per head, heads concatenated."""

    def __init__(self, config: GPTConfig):
        super().__init__()
        # query, key and value projections for all heads, in one matrix
        self.c_attn = nn.Linear(config.n_embd, 3 * config.n_embd, bias=config.bias)
        # output projection W_O
        self.c_proj = nn.Linear(config.n_embd, config.n_embd, bias=config.bias)
        self.attn_dropout = config.dropout
        self.resid_dropout = nn.Dropout(config.dropout)
        self.n_head = config.n_head
        self.n_embd = config.n_embd

    def forward(self, x, cache: Optional["KVCache"] = None, layer: int = 0):
        B, T, C = x.size()  # batch, sequence length (new tokens), channels (n_embd)
        hs = C // self.n_head  # head size d_k
        q, k, v = self.c_attn(x).split(self.n_embd, dim=2)  # 3 × (B, T, C)
        q = q.view(B, T, self.n_head, hs).transpose(1, 2)  # (B, nh, T, hs)
        k = k.view(B, T, self.n_head, hs).transpose(1, 2)  # (B, nh, T, hs)
        v = v.view(B, T, self.n_head, hs).transpose(1, 2)  # (B, nh, T, hs)
        past = 0
        if cache is not None:  # sampling: keys and values of earlier tokens are kept, not recomputed
            past = cache.length
            k, v = cache.update(layer, k, v)  # (B, nh, past + T, hs)
        # softmax(QKᵀ/√d_k + M)V with the causal mask M, fused:
        #   (B, nh, T, hs) @ (B, nh, hs, S) -> (B, nh, T, S) weights; @ (B, nh, S, hs) -> (B, nh, T, hs)
        if past == 0:
            mask, causal = None, True
        elif T == 1:
            mask, causal = None, False  # one new token may see every earlier one
        else:  # new token i sits at position past + i and sees positions 0 .. past + i
            S = past + T
            mask = torch.ones(T, S, dtype=torch.bool, device=x.device).tril(diagonal=past)
            causal = False
        y = F.scaled_dot_product_attention(
            q, k, v, attn_mask=mask, is_causal=causal,
            dropout_p=self.attn_dropout if self.training else 0.0)
        y = y.transpose(1, 2).contiguous().view(B, T, C)  # (B, T, C): heads side by side
        return self.resid_dropout(self.c_proj(y))


class KVCache:
    """Keys and values of the tokens seen so far, per layer, for sampling one token at a time.

    Without it each new token would recompute attention inputs for the whole context. With a
    ``capacity`` the buffers are allocated once and filled in place (no copy per token)."""

    def __init__(self, n_layer: int, capacity: Optional[int] = None):
        self.k: list = [None] * n_layer  # each (B, nh, S, hs), or a (B, nh, capacity, hs) buffer
        self.v: list = [None] * n_layer
        self.length = 0  # S: tokens cached
        self.capacity = capacity

    def update(self, layer: int, k, v):
        """Append k, v (B, nh, T, hs) of new tokens; return all keys and values (B, nh, S+T, hs)."""
        start, T = self.length, k.size(2)
        if self.capacity is not None:
            if self.k[layer] is None:
                B, nh, _, hs = k.shape
                self.k[layer] = k.new_zeros(B, nh, self.capacity, hs)
                self.v[layer] = v.new_zeros(B, nh, self.capacity, hs)
            self.k[layer][:, :, start:start + T] = k
            self.v[layer][:, :, start:start + T] = v
            k, v = self.k[layer][:, :, :start + T], self.v[layer][:, :, :start + T]
        else:
            if self.k[layer] is not None:
                k = torch.cat((self.k[layer], k), dim=2)
                v = torch.cat((self.v[layer], v), dim=2)
            self.k[layer], self.v[layer] = k, v
        if layer == len(self.k) - 1:
            self.length = start + T
        return k, v

    def expand(self, batch: int) -> None:
        """Repeat a one-row cache for ``batch`` rows (every row then continues the same prefix)."""
        self.k = [t.expand(batch, -1, -1, -1).contiguous() if t is not None else None for t in self.k]
        self.v = [t.expand(batch, -1, -1, -1).contiguous() if t is not None else None for t in self.v]

    def select(self, rows) -> None:
        """Keep only the given batch rows (a LongTensor of indices), e.g. after choosing candidates."""
        self.k = [t.index_select(0, rows) if t is not None else None for t in self.k]
        self.v = [t.index_select(0, rows) if t is not None else None for t in self.v]


def naive_attention(q, k, v):
    """The textbook formula, for tests: softmax(QKᵀ/√d_k + M)V with an explicit causal mask.

    q, k, v: (B, nh, T, hs). Returns (B, nh, T, hs).
    """
    T, hs = q.size(-2), q.size(-1)
    att = (q @ k.transpose(-2, -1)) / math.sqrt(hs)  # (B, nh, T, T)
    mask = torch.ones(T, T, dtype=torch.bool, device=q.device).tril()
    att = att.masked_fill(~mask, float("-inf"))
    att = torch.softmax(att, dim=-1)
    return att @ v  # (B, nh, T, hs)


class MLP(nn.Module):
    def __init__(self, config: GPTConfig):
        super().__init__()
        self.c_fc = nn.Linear(config.n_embd, 4 * config.n_embd, bias=config.bias)
        self.gelu = nn.GELU()
        self.c_proj = nn.Linear(4 * config.n_embd, config.n_embd, bias=config.bias)
        self.dropout = nn.Dropout(config.dropout)

    def forward(self, x):
        return self.dropout(self.c_proj(self.gelu(self.c_fc(x))))


class Block(nn.Module):
    """Pre-norm Transformer block: x + Attn(LN(x)), then x + MLP(LN(x))."""

    def __init__(self, config: GPTConfig):
        super().__init__()
        self.ln_1 = LayerNorm(config.n_embd, bias=config.bias)
        self.attn = CausalSelfAttention(config)
        self.ln_2 = LayerNorm(config.n_embd, bias=config.bias)
        self.mlp = MLP(config)

    def forward(self, x, cache: Optional[KVCache] = None, layer: int = 0):
        x = x + self.attn(self.ln_1(x), cache, layer)
        x = x + self.mlp(self.ln_2(x))
        return x


def _drop_tied_head(module, state_dict, prefix, local_metadata):
    state_dict.pop(prefix + "lm_head.weight", None)


def _fill_tied_head(module, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys, error_msgs):
    if prefix + "lm_head.weight" not in state_dict and prefix + "transformer.wte.weight" in state_dict:
        state_dict[prefix + "lm_head.weight"] = state_dict[prefix + "transformer.wte.weight"]


class GPT(nn.Module):
    def __init__(self, config: GPTConfig):
        super().__init__()
        self.config = config
        self.transformer = nn.ModuleDict(dict(
            wte=nn.Embedding(config.vocab_size, config.n_embd),   # token embedding
            wpe=nn.Embedding(config.block_size, config.n_embd),   # learned position embedding
            drop=nn.Dropout(config.dropout),
            h=nn.ModuleList([Block(config) for _ in range(config.n_layer)]),
            ln_f=LayerNorm(config.n_embd, bias=config.bias),
        ))
        self.lm_head = nn.Linear(config.n_embd, config.vocab_size, bias=False)
        # weight tying: the output projection reads the residual stream with the embedding matrix
        self.transformer.wte.weight = self.lm_head.weight
        # the state dict holds the tied matrix once (as transformer.wte.weight): safetensors
        # refuses two names for one tensor; loading fills lm_head.weight back in
        self.register_state_dict_post_hook(_drop_tied_head)
        self.register_load_state_dict_pre_hook(_fill_tied_head)
        self.apply(self._init_weights)
        # GPT-2's scaled init of residual projections: std 0.02/√(2·n_layer)
        for name, p in self.named_parameters():
            if name.endswith("c_proj.weight"):
                torch.nn.init.normal_(p, mean=0.0, std=0.02 / math.sqrt(2 * config.n_layer))

    def _init_weights(self, module):
        if isinstance(module, nn.Linear):
            torch.nn.init.normal_(module.weight, mean=0.0, std=0.02)
            if module.bias is not None:
                torch.nn.init.zeros_(module.bias)
        elif isinstance(module, nn.Embedding):
            torch.nn.init.normal_(module.weight, mean=0.0, std=0.02)

    def num_params(self, non_embedding: bool = True) -> int:
        n = sum(p.numel() for p in self.parameters())
        if non_embedding:
            n -= self.transformer.wpe.weight.numel()
        return n

    def forward(self, idx, targets=None, *, cache: Optional[KVCache] = None):
        """idx: (B, T) token ids. Returns (logits (B, T, vocab), mean cross-entropy or None).

        targets: (B, T) next-token ids; -1 marks positions to ignore. With a ``cache`` (sampling),
        idx holds only the new tokens, which follow the ``cache.length`` tokens already seen.
        """
        B, T = idx.size()
        start = cache.length if cache is not None else 0
        if start + T > self.config.block_size:
            raise ValueError(f"sequence of {start + T} tokens is longer than block_size {self.config.block_size}")
        pos = torch.arange(start, start + T, dtype=torch.long, device=idx.device)  # (T,)
        tok_emb = self.transformer.wte(idx)  # (B, T, C)
        pos_emb = self.transformer.wpe(pos)  # (T, C)
        x = self.transformer.drop(tok_emb + pos_emb)  # (B, T, C)
        for i, block in enumerate(self.transformer.h):
            x = block(x, cache, i)
        x = self.transformer.ln_f(x)
        logits = self.lm_head(x)  # (B, T, vocab)
        loss = None
        if targets is not None:
            loss = F.cross_entropy(logits.view(-1, logits.size(-1)).float(), targets.reshape(-1),
                                   ignore_index=-1)
        return logits, loss

    def configure_optimizers(self, weight_decay: float, lr: float, betas=(0.9, 0.95),
                             device_type: Optional[str] = None):
        """AdamW with weight decay on matrices (Linear weights, embeddings) only, not on
        biases and LayerNorm gains (any parameter with fewer than 2 dimensions)."""
        params = {n: p for n, p in self.named_parameters() if p.requires_grad}
        decay = [p for p in params.values() if p.dim() >= 2]
        no_decay = [p for p in params.values() if p.dim() < 2]
        groups = [{"params": decay, "weight_decay": weight_decay},
                  {"params": no_decay, "weight_decay": 0.0}]
        extra = {}
        if device_type == "cuda":
            extra["fused"] = True
        return torch.optim.AdamW(groups, lr=lr, betas=tuple(betas), **extra)

    @torch.no_grad()
    def generate(self, idx, max_new_tokens: int, temperature: float = 1.0,
                 top_k: Optional[int] = None, top_p: Optional[float] = None,
                 generator: Optional[torch.Generator] = None,
                 logits_processor: Optional[Callable] = None,
                 stop: Optional[Callable] = None,
                 logprobs: Optional[list] = None):
        """Continue each row of idx (B, T) by up to max_new_tokens tokens.

        logits_processor(seq, logits) -> logits is called before sampling each token, with seq
        the (B, T') ids so far and logits (B, vocab) in float32; it may set entries to -inf to
        forbid tokens (constrained decoding). stop(seq) -> bool ends generation early.
        logprobs: a list that receives, per step, the (B,) log-probabilities the model itself
        (temperature 1, before the processor) gave the tokens drawn — to rank candidates.
        Pass a seeded torch.Generator for a deterministic result.
        """
        was_training = self.training
        self.eval()
        B = idx.size(0)
        # with a KV cache when everything fits in the context window; else nanoGPT's sliding crop
        fits = idx.size(1) + max_new_tokens <= self.config.block_size
        cache = KVCache(self.config.n_layer, capacity=idx.size(1) + max_new_tokens) if fits else None
        try:
            new = idx
            if cache is not None and B > 1 and bool((idx == idx[:1]).all()):
                # candidates of one prompt: read the prompt once, then give every row its copy
                logits, _ = self(idx[:1], cache=cache)
                cache.expand(B)
                logits = logits.expand(B, -1, -1)
                new = None
            for _ in range(max_new_tokens):
                if new is None:
                    new = idx  # (the shared prompt was read above)
                elif cache is not None:
                    logits, _ = self(new, cache=cache)
                else:
                    ctx = idx if idx.size(1) <= self.config.block_size else idx[:, -self.config.block_size:]
                    logits, _ = self(ctx)
                logits = logits[:, -1, :].to(torch.float32, copy=True)  # (B, vocab), the processor's to change
                raw = torch.log_softmax(logits, dim=-1) if logprobs is not None else None
                if logits_processor is not None:
                    logits = logits_processor(idx, logits)
                new = sample_next(logits, temperature, top_k, top_p, generator)  # (B, 1)
                if raw is not None:
                    logprobs.append(raw.gather(1, new)[:, 0])
                idx = torch.cat((idx, new), dim=1)
                if stop is not None and stop(idx):
                    break
        finally:
            self.train(was_training)
        return idx


def extend_context(state: dict, block_size: int) -> dict:
    """A GPT state dict whose learned position table (wpe, (T, C)) is grown to ``block_size``
    rows, to fine-tune a model on a longer context (``train poem --init --block-size``).

    The new rows repeat the second half of the trained ones (period P = T // 2): position
    T + i starts as T - P + (i mod P). Adjacent positions then stay as distinguishable as in
    training, which a character model leans on. Measured on english-verse (T = 256 → 512,
    before any fine-tuning), the loss on positions 256-511 is 4.25 bits/char with this, 5.1
    with the table stretched by interpolation and 5.8 with every new row a copy of the last
    (positions 0-255: 2.0, unchanged); fine-tuning then learns the rest. Nothing else in the
    network depends on the length."""
    key = "transformer.wpe.weight"
    wpe = state[key]  # (T, C)
    T = wpe.size(0)
    if block_size < T:
        raise ValueError(f"cannot shrink a context of {T} positions to {block_size}")
    P = max(1, T // 2)
    rows = T - P + torch.arange(block_size - T, device=wpe.device) % P  # (block_size - T,)
    return dict(state) | {key: torch.cat((wpe, wpe[rows]), dim=0).contiguous()}


def sample_next(logits, temperature: float = 1.0, top_k: Optional[int] = None,
                top_p: Optional[float] = None, generator: Optional[torch.Generator] = None):
    """Draw one token per row from logits (B, vocab). Entries at -inf are never drawn.

    temperature <= 0 means greedy (argmax). top_k keeps the k most likely tokens; top_p keeps the
    smallest set whose probability reaches p (nucleus sampling). Returns (B, 1) int64.
    """
    logits = logits.float()
    if temperature is None or temperature <= 0:
        return torch.argmax(logits, dim=-1, keepdim=True)
    logits = logits / temperature
    if top_k is not None and top_k > 0 and top_k < logits.size(-1):
        v, _ = torch.topk(logits, top_k)
        logits = logits.masked_fill(logits < v[:, [-1]], float("-inf"))
    if top_p is not None and 0 < top_p < 1:
        sorted_logits, order = torch.sort(logits, descending=True, dim=-1)
        cum = torch.softmax(sorted_logits, dim=-1).cumsum(dim=-1)
        # drop a token when the mass before it already reaches top_p (the first always stays)
        drop_sorted = (cum - torch.softmax(sorted_logits, dim=-1)) >= top_p
        drop = torch.zeros_like(drop_sorted).scatter(-1, order, drop_sorted)
        logits = logits.masked_fill(drop, float("-inf"))
    probs = torch.softmax(logits, dim=-1)
    if not torch.isfinite(probs).all():
        raise ValueError("every token is forbidden for some row: nothing to sample")
    if generator is not None and generator.device != probs.device:
        # a CPU generator with GPU logits: draw on the CPU so seeds give the same result everywhere
        return torch.multinomial(probs.cpu(), num_samples=1, generator=generator).to(probs.device)
    return torch.multinomial(probs, num_samples=1, generator=generator)
