"""Paired data from any picture: the input A that a picture B is made from.

``--pairs`` names the transform, the same one at training (A made from each training crop) and
at translation (``prepare``: turn a photo into what the model was trained on):

- ``edges``: Canny edges (OpenCV) of the smoothed picture (bilateral filter, then Gaussian),
  thresholds from its own gradients; black lines on white, like a pen drawing (a sketch canvas
  draws the same way). Training thickens them at random, so drawn strokes are familiar too.
- ``sketch``: XDoG (Winnemöller et al. 2012), a difference of Gaussians with a soft threshold:
  pencil-like lines and some shading, black on white.
- ``colorize``: the picture in grey (ITU-R 601 luma), as three equal channels.
- ``blur``: a Gaussian blur (σ = 2 px at 256 px, scaled with the size): the model deblurs.
- ``aligned``: no transform: each file holds A and B side by side (A|B), as the pix2pix
  datasets (facades, maps, edges2shoes...) are stored; ``direction`` BtoA swaps them.

Every transform takes and gives (H, W, 3) uint8 RGB arrays and is deterministic.
"""

from __future__ import annotations

import numpy as np

from yingshe.core.errors import BadInput

PAIRS = ("edges", "sketch", "colorize", "blur", "aligned")
DIRECTIONS = ("AtoB", "BtoA")


def _cv2():
    try:
        import cv2
    except ImportError:  # pragma: no cover - the translate extra installs it
        raise BadInput("edges, sketch and blur pairs need OpenCV: pip install 'yingshe[translate]'") from None
    cv2.setNumThreads(1)
    return cv2


def check_pairs(pairs: str) -> str:
    if pairs not in PAIRS:
        raise BadInput(f"--pairs must be one of {', '.join(PAIRS)}; got {pairs!r}")
    return pairs


def grey(rgb: np.ndarray) -> np.ndarray:
    """(H, W, 3) uint8 → (H, W) uint8 luma."""
    return (rgb[..., 0] * 0.299 + rgb[..., 1] * 0.587 + rgb[..., 2] * 0.114 + 0.5).astype(np.uint8)


def _three(g: np.ndarray) -> np.ndarray:
    return np.repeat(g[..., None], 3, axis=2)


def _smooth(g: np.ndarray) -> np.ndarray:
    """Brush texture is noise to an outline: an edge-preserving (bilateral) filter first."""
    cv2 = _cv2()
    scale = min(g.shape[:2]) / 256
    d = max(3, int(round(9 * scale)) | 1)
    return cv2.bilateralFilter(g, d, 40, max(1.0, 5 * scale))


def edges(rgb: np.ndarray, thickness: int = 1) -> np.ndarray:
    """Canny edges as black lines (``thickness`` px) on white. The hysteresis thresholds follow
    the picture's own gradients (the strongest 10 % of its blurred gradient magnitudes start a
    line, half that continues one), so foggy and busy pictures both get outlines."""
    cv2 = _cv2()
    scale = min(rgb.shape[:2]) / 256
    g = cv2.GaussianBlur(_smooth(grey(rgb)), (0, 0), max(0.7, 2.0 * scale))
    gx, gy = cv2.Sobel(g, cv2.CV_32F, 1, 0), cv2.Sobel(g, cv2.CV_32F, 0, 1)
    hi = max(8.0, float(np.percentile(np.sqrt(gx * gx + gy * gy), 90)))
    e = cv2.Canny(g, 0.5 * hi, hi, L2gradient=True)  # 255 on edges
    if thickness > 1:
        e = cv2.dilate(e, np.ones((thickness, thickness), np.uint8))
    return _three(255 - e)


def xdog(rgb: np.ndarray, sigma: float | None = None, k: float = 1.6, p: float = 25.0, eps: float = 0.45,
         phi: float = 30.0) -> np.ndarray:
    """eXtended Difference of Gaussians (Winnemöller et al. 2012), in its sharpening form:
    S = (1 + p)·G_σ − p·G_kσ of the grey picture in [0, 1]; T = 1 where S ≥ ε, else
    1 + tanh(φ·(S − ε)), with ε = ``eps`` × the picture's median grey. Black lines on white."""
    cv2 = _cv2()
    sigma = sigma if sigma is not None else max(0.5, 1.2 * min(rgb.shape[:2]) / 256)
    g = _smooth(grey(rgb)).astype(np.float32) / 255.0
    s = (1 + p) * cv2.GaussianBlur(g, (0, 0), sigma) - p * cv2.GaussianBlur(g, (0, 0), sigma * k)
    e = eps * float(np.median(g))
    t = np.where(s >= e, 1.0, 1.0 + np.tanh(phi * (s - e)))
    return _three((np.clip(t, 0, 1) * 255 + 0.5).astype(np.uint8))


