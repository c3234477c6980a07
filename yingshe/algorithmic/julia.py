"""Julia sets z² + c with smooth colouring."""

from __future__ import annotations

from dataclasses import dataclass

from PIL import Image

from yingshe.algorithmic import fractal
from yingshe.algorithmic.common import PALETTE_INPUT, ArtRecipe, colours, finish, now, palette_param
from yingshe.core.recipe import param
from yingshe.core.registry import Example, Mapping, register


@dataclass
class JuliaRecipe(ArtRecipe):
    mapping = "julia"

    palette: str = palette_param("dusk")
    c_re: float = param(-0.8, "real part of the constant c", min=-2.0, max=2.0)
    c_im: float = param(0.156, "imaginary part of the constant c", min=-2.0, max=2.0)
    centre_x: float = param(0.0, "real part of the view's centre", min=-3.0, max=3.0)
    centre_y: float = param(0.0, "imaginary part of the view's centre", min=-3.0, max=3.0)
    zoom: float = param(1.0, "magnification (1 = a 3.2-wide view)", min=0.1, max=1e12)
    iterations: int = param(300, "most iterations per pixel", min=1, max=1_000_000)
    density: float = param(1.5, "colour bands per unit of smooth escape time", min=0.01, max=100.0)
    offset: float = param(0.0, "shift along the palette", min=0.0, max=1.0)


def run(recipe: JuliaRecipe, inputs: dict, progress=None, **options):
    t0 = now()
    cols, used = colours(recipe)
    rgb = fractal.render(recipe.size, recipe.size, recipe.centre_x, recipe.centre_y, recipe.zoom / 1.0667,
                         recipe.iterations, cols, recipe.density, recipe.offset,
                         julia=(recipe.c_re, recipe.c_im), progress=progress)
    return finish(recipe, t0, image=Image.fromarray(rgb, "RGB"), inputs=used)


def sample(rng, size):
    cs = [(-0.8, 0.156), (-0.4, 0.6), (0.285, 0.01), (-0.70176, -0.3842), (-0.835, -0.2321), (0.355, 0.355),
          (-0.54, 0.54), (-0.1, 0.651)]
    cr, ci = cs[rng.integers(len(cs))]
    return {"c_re": cr + float(rng.normal(0, 0.01)), "c_im": ci + float(rng.normal(0, 0.01)), "iterations": 200,
            "density": float(rng.uniform(0.7, 2.5)), "offset": float(rng.uniform(0, 1))}


CAPTION = "julia set curls"

MAPPING = register(Mapping("julia", "Julia sets z²+c: smooth-coloured filigree around a chosen constant",
                           "algorithmic", JuliaRecipe, run, realtime=True, inputs=(PALETTE_INPUT,), rank=5,
                           examples=(Example("A dendrite Julia set", {"c_re": -0.4, "c_im": 0.6, "size": 768, "palette": "dusk"}),)))
