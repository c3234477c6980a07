"""The one check every reader of a person's file starts with."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from yingshe.core.errors import BadInput


def check_file(path: str | os.PathLike, what: str, *, kind: str = "file") -> Path:
    """``path`` as a Path if it is a non-empty regular file, else a one-line BadInput.

    It stats and never opens: opening a FIFO would block, a device would stream forever.
    """
    p = Path(path)
    name = f"{what} {str(p)!r}".strip()
    try:
        st = os.stat(p)
    except FileNotFoundError:
        raise BadInput(f"{name} does not exist") from None
    except OSError as e:
        raise BadInput(f"cannot read {name}: {e.strerror}") from None
    if stat.S_ISDIR(st.st_mode):
        raise BadInput(f"{name} is a folder, not {'an' if kind[0] in 'aeiou' else 'a'} {kind}")
    if not stat.S_ISREG(st.st_mode):
        raise BadInput(f"{name} is not a regular file (a device, pipe or socket)")
    if st.st_size == 0:
        raise BadInput(f"{name} is an empty file")
    return p


def image_folder(root: str | os.PathLike, *, what: str = "data folder") -> tuple[Path, list[Path]]:
    """(folder, its pictures): every image below ``root`` (any depth, sorted; hidden files and
    folders skipped), for training data. A missing folder, a file, or a folder without pictures
    is a one-line BadInput."""
    from yingshe.core.images import IMAGE_EXTS

    root = Path(root)
    if not root.exists():
        raise BadInput(f"{what} {str(root)!r} does not exist")
    if not root.is_dir():
        raise BadInput(f"{what} {str(root)!r} is a file; give a folder of pictures")
    paths = sorted(p for p in root.rglob("*") if p.suffix.lower() in IMAGE_EXTS and p.is_file()
                   and not any(part.startswith(".") for part in p.relative_to(root).parts))
    if not paths:
        raise BadInput(f"{what} {str(root)!r} holds no pictures (looked for {', '.join(sorted(IMAGE_EXTS))})")
    return root, paths
