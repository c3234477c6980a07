"""Smooth fractal noise on a grid, vectorised (numpy + Pillow's bicubic resampling)."""

from __future__ import annotations

import numpy as np
from PIL import Image


def fractal_noise(h: int, w: int, *, scale: float, octaves: int, rng: np.random.Generator) -> np.ndarray:
    """(h, w) float32 noise in about [-1, 1]: octaves of random lattices upsampled bicubically.

    ``scale`` is the size in pixels of the largest features.
    """
    out = np.zeros((h, w), np.float32)
    amp, total = 1.0, 0.0
    for o in range(octaves):
        cell = max(2.0, scale / (2**o))
        gh, gw = int(np.ceil(h / cell)) + 3, int(np.ceil(w / cell)) + 3
        lattice = rng.standard_normal((gh, gw)).astype(np.float32)
        big = Image.fromarray(lattice, "F").resize((int(gw * cell), int(gh * cell)), Image.BICUBIC)
        arr = np.asarray(big)[int(cell): int(cell) + h, int(cell): int(cell) + w]
        out += amp * arr
        total += amp
        amp *= 0.5
    out /= total
    return out / (np.abs(out).max() + 1e-6)
