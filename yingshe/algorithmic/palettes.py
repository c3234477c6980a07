"""Colour for the generators: named palettes, palettes from images, harmony rules.

A palette is an (K, 3) float32 array of sRGB in [0, 1]; the first colour is the background.
Every generator's ``palette`` field takes a *palette spec*:

- ``ocean``                          a named palette (:data:`PALETTES`)
- ``image:PATH`` / ``image:PATH:K``  K colours (default 6) extracted from any image by k-means in
                                     OKLab (a perceptual space); the image's sha256 is recorded
- ``harmony:RULE:#RRGGBB``           colours built from a base colour by a harmony rule:
                                     complementary, triadic, analogous, split, tetradic
- ``#112233,#445566,...``            an explicit list (first = background)
"""

from __future__ import annotations

import functools

from pathlib import Path

import numpy as np

from yingshe.core.errors import BadInput

PALETTES: dict[str, tuple[str, ...]] = {
    "ocean": ("#0b1d3a", "#1f4e79", "#2e86ab", "#76c7c0", "#f4f1de", "#e9c46a"),
    "ember": ("#1a0f0a", "#6a040f", "#d00000", "#e85d04", "#faa307", "#ffe8a3"),
    "forest": ("#10200f", "#2d6a4f", "#52b788", "#95d5b2", "#d8f3dc", "#b7791f"),
    "dusk": ("#1b1035", "#4b2a6b", "#a23b72", "#f18f01", "#f6c85f", "#c7e3f0"),
    "ink": ("#f3efe6", "#1c1c1c", "#3a3a3a", "#7a7a7a", "#b23a48", "#2b4c7e"),
    "monet": ("#2f4858", "#6b8f9c", "#a7c4bc", "#e9d8a6", "#f2b880", "#c98686"),
    "mondrian": ("#f2efe6", "#d62828", "#1d3f8f", "#f7c31c", "#111111", "#f2efe6"),
    "neon": ("#07070f", "#ff2e88", "#00e0ff", "#7cff4f", "#ffe14d", "#b14dff"),
    "golden": ("#0d1b2a", "#7a4e12", "#c98b1c", "#f2c14e", "#ffe8a8", "#fff8e7"),
    "sakura": ("#fbf4f2", "#f6c1cc", "#e98aa5", "#b24c74", "#5b3a55", "#7da27e"),
    "desert": ("#f4e9d8", "#e0a96d", "#c1703d", "#8c3f24", "#4a2c2a", "#5f8b8c"),
    "glacier": ("#eef5f9", "#b9d7ea", "#6fa8cf", "#2f6f9f", "#17324d", "#c9d6df"),
    "mono": ("#0a0a0a", "#3c3c3c", "#7a7a7a", "#b4b4b4", "#e6e6e6", "#ffffff"),
    "stained": ("#141414", "#9b1d20", "#1f5f8b", "#e0a526", "#2e7d4f", "#6a3d9a"),
    "candy": ("#fff7f0", "#ff6f91", "#ff9671", "#ffc75f", "#845ec2", "#00c9a7"),
}

HARMONIES = ("complementary", "triadic", "analogous", "split", "tetradic")


# --------------------------------------------------------------------------- colour spaces

def hex_to_rgb(text: str) -> np.ndarray:
    t = text.strip().lstrip("#")
    if len(t) == 3:
        t = "".join(c * 2 for c in t)
    if len(t) != 6 or any(c not in "0123456789abcdefABCDEF" for c in t):
        raise BadInput(f"colour {text!r} is not #RRGGBB")
    return np.array([int(t[i:i + 2], 16) / 255.0 for i in (0, 2, 4)], np.float32)


def rgb_to_hex(rgb) -> str:
    r, g, b = (int(round(min(1.0, max(0.0, float(c))) * 255)) for c in rgb)
    return f"#{r:02x}{g:02x}{b:02x}"


def _to_linear(c):
    c = np.asarray(c, np.float64)
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def _to_srgb(c):
    c = np.clip(c, 0, 1)
    return np.where(c <= 0.0031308, c * 12.92, 1.055 * c ** (1 / 2.4) - 0.055)


_M1 = np.array([[0.4122214708, 0.5363325363, 0.0514459929],
                [0.2119034982, 0.6806995451, 0.1073969566],
                [0.0883024619, 0.2817188376, 0.6299787005]])
