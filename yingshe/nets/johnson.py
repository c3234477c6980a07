"""The feed-forward style network of Johnson, Alahi & Fei-Fei (2016), as it is trained today.

A photo (N, 3, H, W) in [0, 1] → its painting (N, 3, H, W) in [0, 1], one style per network:

    contract   9x9 conv (w) → 3x3 conv stride 2 (2w) → 3x3 conv stride 2 (4w)   each + IN + ReLU
    residual   ``blocks`` × [3x3 conv, IN, ReLU, 3x3 conv, IN] + skip           at 1/4 resolution
    expand     ×2 nearest resize + 3x3 conv (2w) → ×2 resize + 3x3 conv (w)     each + IN + ReLU
               → 9x9 conv (3) → sigmoid

with the two changes the field adopted after the paper: instance normalisation instead of batch
norm (Ulyanov et al. 2016: sharper, no dependence on the batch) and resize-convolution instead
of transposed convolution for upsampling (Odena et al. 2016: no checkerboard artefacts). Every
conv pads by reflection. Train it with ``yingshe train fast-style`` (yingshe.style.fast_train).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F

from yingshe.nets.layers import subpixel_up_conv
from yingshe.nets.tiling import local_tiled


@dataclass(frozen=True)
class JohnsonConfig:
    width: int = 32   # channels after the first conv; 2w and 4w after the downsampling convs (paper: 32)
    blocks: int = 5   # residual blocks at 1/4 resolution (paper: 5)


class ConvLayer(nn.Module):
    """Reflect pad + conv (+ instance norm + ReLU)."""

    def __init__(self, cin: int, cout: int, kernel: int, stride: int = 1, norm: bool = True, relu: bool = True):
        super().__init__()
        self.pad, self.stride = kernel // 2, stride
        self.conv = nn.Conv2d(cin, cout, kernel, stride)
        self.norm = nn.InstanceNorm2d(cout, affine=True) if norm else None
        self.relu = relu

    def local(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(F.pad(x, (self.pad,) * 4, mode="reflect"))

    def finish(self, x: torch.Tensor) -> torch.Tensor:
        """The global part: instance norm (statistics of the whole picture) and ReLU."""
        if self.norm is not None:
            x = self.norm(x)
        return F.relu(x) if self.relu else x

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.finish(self.local(x))


class UpLayer(ConvLayer):
    """Resize-convolution: nearest ×2, reflect pad, 3x3 conv (+ IN + ReLU)."""

    def __init__(self, cin: int, cout: int):
        super().__init__(cin, cout, 3)

    def local(self, x: torch.Tensor) -> torch.Tensor:
        return subpixel_up_conv(x, self.conv.weight, self.conv.bias)  # = conv(pad(upsample(x)))


class ResidualBlock(nn.Module):
    def __init__(self, channels: int):
        super().__init__()
        self.conv1 = ConvLayer(channels, channels, 3)
        self.conv2 = ConvLayer(channels, channels, 3, relu=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv2(self.conv1(x))


class JohnsonNet(nn.Module):
    """Photo (N, 3, H, W) in [0, 1] → painting (N, 3, H, W) in [0, 1]."""

    MULTIPLE = 4  # two stride-2 convs: inputs are padded to a multiple of 4, the output cropped

    def __init__(self, cfg: JohnsonConfig = JohnsonConfig()):
        super().__init__()
        self.cfg = cfg
        w = cfg.width
        self.contract = nn.ModuleList([ConvLayer(3, w, 9), ConvLayer(w, 2 * w, 3, 2), ConvLayer(2 * w, 4 * w, 3, 2)])
        self.residual = nn.Sequential(*[ResidualBlock(4 * w) for _ in range(cfg.blocks)])
        self.expand = nn.ModuleList([UpLayer(4 * w, 2 * w), UpLayer(2 * w, w)])
        self.out = ConvLayer(w, 3, 9, norm=False, relu=False)

    def forward(self, x: torch.Tensor, tile: int | None = None) -> torch.Tensor:
        """``tile``: run the convolutions above 1/4 resolution in tiles of this many pixels (the
        same result in less memory: the norms still see the whole picture)."""
        h, w = x.shape[-2:]
        ph, pw = (-h) % self.MULTIPLE, (-w) % self.MULTIPLE
        if ph or pw:
            x = F.pad(x, (0, pw, 0, ph), mode="reflect")

        def local(fn, x, halo, scale=1.0, align=1):
            return fn(x) if tile is None else local_tiled(fn, x, max(16, int(tile / max(1, scale))), halo, scale, align)

        for layer in self.contract:
            s = layer.stride
            x = layer.finish(local(layer.local, x, halo=2 * s + 2, scale=1 / s, align=s))
        x = self.residual(x)  # 1/4 resolution: the whole picture at once
        for layer in self.expand:
            x = layer.finish(local(layer.local, x, halo=2, scale=2))
        x = torch.sigmoid(local(self.out.local, x, halo=4))
        return x[..., :h, :w]


def load_trained(spec: str, device=None) -> tuple[JohnsonNet, dict]:
    """A network trained with ``yingshe train fast-style``: a run folder, its model.safetensors,
    or a shipped model's zoo name. Returns (network in eval mode on ``device``, weights record)."""
    from yingshe.core import weights as zoo
    from yingshe.core.checkpoint import load_tensors, unprefixed
    from yingshe.core.errors import BadInput, WeightsError

    p = Path(spec).expanduser()
    if p.is_dir():
        p = p / "model.safetensors"
        if not p.is_file():
            raise BadInput(f"--model {spec}: the folder has no model.safetensors (not a `yingshe train fast-style` run, "
                           "or it has not saved yet)")
    elif spec not in zoo.ZOO and not p.exists():
        raise BadInput(f"--model {spec!r}: no such run folder or file (or use --model magenta)")
    resolved = zoo.resolve(str(p) if p.exists() else spec, family_for_paths="fast-style")
    tensors, meta = load_tensors(resolved.path)
    if meta.get("kind") != "fast-style":
        raise WeightsError(f"{resolved.path}: a {meta.get('kind')!r} model, not a fast-style network")
    try:
        net = JohnsonNet(JohnsonConfig(**meta["model"]))
        net.load_state_dict(unprefixed("net", tensors))
    except (KeyError, TypeError, RuntimeError) as e:
        raise WeightsError(f"{resolved.path}: not a fast-style network this version can load ({str(e)[:120]})") from None
    net = net.to(device or "cpu").eval().requires_grad_(False)
    if torch.device(device or "cpu").type == "cpu":
        net = net.to(memory_format=torch.channels_last)
    record = resolved.record() | {"style": meta.get("style"), "step": meta.get("step")}
    return net, record


def config_dict(cfg: JohnsonConfig) -> dict:
    return asdict(cfg)
