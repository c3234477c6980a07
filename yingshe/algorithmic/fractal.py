"""Shared by the Mandelbrot and Julia generators: escape-time rendering in strips, a
high-precision reference orbit for deep zooms, and smooth (band-free) colouring."""

from __future__ import annotations

from decimal import Decimal, localcontext

import numpy as np

from yingshe.algorithmic.common import ramp
from yingshe.core.progress import Progress

#: below this pixel spacing (relative to the view's centre) float64 iteration loses detail
PERTURB_BELOW = 1e-10
#: pixels × iterations up to which numpy iterates (no numba: its first call costs ~1 s of start-up,
#: more than numpy needs for a 512 px picture); above it the compiled kernel pays for itself
NUMPY_WORK = 1.2e8


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
    r0, r1 = rows or (0, h)
    step = span / zoom / w
    out = np.empty((r1 - r0, w), np.float64)
    x0 = cx - step * (w - 1) / 2
    y0 = cy + step * (h - 1) / 2 - r0 * step
    deep = julia is None and step < PERTURB_BELOW * max(1.0, abs(cx), abs(cy))
    if deep:
        digits = int(-np.log10(step)) + 20
        ref_r, ref_i = reference_orbit(cx, cy, maxiter, digits)
        from yingshe.algorithmic import kernels

        kernels.escape_perturbed(ref_r, ref_i, len(ref_r), -step * (w - 1) / 2, step * (h - 1) / 2 - r0 * step,
                                 step, w, r1 - r0, maxiter, out)
    else:
        jr, ji = julia or (0.0, 0.0)
        if w * h * maxiter <= NUMPY_WORK:
            escape_direct_numpy(x0, y0, step, w, r1 - r0, maxiter, julia is not None, jr, ji, out)
        else:
            from yingshe.algorithmic import kernels

            kernels.escape_direct(x0, y0, step, w, r1 - r0, maxiter, julia is not None, jr, ji, out)
    return out


def escape_direct_numpy(x0, y0, step, w, h, maxiter, julia, jr, ji, out) -> None:
    """:func:`kernels.escape_direct` in numpy: the same arithmetic in the same order (so the same
    values), on all still-running pixels at once, compacted as they escape."""
    ESCAPE2 = 65536.0  # kernels.ESCAPE2 (not imported: that would load numba)

    xs = x0 + np.arange(w) * step
    ys = y0 - np.arange(h) * step
    pr = np.broadcast_to(xs[None, :], (h, w)).ravel()
    pi = np.broadcast_to(ys[:, None], (h, w)).ravel()
    res = np.full(h * w, -1.0)
    if julia:
        zr, zi = pr.copy(), pi.copy()
        cr, ci = np.full_like(pr, jr), np.full_like(pi, ji)
        idx = np.arange(h * w)
    else:
        q = (pr - 0.25) ** 2 + pi * pi
        bulbs = (q * (q + (pr - 0.25)) <= 0.25 * pi * pi) | ((pr + 1.0) ** 2 + pi * pi <= 0.0625)
        idx = np.flatnonzero(~bulbs)  # the main cardioid and period-2 bulb never escape
        zr, zi = np.zeros(idx.size), np.zeros(idx.size)
        cr, ci = pr[idx], pi[idx]
    zr2, zi2 = zr * zr, zi * zi
    done = np.zeros(idx.size, bool)  # escaped: their value is recorded, their slot reused at compaction
    n = 0
    with np.errstate(over="ignore", invalid="ignore"):  # escaped points run on until compaction
        while idx.size and n < maxiter:
            esc = (zr2 + zi2 > ESCAPE2) & ~done
            if esc.any():  # escaped before this step: n iterations done
                res[idx[esc]] = n + 1.0 - np.log2(0.5 * np.log(zr2[esc] + zi2[esc]))
                done |= esc
                if done.sum() * 4 > done.size:  # compact now and then, not at every escape
                    keep = ~done
                    idx, zr, zi, cr, ci, zr2, zi2 = (a[keep] for a in (idx, zr, zi, cr, ci, zr2, zi2))
                    done = done[keep]
            zi = 2.0 * zr * zi + ci
            zr = zr2 - zi2 + cr
            zr2, zi2 = zr * zr, zi * zi
            n += 1
    out[:] = res.reshape(h, w)  # still running after maxiter steps: -1, as in the kernel


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
