"""Registers the ``fast-style`` mapping: a photo or video painted in one pass of a network.

The default model is Magenta's arbitrary image stylisation network (Ghiasi et al. 2017): any
painting goes in as the style, a style network turns it into a 100-d style vector and a
transformer network paints the content with it. ``--model RUN`` applies a network trained with
``yingshe train fast-style`` (Johnson et al. 2016) instead. Videos are painted frame by frame,
each frame blended with the previous painted frame warped along the optical flow where the flow
is reliable, so the strokes stay put instead of flickering.

This module stays light (no torch at import): the work is in :mod:`yingshe.style.fast_pipeline`.
It also registers the ``builtin:`` source scheme for the paintings shipped with yingshe.
"""

from __future__ import annotations

from dataclasses import dataclass

from yingshe.core import sources
from yingshe.core.errors import BadInput
from yingshe.core.recipe import Recipe, param
from yingshe.core.registry import Example, InputSpec, Mapping, register
from yingshe.style import builtin


@dataclass
class FastStyleRecipe(Recipe):
    mapping = "fast-style"

    size: int = param(512, "longest side of the output in pixels (above 1024 the network's full-resolution "
                      "layers run in tiles: the same picture in less memory)", min=32, max=4096)
    strength: float = param(1.0, "how much of the style: 0 keeps the content's own style, 1 is the painting's "
                            "(Magenta interpolates the two style vectors)", min=0.0, max=1.0)
    style_weights: tuple[float, ...] = param((), "blend of several style images, e.g. 0.7,0.3 (empty = equal)",
                                             min=0.0, max=1e6, max_len=16)
    preserve_colors: str = param("none", "keep the content's colours: luminance (painted brightness, the "
                                 "photo's colours) or histogram (the style's colours matched to the photo first)",
                                 choices=("none", "luminance", "histogram"))
    style_scale: float = param(0.0, "brush size: the network paints at --size divided by this and the painting "
                               "is resized to --size (2 = strokes twice as large, and 4x faster; below 1 = finer). "
                               "0 = auto: up to 512 px it paints at full size, above at half of --size (never "
                               "below 512): the strokes it was trained for, and faster and closer to the painting "
                               "(bench/fast_style.py)", min=0.0, max=8.0)
    style_size: int = param(256, "shorter side, in pixels, of each style image as the style network sees it "
                            "(it was trained at 256; larger catches finer brushwork)", min=64, max=1024)
    mask_styles: tuple[int, ...] = param((), "for each --mask, the index of the style it paints (default: the "
                                         "masks go to styles 1, 2, ... and style 0 fills the rest)", min=0,
                                         max=15, max_len=16, advanced=True)
    temporal: float = param(0.7, "video only: how much of the previous painted frame, warped along the optical "
                            "flow, each frame keeps where the flow is reliable (0 = frame by frame)",
                            min=0.0, max=0.95)
    model: str = param("magenta", "magenta (any style image, offline) or a network trained with `yingshe train "
                       "fast-style` (its run folder or model.safetensors)", suggest=("magenta",))

    def check(self) -> None:
        if 0 < self.style_scale < 0.25:
            raise BadInput("--style-scale must be 0 (auto) or between 0.25 and 8")
        if self.style_weights and sum(self.style_weights) <= 0:
            raise BadInput("--style-weights must not all be zero")


def run(recipe: FastStyleRecipe, inputs: dict, progress=None, **options):
    from yingshe.style.fast_pipeline import run as _run

    return _run(recipe, inputs, progress, **options)


sources.register_scheme("builtin", builtin.render)

MAPPING = register(Mapping(
    name="fast-style",
    summary="paint a photo or video in the manner of any painting in one pass (Magenta arbitrary style, "
            "or a network you trained)",
    family="style transfer",
    recipe=FastStyleRecipe,
    run=run,
    inputs=(
        InputSpec("content", "image|video", "the photo or video to paint"),
        InputSpec("style", "image", "painting(s) whose style to take (builtin:NAME for the shipped ones); several "
                  "blend; not needed with a trained --model", multiple=True, required=False),
        InputSpec("mask", "image", "region masks: white where the assigned style paints", multiple=True,
                  required=False, index_field="mask_styles"),
    ),
    outputs=("image", "video"),
    webcam="content",  # one pass of the network per frame: the studio streams a webcam through it
    rank=1,  # a first picture in seconds, beside the Gatys flagship
    examples=(
        Example("Coffee after The Scream, in one pass", {"size": 512},
                {"content": "photo:coffee", "style": ("builtin:the-scream",)}),
        Example("The rocket as Composition VII", {"size": 512},
                {"content": "photo:rocket", "style": ("builtin:composition-vii",)}),
        Example("Half Hokusai, half the cat", {"size": 512, "strength": 0.5},
                {"content": "photo:chelsea", "style": ("builtin:great-wave",)}),
    ),
))
