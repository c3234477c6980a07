"""DiffAugment (Zhao et al. 2020): differentiable augmentations applied to *both* real and
fake images before the discriminator, so a GAN can learn from a few hundred images without
the discriminator memorising them. Policies: ``color`` (brightness, saturation, contrast),
``translation`` (shift by up to 1/8 of the size, zero-filled) and ``cutout`` (zero a square
half the size). Randomness comes from torch's global generator (seeded by the trainer)."""

from __future__ import annotations

import torch
import torch.nn.functional as F

POLICIES = ("color", "translation", "cutout")


def _rand(x: torch.Tensor, *shape) -> torch.Tensor:
    return torch.rand(x.shape[0], *shape, dtype=x.dtype, device=x.device)


def color(x: torch.Tensor) -> torch.Tensor:
    x = x + (_rand(x, 1, 1, 1) - 0.5)  # brightness ±0.5 (images are in [-1, 1])
    mean = x.mean(1, keepdim=True)
    x = (x - mean) * (_rand(x, 1, 1, 1) * 2) + mean  # saturation ×[0, 2]
    mean = x.mean((1, 2, 3), keepdim=True)
    return (x - mean) * (_rand(x, 1, 1, 1) + 0.5) + mean  # contrast ×[0.5, 1.5]


def translation(x: torch.Tensor, ratio: float = 0.125) -> torch.Tensor:
    n, _, h, w = x.shape
    sh, sw = int(h * ratio + 0.5), int(w * ratio + 0.5)
    dy = torch.randint(-sh, sh + 1, (n, 1, 1), device=x.device)
    dx = torch.randint(-sw, sw + 1, (n, 1, 1), device=x.device)
    b, yy, xx = torch.meshgrid(torch.arange(n, device=x.device), torch.arange(h, device=x.device),
                               torch.arange(w, device=x.device), indexing="ij")
    yy = (yy + dy + 1).clamp(0, h + 1)
    xx = (xx + dx + 1).clamp(0, w + 1)
    padded = F.pad(x, [1, 1, 1, 1])  # reading the zero border = shifting in zeros
    return padded.permute(0, 2, 3, 1)[b, yy, xx].permute(0, 3, 1, 2).contiguous()


def cutout(x: torch.Tensor, ratio: float = 0.5) -> torch.Tensor:
    n, _, h, w = x.shape
    ch, cw = int(h * ratio + 0.5), int(w * ratio + 0.5)
    cy = torch.randint(0, h, (n, 1, 1), device=x.device)  # the square's centre
    cx = torch.randint(0, w, (n, 1, 1), device=x.device)
    yy = torch.arange(h, device=x.device).view(1, h, 1)
    xx = torch.arange(w, device=x.device).view(1, 1, w)
    inside = (yy >= cy - ch // 2) & (yy < cy - ch // 2 + ch) & (xx >= cx - cw // 2) & (xx < cx - cw // 2 + cw)
    return x * (~inside).unsqueeze(1).to(x.dtype)


_FUNCS = {"color": color, "translation": translation, "cutout": cutout}


def parse_policy(text: str) -> tuple[str, ...]:
    from yingshe.core.errors import BadInput

    items = tuple(p for p in (s.strip() for s in (text or "").split(",")) if p and p != "none")
    bad = [p for p in items if p not in _FUNCS]
    if bad:
        raise BadInput(f"--diffaug: unknown policy {bad[0]!r} (choose from {', '.join(POLICIES)}, or none)")
    return items


def diff_augment(x: torch.Tensor, policy: tuple[str, ...]) -> torch.Tensor:
    for p in policy:
        x = _FUNCS[p](x)
    return x
