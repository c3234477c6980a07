import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"


@pytest.fixture(autouse=True)
def yingshe_home(tmp_path, monkeypatch):
    """Every test gets its own gallery/cache so tests never see each other's artworks."""
    home = tmp_path / "home"
    monkeypatch.setenv("YINGSHE_HOME", str(home))
    monkeypatch.setenv("YINGSHE_OFFLINE", "1")
    return home


def _pattern(w, h, seed):
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w] / max(w, h)
    base = np.stack([np.sin(xx * 9 + seed), np.cos(yy * 7 - seed), np.sin((xx + yy) * 5)], -1)
    img = (base * 0.4 + 0.5 + rng.normal(0, 0.05, (h, w, 3))).clip(0, 1)
    return Image.fromarray((img * 255).astype(np.uint8), "RGB")


@pytest.fixture
def content_png(tmp_path):
    p = tmp_path / "content.png"
    _pattern(80, 60, 1).save(p)
    return p


@pytest.fixture
def style_png(tmp_path):
    p = tmp_path / "style.png"
    rng = np.random.default_rng(2)
    a = (rng.random((48, 48, 3)) > 0.5).astype(np.uint8) * 255
    Image.fromarray(a, "RGB").resize((64, 64), Image.NEAREST).save(p)
    return p


@pytest.fixture
def style2_png(tmp_path):
    p = tmp_path / "style2.png"
    _pattern(64, 64, 5).save(p)
    return p


def run_cli(*args, input=None, env=None, cwd=None):
    """Run the real `yingshe` console entry point in a subprocess."""
    e = dict(os.environ)
    if env:
        e.update(env)
    return subprocess.run([sys.executable, "-m", "yingshe", *map(str, args)], capture_output=True,
                          input=input, env=e, cwd=cwd, timeout=600)
