"""The Mandelbrot set with smooth colouring, any centre and zoom (perturbation beyond 1e10)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from PIL import Image

from yingshe.algorithmic import fractal
from yingshe.algorithmic.common import PALETTE_INPUT, ArtRecipe, colours, finish, now, palette_param
from yingshe.core.recipe import param
from yingshe.core.registry import Example, Mapping, register


@dataclass
class MandelbrotRecipe(ArtRecipe):
    mapping = "mandelbrot"

    palette: str = palette_param("golden")
    centre_x: float = param(-0.745, "real part of the view's centre", min=-3.0, max=3.0)
    centre_y: float = param(0.186, "imaginary part of the view's centre", min=-3.0, max=3.0)
    zoom: float = param(60.0, "magnification (1 = the whole set; deep zooms to 1e12 and beyond)", min=0.1, max=1e14)
    iterations: int | None = param(None, "most iterations per pixel (default: 500, more as the zoom deepens)",
                                   min=1, max=1_000_000)
    density: float = param(1.0, "colour bands per unit of smooth escape time", min=0.01, max=100.0)
    offset: float = param(0.0, "shift along the palette", min=0.0, max=1.0)


def iterations(r: MandelbrotRecipe) -> int:
    """The recipe's iterations, or 500 growing with the zoom's depth (7,250 at 1e12)."""
    if r.iterations is not None:
        return r.iterations
    depth = max(0.0, math.log10(r.zoom) - 3.0)
    return int(500 + 250 * depth ** 1.5)


def run(recipe: MandelbrotRecipe, inputs: dict, progress=None, **options):
    t0 = now()
    cols, used = colours(recipe)
    rgb = fractal.render(recipe.size, recipe.size, recipe.centre_x, recipe.centre_y, recipe.zoom,
                         iterations(recipe), cols, recipe.density, recipe.offset, progress=progress)
    return finish(recipe, t0, image=Image.fromarray(rgb, "RGB"), inputs=used)


def sample(rng, size):
    spots = [(-0.745, 0.186, 60.0), (-0.7453, 0.1127, 600.0), (-0.16, 1.0405, 40.0), (-1.25066, 0.02012, 800.0),
             (-0.5, 0.0, 1.0), (0.2925, 0.0149, 300.0), (-0.7746806106, 0.1374168856, 3000.0)]
    x, y, z = spots[rng.integers(len(spots))]
    return {"centre_x": x, "centre_y": y, "zoom": z * float(rng.uniform(0.7, 1.5)), "iterations": 300,
            "density": float(rng.uniform(0.5, 2.0)), "offset": float(rng.uniform(0, 1))}


CAPTION = "mandelbrot fractal filaments"

MAPPING = register(Mapping("mandelbrot", "the Mandelbrot set, smooth-coloured, zoomable to 1e12 and beyond",
                           "algorithmic", MandelbrotRecipe, run, realtime=True, inputs=(PALETTE_INPUT,), rank=1,
                           examples=(Example("Seahorse valley", {"size": 768, "zoom": 300.0, "palette": "golden"}),)))
