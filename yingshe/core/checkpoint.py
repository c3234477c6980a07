"""Run-folder files, all safetensors (tensors only: nothing in them can run code).

* ``model.safetensors`` — what sampling needs: the (EMA) generator or the VAE, with a JSON
  description (kind, network config, class names, training step) in the file's metadata, so
  one file is a complete, self-describing model (the shipped zoo models are such files).
* ``checkpoint.safetensors`` — everything ``--resume`` needs: every network, the optimisers'
  moments and the step counter.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import torch

from yingshe.core.errors import WeightsError
from yingshe.core.images import atomic_write

META_KEY = "yingshe"


def save_tensors(path: str | os.PathLike, tensors: dict[str, torch.Tensor], meta: dict) -> Path:
    from safetensors.torch import save

    data = save({k: v.detach().to("cpu").contiguous() for k, v in tensors.items()},
                metadata={META_KEY: json.dumps(meta, sort_keys=True)})
    return atomic_write(path, lambda f: f.write(data))


def load_tensors(path: str | os.PathLike) -> tuple[dict[str, torch.Tensor], dict]:
    """(tensors, metadata) of a yingshe safetensors file; anything else is refused, unread."""
    from safetensors import safe_open

    path = Path(path)
    if not path.is_file():
        raise WeightsError(f"{str(path)!r} does not exist")
    try:
        with safe_open(str(path), framework="pt", device="cpu") as f:
            meta = f.metadata() or {}
            tensors = {k: f.get_tensor(k) for k in f.keys()}
    except Exception as e:  # safetensors raises its own error types; a pickle is just bad bytes here
        raise WeightsError(f"{path}: not a safetensors file ({str(e).splitlines()[0][:120]}); "
                           "yingshe only loads safetensors models") from None
    if META_KEY not in meta:
        raise WeightsError(f"{path}: a safetensors file, but not a yingshe model (no description inside)")
    try:
        return tensors, json.loads(meta[META_KEY])
    except ValueError:
        raise WeightsError(f"{path}: damaged model description") from None


def prefixed(prefix: str, state: dict) -> dict:
    return {f"{prefix}.{k}": v for k, v in state.items()}


def unprefixed(prefix: str, tensors: dict) -> dict:
    n = len(prefix) + 1
    return {k[n:]: v for k, v in tensors.items() if k.startswith(prefix + ".")}


def optimizer_tensors(prefix: str, opt: torch.optim.Optimizer) -> tuple[dict, list]:
    sd = opt.state_dict()
    tensors = {}
    for i, st in sd["state"].items():
        for k, v in st.items():
            tensors[f"{prefix}.{i}.{k}"] = v if torch.is_tensor(v) else torch.tensor(v)
    return tensors, sd["param_groups"]


def load_optimizer(prefix: str, opt: torch.optim.Optimizer, tensors: dict, groups: list) -> None:
    state: dict = {}
    for key, v in tensors.items():
        if key.startswith(prefix + "."):
            i, k = key[len(prefix) + 1:].split(".", 1)
            state.setdefault(int(i), {})[k] = v
    opt.load_state_dict({"state": state, "param_groups": groups})
