"""Animations: a generator rendered while one parameter sweeps from a to b (GIF / MP4).

The sweep is itself a mapping (``animation``) with a recipe, so the record in the sidecar JSON
is enough for ``yingshe recreate`` to make the same frames again.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

from yingshe.algorithmic.common import PALETTE_INPUT
from yingshe.core.artwork import Artwork
from yingshe.core.errors import BadInput
from yingshe.core.progress import Progress
from yingshe.core.recipe import Recipe, param
from yingshe.core.registry import Example, Mapping, get, register


@dataclass
class AnimationRecipe(Recipe):
    mapping = "animation"

    generator: str = param("flowfield", "the algorithmic generator to animate",
                           suggest=("attractor", "flowfield", "harmonograph", "julia", "lsystem", "mandelbrot",
                                    "packing", "reaction", "subdivision", "truchet", "voronoi"))
    base: str = param("{}", "the generator's recipe (JSON) apart from the swept parameter and the seed "
                            "({}: its defaults)", advanced=True)
    sweep: str = param("turbulence=1:4", "PARAM=A:B (linear) or PARAM=A:B:log (geometric, e.g. a zoom)")
    frames: int = param(24, "number of frames", min=2, max=2000)
    fps: float = param(12.0, "frames per second", min=1.0, max=60.0)

    def check(self) -> None:
        parse_sweep(self.sweep)
        self.generator_recipe(None)

    def generator_recipe(self, value):
        mapping = get(self.generator)
        if mapping.family != "algorithmic":
            raise BadInput(f"--animate works with algorithmic generators; {self.generator!r} is not one")
        try:
            base = json.loads(self.base)
        except ValueError:
            raise BadInput("animation base recipe is not valid JSON") from None
        name, a, b, _ = parse_sweep(self.sweep)
        spec = {s.name: s for s in mapping.recipe.params()}.get(name)
        if spec is None:
            raise BadInput(f"--animate: {self.generator} has no parameter {name!r}")
        if spec.kind not in ("int", "float") or spec.is_tuple:
            raise BadInput(f"--animate: {name} is not a number, so it cannot be swept")
        v = value if value is not None else a
        if spec.kind == "int":
            v = int(round(v))
        return mapping, mapping.recipe.from_dict({**base, "seed": self.seed, name: v})


def parse_sweep(text: str) -> tuple[str, float, float, bool]:
    name, sep, rng = text.partition("=")
    parts = rng.split(":")
    if not sep or len(parts) not in (2, 3) or (len(parts) == 3 and parts[2] not in ("log", "lin")):
        raise BadInput(f"--animate {text!r}: expected PARAM=A:B or PARAM=A:B:log, e.g. zoom=1:1e6:log")
    try:
        a, b = float(parts[0]), float(parts[1])
    except ValueError:
        raise BadInput(f"--animate {text!r}: A and B must be numbers") from None
    log = len(parts) == 3 and parts[2] == "log"
    if log and (a <= 0 or b <= 0):
        raise BadInput(f"--animate {text!r}: a geometric sweep needs A and B above 0")
    return name.strip().replace("-", "_"), a, b, log


def values(recipe: AnimationRecipe) -> list[float]:
    _, a, b, log = parse_sweep(recipe.sweep)
    n = recipe.frames
    if log:
        return [math.exp(math.log(a) + (math.log(b) - math.log(a)) * i / (n - 1)) for i in range(n)]
    return [a + (b - a) * i / (n - 1) for i in range(n)]


def run(recipe: AnimationRecipe, inputs: dict, progress: Progress | None = None, **options) -> Artwork:
    import time

    t0 = time.perf_counter()
    progress = progress or Progress()
    frames, used = [], {}
    vals = values(recipe)
    progress.start(len(vals), desc=f"{recipe.generator} frames")
    for v in vals:
        mapping, r = recipe.generator_recipe(v)
        art = mapping.run(r, inputs, None)
        frames.append(art.image)
        used = used or art.inputs
        progress.update(1)
        if progress.stopped():
            break
    progress.close()
    return Artwork(mapping="animation", recipe=recipe, image=frames[0], frames=frames, fps=recipe.fps,
                   inputs=used, seconds=time.perf_counter() - t0,
                   summary={"frames": len(frames)}, interrupted=len(frames) < len(vals))


MAPPING = register(Mapping("animation", "a generator animated by sweeping one parameter (GIF/MP4)",
                           "algorithmic-animation", AnimationRecipe, run, inputs=(PALETTE_INPUT,), outputs=("video",),
                           rank=20, examples=(Example("A Julia set breathing", {"generator": "julia", "sweep": "c_im=0.12:0.2",
                                                                          "frames": 48, "fps": 12,
                                                                          "base": '{"size": 256, "c_re": -0.8}'}),)))
