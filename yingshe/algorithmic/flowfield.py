"""Flow field: particles drift along a smooth noise field and leave coloured trails."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image

from yingshe.algorithmic.common import PALETTE_INPUT, Canvas, colours, finish, now, palette_param
from yingshe.algorithmic.noise import noise_and_gradient
from yingshe.algorithmic.palettes import check_spec
from yingshe.core.progress import Progress
from yingshe.core.recipe import Recipe, param
from yingshe.core.registry import Example, Mapping, register

VECTOR = True
GRID = 1024  # the field is synthesised on at most GRID² points and sampled bilinearly


@dataclass
class FlowFieldRecipe(Recipe):
    mapping = "flowfield"

    size: int = param(1024, "longest side in pixels", min=16, max=8192)
    aspect: float = param(1.0, "width / height", min=0.1, max=10.0)
    particles: int = param(4000, "number of trails", min=1, max=2_000_000)
    steps: int = param(120, "length of each trail in steps", min=1, max=10_000)
    scale: float = param(0.25, "size of the field's swirls, as a fraction of the image", min=0.01, max=4.0)
    octaves: int = param(3, "noise detail levels", min=1, max=8)
    turbulence: float = param(2.0, "how many turns the field makes", min=0.0, max=20.0)
    curl: bool = param(False, "curl noise: divergence-free flow (trails never bunch up)")
    palette: str = palette_param("ocean")
    stroke: float = param(1.0, "trail brightness per pass", min=0.05, max=20.0)

    def check(self) -> None:
        check_spec(self.palette)


def dims(r: FlowFieldRecipe) -> tuple[int, int]:
    if r.aspect >= 1:
        return r.size, max(1, round(r.size / r.aspect))
    return max(1, round(r.size * r.aspect)), r.size


def field(r: FlowFieldRecipe, rng: np.random.Generator):
    """The velocity grid (vx, vy) and the particles' start points."""
    w, h = dims(r)
    g = min(max(w, h), GRID) / max(w, h)
    gw, gh = max(2, round(w * g)), max(2, round(h * g))
    n, ny, nx = noise_and_gradient(gh, gw, scale=r.scale * max(gh, gw), octaves=r.octaves, rng=rng)
    if r.curl:
        vx, vy = ny, -nx  # curl of the noise: rotate its gradient a quarter turn
        norm = np.hypot(vx, vy)
        norm = np.maximum(norm, np.percentile(norm, 5) + 1e-12)
        vx, vy = vx / norm, vy / norm
    else:
        theta = n * np.pi * r.turbulence
        vx, vy = np.cos(theta), np.sin(theta)
    x = rng.uniform(0, w - 1, r.particles)
    y = rng.uniform(0, h - 1, r.particles)
    return np.ascontiguousarray(vx, np.float64), np.ascontiguousarray(vy, np.float64), x, y


def trace(r: FlowFieldRecipe, vx, vy, x, y):
    """Paths of the particles starting at (x, y): (xs, ys, lengths) in image pixels."""
    from yingshe.algorithmic import kernels

    w, h = dims(r)
    gh, gw = vx.shape
    step_len = max(0.5, max(h, w) / 600)
    xs = np.zeros((len(x), r.steps))
    ys = np.zeros((len(x), r.steps))
    lens = np.zeros(len(x), np.int64)
    kernels.trace_particles(x, y, vx, vy, gw, gh, (gw - 1) / max(1, w - 1), (gh - 1) / max(1, h - 1),
                            r.steps, step_len, xs, ys, lens)
    return xs, ys, lens


def render(r: FlowFieldRecipe, progress: Progress | None = None):
    progress = progress or Progress()
    rng = np.random.default_rng(r.seed)
    w, h = dims(r)
    cols, used = colours(r)
    bg, inks = cols[0], cols[1:]
    vx, vy, x, y = field(r, rng)
    which = rng.integers(0, len(inks), r.particles)
    ink = inks[which]
    acc = np.zeros((3, h * w), np.float64)
    cnt = np.zeros(h * w, np.float64)
    chunk = max(1, 2_000_000 // max(1, r.steps))  # particles per batch: bounded memory
    progress.start(r.particles, desc="flowfield")
    for p0 in range(0, r.particles, chunk):
        sl = slice(p0, min(r.particles, p0 + chunk))
        xs, ys, lens = trace(r, vx, vy, x[sl], y[sl])
        valid = np.arange(r.steps)[None, :] < lens[:, None]
        xi = np.clip(xs.astype(np.int64), 0, w - 1)
        yi = np.clip(ys.astype(np.int64), 0, h - 1)
        idx = (yi * w + xi)[valid]
        cnt += np.bincount(idx, minlength=h * w)
        pink = np.broadcast_to(ink[sl, None, :], (len(xs), r.steps, 3))[valid]
        for c in range(3):
            acc[c] += np.bincount(idx, weights=pink[:, c], minlength=h * w)
        progress.update(len(xs))
    progress.close()
    mean = (acc / np.maximum(cnt, 1)).T.reshape(h, w, 3)
    alpha = (1.0 - np.exp(-cnt * 0.6 * r.stroke)).reshape(h, w, 1)
    img = bg * (1 - alpha) + mean * alpha
    image = Image.fromarray(np.clip(np.round(img * 255), 0, 255).astype(np.uint8), "RGB")

    def make_svg() -> str:
        canvas = Canvas(w, h, bg)
        stride = max(1, int(round(2 / max(0.5, max(h, w) / 600))))
        for p0 in range(0, r.particles, chunk):
            xs, ys, lens = trace(r, vx, vy, x[p0:p0 + chunk], y[p0:p0 + chunk])
            for k in range(len(xs)):
                n = lens[k]
                if n >= 2:
                    idx = np.r_[np.arange(0, n - 1, stride), n - 1]
                    canvas.polyline(np.stack([xs[k, idx], ys[k, idx]], 1), inks[which[p0 + k]], 0.6)
        return canvas.to_svg()

    return image, make_svg, used


def run(recipe: FlowFieldRecipe, inputs: dict, progress: Progress | None = None, **options):
    t0 = now()
    image, make_svg, used = render(recipe, progress)
    return finish(recipe, t0, image=image, make_svg=make_svg, inputs=used)


def sample(rng, size):
    return {"particles": int(rng.integers(300, 900)), "steps": 60, "scale": float(rng.uniform(0.12, 0.5)),
            "turbulence": float(rng.uniform(0.8, 4.0)), "curl": bool(rng.random() < 0.4),
            "stroke": float(rng.uniform(1.0, 3.0))}


def CAPTION(r):  # noqa: N802
    return "curl-noise flowing trails" if r.curl else "flowing trails"


MAPPING = register(Mapping("flowfield", "particles drifting along a noise field leave coloured trails (curl option)",
                           "algorithmic", FlowFieldRecipe, run, realtime=True, inputs=(PALETTE_INPUT,), outputs=("image", "vector"), rank=10,
                           examples=(Example("Embers on the wind", {"palette": "ember", "curl": True, "size": 768}),)))
