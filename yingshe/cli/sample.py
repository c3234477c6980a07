"""Using a trained GAN/VAE: ``sample``, ``interpolate``, ``encode`` (VAE), ``project`` (GAN)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from yingshe.cli.options import add_overwrite_option, free_output, output_in_folder, wrote
from yingshe.core.errors import BadInput

MODEL_HELP = "run folder (yingshe train ... -o RUN), model file, or shipped model: art-gan-32, art-vae-32"


def _runtime(p) -> None:
    from yingshe.core.device import DEVICE_CHOICES

    g = p.add_argument_group("runtime")
    g.add_argument("--device", default="auto", choices=DEVICE_CHOICES, help="auto picks CUDA, then MPS, then CPU")
    g.add_argument("--threads", type=int, default=None, help="CPU threads for torch")
    g.add_argument("--no-gallery", action="store_true", help="do not add the result to the gallery")
    g.add_argument("--json", action="store_true", help="print a machine-readable summary on stdout")
    g.add_argument("--quiet", "-q", action="store_true", help="no progress bar")


def add_commands(sub) -> None:
    fmt = argparse.RawDescriptionHelpFormatter
    p = sub.add_parser("sample", help="a grid of images from a trained GAN/VAE (or latent arithmetic)",
                       formatter_class=fmt,
                       description="Decode random latents (from --seed) into an image grid with its recipe "
                                   "(model fingerprint, seed, latents) embedded; `yingshe recreate` remakes it.",
                       epilog="examples:\n  yingshe sample art-gan-32 --n 64 -o grid.png\n"
                              "  yingshe sample runs/g64 --n 16 --seed 7 --truncation 0.7\n"
                              "  yingshe sample art-gan-32 --class mandelbrot --n 16\n"
                              "  yingshe sample art-vae-32 --z-from a.png --z-from b.png --z-from c.png "
                              "--z-weights 1,1,-1   (a + b − c)")
    p.add_argument("run", metavar="RUN", help=MODEL_HELP)
    p.add_argument("--n", type=int, default=64, help="how many images [default: 64]")
    p.add_argument("--seed", type=int, default=0, help="random seed [default: 0]")
    p.add_argument("--truncation", type=float, default=None, metavar="T", help="redraw latent values beyond ±T")
    p.add_argument("--class", dest="cls", default="", metavar="NAME", help="conditional GAN: only this class")
    p.add_argument("--nrow", type=int, default=0, help="images per row [default: square]")
    p.add_argument("--z-from", action="append", default=[], metavar="ART",
                   help="use the latent recorded in an artwork (from encode/project/sample --n 1); repeat to combine")
    p.add_argument("--z-weights", default=None, metavar="W,W...", help="weights of the --z-from latents [default: 1 each]")
    p.add_argument("-o", "--output", default=None, help="output PNG [default: the gallery folder]")
    add_overwrite_option(p)
    _runtime(p)
    p.set_defaults(func=cmd_sample)

    p = sub.add_parser("interpolate", help="a latent walk video/GIF from a trained GAN/VAE", formatter_class=fmt,
                       description="Walk through --keys random latents (or the latents of --through artworks) "
                                   "by spherical interpolation and write a video (.mp4) or .gif.",
                       epilog="examples:\n  yingshe interpolate art-gan-32 --steps 60 --loop -o walk.gif\n"
                              "  yingshe interpolate art-vae-32 --through a.png,b.png --steps 30 -o ab.mp4")
    p.add_argument("run", metavar="RUN", help=MODEL_HELP)
    p.add_argument("-o", "--output", required=True, help="walk.mp4 or walk.gif")
    add_overwrite_option(p)
    p.add_argument("--steps", type=int, default=60, help="frames [default: 60]")
    p.add_argument("--keys", type=int, default=4, help="random key latents to pass through [default: 4]")
    p.add_argument("--through", default=None, metavar="ART,ART...", help="artworks whose recorded latents are the keys")
    p.add_argument("--loop", action="store_true", help="return to the first key (a seamless loop)")
    p.add_argument("--linear", action="store_true", help="linear instead of spherical interpolation")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--truncation", type=float, default=None, metavar="T")
    p.add_argument("--class", dest="cls", default="", metavar="NAME")
    p.add_argument("--fps", type=float, default=24.0)
    p.add_argument("--scale", type=int, default=0, help="upscale frames by this factor [default: to ≥ 256 px]")
    _runtime(p)
    p.set_defaults(func=cmd_interpolate)

    for name, helptext in (("encode", "VAE: an image → its latent (and the reconstruction, with the latent in its recipe)"),
                           ("project", "GAN: find the latent whose image best matches IMAGE (VGG19 + pixel loss)")):
        p = sub.add_parser(name, help=helptext, description=helptext + ". The output PNG records the latent, "
                           "so `--z-from OUT` in sample and `--through` in interpolate can use it.")
        p.add_argument("run", metavar="RUN", help=MODEL_HELP)
        p.add_argument("image", metavar="IMAGE", help="image file")
        p.add_argument("-o", "--output", default=None, help="output PNG [default: the gallery folder]")
        add_overwrite_option(p)
        if name == "project":
            p.add_argument("--steps", type=int, default=300, help="optimisation steps [default: 300]")
            p.add_argument("--seed", type=int, default=0)
            p.add_argument("--class", dest="cls", default="", metavar="NAME")
        _runtime(p)
        p.set_defaults(func=cmd_encode if name == "encode" else cmd_project)


def _z_from_artwork(path: str, model) -> "object":
    import torch

    from yingshe.core.records import read_record

    rec = read_record(path)
    r = rec.get("recipe") or {}
    z = r.get("z") or (rec.get("summary") or {}).get("z")
    if rec.get("mapping") != "latent-sample" or not z:
        raise BadInput(f"{path!r} records no latent (make it with encode, project or sample --n 1)")
    import math

    if not isinstance(z, list) or not all(isinstance(v, (int, float)) and not isinstance(v, bool)
                                          and math.isfinite(v) for v in z):
        raise BadInput(f"{path!r}: its recorded latent is not a list of numbers (a damaged or hand-made record)")
    kind = (rec.get("summary") or {}).get("kind")
    if kind in ("gan", "vae") and kind != model.kind:  # a VAE's latent means nothing to a GAN of the same width
        raise BadInput(f"{path!r} holds a {kind.upper()}'s latent; this model is a {model.kind.upper()}")
    if len(z) != model.z_dim:
        raise BadInput(f"{path!r} holds {len(z)} latent values; this model's latent has {model.z_dim} "
                       "(one image, made with the same model)")
    return torch.tensor(z, dtype=torch.float32).view(1, -1)


def _out_path(args, stem: str) -> Path:
    from yingshe.core.artwork import unique_path
    from yingshe.core.paths import gallery_dir

    folder = output_in_folder(args.output)
    if args.output and folder is None:
        return free_output(args.output, args.overwrite, ext=".png")
    return unique_path((folder or gallery_dir()) / f"{stem}.png")


def _stem(spec: str) -> str:
    p = Path(spec)
    name = p.name if p.exists() else spec
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in Path(name).stem)[:40]


def _finish(art, args, out: Path, extra: dict | None = None) -> int:
    path = art.save(out, gallery=not args.no_gallery)
    summary = {"output": str(path), "seconds": round(art.seconds, 3), "recipe": art.recipe.to_dict(),
               "model": art.weights.get("model")} | (extra or {})
    if args.json:
        summary["recipe"].pop("z", None)
        print(json.dumps(summary, indent=2))
    else:
        print(wrote(path), file=sys.stderr)
    return 0


def _load(args):
    from yingshe.core.device import resolve_device, set_threads
    from yingshe.generative.sample import load_model

    set_threads(args.threads)
    return load_model(args.run, resolve_device(args.device))


def cmd_sample(args) -> int:
    from yingshe.generative.mapping import LatentSampleRecipe, run

    m = _load(args)
    values = {"model": m.source, "n": args.n, "seed": args.seed, "truncation": args.truncation,
              "class_name": args.cls, "nrow": args.nrow}
    if args.z_from:
        ws = [1.0] * len(args.z_from)
        if args.z_weights:
            try:
                ws = [float(w) for w in args.z_weights.split(",")]
            except ValueError:
                raise BadInput(f"--z-weights {args.z_weights!r}: expected numbers like 1,1,-1") from None
            if len(ws) != len(args.z_from):
                raise BadInput(f"--z-weights has {len(ws)} values for {len(args.z_from)} --z-from latents")
        z = sum(w * _z_from_artwork(a, m) for w, a in zip(ws, args.z_from))
        values |= {"n": 1, "z": [float(v) for v in z.flatten()]}
    recipe = LatentSampleRecipe.from_dict(values)
    art = run(recipe, {}, None, device=args.device, threads=args.threads, model=m)
    return _finish(art, args, _out_path(args, f"sample-{_stem(args.run)}-s{args.seed}"))


def cmd_encode(args) -> int:
    from yingshe.core import sources
    from yingshe.generative.mapping import LatentSampleRecipe, run
    from yingshe.generative.sample import encode

    m = _load(args)
    src = sources.load(args.image, what="image")
    z = encode(m, src.image)
    recipe = LatentSampleRecipe.from_dict({"model": m.source, "n": 1, "z": [float(v) for v in z.flatten().cpu()]})
    art = run(recipe, {}, None, device=args.device, model=m)
    art.summary["encoded_from"] = src.record
    return _finish(art, args, _out_path(args, f"encode-{_stem(args.image)}"), {"latent_dim": m.z_dim})


def cmd_project(args) -> int:
    from yingshe.core import sources
    from yingshe.core.progress import Progress, TqdmProgress
    from yingshe.generative.mapping import LatentSampleRecipe, run
    from yingshe.generative.project import project

    if args.steps < 1:
        raise BadInput("--steps must be at least 1")
    m = _load(args)
    src = sources.load(args.image, what="image")
    cls = m.class_index(args.cls or None)
    z, _, loss = project(m, src.image, steps=args.steps, seed=args.seed, cls=cls,
                         progress=Progress() if args.quiet else TqdmProgress())
    recipe = LatentSampleRecipe.from_dict({"model": m.source, "n": 1, "class_name": args.cls,
                                           "z": [float(v) for v in z.flatten().cpu()]})
    art = run(recipe, {}, None, device=args.device, model=m)
    art.summary |= {"projected_from": src.record, "projection_loss": loss, "projection_steps": args.steps}
    return _finish(art, args, _out_path(args, f"project-{_stem(args.image)}"), {"loss": loss})


def cmd_interpolate(args) -> int:
    from yingshe.core.progress import Progress, TqdmProgress
    from yingshe.generative.mapping import WALK

    out = Path(args.output)
    if out.suffix.lower() not in (".mp4", ".gif"):
        raise BadInput(f"-o {args.output!r}: write a .mp4 or a .gif")
    if args.fps is not None and not 1 <= args.fps <= 120:
        raise BadInput("--fps must be between 1 and 120")
    out = free_output(out, args.overwrite)
    values = {"model": str(args.run), "steps": args.steps, "keys": args.keys, "loop": args.loop,
              "spherical": not args.linear, "truncation": args.truncation, "class_name": args.cls,
              "fps": args.fps, "scale": args.scale, "seed": args.seed}
    if args.through:
        m = _load(args)
        zs = [_z_from_artwork(a.strip(), m) for a in args.through.split(",") if a.strip()]
        if len(zs) < 2:
            raise BadInput("--through takes two or more artworks, comma-separated: --through a.png,b.png")
        values["z"] = [round(float(v), 7) for z in zs for v in z.flatten()]
    recipe = WALK.recipe.from_dict(values)
    art = WALK.run(recipe, {}, Progress() if args.quiet else TqdmProgress(), device=args.device, threads=args.threads)
    path = art.save(out, gallery=not args.no_gallery)
    if args.json:
        print(json.dumps({"output": str(path), "frames": len(art.frames), "mapping": "latent-walk"}))
    else:
        print(wrote(path, f"{len(art.frames)} frames; `yingshe info` shows its recipe"), file=sys.stderr)
    return 0
