"""Gray–Scott reaction–diffusion with named presets (coral, mitosis, spots, maze, worms)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image

from yingshe.algorithmic.common import PALETTE_INPUT, ArtRecipe, colours, finish, now, ramp, palette_param
from yingshe.core.progress import Progress
from yingshe.core.recipe import param
from yingshe.core.registry import Example, Mapping, register

#: (feed, kill) of well-known Gray–Scott regimes (Pearson 1993; Sims)
PRESETS = {"coral": (0.0545, 0.062), "mitosis": (0.0367, 0.0649), "spots": (0.03, 0.062),
           "maze": (0.029, 0.057), "worms": (0.058, 0.065)}


@dataclass
class ReactionRecipe(ArtRecipe):
    mapping = "reaction"

    palette: str = palette_param("ocean")
    preset: str = param("coral", "pattern regime: " + ", ".join(PRESETS), choices=tuple(PRESETS))
    feed: float | None = param(None, "feed rate F (default: the preset's)", min=0.0, max=0.12)
    kill: float | None = param(None, "kill rate k (default: the preset's)", min=0.0, max=0.08)
    grid: int = param(256, "simulation cells across (the pattern's scale; upscaled to --size)", min=16, max=2048)
    steps: int = param(5000, "simulation steps", min=1, max=200_000)
    seeds: int = param(60, "initial drops of the second chemical", min=1, max=10_000)


def rates(r: ReactionRecipe) -> tuple[float, float]:
    f, k = PRESETS[r.preset]
    return (r.feed if r.feed is not None else f), (r.kill if r.kill is not None else k)


def simulate(r: ReactionRecipe, g: int, progress: Progress) -> np.ndarray:
    from yingshe.algorithmic import kernels

    rng = np.random.default_rng(r.seed)
    u = np.ones((g, g), np.float32)
    v = np.zeros((g, g), np.float32)
    rad = max(2, g // 40)
    for _ in range(r.seeds):
        y, x = rng.integers(0, g, 2)
        ys, xs = np.ogrid[-rad:rad + 1, -rad:rad + 1]
        yy, xx = (y + ys) % g, (x + xs) % g
        u[yy, xx] = 0.5
        v[yy, xx] = 0.25
    v += rng.uniform(0, 0.02, v.shape).astype(np.float32)
    u2, v2 = np.empty_like(u), np.empty_like(v)
    f, k = rates(r)
    chunk = max(1, min(r.steps, 500))
    kernel = kernels.gray_scott
    done = 0
    progress.start(r.steps, desc="reaction")
    while done < r.steps and not progress.stopped():
        n = min(chunk, r.steps - done)
        u, v = kernel(u, v, u2, v2, np.float32(0.2097), np.float32(0.105), np.float32(f),
                                  np.float32(k), n)
        u2, v2 = (np.empty_like(u), np.empty_like(v)) if u2 is u else (u2, v2)
        done += n
        progress.update(n)
    progress.close()
    return v


def run(recipe: ReactionRecipe, inputs: dict, progress: Progress | None = None, **options):
    t0 = now()
    progress = progress or Progress()
    cols, used = colours(recipe)
    g = min(recipe.grid, recipe.size)
    v = simulate(recipe, g, progress)
    t = np.clip(v / max(float(v.max()), 1e-6), 0, 1)
    if g != recipe.size:  # smooth upscale of the field, then colour (crisp edges at any size)
        t = np.asarray(Image.fromarray(t.astype(np.float32), "F").resize((recipe.size, recipe.size), Image.BICUBIC))
    rgb = np.empty((recipe.size, recipe.size, 3), np.uint8)
    rows = max(1, 2_000_000 // recipe.size)
    for r0 in range(0, recipe.size, rows):
        rgb[r0:r0 + rows] = np.clip(np.round(ramp(cols, np.clip(t[r0:r0 + rows], 0, 1) ** 0.8) * 255), 0, 255)
    return finish(recipe, t0, image=Image.fromarray(rgb, "RGB"), inputs=used,
                  summary={"feed": rates(recipe)[0], "kill": rates(recipe)[1]})


def sample(rng, size):
    return {"preset": list(PRESETS)[int(rng.integers(len(PRESETS)))], "grid": size, "steps": 2500,
            "seeds": int(rng.integers(12, 30))}


def CAPTION(r):  # noqa: N802
    return f"{r.preset} reaction-diffusion patterns"


MAPPING = register(Mapping("reaction", "Gray–Scott reaction–diffusion: coral, mitosis, spots, maze, worms",
                           "algorithmic", ReactionRecipe, run, inputs=(PALETTE_INPUT,), rank=15,
                           examples=(Example("Coral growth", {"preset": "coral", "size": 512}),)))
