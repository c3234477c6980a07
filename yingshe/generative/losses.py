"""GAN and VAE objectives, written as their formulas (logits in, scalar out).

GAN (D outputs logits ``r`` on real and ``f`` on fake images):

* ``bce``   — the original minimax game with G's non-saturating loss (Goodfellow et al. 2014):
  L_D = −E[log σ(r)] − E[log(1 − σ(f))] = E[softplus(−r)] + E[softplus(f)],
  L_G = −E[log σ(f)] = E[softplus(−f)]
* ``hinge`` — L_D = E[max(0, 1 − r)] + E[max(0, 1 + f)], L_G = −E[f] (Lim & Ye; Miyato et al.)
* ``wgan-gp`` — L_D = E[f] − E[r] + λ E[(‖∇D(x̂)‖₂ − 1)²] with x̂ on lines real↔fake,
  L_G = −E[f] (Gulrajani et al. 2017)

VAE: negative ELBO with a β weight and linear KL warm-up:
L = E‖x − x̂‖² (summed over pixels, averaged over images) + β·w·KL(q(z|x) ‖ N(0, I)).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

GAN_LOSSES = ("bce", "hinge", "wgan-gp")


def d_loss(kind: str, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    if kind == "bce":
        return F.softplus(-real).mean() + F.softplus(fake).mean()
    if kind == "hinge":
        return F.relu(1 - real).mean() + F.relu(1 + fake).mean()
    if kind == "wgan-gp":
        return fake.mean() - real.mean()
    raise ValueError(f"unknown GAN loss {kind!r}")


def g_loss(kind: str, fake: torch.Tensor) -> torch.Tensor:
    if kind == "bce":
        return F.softplus(-fake).mean()
    if kind in ("hinge", "wgan-gp"):
        return -fake.mean()
    raise ValueError(f"unknown GAN loss {kind!r}")


def gradient_penalty(D, real: torch.Tensor, fake: torch.Tensor, y=None) -> torch.Tensor:
    """E[(‖∇ₓD(x̂)‖₂ − 1)²] at random points x̂ between real and fake images."""
    eps = torch.rand(real.shape[0], 1, 1, 1, device=real.device, dtype=real.dtype)
    x = (eps * real.detach() + (1 - eps) * fake.detach()).requires_grad_(True)
    out = D(x, y) if y is not None else D(x)
    (grad,) = torch.autograd.grad(out.sum(), x, create_graph=True)
    return ((grad.flatten(1).norm(2, dim=1) - 1) ** 2).mean()


def kl_divergence(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(mu, e^logvar) ‖ N(0, I)) summed over latent dims, averaged over the batch."""
    return (-0.5 * (1 + logvar - mu.pow(2) - logvar.exp()).sum(1)).mean()


def reconstruction(x_hat: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Squared error summed over pixels, averaged over the batch."""
    return (x_hat - x).pow(2).flatten(1).sum(1).mean()


def kl_weight(step: int, warmup_steps: int, beta: float) -> float:
    """β times a linear warm-up from 0 to 1 over ``warmup_steps`` (Bowman et al. 2016)."""
    if warmup_steps <= 0:
        return beta
    return beta * min(1.0, step / warmup_steps)


def vae_loss(x_hat, x, mu, logvar, weight: float) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(total, reconstruction, KL)."""
    rec = reconstruction(x_hat, x)
    kl = kl_divergence(mu, logvar)
    return rec + weight * kl, rec, kl
