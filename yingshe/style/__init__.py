"""Content + style → painting: neural style transfer by optimisation (Gatys et al.)."""

__all__ = ["stylize", "StyleRecipe"]


def __getattr__(name):  # lazy, so importing the recipe (for --help) does not import torch
    if name == "stylize":
        from yingshe.style.pipeline import stylize

        return stylize
    if name == "StyleRecipe":
        from yingshe.style.recipe import StyleRecipe

        return StyleRecipe
    raise AttributeError(name)
