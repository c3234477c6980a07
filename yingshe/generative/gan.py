"""DCGAN generator and discriminator (Radford et al. 2016) at 32, 64 or 128 px.

The generator maps z ~ N(0, I) (plus, optionally, a class label) to an image in [-1, 1]:
a 4×4 transposed convolution lifts z to a 4×4 map, then each block doubles the resolution
(ConvTranspose 4/2/1 → BatchNorm → ReLU) and halves the channels, and a last block emits RGB
through tanh. The discriminator mirrors it with strided convolutions and LeakyReLU(0.2).
At 64 px with ``width=64`` these are exactly the shapes of the PyTorch DCGAN example.

Options: spectral normalisation on every discriminator layer (Miyato et al. 2018), no
normalisation (for WGAN-GP), and class conditioning — a learned class embedding concatenated
to z in G, and a projection discriminator (Miyato & Koyama 2018) in D.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
import torch.nn as nn

from yingshe.generative.sizes import n_blocks


@dataclass
class GANConfig:
    size: int = 64
    z_dim: int = 100
    g_width: int = 64  # channels of the last generator block (DCGAN's ngf)
    d_width: int = 64  # channels of the first discriminator block (DCGAN's ndf)
    n_classes: int = 0  # 0 = unconditional
    d_norm: str = "batch"  # "batch" | "none"
    spectral_norm: bool = False

    def to_dict(self) -> dict:
        return asdict(self)

    @property
    def n_blocks(self) -> int:
        return n_blocks(self.size)


def init_dcgan_(m: nn.Module) -> None:
    """DCGAN initialisation: N(0, 0.02) convolutions, N(1, 0.02) BatchNorm scales."""
    if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
        nn.init.normal_(m.weight, 0.0, 0.02)
        if m.bias is not None:
            nn.init.zeros_(m.bias)
    elif isinstance(m, nn.BatchNorm2d):
        nn.init.normal_(m.weight, 1.0, 0.02)
        nn.init.zeros_(m.bias)
    elif isinstance(m, nn.Embedding):
        nn.init.normal_(m.weight, 0.0, 0.02)


class Generator(nn.Module):
    def __init__(self, cfg: GANConfig):
        super().__init__()
        self.cfg = cfg
        n = cfg.n_blocks
        ch = [cfg.g_width * 2 ** (n - 1 - i) for i in range(n)]  # 64px: 512, 256, 128, 64
        in_dim = cfg.z_dim
        self.embed = None
        if cfg.n_classes:
            self.embed = nn.Embedding(cfg.n_classes, cfg.z_dim)
            in_dim += cfg.z_dim
        layers: list[nn.Module] = [nn.ConvTranspose2d(in_dim, ch[0], 4, 1, 0, bias=False),
                                   nn.BatchNorm2d(ch[0]), nn.ReLU(True)]
        for a, b in zip(ch[:-1], ch[1:]):
            layers += [nn.ConvTranspose2d(a, b, 4, 2, 1, bias=False), nn.BatchNorm2d(b), nn.ReLU(True)]
        layers += [nn.ConvTranspose2d(ch[-1], 3, 4, 2, 1, bias=False), nn.Tanh()]
        self.main = nn.Sequential(*layers)
        self.apply(init_dcgan_)

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        if self.embed is not None:
            if y is None:
                raise ValueError("this generator is class-conditional: pass labels y")
            z = torch.cat([z, self.embed(y)], 1)
        return self.main(z.view(z.shape[0], -1, 1, 1))

    def features(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        """The first block's activations (N, C·4·4): used to find principal latent directions."""
        if self.embed is not None:
            z = torch.cat([z, self.embed(y)], 1)
        return self.main[:3](z.view(z.shape[0], -1, 1, 1)).flatten(1)


class Discriminator(nn.Module):
    def __init__(self, cfg: GANConfig):
        super().__init__()
        self.cfg = cfg
        n = cfg.n_blocks
        ch = [cfg.d_width * 2 ** i for i in range(n)]  # 64px: 64, 128, 256, 512
        sn = nn.utils.parametrizations.spectral_norm if cfg.spectral_norm else (lambda m: m)
        norm = cfg.d_norm == "batch" and not cfg.spectral_norm
        layers: list[nn.Module] = [sn(nn.Conv2d(3, ch[0], 4, 2, 1, bias=not norm)), nn.LeakyReLU(0.2, True)]
        for a, b in zip(ch[:-1], ch[1:]):
            layers.append(sn(nn.Conv2d(a, b, 4, 2, 1, bias=not norm)))
            if norm:
                layers.append(nn.BatchNorm2d(b))
            layers.append(nn.LeakyReLU(0.2, True))
        self.main = nn.Sequential(*layers)
        self.out = sn(nn.Conv2d(ch[-1], 1, 4, 1, 0, bias=False))
        self.embed = sn(nn.Embedding(cfg.n_classes, ch[-1])) if cfg.n_classes else None
        self.apply(init_dcgan_)

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        """Logits, shape (N,)."""
        h = self.main(x)
        logits = self.out(h).view(-1)
        if self.embed is not None:
            if y is None:
                raise ValueError("this discriminator is class-conditional: pass labels y")
            logits = logits + (self.embed(y) * h.sum((2, 3))).sum(1)
        return logits
