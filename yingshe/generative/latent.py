"""The latent-space API for the studio's explorer (and for notebooks).

    from yingshe.generative import latent
    m = latent.load("art-gan-32")          # a shipped name, a run folder or a model file
    z = torch.randn(4, m.latent_dim)
    imgs = m.decode(z)                      # (4, 3, H, W) float in [0, 1]
    d = m.directions(5)                     # (5, latent_dim): principal directions, strongest first
    imgs = m.decode(z + 3 * d[0])           # move along the first direction
    m.classes                               # class names of a conditional GAN ([] otherwise)
    m.decode(z, cls="ocean")                # conditional GAN: pick the class (name or index)

``directions`` follows GANSpace (Härkönen et al. 2020): sample many z, take the principal
components of the first decoder block's activations, and regress them back onto z, so each
direction is the z-space move that best produces one principal change of the picture.
Works the same for GANs and VAE decoders; results are cached per (k, seed).
"""

from __future__ import annotations

from pathlib import Path

import torch

from yingshe.generative.sample import LATENT_FAMILIES, LoadedModel, decode as _decode, load_model


class LatentModel:
    def __init__(self, model: LoadedModel):
        self.model = model
        self._dirs: dict = {}

    @property
    def latent_dim(self) -> int:
        return self.model.z_dim

    @property
    def size(self) -> int:
        return self.model.size

    @property
    def kind(self) -> str:
        return self.model.kind

    @property
    def classes(self) -> list[str]:
        return list(self.model.classes)

    @property
    def device(self) -> torch.device:
        return next(self.model.net.parameters()).device

    def _labels(self, n: int, cls) -> torch.Tensor | None:
        if not self.classes:
            return None
        if cls is None:
            return (torch.arange(n) % len(self.classes)).to(self.device)
        idx = self.classes.index(cls) if isinstance(cls, str) else int(cls)
        return torch.full((n,), idx, dtype=torch.long, device=self.device)

    @torch.no_grad()
    def decode(self, z: torch.Tensor, cls: str | int | None = None) -> torch.Tensor:
        """(N, D) latents → (N, 3, H, W) images in [0, 1] (on the model's device)."""
        if z.dim() == 1:
            z = z.unsqueeze(0)
        if z.shape[-1] != self.latent_dim:
            raise ValueError(f"latents must have {self.latent_dim} dims, got {z.shape[-1]}")
        z = z.to(self.device, torch.float32)
        return _decode(self.model.net, self.kind, z, self._labels(z.shape[0], cls))

    def sample_z(self, n: int, seed: int = 0, truncation: float | None = None) -> torch.Tensor:
        from yingshe.generative.sample import latents

        return latents(n, self.latent_dim, seed, truncation)

    @torch.no_grad()
    def directions(self, k: int = 8, samples: int = 2048, seed: int = 0) -> torch.Tensor:
        """(k, D) unit directions in z, strongest principal change first."""
        k = max(1, min(int(k), self.latent_dim))
        key = (k, samples, seed)
        if key not in self._dirs:
            from yingshe.generative.sample import latents

            z = latents(samples, self.latent_dim, seed).to(self.device)
            net = self.model.net
            if self.kind == "gan":
                f = net.features(z, self._labels(samples, None))
            else:
                f = net.features(z)
            f = (f - f.mean(0)).float().cpu()
            # top-k principal axes of the features (randomised SVD is plenty here)
            _, _, v = torch.pca_lowrank(f, q=min(k + 8, min(f.shape)), center=False)
            coeff = f @ v[:, :k]  # (samples, k)
            zc = z.float().cpu() - z.float().cpu().mean(0)
            b = torch.linalg.lstsq(coeff, zc).solution  # (k, D): z ≈ coeff @ b
            self._dirs[key] = b / b.norm(dim=1, keepdim=True).clamp_min(1e-8)
        return self._dirs[key].clone()


def load(name_or_run_dir: str | Path, device: str = "auto") -> LatentModel:
    """Load a GAN/VAE for exploring: a shipped name (``art-gan-32``), a run folder or a model file."""
    from yingshe.core.device import resolve_device

    return LatentModel(load_model(str(name_or_run_dir), resolve_device(device)))


def available() -> list[str]:
    """Names of the GAN/VAE models shipped with yingshe."""
    from yingshe.core import weights

    return sorted(k for k, e in weights.ZOO.items() if e.family in LATENT_FAMILIES)
