"""Natural captions for generated pictures: words from the recipe + colours measured in the image
("golden attractor swirls on a deep blue background")."""

from __future__ import annotations

import numpy as np

from yingshe.algorithmic.palettes import kmeans_oklab, oklch

#: (upper hue bound in OKLCh degrees, name), checked in order
_HUES = [(15, "pink"), (45, "red"), (70, "orange"), (112, "yellow"), (165, "green"), (215, "teal"),
         (275, "blue"), (320, "purple"), (350, "magenta"), (361, "pink")]


def colour_name(rgb) -> str:
    """A plain-English name for an sRGB colour in [0, 1] ("deep blue", "golden", "pale grey")."""
    L, C, h = oklch(np.asarray(rgb, np.float64))
    if C < 0.035:
        if L < 0.25:
            return "black"
        if L < 0.45:
            return "charcoal"
        if L < 0.75:
            return "grey"
        if L < 0.93:
            return "silver"
        return "white"
    hue = next(name for bound, name in _HUES if h < bound)
    if hue in ("orange", "yellow") and 0.55 <= L < 0.9 and C >= 0.08 and 60 <= h < 100:
        return "golden"
    if hue in ("orange", "red", "yellow") and L < 0.5:
        return "brown" if L >= 0.3 else "dark brown"
    if L < 0.35:
        prefix = "deep "
    elif L < 0.5:
        prefix = "dark "
    elif L > 0.88:
        prefix = "pale "
    elif L > 0.75:
        prefix = "light "
    else:
        prefix = "muted " if C < 0.07 else ""
    return prefix + hue


def measured_colours(img) -> tuple[np.ndarray, np.ndarray]:
    """(background, main foreground colour) of a picture: the most common colour, and the most
    common colour clearly different from it (k-means in OKLab)."""
    small = img.convert("RGB").copy()
    small.thumbnail((40, 40))
    px = np.asarray(small, np.float32).reshape(-1, 3) / 255.0
    centres, counts = kmeans_oklab(px, 5, seed=0, iters=12)
    from yingshe.algorithmic.palettes import srgb_to_oklab

    lab = srgb_to_oklab(centres.astype(np.float64))
    bg = int(np.argmax(counts))
    dist = np.sqrt(((lab - lab[bg]) ** 2).sum(1))
    far = [i for i in range(len(centres)) if i != bg and dist[i] > 0.12 and counts[i] > 0]
    fg = max(far, key=lambda i: counts[i] * dist[i]) if far else int(np.argmax(dist))
    return centres[bg], centres[fg]


def caption(noun: str, img) -> str:
    bg, fg = measured_colours(img)
    return f"{colour_name(fg)} {noun} on a {colour_name(bg)} background"
