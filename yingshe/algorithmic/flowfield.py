"""Flow field: particles drift along a smooth noise field and leave coloured trails."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from PIL import Image

from yingshe.algorithmic.noise import fractal_noise
from yingshe.algorithmic.palettes import PALETTES, palette
from yingshe.core.artwork import Artwork
from yingshe.core.progress import Progress
from yingshe.core.recipe import Recipe, param
from yingshe.core.registry import Mapping, register


@dataclass
class FlowFieldRecipe(Recipe):
    mapping = "flowfield"

    size: int = param(1024, "longest side in pixels", min=16, max=8192)
    aspect: float = param(1.0, "width / height", min=0.1, max=10.0)
    particles: int = param(4000, "number of trails", min=1, max=2_000_000)
    steps: int = param(120, "length of each trail in steps", min=1, max=10_000)
    scale: float = param(0.25, "size of the field's swirls, as a fraction of the image", min=0.01, max=4.0)
    octaves: int = param(3, "noise detail levels", min=1, max=8)
    turbulence: float = param(2.0, "how many turns the field makes", min=0.0, max=20.0)
    curl: bool = param(False, "curl noise: divergence-free flow (trails never bunch up)")
    palette: str = param("ocean", "colour palette", choices=tuple(sorted(PALETTES)))
    stroke: float = param(1.0, "trail brightness per pass", min=0.05, max=20.0)


def render(r: FlowFieldRecipe, progress: Progress | None = None) -> Image.Image:
    progress = progress or Progress()
    rng = np.random.default_rng(r.seed)
    if r.aspect >= 1:
        w, h = r.size, max(1, round(r.size / r.aspect))
    else:
        h, w = r.size, max(1, round(r.size * r.aspect))
    n = fractal_noise(h, w, scale=r.scale * max(h, w), octaves=r.octaves, rng=rng)
    if r.curl:
        gy, gx = np.gradient(n)
        vx, vy = gy, -gx
        norm = np.hypot(vx, vy) + 1e-9
        vx, vy = vx / norm, vy / norm
    else:
        theta = n * np.pi * r.turbulence
        vx, vy = np.cos(theta), np.sin(theta)
    colours = palette(r.palette)
    bg, inks = colours[0], colours[1:]
    x = rng.uniform(0, w - 1, r.particles)
    y = rng.uniform(0, h - 1, r.particles)
    ink = inks[rng.integers(0, len(inks), r.particles)]  # (P, 3)
    acc = np.zeros((3, h * w), np.float64)
    cnt = np.zeros(h * w, np.float64)
    step_len = max(0.5, max(h, w) / 600)
    alive = np.ones(r.particles, bool)
    progress.start(r.steps, desc="flowfield")
    for _ in range(r.steps):
        xi = np.clip(x.astype(np.int64), 0, w - 1)
        yi = np.clip(y.astype(np.int64), 0, h - 1)
        idx = (yi * w + xi)[alive]
        cnt += np.bincount(idx, minlength=h * w)
        for c in range(3):
            acc[c] += np.bincount(idx, weights=ink[alive, c], minlength=h * w)
        x = x + step_len * vx[yi, xi]
        y = y + step_len * vy[yi, xi]
        alive &= (x >= 0) & (x < w) & (y >= 0) & (y < h)
        progress.update(1)
    progress.close()
    mean = (acc / np.maximum(cnt, 1)).T.reshape(h, w, 3)
    alpha = (1.0 - np.exp(-cnt * 0.6 * r.stroke)).reshape(h, w, 1)
    img = bg * (1 - alpha) + mean * alpha
    return Image.fromarray(np.clip(np.round(img * 255), 0, 255).astype(np.uint8), "RGB")


def run(recipe: FlowFieldRecipe, inputs: dict, progress: Progress | None = None, **options) -> Artwork:
    t0 = time.perf_counter()
    image = render(recipe, progress)
    return Artwork(mapping=recipe.mapping, recipe=recipe, image=image, seconds=time.perf_counter() - t0)


MAPPING = register(Mapping("flowfield", "particles drifting along a noise field leave coloured trails",
                           "algorithmic", FlowFieldRecipe, run, realtime=True))
