"""A language model on disk: one safetensors file = Transformer weights + config + tokenizer.

The JSON metadata of the file holds ``{"kind": ..., "gpt": GPTConfig, "tokenizer": {...},
...}``, so the file alone says how to rebuild the network and how to read and write its tokens.
Weights may be stored in float16 (the shipped models); they are computed in float32 on the CPU.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from yingshe.core.errors import WeightsError


@dataclass
class LanguageModel:
    model: "object"  # yingshe.nets.transformer.GPT
    tokenizer: "object"  # yingshe.sequence.tokenizer.CharTokenizer
    meta: dict = field(default_factory=dict)
    record: dict = field(default_factory=dict)  # {"source", "sha256", ...} for Artwork.weights

    @property
    def device(self):
        return next(self.model.parameters()).device


def save_lm(path: str | os.PathLike, model, tokenizer, meta: dict, *, dtype=None) -> Path:
    """Write ``model`` (a GPT), its config and ``tokenizer`` into one safetensors file."""
    from yingshe.core.checkpoint import save_tensors

    state = model.state_dict()  # the tied output matrix appears once, as transformer.wte.weight
    if dtype is not None:
        state = {k: v.to(dtype) if v.is_floating_point() else v for k, v in state.items()}
    full = dict(meta) | {"gpt": model.config.to_dict(), "tokenizer": tokenizer.to_meta()}
    return save_tensors(path, state, full)


def lm_from_tensors(tensors: dict, meta: dict, *, device="cpu", expect_kind: str | None = None) -> LanguageModel:
    from yingshe.nets.transformer import GPT, GPTConfig
    from yingshe.sequence.tokenizer import CharTokenizer

    if expect_kind and meta.get("kind") != expect_kind:
        raise WeightsError(f"this model file holds a {meta.get('kind')!r} model, not a {expect_kind!r} model")
    if "gpt" not in meta or "tokenizer" not in meta:
        raise WeightsError("this model file lacks its Transformer config or tokenizer")
    tok = CharTokenizer.from_meta(meta["tokenizer"])
    try:
        cfg = GPTConfig.from_dict(meta["gpt"])
    except (TypeError, ValueError) as e:
        raise WeightsError(f"bad Transformer config in the model file: {e}") from None
    if cfg.vocab_size != len(tok):
        raise WeightsError(f"the model's vocabulary ({cfg.vocab_size}) does not match its tokenizer ({len(tok)})")
    model = GPT(cfg)
    state = {k: v.float() if v.is_floating_point() else v for k, v in tensors.items()}
    try:
        model.load_state_dict(state)
    except RuntimeError as e:
        raise WeightsError(f"the weights do not fit the model's config: {str(e).splitlines()[0]}") from None
    model.to(device).eval().requires_grad_(False)
    return LanguageModel(model, tok, meta)


def load_lm(spec: str, *, device="cpu", expect_kind: str | None = None) -> LanguageModel:
    """A shipped model by name (``tang-poem``), a model file, or a training run folder."""
    from yingshe.core import weights
    from yingshe.core.checkpoint import load_tensors

    p = Path(spec).expanduser()
    if p.is_dir():
        p = p / "model.safetensors"
        if not p.is_file():
            raise WeightsError(f"{spec!r} is a folder without model.safetensors (not a training run?)")
        spec = str(p)
    resolved = weights.resolve(spec, family_for_paths="yingshe-lm")
    tensors, meta = load_tensors(resolved.path)
    lm = lm_from_tensors(tensors, meta, device=device, expect_kind=expect_kind)
    lm.record = resolved.record() | {"tokenizer_sha256": lm.tokenizer.fingerprint()}
    return lm
