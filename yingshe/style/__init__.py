"""Content + style → painting: neural style transfer by optimisation (Gatys et al.)."""

from yingshe.style.pipeline import stylize
from yingshe.style.recipe import StyleRecipe

__all__ = ["stylize", "StyleRecipe"]
