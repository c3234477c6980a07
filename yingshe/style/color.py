"""Colour control (Gatys et al. 2017, "Controlling Perceptual Factors", section 5).

Images here are (1, 3, H, W) RGB tensors in [0, 1].
"""

from __future__ import annotations

import torch

# RGB → YIQ (NTSC); Y is luminance, I/Q carry colour.
_RGB2YIQ = torch.tensor([[0.299, 0.587, 0.114],
                         [0.59590059, -0.27455667, -0.32134392],
                         [0.21153661, -0.52273617, 0.31119955]])


def rgb_to_yiq(x: torch.Tensor) -> torch.Tensor:
    return torch.einsum("ij,njhw->nihw", _RGB2YIQ.to(x), x)


def yiq_to_rgb(x: torch.Tensor) -> torch.Tensor:
    return torch.einsum("ij,njhw->nihw", torch.linalg.inv(_RGB2YIQ).to(x), x)


def luminance(x: torch.Tensor) -> torch.Tensor:
    """(1, 3, H, W) RGB → (1, 3, H, W) grey (Y replicated), for luminance-only transfer."""
    return rgb_to_yiq(x)[:, :1].repeat(1, 3, 1, 1)


def match_luminance(style_y: torch.Tensor, content_y: torch.Tensor) -> torch.Tensor:
    """Shift/scale the style's luminance to the content's mean and std (paper eq. 5)."""
    ms, ss = style_y.mean(), style_y.std().clamp_min(1e-6)
    mc, sc = content_y.mean(), content_y.std()
    return (style_y - ms) * (sc / ss) + mc


def recombine(result_grey: torch.Tensor, content: torch.Tensor) -> torch.Tensor:
    """Take Y from the luminance-only result and I, Q from the content."""
    y = rgb_to_yiq(result_grey)[:, :1]
    iq = rgb_to_yiq(content)[:, 1:]
    return yiq_to_rgb(torch.cat([y, iq], 1)).clamp(0, 1)


def _sqrtm(c: torch.Tensor, inverse: bool = False) -> torch.Tensor:
    vals, vecs = torch.linalg.eigh(c)
    vals = vals.clamp_min(1e-8)
    d = vals.rsqrt() if inverse else vals.sqrt()
    return vecs @ torch.diag(d) @ vecs.t()


def match_histogram(style: torch.Tensor, content: torch.Tensor) -> torch.Tensor:
    """Linearly transform the style's colours so their mean and covariance equal the content's:
    x' = Σc^½ Σs^-½ (x − μs) + μc (the "Image Analogies" colour transfer the paper uses)."""
    s = style.reshape(3, -1).double()
    c = content.reshape(3, -1).double()
    mu_s, mu_c = s.mean(1, keepdim=True), c.mean(1, keepdim=True)
    cov_s = torch.cov(s) + 1e-5 * torch.eye(3, dtype=s.dtype)
    cov_c = torch.cov(c) + 1e-5 * torch.eye(3, dtype=s.dtype)
    a = _sqrtm(cov_c) @ _sqrtm(cov_s, inverse=True)
    out = a @ (s - mu_s) + mu_c
    return out.reshape(style.shape).to(style.dtype).clamp(0, 1)
