"""numba kernels for the generators' inner loops (compiled once, cached on disk).

Each kernel has a straightforward pure-numpy twin in ``bench/algorithmic.py`` that the
benchmark measures side by side. Kernels are deterministic: parallel loops only split
independent rows or independent chains whose results are summed in a fixed order.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

ESCAPE2 = 65536.0  # a large bailout radius (256²) makes the smooth colouring smooth


@njit(cache=True, parallel=True)
def escape_direct(x0, y0, step, w, h, maxiter, julia, jr, ji, out):
    """Smooth escape counts for a rectangle of the plane (float64); -1 = never escaped.

    Pixel (i, j) is the point (x0 + i*step, y0 - j*step). ``julia``: iterate z² + (jr, ji)
    from z = pixel, else the Mandelbrot z² + pixel from 0.
    """
    for j in prange(h):
        for i in range(w):
            pr = x0 + i * step
            pi = y0 - j * step
            if julia:
                zr, zi, cr, ci = pr, pi, jr, ji
            else:
                zr, zi, cr, ci = 0.0, 0.0, pr, pi
                # main cardioid and period-2 bulb never escape
                q = (pr - 0.25) ** 2 + pi * pi
                if q * (q + (pr - 0.25)) <= 0.25 * pi * pi or (pr + 1.0) ** 2 + pi * pi <= 0.0625:
                    out[j, i] = -1.0
                    continue
            n = 0
            zr2 = zr * zr
            zi2 = zi * zi
            while n < maxiter and zr2 + zi2 <= ESCAPE2:
                zi = 2.0 * zr * zi + ci
                zr = zr2 - zi2 + cr
                zr2 = zr * zr
                zi2 = zi * zi
                n += 1
            if n >= maxiter:
                out[j, i] = -1.0
            else:
                out[j, i] = n + 1.0 - math.log2(0.5 * math.log(zr2 + zi2))


@njit(cache=True, parallel=True)
def escape_perturbed(ref_r, ref_i, reflen, dx0, dy0, step, w, h, maxiter, out):
    """Mandelbrot by perturbation around a high-precision reference orbit (deep zoom).

    Each pixel iterates only its small offset δ from the reference: δ ← 2Zδ + δ² + δc, which
    float64 holds exactly enough at any zoom. When |Z + δ| < |δ| (or the reference ends) the
    pixel is rebased onto the start of the reference, which removes perturbation glitches.
    """
    for j in prange(h):
        for i in range(w):
            dcr = dx0 + i * step
            dci = dy0 - j * step
            dzr = 0.0
            dzi = 0.0
            m = 0
            n = 0
            zr = 0.0
            zi = 0.0
            mag = 0.0
            while n < maxiter:
                Zr = ref_r[m]
                Zi = ref_i[m]
                ndr = 2.0 * (Zr * dzr - Zi * dzi) + dzr * dzr - dzi * dzi + dcr
                ndi = 2.0 * (Zr * dzi + Zi * dzr) + 2.0 * dzr * dzi + dci
                dzr = ndr
                dzi = ndi
                m += 1
                n += 1
                zr = ref_r[m] + dzr
                zi = ref_i[m] + dzi
                mag = zr * zr + zi * zi
                if mag > ESCAPE2:
                    break
                if mag < dzr * dzr + dzi * dzi or m >= reflen - 1:
                    dzr = zr
                    dzi = zi
                    m = 0
            if n >= maxiter and mag <= ESCAPE2:
                out[j, i] = -1.0
            else:
                out[j, i] = n + 1.0 - math.log2(0.5 * math.log(mag))


@njit(cache=True, parallel=True)
def attractor_density(kind, a, b, c, d, x0s, y0s, n, skip, xmin, ymin, scale, w, h, out):
    """Histogram of ``n`` points of a 2-D map split over len(x0s) independent chains.

    kind 0 = Clifford: x' = sin(a y) + c cos(a x), y' = sin(b x) + d cos(b y)
    kind 1 = De Jong:  x' = sin(a y) − cos(b x),   y' = sin(c x) − cos(d y)
    ``out`` is (chains, h, w) uint32 and is summed by the caller (fixed order: deterministic).
    """
    chains = len(x0s)
    per = n // chains
    for k in prange(chains):
        x = x0s[k]
        y = y0s[k]
        for t in range(per + skip):
            if kind == 0:
                nx = math.sin(a * y) + c * math.cos(a * x)
                ny = math.sin(b * x) + d * math.cos(b * y)
            else:
                nx = math.sin(a * y) - math.cos(b * x)
                ny = math.sin(c * x) - math.cos(d * y)
            x = nx
            y = ny
            if t >= skip:
                px = int((x - xmin) * scale)
                py = int((y - ymin) * scale)
                if 0 <= px < w and 0 <= py < h:
                    out[k, py, px] += 1


@njit(cache=True, inline="always")
def _gs_cell(u, v, u2, v2, y, x, ym, yp, xm, xp, du, dv, feed, fk):
    uc = u[y, x]
    vc = v[y, x]
    lu = u[ym, x] + u[yp, x] + u[y, xm] + u[y, xp] - 4.0 * uc
    lv = v[ym, x] + v[yp, x] + v[y, xm] + v[y, xp] - 4.0 * vc
    uvv = uc * vc * vc
    u2[y, x] = uc + du * lu - uvv + feed * (1.0 - uc)
    nv = vc + dv * lv + uvv - fk * vc
    v2[y, x] = nv if nv > 1e-12 else 0.0


@njit(cache=True, fastmath=True)
def gray_scott(u, v, u2, v2, du, dv, feed, kill, steps):
    """``steps`` explicit Euler steps of Gray–Scott on a torus (5-point Laplacian, dt = 1).

    ``u``, ``v`` hold the state and are swapped with ``u2``, ``v2`` each step; returns the
    arrays holding the final state. Interior columns run branch-free (SIMD); the two edge
    columns wrap around. Single-threaded on purpose: a threaded (prange) version was faster on
    an idle 2-core machine (2.4 s for 512² × 10,000 steps) but pays a barrier every step and
    stalled when other processes shared the cores (51 s measured for the same work).
    """
    h, w = u.shape
    fk = feed + kill
    for _ in range(steps):
        for y in range(h):
            ym = y - 1 if y > 0 else h - 1
            yp = y + 1 if y < h - 1 else 0
            urow, um, up = u[y], u[ym], u[yp]
            vrow, vm, vp = v[y], v[ym], v[yp]
            u2row, v2row = u2[y], v2[y]
            for x in range(1, w - 1):
                uc = urow[x]
                vc = vrow[x]
                lu = um[x] + up[x] + urow[x - 1] + urow[x + 1] - 4.0 * uc
                lv = vm[x] + vp[x] + vrow[x - 1] + vrow[x + 1] - 4.0 * vc
                uvv = uc * vc * vc
                u2row[x] = uc + du * lu - uvv + feed * (1.0 - uc)
                nv = vc + dv * lv + uvv - fk * vc
                # flush what has decayed to nothing: subnormal floats are ~100x slower
                v2row[x] = nv if nv > 1e-12 else 0.0
            _gs_cell(u, v, u2, v2, y, 0, ym, yp, w - 1, 1 % w, du, dv, feed, fk)
            _gs_cell(u, v, u2, v2, y, w - 1, ym, yp, w - 2, 0, du, dv, feed, fk)
        u, u2 = u2, u
        v, v2 = v2, v
    return u, v


@njit(cache=True)
def trace_particles(x, y, vx, vy, gw, gh, sx, sy, steps, step_len, out_x, out_y, out_len):
    """Advect particles through a (gh, gw) velocity grid, bilinear-sampled; record each path.

    ``sx, sy`` map image pixels to grid cells. A path ends when it leaves the image.
    """
    p = len(x)
    W = (gw - 1) / sx
    H = (gh - 1) / sy
    for k in range(p):
        px = x[k]
        py = y[k]
        n = 0
        for s in range(steps):
            if px < 0 or py < 0 or px > W or py > H:
                break
            out_x[k, n] = px
            out_y[k, n] = py
            n += 1
            gx = px * sx
            gy = py * sy
            ix = min(int(gx), gw - 2)
            iy = min(int(gy), gh - 2)
            fx = gx - ix
            fy = gy - iy
            ux = (vx[iy, ix] * (1 - fx) + vx[iy, ix + 1] * fx) * (1 - fy) + (vx[iy + 1, ix] * (1 - fx) + vx[iy + 1, ix + 1] * fx) * fy
            uy = (vy[iy, ix] * (1 - fx) + vy[iy, ix + 1] * fx) * (1 - fy) + (vy[iy + 1, ix] * (1 - fx) + vy[iy + 1, ix + 1] * fx) * fy
            px += step_len * ux
            py += step_len * uy
        out_len[k] = n


def warm_up() -> None:
    """Compile (or load from the cache) every kernel on tiny inputs."""
    o = np.zeros((2, 2))
    escape_direct(-2.0, 1.0, 0.5, 2, 2, 4, False, 0.0, 0.0, o)
    ref = np.zeros(4)
    escape_perturbed(ref, ref, 4, 0.0, 0.0, 0.1, 2, 2, 4, o)
    attractor_density(0, 1.0, 1.0, 1.0, 1.0, np.zeros(1), np.zeros(1), 4, 1, -2.0, -2.0, 1.0, 2, 2,
                      np.zeros((1, 2, 2), np.uint32))
    u = np.ones((4, 4), np.float32)
    f = np.float32
    gray_scott(u, u.copy(), u.copy(), u.copy(), f(0.2), f(0.1), f(0.03), f(0.06), 1)
    z = np.zeros((2, 2), np.float32)
    trace_particles(np.zeros(1), np.zeros(1), z, z, 2, 2, 1.0, 1.0, 1, 1.0, np.zeros((1, 1)), np.zeros((1, 1)),
                    np.zeros(1, np.int64))
