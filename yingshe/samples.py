"""Built-in inputs that need nothing of the user's, for examples, the studio and the docs.

- ``photo:NAME``: the photographs that ship with scikit-image (public domain or CC0):
  astronaut, coffee, chelsea (a cat), rocket, hubble (deep field), camera (greyscale), brick.
- ``sound:NAME``: sounds made here, deterministically: ``clicks`` (a 120 bpm click track over a
  drone, 8 s), ``chimes`` (a pentatonic melody of bell tones, 8 s).
- ``sketch:NAME``: line drawings made here, like those drawn on the studio's canvas: bridge,
  haystacks, poplars, boat.
- ``poem:NAME``: classic poems (public domain): jingyesi 静夜思, jiangxue 江雪, chunxiao 春晓,
  dengguanquelou 登鹳雀楼, and tyger (Blake), sonnet18 (Shakespeare).

Each is a source scheme (:func:`yingshe.core.sources.register_scheme`), so they work wherever an
input of their kind does: ``yingshe style photo:astronaut --style builtin:starry-night``.
"""

from __future__ import annotations

import functools
import math

import numpy as np

from yingshe.core.errors import BadInput
from yingshe.core.sources import register_scheme

PHOTOS = {"astronaut": "astronaut", "coffee": "coffee", "chelsea": "chelsea", "rocket": "rocket",
          "hubble": "hubble_deep_field", "camera": "camera", "brick": "brick"}

POEMS = {
    "jingyesi": "静夜思\n床前明月光，疑是地上霜。\n举头望明月，低头思故乡。",
    "jiangxue": "江雪\n千山鸟飞绝，万径人踪灭。\n孤舟蓑笠翁，独钓寒江雪。",
    "chunxiao": "春晓\n春眠不觉晓，处处闻啼鸟。\n夜来风雨声，花落知多少。",
    "dengguanquelou": "登鹳雀楼\n白日依山尽，黄河入海流。\n欲穷千里目，更上一层楼。",
    "tyger": "Tyger Tyger, burning bright,\nIn the forests of the night;\nWhat immortal hand or eye,\n"
             "Could frame thy fearful symmetry?",
    "sonnet18": "Shall I compare thee to a summer's day?\nThou art more lovely and more temperate:\n"
                "Rough winds do shake the darling buds of May,\nAnd summer's lease hath all too short a date;",
}

SOUNDS = ("clicks", "chimes")
SKETCHES = ("bridge", "haystacks", "poplars", "boat", "smiley", "heart")
RATE = 22050


def photo(name: str, size_hint: int | None = None):
    from PIL import Image

    key = name.strip()
    if key not in PHOTOS:
        raise BadInput(f"photo:{key}: no such built-in photo (known: {', '.join(sorted(PHOTOS))})")
    import skimage.data

    a = getattr(skimage.data, PHOTOS[key])()
    img = Image.fromarray(a)
    return img.convert("RGB")


def sound(name: str, size_hint: int | None = None):
    from yingshe.core.media import Audio

    key = name.strip()
    t = np.arange(int(RATE * 8.0)) / RATE
    if key == "clicks":
        y = 0.12 * np.sin(2 * np.pi * 110 * t) * (0.7 + 0.3 * np.sin(2 * np.pi * 0.125 * t))
        rng = np.random.default_rng(0)
        for b in np.arange(0.25, 8.0, 0.5):
            i = int(b * RATE)
            n = min(len(y) - i, 700)
            y[i:i + n] += 0.7 * rng.standard_normal(n) * np.exp(-np.arange(n) / 100.0)
    elif key == "chimes":
        y = np.zeros_like(t)
        notes = [0, 2, 4, 7, 9, 12, 9, 7, 4, 2, 0, 4, 7, 12, 16, 12]
        for k, step in enumerate(notes):
            f = 261.63 * 2 ** (step / 12)
            i = int(k * 0.5 * RATE)
            n = len(y) - i
            env = np.exp(-np.arange(n) / (0.6 * RATE))
            y[i:] += 0.18 * env * (np.sin(2 * np.pi * f * t[:n]) + 0.3 * np.sin(2 * np.pi * 2.76 * f * t[:n]))
    else:
        raise BadInput(f"sound:{key}: no such built-in sound (known: {', '.join(SOUNDS)})")
    return Audio(np.clip(y, -1, 1).astype(np.float32), RATE)


def poem(name: str, size_hint: int | None = None) -> str:
    key = name.strip()
    if key not in POEMS:
        raise BadInput(f"poem:{key}: no such built-in poem (known: {', '.join(sorted(POEMS))})")
    return POEMS[key]


