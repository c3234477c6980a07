"""Built-in inputs that need nothing of the user's, for examples, the studio and the docs.

- ``photo:NAME``: the photographs that ship with scikit-image (public domain or CC0):
  astronaut, coffee, chelsea (a cat), rocket, hubble (deep field), camera (greyscale), brick.
- ``sound:NAME``: sounds made here, deterministically: ``clicks`` (a 120 bpm click track over a
  drone, 8 s), ``chimes`` (a pentatonic melody of bell tones, 8 s).
- ``poem:NAME``: classic poems (public domain): jingyesi 静夜思, jiangxue 江雪, chunxiao 春晓,
  dengguanquelou 登鹳雀楼, and tyger (Blake), sonnet18 (Shakespeare).

Each is a source scheme (:func:`yingshe.core.sources.register_scheme`), so they work wherever an
input of their kind does: ``yingshe style photo:astronaut --style builtin:starry-night``.
"""

from __future__ import annotations

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


register_scheme("photo", photo, "image")
register_scheme("sound", sound, "audio")
register_scheme("poem", poem, "text")
