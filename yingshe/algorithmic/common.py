"""Shared pieces of the generators: the base recipe, palette resolution, colour ramps, and a
vector canvas that writes plotter-ready SVG and rasterises anti-aliased PNGs in strips (so an
8192 px picture never needs more than a bounded working buffer)."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw

from yingshe.algorithmic import palettes
from yingshe.core.artwork import Artwork
from yingshe.core.recipe import Recipe, param
from yingshe.core.registry import PREVIEW, InputSpec

#: the picture a palette=image:PATH takes its colours from (read through the recipe)
PALETTE_INPUT = InputSpec("palette", "image", "picture the palette's colours come from (palette=image:PATH)",
                          required=False, from_recipe=True)

MAX_SIZE = 8192


def palette_param(default: str, note: str = ""):
    """A generator's own default palette, with the shared help (plus what this generator does
    with the colours, if it says)."""
    return param(default, palettes.PALETTE_HELP + (f" ({note})" if note else ""), suggest=palettes.suggestions())


@dataclass
class ArtRecipe(Recipe):
    """Fields every generator has: its size and its palette."""

    size: int = param(1024, "width and height in pixels", min=16, max=MAX_SIZE)
    palette: str = palette_param("ocean")

    def check(self) -> None:
        palettes.check_spec(self.palette)


def colours(recipe: ArtRecipe) -> tuple[np.ndarray, dict]:
    """The recipe's palette and the ``inputs`` entry it needs (an image palette's fingerprint)."""
    cols, record = palettes.resolve(recipe.palette)
    return cols, ({"palette": [record]} if record else {})


def ramp(cols: np.ndarray, t: np.ndarray, n: int = 1024) -> np.ndarray:
    """Map ``t`` in [0, 1] to colours interpolated through ``cols`` in OKLab (via a LUT)."""
    lab = palettes.srgb_to_oklab(cols.astype(np.float64))
    x = np.linspace(0, 1, n)
    stops = np.linspace(0, 1, len(cols))
    lut_lab = np.stack([np.interp(x, stops, lab[:, c]) for c in range(3)], -1)
    lut = palettes.oklab_to_srgb(lut_lab).astype(np.float32)
    idx = np.clip((np.asarray(t) * (n - 1)).astype(np.int64), 0, n - 1)
    return lut[idx]


def to_image(rgb: np.ndarray) -> Image.Image:
    return Image.fromarray(np.clip(np.round(rgb * 255), 0, 255).astype(np.uint8), "RGB")


def finish(recipe: ArtRecipe, t0: float, *, image: Image.Image | None = None, canvas: "Canvas | None" = None,
           inputs: dict | None = None, summary: dict | None = None, make_svg=None, **_) -> Artwork:
    """The Artwork of a generator run. A vector generator passes its ``canvas`` (or a
    ``make_svg`` callable); the SVG text is produced only if the artwork is saved as .svg."""
    if image is None:
        image = canvas.render()
    art = Artwork(mapping=recipe.mapping, recipe=recipe, image=image, inputs=inputs or {},
                  summary=summary or {}, seconds=time.perf_counter() - t0)
    if canvas is not None or make_svg is not None:
        art.make["vector"] = make_svg or canvas.to_svg
    return art


def _hex(c) -> str:
    return palettes.rgb_to_hex(c)


class Canvas:
    """Vector shapes in pixel coordinates → SVG (polylines, polygons, circles) or a PNG."""

    def __init__(self, width: int, height: int, background):
        self.w, self.h = int(width), int(height)
        self.bg = np.asarray(background, np.float32)
        self.shapes: list[tuple] = []  # (kind, data, fill, stroke, width)

    def polyline(self, pts, stroke, width: float = 1.0) -> None:
        pts = np.asarray(pts, np.float64)
        if len(pts) >= 2:
            self.shapes.append(("polyline", pts, None, tuple(np.asarray(stroke, float)), float(width)))

    def polygon(self, pts, fill=None, stroke=None, width: float = 0.0) -> None:
        pts = np.asarray(pts, np.float64)
        self.shapes.append(("polygon", pts, None if fill is None else tuple(np.asarray(fill, float)),
                            None if stroke is None else tuple(np.asarray(stroke, float)), float(width)))

    def circle(self, cx, cy, r, fill=None, stroke=None, width: float = 0.0) -> None:
        self.shapes.append(("circle", np.array([cx, cy, r], np.float64),
                            None if fill is None else tuple(np.asarray(fill, float)),
                            None if stroke is None else tuple(np.asarray(stroke, float)), float(width)))

    def count(self, kind: str) -> int:
        return sum(1 for s in self.shapes if s[0] == kind)

    # ------------------------------------------------------------------ SVG
    def to_svg(self) -> str:
        out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{self.w}" height="{self.h}" '
               f'viewBox="0 0 {self.w} {self.h}">',
               f'<rect id="background" x="0" y="0" width="{self.w}" height="{self.h}" fill="{_hex(self.bg)}"/>']
        for kind, data, fill, stroke, width in self.shapes:
            paint = f'fill="{_hex(fill)}"' if fill is not None else 'fill="none"'
            if stroke is not None:
                paint += f' stroke="{_hex(stroke)}" stroke-width="{width:.3g}" stroke-linecap="round" stroke-linejoin="round"'
            if kind == "circle":
                out.append(f'<circle cx="{data[0]:.2f}" cy="{data[1]:.2f}" r="{data[2]:.2f}" {paint}/>')
            else:
                pts = " ".join(f"{x:.2f},{y:.2f}" for x, y in data)
                out.append(f'<{kind} points="{pts}" {paint}/>')
        out.append("</svg>")
        return "\n".join(out) + "\n"

    # ------------------------------------------------------------------ raster
    def render(self, supersample: int | None = None, budget: int = 12_000_000) -> Image.Image:
        ss = supersample or (2 if PREVIEW.get() else  # a live preview's coarse frame: half the time
                             4 if max(self.w, self.h) <= 1024 else 3 if max(self.w, self.h) <= 2048 else 2)
        rows = max(1, min(self.h, budget // (self.w * ss * ss)))
        bboxes = np.array([_bbox(s) for s in self.shapes]).reshape(-1, 4)
        out = Image.new("RGB", (self.w, self.h), tuple(int(round(c * 255)) for c in self.bg))
        for y0 in range(0, self.h, rows):
            y1 = min(self.h, y0 + rows)
            strip = Image.new("RGB", (self.w * ss, (y1 - y0) * ss), tuple(int(round(c * 255)) for c in self.bg))
            draw = ImageDraw.Draw(strip)
            sel = np.nonzero((bboxes[:, 3] >= y0 - 2) & (bboxes[:, 1] <= y1 + 2))[0] if len(bboxes) else []
            off = np.array([0.0, y0])
            for i in sel:
                kind, data, fill, stroke, width = self.shapes[i]
                f = None if fill is None else _rgb255(fill)
                s = None if stroke is None else _rgb255(stroke)
                lw = max(1, int(round(width * ss)))
                if kind == "circle":
                    cx, cy, r = round(data[0] * ss), round((data[1] - y0) * ss), data[2] * ss
                    draw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=f, outline=s,
                                 width=lw if s is not None else 0)
                elif kind == "polygon":
                    p = np.round((data - off) * ss).ravel().tolist()  # flat x0, y0, x1, y1, …: 10x faster than tuples
                    draw.polygon(p, fill=f, outline=None)
                    if s is not None and width > 0:
                        draw.line(p + p[:2], fill=s, width=lw, joint="curve" if lw > 2 else None)
                else:
                    # whole supersampled pixels: identical pixels whichever strip draws them
                    p = np.round((data - off) * ss).ravel().tolist()
                    draw.line(p, fill=s, width=lw, joint="curve" if lw > 2 else None)
            if ss > 1:
                strip = strip.reduce(ss)
            out.paste(strip, (0, y0))
        return out


def _rgb255(c) -> tuple[int, int, int]:
    return tuple(int(round(min(1.0, max(0.0, float(v))) * 255)) for v in c)


def _bbox(shape) -> tuple[float, float, float, float]:
    kind, data, _, _, width = shape
    if kind == "circle":
        r = data[2] + width
        return data[0] - r, data[1] - r, data[0] + r, data[1] + r
    lo, hi = data.min(0) - width, data.max(0) + width
    return lo[0], lo[1], hi[0], hi[1]


def now() -> float:
    return time.perf_counter()
