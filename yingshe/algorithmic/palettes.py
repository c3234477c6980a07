"""Named colour palettes (sRGB hex), first colour = background."""

from __future__ import annotations

import numpy as np

from yingshe.core.errors import BadInput

PALETTES: dict[str, tuple[str, ...]] = {
    "ocean": ("#0b1d3a", "#1f4e79", "#2e86ab", "#76c7c0", "#f4f1de", "#e9c46a"),
    "ember": ("#1a0f0a", "#6a040f", "#d00000", "#e85d04", "#faa307", "#ffe8a3"),
    "forest": ("#10200f", "#2d6a4f", "#52b788", "#95d5b2", "#d8f3dc", "#b7791f"),
    "dusk": ("#1b1035", "#4b2a6b", "#a23b72", "#f18f01", "#f6c85f", "#c7e3f0"),
    "ink": ("#f3efe6", "#1c1c1c", "#3a3a3a", "#7a7a7a", "#b23a48", "#2b4c7e"),
    "monet": ("#2f4858", "#6b8f9c", "#a7c4bc", "#e9d8a6", "#f2b880", "#c98686"),
}


def palette(name: str) -> np.ndarray:
    """(K, 3) float32 RGB in [0, 1]."""
    try:
        colours = PALETTES[name]
    except KeyError:
        raise BadInput(f"unknown palette {name!r} (known: {', '.join(sorted(PALETTES))})") from None
    return np.array([[int(c[i:i + 2], 16) / 255.0 for i in (1, 3, 5)] for c in colours], np.float32)
