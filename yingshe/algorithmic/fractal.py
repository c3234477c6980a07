"""Shared by the Mandelbrot and Julia generators: escape-time rendering in strips, a
high-precision reference orbit for deep zooms, and smooth (band-free) colouring."""

from __future__ import annotations

from decimal import Decimal, localcontext

import numpy as np

from yingshe.algorithmic.common import ramp
from yingshe.core.progress import Progress

#: below this pixel spacing (relative to the view's centre) float64 iteration loses detail
PERTURB_BELOW = 1e-10


def reference_orbit(cx: float, cy: float, maxiter: int, digits: int) -> tuple[np.ndarray, np.ndarray]:
    """Z_{n+1} = Z_n² + C at the centre, in ``digits``-digit decimal arithmetic, rounded to float64."""
    with localcontext() as ctx:
        ctx.prec = digits
        Cr, Ci = Decimal(cx), Decimal(cy)
        zr, zi = Decimal(0), Decimal(0)
        out_r, out_i = [0.0], [0.0]
        for _ in range(maxiter):
            zr, zi = zr * zr - zi * zi + Cr, 2 * zr * zi + Ci
            fr, fi = float(zr), float(zi)
            out_r.append(fr)
            out_i.append(fi)
            if fr * fr + fi * fi > 1e6:
                break
    return np.array(out_r), np.array(out_i)


def escape_field(w: int, h: int, cx: float, cy: float, zoom: float, maxiter: int, *, julia: tuple | None = None,
                 rows: tuple[int, int] | None = None, span: float = 3.0) -> np.ndarray:
    """Smooth escape values of rows [r0, r1) of a w×h view (``span`` = view width at zoom 1)."""
    from yingshe.algorithmic import kernels

    r0, r1 = rows or (0, h)
    step = span / zoom / w
    out = np.empty((r1 - r0, w), np.float64)
    x0 = cx - step * (w - 1) / 2
    y0 = cy + step * (h - 1) / 2 - r0 * step
    deep = julia is None and step < PERTURB_BELOW * max(1.0, abs(cx), abs(cy))
    if deep:
        digits = int(-np.log10(step)) + 20
        ref_r, ref_i = reference_orbit(cx, cy, maxiter, digits)
        kernels.escape_perturbed(ref_r, ref_i, len(ref_r), -step * (w - 1) / 2, step * (h - 1) / 2 - r0 * step,
                                 step, w, r1 - r0, maxiter, out)
    else:
        jr, ji = julia or (0.0, 0.0)
        kernels.escape_direct(x0, y0, step, w, r1 - r0, maxiter, julia is not None, jr, ji, out)
    return out


def colourise(nu: np.ndarray, cols: np.ndarray, density: float, offset: float) -> np.ndarray:
    """Smooth colouring: a triangle wave of sqrt(escape value) through the palette's inks, so the
    colour is continuous everywhere (no bands); points that never escape get the background."""
    inside = nu < 0
    t = np.sqrt(np.maximum(nu, 0.0)) * (0.25 * density) + offset
    t = 1.0 - np.abs(2.0 * (t - np.floor(t)) - 1.0)
    rgb = ramp(cols[1:], t)
    rgb[inside] = cols[0]
    return rgb


def render(w: int, h: int, cx: float, cy: float, zoom: float, maxiter: int, cols: np.ndarray, density: float,
           offset: float, julia: tuple | None = None, progress: Progress | None = None) -> np.ndarray:
    """(h, w, 3) uint8, computed in strips so memory stays bounded at 8192 px."""
    progress = progress or Progress()
    out = np.empty((h, w, 3), np.uint8)
    rows = max(1, 4_000_000 // w)
    progress.start(h, desc="julia" if julia else "mandelbrot")
    for r0 in range(0, h, rows):
        r1 = min(h, r0 + rows)
        nu = escape_field(w, h, cx, cy, zoom, maxiter, julia=julia, rows=(r0, r1))
        out[r0:r1] = np.clip(np.round(colourise(nu, cols, density, offset) * 255), 0, 255).astype(np.uint8)
        progress.update(r1 - r0)
    progress.close()
    return out
