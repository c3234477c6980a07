"""An Artwork: a mapping's outputs plus the full record needed to recreate it.

The record (recipe, input and weight fingerprints, version, device) is embedded in the saved
file and copied into the gallery. Saving is atomic, and the gallery row commits only after the
file is in place, so the gallery never points at a file that was not written.
"""

from __future__ import annotations

import datetime as _dt
import json
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
    #: animation frames (saved as .gif or .mp4) and their rate
    frames: list[Image.Image] | None = None
    fps: float = 12.0
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

    def record(self, *, timings: bool = True) -> dict:
        """The artwork's record. ``timings=False`` leaves out when it was made and how long it
        took: that is the version embedded in files, so the same recipe gives the same bytes
        (the gallery row keeps the timings)."""
        import torch

        record = {
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
        if not timings:
            del record["created"], record["seconds"]
        return record

    def save(self, path: str | os.PathLike, *, gallery: bool = True) -> Path:
        """Write the artwork (record embedded) atomically and add its gallery row.

        ``.svg`` writes the vector drawing, ``.gif``/``.mp4`` the animation frames; those formats
        get the record in a ``.json`` sidecar."""
        if str(path) != "-" and Path(path).suffix.lower() in MEDIA_FORMATS:
            return self._save_media(Path(path), gallery)
        if self.image is None:
            raise ValueError("this artwork has no image to save")
        embedded = self.record(timings=False)
        if str(path) == "-":
            images.save_image(self.image, "-", embedded)
            return Path("-")
        path = Path(path)
        if path.suffix == "":
            path = path.with_suffix(".png")
        if not gallery:
            return images.save_image(self.image, path, embedded)
        from yingshe.core.gallery import Gallery

        with Gallery.open() as g:
            return g.add(self.record(), path, lambda: images.save_image(self.image, path, embedded),
                         width=self.image.width, height=self.image.height)

    def _save_media(self, path: Path, gallery: bool) -> Path:
        from yingshe.core.errors import BadInput

        ext = path.suffix.lower()
        if ext == ".svg" and self.svg is None and callable(getattr(self, "make_svg", None)):
            self.svg = self.make_svg()  # vector drawings are serialised only when saved as SVG
        if ext == ".svg" and self.svg is None:
            raise BadInput(f"{self.mapping} draws no vector picture; save it as .png instead of .svg")
        if ext in (".gif", ".mp4") and not self.frames:
            raise BadInput(f"{path.name}: this artwork is a still picture; use --animate for {ext} or save as .png")
        record = self.record()
        embedded = self.record(timings=False)
        first = self.frames[0] if ext != ".svg" else self.image
        width, height = (first.width, first.height) if first is not None else (None, None)

        data = _encode_media(self, ext)  # before the gallery transaction: encoding can take a while

        def write() -> Path:
            images.atomic_write(images.sidecar_path(path), lambda f: f.write(
                json.dumps(embedded, ensure_ascii=False, indent=2, sort_keys=True).encode()))
            return images.atomic_write(path, lambda f: f.write(data))

        if not gallery:
            return write()
        from yingshe.core.gallery import Gallery

        with Gallery.open() as g:
            return g.add(record, path, write, width=width, height=height)


#: formats whose record goes into a sidecar ``.json`` (vector drawings and animations)
MEDIA_FORMATS = (".svg", ".gif", ".mp4")


def _encode_media(art: Artwork, ext: str) -> bytes:
    """Deterministic bytes for an SVG, GIF or MP4 (same frames → same bytes)."""
    import io

    if ext == ".svg":
        return art.svg.encode("utf-8")
    frames = [f.convert("RGB") for f in art.frames]
    if ext == ".gif":
        buf = io.BytesIO()
        pal = [f.quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE) for f in frames]
        pal[0].save(buf, format="GIF", save_all=True, append_images=pal[1:], loop=0,
                    duration=max(20, int(round(1000 / art.fps))), optimize=False, disposal=1)
        return buf.getvalue()
    import tempfile

    import numpy as np
    try:
        import imageio_ffmpeg
    except ImportError:
        from yingshe.core.errors import BadInput

        raise BadInput("MP4 needs imageio-ffmpeg: pip install 'yingshe[video]' (or save as .gif)") from None
    w, h = frames[0].size
    w2, h2 = w + (w % 2), h + (h % 2)  # H.264 wants even sizes
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "out.mp4")
        writer = imageio_ffmpeg.write_frames(
            out, (w2, h2), fps=art.fps, codec="libx264", pix_fmt_out="yuv420p", quality=None, bitrate=None,
            macro_block_size=1, ffmpeg_log_level="error",
            output_params=["-crf", "18", "-threads", "1", "-fflags", "+bitexact", "-flags:v", "+bitexact",
                           "-map_metadata", "-1"])
        writer.send(None)
        for f in frames:
            a = np.asarray(f)
            if (w2, h2) != (w, h):
                a = np.pad(a, ((0, h2 - h), (0, w2 - w), (0, 0)), mode="edge")
            writer.send(np.ascontiguousarray(a))
        writer.close()
        with open(out, "rb") as fh:
            return fh.read()


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
