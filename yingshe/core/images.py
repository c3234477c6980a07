"""Image I/O: safe loading of anything Pillow reads, atomic writes, plain PNG snapshots.

(Artworks are saved through :mod:`yingshe.core.writers` and their records read back by
:mod:`yingshe.core.records`.) Loading refuses, with a one-line :class:`BadInput`, everything a
user can hand us by mistake: missing paths, folders, empty/truncated/corrupt files, non-images, decompression bombs and
absurd sizes. Odd-but-valid files are converted sensibly: EXIF rotation applied, CMYK, 16-bit,
float, palette, 1-bit and greyscale to RGB, alpha composited on white, first frame of animations.
"""

from __future__ import annotations

import io
import json
import os
import sys
import tempfile
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, PngImagePlugin, UnidentifiedImageError

from yingshe.core.errors import BadInput

#: Refuse images with more pixels than this (Pillow's own bomb limit is 89 MP; ours is lower:
#: a 64 MP photo is already far beyond what a style transfer can use). ``$YINGSHE_MAX_PIXELS``.
MAX_PIXELS = int(os.environ.get("YINGSHE_MAX_PIXELS", 64_000_000))
#: The PNG text key that carries a yingshe record.
RECORD_KEY = "yingshe"
#: Picture files yingshe looks for in a folder (and takes as uploads).
IMAGE_EXTS = (".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff", ".gif")


def open_image(path: str | os.PathLike, *, what: str = "image") -> Image.Image:
    """Open ``path`` as an 8-bit RGB image or raise :class:`BadInput` with a one-line reason."""
    from yingshe.core.files import check_file

    p = check_file(path, what, kind="image file")
    try:
        data = p.read_bytes()
    except OSError as e:
        raise BadInput(f"cannot read {what} {str(p)!r}: {e.strerror}") from None
    return decode_image(data, name=str(p), what=what)


def decode_image(data: bytes, *, name: str = "<bytes>", what: str = "image") -> Image.Image:
    """Decode image bytes to RGB (see :func:`open_image`)."""
    if not data:
        raise BadInput(f"{what} {name!r} is empty")
    old_limit = Image.MAX_IMAGE_PIXELS
    Image.MAX_IMAGE_PIXELS = MAX_PIXELS
    try:
        with warnings.catch_warnings():
            # Pillow warns between 1x and 2x its limit; we treat any excess as a bomb.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data))
            w, h = img.size
            if w < 1 or h < 1:
                raise BadInput(f"{what} {name!r} has no pixels ({w}x{h})")
            if w * h > MAX_PIXELS:
                raise BadInput(f"{what} {name!r} is {w}x{h}: more than the {MAX_PIXELS:,}-pixel limit")
            img.seek(0)  # animated GIF/WebP/APNG: the first frame
            img = ImageOps.exif_transpose(img)  # honour the camera's orientation tag
            img.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise BadInput(f"{what} {name!r} is too large to decode safely (decompression bomb?)") from None
    except UnidentifiedImageError:
        raise BadInput(f"{what} {name!r} is not an image Pillow can read") from None
    except (OSError, SyntaxError, ValueError, EOFError) as e:
        raise BadInput(f"{what} {name!r} is truncated or corrupt ({str(e).splitlines()[0] if str(e) else type(e).__name__})") from None
    finally:
        Image.MAX_IMAGE_PIXELS = old_limit
    return to_rgb(img)


def to_rgb(img: Image.Image) -> Image.Image:
    """Convert any Pillow mode to 8-bit RGB, compositing transparency on white."""
    mode = img.mode
    if mode == "RGB":
        return img
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        # Pillow's convert("L") clips these to 0..255; rescale the real range instead.
        a = np.asarray(img, dtype=np.float64)
        if mode.startswith("I;16"):
            a = a / 257.0
        else:
            lo, hi = float(np.nanmin(a)), float(np.nanmax(a))
            a = (a - lo) / (hi - lo) * 255.0 if hi > lo else np.zeros_like(a)
        g = Image.fromarray(np.clip(np.round(a), 0, 255).astype(np.uint8), "L")
        return g.convert("RGB")
    if mode == "P":
        img = img.convert("RGBA" if "transparency" in img.info else "RGB")
    elif mode in ("1", "CMYK", "YCbCr", "LAB", "HSV"):
        img = img.convert("RGB")
    elif mode in ("PA", "La"):
        img = img.convert("RGBA")
    if img.mode in ("LA", "RGBa"):
        img = img.convert("RGBA")
    if img.mode == "RGBA":
        white = Image.new("RGBA", img.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, img).convert("RGB")
    return img.convert("RGB")