def colorize(rgb: np.ndarray) -> np.ndarray:
    return _three(grey(rgb))


def blur(rgb: np.ndarray, sigma: float | None = None) -> np.ndarray:
    cv2 = _cv2()
    h, w = rgb.shape[:2]
    sigma = sigma if sigma is not None else 2.0 * min(h, w) / 256
    return cv2.GaussianBlur(rgb, (0, 0), max(0.3, sigma))


def make_input(pairs: str, rgb: np.ndarray, *, thickness: int = 1) -> np.ndarray:
    """The A picture for target ``rgb`` (every kind but ``aligned``)."""
    if pairs == "edges":
        return edges(rgb, thickness)
    if pairs == "sketch":
        return xdog(rgb)
    if pairs == "colorize":
        return colorize(rgb)
    if pairs == "blur":
        return blur(rgb)
    raise ValueError(f"{pairs} pairs are read from files, not made")


# ----------------------------------------------------------------------------- at translation time

def is_line_drawing(rgb: np.ndarray) -> bool:
    """True for a drawing of lines on a plain ground (a sketch, an edge map): nearly every pixel is
    near black or near white, and there is next to no colour."""
    g = grey(rgb)
    extreme = float(np.mean((g < 80) | (g > 175)))
    chroma = rgb.max(axis=2).astype(np.int16) - rgb.min(axis=2)
    return extreme > 0.93 and float(np.mean(chroma > 40)) < 0.03


def shrink_drawing(rgb: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """A line drawing made smaller without losing its lines, as black lines on white: the ink is
    averaged over each new pixel's area and every pixel holding at least a quarter of a full
    pixel's ink is drawn black. Plain resampling would leave a 3 px pen at 256 px a faint grey
    smudge at 64 px; this leaves a 1-2 px line, the thickness the models were trained on.
    ``size`` is (width, height); white lines on black count as ink too."""
    from PIL import Image

    g = grey(rgb)
    ink = g if float(g.mean()) < 128 else 255 - g  # (H, W) uint8, 255 = full ink
    small = np.asarray(Image.fromarray(ink).resize(size, Image.BOX))  # mean ink per new pixel
    return _three(np.where(small >= 64, 0, 255).astype(np.uint8))


def prepare(pairs: str, rgb: np.ndarray, mode: str, size: tuple[int, int] | None = None) -> tuple[np.ndarray, str]:
    """The network's input for picture ``rgb`` under ``prepare`` mode (auto, on, off), and what was
    done (for the artwork's summary).

    auto: edges and sketch models turn a photo or painting into lines and take a line drawing as it
    is (white-on-black lines are inverted first); colorize models take the grey of anything; blur
    and aligned models take the input as it is.

    ``size`` (width, height): the picture is first brought to that size. A line drawing that an
    edges or sketch model takes as it is (auto) keeps its lines when made smaller
    (:func:`shrink_drawing`); anything else is resampled (Lanczos down, bicubic up)."""
    if size is not None and size != (rgb.shape[1], rgb.shape[0]):
        from PIL import Image

        smaller = size[0] < rgb.shape[1] or size[1] < rgb.shape[0]
        if smaller and mode == "auto" and pairs in ("edges", "sketch") and is_line_drawing(rgb):
            return shrink_drawing(rgb, size), "none (a line drawing, made smaller keeping its lines)"
        rgb = np.asarray(Image.fromarray(rgb).resize(size, Image.LANCZOS if smaller else Image.BICUBIC), dtype=np.uint8)
    if mode == "off":
        return rgb, "none"
    if pairs == "aligned":
        if mode == "on":  # an A|B file: its A half
            return rgb[:, : rgb.shape[1] // 2], "left half (A of an A|B pair)"
        return rgb, "none"
    if pairs == "blur":
        return (blur(rgb), "blurred") if mode == "on" else (rgb, "none")
    if pairs == "colorize":
        return colorize(rgb), "grey"
    if mode == "auto" and is_line_drawing(rgb):
        if float(grey(rgb).mean()) < 128:
            return 255 - rgb, "inverted (white lines on black)"
        return rgb, "none (already a line drawing)"
    return make_input(pairs, rgb), pairs


__all__ = ["PAIRS", "DIRECTIONS", "check_pairs", "edges", "xdog", "colorize", "blur", "make_input",
           "is_line_drawing", "shrink_drawing", "prepare", "grey"]