def sketch(name: str, size_hint: int | None = None):
    """A line drawing (3 px black pen on white, 256 px or ``size_hint``), like one made on the
    studio's canvas: bridge (a river, a bridge, trees), haystacks, poplars (by the water), boat,
    smiley, heart."""
    key = name.strip()
    if key not in SKETCHES:
        raise BadInput(f"sketch:{key}: no such built-in drawing (known: {', '.join(SKETCHES)})")
    return dict(_drawings(int(size_hint or 256)))[key].copy()  # a copy: callers may draw on it


@functools.lru_cache(maxsize=4)
def _drawings(size: int) -> tuple:
    """All the drawings at ``size`` (drawn once per size: the studio and benches ask for each)."""
    from PIL import Image, ImageDraw

    out = []
    w = 3

    def canvas():
        img = Image.new("RGB", (size, size), "white")
        return img, ImageDraw.Draw(img)

    s = size / 256
    img, d = canvas()  # a river with a bridge and trees
    d.line([(0, 150 * s), (256 * s, 140 * s)], fill="black", width=w)
    for x in (40, 110, 180):
        d.arc([x * s, 110 * s, (x + 70) * s, 190 * s], 180, 360, fill="black", width=w)
    for x in (20, 220):
        d.line([(x * s, 150 * s), (x * s, 60 * s)], fill="black", width=w)
        d.ellipse([(x - 25) * s, 20 * s, (x + 25) * s, 80 * s], outline="black", width=w)
    out.append(("bridge", img))
    img, d = canvas()  # haystacks in a field under a sun
    d.line([(0, 120 * s), (256 * s, 115 * s)], fill="black", width=w)
    for x, h in ((50, 70), (150, 55)):
        d.polygon([(x * s, 200 * s), ((x + 35) * s, (200 - h - 40) * s), ((x + 70) * s, 200 * s)], outline="black",
                  width=w)
    d.ellipse([190 * s, 30 * s, 230 * s, 70 * s], outline="black", width=w)
    out.append(("haystacks", img))
    img, d = canvas()  # poplars by the water
    d.line([(0, 190 * s), (256 * s, 190 * s)], fill="black", width=w)
    for i, x in enumerate(range(30, 240, 40)):
        d.line([(x * s, 190 * s), (x * s, (40 + 10 * i) * s)], fill="black", width=w)
        d.ellipse([(x - 14) * s, (30 + 10 * i) * s, (x + 14) * s, (110 + 10 * i) * s], outline="black", width=w)
    for y in (210, 230):
        d.line([(20 * s, y * s), (120 * s, y * s)], fill="black", width=w)
    out.append(("poplars", img))
    img, d = canvas()  # a boat on the sea, cliffs
    d.line([(0, 130 * s), (256 * s, 130 * s)], fill="black", width=w)
    d.polygon([(170 * s, 130 * s), (200 * s, 40 * s), (256 * s, 30 * s), (256 * s, 130 * s)], outline="black",
              width=w)
    d.polygon([(50 * s, 170 * s), (130 * s, 170 * s), (115 * s, 185 * s), (65 * s, 185 * s)], outline="black",
              width=w)
    d.line([(90 * s, 170 * s), (90 * s, 100 * s)], fill="black", width=w)
    d.polygon([(92 * s, 105 * s), (92 * s, 165 * s), (125 * s, 165 * s)], outline="black", width=w)
    out.append(("boat", img))
    img, d = canvas()  # a smiling face (for edges2emoji)
    d.ellipse([28 * s, 28 * s, 228 * s, 228 * s], outline="black", width=w)
    for x in (92, 164):
        d.ellipse([(x - 10) * s, 80 * s, (x + 10) * s, 112 * s], outline="black", width=w)
    d.arc([72 * s, 110 * s, 184 * s, 196 * s], 20, 160, fill="black", width=w)
    out.append(("smiley", img))
    img, d = canvas()  # a heart (for edges2emoji): the classic heart curve, x = 16 sin³t, y = 13 cos t - ...
    t = np.linspace(0, 2 * math.pi, 181)
    hx, hy = 16 * np.sin(t) ** 3, 13 * np.cos(t) - 5 * np.cos(2 * t) - 2 * np.cos(3 * t) - np.cos(4 * t)
    d.line([((128 + 6 * x) * s, (128 - 6 * y) * s) for x, y in zip(hx, hy)], fill="black", width=w, joint="curve")
    out.append(("heart", img))
    return tuple(out)


register_scheme("photo", photo, "image")
register_scheme("sound", sound, "audio")
register_scheme("poem", poem, "text")
register_scheme("sketch", sketch, "image")
