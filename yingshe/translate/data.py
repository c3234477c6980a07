"""Any folder of pictures → paired training data for pix2pix, held in memory as uint8.

Each picture is centre-cropped to a square and resized to the *load size* (``size × 286 / 256``,
the paper's 286 for 256: the room random jitter crops from), then its input A is made once at
that size with the ``--pairs`` transform (:mod:`yingshe.translate.pairs`), or read from the left
(AtoB) half of an A|B file. A held-out share of the files, chosen by the sha256 of their names
(the same files for every seed, and stable when files are added), is kept apart at ``size``
for validation, its A made at that size exactly as ``translate`` makes it.

Batches are plain tensor ops, so they are made wherever the data lives (the GPU when training on
one): a random crop per picture, the same for A and B, random mirroring, and for edges a random
line thickness (1, 2 or 3 px, so drawn strokes look familiar).
"""

from __future__ import annotations

import hashlib
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from yingshe.core.errors import BadInput, YingsheError
from yingshe.core.files import image_folder
from yingshe.core.images import centre_square
from yingshe.translate import pairs as P



def load_size(size: int) -> int:
    """The paper's 286 for 256 (random jitter room), at the same ratio for other sizes."""
    return int(round(size * 286 / 256))


@dataclass
class PairSet:
    a: torch.Tensor  # (N, 3, L, L) uint8 inputs
    b: torch.Tensor  # (N, 3, L, L) uint8 targets
    names: list[str]  # paths relative to the data folder

    def __len__(self) -> int:
        return self.b.shape[0]

    def to(self, device) -> "PairSet":
        return PairSet(self.a.to(device), self.b.to(device), self.names)


@dataclass
class PairData:
    train: PairSet  # at load size, for jittered crops
    val: PairSet  # at size, the held-out pictures
    pairs: str
    size: int
    root: str
    skipped: list[str] = field(default_factory=list)  # "path: why"


def held_out(names: list[str], fraction: float) -> set[str]:
    """The ``fraction`` of names with the smallest sha256 (at least one when fraction > 0 and
    there are two or more names)."""
    if fraction <= 0 or len(names) < 2:
        return set()
    k = min(len(names) - 1, max(1, int(round(fraction * len(names)))))
    return set(sorted(names, key=lambda n: hashlib.sha256(n.encode()).hexdigest())[:k])


def _square(img: Image.Image, side: int) -> np.ndarray:
    return np.asarray(centre_square(img, side).convert("RGB"), dtype=np.uint8)


