"""Every parameter of Gatys-style optimisation that changes the picture."""

from __future__ import annotations

from dataclasses import dataclass

from yingshe.core.errors import BadInput
from yingshe.core.recipe import Recipe, param
from yingshe.nets.vgg19_layers import LAYER_INDEX

#: Gatys et al. (2016): content at conv4_2, style at conv1_1 … conv5_1 (their rectified
#: responses: Caffe's in-place ReLU made "conv4_2" the post-ReLU tensor).
GATYS_CONTENT_LAYERS = ("relu4_2",)
GATYS_STYLE_LAYERS = ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")


@dataclass
class StyleRecipe(Recipe):
    mapping = "style"

    size: int = param(512, "longest side of the output in pixels", min=16, max=8192)
    sizes: tuple[int, ...] = param((), "coarse-to-fine sizes, e.g. 256,512,1024, each level starting from "
                                   "the last; empty = automatic (halving down to about 128 px)",
                                   min=16, max=8192, max_len=8)
    iterations: int = param(250, "most optimiser iterations (loss evaluations) at the final size, each coarser "
                            "level half as many; a level stops sooner once it has converged (--converge)",
                            min=1, max=100_000)
    converge: float = param(0.1, "stop a level once its loss fell by less than this fraction over the last 10 "
                            "iterations (coarser levels: twice this); 0 = always run --iterations", min=0.0, max=1.0)
    content_weight: float = param(1.0, "how strongly the content's layout is kept", min=0.0, max=1e9)
    style_weight: float = param(1000.0, "how strongly the style's textures are imposed", min=0.0, max=1e12)
    tv_weight: float = param(0.0, "total-variation smoothing (removes high-frequency noise)", min=0.0, max=1e9)
    content_layers: tuple[str, ...] = param(GATYS_CONTENT_LAYERS, "VGG19 layers that define content "
                                            "(convX_Y, reluX_Y or poolX)", min_len=1, max_len=16)
    style_layers: tuple[str, ...] = param(GATYS_STYLE_LAYERS, "VGG19 layers whose Gram matrices define style",
                                          min_len=1, max_len=16)
    style_layer_weights: tuple[float, ...] = param((), "weight per style layer (empty = equal)", min=0.0,
                                                   max=1e9, advanced=True)
    style_weights: tuple[float, ...] = param((), "blend of several style images, e.g. 0.7,0.3 (empty = equal)",
                                             min=0.0, max=1e9)
    style_scale: float = param(1.0, "style image size relative to the content, by side length at equal area "
                               "(larger = bigger brush strokes)",
                               min=0.05, max=8.0)
    init: str = param("content", "starting image: content, noise, style, or an image file",
                      cli="--init", suggest=("content", "noise", "style"))
    optimizer: str = param("lbfgs", "L-BFGS (fast, the classic) or Adam", choices=("lbfgs", "adam"))
    lr: float | None = param(None, "step size: L-BFGS 1.0; Adam in 0-255 pixel units, default 8",
                             min=1e-6, max=1e4, advanced=True)
    pooling: str = param("max", "VGG pooling; Gatys et al. found average pooling a little smoother",
                         choices=("max", "avg"))
    preserve_colors: str = param("none", "keep the content's colours: luminance-only transfer, or match the "
                                 "style's colour histogram to the content's (Gatys et al. 2017)",
                                 choices=("none", "luminance", "histogram"))
    mask_styles: tuple[int, ...] = param((), "for each --mask, the index of the style it assigns (set by "
                                         "--mask INDEX:FILE)", min=0, max=63, advanced=True)
    weights: str = param("vgg19-caffe", "VGG19 weights: vgg19-caffe (offline, as in the paper), "
                         "vgg19-torchvision (downloads once), or a torchvision state-dict file",
                         cli="--vgg-weights", suggest=("vgg19-caffe", "vgg19-torchvision"))

    def check(self) -> None:
        for layer in self.content_layers + self.style_layers:
            if layer not in LAYER_INDEX:
                raise BadInput(f"unknown VGG19 layer {layer!r} (examples: conv4_2, relu1_1, pool3)")
        if self.style_layer_weights and len(self.style_layer_weights) != len(self.style_layers):
            raise BadInput(f"--style-layer-weights has {len(self.style_layer_weights)} values for "
                           f"{len(self.style_layers)} style layers")
        if self.style_weights and sum(self.style_weights) <= 0:
            raise BadInput("--style-weights must not all be zero")
        if self.sizes and list(self.sizes) != sorted(self.sizes):
            raise BadInput("--sizes must go from coarse to fine, e.g. 256,512,1024")

    def levels(self) -> list[int]:
        """The sizes to optimise at, coarse to fine (the last is the output size)."""
        if self.sizes:
            return list(self.sizes)
        out = [self.size]
        while out[0] // 2 >= 128:
            out.insert(0, out[0] // 2)
        return out

    def level_iterations(self) -> list[int]:
        """Iterations per level. Measured (bench/RESULTS.md): the final level needs about as many
        iterations to reach a given loss however long the coarse levels ran, so coarse levels are
        kept short — they fix the layout cheaply and the final level adds the brush detail."""
        n = len(self.levels())
        coarse = max(1, min(self.iterations, max(50, self.iterations // 2)))
        return [coarse] * (n - 1) + [self.iterations]
