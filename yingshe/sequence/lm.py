"""A language model on disk: one safetensors file = Transformer weights + config + tokenizer.

The JSON metadata of the file holds ``{"kind": ..., "gpt": GPTConfig, "tokenizer": {...},
...}``, so the file alone says how to rebuild the network and how to read and write its tokens.
Weights may be stored in float16 (the shipped models); they are computed in float32 on the CPU.

The poem models (:class:`LanguageModel`, a :class:`~yingshe.sequence.tokenizer.CharTokenizer`)
and the melody models (:mod:`yingshe.sequence.melody_model`, a
:class:`~yingshe.sequence.melody_tokens.MusicTokenizer`) are both written by :func:`save_lm`
and read by :func:`gpt_from_tensors` and :func:`load_gpt`.
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


def gpt_from_tensors(tensors: dict, meta: dict, tokenizer_class, *, device="cpu", expect_kind: str | None = None):
    """(GPT in float32, in eval mode on ``device``; its tokenizer, ``tokenizer_class.from_meta``)
    of a model file's tensors and metadata. Refuses a file of another kind than ``expect_kind``."""
    from yingshe.nets.transformer import GPT, GPTConfig

    if expect_kind and meta.get("kind") != expect_kind:
        raise WeightsError(f"this model file holds a {meta.get('kind')!r} model, not a {expect_kind} model")
    if "gpt" not in meta or "tokenizer" not in meta:
        raise WeightsError("this model file lacks its Transformer config or tokenizer")
    tok = tokenizer_class.from_meta(meta["tokenizer"])
    try:
        cfg = GPTConfig.from_dict(meta["gpt"])
    except (TypeError, ValueError) as e:
        raise WeightsError(f"bad Transformer config in the model file: {e}") from None
    if cfg.vocab_size != len(tok):
        raise WeightsError(f"the model's vocabulary ({cfg.vocab_size}) does not match its tokenizer ({len(tok)})")
    model = GPT(cfg)
    # float16 on disk is computed in float32; GPT's load hook fills the tied lm_head.weight back in
    state = {k: v.float() if v.is_floating_point() else v for k, v in tensors.items()}
    try:
        model.load_state_dict(state)
    except RuntimeError as e:
        raise WeightsError(f"the weights do not fit the model's config: {str(e).splitlines()[0]}") from None
    model.to(device).eval().requires_grad_(False)
    return model, tok


def lm_from_tensors(tensors: dict, meta: dict, *, device="cpu", expect_kind: str | None = None) -> LanguageModel:
    from yingshe.sequence.tokenizer import CharTokenizer

    model, tok = gpt_from_tensors(tensors, meta, CharTokenizer, device=device, expect_kind=expect_kind)
    return LanguageModel(model, tok, meta)


def resolve_model(spec: str, family: str):
    """The weights file of a shipped model name, a model file or a training run folder
    (:class:`yingshe.core.weights.ResolvedWeights`, with its sha256); ``family`` names a file
    given by path (``yingshe-lm``, ``yingshe-melody``)."""
    from yingshe.core import weights

    p = Path(spec).expanduser()
    if p.is_dir():
        p = p / "model.safetensors"
        if not p.is_file():
            raise WeightsError(f"{spec!r} is a folder without model.safetensors (not a training run?)")
        spec = str(p)
    return weights.resolve(spec, family_for_paths=family)


def load_gpt(resolved, from_tensors):
    """``from_tensors(tensors, meta)`` of a resolved model file (:func:`resolve_model`), with
    its ``record`` (source, sha256 and the tokenizer's fingerprint) filled in."""
    from yingshe.core.checkpoint import load_tensors

    tensors, meta = load_tensors(resolved.path)
    m = from_tensors(tensors, meta)
    m.record = resolved.record() | {"tokenizer_sha256": m.tokenizer.fingerprint()}
    return m


def load_lm(spec: str, *, device="cpu", expect_kind: str | None = None) -> LanguageModel:
    """A shipped model by name (``tang-poem``), a model file, or a training run folder."""
    return load_gpt(resolve_model(spec, "yingshe-lm"),
                    lambda tensors, meta: lm_from_tensors(tensors, meta, device=device, expect_kind=expect_kind))