def resize_longest(img: Image.Image, longest: int) -> Image.Image:
    """Resize so the longest side is ``longest`` px (Lanczos down, bicubic up)."""
    w, h = img.size
    s = longest / max(w, h)
    size = (max(1, round(w * s)), max(1, round(h * s)))
    if size == img.size:
        return img
    return img.resize(size, Image.LANCZOS if s < 1 else Image.BICUBIC)


def centre_square(img: Image.Image, size: int) -> Image.Image:
    """The largest centred square of ``img`` at ``size`` px (Lanczos down, bicubic up): how
    training data is cut to shape."""
    w, h = img.size
    s = min(w, h)
    left, top = (w - s) // 2, (h - s) // 2
    img = img.crop((left, top, left + s, top + s))
    if s != size:
        img = img.resize((size, size), Image.LANCZOS if s > size else Image.BICUBIC)
    return img


def to_array01(img: Image.Image) -> np.ndarray:
    """(H, W, 3) float32 in [0, 1]."""
    return np.asarray(img, dtype=np.float32) / 255.0


def from_array01(a: np.ndarray) -> Image.Image:
    return Image.fromarray(np.clip(np.round(a * 255.0), 0, 255).astype(np.uint8), "RGB")


# --------------------------------------------------------------------------- saving

def atomic_write(path: str | os.PathLike, write) -> Path:
    """Call ``write(fileobj)`` on a temp file beside ``path``, fsync, then rename over ``path``.

    An interrupt or crash leaves either the old file or the new one, never half of one.
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    except FileExistsError as e:  # a file stands where a folder of the path must be
        raise NotADirectoryError(e.errno, "cannot make a folder where a file is", e.filename) from None
    except OSError as e:  # say the file asked for, not the temporary one beside it
        raise type(e)(e.errno, f"cannot write {path}: {e.strerror}") from None
    try:
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; outputs should be like any file
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    return path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def png_bytes(img: Image.Image, record: dict | None = None) -> bytes:
    buf = io.BytesIO()
    _save_png(img, buf, record)
    return buf.getvalue()


def _save_png(img: Image.Image, f, record: dict | None) -> None:
    info = PngImagePlugin.PngInfo()
    if record is not None:
        # iTXt (UTF-8), so recipes with non-ASCII text (poems, paths) survive.
        info.add_itxt(RECORD_KEY, json.dumps(record, ensure_ascii=False, sort_keys=True))
        info.add_text("Software", f"yingshe {record.get('version', '')}".strip())
    img.save(f, format="PNG", pnginfo=info, compress_level=6)


SIDECAR_FORMATS = {".jpg": "JPEG", ".jpeg": "JPEG", ".webp": "WEBP", ".tif": "TIFF", ".tiff": "TIFF", ".bmp": "BMP"}


def save_image(img: Image.Image, path: str | os.PathLike, record: dict | None = None) -> Path:
    """Save atomically with ``record`` embedded (PNG) or as a sidecar ``.json`` (other formats).

    ``path == "-"`` writes PNG bytes to stdout.
    """
    if str(path) == "-":
        sys.stdout.buffer.write(png_bytes(img, record))
        sys.stdout.buffer.flush()
        return Path("-")
    path = Path(path)
    ext = path.suffix.lower()
    if ext == ".png" or ext == "":
        if ext == "":
            path = path.with_suffix(".png")
        return atomic_write(path, lambda f: _save_png(img, f, record))
    if ext not in SIDECAR_FORMATS:
        raise BadInput(f"cannot write {ext!r} images; use .png, .jpg, .webp, .tif or .bmp")
    fmt = SIDECAR_FORMATS[ext]
    kwargs = {"quality": 95} if fmt in ("JPEG", "WEBP") else {}
    if record is not None:
        atomic_write(sidecar_path(path), lambda f: f.write(json.dumps(record, ensure_ascii=False, indent=2, sort_keys=True).encode()))
    return atomic_write(path, lambda f: img.save(f, format=fmt, **kwargs))


def sidecar_path(path: str | os.PathLike) -> Path:
    from yingshe.core.records import sidecar_path as _sidecar

    return _sidecar(path)
