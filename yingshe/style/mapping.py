"""Registers the ``style`` mapping (content + style images → painting).

The pipeline (and torch) is imported only when the mapping runs, so listing mappings is fast.
"""

from yingshe.core.registry import Example, InputSpec, Mapping, register
from yingshe.style.recipe import StyleRecipe


def run(recipe, inputs, progress=None, *, device="auto", threads=None, save_every=0, on_snapshot=None):
    from yingshe.style.pipeline import run as pipeline_run

    return pipeline_run(recipe, inputs, progress, device=device, threads=threads, save_every=save_every,
                        on_snapshot=on_snapshot)

MAPPING = register(Mapping(
    name="style",
    summary="paint a photo in the manner of a painting (Gatys neural style transfer, VGG19)",
    family="style transfer",
    recipe=StyleRecipe,
    run=run,
    inputs=(
        InputSpec("content", "image", "the photo (or picture) to repaint"),
        InputSpec("style", "image", "painting(s) whose style to take; several blend", multiple=True),
        InputSpec("init", "image", "starting image, when --init is a file", required=False),
        InputSpec("mask", "image", "region masks: white where the assigned style applies", multiple=True,
                  required=False, index_field="mask_styles"),
    ),
    rank=0,  # the flagship of pictures from photos
    examples=(
        Example("The astronaut as The Starry Night", {"size": 256}, {"content": "photo:astronaut",
                                                                     "style": ("builtin:starry-night",)}),
        Example("A cat after Hokusai", {"size": 256, "preserve_colors": "luminance"},
                {"content": "photo:chelsea", "style": ("builtin:great-wave",)}),
    ),
))
