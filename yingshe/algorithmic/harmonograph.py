"""Harmonograph: the curve drawn by two damped pendulums per axis."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from yingshe.algorithmic.common import PALETTE_INPUT, ArtRecipe, Canvas, colours, finish, now, ramp, palette_param
from yingshe.core.progress import Progress
from yingshe.core.recipe import param
from yingshe.core.registry import Example, Mapping, register

VECTOR = True


@dataclass
class HarmonographRecipe(ArtRecipe):
    mapping = "harmonograph"

    palette: str = palette_param("dusk")
    ratio: float = param(1.5, "frequency ratio of the pendulums (near-simple ratios make knots)", min=0.1, max=10.0)
    detune: float = param(0.006, "small frequency error that makes the figure rotate", min=0.0, max=0.2)
    damping: float = param(0.0015, "how fast the swing dies away", min=0.0, max=0.1)
    turns: float = param(180.0, "length of the drawing in swings", min=1.0, max=5000.0)
    points: int = param(40_000, "points along the curve", min=100, max=5_000_000)
    width: float = param(0.8, "line width in pixels at 1024 px", min=0.05, max=20.0)
    segments: int = param(48, "colour steps along the curve (one polyline each)", min=1, max=1000)


def curve(r: HarmonographRecipe) -> np.ndarray:
    rng = np.random.default_rng(r.seed)
    t = np.linspace(0, r.turns * 2 * np.pi, r.points)
    f = np.array([1.0, r.ratio + r.detune, r.ratio, 1.0 + r.detune * rng.uniform(-1, 1)])
    p = rng.uniform(0, 2 * np.pi, 4)
    a = rng.uniform(0.5, 1.0, 4)
    d = r.damping * rng.uniform(0.6, 1.4, 4)
    x = a[0] * np.sin(f[0] * t + p[0]) * np.exp(-d[0] * t) + a[1] * np.sin(f[1] * t + p[1]) * np.exp(-d[1] * t)
    y = a[2] * np.sin(f[2] * t + p[2]) * np.exp(-d[2] * t) + a[3] * np.sin(f[3] * t + p[3]) * np.exp(-d[3] * t)
    return np.stack([x, y], 1)


def run(recipe: HarmonographRecipe, inputs: dict, progress: Progress | None = None, **options):
    t0 = now()
    progress = progress or Progress()
    progress.start(1, desc="harmonograph")
    cols, used = colours(recipe)
    size = recipe.size
    xy = curve(recipe)
    lo, hi = xy.min(0), xy.max(0)
    scale = size * 0.9 / max(float((hi - lo).max()), 1e-9)
    xy = (xy - (lo + hi) / 2) * scale + size / 2
    canvas = Canvas(size, size, cols[0])
    edges = np.linspace(0, len(xy) - 1, recipe.segments + 1).astype(int)
    shades = ramp(cols[1:], np.linspace(0, 1, recipe.segments))
    lw = recipe.width * size / 1024
    for k in range(recipe.segments):
        canvas.polyline(xy[edges[k]:edges[k + 1] + 1], shades[k], lw)
    progress.update(1)
    progress.close()
    return finish(recipe, t0, canvas=canvas, inputs=used, summary={"polylines": recipe.segments})


def sample(rng, size):
    ratios = [1.0, 1.5, 2.0, 0.75, 1.333, 3.0, 2.5]
    return {"ratio": ratios[int(rng.integers(len(ratios)))], "detune": float(rng.uniform(0.002, 0.02)),
            "damping": float(rng.uniform(0.001, 0.004)), "points": 6000, "turns": 120.0, "width": 3.0,
            "segments": 12}


CAPTION = "harmonograph pendulum curves"

MAPPING = register(Mapping("harmonograph", "harmonograph: looping curves drawn by damped pendulums",
                           "algorithmic", HarmonographRecipe, run, realtime=True, inputs=(PALETTE_INPUT,), outputs=("image", "vector"), rank=28,
                           examples=(Example("A harmonograph", {"size": 768}),)))
