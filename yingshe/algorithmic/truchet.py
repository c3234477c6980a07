"""Truchet tiles: a grid of randomly turned tiles whose arcs or diagonals join into paths."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from yingshe.algorithmic.common import PALETTE_INPUT, ArtRecipe, Canvas, colours, finish, now, palette_param
from yingshe.core.progress import Progress
from yingshe.core.recipe import param
from yingshe.core.registry import Example, Mapping, register

VECTOR = True
STYLES = ("arcs", "diagonals", "triangles")


@dataclass
class TruchetRecipe(ArtRecipe):
    mapping = "truchet"

    palette: str = palette_param("ink")
    style: str = param("arcs", "tile: arcs (Smith), diagonals or triangles", choices=STYLES)
    tiles: int = param(16, "tiles across", min=1, max=512)
    width: float = param(0.18, "line width, as a fraction of a tile", min=0.01, max=0.6)
    colourful: bool = param(True, "colour each tile from the palette (else the first ink only)")


def _arc(cx, cy, r, a0, a1, n=12):
    t = np.linspace(a0, a1, n)
    return np.stack([cx + r * np.cos(t), cy + r * np.sin(t)], 1)


def run(recipe: TruchetRecipe, inputs: dict, progress: Progress | None = None, **options):
    t0 = now()
    progress = progress or Progress()
    progress.start(1, desc="truchet")
    cols, used = colours(recipe)
    size, n = recipe.size, recipe.tiles
    s = size / n
    rng = np.random.default_rng(recipe.seed)
    flips = rng.integers(0, 4 if recipe.style == "triangles" else 2, (n, n))
    which = rng.integers(0, len(cols) - 1, (n, n)) if recipe.colourful else np.zeros((n, n), int)
    canvas = Canvas(size, size, cols[0])
    lw = recipe.width * s
    for j in range(n):
        for i in range(n):
            x, y, f = i * s, j * s, flips[j, i]
            ink = cols[1 + which[j, i]]
            if recipe.style == "arcs":
                if f == 0:
                    canvas.polyline(_arc(x, y, s / 2, 0, np.pi / 2), ink, lw)
                    canvas.polyline(_arc(x + s, y + s, s / 2, np.pi, 1.5 * np.pi), ink, lw)
                else:
                    canvas.polyline(_arc(x + s, y, s / 2, np.pi / 2, np.pi), ink, lw)
                    canvas.polyline(_arc(x, y + s, s / 2, 1.5 * np.pi, 2 * np.pi), ink, lw)
            elif recipe.style == "diagonals":
                pts = [(x, y), (x + s, y + s)] if f == 0 else [(x + s, y), (x, y + s)]
                canvas.polyline(pts, ink, lw)
            else:
                corners = [(x, y), (x + s, y), (x + s, y + s), (x, y + s)]
                tri = [corners[f], corners[(f + 1) % 4], corners[(f + 2) % 4]]
                canvas.polygon(tri, fill=ink)
    progress.update(1)
    progress.close()
    return finish(recipe, t0, canvas=canvas, inputs=used, summary={"tiles": n * n})


def sample(rng, size):
    return {"style": STYLES[int(rng.integers(3))], "tiles": int(rng.integers(4, 12)),
            "width": float(rng.uniform(0.12, 0.3))}


def CAPTION(r):  # noqa: N802
    return {"arcs": "truchet arc tiles", "diagonals": "truchet diagonal tiles", "triangles": "truchet triangle tiles"}[r.style]


MAPPING = register(Mapping("truchet", "Truchet tiles: randomly turned arcs, diagonals or triangles",
                           "algorithmic", TruchetRecipe, run, realtime=True, inputs=(PALETTE_INPUT,), outputs=("image", "vector"), rank=45,
                           examples=(Example("Truchet arcs", {"size": 768}),)))
