"""Image sources: a file path, or a spec another mapping can render (``art:flowfield?seed=3``).

Every loaded source comes with the fingerprint that goes into the artwork's record, so
``recreate`` can tell when an input changed. Mapping packages add schemes with
:func:`register_scheme` (the algorithmic generators register ``art:``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from PIL import Image

from yingshe.core.errors import BadInput
from yingshe.core.fingerprint import sha256_bytes, sha256_file
from yingshe.core.images import open_image


@dataclass
class Source:
    image: Image.Image
    #: what the record keeps: {"source": path or spec, "sha256": ...}
    record: dict


_SCHEMES: dict[str, Callable[[str, int | None], Image.Image]] = {}
_SCHEME_RE = re.compile(r"^([a-z][a-z0-9+-]*):(?!//)(?![\\/])")


def register_scheme(scheme: str, render: Callable[[str, int | None], Image.Image]) -> None:
    """``render(rest_of_spec, size_hint)`` returns an RGB image for ``scheme:rest``."""
    _SCHEMES[scheme] = render


def is_spec(text: str) -> bool:
    m = _SCHEME_RE.match(text)
    return bool(m) and len(m.group(1)) > 1  # "C:\\x" is a Windows path, not a scheme


def load(spec: str | Path, *, what: str = "image", size_hint: int | None = None) -> Source:
    text = str(spec)
    if is_spec(text) and not Path(text).exists():
        scheme, rest = text.split(":", 1)
        if scheme not in _SCHEMES:
            from yingshe.core import registry

            registry.all_mappings()  # mapping modules register their schemes on import
        if scheme not in _SCHEMES:
            raise BadInput(f"{what} {text!r}: unknown source scheme {scheme!r} (known: {', '.join(sorted(_SCHEMES)) or 'none'})")
        if size_hint and "size=" not in rest:
            # Record the size in the spec itself, so recreate renders exactly the same image.
            rest += ("&" if "?" in rest else "?") + f"size={int(size_hint)}"
            text = f"{scheme}:{rest}"
        img = _SCHEMES[scheme](rest, size_hint).convert("RGB")
        return Source(img, {"source": text, "sha256": sha256_bytes(img.tobytes())})
    img = open_image(text, what=what)
    return Source(img, {"source": str(Path(text).resolve()), "sha256": sha256_file(text)})


def from_image(img: Image.Image, name: str = "<image>") -> Source:
    """A source for an in-memory image (Python API, studio uploads)."""
    from yingshe.core.images import to_rgb

    img = to_rgb(img)
    return Source(img, {"source": name, "sha256": sha256_bytes(img.tobytes())})
