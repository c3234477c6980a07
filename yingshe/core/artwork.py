"""An Artwork: a mapping's outputs plus the full record needed to recreate it.

The record (recipe, input and weight fingerprints, version, device) is embedded in the saved
file and copied into the gallery. Saving is atomic, and the gallery row commits only after the
file is in place, so the gallery never points at a file that was not written.
"""

from __future__ import annotations

import datetime as _dt
import os
import platform
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PIL import Image

import yingshe
from yingshe.core import images
from yingshe.core.recipe import Recipe


@dataclass
class Artwork:
    mapping: str
    recipe: Recipe
    image: Image.Image | None = None
    svg: str | None = None
    text: str | None = None
    #: input name -> list of {"source": path or spec, "sha256": hex}
    inputs: dict[str, list[dict]] = field(default_factory=dict)
    #: weights name -> {"source": where it came from, "sha256": hex}
    weights: dict[str, dict] = field(default_factory=dict)
    device: str = "cpu"
    threads: int | None = None
    seconds: float = 0.0
    #: mapping-specific numbers worth keeping (final losses, iterations done...)
    summary: dict[str, Any] = field(default_factory=dict)
    #: True when the user stopped the job early; the image is the best one so far
    interrupted: bool = False
    created: str = field(default_factory=lambda: _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"))

    def record(self) -> dict:
        import torch

        return {
            "format": 1,
            "version": yingshe.__version__,
            "mapping": self.mapping,
            "recipe": self.recipe.to_dict(),
            "inputs": self.inputs,
            "weights": self.weights,
            "device": self.device,
            "threads": self.threads,
            "torch": torch.__version__.split("+")[0],
            "python": platform.python_version(),
            "created": self.created,
            "seconds": round(self.seconds, 3),
            "summary": self.summary,
            "interrupted": self.interrupted,
        }

    def save(self, path: str | os.PathLike, *, gallery: bool = True) -> Path:
        """Write the artwork (record embedded) atomically and add its gallery row."""
        if self.image is None:
            raise ValueError("this artwork has no image to save")
        record = self.record()
        if str(path) == "-":
            images.save_image(self.image, "-", record)
            return Path("-")
        path = Path(path)
        if path.suffix == "":
            path = path.with_suffix(".png")
        if not gallery:
            return images.save_image(self.image, path, record)
        from yingshe.core.gallery import Gallery

        with Gallery.open() as g:
            return g.add(record, path, lambda: images.save_image(self.image, path, record),
                         width=self.image.width, height=self.image.height)


def unique_path(path: str | os.PathLike) -> Path:
    """``path`` if free, else ``stem-1.ext``, ``stem-2.ext``... (so batch runs never overwrite)."""
    path = Path(path)
    if not path.exists():
        return path
    i = 1
    while True:
        candidate = path.with_name(f"{path.stem}-{i}{path.suffix}")
        if not candidate.exists():
            return candidate
        i += 1
