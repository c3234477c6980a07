"""Where yingshe keeps its data: ``$YINGSHE_HOME`` or a per-user data dir."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs


def home() -> Path:
    env = os.environ.get("YINGSHE_HOME")
    path = Path(env).expanduser() if env else Path(platformdirs.user_data_dir("yingshe"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def cache_dir() -> Path:
    """Downloaded weights live here (``$YINGSHE_CACHE`` or ``<home>/cache``)."""
    env = os.environ.get("YINGSHE_CACHE")
    path = Path(env).expanduser() if env else home() / "cache"
    path.mkdir(parents=True, exist_ok=True)
    return path


def gallery_dir() -> Path:
    """Default output folder for artworks made without ``-o``."""
    path = home() / "gallery"
    path.mkdir(parents=True, exist_ok=True)
    return path
