"""Strange attractors (Clifford, De Jong) as density images with log/gamma tone mapping."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image

from yingshe.algorithmic.common import PALETTE_INPUT, ArtRecipe, colours, finish, now, ramp, palette_param
from yingshe.core.progress import Progress
from yingshe.core.recipe import param
from yingshe.core.registry import Example, Mapping, register

KINDS = ("clifford", "dejong")


@dataclass
class AttractorRecipe(ArtRecipe):
    mapping = "attractor"

    palette: str = palette_param("golden")
    kind: str = param("clifford", "which map: clifford or dejong", choices=KINDS)
    a: float = param(-1.7, "map parameter a", min=-4.0, max=4.0)
    b: float = param(1.8, "map parameter b", min=-4.0, max=4.0)
    c: float = param(-1.9, "map parameter c", min=-4.0, max=4.0)
    d: float = param(-0.4, "map parameter d", min=-4.0, max=4.0)
    points: int = param(10_000_000, "points plotted", min=1000, max=2_000_000_000)
    gamma: float = param(0.6, "tone-mapping gamma (lower = more of the faint wisps)", min=0.05, max=4.0)
    exposure: float = param(1.0, "brightness of the densest regions", min=0.05, max=20.0)
    margin: float = param(0.06, "empty border, as a fraction of the size", min=0.0, max=0.45)


def extent(kind: str, a: float, b: float, c: float, d: float) -> tuple[float, float, float, float]:
    """The map's bounding box (from its formula, so no sampling is needed)."""
    if kind == "clifford":
        return -1 - abs(c), -1 - abs(d), 1 + abs(c), 1 + abs(d)
    return -2.0, -2.0, 2.0, 2.0


def starts(r: AttractorRecipe, chains: int) -> tuple[np.ndarray, np.ndarray]:
    """Where the plotted chains begin (the seed's)."""
    rng = np.random.default_rng(r.seed)
    return rng.uniform(-0.1, 0.1, chains), rng.uniform(-0.1, 0.1, chains)


def fit(r: AttractorRecipe, chains: int) -> tuple[float, float, float, float]:
    """The bounding box of what the plotted chains draw, from a short vectorised run of the same
    chains. (A map can have several attractors side by side, and each chain falls into one: a box
    from other starting points framed a small shape off-centre in an empty canvas.)"""
    x, y = starts(r, chains)
    xs, ys = [], []
    for t in range(4100):  # 4,000 points a chain (the plotted chains are few: 2 to 8)
        if r.kind == "clifford":
            x, y = np.sin(r.a * y) + r.c * np.cos(r.a * x), np.sin(r.b * x) + r.d * np.cos(r.b * y)
        else:
            x, y = np.sin(r.a * y) - np.cos(r.b * x), np.sin(r.c * x) - np.cos(r.d * y)
        if t >= 100:
            xs.append(x)
            ys.append(y)
    xs, ys = np.concatenate(xs), np.concatenate(ys)
    x0, y0, x1, y1 = np.percentile(xs, 0.05), np.percentile(ys, 0.05), np.percentile(xs, 99.95), np.percentile(ys, 99.95)
    bx0, by0, bx1, by1 = extent(r.kind, r.a, r.b, r.c, r.d)
    if not (x1 - x0 > 1e-3 and y1 - y0 > 1e-3):  # collapsed to a point or cycle: use the formula's box
        return bx0, by0, bx1, by1
    return max(x0, bx0), max(y0, by0), min(x1, bx1), min(y1, by1)


def density(r: AttractorRecipe, w: int, h: int, chains: int = 8) -> np.ndarray:
    from yingshe.algorithmic import kernels

    x0, y0, x1, y1 = fit(r, chains)
    inner = (1 - 2 * r.margin)
    scale = min(w * inner / (x1 - x0), h * inner / (y1 - y0))
    xmin = (x0 + x1) / 2 - w / 2 / scale
    ymin = (y0 + y1) / 2 - h / 2 / scale
    xs, ys = starts(r, chains)
    out = np.zeros((chains, h, w), np.uint32)
    kernels.attractor_density(0 if r.kind == "clifford" else 1, r.a, r.b, r.c, r.d, xs, ys, r.points, 100,
                              xmin, ymin, scale, w, h, out)
    total = np.zeros((h, w), np.float64)
    for k in range(chains):  # fixed order: deterministic
        total += out[k]
    return total


def run(recipe: AttractorRecipe, inputs: dict, progress: Progress | None = None, **options):
    t0 = now()
    progress = progress or Progress()
    progress.start(1, desc="attractor")
    cols, used = colours(recipe)
    w = h = recipe.size
    chains = 8 if w * h <= 2048 * 2048 else 2  # bounded memory at 8192 px
    dens = density(recipe, w, h, chains)
    peak = np.percentile(dens[dens > 0], 99.7) if np.any(dens > 0) else 1.0
    t = np.log1p(dens) / np.log1p(peak) * recipe.exposure
    t = np.clip(t, 0, 1) ** recipe.gamma
    rgb = ramp(np.vstack([cols[:1], cols[1:]]), t)
    progress.update(1)
    progress.close()
    return finish(recipe, t0, image=Image.fromarray(np.clip(np.round(rgb * 255), 0, 255).astype(np.uint8)),
                  inputs=used, summary={"points": recipe.points})


GOOD = [("clifford", -1.7, 1.8, -1.9, -0.4), ("clifford", -1.4, 1.6, 1.0, 0.7), ("clifford", 1.7, 1.7, 0.6, 1.2),
        ("clifford", -1.8, -2.0, -0.5, -0.9), ("clifford", 1.5, -1.8, 1.6, 0.9), ("dejong", 1.4, -2.3, 2.4, -2.1),
        ("dejong", 2.01, -2.53, 1.61, -0.33), ("dejong", -2.7, -0.09, -0.86, -2.2), ("dejong", -0.827, -1.637, 1.659, -0.943)]


def sample(rng, size):
    kind, a, b, c, d = GOOD[rng.integers(len(GOOD))]
    j = lambda v: float(v + rng.normal(0, 0.03))  # noqa: E731
    return {"kind": kind, "a": j(a), "b": j(b), "c": j(c), "d": j(d), "points": max(20_000, size * size * 12),
            "gamma": float(rng.uniform(0.4, 0.8))}


CAPTION = "attractor swirls"

MAPPING = register(Mapping("attractor", "Clifford and De Jong strange attractors as glowing density maps",
                           "algorithmic", AttractorRecipe, run, realtime=False, inputs=(PALETTE_INPUT,), rank=20,
                           examples=(Example("A De Jong attractor",
                                             {"kind": "dejong", "a": 1.4, "b": -2.3, "c": 2.4, "d": -2.1, "size": 768}),)))