_M2 = np.array([[0.2104542553, 0.7936177850, -0.0040720468],
                [1.9779984951, -2.4285922050, 0.4505937099],
                [0.0259040371, 0.7827717662, -0.8086757660]])
_M1_INV = np.linalg.inv(_M1)
_M2_INV = np.linalg.inv(_M2)


def srgb_to_oklab(rgb) -> np.ndarray:
    """(..., 3) sRGB in [0, 1] → OKLab (L in [0, 1])."""
    lms = _to_linear(rgb) @ _M1.T
    return np.cbrt(lms) @ _M2.T


def oklab_to_srgb(lab) -> np.ndarray:
    lms = np.asarray(lab, np.float64) @ _M2_INV.T
    return _to_srgb((lms ** 3) @ _M1_INV.T)


def oklch(rgb) -> tuple[float, float, float]:
    L, a, b = srgb_to_oklab(np.asarray(rgb, np.float64))
    return float(L), float(np.hypot(a, b)), float(np.degrees(np.arctan2(b, a)) % 360)


def from_oklch(L: float, C: float, h: float) -> np.ndarray:
    # reduce chroma until the colour fits in sRGB
    for _ in range(40):
        lab = np.array([L, C * np.cos(np.radians(h)), C * np.sin(np.radians(h))])
        lms = lab @ _M2_INV.T
        lin = (lms ** 3) @ _M1_INV.T
        if lin.min() >= -1e-4 and lin.max() <= 1 + 1e-4:
            break
        C *= 0.9
    return _to_srgb(lin).astype(np.float32)


# --------------------------------------------------------------------------- harmonies & extraction

def harmony(rule: str, base) -> np.ndarray:
    """Six colours from a base colour by a harmony rule (first = a deep background)."""
    if rule not in HARMONIES:
        raise BadInput(f"unknown harmony {rule!r} (known: {', '.join(HARMONIES)})")
    L, C, h = oklch(base)
    C = max(C, 0.06)
    offsets = {"complementary": (0, 180), "triadic": (0, 120, 240), "analogous": (-30, 0, 30),
               "split": (0, 150, 210), "tetradic": (0, 90, 180, 270)}[rule]
    hues = [(h + o) % 360 for o in offsets]
    bg = from_oklch(0.2, min(C, 0.05), h)
    inks = []
    for i in range(5):
        hue = hues[i % len(hues)]
        light = (0.55, 0.72, 0.85, 0.62, 0.93)[i]
        inks.append(from_oklch(light, C * (1.0 if i < 4 else 0.4), hue))
    inks[0] = np.asarray(base, np.float32)
    return np.stack([bg] + inks).astype(np.float32)


def kmeans_oklab(rgb: np.ndarray, k: int, *, seed: int = 0, iters: int = 25) -> tuple[np.ndarray, np.ndarray]:
    """k-means of (N, 3) sRGB pixels in OKLab (k-means++ start). Returns (centres sRGB, counts)."""
    lab = srgb_to_oklab(rgb.reshape(-1, 3))
    rng = np.random.default_rng(seed)
    n = len(lab)
    k = min(k, n)
    centres = [lab[rng.integers(n)]]
    d2 = ((lab - centres[0]) ** 2).sum(1)
    for _ in range(1, k):
        total = d2.sum()
        idx = rng.choice(n, p=d2 / total) if total > 0 else rng.integers(n)
        centres.append(lab[idx])
        d2 = np.minimum(d2, ((lab - lab[idx]) ** 2).sum(1))
    c = np.array(centres)
    for _ in range(iters):
        dist = ((lab[:, None, :] - c[None]) ** 2).sum(-1)
        lbl = dist.argmin(1)
        new = np.array([lab[lbl == j].mean(0) if np.any(lbl == j) else c[j] for j in range(k)])
        if np.allclose(new, c, atol=1e-6):
            break
        c = new
    counts = np.bincount(((lab[:, None, :] - c[None]) ** 2).sum(-1).argmin(1), minlength=k)
    return oklab_to_srgb(c).astype(np.float32), counts


