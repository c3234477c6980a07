"""Small building blocks shared by the feed-forward style networks."""

from __future__ import annotations

import torch
import torch.nn.functional as F


#: For output row phase p (0: even, 1: odd), which of the 3x3 kernel's rows (columns) fall on
#: low-resolution rows i-1, i, i+1 after nearest ×2 upsampling: _PHASE_TAPS[p][low, high].
_PHASE_TAPS = ((1, 0, 0), (0, 1, 1), (0, 0, 0)), ((0, 0, 0), (1, 1, 0), (0, 0, 1))


def subpixel_up_conv(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    """conv3x3(reflect_pad(upsample_nearest_x2(x), 1)) without making the upsampled tensor.

    Each of the four output phases is a 3x3 conv of the low-resolution input with summed taps;
    reflecting the upsampled picture equals replicating the low-resolution one at its border.
    (N, I, H, W) → (N, O, 2H, 2W), the same values; 4x less memory traffic on the CPU.
    """
    m = weight.new_tensor(_PHASE_TAPS)  # (phase, low tap, high tap)
    w = torch.einsum("pta,qub,oiab->opqitu", m, m, weight).reshape(-1, weight.shape[1], 3, 3)  # (4O, I, 3, 3)
    y = F.conv2d(F.pad(x, (1, 1, 1, 1), mode="replicate"), w, bias.repeat_interleave(4))
    return F.pixel_shuffle(y, 2)  # (N, 4O, H, W) → (N, O, 2H, 2W)
