"""sha256 fingerprints of files and bytes, recorded with every artwork."""

from __future__ import annotations

import hashlib
import os
from functools import lru_cache


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: str | os.PathLike) -> str:
    st = os.stat(path)
    return _sha256_file(os.fspath(os.path.abspath(path)), st.st_size, st.st_mtime_ns)


@lru_cache(maxsize=256)
def _sha256_file(path: str, size: int, mtime_ns: int) -> str:  # size/mtime key the cache
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()
