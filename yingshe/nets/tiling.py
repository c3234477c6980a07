"""Run the local parts of an image network tile by tile, so big pictures fit in memory.

Feed-forward style networks mix two kinds of operation: local ones (convolutions, upsampling,
activations: an output pixel depends on a few input pixels around it) and global ones
(instance normalisation: every pixel depends on the whole picture's channel statistics).
Tiling the whole network would give each tile its own statistics — seams. Instead a network
runs its local stages with :func:`local_tiled` (each tile padded by a halo wider than the
stage's receptive field, then cropped, so the stitched result equals the untiled one exactly)
and applies its norms to the stitched feature map. The result is the untiled network's, to
float rounding, at any size.
"""

from __future__ import annotations

from typing import Callable

import torch


def local_tiled(fn: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, tile: int, halo: int,
                scale: int | float = 1, align: int = 1) -> torch.Tensor:
    """``fn(x)`` computed tile by tile, for a local ``fn`` whose output is ``scale`` × the input's size.

    ``halo``: input pixels each tile borrows from its neighbours (at least the receptive radius
    of ``fn``); ``align``: tile corners fall on multiples of this (the product of ``fn``'s
    strides, so strided convolutions see the same pixel grid in every tile). At the picture's
    own edges a tile has no halo, so ``fn``'s padding there is the untiled one.
    """
    h, w = x.shape[-2:]
    if max(h, w) <= tile:
        return fn(x)
    tile = max(align, tile // align * align)
    halo = -(-halo // align) * align
    out = None
    for y0 in range(0, h, tile):
        for x0 in range(0, w, tile):
            y1, x1 = min(h, y0 + tile), min(w, x0 + tile)
            a0, b0, a1, b1 = max(0, y0 - halo), max(0, x0 - halo), min(h, y1 + halo), min(w, x1 + halo)
            y = fn(x[..., a0:a1, b0:b1])
            if out is None:
                cl = y.shape[1] > 1 and y.is_contiguous(memory_format=torch.channels_last)
                out = torch.empty(y.shape[:2] + (round(h * scale), round(w * scale)), dtype=y.dtype, device=y.device,
                                  memory_format=torch.channels_last if cl else torch.contiguous_format)
            oy, ox = round((y0 - a0) * scale), round((x0 - b0) * scale)
            th, tw = round((y1 - y0) * scale), round((x1 - x0) * scale)
            out[..., round(y0 * scale):round(y1 * scale), round(x0 * scale):round(x1 * scale)] = \
                y[..., oy:oy + th, ox:ox + tw]
    return out
