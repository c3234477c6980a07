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
