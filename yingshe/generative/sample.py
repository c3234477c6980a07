"""Using a trained model: load it (run folder, model file or shipped name), draw latents,
decode, tile grids, interpolate (slerp) and encode images (VAE).

Latents are drawn on the CPU from a seeded generator and then moved, so a seed gives the same
z on every device; on the same device and version it gives the same pixels.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from yingshe.core.errors import BadInput, WeightsError
from yingshe.core.checkpoint import load_tensors
from yingshe.generative.gan import GANConfig, Generator

#: the weights families `yingshe sample` and the latent explorer load (the zoo holds other kinds too)
LATENT_FAMILIES = ("yingshe-gan", "yingshe-vae")
from yingshe.generative.vae import VAE, VAEConfig


@dataclass
class LoadedModel:
    kind: str  # "gan" | "vae"
    net: torch.nn.Module  # Generator or VAE, in eval mode
    config: object
    classes: list[str]
    source: str  # zoo name or resolved file path (what the recipe records)
    path: Path
    sha256: str
    meta: dict = field(default_factory=dict)

    @property
    def z_dim(self) -> int:
        return self.config.z_dim  # type: ignore[attr-defined]

    @property
    def size(self) -> int:
        return self.config.size  # type: ignore[attr-defined]

    def weights_record(self) -> dict:
        return {"source": self.source, "family": f"yingshe-{self.kind}", "sha256": self.sha256}

    def class_index(self, name: str | None) -> int | None:
        if not self.classes:
            if name:
                raise BadInput(f"--class {name!r}: this model is not class-conditional")
            return None
        if name is None or name == "":
            return None
        if name not in self.classes:
            raise BadInput(f"--class {name!r}: not one of this model's classes ({', '.join(self.classes)})")
        return self.classes.index(name)


def model_path(spec: str) -> tuple[Path, str]:
    """(file, source-for-the-record) for a run folder, a model file or a shipped model name."""
    from yingshe.core import sources, weights

    p = Path(spec).expanduser()
    if p.is_dir() or sources.redirected(str(p.resolve() / "model.safetensors")):
        f = p.resolve() / "model.safetensors"
        path, recorded = sources.readable_path(str(f), "model")
        if not path.exists():
            raise BadInput(f"{spec!r} is not a training run (no model.safetensors inside)")
        return path, recorded
    if p.is_file() or sources.redirected(str(p.resolve())):
        return sources.readable_path(str(p.resolve()), "model")
    name = weights.ALIASES.get(spec, spec)
    if name in weights.ZOO and weights.ZOO[name].family in LATENT_FAMILIES:
        r = weights.resolve(name)
        return r.path, name
    shipped = ", ".join(sorted(k for k, e in weights.ZOO.items() if e.family in LATENT_FAMILIES))
    raise BadInput(f"model {spec!r}: no such run folder or file, and not a shipped model ({shipped or 'none'})")


def load_model(spec: str | Path, device: str | torch.device = "cpu") -> LoadedModel:
    from yingshe.core.fingerprint import sha256_file

    path, source = model_path(str(spec))
    tensors, meta = load_tensors(path)
    kind = meta.get("kind")
    try:
        if kind == "gan":
            cfg = GANConfig(**meta["model"])
            net = Generator(cfg)
        elif kind == "vae":
            cfg = VAEConfig(**meta["model"])
            net = VAE(cfg)
        else:
            raise WeightsError(f"{path}: unknown model kind {kind!r}")
        net.load_state_dict(tensors)
    except (TypeError, KeyError, RuntimeError, ValueError) as e:
        raise WeightsError(f"{path}: weights do not fit the described model ({str(e).splitlines()[0][:160]})") from None
    net = net.to(device).eval().requires_grad_(False)
    return LoadedModel(kind, net, cfg, list(meta.get("classes") or []), source, path, sha256_file(path), meta)


def latents(n: int, z_dim: int, seed: int, truncation: float | None = None) -> torch.Tensor:
    """(n, z_dim) standard normal latents for ``seed``. With ``truncation`` t, values beyond ±t
    are redrawn (the truncation trick of BigGAN: less variety, higher fidelity)."""
    g = torch.Generator().manual_seed(int(seed))
    z = torch.randn(n, z_dim, generator=g)
    if truncation is not None and truncation > 0:
        for _ in range(1000):
            bad = z.abs() > truncation
            if not bad.any():
                break
            z[bad] = torch.randn(int(bad.sum()), generator=g)
    return z


@torch.no_grad()
def decode(net: torch.nn.Module, kind: str, z: torch.Tensor, y: torch.Tensor | None = None,
           batch: int = 256) -> torch.Tensor:
    """Latents → images (N, 3, H, W) in [0, 1]."""
    out = []
    for i in range(0, z.shape[0], batch):
        zi = z[i:i + batch]
        if kind == "gan":
            yi = y[i:i + batch] if y is not None else None
            x = net(zi, yi) if getattr(net, "embed", None) is not None else net(zi)
        else:
            x = net.decode(zi)
        out.append(((x.float() + 1) / 2).clamp(0, 1))
    return torch.cat(out) if out else torch.zeros(0, 3, 1, 1)


def class_labels(model: LoadedModel, n: int, cls: int | None, device) -> torch.Tensor | None:
    if not model.classes:
        return None
    if cls is None:
        return (torch.arange(n) % len(model.classes)).to(device)
    return torch.full((n,), cls, dtype=torch.long, device=device)


@torch.no_grad()
def lively_classes(model: LoadedModel, n: int = 16, share: float = 0.25) -> list[int]:
    """The classes of a conditional model whose pictures change with the latent. A class whose
    generator has collapsed (art-gan-32's ``subdivision``: the same picture for every latent)
    would make a latent walk stand still. For each class, ``n`` fixed latents (seed 0) are
    decoded and the pixels' spread across them (the mean per-pixel standard deviation) is
    measured; classes below ``share`` × the median spread are left out. Deterministic for a
    given weights file. On art-gan-32 the spreads are 0.10-0.39, and 0.008 for subdivision."""
    if not model.classes:
        return []
    device = next(model.net.parameters()).device
    z = latents(n, model.z_dim, 0).to(device)
    spread = []
    for c in range(len(model.classes)):
        y = torch.full((n,), c, dtype=torch.long, device=device)
        spread.append(float(decode(model.net, model.kind, z, y).std(0).mean()))
    floor = share * sorted(spread)[len(spread) // 2]
    live = [c for c, v in enumerate(spread) if v >= floor]
    return live or list(range(len(model.classes)))


def to_pil(x: torch.Tensor) -> Image.Image:
    """(3, H, W) in [0, 1] → RGB image."""
    return Image.fromarray((x.clamp(0, 1).permute(1, 2, 0).cpu().numpy() * 255 + 0.5).astype(np.uint8), "RGB")


def grid_image(images: torch.Tensor, nrow: int | None = None, pad: int = 2) -> Image.Image:
    """Tile (N, 3, H, W) images in [0, 1] into one picture, ``nrow`` per row (default √N)."""
    n, _, h, w = images.shape
    if n == 1:
        return to_pil(images[0])
    nrow = nrow or math.ceil(math.sqrt(n))
    rows = math.ceil(n / nrow)
    canvas = torch.ones(3, rows * (h + pad) + pad, nrow * (w + pad) + pad)
    for i in range(n):
        r, c = divmod(i, nrow)
        canvas[:, pad + r * (h + pad): pad + r * (h + pad) + h, pad + c * (w + pad): pad + c * (w + pad) + w] = images[i].cpu()
    return to_pil(canvas)


def slerp(a: torch.Tensor, b: torch.Tensor, t: float) -> torch.Tensor:
    """Spherical interpolation (Shoemake; White 2016 for GAN latents), row-wise."""
    an, bn = a / a.norm(dim=-1, keepdim=True), b / b.norm(dim=-1, keepdim=True)
    omega = torch.acos((an * bn).sum(-1, keepdim=True).clamp(-1 + 1e-7, 1 - 1e-7))
    so = torch.sin(omega)
    out = (torch.sin((1 - t) * omega) / so) * a + (torch.sin(t * omega) / so) * b
    return torch.where(so.abs() < 1e-6, (1 - t) * a + t * b, out)


def walk(keys: torch.Tensor, steps: int, loop: bool = False, spherical: bool = True) -> torch.Tensor:
    """``steps`` latents through the key latents in order (back to the first when ``loop``)."""
    if keys.shape[0] < 2:
        raise BadInput("an interpolation needs at least 2 key latents")
    pts = list(keys) + ([keys[0]] if loop else [])
    segs = len(pts) - 1
    out = []
    for i in range(steps):
        pos = i * segs / (steps if loop else max(1, steps - 1))
        k = min(int(pos), segs - 1)
        t = pos - k
        a, b = pts[k].unsqueeze(0), pts[k + 1].unsqueeze(0)
        out.append(slerp(a, b, t) if spherical else (1 - t) * a + t * b)
    return torch.cat(out)


def image_tensor(img: Image.Image, size: int) -> torch.Tensor:
    """An RGB image → (1, 3, size, size) in [-1, 1] (centre square crop)."""
    from yingshe.core.images import centre_square

    a = np.asarray(centre_square(img, size), dtype=np.float32) / 127.5 - 1.0
    return torch.from_numpy(a).permute(2, 0, 1).unsqueeze(0)


@torch.no_grad()
def encode(model: LoadedModel, img: Image.Image) -> torch.Tensor:
    """VAE: the posterior mean of q(z|image), shape (1, z_dim)."""
    if model.kind != "vae":
        raise BadInput("encode needs a VAE; for a GAN use `yingshe project`")
    x = image_tensor(img, model.size).to(next(model.net.parameters()).device)
    mu, _ = model.net.encode(x)
    return mu
