"""Registers ``latent-sample``: latents → a grid of images from a trained GAN or VAE.

The recipe names the model (a shipped name, a run folder or a model file) and either a seed
(latents drawn from it, optionally truncated) or explicit latents ``z`` (from ``yingshe encode``,
``yingshe project`` or latent arithmetic). The model file's sha256 goes into the artwork's
``weights`` record, so ``yingshe recreate`` can tell when a run's weights have moved on.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from yingshe.core.artwork import Artwork
from yingshe.core.errors import BadInput
from yingshe.core.progress import Progress
from yingshe.core.recipe import Recipe, param
from yingshe.core.registry import Example, Mapping, register


@dataclass
class LatentSampleRecipe(Recipe):
    mapping = "latent-sample"
    model: str = param("art-gan-32", "shipped model name (art-gan-32, art-vae-32), run folder or model file",
                       suggest=("art-gan-32", "art-vae-32"))
    n: int = param(16, "how many images", min=1, max=1024)
    truncation: float | None = param(None, "redraw latent values beyond ±T (less variety, cleaner images)",
                                     min=0.05, max=10.0)
    class_name: str = param("", "conditional GAN: draw only this class (empty: cycle through classes)",
                            cli="--class")
    nrow: int = param(0, "images per grid row (0: about square)", min=0, max=1024)
    z: tuple[float, ...] = param((), "explicit latents, n×latent_dim values row by row "
                                     "(empty: drawn from the seed)", advanced=True)


def make_latents(recipe: LatentSampleRecipe, z_dim: int):
    import torch

    from yingshe.generative.sample import latents

    if recipe.z:
        if len(recipe.z) != recipe.n * z_dim:
            raise BadInput(f"--z has {len(recipe.z)} values; {recipe.n} latent(s) of this model need "
                           f"{recipe.n * z_dim}")
        return torch.tensor(recipe.z, dtype=torch.float32).view(recipe.n, z_dim)
    return latents(recipe.n, z_dim, recipe.seed, recipe.truncation)


def run(recipe: LatentSampleRecipe, inputs: dict, progress: Progress | None = None, *, device: str = "auto",
        threads: int | None = None, model=None, **_) -> Artwork:
    from yingshe.core.device import resolve_device, set_threads
    from yingshe.generative.sample import class_labels, decode, grid_image, load_model

    t0 = time.perf_counter()
    progress = progress or Progress()
    threads = set_threads(threads)
    dev = resolve_device(device)
    m = model or load_model(recipe.model, dev)
    dev = next(m.net.parameters()).device
    progress.start(1, f"sampling {recipe.model}")
    z = make_latents(recipe, m.z_dim)
    y = class_labels(m, recipe.n, m.class_index(recipe.class_name or None), dev)
    imgs = decode(m.net, m.kind, z.to(dev), y)
    progress.update(1)
    progress.close()
    summary = {"kind": m.kind, "latent_dim": m.z_dim, "size": m.size, "model_step": m.meta.get("step")}
    if recipe.n <= 16 and not recipe.z:
        summary["z"] = [round(float(v), 7) for v in z.flatten()]
    return Artwork(mapping=recipe.mapping, recipe=recipe, image=grid_image(imgs, recipe.nrow or None),
                   weights={"model": m.weights_record()}, device=str(dev), threads=threads,
                   seconds=time.perf_counter() - t0, summary=summary)


MAPPING = register(Mapping(
    name="latent-sample",
    summary="random latents → images from a trained GAN or VAE (yingshe train gan|vae)",
    family="generative",
    recipe=LatentSampleRecipe,
    run=run,
    cli=False,  # `yingshe sample`
    rank=0,
    # encode and project find the latent from a picture; the recipe holds the latent itself
    recorded_facts=("encoded_from", "projected_from", "projection_loss", "projection_steps"),
    examples=(Example("Sixteen pictures from the shipped GAN", {"n": 16, "truncation": 1.0}),
              Example("The VAE's dreams", {"model": "art-vae-32", "n": 16})),
))


@dataclass
class LatentWalkRecipe(Recipe):
    mapping = "latent-walk"
    model: str = param("art-gan-32", "shipped model name (art-gan-32, art-vae-32), run folder or model file",
                       suggest=("art-gan-32", "art-vae-32"))
    steps: int = param(60, "frames", min=2, max=10_000)
    keys: int = param(4, "random key latents to pass through (when z is empty)", min=2, max=1000)
    loop: bool = param(False, "return to the first key (a seamless loop)")
    spherical: bool = param(True, "spherical interpolation (slerp); off: straight lines")
    truncation: float | None = param(None, "redraw latent values beyond ±T", min=0.05, max=10.0)
    class_name: str = param("", "conditional GAN: this class throughout (empty: the first)", cli="--class")
    fps: float = param(24.0, "frames per second", min=1.0, max=120.0)
    scale: int = param(0, "upscale frames by this factor (0: to at least 256 px)", min=0, max=64)
    z: tuple[float, ...] = param((), "explicit key latents, keys×latent_dim values row by row "
                                     "(empty: drawn from the seed)", advanced=True)


def run_walk(recipe: LatentWalkRecipe, inputs: dict, progress: Progress | None = None, *, device: str = "auto",
             threads: int | None = None, **_) -> Artwork:
    import torch

    from yingshe.core.device import resolve_device, set_threads
    from yingshe.core.images import from_array01
    from yingshe.generative.sample import class_labels, decode, latents, load_model, walk

    t0 = time.perf_counter()
    progress = progress or Progress()
    threads = set_threads(threads)
    m = load_model(recipe.model, resolve_device(device))
    dev = next(m.net.parameters()).device
    if recipe.z:
        if len(recipe.z) % m.z_dim or len(recipe.z) < 2 * m.z_dim:
            raise BadInput(f"--z has {len(recipe.z)} values; key latents of this model are {m.z_dim} values each "
                           "(at least two keys)")
        keys = torch.tensor(recipe.z, dtype=torch.float32).view(-1, m.z_dim)
    else:
        keys = latents(recipe.keys, m.z_dim, recipe.seed, recipe.truncation)
    zs = walk(keys, recipe.steps, loop=recipe.loop, spherical=recipe.spherical)
    y = class_labels(m, zs.shape[0], m.class_index(recipe.class_name or None), dev)
    if y is not None and not recipe.class_name:
        y = torch.zeros_like(y)  # one class for the whole walk unless asked
    progress.start(1, f"walking {recipe.model}")
    frames = decode(m.net, m.kind, zs.to(dev), y)
    scale = recipe.scale or max(1, -(-256 // m.size))
    if scale > 1:
        frames = torch.nn.functional.interpolate(frames, scale_factor=scale, mode="nearest")
    arr = frames.clamp(0, 1).permute(0, 2, 3, 1).cpu().numpy()
    images = [from_array01(a) for a in arr]
    progress.update(1)
    progress.close()
    return Artwork(mapping=recipe.mapping, recipe=recipe, image=images[0], frames=images, fps=recipe.fps,
                   weights={"model": m.weights_record()}, device=str(dev), threads=threads,
                   seconds=time.perf_counter() - t0, summary={"kind": m.kind, "latent_dim": m.z_dim,
                                                              "keys": int(keys.shape[0])})


WALK = register(Mapping(
    name="latent-walk",
    summary="a walk through a trained GAN's or VAE's latent space, as a video (yingshe interpolate)",
    family="generative",
    recipe=LatentWalkRecipe,
    run=run_walk,
    outputs=("video",),
    cli=False,  # `yingshe interpolate`
    rank=30,
    examples=(Example("A looping walk through the GAN", {"steps": 48, "loop": True, "fps": 12}),),
))
