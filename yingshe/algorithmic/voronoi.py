"""Voronoi stained glass: cells of coloured glass around random sites, joined by dark lead."""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
from PIL import Image

from yingshe.algorithmic.common import PALETTE_INPUT, ArtRecipe, colours, finish, now, palette_param
from yingshe.core.progress import Progress
from yingshe.core.recipe import param
from yingshe.core.registry import Example, Mapping, register


@dataclass
class VoronoiRecipe(ArtRecipe):
    mapping = "voronoi"

    palette: str = palette_param("stained", "first colour = the lead")
    cells: int = param(220, "pieces of glass", min=2, max=100_000)
    relax: int = param(2, "Lloyd relaxation rounds (more = rounder, more even cells)", min=0, max=20)
    lead: float = param(0.005, "lead line width, as a fraction of the size", min=0.0, max=0.1)
    glow: float = param(0.35, "light in the middle of each piece", min=0.0, max=1.0)
    texture: float = param(0.06, "mottling of the glass", min=0.0, max=0.5)


def sites(r: VoronoiRecipe, rng) -> np.ndarray:
    """Random sites, moved toward their cells' centroids ``relax`` times (Lloyd)."""
    pts = rng.uniform(0, 1, (r.cells, 2))
    if not r.relax:
        return pts
    g = min(256, max(64, 2 * r.size))  # relaxation grid: finer than the picture is wasted
    return _relaxed(pts.tobytes(), r.cells, r.relax, g).copy()


@functools.lru_cache(maxsize=8)
def _relaxed(start: bytes, cells: int, relax: int, g: int) -> np.ndarray:
    """Lloyd's relaxation of the sites ``start`` on a g×g grid: most of a small picture's time,
    kept for the last few site sets, so moving the lead, glow or texture of a live preview
    does not redo it (the answer depends only on these arguments)."""
    from scipy.spatial import cKDTree

    pts = np.frombuffer(start).reshape(cells, 2).copy()
    yy, xx = np.mgrid[0:g, 0:g]
    grid = (np.stack([xx.ravel(), yy.ravel()], 1) + 0.5) / g
    for _ in range(relax):
        _, lbl = cKDTree(pts).query(grid)
        cnt = np.bincount(lbl, minlength=cells)
        sx = np.bincount(lbl, grid[:, 0], minlength=cells)
        sy = np.bincount(lbl, grid[:, 1], minlength=cells)
        ok = cnt > 0
        pts[ok] = np.stack([sx[ok] / cnt[ok], sy[ok] / cnt[ok]], 1)
    return pts


def run(recipe: VoronoiRecipe, inputs: dict, progress: Progress | None = None, **options):
    from scipy.spatial import cKDTree

    t0 = now()
    progress = progress or Progress()
    cols, used = colours(recipe)
    rng = np.random.default_rng(recipe.seed)
    pts = sites(recipe, rng)
    tree = cKDTree(pts)
    lead, glass = cols[0], cols[1:]
    cell_col = glass[rng.integers(0, len(glass), recipe.cells)] * rng.uniform(0.8, 1.1, (recipe.cells, 1))
    size = recipe.size
    out = np.empty((size, size, 3), np.uint8)
    rows = max(1, 1_000_000 // size)
    tex_rng = np.random.default_rng(recipe.seed + 1)
    tex = tex_rng.normal(0, 1, (64, 64)).astype(np.float32)
    tex_img = np.asarray(Image.fromarray(tex, "F").resize((size, size), Image.BICUBIC))
    progress.start(size, desc="voronoi")
    half = recipe.lead / 2
    for r0 in range(0, size, rows):
        r1 = min(size, r0 + rows)
        yy, xx = np.mgrid[r0:r1, 0:size]
        q = (np.stack([xx.ravel(), yy.ravel()], 1) + 0.5) / size
        d, idx = tree.query(q, k=2)
        edge = (d[:, 1] - d[:, 0]) / 2  # distance to the cell border
        near = d[:, 0] / np.maximum(d[:, 0] + edge, 1e-9)  # 0 at the site, 1 at the border
        c = cell_col[idx[:, 0]] * (1 + recipe.glow * (0.6 - near))[:, None]
        c = c * (1 + recipe.texture * tex_img[r0:r1].ravel())[:, None]
        aa = 1.5 / size
        a = np.clip((edge - half) / aa + 0.5, 0, 1)[:, None]  # anti-aliased lead
        rgb = c * a + lead * (1 - a)
        out[r0:r1] = np.clip(np.round(rgb * 255), 0, 255).astype(np.uint8).reshape(r1 - r0, size, 3)
        progress.update(r1 - r0)
    progress.close()
    return finish(recipe, t0, image=Image.fromarray(out, "RGB"), inputs=used, summary={"cells": recipe.cells})


def sample(rng, size):
    return {"cells": int(rng.integers(12, 60)), "relax": 1, "lead": 0.025, "texture": 0.03}


CAPTION = "stained glass voronoi cells"

MAPPING = register(Mapping("voronoi", "Voronoi stained glass: glowing cells of glass joined by lead",
                           "algorithmic", VoronoiRecipe, run, realtime=True, inputs=(PALETTE_INPUT,), rank=25,
                           examples=(Example("Stained glass", {"size": 768}),)))
