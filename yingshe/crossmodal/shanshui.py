"""A procedural Chinese landscape (山水) painter: small composable procedures in ink and wash.

In the manner of LingDong-'s shan-shui-inf (its look, not its code): mountains are a ridge line
with nested contour layers, hemp-fibre texture strokes (披麻皴) drawn along parts of those
layers, moss dots and little trees on the slopes; far ranges are flat washes; mist bands hide
the feet of every layer, so depth reads from near dark ink to far pale wash. Water is the paper
itself with a rippled reflection and a few ripple strokes. Trees, boats, birds, buildings and
weather are each one procedure.

Everything is drawn back to front on a paper-toned canvas at twice the output size (strokes are
polygons blended with alpha, washes are numpy gradients through masks), then softened a little
(ink bleeds into paper), grained like paper and halved. Only numpy and Pillow; every random
choice comes from a generator named after the element it is for, so adding 月 to a poem paints a
moon and leaves the mountains where they were.

The entry point is :func:`paint` (a :class:`Scene` → a PIL image and what went where);
:func:`plan` makes the scene from a poem's :class:`~yingshe.crossmodal.imagery.Imagery`.
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass, field

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

INK = (30, 28, 27)
PAPER = (236, 226, 202)
SUPERSAMPLE = 2

# Seasonal palettes: washes on the upper and lower slopes, foliage, blossom, willow.
PALETTES = {
    None: dict(top=(78, 96, 112), low=(176, 128, 80), leaf=(62, 74, 60), bloom=(226, 136, 150), willow=(118, 140, 78),
               far=(120, 130, 142)),
    "spring": dict(top=(64, 126, 122), low=(118, 156, 96), leaf=(92, 140, 72), bloom=(236, 140, 162),
                   willow=(138, 170, 66), far=(116, 146, 150)),
    "summer": dict(top=(46, 96, 86), low=(74, 122, 70), leaf=(46, 94, 54), bloom=(226, 118, 140), willow=(78, 124, 58),
                   far=(100, 130, 124)),
    "autumn": dict(top=(104, 98, 92), low=(182, 112, 56), leaf=(190, 84, 40), bloom=(214, 112, 90), willow=(176, 150, 64),
                   far=(150, 128, 116)),
    "winter": dict(top=(96, 102, 114), low=(138, 134, 128), leaf=(70, 70, 68), bloom=(200, 58, 70), willow=(112, 112, 100),
                   far=(128, 132, 142)),
}


# --------------------------------------------------------------------------- the scene

@dataclass
class Scene:
    """What to paint. Counts are how many of each element; ``at`` is where along the picture (0 =
    left, 1 = right) an element goes; the painter fills in the rest from the seed."""

    width: int
    height: int
    seed: int = 0
    season: str | None = None
    time: str = "day"  # day | dusk | dawn | night
    ink: float = 1.0
    colour: float = 1.0
    counts: dict[str, int] = field(default_factory=dict)
    at: dict[str, list[float]] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)  # snow, frost, rain, wind, mist, cold, water, sail, fishing...

    def n(self, key: str) -> int:
        return self.counts.get(key, 0)

    def x(self, key: str, i: int = 0, default: float = 0.5) -> float:
        xs = self.at.get(key) or [default]
        return xs[min(i, len(xs) - 1)]

    def describe(self) -> dict:
        return {"season": self.season or "none", "time": self.time, "elements": dict(sorted(self.counts.items())),
                "water": "water" in self.flags,
                "weather": sorted(self.flags & {"snow", "frost", "rain", "wind", "mist", "cold"})}


def plan(imagery, width: int, height: int, *, seed: int = 0, ink: float = 1.0, colour: float = 1.0) -> Scene:
    """The scene a poem's imagery asks for: which elements, how many, and where."""
    im = imagery
    sc = Scene(width, height, seed=seed, season=im.season(), time=im.time(), ink=ink, colour=colour)
    for flag in ("snow", "frost", "rain", "wind", "mist", "cold"):
        if im.has(flag):
            sc.flags.add(flag)

    def many(key: str) -> int:  # 千山, 群峰, "a thousand hills"
        return 2 if im.qualified(key, "many") else 1

    def solo(key: str) -> bool:  # 孤舟, 孤帆, "a lone boat"
        return im.qualified(key, "solitary")

    def put(key: str, n: int, image: str | None = None) -> None:
        if n <= 0:
            return
        pos = im.positions(image or key) or [0.5]
        sc.counts[key] = n
        # The poem is read right to left: its first words sit on the right of the picture.
        sc.at[key] = [0.88 - 0.76 * pos[i % len(pos)] for i in range(n)]

    c = im.count
    put("moon", 1 if c("moon") else 0)
    put("sun", 1 if c("sun") else 0)
    put("stars", 1 if c("stars") else 0)
    put("clouds", min(4, 1 + c("clouds")) if c("clouds") else 0)
    mountains = min(4, c("mountains") * many("mountains") + (1 if many("mountains") > 1 else 0))
    put("mountains", mountains)
    put("peaks", min(3, c("peaks") * many("peaks")))
    for key in ("mountains", "peaks"):  # many mountains from one word: spread across the picture
        if many(key) > 1 and sc.n(key) > 1:
            k = sc.n(key)
            sc.at[key] = [min(0.85, max(0.15, sc.at[key][0] + (j / (k - 1) - 0.5) * 0.6)) for j in range(k)]
    put("waterfall", 1 if c("waterfall") else 0)
    if (c("waterfall") or c("temple")) and not mountains and not sc.n("peaks"):
        put("peaks" if c("waterfall") else "mountains", 1, "waterfall" if c("waterfall") else "temple")
    has_water = any(c(k) for k in ("water", "boat", "sail", "fishing", "lotus", "bridge"))
    if has_water:
        sc.flags.add("water")
        sc.at["water"] = [0.88 - 0.76 * im.where("water")]
    boats = c("boat") + c("sail") + c("fishing")
    lone = any(solo(k) for k in ("boat", "sail", "fishing"))
    put("boat", (1 if lone else min(3, max(1, boats) * max(many(k) for k in ("boat", "sail")))) if boats else 0,
        "boat" if c("boat") else ("sail" if c("sail") else "fishing"))
    if boats and lone:
        sc.flags.add("lone boat")
    if c("sail"):
        sc.flags.add("sail")
    if c("fishing"):
        sc.flags.add("fishing")
    put("birds", (1 if solo("birds") else min(12, 4 + 2 * c("birds")) * many("birds")) if c("birds") else 0)
    put("geese", (1 if solo("geese") else min(9, 4 + c("geese")) * many("geese")) if c("geese") else 0)
    put("crane", min(3, c("crane")) if c("crane") else 0)
    for tree in ("pine", "willow", "bamboo", "blossom", "plum", "maple"):
        put(tree, (1 if solo(tree) else min(3, c(tree)) * many(tree)) if c(tree) else 0)
    put("trees", (1 if solo("trees") else min(5, (2 + c("trees")) * many("trees"))) if c("trees") else 0)  # 林: a grove
    put("lotus", 1 if c("lotus") else 0)
    put("grass", 1 if c("grass") else 0)
    put("rocks", min(3, 1 + c("rocks")) if c("rocks") else 0)
    for b in ("pavilion", "tower", "temple", "cottage", "bridge"):
        put(b, 1 if c(b) else 0)
    put("figure", 1 if c("figure") else 0)
    return sc


# --------------------------------------------------------------------------- helpers

def _rgba(colour, alpha: float) -> tuple[int, int, int, int]:
    return (int(colour[0]), int(colour[1]), int(colour[2]), int(max(0, min(255, round(alpha * 255)))))


def _mix(a, b, t: float):
    return tuple(int(round(a[i] * (1 - t) + b[i] * t)) for i in range(3))


def fbm1(rng: np.random.Generator, n: int, *, octaves: int = 4, base: int = 4) -> np.ndarray:
    """Smooth 1-D noise in [0, 1] over n samples: value noise summed over octaves."""
    t = np.linspace(0.0, 1.0, n)
    out = np.zeros(n)
    amp, total = 1.0, 0.0
    for o in range(octaves):
        k = base * 2 ** o
        lattice = rng.random(k + 2)
        x = t * k
        i = np.floor(x).astype(int)
        f = x - i
        f = f * f * (3 - 2 * f)
        out += amp * (lattice[i] * (1 - f) + lattice[i + 1] * f)
        total += amp
        amp *= 0.5
    return out / total


def noise2(rng: np.random.Generator, h: int, w: int, cells: float) -> np.ndarray:
    """Smooth 2-D noise in about [0, 1], ``cells`` blobs across the longer side."""
    gw = max(2, int(round(cells * w / max(h, w))) + 2)
    gh = max(2, int(round(cells * h / max(h, w))) + 2)
    grid = rng.random((gh, gw)).astype(np.float32)
    return np.asarray(Image.fromarray(grid, "F").resize((max(1, w), max(1, h)), Image.BICUBIC), np.float32)


def smoothstep(a: float, b: float, x):
    t = np.clip((x - a) / (b - a), 0.0, 1.0)
    return t * t * (3 - 2 * t)


