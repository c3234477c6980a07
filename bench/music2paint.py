"""music2paint (issue 13): beat sync, speed and audio/video duration, in one run.

    nice -n 10 python bench/music2paint.py --seconds 20 --size 256

- beat sync: on a synthetic click track (120 bpm), the mean change between consecutive frames
  within one frame of a click, over the mean change elsewhere (1 = no sync);
- speed: frames per second rendered at --size for each visual, whole process included, against
  deep-music-visualizer's published CPU cost (about 25 minutes of rendering per minute of 128 px
  video, i.e. 24*60/1500 = 0.96 frames/s at 128 px; its README's figure, not measured here);
- duration: the MP4's video and audio lengths against the song's.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

PEER_FPS_128 = 24 * 60 / (25 * 60)  # deep-music-visualizer: ~25 min per minute of 128 px video on a CPU


def click_track(path: Path, seconds: float, rate: int = 22050, bpm: float = 120.0) -> np.ndarray:
    import soundfile as sf

    t = np.arange(int(rate * seconds)) / rate
    y = 0.15 * np.sin(2 * np.pi * 220 * t) * (0.7 + 0.3 * np.sin(2 * np.pi * 0.1 * t))
    beats = np.arange(0.25, seconds, 60.0 / bpm)
    for b in beats:
        i = int(b * rate)
        n = min(len(y) - i, 600)
        y[i:i + n] += 0.8 * np.random.default_rng(int(b * 1000)).standard_normal(n) * np.exp(-np.arange(n) / 90.0)
    sf.write(str(path), np.clip(y, -1, 1).astype(np.float32), rate)
    return beats


def frames_of(mp4: Path) -> list[np.ndarray]:
    import imageio_ffmpeg

    gen = imageio_ffmpeg.read_frames(str(mp4))
    meta = next(gen)
    w, h = meta["size"]
    return [np.frombuffer(b, np.uint8).reshape(h, w, 3).astype(np.float32) for b in gen]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--fps", type=int, default=24)
    ap.add_argument("--visuals", default="julia,mandelbrot,art-gan,art-vae")
    a = ap.parse_args()
    from yingshe.core.audio import load_audio
    from yingshe.crossmodal.listen import beat_sync

    with tempfile.TemporaryDirectory() as tmp:
        song = Path(tmp) / "clicks.wav"
        beats = click_track(song, a.seconds)
        env = dict(os.environ, YINGSHE_HOME=str(Path(tmp) / "home"))
        print(f"{'visual':12s} {'frames':>6s} {'wall s':>7s} {'frames/s':>8s} {'vs peer':>8s} {'beat sync':>9s} "
              f"{'video s':>8s} {'audio s':>8s}")
        for visual in a.visuals.split(","):
            out = Path(tmp) / f"{visual}.mp4"
            t0 = time.perf_counter()
            p = subprocess.run([sys.executable, "-m", "yingshe", "music2paint", str(song), "-o", str(out), "--visual",
                                visual, "--size", str(a.size), "--fps", str(a.fps), "-q", "--no-gallery", "--json"],
                               env=env, capture_output=True, text=True)
            wall = time.perf_counter() - t0
            if p.returncode:
                print(f"{visual}: failed: {p.stderr.strip()}")
                continue
            frames = frames_of(out)
            change = np.array([0.0] + [np.abs(frames[i] - frames[i - 1]).mean() for i in range(1, len(frames))])
            clicks = np.zeros(len(frames))
            clicks[np.round(beats * a.fps).astype(int)] = 1
            sync = beat_sync(change, clicks)
            sound = load_audio(out)
            fps = len(frames) / wall
            # the peer's cost grows with pixels: compare at equal pixel rate
            peer = PEER_FPS_128 * (128 / a.size) ** 2
            print(f"{visual:12s} {len(frames):6d} {wall:7.1f} {fps:8.2f} {fps / peer:7.0f}x {sync:9.2f} "
                  f"{len(frames) / a.fps:8.3f} {sound.duration:8.3f}", flush=True)
        print(f"song: {a.seconds:.3f} s; peer: deep-music-visualizer, {PEER_FPS_128:.2f} frames/s at 128 px "
              f"(published), scaled by pixel count to {a.size} px")


if __name__ == "__main__":
    main()
