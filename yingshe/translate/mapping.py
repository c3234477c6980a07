"""Registers ``translate``: a sketch, an edge map or a grey picture → a picture, with a pix2pix
generator (a shipped model, or one you trained with ``yingshe train pix2pix``).

The input is resized so its longest side is ``size`` (by default the size the model was trained
at: a 64 px emoji model sees a drawing at the scale it learned) and, by ``prepare``, first turned into what
the model was trained on (a photo into Canny edges for an edges model, anything into grey for a
colorize model; a line drawing is taken as it is). The generator then runs once, in eval mode:
dropout off, so a recipe and an input give one picture, byte for byte (on one device and thread
count). ``noise`` keeps dropout on as the paper does at test time, drawn from ``seed``: variations
that are still reproducible. The model file's sha256 goes into the artwork's ``weights``, so
``yingshe recreate`` notices a retrained run.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from yingshe.core.artwork import Artwork
from yingshe.core.errors import BadInput
from yingshe.core.progress import Progress
from yingshe.core.recipe import Recipe, param
from yingshe.core.registry import Example, InputSpec, Mapping, register

PREPARE = ("auto", "on", "off")

EXAMPLES = """\
yingshe translate sketch.png -o painting.png                      (edges2monet: lines → a Monet)
yingshe translate photo.jpg -o monet.png --prepare on             (the photo's edges, painted)
yingshe translate sketch.png -o p.png --noise --seed 3            (the paper's dropout noise: variations)
yingshe translate smiley.png -o emoji.png --model edges2emoji     (a drawing → a 64 px emoji)
yingshe translate grey.jpg -o colour.png --model runs/colorize    (a model you trained)"""


@dataclass
class TranslateRecipe(Recipe):
    mapping = "translate"
    model: str = param("edges2monet", "shipped model name (edges2monet, edges2emoji), a `yingshe train pix2pix` "
                                      "run folder, or a model file", suggest=("edges2monet", "edges2emoji"))
    size: int = param(0, "longest side of the picture, in pixels (0: the size the model was trained at; the "
                         "network is fully convolutional, but it draws best at the scale it learned)",
                      min=0, max=2048)
    prepare: str = param("auto", "turn the input into the model's kind of input first: auto (by the model: "
                                 "photos become edges or grey, line drawings stay), on, off", choices=PREPARE)
    noise: bool = param(False, "keep dropout on, as the paper does at test time: a variation per seed "
                               "(off: the one deterministic translation)")

    def check(self) -> None:
        if 0 < self.size < 32:
            raise BadInput(f"--size must be 0 (the model's own size) or at least 32 px, not {self.size}")


def run(recipe: TranslateRecipe, inputs: dict, progress: Progress | None = None, *, device: str = "auto",
        threads: int | None = None, **_) -> Artwork:
    import numpy as np
    from PIL import Image

    from yingshe.core.device import resolve_device, set_threads
    from yingshe.translate.model import load_translator
    from yingshe.translate.pairs import prepare

    t0 = time.perf_counter()
    progress = progress or Progress()
    threads = set_threads(threads)
    srcs = inputs.get("image") or []
    if len(srcs) != 1:
        raise BadInput(f"translate takes one picture (the sketch, edges or grey picture); got {len(srcs)}")
    src = srcs[0]
    model = load_translator(recipe.model, resolve_device(device))
    progress.start(1, f"translating with {recipe.model}")
    img = src.image.convert("RGB")
    w, h = img.size
    side = recipe.size or model.size
    scale = side / max(w, h)
    nw, nh = max(1, round(w * scale)), max(1, round(h * scale))
    a, prepared = prepare(model.pairs, np.asarray(img, dtype=np.uint8), recipe.prepare, size=(nw, nh))
    out = Image.fromarray(model(a, noise=recipe.noise, seed=recipe.seed), "RGB")
    progress.update(1)
    progress.close()
    dev = next(model.net.parameters()).device
    summary = {"pairs": model.pairs, "size": side, "prepared": prepared, "width": out.width, "height": out.height,
               "model_step": model.meta.get("step")}
    return Artwork(mapping=recipe.mapping, recipe=recipe, image=out, inputs={"image": [src.record]},
                   weights={"model": model.weights_record()}, device=str(dev), threads=threads,
                   seconds=time.perf_counter() - t0, summary=summary)


MAPPING = register(Mapping(
    name="translate",
    summary="sketch, edges or grey picture → painting with pix2pix (shipped edges2monet and edges2emoji, or "
            "yingshe train pix2pix)",
    family="translation",
    recipe=TranslateRecipe,
    run=run,
    inputs=(InputSpec("image", "image", "the sketch, edge map or grey picture (a photo is made into one first: "
                                        "--prepare)", sketch=True),),
    outputs=("image",),
    realtime=True,
    examples=(Example("Poplars by the water, drawn, then painted like Monet", {"size": 256},
                      {"image": "sketch:poplars"}),
              Example("Haystacks under the sun", {"size": 256}, {"image": "sketch:haystacks"}),
              Example("A smiley, drawn, made an emoji", {"model": "edges2emoji"}, {"image": "sketch:smiley"})),
))
