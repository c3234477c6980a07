"""Videos through fast-style: every frame painted, strokes kept in place along the optical flow
(:mod:`yingshe.style.temporal`), the sound kept, and a killed job resumed where it stopped.

Painted frames go to a folder named after the job's fingerprint (recipe, inputs, weights), one
PNG per frame as it is made. Running the same job again finds them, reads the last painted frame
back as the temporal filter's state and goes on from the next one: the resumed video equals the
uninterrupted one, frame for frame. A finished job is marked done and is not repainted.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Sequence

from PIL import Image

from yingshe.core import paths
from yingshe.core.errors import BadInput
from yingshe.core.images import resize_longest
from yingshe.core.media import FrameStore
from yingshe.core.progress import Progress
from yingshe.style import temporal

#: completed video jobs kept in the cache (their frames are the saved videos' sources)
KEEP_DONE = 3


class _Resized(Sequence):
    """A read-only view of ``frames`` resized so the longest side is ``size``."""

    def __init__(self, frames: Sequence, size: int):
        self.frames, self.size = frames, size

    def __len__(self) -> int:
        return len(self.frames)

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        return resize_longest(self.frames[i], self.size)

    def __iter__(self):
        for f in self.frames:
            yield resize_longest(f, self.size)


def _prune(root: Path, keep: Path) -> None:
    done = sorted((p for p in root.iterdir() if p.is_dir() and p != keep and (p / "done.json").exists()),
                  key=lambda p: (p / "done.json").stat().st_mtime, reverse=True)
    for p in done[KEEP_DONE:]:
        shutil.rmtree(p, ignore_errors=True)


def paint_video(painter, content_src, recipe, progress: Progress, workdir=None, inputs: dict | None = None):
    """(frames, fps, audio, summary, interrupted) of ``content_src`` (a video source) painted.
    ``inputs``: the artwork's input records (part of the job's fingerprint)."""
    from yingshe.style.fast_pipeline import MIN_SIDE, job_key, paint_size

    video = content_src.value
    work = paint_size(recipe)
    w, h = video.size
    if min(w, h) * work / max(w, h) < MIN_SIDE:
        raise BadInput(f"video frames are {w}x{h}: too thin to paint at {work}px (the short side must reach "
                       f"{MIN_SIDE}px); raise --size")
    key = job_key(recipe, inputs or {"content": [content_src.record]}, painter.weights)
    root = paths.cache_dir() / "fast-style-video"
    folder = Path(workdir) if workdir is not None else root / key
    store = FrameStore(folder / "frames")
    if workdir is None:
        _prune(root, folder)
    done_file = folder / "done.json"
    total = len(video.frames)
    summary = {"model": recipe.model, "painted_at": None, "frames": 0, "resumed_at": 0, "temporal": recipe.temporal}
    if done_file.exists():
        n = json.loads(done_file.read_text())["frames"]
        store.truncate(n)
        summary |= {"frames": n, "resumed_at": n, "painted_at": list(store[0].size) if n else None}
        return _output(store, work, recipe), video.fps, video.audio, summary, False

    done = len(store)
    summary["resumed_at"] = done
    progress.start(max(total, done), desc=f"fast-style video {recipe.size}px")
    if done:
        progress.update(done)
    flow = temporal.FlowEstimator() if recipe.temporal > 0 else None
    prev_in = prev_out = None
    interrupted = False
    for i, frame in enumerate(video.frames):
        frame = resize_longest(frame, work)
        if i < done:  # painted by an earlier, interrupted run: only the state is needed
            if i == done - 1:
                prev_in, prev_out = frame, store[i]
            continue
        if progress.stopped():
            interrupted = True
            break
        painted = painter.paint(frame)
        f = flow(prev_in, frame) if (flow is not None and prev_in is not None) else None
        out = temporal.blend_frame(painted, prev_out, f, recipe.temporal)
        store.append(out)
        prev_in, prev_out = frame, out
        progress.update(1)
    progress.close()
    n = len(store)
    if n == 0:
        raise BadInput(f"video {content_src.record.get('source')!r}: no frame was painted")
    if not interrupted:
        done_file.write_text(json.dumps({"frames": n, "key": key}))
    summary |= {"frames": n, "painted_at": list(store[0].size)}
    return _output(store, work, recipe), video.fps, video.audio, summary, interrupted


def _output(store: FrameStore, work: int, recipe) -> Sequence[Image.Image]:
    return store if work == recipe.size else _Resized(store, recipe.size)
