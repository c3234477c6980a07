"""Any folder of images → a small in-memory dataset for GAN/VAE training.

The folder is scanned recursively; every file Pillow can read is centre-cropped to a square,
resized to the training size and kept as uint8 (64 px: 12 KB per image, so 100k images fit in
1.2 GB). Files that cannot be read are skipped and counted, never fatal. When every image sits
in a first-level sub-folder (``DATA/<class>/...``, e.g. a dataset made by ``yingshe dataset``),
the sub-folder names are the class labels for the conditional GAN.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from yingshe.core.errors import BadInput, YingsheError
from yingshe.core.files import image_folder
from yingshe.core.images import centre_square


@dataclass
class ImageDataset:
    images: torch.Tensor  # (N, 3, S, S) uint8
    labels: torch.Tensor  # (N,) int64; all zero when unlabelled
    classes: list[str]
    skipped: list[str] = field(default_factory=list)
    root: str = ""

    def __len__(self) -> int:
        return self.images.shape[0]

    def to(self, device) -> "ImageDataset":
        """The same dataset with its tensors on ``device`` (uint8 stays uint8: 12 KB per 64 px image)."""
        return ImageDataset(self.images.to(device), self.labels.to(device), self.classes, self.skipped, self.root)

    def batch(self, idx: torch.Tensor, flip: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Images in [-1, 1] (float32) and labels for the indices; ``flip`` (bool per image)
        mirrors left-right. Works wherever the dataset lives (indices are moved to it)."""
        idx = idx.to(self.images.device)
        x = self.images[idx].float().div_(127.5).sub_(1.0)
        if flip is not None:
            flip = flip.to(x.device)
            x = torch.where(flip.view(-1, 1, 1, 1), x.flip(3), x)  # no host sync, unlike x[flip]
        return x, self.labels[idx]


def _load_one(path: Path, size: int):
    from yingshe.core.images import open_image

    try:
        return np.asarray(centre_square(open_image(path), size), dtype=np.uint8)
    except (YingsheError, OSError, ValueError):
        return None


def load_folder(root: str | os.PathLike, size: int, *, workers: int = 4, labels: bool = True,
                progress=None) -> ImageDataset:
    root, paths = image_folder(root)
    classes: list[str] = []
    names = [p.relative_to(root).parts for p in paths]
    if labels and all(len(n) >= 2 for n in names):
        classes = sorted({n[0] for n in names})
    cls_index = {c: i for i, c in enumerate(classes)}
    arrays, labs, skipped = [], [], []
    if progress:
        progress.start(len(paths), "reading images")
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for path, name, arr in zip(paths, names, pool.map(lambda p: _load_one(p, size), paths)):
            if progress:
                progress.update(1)
            if arr is None:
                skipped.append(str(path))
                continue
            arrays.append(arr)
            labs.append(cls_index[name[0]] if classes else 0)
    if progress:
        progress.close()
    if not arrays:
        raise BadInput(f"data folder {str(root)!r}: none of its {len(paths)} image file(s) could be read")
    images = torch.from_numpy(np.stack(arrays)).permute(0, 3, 1, 2).contiguous()
    return ImageDataset(images, torch.tensor(labs, dtype=torch.long), classes, skipped, str(root.resolve()))
