"""Benchmark of the algorithmic generators (issue 3), each next to a straightforward pure-numpy
version of the same inner loop, measured in the same run.

    nice -n 10 python bench/algorithmic.py            # everything (about 3-4 minutes on 2 cores)
    nice -n 10 python bench/algorithmic.py --quick    # smaller numpy peers, scaled up (linear in work)

Each figure is the best of ``--repeat`` runs after a warm-up (numba kernels compiled/cached first).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from yingshe.algorithmic import kernels  # noqa: E402
from yingshe.core import registry  # noqa: E402


def best(fn, repeat):
    out = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return min(out)


# ----------------------------------------------------------------- numpy peers

def numpy_mandelbrot(w, h, cx, cy, zoom, maxiter):
    """Escape-time iteration over all still-active pixels at once (compacted each step)."""
    step = 3.0 / zoom / w
    xs = cx + (np.arange(w) - (w - 1) / 2) * step
    ys = cy - (np.arange(h) - (h - 1) / 2) * step
    c = (xs[None, :] + 1j * ys[:, None]).ravel()
    z = np.zeros_like(c)
    idx = np.arange(c.size)
    out = np.full(c.size, -1.0)
    for n in range(maxiter):
        z = z * z + c
        esc = (z.real * z.real + z.imag * z.imag) > 65536.0
        if esc.any():
            out[idx[esc]] = n + 2 - np.log2(0.5 * np.log(np.abs(z[esc]) ** 2))
            keep = ~esc
            z, c, idx = z[keep], c[keep], idx[keep]
        if not idx.size:
            break
    return out.reshape(h, w)


def numpy_clifford(a, b, c, d, n, w, h, chains=10_000):
    """All chains advanced together; each step's points histogrammed with bincount."""
    rng = np.random.default_rng(0)
    x, y = rng.uniform(-0.1, 0.1, chains), rng.uniform(-0.1, 0.1, chains)
    hist = np.zeros(w * h, np.float64)
    sx, sy = w / 4.2, h / 4.2
    for _ in range(n // chains):
        x, y = np.sin(a * y) + c * np.cos(a * x), np.sin(b * x) + d * np.cos(b * y)
        px = np.clip(((x + 2.1) * sx).astype(np.int64), 0, w - 1)
        py = np.clip(((y + 2.1) * sy).astype(np.int64), 0, h - 1)
        hist += np.bincount(py * w + px, minlength=w * h)
    return hist


def numpy_gray_scott(g, steps, feed=0.0545, kill=0.062):
    """The textbook np.roll Laplacian."""
    u = np.ones((g, g), np.float32)
    v = np.zeros((g, g), np.float32)
    u[g // 2 - 8:g // 2 + 8, g // 2 - 8:g // 2 + 8] = 0.5
    v[g // 2 - 8:g // 2 + 8, g // 2 - 8:g // 2 + 8] = 0.25

    def lap(a):
        return np.roll(a, 1, 0) + np.roll(a, -1, 0) + np.roll(a, 1, 1) + np.roll(a, -1, 1) - 4 * a
    for _ in range(steps):
        uvv = u * v * v
        u, v = (u + 0.2097 * lap(u) - uvv + feed * (1 - u),
                v + 0.105 * lap(v) + uvv - (feed + kill) * v)
    return v


# ----------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="time the numpy peers on less work and scale linearly")
    ap.add_argument("--repeat", type=int, default=2)
    args = ap.parse_args()
    kernels.warm_up()
    print(f"yingshe algorithmic benchmark — {os.cpu_count()} CPU cores, numba threads: "
          f"{__import__('numba').get_num_threads()}")
    print(f"{'workload':44s} {'yingshe':>9s} {'numpy':>9s} {'ratio':>7s}  target")
    rows = []

    def report(name, ours, peer, target, note=""):
        ratio = peer / ours if peer else float("nan")
        ok = "ok" if ours <= target else "MISSED"
        print(f"{name:44s} {ours:8.2f}s {peer:8.2f}s {ratio:6.1f}x  ≤{target:g}s {ok} {note}", flush=True)
        rows.append((name, ours, peer, ratio, target))

    # Mandelbrot 1024², 500 iterations (the generator's default view)
    from yingshe.algorithmic import fractal

    m = registry.get("mandelbrot").recipe()
    m.validate()
    ours = best(lambda: fractal.escape_field(1024, 1024, m.centre_x, m.centre_y, m.zoom, 500), args.repeat)
    frac = 4 if args.quick else 1
    peer = best(lambda: numpy_mandelbrot(1024, 1024 // frac, m.centre_x, m.centre_y, m.zoom, 500), 1) * frac
    report("mandelbrot 1024² × 500 iterations (kernel)", ours, peer, 1.5, "(numpy on 1/4 rows ×4)" if args.quick else "")

    # Clifford attractor, 10⁷ points at 1024²
    from yingshe.algorithmic.attractor import AttractorRecipe, density

    a = AttractorRecipe(points=10_000_000)
    a.validate()
    ours = best(lambda: density(a, 1024, 1024), args.repeat)
    frac = 10 if args.quick else 1
    peer = best(lambda: numpy_clifford(a.a, a.b, a.c, a.d, 10_000_000 // frac, 1024, 1024), 1) * frac
    report("clifford 10⁷ points at 1024² (density)", ours, peer, 3.0, "(numpy on 10⁶ ×10)" if args.quick else "")

    # Gray–Scott 512², 10,000 steps
    u = np.ones((512, 512), np.float32)
    v = np.zeros((512, 512), np.float32)
    v[240:272, 240:272] = 0.25
    f32 = np.float32

    def ours_gs():
        kernels.gray_scott(u.copy(), v.copy(), np.empty_like(u), np.empty_like(v), f32(0.2097), f32(0.105),
                           f32(0.0545), f32(0.062), 10_000)
    ours = best(ours_gs, 1)
    frac = 20 if args.quick else 10
    peer = best(lambda: numpy_gray_scott(512, 10_000 // frac), 1) * frac
    report("gray-scott 512² × 10,000 steps", ours, peer, 15.0, f"(numpy on {10_000 // frac} steps ×{frac})")

    # every generator at its defaults, 1024² (PNG render, no saving)
    print("\nevery generator at its defaults, 1024² (full run incl. colouring and rasterising):")
    for mp in registry.all_mappings():
        if mp.family != "algorithmic":
            continue
        r = mp.recipe(size=1024) if "size" in {s.name for s in mp.recipe.params()} else mp.recipe()
        r.validate()
        t = best(lambda: mp.run(r, {}, None), args.repeat)
        ok = "ok" if t <= 5 else "MISSED"
        print(f"  {mp.name:14s} {t:6.2f}s  ≤5s {ok}", flush=True)


if __name__ == "__main__":
    main()
