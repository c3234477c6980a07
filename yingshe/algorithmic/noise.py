"""Smooth fractal noise on a grid, by spectral synthesis (numpy FFT).

White noise is filtered in the frequency domain by a sum of Gaussian bands, one per octave.
The result is infinitely smooth and has no lattice, so nothing derived from it (gradients,
curl) shows the straight seams that interpolated-lattice noise leaves along its cell edges.
Derivatives are taken in the frequency domain too (exact, no finite-difference stencil).
"""

from __future__ import annotations

import numpy as np


def _spectrum(h: int, w: int, scale: float, octaves: int, rng: np.random.Generator):
    white = rng.standard_normal((h, w))
    ky = np.fft.fftfreq(h)[:, None]
    kx = np.fft.rfftfreq(w)[None, :]
    k2 = kx * kx + ky * ky
    env = np.zeros_like(k2)
    amp = 1.0
    for o in range(octaves):
        sigma = max(0.75, scale / (2**o) / 4.0)
        env += amp * sigma * np.exp(-2 * np.pi**2 * sigma**2 * k2)
        amp *= 0.5
    return np.fft.rfft2(white) * env, kx, ky


def fractal_noise(h: int, w: int, *, scale: float, octaves: int, rng: np.random.Generator) -> np.ndarray:
    """(h, w) float32 noise in [-1, 1]; ``scale`` is the size in pixels of the largest features."""
    spec, _, _ = _spectrum(h, w, scale, octaves, rng)
    out = np.fft.irfft2(spec, s=(h, w))
    return (out / (np.abs(out).max() + 1e-12)).astype(np.float32)


def noise_and_gradient(h: int, w: int, *, scale: float, octaves: int, rng: np.random.Generator):
    """(noise, d/dy, d/dx), all (h, w) float64, with the same normalisation (noise in [-1, 1])."""
    spec, kx, ky = _spectrum(h, w, scale, octaves, rng)
    n = np.fft.irfft2(spec, s=(h, w))
    norm = np.abs(n).max() + 1e-12
    gy = np.fft.irfft2(spec * (2j * np.pi * ky), s=(h, w))
    gx = np.fft.irfft2(spec * (2j * np.pi * kx), s=(h, w))
    return n / norm, gy / norm, gx / norm
