"""``music2paint``: a song → a painting that moves with it (MP4 with the song).

The song's features (:mod:`yingshe.crossmodal.listen`: percussive pulses, beats, harmonic
energy, key, brightness; one value per video frame) move the parameters of a picture-making
mapping:

- ``julia`` / ``mandelbrot``: the constant c circles with the harmonic energy, the view kicks
  in on every onset and relaxes, the palette turns with the key;
- ``art-gan`` / ``art-vae`` (the shipped 32 px models): a latent walk from keyframe to keyframe,
  one keyframe per beat, pushed along a fixed direction by each pulse (as deep-music-visualizer
  and lucid-sonic-dreams do); the GAN's class follows the key.

Frames are rendered in batches into a work folder (``$YINGSHE_HOME/work``), so a killed render
resumes where it stopped; ``preview`` renders the first seconds small and fast, with the same
motion as the full render.
"""

from __future__ import annotations

import hashlib
import json
import math
import shutil
import time
from dataclasses import dataclass

import numpy as np

from yingshe.algorithmic import palettes
from yingshe.core.artwork import Artwork
from yingshe.core.errors import BadInput
from yingshe.core.progress import Progress
from yingshe.core.recipe import Recipe, param
from yingshe.core.registry import Example, InputSpec, Mapping, register

VISUALS = ("julia", "mandelbrot", "art-gan", "art-vae")

EXAMPLES = """\
yingshe music2paint song.wav -o song.mp4                       julia set dancing to the song
yingshe music2paint song.mp3 -o s.mp4 --visual art-gan --pulse 1.5
yingshe music2paint song.flac -o quick.mp4 --preview 10        the first 10 s, small and fast"""


@dataclass
class Music2PaintRecipe(Recipe):
    mapping = "music2paint"

    visual: str = param("julia", "what moves: a fractal, or a latent walk of the shipped GAN/VAE", choices=VISUALS)
    size: int = param(256, "longest side of the video in pixels", min=32, max=2048)
    fps: float = param(24.0, "frames per second", min=6.0, max=60.0)
    pulse: float = param(1.0, "how hard each drum hit kicks the picture (0: not at all)", min=0.0, max=5.0)
    drift: float = param(1.0, "how fast harmonic energy moves the picture along", min=0.0, max=5.0)
    colour: float = param(1.0, "how much the key turns the colours", min=0.0, max=5.0)
    decay: float = param(0.25, "seconds a kick takes to fade", min=0.02, max=2.0)
    palette: str = param("dusk", "fractal palette (a name from `yingshe art --palettes`)",
                         suggest=palettes.suggestions())
    preview: float = param(0.0, "render only the first N seconds at 128 px, fast (0: the whole song)", min=0.0,
                           max=600.0)


