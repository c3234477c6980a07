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


def measured_colours(img) -> tuple[np.ndarray, list[np.ndarray]]:
    """(background, foreground candidates best first) of a picture: the most common colour,
    then the other k-means (OKLab) colours ranked by how common and how different they are."""
    small = img.convert("RGB").copy()
    small.thumbnail((40, 40))
    px = np.asarray(small, np.float32).reshape(-1, 3) / 255.0
    centres, counts = kmeans_oklab(px, 5, seed=0, iters=12)
    from yingshe.algorithmic.palettes import srgb_to_oklab

    lab = srgb_to_oklab(centres.astype(np.float64))
    bg = int(np.argmax(counts))
    dist = np.sqrt(((lab - lab[bg]) ** 2).sum(1))
    others = [i for i in range(len(centres)) if i != bg and counts[i] > 0]
    far = sorted((i for i in others if dist[i] > 0.12), key=lambda i: -counts[i] * dist[i])
    near = sorted((i for i in others if dist[i] <= 0.12), key=lambda i: -dist[i])
    return centres[bg], [centres[i] for i in far + near]


def caption(noun: str, img) -> str:
    """"<foreground colour> <noun> on a <background colour> background", from measured colours."""
    bg, fgs = measured_colours(img)
    bg_name = colour_name(bg)
    for fg in fgs:
        name = colour_name(fg)
        if name != bg_name:
            return f"{name} {noun} on a {bg_name} background"
    return f"{noun} in {bg_name} tones"
