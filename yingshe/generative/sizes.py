"""Image sizes the GAN and VAE are built for, and how many up/down-sampling blocks each needs."""

import math

SIZES = (32, 64, 128)


def n_blocks(size: int) -> int:
    """Stride-2 blocks between a 4×4 map and ``size``: 32 → 3, 64 → 4, 128 → 5."""
    if size not in SIZES:
        raise ValueError(f"size must be one of {SIZES}, not {size}")
    return int(math.log2(size)) - 2