def run(recipe: Music2PaintRecipe, inputs: dict, progress: Progress | None = None, *, device: str = "auto",
        threads: int | None = None, **_) -> Artwork:
    from yingshe.core import paths
    from yingshe.core.media import FrameStore
    from yingshe.crossmodal.listen import features

    t0 = time.perf_counter()
    progress = progress or Progress()
    songs = inputs.get("song") or []
    if len(songs) != 1:
        raise BadInput("music2paint takes one song (a WAV, FLAC, OGG, MP3 or a video's sound)")
    song = songs[0]
    audio = song.value
    if song.kind == "video":
        audio = song.value.audio
        if audio is None:
            raise BadInput(f"{song.record['source']!r} has no sound")
    feats = features(audio, recipe.fps, decay=recipe.decay)
    n = feats.frames
    size = recipe.size
    if recipe.preview > 0:
        n = min(n, max(1, math.ceil(recipe.preview * recipe.fps)))
        size = min(size, 128)
    painter = _painter(recipe, feats, size, device, threads)
    key = hashlib.sha256(json.dumps([recipe.to_dict(), song.record["sha256"], painter.weights],
                                    sort_keys=True).encode()).hexdigest()[:20]
    store = FrameStore(paths.home() / "work" / f"music2paint-{key}")
    done = len(store)
    progress.start(n, f"music2paint ({recipe.visual}, {n} frames)")
    if done:
        progress.update(min(done, n), resumed=done)
    batch = painter.batch
    interrupted = False
    for start in range(done, n, batch):
        idx = np.arange(start, min(n, start + batch))
        for img in painter.frames(idx):
            store.append(img)
        progress.update(len(idx))
        if progress.stopped():
            interrupted = True
            break
    progress.close()
    frames = store if len(store) <= n else store[:n]
    clip = audio.fit(int(round(len(frames) / recipe.fps * audio.rate)))
    art = Artwork(mapping=recipe.mapping, recipe=recipe, frames=frames, fps=recipe.fps, audio=clip,
                  inputs={"song": [song.record]}, weights=painter.weights, device=painter.device,
                  threads=threads, seconds=time.perf_counter() - t0, interrupted=interrupted,
                  summary=feats.summary() | painter.summary | {"rendered_frames": len(frames), "resumed_from": done})
    art.image = frames[len(frames) // 2] if len(frames) else None
    if not interrupted:
        art.cleanups.append(lambda: shutil.rmtree(store.folder, ignore_errors=True))
    return art


# --------------------------------------------------------------------------- painters

class _Fractal:
    """julia / mandelbrot frames from the features."""

    batch = 8
    weights: dict = {}
    device = "cpu"
    summary: dict = {}

    def __init__(self, recipe: Music2PaintRecipe, feats, size: int):
        from yingshe.core import registry

        self.r, self.f, self.size = recipe, feats, size
        self.mapping = registry.get(recipe.visual)
        # drift: how far along the path each frame is (harmonic energy, integrated)
        step = (0.15 + feats.energy) * recipe.drift / feats.fps
        self.phase = np.cumsum(step)
        rng = np.random.default_rng(recipe.seed)
        self.phase0 = float(rng.uniform(0, 2 * math.pi))
        # colour: the palette offset follows the key around the circle of fifths, smoothly
        fifths = (feats.key * 7) % 12 / 12.0
        target = np.unwrap(fifths * 2 * math.pi) / (2 * math.pi)
        k = math.exp(-1.0 / max(1.0, feats.fps * 0.5))
        smooth = np.empty_like(target)
        acc = target[0]
        for i, v in enumerate(target):
            acc = k * acc + (1 - k) * v
            smooth[i] = acc
        self.offset = (smooth * recipe.colour + 0.05 * np.cumsum(feats.beat)) % 1.0
        self.pulse = feats.pulse * recipe.pulse

    def frames(self, idx: np.ndarray) -> list:
        out = []
        for t in idx:
            p = float(self.pulse[t])
            if self.r.visual == "julia":
                a = self.phase0 + float(self.phase[t])
                radius = 0.7885 - 0.03 * p  # the classic Julia circle; a kick pulls c inwards
                params = {"c_re": radius * math.cos(a), "c_im": radius * math.sin(a), "zoom": 1.0 + 0.35 * p,
                          "iterations": 200, "density": 1.5 + 0.5 * p}
            else:
                params = {"zoom": 60.0 * math.exp(0.08 * float(self.phase[t])) * (1.0 + 0.25 * p),
                          "iterations": 400, "density": 1.0 + 0.6 * p}
            recipe = self.mapping.recipe.from_dict({"size": self.size, "seed": self.r.seed, "palette": self.r.palette,
                                                    "offset": float(self.offset[t]), **params})
            out.append(self.mapping.run(recipe, {}, None).image)
        return out


class _Latent:
    """art-gan / art-vae frames: one keyframe latent per beat, slerped, kicked by pulses."""

    batch = 32

    def __init__(self, recipe: Music2PaintRecipe, feats, size: int, device: str, threads: int | None):
        import torch

        from yingshe.core.device import resolve_device, set_threads
        from yingshe.generative.sample import latents, lively_classes, load_model

        set_threads(threads)
        name = "art-gan-32" if recipe.visual == "art-gan" else "art-vae-32"
        self.m = load_model(name, resolve_device(device))
        self.dev = next(self.m.net.parameters()).device
        self.device = str(self.dev)
        self.weights = {"model": self.m.weights_record()}
        self.size = size
        beats = np.flatnonzero(feats.beat)
        if len(beats) < 2:  # no beat found: a keyframe every two seconds
            beats = np.arange(0, feats.frames, max(1, int(2 * feats.fps)))
        marks = np.unique(np.concatenate([[0], beats, [feats.frames]]))
        fresh = latents(len(marks), self.m.z_dim, recipe.seed, 1.5).numpy()
        keys = [fresh[0]]  # a random walk: each beat's keyframe a step from the last, not a new picture
        for i in range(1, len(marks)):
            keys.append(_slerp(keys[-1], fresh[i], np.array([min(1.0, 0.35 * recipe.drift)]))[0])
        direction = latents(1, self.m.z_dim, recipe.seed + 1)[0]
        z = np.zeros((feats.frames, self.m.z_dim), np.float32)
        for i in range(len(marks) - 1):
            a, b = int(marks[i]), int(marks[i + 1])
            if b <= a:
                continue
            u = np.linspace(0, 1, b - a, endpoint=False)
            u = 1 - (1 - u) ** 3  # ease out: the move starts on the beat, fast, and settles before the next
            z[a:b] = _slerp(keys[i], keys[i + 1], u)
        z += (feats.pulse * recipe.pulse)[:, None] * 0.8 * direction.numpy()[None, :]
        self.z = torch.from_numpy(z)
        self.classes = None
        self.summary: dict = {}
        if self.m.classes:
            # the key picks the class (a fifth apart: 7 steps), among the classes that move
            live = lively_classes(self.m)
            self.classes = torch.from_numpy(np.asarray(live, dtype=np.int64)[feats.key * 7 % len(live)])
            skipped = [name for c, name in enumerate(self.m.classes) if c not in live]
            self.summary = {"classes_skipped": skipped} if skipped else {}

    def frames(self, idx: np.ndarray) -> list:
        import torch
        import torch.nn.functional as F

        from yingshe.core.images import from_array01
        from yingshe.generative.sample import decode

        y = self.classes[idx].to(self.dev) if self.classes is not None else None
        imgs = decode(self.m.net, self.m.kind, self.z[idx].to(self.dev), y)
        imgs = F.interpolate(imgs, size=(self.size, self.size), mode="bicubic", align_corners=False)
        arr = imgs.clamp(0, 1).permute(0, 2, 3, 1).cpu().numpy()
        return [from_array01(a) for a in arr]


def _slerp(a: np.ndarray, b: np.ndarray, u: np.ndarray) -> np.ndarray:
    na, nb = a / np.linalg.norm(a), b / np.linalg.norm(b)
    omega = math.acos(float(np.clip(na @ nb, -1, 1)))
    if omega < 1e-4:
        return (1 - u)[:, None] * a + u[:, None] * b
    s = math.sin(omega)
    return (np.sin((1 - u) * omega) / s)[:, None] * a + (np.sin(u * omega) / s)[:, None] * b


def _painter(recipe, feats, size, device, threads):
    if recipe.visual in ("julia", "mandelbrot"):
        from yingshe.algorithmic.palettes import resolve

        resolve(recipe.palette, load_images=False)  # a bad palette fails now, not at frame 1
        return _Fractal(recipe, feats, size)
    return _Latent(recipe, feats, size, device, threads)


MAPPING = register(Mapping(
    name="music2paint",
    summary="a song → a painting that moves with it: beats kick, harmony drifts, the key colours (MP4 with the song)",
    family="cross-modal",
    recipe=Music2PaintRecipe,
    run=run,
    inputs=(InputSpec("song", "audio", "the music (WAV, FLAC, OGG, MP3, or a video's sound)"),),
    outputs=("video",),
    rank=0,
    examples=(Example("A Julia set dancing to a click track", {"size": 256}, {"song": "sound:clicks"}),
              Example("The GAN walks to chimes", {"visual": "art-gan", "size": 256}, {"song": "sound:chimes"})),
))
