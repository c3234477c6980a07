"""Recursive subdivision: rectangles split again and again, a few filled with colour (Mondrian)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from yingshe.algorithmic.common import PALETTE_INPUT, ArtRecipe, Canvas, colours, finish, now, palette_param
from yingshe.core.progress import Progress
from yingshe.core.recipe import param
from yingshe.core.registry import Example, Mapping, register

VECTOR = True


@dataclass
class SubdivisionRecipe(ArtRecipe):
    mapping = "subdivision"

    palette: str = palette_param("mondrian", "darkest = lines, lightest = plain cells")
    depth: int = param(6, "most levels of splitting", min=1, max=16)
    split: float = param(0.8, "chance that a cell splits again (the first two levels always split)", min=0.0, max=1.0)
    min_cell: float = param(0.05, "smallest cell side, as a fraction of the size", min=0.005, max=0.5)
    colour: float = param(0.35, "fraction of cells filled with a colour (the rest take the first ink)", min=0.0, max=1.0)
    line: float = param(0.012, "line width, as a fraction of the size", min=0.0, max=0.1)


def cells(r: SubdivisionRecipe) -> list[tuple[float, float, float, float]]:
    rng = np.random.default_rng(r.seed)
    out = []
    stack = [(0.0, 0.0, 1.0, 1.0, 0)]
    while stack:
        x0, y0, x1, y1, d = stack.pop()
        w, h = x1 - x0, y1 - y0
        can_v, can_h = w >= 2 * r.min_cell, h >= 2 * r.min_cell
        if d >= r.depth or not (can_v or can_h) or (d > 1 and rng.random() > r.split):
            out.append((x0, y0, x1, y1))
            continue
        vertical = can_v and (not can_h or rng.random() < w / (w + h))
        lo, hi = (x0, x1) if vertical else (y0, y1)
        cut = lo + (hi - lo) * rng.uniform(0.3, 0.7)
        cut = min(max(cut, lo + r.min_cell), hi - r.min_cell)
        if vertical:
            stack += [(x0, y0, cut, y1, d + 1), (cut, y0, x1, y1, d + 1)]
        else:
            stack += [(x0, y0, x1, cut, d + 1), (x0, cut, x1, y1, d + 1)]
    return out


def run(recipe: SubdivisionRecipe, inputs: dict, progress: Progress | None = None, **options):
    t0 = now()
    progress = progress or Progress()
    progress.start(1, desc="subdivision")
    cols, used = colours(recipe)
    size = recipe.size
    rng = np.random.default_rng(recipe.seed + 7)
    from yingshe.algorithmic.palettes import srgb_to_oklab

    light = srgb_to_oklab(cols.astype(np.float64))[:, 0]
    order = np.argsort(light, kind="stable")
    line_col, plain = cols[order[0]], cols[order[-1]]  # darkest draws the lines, lightest the plain cells
    rest = [cols[i] for i in order[1:-1] if np.abs(cols[i] - plain).max() > 0.05 and np.abs(cols[i] - line_col).max() > 0.05]
    accents = np.array(rest) if rest else cols[[order[0]]]
    canvas = Canvas(size, size, line_col)
    lw = recipe.line * size
    found = cells(recipe)
    for x0, y0, x1, y1 in found:
        fill = accents[int(rng.integers(len(accents)))] if rng.random() < recipe.colour else plain
        pts = np.array([(x0, y0), (x1, y0), (x1, y1), (x0, y1)]) * size
        canvas.polygon(pts, fill=fill, stroke=line_col if lw > 0 else None, width=lw)
    progress.update(1)
    progress.close()
    return finish(recipe, t0, canvas=canvas, inputs=used, summary={"cells": len(found)})


def sample(rng, size):
    return {"depth": int(rng.integers(3, 7)), "min_cell": 0.08, "colour": float(rng.uniform(0.2, 0.5)),
            "line": 0.03}


CAPTION = "mondrian-like rectangles"

MAPPING = register(Mapping("subdivision", "recursive subdivision: Mondrian-like rectangles of colour",
                           "algorithmic", SubdivisionRecipe, run, realtime=True, inputs=(PALETTE_INPUT,), outputs=("image", "vector"), rank=35,
                           examples=(Example("After Mondrian", {"size": 768}),)))
