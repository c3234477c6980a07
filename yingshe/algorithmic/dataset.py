"""Captioned datasets of generated pictures for training (GAN, VAE, text-to-image).

Layout (stable; other mappings read it): ``DIR/<generator>/<index>.png`` (each PNG carries its
recipe) and ``DIR/captions.jsonl`` with one line per image::

    {"file": "attractor/00003.png", "class": "attractor", "caption": "...", "recipe": {...}}

Image ``i`` uses generator ``i mod len(generators)`` and a recipe drawn from
``default_rng([seed, i])``, so a dataset is reproducible and any slice can be regenerated.
"""

from __future__ import annotations

import importlib
import json
import os
from pathlib import Path

import numpy as np

from yingshe.algorithmic.palettes import PALETTES
from yingshe.core import registry
from yingshe.core.errors import BadInput
from yingshe.core.progress import Progress

#: palettes drawn for dataset images (light-background ones too, for variety)
DATASET_PALETTES = tuple(sorted(PALETTES))


def module_of(name: str):
    return importlib.import_module(registry.get(name).run.__module__)


def check_generators(names: list[str]) -> list[str]:
    if not names:
        raise BadInput("--generators needs at least one name")
    for n in names:
        m = registry.get(n)
        if m.family != "algorithmic":
            raise BadInput(f"{n!r} is not an algorithmic generator")
    return names


def recipe_for(name: str, i: int, size: int, seed: int):
    """The recipe of image ``i`` (deterministic)."""
    mapping = registry.get(name)
    mod = module_of(name)
    rng = np.random.default_rng([seed, i])
    values = {"size": size, "seed": int(rng.integers(0, 2**31)),
              "palette": DATASET_PALETTES[int(rng.integers(len(DATASET_PALETTES)))]}
    if hasattr(mod, "sample"):
        values.update(mod.sample(rng, size))
    return mapping, mapping.recipe.from_dict(values)


def noun_for(name: str, recipe) -> str:
    cap = getattr(module_of(name), "CAPTION", name)
    return cap(recipe) if callable(cap) else cap


def make_one(job: tuple) -> dict:
    from yingshe.algorithmic.captions import caption
    from yingshe.core.images import png_bytes

    out_dir, name, i, size, seed = job
    mapping, recipe = recipe_for(name, i, size, seed)
    art = mapping.run(recipe, {}, None)
    rel = f"{name}/{i:05d}.png"
    record = art.record(timings=False)  # a dataset is byte-for-byte reproducible
    # plain write, no fsync per picture: captions.jsonl (renamed into place last) marks a finished set
    (Path(out_dir) / rel).write_bytes(png_bytes(art.image, record))
    return {"file": rel, "class": name, "caption": caption(noun_for(name, recipe), art.image),
            "recipe": recipe.to_dict()}


def _worker_init() -> None:
    # one numba thread per worker process: the processes already use every core
    import numba

    numba.set_num_threads(1)


def build(out_dir: str | os.PathLike, generators: list[str], n: int, size: int, *, seed: int = 0,
          workers: int | None = None, progress: Progress | None = None) -> Path:
    """Write ``n`` images + captions.jsonl into ``out_dir``; returns the captions path."""
    progress = progress or Progress()
    check_generators(generators)
    if n < 1:
        raise BadInput("--n must be at least 1")
    if not 16 <= size <= 1024:
        raise BadInput("--size must be between 16 and 1024 for datasets")
    if seed < 0:
        raise BadInput("--seed must be 0 or more")
    if workers is not None and not 1 <= workers <= 256:
        raise BadInput("--workers must be between 1 and 256")
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise BadInput(f"-o {str(out)!r} is a file, not a folder")
    for g in generators:
        (out / g).mkdir(parents=True, exist_ok=True)
    jobs = [(str(out), generators[i % len(generators)], i, size, seed) for i in range(n)]
    workers = workers or min(os.cpu_count() or 1, 8)
    captions = out / "captions.jsonl"
    tmp = captions.with_suffix(".jsonl.part")
    progress.start(n, desc="dataset")
    with open(tmp, "w", encoding="utf-8") as f:
        if workers > 1 and n > 8:
            import multiprocessing as mp

            # spawn, not fork: numba's and torch's thread pools must not be forked mid-flight
            ctx = mp.get_context("spawn")
            with ctx.Pool(workers, initializer=_worker_init) as pool:
                for row in pool.imap(make_one, jobs, chunksize=8):
                    f.write(json.dumps(row, ensure_ascii=False, sort_keys=True) + "\n")
                    progress.update(1)
        else:
            for job in jobs:
                f.write(json.dumps(make_one(job), ensure_ascii=False, sort_keys=True) + "\n")
                progress.update(1)
    os.replace(tmp, captions)
    progress.close()
    return captions