class Painter:
    """A canvas with brushes. Coordinates are working pixels (output × SUPERSAMPLE)."""

    def __init__(self, scene: Scene):
        self.sc = scene
        self.W, self.H = scene.width * SUPERSAMPLE, scene.height * SUPERSAMPLE
        self.S = math.sqrt(self.W * self.H)  # the picture's scale: element sizes are fractions of it
        pal = dict(PALETTES.get(scene.season, PALETTES[None]))
        if "cold" in scene.flags:
            pal = {k: _mix(v, (120, 130, 145), 0.35) for k, v in pal.items()}
        k = scene.colour
        self.pal = {name: _mix(INK, col, min(1.0, 0.35 + 0.65 * k)) for name, col in pal.items()}
        self.paper = PAPER if "cold" not in scene.flags else (230, 228, 216)
        self.img = Image.new("RGB", (self.W, self.H), self.paper)
        self.draw = ImageDraw.Draw(self.img, "RGBA")
        self.night = scene.time == "night"
        #: the colour land takes (what hides what is behind it)
        self.land = _mix(self.paper, (70, 74, 86), 0.45) if self.night else self.paper
        if "snow" in scene.flags:
            self.land = _mix(self.land, (250, 250, 248), 0.5)
        self.occupied: list[tuple[float, float, float, float, str]] = []
        self.land_mask = np.zeros((self.H, self.W), bool)  # where the near bank is
        self.sky_mask = np.ones((self.H, self.W), np.float32)  # 1 where the sky is open (no hills in front)
        self.horizon = self.H * 0.6
        self.shore_side = 1

    # -- randomness, one stream per element
    def rng(self, name: str, i: int = 0) -> np.random.Generator:
        return np.random.default_rng([self.sc.seed & 0xFFFFFFFF, zlib.crc32(name.encode()), i])

    def inkc(self, alpha: float) -> tuple[int, int, int, int]:
        return _rgba(INK, min(1.0, alpha * self.sc.ink))

    # -- pixels
    def array(self, box=None) -> np.ndarray:
        im = self.img if box is None else self.img.crop(box)
        return np.asarray(im, np.float32)

    def put(self, arr: np.ndarray, box=None) -> None:
        im = Image.fromarray(np.clip(arr + 0.5, 0, 255).astype(np.uint8), "RGB")
        if box is None:
            self.img.paste(im)
        else:
            self.img.paste(im, box[:2])

    def wash(self, alpha: np.ndarray, colour, box=None) -> None:
        """Blend ``colour`` over the canvas (or the box) with per-pixel ``alpha`` in [0, 1]."""
        x0, y0 = (0, 0) if box is None else (int(box[0]), int(box[1]))
        h, w = alpha.shape
        x1, y1 = min(self.W, x0 + w), min(self.H, y0 + h)
        ax0, ay0 = max(0, -x0), max(0, -y0)
        x0, y0 = max(0, x0), max(0, y0)
        if x1 <= x0 or y1 <= y0:
            return
        a = np.clip(alpha[ay0:ay0 + (y1 - y0), ax0:ax0 + (x1 - x0)], 0, 1)[..., None]
        region = (x0, y0, x1, y1)
        arr = self.array(region)
        arr = arr * (1 - a) + np.asarray(colour, np.float32) * a
        self.put(arr, region)

    def polymask(self, pts, box) -> np.ndarray:
        """A float mask (box-sized) of the polygon ``pts`` (absolute coordinates)."""
        x0, y0, x1, y1 = box
        m = Image.new("L", (x1 - x0, y1 - y0), 0)
        ImageDraw.Draw(m).polygon([(float(x - x0), float(y - y0)) for x, y in pts], fill=255)
        return np.asarray(m, np.float32) / 255.0

    def occupy(self, x0, y0, x1, y1, what: str) -> None:
        self.occupied.append((x0, y0, x1, y1, what))

    # -- brushes
    def stroke(self, pts, width: float, colour, alpha: float, *, rng=None, taper: str = "sin", noise: float = 0.5):
        """A brush stroke along ``pts`` (n, 2): a polygon whose width swells and tapers."""
        pts = np.asarray(pts, np.float64)
        n = len(pts)
        if n < 2:
            return
        t = np.linspace(0, 1, n)
        if taper == "sin":
            prof = np.sin(np.pi * np.clip(t, 0.02, 0.98)) ** 0.6
        elif taper == "head":  # a press at the start, lifted at the end
            prof = (1 - t) ** 0.7 * np.minimum(1, t * 8 + 0.3)
        else:
            prof = np.ones(n)
        if rng is not None and noise > 0:
            prof = prof * (1 - noise + noise * 2 * fbm1(rng, n, octaves=2, base=3))
        w = np.maximum(0.35, width * prof) / 2
        d = np.gradient(pts, axis=0)
        ln = np.hypot(d[:, 0], d[:, 1]) + 1e-9
        nx, ny = -d[:, 1] / ln, d[:, 0] / ln
        left = np.stack([pts[:, 0] + nx * w, pts[:, 1] + ny * w], 1)
        right = np.stack([pts[:, 0] - nx * w, pts[:, 1] - ny * w], 1)
        poly = np.concatenate([left, right[::-1]])
        fill = colour if len(colour) == 4 else _rgba(colour, alpha)
        self.draw.polygon(poly.ravel().tolist(), fill=fill)

    def blob(self, x, y, length, width, angle, fill, rng, *, pointed: float = 0.5) -> None:
        """A leaf- or dot-shaped dab of the brush."""
        k = 14
        th = np.linspace(0, 2 * np.pi, k, endpoint=False)
        r = 1 + 0.25 * (rng.random(k) - 0.5)
        px = np.cos(th) * length / 2 * r
        py = np.sin(th) * width / 2 * r * (1 - pointed * np.abs(np.cos(th)) ** 3)
        ca, sa = math.cos(angle), math.sin(angle)
        xs = x + px * ca - py * sa
        ys = y + px * sa + py * ca
        self.draw.polygon(np.stack([xs, ys], 1).ravel().tolist(), fill=fill)

    def dots(self, xs, ys, r, fill) -> None:
        for x, y, rr in zip(xs, ys, np.broadcast_to(r, np.shape(xs))):
            self.draw.ellipse((x - rr, y - rr, x + rr, y + rr), fill=fill)

    def mist(self, y: float, thick: float, strength: float, rng, *, x0: float = 0, x1: float | None = None,
             colour=None) -> None:
        """A band of mist: the paper shows through, thickest at ``y``, ragged along its length."""
        x1 = self.W if x1 is None else x1
        top, bot = int(max(0, y - thick * 1.6)), int(min(self.H, y + thick * 1.2))
        if bot <= top:
            return
        xa, xb = int(max(0, x0)), int(min(self.W, x1))
        if xb <= xa:
            return
        yy = np.arange(top, bot, dtype=np.float32)[:, None]
        prof = np.exp(-((yy - y) / thick) ** 2)
        nz = noise2(rng, bot - top, xb - xa, 6 + 10 * rng.random())
        edge = np.minimum(1, np.minimum(np.arange(xb - xa) + 1, np.arange(xb - xa)[::-1] + 1) / max(1, 0.15 * (xb - xa)))
        a = strength * prof * (0.55 + 0.7 * nz) * edge[None, :]
        colour = colour or (self.land if self.night else self.paper)
        self.wash(np.clip(a, 0, 1), colour, (xa, top))


# --------------------------------------------------------------------------- the painting

def paint(scene: Scene) -> Painter:
    """Paint ``scene`` at working size; :func:`finish` turns the painter's canvas into the picture
    (after the poem is written on it). ``p.occupied`` lists the boxes the writing should avoid."""
    p = Painter(scene)
    sc = scene
    water = "water" in sc.flags
    r = p.rng("layout")
    p.horizon = p.H * (0.58 + 0.08 * r.random() if water else 0.62 + 0.06 * r.random())
    if sc.n("peaks") and not water:
        p.horizon = p.H * 0.7
    if p.H > p.W * 1.3:  # a hanging scroll: the mountains rise higher, the water is shorter
        p.horizon = min(p.H * 0.74, p.horizon + p.H * 0.07)
    # The foreground shore (trees, buildings) is on the side of the first thing that stands on it.
    stand = [k for k in ("pine", "willow", "bamboo", "blossom", "plum", "maple", "trees", "pavilion", "cottage",
                         "tower", "rocks", "figure", "grass") if sc.n(k)]
    if stand:
        p.shore_side = 1 if sc.x(stand[0]) >= 0.5 else -1
    elif sc.n("mountains") or sc.n("peaks"):
        p.shore_side = 1 if sc.x("peaks" if sc.n("peaks") else "mountains") >= 0.5 else -1
    else:
        p.shore_side = 1 if r.random() < 0.5 else -1

    sky(p)
    if sc.n("stars"):
        stars(p)
    if sc.n("clouds"):
        clouds(p)
    far_ranges(p)
    mountains(p)
    # sun and moon go behind the hills: painted on the open sky only, where most of them shows
    if sc.n("sun"):
        sun(p)
    if sc.n("moon"):
        moon(p)
    if water:
        water_surface(p)
        if sc.n("lotus"):
            lotus(p)
        if sc.n("bridge"):
            bridge(p)
        for i in range(sc.n("boat")):
            boat(p, i)
    else:
        ground(p)
        if sc.n("bridge"):
            bridge(p)
    foreground(p)
    if "rain" in sc.flags:
        rain(p)
    if "snow" in sc.flags:
        snowfall(p)
    if "frost" in sc.flags:
        frost(p)
    if "wind" in sc.flags:
        wind(p)
    for i in range(sc.n("birds")):
        bird(p, i)
    if sc.n("geese"):
        geese(p)
    for i in range(sc.n("crane")):
        crane(p, i)
    if "mist" in sc.flags:
        rr = p.rng("mist-flag")
        for k in range(3):
            p.mist(p.horizon - p.H * (0.05 + 0.13 * k), p.H * 0.035, 0.85, rr)
    return p


