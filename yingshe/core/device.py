"""Devices, threads and seeds. Runs on CUDA or Apple MPS when present; CPU otherwise."""

from __future__ import annotations

import os
import random

from yingshe.core.errors import BadInput

DEVICE_CHOICES = ("auto", "cpu", "cuda", "mps")


def resolve_device(name: str = "auto"):
    """``auto`` picks CUDA, then MPS, then CPU; asking for an absent one is a BadInput."""
    import torch

    name = (name or "auto").lower()
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if name.startswith("cuda"):
        if not torch.cuda.is_available():
            raise BadInput("--device cuda: no CUDA GPU is available here (try --device auto)")
        return torch.device(name)
    if name == "mps":
        if not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
            raise BadInput("--device mps: Apple MPS is not available here (try --device auto)")
        return torch.device("mps")
    if name == "cpu":
        return torch.device("cpu")
    raise BadInput(f"--device must be one of {', '.join(DEVICE_CHOICES)}; got {name!r}")


def set_threads(n: int | None) -> int:
    """Set torch's CPU threads (``None``: leave torch's default). Returns the count in force."""
    import torch

    if n is not None:
        if n < 1 or n > 1024:
            raise BadInput(f"--threads must be between 1 and 1024; got {n}")
        torch.set_num_threads(n)
    return torch.get_num_threads()


def seed_everything(seed: int) -> None:
    import numpy as np
    import torch

    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")


def generator(seed: int, device=None):
    """A torch Generator for ``seed`` on the CPU: noise is drawn on the CPU then moved, so the
    same seed gives the same noise on every device."""
    import torch

    g = torch.Generator(device="cpu")
    g.manual_seed(seed)
    return g