def extract(img, k: int = 6, *, seed: int = 0) -> np.ndarray:
    """A k-colour palette of a PIL image: the most common colour first (the background), then
    the others from darkest to lightest."""
    small = img.convert("RGB").copy()
    small.thumbnail((96, 96))
    px = np.asarray(small, np.float32).reshape(-1, 3) / 255.0
    centres, counts = kmeans_oklab(px, k, seed=seed)
    order = np.argsort(-counts, kind="stable")
    bg, rest = centres[order[0]], centres[order[1:]]
    rest = rest[np.argsort(srgb_to_oklab(rest)[:, 0], kind="stable")]
    if not len(rest):  # a one-pixel picture: its one colour, twice (a palette has two or more)
        rest = bg[None]
    return np.vstack([bg[None], rest]).astype(np.float32)


# --------------------------------------------------------------------------- specs

def check_spec(spec: str) -> None:
    """Validate a palette spec without loading anything big (raises BadInput)."""
    resolve(spec, load_images=False)


def resolve(spec: str, *, load_images: bool = True) -> tuple[np.ndarray | None, dict | None]:
    """(palette, input record or None) for a palette spec. ``image:`` specs record the file's
    sha256 (``{"source", "sha256"}``) so ``yingshe recreate`` can check it."""
    spec = spec.strip()
    if spec in PALETTES:
        return palette(spec), None
    if spec.startswith("image:"):
        rest = spec[len("image:"):]
        k = 6
        head, sep, tail = rest.rpartition(":")
        if sep and tail.isdigit() and head:
            rest, k = head, int(tail)
        if not 2 <= k <= 16:
            raise BadInput(f"--palette {spec!r}: K must be between 2 and 16")
        if not Path(rest).is_file():
            raise BadInput(f"--palette {spec!r}: image {rest!r} does not exist")
        if not load_images:
            return None, None
        from yingshe.core import sources

        src = sources.load(rest, what="palette image")
        return extract(src.image, k), src.record
    if spec.startswith("harmony:"):
        parts = spec.split(":")
        if len(parts) != 3:
            raise BadInput(f"--palette {spec!r}: expected harmony:RULE:#RRGGBB, e.g. harmony:triadic:#ff8800")
        return harmony(parts[1], hex_to_rgb(parts[2])), None
    if spec.startswith("#"):
        cols = [hex_to_rgb(c) for c in spec.split(",") if c.strip()]
        if len(cols) < 2:
            raise BadInput(f"--palette {spec!r}: give at least two colours (the first is the background)")
        return np.stack(cols).astype(np.float32), None
    raise BadInput(f"unknown palette {spec!r}: use a name ({', '.join(sorted(PALETTES))}), image:PATH, "
                   f"harmony:RULE:#RRGGBB or #hex,#hex,...")


def palette(name: str) -> np.ndarray:
    """(K, 3) float32 RGB in [0, 1] of a named palette."""
    try:
        colours = PALETTES[name]
    except KeyError:
        raise BadInput(f"unknown palette {name!r} (known: {', '.join(sorted(PALETTES))})") from None
    return np.stack([hex_to_rgb(c) for c in colours])


PALETTE_HELP = ("colour palette: a name (" + ", ".join(sorted(PALETTES)) + "), image:PATH[:K], "
                "harmony:RULE:#RRGGBB (" + "|".join(HARMONIES) + ") or #hex,#hex,... (first = background)")


#: the nine coloured squares an emoji font draws, for showing a palette in plain text
_SWATCHES = {"🟥": (221, 46, 68), "🟧": (244, 144, 12), "🟨": (253, 203, 88), "🟩": (120, 177, 89),
             "🟦": (85, 172, 238), "🟪": (170, 142, 214), "🟫": (193, 105, 79), "⬛": (40, 40, 40), "⬜": (230, 231, 232)}


_SWATCH_KEYS = tuple(_SWATCHES)
_SWATCH_RGB = np.array([_SWATCHES[k] for k in _SWATCH_KEYS], np.float64)  # (9, 3)


def swatch(name: str) -> str:
    """A palette's colours as coloured squares (the nearest of nine), e.g. 'ember ⬛🟫🟥🟧🟨'."""
    out = []
    for c in palette(name):
        rgb = np.asarray(c, np.float64) * (255.0 if np.max(c) <= 1.0 else 1.0)
        out.append(_SWATCH_KEYS[int(np.argmin(((_SWATCH_RGB - rgb) ** 2).sum(1)))])
    return "".join(out)


@functools.lru_cache(maxsize=1)
def suggestions() -> tuple:
    """(label, value) pairs for a palette dropdown: each name with its colours."""
    return tuple((f"{name} {swatch(name)}", name) for name in sorted(PALETTES))
