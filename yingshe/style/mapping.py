"""Registers the ``style`` mapping (content + style images → painting)."""

from yingshe.core.registry import InputSpec, Mapping, register
from yingshe.style.pipeline import run
from yingshe.style.recipe import StyleRecipe

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
                  required=False),
    ),
))