def _read(path: Path, pairs: str, direction: str, side: int, min_side: int):
    """(A, B) uint8 arrays at ``side``, or a reason string why the file is not used."""
    from yingshe.core.images import open_image

    try:
        img = open_image(path)
    except (YingsheError, OSError, ValueError) as e:
        return f"unreadable ({str(e).splitlines()[0][:80]})"
    w, h = img.size
    if pairs == "aligned":
        if not 1.6 <= w / h <= 2.4:
            return f"{w}x{h} is not an A|B pair side by side (width about twice the height)"
        halves = img.crop((0, 0, w // 2, h)), img.crop((w // 2, 0, w // 2 * 2, h))
        if min(w // 2, h) < min_side:
            return f"too small ({w // 2}x{h} per half; at least {min_side} px wanted)"
        a, b = (_square(x, side) for x in halves)
        return (b, a) if direction == "BtoA" else (a, b)
    if min(w, h) < min_side:
        return f"too small ({w}x{h}; at least {min_side} px wanted)"
    b = _square(img, side)
    return P.make_input(pairs, b), b


def load_pairs(root: str | os.PathLike, pairs: str, size: int, *, direction: str = "AtoB",
               val_fraction: float = 0.1, jitter: bool = True, workers: int = 4, progress=None) -> PairData:
    """Read a folder into :class:`PairData` (see the module docstring). Files that cannot be used
    (unreadable, too small, not A|B) are skipped and listed; none usable is a BadInput."""
    P.check_pairs(pairs)
    root_p, paths = image_folder(root)
    names = [str(p.relative_to(root_p)) for p in paths]
    val_names = held_out(names, val_fraction)
    side_train = load_size(size) if jitter else size
    min_side = max(16, size // 2)
    if progress:
        progress.start(len(paths), "reading pictures")

    def one(i: int):
        return _read(paths[i], pairs, direction, size if names[i] in val_names else side_train, min_side)

    train: tuple[list, list, list] = ([], [], [])
    val: tuple[list, list, list] = ([], [], [])
    skipped: list[str] = []
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for name, got in zip(names, pool.map(one, range(len(paths)))):
            if progress:
                progress.update(1)
            if isinstance(got, str):
                skipped.append(f"{name}: {got}")
                continue
            dest = val if name in val_names else train
            dest[0].append(got[0])
            dest[1].append(got[1])
            dest[2].append(name)
    if progress:
        progress.close()
    if not train[1]:
        why = skipped[0].split(": ", 1)[1] if skipped else "none left after the held-out split"
        raise BadInput(f"data folder {str(root)!r}: no usable pictures for training among {len(paths)} file(s) "
                       f"(the first: {why})")

    def stack(part, side) -> PairSet:
        if not part[1]:
            empty = torch.zeros(0, 3, side, side, dtype=torch.uint8)
            return PairSet(empty, empty.clone(), [])
        t = lambda xs: torch.from_numpy(np.stack(xs)).permute(0, 3, 1, 2).contiguous()  # noqa: E731
        return PairSet(t(part[0]), t(part[1]), part[2])

    return PairData(stack(train, side_train), stack(val, size), pairs, size, str(root_p.resolve()), skipped)


def to_unit(x: torch.Tensor) -> torch.Tensor:
    """uint8 → float in [-1, 1]."""
    return x.float().div_(127.5).sub_(1.0)


def jittered_batch(data: PairSet, idx: torch.Tensor, crop: int, *, flip: bool, thicken: bool) -> tuple:
    """(A, B) in [-1, 1], (n, 3, crop, crop): a random crop per picture (the same for A and B),
    random mirroring, and (``thicken``) a random line thickness of 1, 2 or 3 px for A.
    Random numbers come from torch's global generator (the trainer seeds it every step)."""
    n, L = idx.numel(), data.b.shape[-1]
    off = torch.randint(0, L - crop + 1, (n, 2))
    mirror = torch.rand(n) < 0.5 if flip else torch.zeros(n, dtype=torch.bool)
    thick = torch.multinomial(torch.tensor([0.5, 0.25, 0.25]), n, replacement=True) + 1 if thicken else None
    idx = idx.to(data.b.device)
    a_all, b_all = data.a[idx], data.b[idx]  # (n, 3, L, L) uint8
    a_out, b_out = [], []
    for i in range(n):
        y, x = int(off[i, 0]), int(off[i, 1])
        a, b = a_all[i, :, y:y + crop, x:x + crop], b_all[i, :, y:y + crop, x:x + crop]
        if mirror[i]:
            a, b = a.flip(-1), b.flip(-1)
        if thick is not None and int(thick[i]) > 1:
            a = thicken_lines(a, int(thick[i]))
        a_out.append(a)
        b_out.append(b)
    return to_unit(torch.stack(a_out)), to_unit(torch.stack(b_out))


def thicken_lines(a: torch.Tensor, t: int) -> torch.Tensor:
    """Dark lines on a light ground, ``t`` px thick: a t×t minimum filter. (3, H, W) uint8."""
    ink = (255 - a).float().unsqueeze(0)  # lines are bright in ink
    ink = F.max_pool2d(F.pad(ink, ((t - 1) // 2, t // 2, (t - 1) // 2, t // 2)), t, stride=1)
    return (255 - ink.squeeze(0)).to(torch.uint8)


__all__ = ["PairSet", "PairData", "load_pairs", "load_size", "held_out", "jittered_batch", "thicken_lines",
           "to_unit"]