def finish(p: Painter) -> Image.Image:
    """Ink bleed, paper grain, and the output size."""
    img = p.img
    soft = img.filter(ImageFilter.GaussianBlur(0.9))
    img = Image.blend(img, soft, 0.55)
    arr = np.asarray(img, np.float32)
    r = p.rng("paper")
    h, w = p.H, p.W
    grain = (noise2(r, h, w, 180) - 0.5) * 0.05 + (noise2(r, h, w, 14) - 0.5) * 0.05
    fine = (r.random((h // 2 + 1, w // 2 + 1)).astype(np.float32) - 0.5)
    fine = np.asarray(Image.fromarray(fine, "F").resize((w, h), Image.BILINEAR), np.float32) * 0.035
    yy = np.linspace(-1, 1, h, dtype=np.float32)[:, None]
    xx = np.linspace(-1, 1, w, dtype=np.float32)[None, :]
    vignette = 1 - 0.07 * (np.abs(xx) ** 3 + np.abs(yy) ** 3)
    arr = arr * (1 + grain + fine)[..., None] * vignette[..., None]
    # silk fibres: faint longer streaks
    out = Image.fromarray(np.clip(arr + 0.5, 0, 255).astype(np.uint8), "RGB")
    d = ImageDraw.Draw(out, "RGBA")
    for _ in range(int(w * h / 9000)):
        x, y = r.random() * w, r.random() * h
        ln = (0.004 + 0.01 * r.random()) * p.S
        a = r.normal(0, 0.5)
        c = (255, 250, 238, 22) if r.random() < 0.5 else (120, 100, 70, 14)
        d.line((x, y, x + ln * math.cos(a), y + ln * math.sin(a)), fill=c, width=1)
    return out.reduce(SUPERSAMPLE) if SUPERSAMPLE > 1 else out


# --------------------------------------------------------------------------- sky

def sky(p: Painter) -> None:
    sc = p.sc
    H, W = p.H, p.W
    yy = np.linspace(0, 1, H, dtype=np.float32)[:, None] * np.ones((1, W), np.float32)
    hz = p.horizon / H
    r = p.rng("sky")
    nz = noise2(r, H, W, 5)
    if sc.time == "night":
        a = (0.78 - 0.38 * np.clip(yy / hz, 0, 1)) * (0.85 + 0.3 * nz)
        p.wash(np.clip(a, 0, 0.95), (40, 46, 62))
    elif sc.time == "dusk":
        a = 0.55 * smoothstep(0.0, hz, yy) * (0.8 + 0.4 * nz)
        p.wash(a, (226, 146, 96))
        p.wash(0.22 * (1 - yy / hz).clip(0, 1) * nz, (110, 100, 120))
    elif sc.time == "dawn":
        a = 0.6 * smoothstep(0.0, hz, yy) * (0.8 + 0.4 * nz)
        p.wash(a, (240, 158, 136))
    if "cold" in sc.flags:  # a cold blue-grey haze
        p.wash(0.22 * (0.7 + 0.6 * nz), (128, 146, 172))
    if "snow" in sc.flags:
        a = (0.42 - 0.12 * np.clip(yy / hz, 0, 1)) * (0.7 + 0.6 * nz)
        p.wash(np.clip(a, 0, 1), (118, 120, 124))
    if "rain" in sc.flags:
        p.wash(0.2 * (0.7 + 0.6 * nz), (120, 124, 128))


def stars(p: Painter) -> None:
    r = p.rng("stars")
    n = int(90 * p.S / 1000)
    xs, ys = r.random(n) * p.W, r.random(n) ** 1.5 * p.horizon * 0.8
    fill = (250, 246, 230, 230) if p.night else (40, 40, 50, 150)
    p.dots(xs, ys, (0.6 + 1.4 * r.random(n) ** 3) * p.S / 1000, fill)


def _sky_part(p: Painter, x0: int, y0: int, h: int, w: int) -> np.ndarray:
    """The open-sky mask over the box (x0, y0, w, h), zero outside the canvas."""
    out = np.zeros((h, w), np.float32)
    xa, ya, xb, yb = max(0, x0), max(0, y0), min(p.W, x0 + w), min(p.H, y0 + h)
    if xb > xa and yb > ya:
        out[ya - y0:yb - y0, xa - x0:xb - x0] = p.sky_mask[ya:yb, xa:xb]
    return out


def _sky_spot(p: Painter, key: str, r, radius: float, *, low: bool = False) -> tuple[float, float]:
    """Where a sun or moon goes: near the poem's place, high (or low at dusk and dawn), and moved
    along the sky until the hills hide no more than a sliver of it."""
    base = p.sc.x(key) + 0.06 * (r.random() - 0.5)
    heights = (0.7 + 0.12 * r.random(), 0.5, 0.32) if low else (0.16 + 0.18 * r.random(), 0.1)
    th = np.linspace(0, 2 * np.pi, 24, endpoint=False)
    ring = np.concatenate([np.stack([np.cos(th) * q, np.sin(th) * q], 1) for q in (0.0, 0.5, 0.95)])
    best, best_vis = None, -1.0
    for dx in (0, 0.08, -0.08, 0.16, -0.16, 0.26, -0.26, 0.38, -0.38):
        x = p.W * min(0.88, max(0.12, base + dx))
        for hf in heights:
            y = max(p.horizon * hf, radius * 1.6)
            px = np.clip((x + ring[:, 0] * radius).astype(int), 0, p.W - 1)
            py = np.clip((y + ring[:, 1] * radius).astype(int), 0, p.H - 1)
            vis = float(p.sky_mask[py, px].mean())
            if vis >= 0.97:
                return x, y
            if vis > best_vis:
                best, best_vis = (x, y), vis
    return best


def moon(p: Painter) -> None:
    """A pale disc left bright, the sky washed darker around it (烘云托月)."""
    r = p.rng("moon")
    rad = p.S * (0.042 + 0.01 * r.random())
    x, y = _sky_spot(p, "moon", r, rad)
    size = int(rad * 5)
    yy, xx = np.mgrid[-size:size + 1, -size:size + 1].astype(np.float32)
    d = np.hypot(xx, yy) / rad
    halo = np.where(d > 1.0, np.exp(-(d - 1.0) * 1.6), 0.0)
    box = (int(x) - size, int(y) - size)
    open_sky = _sky_part(p, box[0], box[1], 2 * size + 1, 2 * size + 1)
    if p.night:
        p.wash(0.5 * halo * open_sky, (200, 200, 196), box)  # a glow
    else:
        p.wash(0.16 * np.where(d > 1.04, np.exp(-(d - 1.04) * 2.2), 0.0) * open_sky, (130, 132, 140), box)
    disc = np.clip((1.02 - d) * rad / 1.2, 0, 1) * open_sky
    p.wash(disc, (250, 247, 236), box)
    p.occupy(x - rad * 1.6, y - rad * 1.6, x + rad * 1.6, y + rad * 1.6, "moon")
    p.moon_xy = (x, y, rad)


def sun(p: Painter) -> None:
    r = p.rng("sun")
    low = p.sc.time in ("dusk", "dawn")
    rad = p.S * (0.038 + (0.014 if low else 0.0))
    x, y = _sky_spot(p, "sun", r, rad, low=low)
    size = int(rad * 4)
    yy, xx = np.mgrid[-size:size + 1, -size:size + 1].astype(np.float32)
    d = np.hypot(xx, yy) / rad
    box = (int(x) - size, int(y) - size)
    open_sky = _sky_part(p, box[0], box[1], 2 * size + 1, 2 * size + 1)
    p.wash(0.3 * np.exp(-np.maximum(0, d - 1) * 1.3) * (d > 1) * open_sky, (232, 150, 90), box)
    p.wash(np.clip((1.02 - d) * rad / 1.5, 0, 0.9) * open_sky, (206, 62, 40), box)
    p.occupy(x - rad * 1.5, y - rad * 1.5, x + rad * 1.5, y + rad * 1.5, "sun")
    p.sun_xy = (x, y, rad)


def clouds(p: Painter) -> None:
    """Clouds as in the old scrolls (勾云): a soft white body of overlapping puffs, shaded grey
    underneath, its scalloped upper edge drawn in pale ink with a curl or two."""
    for i in range(p.sc.n("clouds")):
        r = p.rng("clouds", i)
        cx = p.W * (0.15 + 0.7 * ((p.sc.x("clouds", i) + 0.3 * i * (1 if i % 2 else -1)) % 1.0))
        cy = p.horizon * (0.18 + 0.42 * r.random())
        windy = "wind" in p.sc.flags
        wide = p.S * (0.14 + 0.1 * r.random()) * (1.5 if windy else 1.0)
        tall = p.S * 0.028 * (0.7 if windy else 1.0)
        lobes = 5 + int(r.integers(0, 4))
        u = np.sort(r.random(lobes)) - 0.5
        xs = cx + u * wide
        rads = tall * (0.7 + 0.8 * r.random(lobes)) * (1.25 - np.abs(u))  # biggest in the middle
        ys = cy - rads * 0.35 + r.normal(0, tall * 0.15, lobes)
        box = (int(cx - wide), int(cy - tall * 3), int(cx + wide), int(cy + tall * 2))
        yy, xx = np.mgrid[box[1]:box[3], box[0]:box[2]].astype(np.float32)
        body = np.zeros_like(xx)
        for lx, ly, lr in zip(xs, ys, rads):
            body = np.maximum(body, np.clip((1.0 - np.hypot((xx - lx) / (lr * 1.35), (yy - ly) / lr)) * 4, 0, 1))
        body *= 1 - smoothstep(cy + tall * 0.2, cy + tall * 0.9, yy)  # a soft flat underside
        shade = body * smoothstep(cy - tall * 0.6, cy + tall * 0.6, yy)
        base = p.land if p.night else p.paper
        glow = (249, 246, 236) if not p.night else (150, 154, 170)
        p.wash(np.clip(body, 0, 0.92), glow, box[:2])
        p.wash(0.35 * shade, _mix(base, (110, 110, 122), 0.6), box[:2])
        # the upper edge of the union: each puff's arc where it is on top
        gx = np.arange(box[0], box[2], dtype=np.float32)
        top = np.full(gx.shape, np.inf)
        for lx, ly, lr in zip(xs, ys, rads):
            dx = (gx - lx) / (lr * 1.35)
            inside = np.abs(dx) < 1
            top[inside] = np.minimum(top[inside], ly - lr * np.sqrt(1 - dx[inside] ** 2))
        ok = np.isfinite(top) & (top < cy + tall * 0.2)
        run = []
        for gxi, ty, o in zip(gx, top, ok):
            if o:
                run.append((gxi, ty))
            if (not o or gxi == gx[-1]) and len(run) > 3:
                pts = np.array(run)[::3]
                p.stroke(pts, p.S * 0.0024, INK, 0.42 * p.sc.ink, rng=r)
            if not o:
                run = []
        for lx, ly, lr in list(zip(xs, ys, rads))[:: max(1, lobes // 2)]:  # curls
            th = np.linspace(np.pi * 1.1, np.pi * 2.5, 14)
            q = np.linspace(1.0, 0.45, 14)
            pts = np.stack([lx + np.cos(th) * lr * 0.55 * q, ly - lr * 0.1 + np.sin(th) * lr * 0.45 * q], 1)
            p.stroke(pts, p.S * 0.0018, INK, 0.3 * p.sc.ink, rng=r)
        p.occupy(cx - wide * 0.6, cy - tall * 1.5, cx + wide * 0.6, cy + tall, "cloud")


# --------------------------------------------------------------------------- mountains

def far_ranges(p: Painter) -> None:
    """Two or three flat washes of distant hills along the horizon, palest furthest away."""
    sc = p.sc
    n = 3 if sc.n("mountains") + sc.n("peaks") > 1 else 2
    base_col = p.pal["far"]
    if p.night:
        base_col = _mix(base_col, (30, 34, 48), 0.5)
    if "snow" in sc.flags:
        base_col = _mix(base_col, (150, 152, 156), 0.5)
    for k in range(n):
        r = p.rng("far", k)
        depth = (n - k) / n  # 1 = furthest
        hz = p.horizon - p.H * 0.012 * (n - k)
        height = p.H * (0.07 + 0.1 * r.random()) * (1.25 if sc.n("mountains") or sc.n("peaks") else 0.8)
        prof = fbm1(r, p.W, octaves=5, base=3)
        prof = (prof - prof.min()) / (np.ptp(prof) + 1e-9)
        env = np.clip(np.sin(np.linspace(0.05, 0.95, p.W) * np.pi + r.random() - 0.5), 0, 1) ** 0.4
        ridge = hz - height * (0.35 + 0.65 * prof) * (0.6 + 0.4 * env)
        top = int(max(0, ridge.min() - 2))
        bot = int(min(p.H, hz + p.H * 0.02))
        yy = np.arange(top, bot, dtype=np.float32)[:, None]
        inside = smoothstep(-1.5, 1.5, yy - ridge[None, :])
        v = np.clip((yy - ridge[None, :]) / (hz - ridge[None, :] + 1e-6), 0, 1)
        nz = noise2(r, bot - top, p.W, 40)
        a = inside * (0.5 - 0.35 * v) * (0.75 + 0.5 * nz) * (0.55 + 0.45 * (1 - depth)) * sc.ink ** 0.5
        p.wash(np.clip(a, 0, 1), base_col, (0, top))
        p.sky_mask[top:bot] *= 1 - 0.9 * inside
        p.mist(hz, p.H * 0.03, 0.75, r)


def _profile(r, n: int, kind: str) -> np.ndarray:
    """Heights (0..1) of a mountain's ridge over n points across its width."""
    x = np.linspace(-1, 1, n)
    skew = 0.35 * (r.random() - 0.5)  # one side steeper than the other
    xs = x - skew * (1 - x * x)
    if kind == "peaks":
        h = np.zeros(n)
        k = 2 + int(r.integers(0, 3))
        for j in range(k):
            c = (j - (k - 1) / 2) / max(1, k - 1) * 1.1 + 0.15 * (r.random() - 0.5)
            wdt = 0.14 + 0.14 * r.random()
            hh = 0.55 + 0.35 * r.random() if j != k // 2 else 1.0
            h = np.maximum(h, hh * np.clip(1 - np.abs(xs - c) / wdt, 0, 1) ** 1.1)
        h = np.maximum(h, 0.3 * np.clip(1 - np.abs(xs), 0, 1) ** 0.7)
        h *= 0.85 + 0.3 * fbm1(r, n, octaves=4, base=6)
    elif kind == "bank":  # a low shore of a few lumps
        env = np.clip(1 - np.abs(xs) ** 2, 0, 1)
        h = np.clip(env * 1.6, 0, 1) * (0.45 + 0.55 * fbm1(r, n, octaves=3, base=5))
        for _ in range(3):
            c, wdt = r.uniform(-0.7, 0.7), r.uniform(0.1, 0.3)
            h = np.maximum(h, env * r.uniform(0.6, 1.0) * np.clip(1 - ((xs - c) / wdt) ** 2, 0, 1) ** 0.5)
    else:
        env = np.clip(1 - np.abs(xs) ** 1.5, 0, 1) ** 0.9
        h = env * (0.5 + 0.7 * fbm1(r, n, octaves=4, base=3))
        h += 0.14 * env * np.sin(xs * np.pi * (2 + 2 * r.random()) + r.random() * 6) ** 2
    h = h + (fbm1(r, n, octaves=3, base=24) - 0.5) * 0.05 * (h > 0.05)  # a ragged ridge
    h = np.convolve(h, np.ones(3) / 3, mode="same")
    h[0] = h[-1] = 0
    return np.clip(h / (h.max() + 1e-9), 0, 1)


def tuft(p: Painter, x: float, y: float, s: float, r, alpha: float, colour=INK) -> None:
    """A clump of tiny upright trees on a ridge (shan-shui's tree02): a few pointed dabs."""
    for _ in range(2 + int(r.integers(0, 4))):
        p.blob(x + r.normal(0, s * 0.45), y - s * 0.3 + r.normal(0, s * 0.2), s * (0.7 + 0.6 * r.random()),
               s * (0.35 + 0.2 * r.random()), -math.pi / 2 + r.normal(0, 0.12), _rgba(colour, alpha), r, pointed=0.6)


def mountain(p: Painter, cx: float, base: float, width: float, height: float, kind: str, r, *, near: float) -> dict:
    """One mountain: wash, ridge line, contour texture strokes, moss dots and little trees.

    ``near`` in [0, 1] (1 = nearest) sets the ink's darkness."""
    sc = p.sc
    n = 150
    prof = _profile(r, n, kind)
    xs = cx + np.linspace(-0.5, 0.5, n) * width
    ridge_y = base - prof * height
    top = float(ridge_y.min())
    box = (int(max(0, xs[0] - 4)), int(max(0, top - 4)), int(min(p.W, xs[-1] + 4)), int(min(p.H, base + 4)))
    if box[2] <= box[0] or box[3] <= box[1]:
        return {}
    pts = list(zip(xs, ridge_y)) + [(xs[-1], base + 2), (xs[0], base + 2)]
    mask = p.polymask(pts, box)
    bh, bw = mask.shape
    yy = np.arange(box[1], box[3], dtype=np.float32)[:, None]
    xx = np.arange(box[0], box[2], dtype=np.float32)[None, :]
    rx = np.interp(xx[0], xs, ridge_y)[None, :]
    t = np.clip((yy - rx) / max(1.0, height), 0, 1)  # 0 at the ridge, 1 a full height below it
    v = np.clip((yy - top) / max(1.0, base - top), 0, 1)  # 0 at the summit, 1 at the foot
    nz = noise2(r, bh, bw, 12)
    streak = noise2(r, bh, max(2, bw // 8), 30)  # vertical streaks of the brush
    streak = np.asarray(Image.fromarray(streak, "F").resize((bw, bh), Image.BILINEAR), np.float32)
    snow = "snow" in sc.flags
    # the shaded side: where the ridge falls away to the right (light comes from the left)
    slope = np.gradient(np.interp(xx[0], xs, ridge_y))[None, :]  # dy/dx: > 0 where it falls to the right
    shade = smoothstep(0.0, 0.8, slope)
    # hide what is behind
    p.wash(mask * (1 - smoothstep(0.85, 1.0, v) * 0.5), p.land, box[:2])
    if kind == "bank":
        p.land_mask[box[1]:box[1] + bh, box[0]:box[0] + bw] |= mask > 0.5
    p.sky_mask[box[1]:box[1] + bh, box[0]:box[0] + bw] *= 1 - mask
    inkf = sc.ink * (0.5 + 0.5 * near)
    if snow:
        inkf *= 0.4
    # ink wash: dark under the ridge, fading down the slope, darker on the shaded side
    a = mask * (0.3 * np.exp(-t * 5) + 0.1 * np.exp(-t * 1.5) + 0.12 * shade * np.exp(-t * 2)) \
        * (0.55 + 0.6 * nz) * (0.8 + 0.4 * streak) * inkf
    if "rain" in sc.flags:
        a = a * 1.3 + mask * 0.1 * (1 - v)
    p.wash(np.clip(a, 0, 1), _mix(INK, (90, 95, 105), 0.3), box[:2])
    # colour washes (浅绛 or 青绿 by season)
    cstr = min(1.0, sc.colour) * (0.3 if snow else 1.0)
    if cstr > 0:
        low = mask * smoothstep(0.15, 0.6, t) * (1 - smoothstep(0.7, 1.0, v)) * (0.45 if sc.season == "autumn" else 0.32) \
            * (0.5 + 0.8 * nz) * cstr
        p.wash(np.clip(low, 0, 1), p.pal["low"], box[:2])
        topw = mask * np.exp(-t * 3.0) * 0.3 * (0.4 + nz) * cstr * (1.3 if sc.season in ("spring", "summer") else 0.8)
        p.wash(np.clip(topw, 0, 1), p.pal["top"], box[:2])
    # contour layers: the ridge shrunk towards the foot (shan-shui's nested rings)
    layers = 10
    contours = []
    for j in range(layers):
        q = 1 - j / layers
        lx = cx + (xs - cx) * q
        ly = base - (base - ridge_y) * q - (1 - q) * height * 0.06 * fbm1(r, n, octaves=2, base=4)
        contours.append(np.stack([lx, ly], 1))
    contours = np.array(contours)  # (layers, n, 2)
    # ridge line, in runs, with a fainter second pass for a dry-brush edge
    lw = p.S * (0.0028 + 0.0024 * near)
    seg = _split(r, n)
    for a0, a1 in seg:
        p.stroke(contours[0, a0:a1], lw, INK, (0.5 + 0.4 * near) * min(1.0, inkf * 1.3), rng=r)
    p.stroke(contours[0] + [0, lw * 0.9], lw * 0.7, INK, 0.14 * inkf, rng=r)
    # texture strokes along parts of the inner contours (披麻皴), crowded at the sides
    area = width * height / (p.S * p.S)
    count = int(min(600, max(20, (250 + 500 * near) * area ** 0.8)))
    mi_dots = "rain" in sc.flags
    for _ in range(count):
        layer = r.random() ** 1.3 * (layers - 1.001) * 0.9
        j0 = int(layer)
        f = layer - j0
        u = r.random()
        mid = int((u / 3 if r.random() < 0.5 else 2 / 3 + u / 3) * (n - 1)) if r.random() < 0.8 else int(r.random() * (n - 1))
        half = int(r.integers(2, max(3, int(n * 0.1))))
        a0, a1 = max(0, mid - half), min(n, mid + half)
        if a1 - a0 < 2:
            continue
        line = contours[j0, a0:a1] * (1 - f) + contours[j0 + 1, a0:a1] * f
        line = line + (r.random(line.shape) - 0.5) * p.S * 0.0015 * (1 + layer * 0.5)
        if mi_dots:  # rain: Mi Fu's horizontal dots (米点) instead of lines
            for px, py in line[:: max(1, len(line) // 2)]:
                p.blob(px, py + p.S * 0.004, p.S * (0.011 + 0.008 * r.random()), p.S * 0.005, r.normal(0, 0.08),
                       p.inkc((0.14 + 0.22 * r.random()) * (0.5 + 0.5 * near)), r, pointed=0.1)
            continue
        alpha = (0.12 + 0.35 * r.random() * (1 - layer / layers)) * (0.5 + 0.5 * near) * (0.6 if snow else 1.0)
        p.stroke(line, p.S * (0.0012 + 0.0014 * r.random()), INK, alpha, rng=r)
    if kind == "peaks":  # axe-cut strokes down the cliffs (斧劈皴)
        for _ in range(int(count * 0.3)):
            i = int(r.integers(3, n - 3))
            x0, y0 = contours[int(r.integers(0, 5)), i]
            ln = height * (0.04 + 0.12 * r.random())
            ang = math.pi / 2 + (0.45 if xs[i] > cx else -0.45) * (0.3 + 0.5 * r.random())
            seg_pts = np.stack([x0 + np.cos(ang) * np.linspace(0, ln, 6), y0 + np.sin(ang) * np.linspace(0, ln, 6)], 1)
            p.stroke(seg_pts, p.S * (0.003 + 0.005 * r.random()), INK, ((0.1 + 0.2 * r.random()) * near + 0.05) * inkf,
                     rng=r, taper="head")
    # tufts of little trees along the ridge, moss dots below them (点苔)
    tuft_col = _mix(INK, p.pal["leaf"], (0.6 if sc.season == "autumn" else 0.3) if sc.colour > 0 and sc.season != "winter" else 0)
    gate = fbm1(r, n, octaves=2, base=8)
    for i in range(2, n - 2):
        if gate[i] > 0.6 and r.random() < 0.5 and prof[i] > 0.25:
            x0, y0 = contours[0, i]
            tuft(p, x0, y0, p.S * (0.006 + 0.005 * near), r, (0.45 + 0.35 * r.random()) * min(1, inkf * 1.2), tuft_col)
    for _ in range(int((20 + 40 * near) * width / p.S)):
        i = int(r.integers(2, n - 2))
        j = int(r.integers(0, 4))
        x0, y0 = contours[j, i]
        p.blob(x0 + r.normal(0, p.S * 0.003), y0 + p.S * 0.004 * (1 + r.random()), p.S * 0.0045, p.S * 0.003,
               r.random() * 3, p.inkc((0.35 + 0.45 * r.random()) * min(1, inkf * 1.3)), r)
    # little trees on the lower slopes
    tree_k = {"winter": 0.4, "summer": 1.6, "spring": 1.2}.get(sc.season, 1.0) * (0.5 if snow else 1.0)
    if kind != "bank":
        for _ in range(int((4 + 16 * near) * tree_k * width / p.S)):
            i = int(r.integers(6, n - 6))
            pt = contours[int(2 + r.random() * 6), i]
            if pt[1] > base - height * 0.08:
                continue
            little_tree(p, pt[0], pt[1], p.S * (0.014 + 0.022 * r.random()) * (0.5 + 0.6 * near), r, near)
    if snow:  # snow on the ridges
        for a0, a1 in seg:
            p.stroke(contours[0, a0:a1] + [0, lw * 1.6], lw * 1.5, (250, 250, 247), 0.75, rng=r)
    return {"xs": xs, "ridge": ridge_y, "base": base, "contours": contours, "height": height, "prof": prof}


def _split(r, n: int) -> list[tuple[int, int]]:
    """Break a line into a few overlapping runs (the brush lifts and lands again)."""
    out, a = [], 0
    while a < n - 1:
        b = min(n, a + int(r.integers(max(4, n // 5), max(5, n // 2))))
        out.append((a, b))
        if b >= n:
            break
        a = b - 2
    return out


def little_tree(p: Painter, x: float, y: float, h: float, r, near: float) -> None:
    """A small far tree: a trunk and layers of leaf dabs (shan-shui's tree01)."""
    leaf = p.pal["leaf"] if p.sc.colour > 0 else INK
    col = _mix(INK, leaf, 0.75 if p.sc.season == "autumn" else 0.45) if p.sc.season != "winter" else INK
    a = (0.3 + 0.4 * near) * p.sc.ink
    p.stroke([(x, y), (x + r.normal(0, h * 0.04), y - h)], max(1.0, h * 0.07), INK, a + 0.15, noise=0)
    for k in range(6):
        yy = y - h * (0.3 + 0.7 * k / 6)
        wd = h * 0.5 * (1 - k / 7)
        p.blob(x + r.normal(0, wd * 0.15), yy, wd, h * 0.13, r.normal(0, 0.12), _rgba(col, a * (0.7 + 0.5 * r.random())), r)


def massif(p: Painter, cx: float, base: float, width: float, height: float, kind: str, r, near: float) -> dict:
    """A main mountain with smaller ones gathered at its feet, painted back to front."""
    main = mountain(p, cx, base, width, height, kind, r, near=near)
    side = 1 if r.random() < 0.5 else -1
    for k in range(1 + int(r.integers(0, 2))):
        s = side if k % 2 == 0 else -side
        w2 = width * (0.4 + 0.2 * r.random())
        h2 = height * (0.3 + 0.25 * r.random())
        x2 = cx + s * width * (0.22 + 0.18 * r.random())
        mountain(p, x2, base + p.H * 0.012 * (k + 1), w2, h2, "mountains" if kind != "peaks" or r.random() < 0.5 else "peaks",
                 r, near=min(1.0, near + 0.1))
    return main


def mountains(p: Painter) -> None:
    """The main mountains (山) and peaks (峰), back to front, each with mist at its foot."""
    sc = p.sc
    items = [("mountains", i) for i in range(sc.n("mountains"))] + [("peaks", i) for i in range(sc.n("peaks"))]
    water = "water" in sc.flags
    p.main = []
    if not items:
        # without mountains in the poem, a low far hill still closes the view
        r = p.rng("hill")
        massif(p, p.W * (0.3 + 0.4 * r.random()), p.horizon, p.W * 0.45, p.H * 0.12, "mountains", r, 0.2)
        p.mist(p.horizon, p.H * 0.03, 0.9, r)
        return
    total = len(items)
    for order, (kind, i) in enumerate(items):  # later items nearer
        r = p.rng(kind, i)
        near = 0.45 + 0.5 * ((order + 1) / total if total > 1 else 0.8)
        xf = sc.x(kind, i)
        if total > 1:  # keep the masses apart: alternate a little around the poem's place
            xf += (order % 2 - 0.5) * 0.2
        xf = min(0.85, max(0.15, xf))
        if kind == "peaks":
            width = p.W * (0.26 + 0.12 * r.random()) * min(1.6, p.H / p.W + 0.5)
            height = p.H * (0.45 + 0.2 * r.random()) * (0.75 + 0.3 * near)
        else:
            width = p.W * (0.42 + 0.22 * r.random())
            height = p.H * (0.22 + 0.14 * r.random()) * (0.75 + 0.45 * near)
        base = p.horizon + (p.H * 0.015 * order if not water else 0)
        height = min(height, base * 0.85)
        info = massif(p, p.W * xf, base, width, height, kind, r, near)
        if info:
            info["kind"] = kind
            p.main.append(info)
        p.mist(base, p.H * 0.03, 0.95, r, x0=p.W * xf - width * 0.8, x1=p.W * xf + width * 0.8)
    if sc.n("waterfall") and p.main:
        waterfall(p)
    if sc.n("temple") and p.main:
        pagoda(p)


def waterfall(p: Painter) -> None:
    """A ribbon of white water down the tallest mountain, mist at its foot."""
    r = p.rng("waterfall")
    m = max(p.main, key=lambda d: d.get("height", 0))
    xs, ridge, prof = m["xs"], m["ridge"], m["prof"]
    n = len(xs)
    # high on the mountain, off its summit: where the ridge is at about two thirds of the height
    i = int(np.argmin(np.abs(prof[n // 6: 5 * n // 6] - 0.65) + 0.05 * r.random(5 * n // 6 - n // 6))) + n // 6
    x = xs[i]
    y0 = ridge[i] + m["height"] * 0.06
    y1 = m["base"] - m["height"] * 0.04
    wd = p.S * 0.014
    ys = np.linspace(y0, y1, 40)
    xw = x + np.cumsum(r.normal(0, wd * 0.05, 40))
    # dark cliff walls on both sides make the white fall read
    for s in (-1, 1):
        p.stroke(np.stack([xw + s * wd * 0.9, ys], 1), wd * 0.9, INK, 0.5 * p.sc.ink, rng=r, noise=0.6)
    left = np.stack([xw - wd * 0.5, ys], 1)
    right = np.stack([xw + wd * 0.5, ys], 1)
    p.draw.polygon(np.concatenate([left, right[::-1]]).ravel().tolist(), fill=_rgba((248, 248, 244), 0.95))
    for k in range(4):
        off = (k / 3 - 0.5) * wd * 0.7
        a0 = int(r.integers(0, 10))
        p.stroke(np.stack([xw[a0:] + off, ys[a0:]], 1), p.S * 0.001, (150, 160, 170), 0.5, rng=r)
    p.mist(y1, p.H * 0.02, 0.9, r, x0=x - p.W * 0.1, x1=x + p.W * 0.1)


# --------------------------------------------------------------------------- water and ground

def water_surface(p: Painter) -> None:
    """Everything below the horizon is water: the sky and hills mirrored, rippled, faded; ripple
    strokes; the moon's or sun's broken reflection."""
    sc = p.sc
    r = p.rng("water")
    hz = int(p.horizon)
    depth = p.H - hz
    src_h = min(hz, depth)
    arr = p.array()
    above = arr[hz - src_h:hz][::-1]  # mirrored
    rows = np.arange(src_h, dtype=np.float32)
    windy = "wind" in sc.flags
    amp = p.S * (0.004 if windy else 0.0015) * (1 + rows / max(1, src_h) * 3)
    shift = (amp * np.sin(rows * (0.35 if windy else 0.22) + r.random() * 6)
             + amp * 0.8 * (fbm1(r, src_h, octaves=3, base=src_h // 6 + 2) - 0.5) * 2).astype(int)
    refl = np.empty_like(above)
    for i in range(src_h):
        refl[i] = np.roll(above[i], shift[i], axis=0)
    refl_img = Image.fromarray(np.clip(refl, 0, 255).astype(np.uint8), "RGB").filter(ImageFilter.GaussianBlur(p.S * 0.0015))
    refl = np.asarray(refl_img, np.float32)
    water_col = np.asarray(_mix(p.paper, (150, 166, 170), 0.22), np.float32)
    if p.night:
        water_col = np.asarray((58, 64, 80), np.float32)
    if sc.time == "dusk":
        water_col = np.asarray(_mix(p.paper, (220, 150, 110), 0.25), np.float32)
    if "snow" in sc.flags:
        water_col = np.asarray((112, 116, 120), np.float32)
    fade = (0.55 * (1 - rows / src_h) ** 1.4)[:, None, None]
    body = np.broadcast_to(water_col, (depth, p.W, 3)).copy()
    body[:src_h] = body[:src_h] * (1 - fade) + refl * fade
    # a wash that deepens towards the near shore
    yy = np.linspace(0, 1, depth, dtype=np.float32)[:, None, None]
    body = body * (1 - 0.12 * yy)
    p.put(body, (0, hz, p.W, p.H))
    # the waterline: a faint line and mist
    p.mist(hz, p.H * 0.01, 0.5, r)
    # ripple strokes, further apart and longer nearer to us
    n = int((60 if windy else 26) * p.S / 1000 * (1.5 if "rain" in sc.flags else 1))
    for _ in range(n):
        v = r.random() ** 1.6
        y = hz + v * depth
        ln = p.W * (0.02 + 0.08 * v + 0.05 * r.random())
        x = r.random() * p.W
        k = 10
        xs = x + np.linspace(0, ln, k)
        ys = y + np.sin(np.linspace(0, math.pi * (2 if windy else 1), k) + r.random() * 6) * p.S * (0.003 if windy else 0.0012)
        col = (220, 220, 225) if p.night or "snow" in sc.flags else INK
        p.stroke(np.stack([xs, ys], 1), p.S * (0.0012 + 0.0014 * v), col, 0.12 + 0.25 * v * (1 if not windy else 1.3), rng=r)
    for key, col in (("moon_xy", (250, 248, 236)), ("sun_xy", (214, 90, 56))):
        spot = getattr(p, key, None)
        if spot is None:
            continue
        x, _, rad = spot
        for k in range(int(14 + 10 * rad / (p.S * 0.04))):
            y = hz + p.S * 0.01 + (k / 24) ** 1.2 * depth * 0.45
            ln = rad * (1.6 - k / 30) * (0.4 + 0.8 * r.random())
            xx = x + r.normal(0, rad * 0.2)
            p.stroke([(xx - ln / 2, y), (xx + ln / 2, y)], p.S * 0.003, col, 0.55 + 0.3 * r.random(), noise=0)


def ground(p: Painter) -> None:
    """Land below the horizon when there is no water: a pale slope, dry-brush strokes, a path."""
    sc = p.sc
    r = p.rng("ground")
    hz = int(p.horizon)
    depth = p.H - hz
    yy = np.linspace(0, 1, depth, dtype=np.float32)[:, None] * np.ones((1, p.W), np.float32)
    nz = noise2(r, depth, p.W, 8)
    a = (0.08 + 0.16 * yy) * (0.6 + 0.8 * nz) * sc.ink
    p.wash(a, p.pal["low"] if sc.colour > 0 else INK, (0, hz))
    if p.night:
        p.wash(0.35 * np.ones_like(yy), (50, 56, 72), (0, hz))
    # gentle slopes: a few long strokes
    for k in range(5):
        y = hz + depth * (0.15 + 0.17 * k + 0.05 * r.random())
        x0 = r.random() * p.W * 0.6
        xs = np.linspace(x0, x0 + p.W * (0.3 + 0.3 * r.random()), 20)
        ys = y + (fbm1(r, 20, octaves=2) - 0.5) * p.H * 0.03
        p.stroke(np.stack([xs, ys], 1), p.S * 0.002, INK, 0.25, rng=r)
    if "snow" in sc.flags:
        p.wash(0.55 * smoothstep(0.0, 0.3, yy) * (0.6 + 0.6 * nz), (248, 248, 246), (0, hz))


def lotus(p: Painter) -> None:
    """Lotus leaves floating on the near water, a few pink flowers on stems."""
    r = p.rng("lotus")
    hz = p.horizon
    cx = p.W * p.sc.x("lotus")
    leaf = _mix(p.pal["leaf"], (50, 100, 70), 0.5)
    for k in range(9 + int(r.integers(0, 6))):
        y = hz + (p.H - hz) * (0.45 + 0.5 * r.random())
        x = cx + r.normal(0, p.W * 0.12)
        s = p.S * (0.02 + 0.025 * (y - hz) / (p.H - hz))
        p.draw.ellipse((x - s, y - s * 0.35, x + s, y + s * 0.35), fill=_rgba(leaf, 0.65))
        p.draw.arc((x - s, y - s * 0.35, x + s, y + s * 0.35), 180, 360, fill=p.inkc(0.5), width=max(1, int(p.S * 0.0015)))
        if r.random() < 0.4:
            sh = s * (1.2 + r.random())
            p.stroke([(x, y), (x + r.normal(0, s * 0.2), y - sh)], p.S * 0.0015, INK, 0.6, noise=0)
            fx, fy = x, y - sh
            for j in range(5):
                ang = -math.pi / 2 + (j - 2) * 0.45
                p.blob(fx + math.cos(ang) * s * 0.25, fy + math.sin(ang) * s * 0.25, s * 0.5, s * 0.25, ang,
                       _rgba(p.pal["bloom"], 0.8), r)


def boat(p: Painter, i: int) -> None:
    """A small boat with its boatman (and a sail, or a fishing line)."""
    sc = p.sc
    r = p.rng("boat", i)
    hz = p.horizon
    v = 0.25 + 0.5 * r.random() if i else 0.45 + 0.25 * r.random()
    y = hz + (p.H - hz) * v
    scale = p.S * (0.035 + 0.06 * v) * (1.0 if i == 0 else 0.7) * (1.35 if "lone boat" in sc.flags else 1.0)
    x = p.W * min(0.85, max(0.15, sc.x("boat", i) + (0.15 * i if i else 0)))
    flip = -1 if r.random() < 0.5 else 1
    ln = scale * 2.2
    t = np.linspace(0, 1, 24)
    top = np.stack([x + (t - 0.5) * ln * flip, y - scale * 0.1 * np.sin(np.pi * t) ** 0.5 + scale * 0.08 * (t - 0.5)], 1)
    bot = np.stack([x + (t - 0.5) * ln * 0.86 * flip, y + scale * 0.26 * np.sin(np.pi * t) ** 0.6], 1)
    hull = np.concatenate([top, bot[::-1]])
    # reflection
    for k in range(4):
        yy = y + scale * (0.34 + 0.14 * k)
        p.stroke([(x - ln * 0.4 + r.normal(0, 3), yy), (x + ln * 0.4 + r.normal(0, 3), yy)], p.S * 0.0022, INK,
                 0.28 - 0.05 * k, noise=0)
    p.draw.polygon(hull.ravel().tolist(), fill=_rgba(_mix(p.land, INK, 0.35), 1.0))
    p.stroke(bot, p.S * 0.003, INK, 0.85 * sc.ink, rng=r)
    p.stroke(top, p.S * 0.0022, INK, 0.7 * sc.ink, rng=r)
    if "sail" in sc.flags and i == 0:
        mast_x = x - ln * 0.05 * flip
        mast_top = y - scale * 2.4
        p.stroke([(mast_x, y - scale * 0.05), (mast_x, mast_top)], p.S * 0.0022, INK, 0.8, noise=0)
        sail = [(mast_x + flip * scale * 0.05, mast_top + scale * 0.1), (mast_x + flip * scale * 0.9, mast_top + scale * 0.35),
                (mast_x + flip * scale * 0.8, y - scale * 0.35), (mast_x + flip * scale * 0.05, y - scale * 0.3)]
        p.draw.polygon(sail, fill=_rgba(_mix(p.land, (200, 180, 140), 0.4), 0.95))
        p.draw.line(sail + [sail[0]], fill=p.inkc(0.6), width=max(1, int(p.S * 0.0016)))
        for k in range(1, 5):
            f = k / 5
            a = (sail[0][0] * (1 - f) + sail[3][0] * f, sail[0][1] * (1 - f) + sail[3][1] * f)
            b = (sail[1][0] * (1 - f) + sail[2][0] * f, sail[1][1] * (1 - f) + sail[2][1] * f)
            p.draw.line([a, b], fill=p.inkc(0.35), width=max(1, int(p.S * 0.001)))
    else:  # a canopy (篷)
        cx = x + flip * ln * 0.08
        th = np.linspace(np.pi, 2 * np.pi, 14)
        canopy = np.stack([cx + np.cos(th) * scale * 0.42, y - scale * 0.05 + np.sin(th) * scale * 0.38], 1)
        p.draw.polygon(canopy.ravel().tolist(), fill=_rgba(_mix(p.land, (120, 100, 70), 0.45), 1.0))
        p.stroke(canopy, p.S * 0.0025, INK, 0.85, noise=0)
        for k in range(1, 5):  # woven matting
            q = k / 5
            p.stroke(np.stack([cx + np.cos(th) * scale * 0.42 * q, y - scale * 0.05 + np.sin(th) * scale * 0.38], 1),
                     p.S * 0.0012, INK, 0.45, noise=0)
    # the boatman in a straw hat, at the stern
    fx = x - flip * ln * 0.3
    figure(p, fx, y - scale * 0.05, scale * 0.55, r, hat=True)
    if "fishing" in sc.flags and i == 0:
        rod = np.stack([fx + flip * np.linspace(0, ln * 0.9, 12) * -1,
                        y - scale * 0.45 - np.sin(np.linspace(0, 1.2, 12)) * scale * 0.7], 1)
        p.stroke(rod, p.S * 0.0016, INK, 0.8, taper="head", noise=0)
        end = rod[-1]
        p.draw.line([tuple(end), (end[0], y + scale * 0.35)], fill=p.inkc(0.4), width=1)
    p.occupy(x - ln / 2, y - scale * 2.5, x + ln / 2, y + scale * 0.5, "boat")


def figure(p: Painter, x: float, y: float, h: float, r, *, hat: bool = False) -> None:
    """A tiny figure in a grey robe (in a straw cape and conical hat on a boat)."""
    robe = _mix(p.land, INK, 0.45 if hat else 0.3)
    body = [(x - h * 0.24, y), (x + h * 0.22, y), (x + h * 0.12, y - h * 0.62), (x - h * 0.1, y - h * 0.66)]
    p.draw.polygon(body, fill=_rgba(robe, 1.0))
    p.draw.line(body + [body[0]], fill=p.inkc(0.8), width=max(1, int(h * 0.05)))
    if hat:  # the straw cape's ragged fringe
        for k in range(5):
            xx = x - h * 0.2 + k * h * 0.1
            p.draw.line([(xx, y - h * 0.5), (xx - h * 0.02, y - h * 0.15)], fill=p.inkc(0.6), width=1)
    p.draw.ellipse((x - h * 0.09, y - h * 0.86, x + h * 0.09, y - h * 0.66), fill=_rgba(_mix(p.land, INK, 0.2), 1.0),
                   outline=p.inkc(0.8))
    if hat:
        p.draw.polygon([(x - h * 0.34, y - h * 0.76), (x + h * 0.34, y - h * 0.76), (x, y - h * 1.0)], fill=p.inkc(0.8))


def bridge(p: Painter) -> None:
    """An arched stone bridge; on water its reflection closes the arch into a ring."""
    r = p.rng("bridge")
    water = "water" in p.sc.flags
    y = p.horizon + (p.H - p.horizon) * (0.3 + 0.15 * r.random())
    x = p.W * min(0.8, max(0.2, p.sc.x("bridge")))
    span = p.S * 0.16
    rise = span * 0.28
    t = np.linspace(0, 1, 30)
    deck = np.stack([x + (t - 0.5) * span * 1.4, y - rise * np.sin(np.pi * t) ** 0.8 - rise * 0.35], 1)
    arch = np.stack([x + (t - 0.5) * span * 0.7, y - rise * 0.85 * np.sin(np.pi * t)], 1)
    fill = _mix(p.land, (160, 150, 130), 0.35)
    body = np.concatenate([deck, np.array([[x + span * 0.7, y], [x + span * 0.35, y]]), arch[::-1],
                           np.array([[x - span * 0.35, y], [x - span * 0.7, y]])])
    p.draw.polygon(body.ravel().tolist(), fill=_rgba(fill, 1.0))
    p.stroke(deck, p.S * 0.003, INK, 0.8, rng=r)
    p.stroke(arch, p.S * 0.0028, INK, 0.8, rng=r)
    p.stroke(deck - [0, rise * 0.2], p.S * 0.0016, INK, 0.5, rng=r)  # the railing
    for k in range(1, 9):
        px, py = deck[int(k * 29 / 9)]
        p.draw.line([(px, py), (px, py - rise * 0.2)], fill=p.inkc(0.5), width=max(1, int(p.S * 0.0012)))
    if water:  # reflection of the arch
        ref = np.stack([arch[:, 0], 2 * y - arch[:, 1]], 1)
        p.stroke(ref, p.S * 0.0025, INK, 0.35, rng=r)
    p.occupy(x - span * 0.7, y - rise * 1.6, x + span * 0.7, y + rise, "bridge")


# --------------------------------------------------------------------------- foreground

def foreground(p: Painter) -> None:
    """The near shore on one side: a low bank with rocks, and the trees, buildings and people."""
    sc = p.sc
    r = p.rng("shore")
    side = p.shore_side
    things = [k for k in ("pine", "willow", "bamboo", "blossom", "plum", "maple", "trees", "pavilion", "tower",
                          "cottage", "figure", "rocks", "grass") if sc.n(k)]
    if not things:
        return
    water = "water" in sc.flags
    base = p.H * 1.02
    height = p.H * (0.12 + 0.05 * r.random())
    reach = p.W * (0.5 + 0.12 * r.random())
    cx = p.W + reach * 0.05 if side > 0 else -reach * 0.05
    bank = mountain(p, cx, base, reach * 2, height, "bank", r, near=1.0)
    xs, ys = bank["xs"], bank["ridge"]
    inside = (xs > p.W * 0.02) & (xs < p.W * 0.98) & (ys < base - height * 0.45)
    # rocks at the water's edge
    edge_i = np.where(inside)[0]
    far_end = edge_i[0] if side > 0 else edge_i[-1]
    for k in range(sc.n("rocks") + (1 if water else 0)):
        i = int(np.clip(far_end + side * (k * 8 + 4), 0, len(xs) - 1))
        rock(p, xs[i] - side * p.W * 0.03, ys[i] + height * 0.45, p.S * (0.03 + 0.02 * r.random()) *
             (1.5 if sc.n("rocks") else 0.9), r)
    if sc.n("grass") or water:
        grass(p, xs[inside], ys[inside], r, many=bool(sc.n("grass")))
    # spots along the top of the bank for trees and buildings, from the outer edge inwards
    order = edge_i[::-1] if side > 0 else edge_i
    order = [i for i in order if p.W * 0.06 < xs[i] < p.W * 0.94]
    slots = [(xs[i], ys[i] + p.H * 0.01) for i in order[:: max(1, len(order) // 9)]][:9] or [(p.W * 0.5, p.H * 0.9)]
    used = 0

    def take() -> tuple[float, float]:
        nonlocal used
        x, y = slots[min(used, len(slots) - 1)]
        used += 1
        return x + r.normal(0, p.W * 0.008), y
    for key in ("cottage", "pavilion", "tower"):
        if sc.n(key):
            x, y = take()
            building(p, key, x, y, p.S * (0.09 if key != "tower" else 0.11), r)
    for key in ("pine", "willow", "maple", "trees", "blossom", "bamboo"):
        for i in range(sc.n(key)):
            x, y = take()
            h = p.H * (0.45 + 0.15 * r.random()) * (0.8 if i else 1.0)
            TREES[key](p, x, y, h, p.rng(key, i), side)
    for i in range(sc.n("plum")):
        plum(p, p.rng("plum", i), side, i)
    if sc.n("figure"):
        x, y = take() if used < len(slots) else slots[len(slots) // 2]
        figure(p, x, y, p.S * 0.045, p.rng("figure"))


def rock(p: Painter, x: float, y: float, s: float, r) -> None:
    k = 10
    th = np.linspace(np.pi, 2 * np.pi, k)
    rad = s * (0.7 + 0.5 * r.random(k))
    pts = np.stack([x + np.cos(th) * rad * 1.3, y + np.sin(th) * rad * 0.9], 1)
    pts = np.concatenate([pts, [[x + s * 1.3, y + s * 0.15], [x - s * 1.3, y + s * 0.15]]])
    p.draw.polygon(pts.ravel().tolist(), fill=_rgba(p.land, 1.0))
    p.draw.polygon(pts.ravel().tolist(), fill=_rgba(_mix(p.land, INK, 0.4), 0.25))
    p.stroke(pts[:k], p.S * 0.003, INK, 0.75 * p.sc.ink, rng=r)
    for _ in range(3):
        a = r.random() * 0.6 + 0.2
        seg = pts[int(a * (k - 3)): int(a * (k - 3)) + 3] * [1, 1] + [0, s * 0.25]
        p.stroke(seg, p.S * 0.0016, INK, 0.45, rng=r)
    for _ in range(3):
        j = int(r.integers(1, k - 1))
        p.blob(pts[j, 0], pts[j, 1], s * 0.12, s * 0.07, r.random() * 3, p.inkc(0.8), r)


def grass(p: Painter, xs, ys, r, *, many: bool) -> None:
    n = 40 if many else 12
    col = p.pal["leaf"] if p.sc.season in ("spring", "summer") else INK
    bend = 0.5 if "wind" in p.sc.flags else 0.15
    for _ in range(n):
        j = int(r.integers(0, len(xs)))
        x, y = xs[j], ys[j] + p.H * 0.01 * r.random()
        for _ in range(3 + int(r.integers(0, 3))):
            h = p.S * (0.02 + 0.03 * r.random()) * (1.4 if many else 1.0)
            lean = (r.random() - 0.5 + bend) * h
            pts = np.stack([x + np.linspace(0, lean, 6) * np.linspace(0, 1, 6), y - np.linspace(0, h, 6)], 1)
            p.stroke(pts, p.S * 0.0022, col, 0.55, taper="head", noise=0)


def _branch_path(x, y, ang, length, r, k: int = 8, curl: float = 0.15):
    angs = ang + np.cumsum(r.normal(0, curl, k))
    step = length / k
    px = x + np.concatenate([[0], np.cumsum(np.cos(angs) * step)])
    py = y + np.concatenate([[0], np.cumsum(np.sin(angs) * step)])
    return np.stack([px, py], 1)


def trunk(p: Painter, x, y, h, r, *, lean: float, width: float, k: int = 12):
    """A tree trunk: two edge lines and a pale fill, bark marks; returns its centre line."""
    pts = _branch_path(x, y, -math.pi / 2 + lean, h, r, k=k, curl=0.06)
    wd = width * np.linspace(1, 0.35, len(pts))
    d = np.gradient(pts, axis=0)
    ln = np.hypot(d[:, 0], d[:, 1]) + 1e-9
    nx, ny = -d[:, 1] / ln, d[:, 0] / ln
    left = pts + np.stack([nx, ny], 1) * wd[:, None] / 2
    right = pts - np.stack([nx, ny], 1) * wd[:, None] / 2
    p.draw.polygon(np.concatenate([left, right[::-1]]).ravel().tolist(), fill=_rgba(_mix(p.land, (96, 84, 72), 0.4), 1.0))
    p.stroke(left, p.S * 0.0032, INK, 0.85 * p.sc.ink, rng=r)
    p.stroke(right, p.S * 0.0028, INK, 0.7 * p.sc.ink, rng=r)
    return pts, wd


def pine(p: Painter, x, y, h, r, side) -> None:
    """A pine: a leaning trunk with scaly bark, crooked boughs, flat dark tiers of needles (松针)."""
    lean = -side * (0.06 + 0.12 * r.random())
    pts, wd = trunk(p, x, y, h, r, lean=lean, width=p.S * 0.026)
    for _ in range(18):  # bark scales
        i = int(r.integers(1, len(pts) - 2))
        cx, cy = pts[i] + [r.normal(0, wd[i] * 0.15), 0]
        p.draw.ellipse((cx - wd[i] * 0.22, cy - wd[i] * 0.14, cx + wd[i] * 0.22, cy + wd[i] * 0.14),
                       outline=p.inkc(0.55), width=max(1, int(p.S * 0.0014)))
    needle = _mix(INK, p.pal["leaf"], 0.25 if p.sc.season not in ("autumn", "winter") else 0.05)
    snow = "snow" in p.sc.flags
    nb = 4 + int(r.integers(0, 3))
    for b in range(nb):
        f = 0.4 + 0.58 * b / nb
        i = int(f * (len(pts) - 1))
        s = (1 if b % 2 else -1) * (1 if r.random() < 0.8 else -1)
        blen = h * (0.3 - 0.16 * f + 0.08 * r.random())
        br = _branch_path(pts[i, 0], pts[i, 1], -math.pi / 2 + s * (1.2 + 0.25 * r.random()), blen, r, k=6, curl=0.2)
        p.stroke(br, p.S * 0.0055 * (1.2 - f * 0.6), INK, 0.85, rng=r, taper="head")
        tier = br[-1]
        size = h * (0.07 + 0.03 * r.random())
        # a tier: a soft dark cushion and several needle wheels along it
        p.blob(tier[0] - s * size * 0.6, tier[1], size * 4.2, size * 1.1, r.normal(0, 0.05),
               _rgba(needle, 0.4 * p.sc.ink), r, pointed=0.25)
        for k in range(5):
            u = (k / 4 - 0.5) * 2
            _needles(p, tier[0] - s * size * 0.6 + u * size * 1.5, tier[1] + abs(u) * size * 0.2 + r.normal(0, size * 0.1),
                     size * (0.8 + 0.3 * r.random()), needle, r, snow)
    top = pts[-1]
    size = h * 0.08
    p.blob(top[0], top[1], size * 3.2, size * 1.1, 0, _rgba(needle, 0.3 * p.sc.ink), r, pointed=0.25)
    for k in range(4):
        _needles(p, top[0] + (k / 3 - 0.5) * size * 2.4, top[1] + r.normal(0, size * 0.1), size, needle, r, snow)


def _needles(p: Painter, x, y, s, col, r, snow: bool) -> None:
    """A wheel of pine needles: a dark flat cushion, needles fanning out of its centre."""
    p.blob(x, y + s * 0.1, s * 2.4, s * 0.8, r.normal(0, 0.08), _rgba(col, 0.3 * p.sc.ink), r, pointed=0.2)
    k = 13
    for j in range(k):
        ang = math.pi * (0.95 + 1.1 * (j + 0.5) / k) + r.normal(0, 0.05)
        ln = s * (0.9 + 0.4 * r.random())
        p.stroke([(x, y + s * 0.1), (x + math.cos(ang) * ln * 1.15, y + s * 0.1 + math.sin(ang) * ln * 0.55)],
                 p.S * 0.0024, col, 0.85 * p.sc.ink, taper="head", noise=0)
    if snow:
        p.blob(x, y - s * 0.3, s * 1.8, s * 0.35, 0, _rgba((250, 250, 248), 0.9), r, pointed=0.3)


def willow(p: Painter, x, y, h, r, side) -> None:
    """A willow: a short trunk, arching boughs, long hanging strands that the wind swings."""
    lean = -side * (0.1 + 0.1 * r.random())
    pts, wd = trunk(p, x, y, h * 0.55, r, lean=lean, width=p.S * 0.024, k=8)
    col = p.pal["willow"] if p.sc.colour > 0 else INK
    sway = (0.35 if "wind" in p.sc.flags else 0.05) * (1 if r.random() < 0.5 else -1)
    tips = []
    for b in range(6):
        base = pts[int((0.6 + 0.4 * r.random()) * (len(pts) - 1))]
        ang = -math.pi / 2 + (b - 2.5) * 0.35 + r.normal(0, 0.1)
        br = _branch_path(base[0], base[1], ang, h * (0.2 + 0.15 * r.random()), r, k=6, curl=0.12)
        p.stroke(br, p.S * 0.004, INK, 0.8, rng=r, taper="head")
        tips.extend(br[2:])
    for _ in range(70):
        sx, sy = tips[int(r.integers(0, len(tips)))]
        ln = h * (0.3 + 0.5 * r.random())
        k = 10
        tt = np.linspace(0, 1, k)
        xs = sx + (sway * tt ** 1.5 + r.normal(0, 0.03)) * ln
        ys = sy + tt * ln - (tt * (1 - tt)) * ln * 0.25
        p.stroke(np.stack([xs, ys], 1), p.S * 0.0016, col, 0.5 * p.sc.ink, taper="head", noise=0)
        for j in range(2, k, 2):
            p.blob(xs[j], ys[j], p.S * 0.007, p.S * 0.0025, math.pi / 2 + 0.5, _rgba(col, 0.45), r)


def leafy_tree(p: Painter, x, y, h, r, side, *, colour=None, blossom: bool = False) -> None:
    """A broad-leaved tree: a trunk that forks, crowns of leaf dots (点叶) or blossom."""
    lean = -side * 0.05 + r.normal(0, 0.05)
    pts, wd = trunk(p, x, y, h * 0.5, r, lean=lean, width=p.S * 0.02, k=8)
    crowns = []
    for b in range(4):
        base = pts[int((0.5 + 0.5 * r.random()) * (len(pts) - 1))]
        ang = -math.pi / 2 + (b - 1.5) * 0.5 + r.normal(0, 0.1)
        br = _branch_path(base[0], base[1], ang, h * (0.25 + 0.15 * r.random()), r, k=5, curl=0.2)
        p.stroke(br, p.S * 0.0045, INK, 0.85, rng=r, taper="head")
        crowns.append(br[-1])
    crowns.append(pts[-1])
    season = p.sc.season
    if colour is None:
        colour = p.pal["leaf"] if p.sc.colour > 0 else INK
    bare = season == "winter" and not blossom
    for cx, cy in crowns:
        if bare:
            for _ in range(4):
                tw = _branch_path(cx, cy, -math.pi / 2 + r.normal(0, 0.8), h * 0.1, r, k=3, curl=0.3)
                p.stroke(tw, p.S * 0.002, INK, 0.7, taper="head", noise=0)
            continue
        p.blob(cx, cy, h * 0.32, h * 0.2, r.normal(0, 0.2), _rgba(_mix(INK, colour, 0.6), 0.14 * p.sc.ink), r, pointed=0.1)
        for _ in range(30 if not blossom else 40):
            dx, dy = r.normal(0, h * 0.1), r.normal(0, h * 0.065)
            if blossom:
                _flower(p, cx + dx, cy + dy, h * (0.008 + 0.006 * r.random()), colour, r)
            else:
                c = _mix(INK, colour, 0.35 + 0.5 * r.random())
                p.blob(cx + dx, cy + dy, h * 0.036, h * 0.018, r.normal(0, 0.4), _rgba(c, 0.6 * p.sc.ink), r)
        if "snow" in p.sc.flags:
            p.blob(cx, cy - h * 0.06, h * 0.22, h * 0.05, 0, _rgba((250, 250, 248), 0.85), r, pointed=0.3)


def _flower(p: Painter, x, y, s, colour, r) -> None:
    for j in range(5):
        a = j / 5 * 2 * math.pi + r.random()
        p.draw.ellipse((x + math.cos(a) * s - s * 0.7, y + math.sin(a) * s - s * 0.7,
                        x + math.cos(a) * s + s * 0.7, y + math.sin(a) * s + s * 0.7), fill=_rgba(colour, 0.75))
    p.draw.ellipse((x - s * 0.3, y - s * 0.3, x + s * 0.3, y + s * 0.3), fill=_rgba((200, 160, 60), 0.9))


def maple(p: Painter, x, y, h, r, side) -> None:
    leafy_tree(p, x, y, h, r, side, colour=(196, 66, 40) if p.sc.colour > 0 else INK)


def trees(p: Painter, x, y, h, r, side) -> None:
    leafy_tree(p, x, y, h * 0.85, r, side)


def blossom(p: Painter, x, y, h, r, side) -> None:
    leafy_tree(p, x, y, h * 0.8, r, side, colour=p.pal["bloom"], blossom=True)


def bamboo(p: Painter, x, y, h, r, side) -> None:
    """Bamboo: jointed stalks, twigs at the joints, leaves in pointed groups (个字)."""
    col = _mix(INK, p.pal["leaf"], 0.4 if p.sc.colour > 0 else 0)
    windy = "wind" in p.sc.flags
    for k in range(3 + int(r.integers(0, 3))):
        sx = x + r.normal(0, p.S * 0.02)
        hh = h * (0.55 + 0.45 * r.random())
        tilt = (0.2 if windy else 0.06) * -side + r.normal(0, 0.05)
        segs = 6 + int(r.integers(0, 3))
        wd = p.S * (0.004 + 0.002 * r.random())
        gap = p.S * 0.0018
        for j in range(segs):
            f0, f1 = j / segs, (j + 1) / segs
            x0, y0 = sx + tilt * hh * f0 ** 1.3, y - hh * f0 - gap
            x1, y1 = sx + tilt * hh * f1 ** 1.3, y - hh * f1 + gap
            p.stroke([(x0, y0), (x1, y1)], wd * (1 - 0.35 * f0), col, 0.7 * p.sc.ink, taper="flat", noise=0)
            p.stroke([(x1 - wd * 0.7, y1 - gap), (x1 + wd * 0.7, y1 - gap)], p.S * 0.0014, INK, 0.8, taper="flat", noise=0)
            if j < segs // 3 or r.random() > 0.65:
                continue
            s = 1 if r.random() < 0.5 else -1
            tx, ty = x1 + s * p.S * 0.025, y1 - p.S * 0.012
            p.stroke([(x1, y1), (tx, ty)], p.S * 0.0012, col, 0.7, noise=0)
            for _ in range(3 + int(r.integers(0, 3))):
                a = (0.15 + 0.9 * r.random())
                dx = s * math.cos(a) + (0.6 * -side if windy else 0)
                dy = math.sin(a)
                ln = p.S * (0.03 + 0.025 * r.random())
                norm = math.hypot(dx, dy)
                pts = np.stack([tx + np.linspace(0, ln, 6) * dx / norm, ty + np.linspace(0, ln, 6) * dy / norm], 1)
                p.stroke(pts, p.S * (0.006 + 0.003 * r.random()), col, (0.55 + 0.35 * r.random()) * p.sc.ink, noise=0)


def plum(p: Painter, r, side, i: int) -> None:
    """A plum branch reaching in from the edge, dark and crooked, dotted with blossom (梅)."""
    x0 = p.W if side > 0 else 0
    y0 = p.H * (0.25 + 0.35 * r.random() + 0.15 * i)
    col = (200, 58, 70) if p.sc.colour > 0 else (250, 248, 240)
    stack = [(x0, y0, math.pi if side > 0 else 0.0, p.W * 0.35, p.S * 0.012, 0)]
    while stack:
        x, y, ang, ln, w, depth = stack.pop()
        pts = _branch_path(x, y, ang, ln, r, k=4, curl=0.35)
        p.stroke(pts, w, INK, 0.9, rng=r, taper="flat" if depth == 0 else "head")
        for px, py in pts[1:]:
            if r.random() < 0.5:
                _flower(p, px + r.normal(0, w), py + r.normal(0, w), p.S * 0.006, col, r)
        if depth < 3:
            for _ in range(2):
                j = int(r.integers(1, len(pts)))
                stack.append((pts[j, 0], pts[j, 1], ang + r.normal(0, 0.7), ln * 0.5, w * 0.55, depth + 1))


TREES = {"pine": pine, "willow": willow, "maple": maple, "trees": trees, "blossom": blossom, "bamboo": bamboo}


def building(p: Painter, kind: str, x: float, y: float, s: float, r) -> None:
    """A thatched cottage, a pavilion (posts under an up-turned roof) or a tower of three storeys
    with balconies (楼), standing on a stone base."""
    roof = _mix(INK, (70, 70, 80), 0.3)
    lw = max(1, int(s * 0.03))
    storeys = 3 if kind == "tower" else 1
    w = s * (1.0 if kind == "cottage" else 0.85)
    base_y = y
    if kind != "cottage":  # a stone platform
        p.draw.rectangle((x - w * 0.55, y - s * 0.1, x + w * 0.55, y), fill=_rgba(_mix(p.land, INK, 0.2), 1.0),
                         outline=p.inkc(0.8), width=lw)
        base_y = y - s * 0.1
    for k in range(storeys):
        hh = s * (0.45 if kind == "cottage" else 0.42 if kind == "tower" else 0.5)
        top = base_y - hh
        if kind == "cottage":
            p.draw.rectangle((x - w * 0.42, top, x + w * 0.42, base_y), fill=_rgba(p.land, 1.0), outline=p.inkc(0.8),
                             width=lw)
            p.draw.rectangle((x - w * 0.08, top + hh * 0.35, x + w * 0.08, base_y), fill=p.inkc(0.6))
        else:
            if kind == "tower":  # walls with windows, a balcony rail in front
                p.draw.rectangle((x - w * 0.4, top, x + w * 0.4, base_y), fill=_rgba(_mix(p.land, (150, 110, 80), 0.25), 1.0),
                                 outline=p.inkc(0.8), width=lw)
                for j in range(-2, 3):
                    p.draw.rectangle((x + j * w * 0.15 - w * 0.05, top + hh * 0.25, x + j * w * 0.15 + w * 0.05, top + hh * 0.6),
                                     fill=p.inkc(0.55))
                rail = base_y - hh * 0.22
                p.draw.line([(x - w * 0.5, rail), (x + w * 0.5, rail)], fill=p.inkc(0.85), width=lw)
                for j in range(-5, 6):
                    p.draw.line([(x + j * w * 0.09, rail), (x + j * w * 0.09, base_y)], fill=p.inkc(0.6), width=1)
            for j in (-0.38, 0.0, 0.38):
                p.draw.line([(x + j * w, base_y), (x + j * w, top)], fill=p.inkc(0.85), width=lw)
        # roof: up-turned eaves (or thatch on a cottage)
        rw = w * (0.8 if kind != "cottage" else 0.62)
        rh = s * (0.35 if kind == "pavilion" else 0.24 if kind == "tower" else 0.28)
        t = np.linspace(-1, 1, 24)
        eave = np.stack([x + t * rw, top - (np.abs(t) ** 6) * rh * 0.45], 1)
        if kind == "pavilion" or (kind == "tower" and k == storeys - 1):
            poly = np.concatenate([eave, [[x + rw * 0.1, top - rh * 1.1], [x - rw * 0.1, top - rh * 1.1]]])
        else:
            poly = np.concatenate([eave, np.stack([x + t[::-1] * rw * 0.5, top - rh + 0 * t], 1)])
        p.draw.polygon(poly.ravel().tolist(), fill=_rgba(roof, 0.9))
        p.stroke(eave, p.S * 0.002, INK, 0.9, noise=0)
        if kind == "cottage":
            for j in range(10):
                xx = x - rw * 0.8 + j * rw * 0.16
                p.draw.line([(xx, top - rh * 0.1), (xx + rw * 0.05, top - rh * 0.85)], fill=_rgba((200, 190, 160), 0.4), width=1)
        base_y = top - rh * 0.35
        w *= 0.85
    p.occupy(x - s, base_y - s * 0.4, x + s, y, kind)


def pagoda(p: Painter) -> None:
    """A small pagoda on the slope of the nearest mountain (寺, 塔)."""
    r = p.rng("temple")
    m = p.main[-1]
    xs, ridge = m["xs"], m["ridge"]
    i = int(len(xs) * (0.3 + 0.4 * r.random()))
    x = xs[i]
    y = ridge[i] + m["height"] * 0.3
    s = p.S * 0.045
    w = s
    for k in range(5):
        hh = s * 0.5
        p.draw.rectangle((x - w * 0.3, y - hh, x + w * 0.3, y), fill=_rgba(p.land, 1), outline=p.inkc(0.7))
        t = np.linspace(-1, 1, 12)
        eave = np.stack([x + t * w * 0.6, y - hh - (np.abs(t) ** 5) * s * 0.12], 1)
        p.draw.polygon(np.concatenate([eave, [[x + w * 0.2, y - hh - s * 0.25], [x - w * 0.2, y - hh - s * 0.25]]]).ravel().tolist(),
                       fill=p.inkc(0.75))
        y -= hh + s * 0.2
        w *= 0.85
    p.draw.line([(x, y), (x, y - s * 0.5)], fill=p.inkc(0.8), width=max(1, int(s * 0.06)))
    p.mist(y + s * 3.5, p.H * 0.015, 0.6, r, x0=x - s * 3, x1=x + s * 3)


# --------------------------------------------------------------------------- weather and birds

def rain(p: Painter) -> None:
    r = p.rng("rain")
    slant = 0.35 if "wind" in p.sc.flags else 0.12
    n = int(900 * p.S / 1000)
    for _ in range(n):
        x, y = r.random() * p.W * 1.2 - p.W * 0.1, r.random() * p.H
        ln = p.S * (0.02 + 0.03 * r.random())
        p.draw.line([(x, y), (x - slant * ln, y + ln)], fill=_rgba((90, 96, 104), 0.25 + 0.2 * r.random()), width=max(1, int(p.S * 0.0011)))


def snowfall(p: Painter) -> None:
    r = p.rng("snowfall")
    n = int(700 * p.S / 1000)
    xs, ys = r.random(n) * p.W, r.random(n) * p.H
    p.dots(xs, ys, p.S * (0.0015 + 0.003 * r.random(n) ** 2), (252, 252, 250, 225))


def frost(p: Painter) -> None:
    """Frost: a cold white bloom over the land and a scatter of rime."""
    r = p.rng("frost")
    hz = int(p.horizon)
    h = p.H - hz
    nz = noise2(r, h, p.W, 5)
    land = "water" not in p.sc.flags
    a = (0.3 if land else 0.18) * (0.65 + 0.45 * nz) * smoothstep(0.0, 0.25, np.linspace(0, 1, h)[:, None])
    p.wash(a, (238, 242, 248), (0, hz))
    n = int(500 * p.S / 1000)
    xs, ys = r.random(n) * p.W, hz + r.random(n) ** 0.7 * h
    keep = np.ones(n, bool)
    if not land:  # rime on the banks, not on the water
        keep = p.land_mask[np.minimum(p.H - 1, ys.astype(int)), np.minimum(p.W - 1, xs.astype(int))]
    p.dots(xs[keep], ys[keep], p.S * (0.0008 + 0.0014 * r.random(n)[keep]), (252, 252, 255, 150))
    # and on the hills: frost whitens the slopes (where the sky is hidden by them)
    m = int(900 * p.S / 1000)
    xs, ys = r.random(m) * p.W, r.random(m) * hz
    on = p.sky_mask[ys.astype(int), np.minimum(p.W - 1, xs.astype(int))] < 0.5
    p.dots(xs[on], ys[on], p.S * (0.001 + 0.0015 * r.random(m)[on]), (250, 252, 255, 190))
    hills = np.clip(1 - p.sky_mask[:hz], 0, 1) * 0.22 * (0.5 + noise2(r, hz, p.W, 10))
    p.wash(hills, (244, 246, 250))


def wind(p: Painter) -> None:
    """Leaves or petals blown across the picture along a gust."""
    r = p.rng("wind")
    col = p.pal["bloom"] if p.sc.season == "spring" else p.pal["leaf"] if p.sc.colour > 0 else INK
    for g in range(3):
        y0 = p.H * (0.2 + 0.25 * g + 0.1 * r.random())
        for k in range(12):
            t = k / 12 + r.random() * 0.05
            x = p.W * (0.1 + 0.8 * t)
            y = y0 - math.sin(t * math.pi) * p.H * 0.08 + r.normal(0, p.H * 0.02)
            p.blob(x, y, p.S * 0.009, p.S * 0.004, r.random() * 3, _rgba(col, 0.75), r)
        # the gust itself: a faint dry stroke
        xs = np.linspace(p.W * 0.05, p.W * 0.95, 30)
        ys = y0 - np.sin(np.linspace(0, math.pi, 30)) * p.H * 0.08 + p.H * 0.03
        p.stroke(np.stack([xs, ys], 1), p.S * 0.0014, INK, 0.16, rng=r)


def _tick(p: Painter, x, y, s, r, flip: float = 1.0, colour=INK, alpha: float = 0.85) -> None:
    """A flying bird in two strokes (the way a painter writes one)."""
    lift = r.uniform(0.2, 0.6)
    left = np.stack([x - np.linspace(0, s, 6) * flip, y - np.sin(np.linspace(0, math.pi * 0.9, 6)) * s * lift], 1)
    right = np.stack([x + np.linspace(0, s * 0.9, 6) * flip, y - np.sin(np.linspace(0, math.pi * 0.9, 6)) * s * lift * 0.9], 1)
    p.stroke(left, s * 0.22, colour, alpha, taper="head", noise=0)
    p.stroke(right, s * 0.2, colour, alpha, taper="head", noise=0)
    p.blob(x, y + s * 0.05, s * 0.35, s * 0.18, 0.0, _rgba(colour, alpha), r)


def bird(p: Painter, i: int) -> None:
    r = p.rng("birds", i)
    cx = p.W * p.sc.x("birds", i)
    x = min(p.W * 0.95, max(p.W * 0.05, cx + r.normal(0, p.W * 0.1)))
    y = p.horizon * (0.2 + 0.5 * r.random())
    s = p.S * (0.02 + 0.012 * r.random())
    col = (240, 240, 236) if p.night else INK
    _tick(p, x, y, s, r, flip=1 if r.random() < 0.5 else -1, colour=col)


def geese(p: Painter) -> None:
    """Wild geese in a line across the sky (一行)."""
    r = p.rng("geese")
    n = p.sc.n("geese")
    x0 = p.W * p.sc.x("geese")
    y0 = p.horizon * (0.2 + 0.25 * r.random())
    dx = -p.W * 0.035 * (1 if x0 > p.W / 2 else -1)
    col = (236, 236, 232) if p.night else INK
    vee = n >= 5 and r.random() < 0.5
    for k in range(n):
        if vee:
            arm = 1 if k % 2 else -1
            j = (k + 1) // 2
            x, y = x0 + dx * j, y0 + arm * p.H * 0.018 * j
        else:
            x, y = x0 + dx * k, y0 + p.H * 0.012 * k + r.normal(0, p.H * 0.004)
        _tick(p, x, y, p.S * 0.021, r, flip=-np.sign(dx), colour=col)
    p.occupy(min(x0, x0 + dx * n), y0 - p.H * 0.05, max(x0, x0 + dx * n), y0 + p.H * 0.08, "geese")


def crane(p: Painter, i: int) -> None:
    """A flying crane (鹤): white wings raised with black flight feathers, a black neck stretched
    forward to a red crown, legs trailing."""
    r = p.rng("crane", i)
    x = p.W * min(0.85, max(0.15, p.sc.x("crane", i) + 0.1 * i))
    y = p.horizon * (0.25 + 0.35 * r.random())
    s = p.S * 0.05
    f = 1 if r.random() < 0.5 else -1  # the way it flies
    white = (250, 250, 246) if not p.night else (226, 228, 232)
    t = np.linspace(0, 1, 12)

    def wing(lift: float, colour, reach: float = -0.55) -> None:
        shoulder = np.array([x + f * s * 0.05, y - s * 0.05])
        tip = np.array([x + f * s * reach, y - s * (1.25 + lift)])
        rear = np.array([x - f * s * 0.75, y - s * 0.05])
        lead = shoulder + (tip - shoulder) * t[:, None] + np.outer(np.sin(np.pi * t), [f * s * 0.25, 0])
        trail = tip + (rear - tip) * t[:, None] + np.outer(np.sin(np.pi * t), [-f * s * 0.15, s * 0.1])
        p.draw.polygon(np.concatenate([lead, trail]).ravel().tolist(), fill=_rgba(colour, 1.0))
        p.stroke(lead, p.S * 0.0022, INK, 0.55, noise=0)
        p.stroke(trail[:9], s * 0.2, INK, 0.88, taper="head", noise=0)  # black flight feathers

    wing(-0.35, _mix(white, INK, 0.18), reach=0.35)
    bx = x - f * s * 0.25
    p.blob(bx, y, s * 1.15, s * 0.36, 0.0, _rgba(white, 1.0), r, pointed=0.35)
    p.draw.arc((bx - s * 0.55, y - s * 0.17, bx + s * 0.55, y + s * 0.19), 10, 170, fill=p.inkc(0.55),
               width=max(1, int(p.S * 0.002)))
    p.blob(bx - f * s * 0.55, y + s * 0.02, s * 0.35, s * 0.16, 0.0, p.inkc(0.9), r)  # the black tail
    wing(0.0, white)
    neck = np.stack([x + f * np.linspace(s * 0.25, s * 1.05, 8), y - np.sin(np.linspace(0, 1.2, 8)) * s * 0.15], 1)
    p.stroke(neck, s * 0.1, INK, 0.92, taper="flat", noise=0)
    hx, hy = neck[-1]
    p.draw.ellipse((hx - s * 0.08, hy - s * 0.07, hx + s * 0.08, hy + s * 0.07), fill=_rgba(white, 1.0))
    p.draw.ellipse((hx - s * 0.05, hy - s * 0.08, hx + s * 0.03, hy - s * 0.02), fill=_rgba((206, 40, 36), 1.0))
    p.stroke([(hx + f * s * 0.05, hy), (hx + f * s * 0.38, hy + s * 0.04)], s * 0.05, (140, 120, 80), 0.95, taper="head",
             noise=0)
    for k in (0, 1):
        p.stroke([(bx - f * s * 0.3, y + s * 0.12), (bx - f * s * 1.25, y + s * (0.22 + 0.06 * k))], s * 0.035, INK, 0.85,
                 taper="flat", noise=0)
    p.occupy(x - s * 1.5, y - s * 1.4, x + s * 1.5, y + s * 0.4, "crane")
