"""Circle packing: the largest circle that fits at the best of many random places, again and
again, until the picture is full."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from yingshe.algorithmic.common import PALETTE_INPUT, ArtRecipe, Canvas, colours, finish, now, palette_param
from yingshe.core.progress import Progress
from yingshe.core.recipe import param
from yingshe.core.registry import Example, Mapping, register

VECTOR = True


@dataclass
class PackingRecipe(ArtRecipe):
    mapping = "packing"

    palette: str = palette_param("candy")
    circles: int = param(700, "circles to place", min=1, max=20_000)
    gap: float = param(0.004, "gap between circles, as a fraction of the size", min=0.0, max=0.1)
    min_radius: float = param(0.004, "smallest circle, as a fraction of the size", min=0.0005, max=0.2)
    max_radius: float = param(0.16, "largest circle, as a fraction of the size", min=0.001, max=0.5)
    candidates: int = param(96, "random places tried per circle (more = tighter packing)", min=1, max=4096)
    rings: int = param(1, "concentric rings per circle (plotter shading)", min=1, max=20)
    outline: bool = param(False, "outlines only (for pen plotters)")


def pack(r: PackingRecipe) -> np.ndarray:
    """(N, 3) circles (x, y, radius) in unit coordinates."""
    rng = np.random.default_rng(r.seed)
    circles = np.zeros((r.circles, 3))
    n = 0
    misses = 0
    while n < r.circles and misses < 50:
        cand = rng.uniform(0, 1, (r.candidates, 2))
        edge = np.minimum(cand, 1 - cand).min(1)
        if n:
            d = np.sqrt(((cand[:, None, :] - circles[None, :n, :2]) ** 2).sum(-1)) - circles[None, :n, 2]
            room = np.minimum(edge, d.min(1)) - r.gap
        else:
            room = edge - r.gap
        room = np.minimum(room, r.max_radius)
        best = int(np.argmax(room))
        if room[best] < r.min_radius:
            misses += 1
            continue
        circles[n] = (*cand[best], room[best])
        n += 1
    return circles[:n]


def run(recipe: PackingRecipe, inputs: dict, progress: Progress | None = None, **options):
    t0 = now()
    progress = progress or Progress()
    progress.start(1, desc="packing")
    cols, used = colours(recipe)
    size = recipe.size
    rng = np.random.default_rng(recipe.seed + 1)
    canvas = Canvas(size, size, cols[0])
    inks = cols[1:]
    for x, y, rad in pack(recipe):
        ink = inks[int(rng.integers(len(inks)))]
        for k in range(recipe.rings):
            rr = rad * size * (1 - k / recipe.rings)
            if recipe.outline:
                canvas.circle(x * size, y * size, rr, stroke=ink, width=max(0.5, size / 1024))
            else:
                shade = ink if k % 2 == 0 else ink * 0.75 + cols[0] * 0.25
                canvas.circle(x * size, y * size, rr, fill=shade)
    progress.update(1)
    progress.close()
    return finish(recipe, t0, canvas=canvas, inputs=used, summary={"circles": canvas.count("circle")})


def sample(rng, size):
    return {"circles": int(rng.integers(40, 160)), "min_radius": 0.015, "rings": int(rng.integers(1, 4)),
            "candidates": 48}


CAPTION = "packed circles"

MAPPING = register(Mapping("packing", "circle packing: ever smaller circles filling the picture",
                           "algorithmic", PackingRecipe, run, inputs=(PALETTE_INPUT,), outputs=("image", "vector"), rank=40,
                           examples=(Example("Circle packing", {"size": 768}),)))
