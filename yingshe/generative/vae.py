"""A convolutional VAE (Kingma & Welling 2014); β-VAE (Higgins et al. 2017) by the loss weight.

The encoder halves the resolution per block (Conv 4/2/1 → BatchNorm → LeakyReLU) down to 4×4
and maps the flattened features to the mean and log-variance of q(z|x). The decoder mirrors it
with transposed convolutions and emits an image in [-1, 1] through tanh (the same range as the
GAN, so sampling, grids and evaluation treat both alike).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
import torch.nn as nn

from yingshe.generative.sizes import n_blocks


@dataclass
class VAEConfig:
    size: int = 64
    z_dim: int = 128
    width: int = 32  # channels of the first encoder block / last decoder block

    def to_dict(self) -> dict:
        return asdict(self)

    @property
    def n_blocks(self) -> int:
        return n_blocks(self.size)


class VAE(nn.Module):
    def __init__(self, cfg: VAEConfig):
        super().__init__()
        self.cfg = cfg
        n = cfg.n_blocks
        ch = [cfg.width * 2 ** i for i in range(n)]  # 64px, width 32: 32, 64, 128, 256
        enc: list[nn.Module] = []
        a = 3
        for b in ch:
            enc += [nn.Conv2d(a, b, 4, 2, 1, bias=False), nn.BatchNorm2d(b), nn.LeakyReLU(0.2, True)]
            a = b
        self.encoder = nn.Sequential(*enc)
        flat = ch[-1] * 4 * 4
        self.to_stats = nn.Linear(flat, 2 * cfg.z_dim)
        self.from_z = nn.Linear(cfg.z_dim, flat)
        dec: list[nn.Module] = [nn.BatchNorm2d(ch[-1]), nn.ReLU(True)]
        rev = ch[::-1]
        for a, b in zip(rev[:-1], rev[1:]):
            dec += [nn.ConvTranspose2d(a, b, 4, 2, 1, bias=False), nn.BatchNorm2d(b), nn.ReLU(True)]
        dec += [nn.ConvTranspose2d(rev[-1], 3, 4, 2, 1), nn.Tanh()]
        self.decoder = nn.Sequential(*dec)
        self._top = ch[-1]

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """x in [-1, 1] → (mu, logvar), each (N, z_dim)."""
        mu, logvar = self.to_stats(self.encoder(x).flatten(1)).chunk(2, 1)
        return mu, logvar.clamp(-30, 20)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.from_z(z).view(-1, self._top, 4, 4))

    def features(self, z: torch.Tensor) -> torch.Tensor:
        """The decoder's first activations (N, C·4·4): used to find principal latent directions."""
        return self.decoder[:2](self.from_z(z).view(-1, self._top, 4, 4)).flatten(1)

    def forward(self, x: torch.Tensor, noise: torch.Tensor | None = None):
        """(reconstruction, mu, logvar); ``noise`` ~ N(0, I) for the reparameterisation."""
        mu, logvar = self.encode(x)
        if noise is None:
            noise = torch.randn_like(mu)
        z = mu + noise * torch.exp(0.5 * logvar)
        return self.decode(z), mu, logvar
