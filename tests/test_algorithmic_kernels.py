"""The numba kernels compute the same thing as the plain numpy loops the benchmark compares
them with (so the benchmark's ratios compare like with like)."""

import importlib.util
import math
from pathlib import Path

import numpy as np

from yingshe.algorithmic import kernels

_spec = importlib.util.spec_from_file_location("bench_algorithmic", Path(__file__).parents[1] / "bench" / "algorithmic.py")
bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench)


def test_mandelbrot_kernel_matches_numpy():
    w, h, cx, cy, zoom, it = 48, 40, -0.745, 0.186, 60.0, 300
    step = 3.0 / zoom / w
    ours = np.empty((h, w))
    kernels.escape_direct(cx - step * (w - 1) / 2, cy + step * (h - 1) / 2, step, w, h, it, False, 0.0, 0.0, ours)
    peer = bench.numpy_mandelbrot(w, h, cx, cy, zoom, it)
    assert ((ours < 0) == (peer < 0)).mean() > 0.99
    both = (ours >= 0) & (peer >= 0)
    assert both.sum() > 100
    diff = np.abs(ours[both] - peer[both])
    # float rounding differs (complex multiply vs real formulas) and chaos amplifies it near the set
    assert np.median(diff) < 1e-9 and (diff < 1e-3).mean() > 0.99


def test_gray_scott_kernel_matches_numpy_roll_including_the_wraparound():
    rng = np.random.default_rng(0)
    g = 24
    u = (1 - rng.uniform(0, 0.5, (g, g))).astype(np.float32)
    v = rng.uniform(0, 0.3, (g, g)).astype(np.float32)
    f = np.float32
    ou, ov = kernels.gray_scott(u.copy(), v.copy(), np.empty_like(u), np.empty_like(v), f(0.2097), f(0.105),
                                f(0.0545), f(0.062), 7)

    def lap(a):
        return np.roll(a, 1, 0) + np.roll(a, -1, 0) + np.roll(a, 1, 1) + np.roll(a, -1, 1) - 4 * a
    pu, pv = u.astype(np.float64), v.astype(np.float64)
    for _ in range(7):
        uvv = pu * pv * pv
        pu, pv = pu + 0.2097 * lap(pu) - uvv + 0.0545 * (1 - pu), pv + 0.105 * lap(pv) + uvv - (0.0545 + 0.062) * pv
    assert np.abs(ou - pu).max() < 1e-4 and np.abs(ov - pv).max() < 1e-4


def test_clifford_kernel_follows_the_map():
    a, b, c, d = -1.7, 1.8, -1.9, -0.4
    out = np.zeros((1, 64, 64), np.uint32)
    kernels.attractor_density(0, a, b, c, d, np.array([0.05]), np.array([-0.05]), 5000, 0, -3.0, -3.0, 64 / 6.0,
                              64, 64, out)
    x, y = 0.05, -0.05
    ref = np.zeros((64, 64), np.uint32)
    for _ in range(5000):
        x, y = math.sin(a * y) + c * math.cos(a * x), math.sin(b * x) + d * math.cos(b * y)
        px, py = int((x + 3.0) * 64 / 6.0), int((y + 3.0) * 64 / 6.0)
        if 0 <= px < 64 and 0 <= py < 64:
            ref[py, px] += 1
    assert out[0].sum() == 5000 and (out[0] == ref).all()


def test_numpy_escape_path_equals_the_kernel():
    """Small renders iterate in numpy (no numba start-up); they must give the kernel's values."""
    from yingshe.algorithmic import fractal

    for julia, x0 in ((False, -2.1), (True, -1.6)):
        for w, h, it in ((64, 48, 100), (120, 90, 300)):
            args = (x0, 1.2, 3.0 / w, w, h, it, julia, -0.8, 0.156)
            a, b = np.empty((h, w)), np.empty((h, w))
            kernels.escape_direct(*args, a)
            fractal.escape_direct_numpy(*args, b)
            assert np.array_equal(a < 0, b < 0)
            assert np.abs(a - b).max() < 1e-12  # the same arithmetic; log2 may differ in the last bit
