"""``yingshe art``: render an algorithmic generator (PNG, SVG, GIF or MP4)."""

from __future__ import annotations

import argparse
import json
import sys

from yingshe.core.errors import BadInput

DESCRIPTION = """\
Render one of yingshe's algorithmic generators: seed + parameters → picture. Every generator
takes --size, --seed, --palette and its own parameters (see `yingshe art NAME --help`), or
--set key=value for any of them. The output format follows -o's extension: .png (any size up
to 8192), .svg (vector generators: plotter-ready polylines), .gif / .mp4 (with --animate)."""

EPILOG = """\
examples:
  yingshe art --list                                        the generators, one line each
  yingshe art mandelbrot -o m.png --size 2048 --set zoom=1e6 --set iterations=3000
  yingshe art attractor -o a.png --kind dejong --palette harmony:triadic:#ff8800
  yingshe art lsystem -o plant.svg --preset plant             (a plotter-ready SVG)
  yingshe art flowfield -o f.png --palette image:photo.jpg    (colours taken from a photo)
  yingshe art mandelbrot -o zoom.gif --animate zoom=1:1e6:log --frames 48
  yingshe art reaction -o r.mp4 --animate feed=0.03:0.06 --frames 30

palettes: a name (yingshe art --palettes), image:PATH[:K], harmony:RULE:#RRGGBB
(complementary, triadic, analogous, split, tetradic) or #hex,#hex,... (first = background)."""


def add_commands(sub) -> None:
    p = sub.add_parser("art", help="algorithmic art: fractals, attractors, flow fields, L-systems, ...",
                       description=DESCRIPTION, epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
                       add_help=False)
    p.add_argument("name", nargs="?", metavar="NAME", help="generator (see --list)")
    p.add_argument("--list", action="store_true", help="list the generators with a one-line description")
    p.add_argument("--palettes", action="store_true", help="list the named palettes")
    p.add_argument("-h", "--help", action="store_true", help="show this help (or NAME's options)")
    p.add_argument("rest", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    p.set_defaults(func=cmd_art, _parser=p)


def generators():
    from yingshe.core import registry

    for module in registry.MAPPING_MODULES:
        if module.startswith("yingshe.algorithmic."):
            __import__(module)
    return [m for m in registry.all_mappings() if m.family == "algorithmic"]


def _generator_parser(mapping):
    from yingshe.cli import ArgumentParser
    from yingshe.cli.options import add_overwrite_option, add_recipe_options

    p = ArgumentParser(prog=f"yingshe art {mapping.name}", description=mapping.summary + ".",
                       epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("-o", "--output", default=None, metavar="OUT",
                   help="output .png/.svg/.gif/.mp4 (or - for PNG on stdout) [default: the gallery folder]")
    add_overwrite_option(p)
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="set any recipe parameter (repeatable)")
    p.add_argument("--recipe", default=None, metavar="FILE",
                   help="start from a recipe: a JSON file or a yingshe artwork")
    p.add_argument("--animate", default=None, metavar="PARAM=A:B[:log]",
                   help="sweep a numeric parameter from A to B (log: geometrically) → .gif or .mp4")
    p.add_argument("--frames", type=int, default=24, help="animation frames [default: 24]")
    p.add_argument("--fps", type=float, default=12.0, help="animation frames per second [default: 12]")
    add_recipe_options(p, mapping.recipe)
    g = p.add_argument_group("runtime")
    g.add_argument("--no-gallery", action="store_true", help="do not add the result to the gallery")
    g.add_argument("--json", action="store_true", help="print a machine-readable summary on stdout")
    g.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    return p


def parse_sets(items: list[str], opts=None) -> dict:
    """``--set KEY=VALUE`` items as a dict; with the parsed ``opts``, a key that its own option
    also gives (``--size 32 --set size=64``) is an error rather than one of them ignored."""
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise BadInput(f"--set {item!r}: expected KEY=VALUE, e.g. --set zoom=100")
        key = key.strip().replace("-", "_")
        if opts is not None and getattr(opts, f"r_{key}", None) is not None:
            raise BadInput(f"--{key.replace('_', '-')} and --set {key}=... both give {key}; keep one")
        out[key] = value
    return out


def cmd_art(args) -> int:
    from yingshe.algorithmic.palettes import PALETTES

    if args.palettes:
        for name, cols in sorted(PALETTES.items()):
            print(f"{name:10s} {' '.join(cols)}")
        return 0
    if args.list:
        gens = generators()
        width = max(len(m.name) for m in gens)
        for m in gens:
            print(f"{m.name:{width}s}  {m.summary}")
        return 0
    if not args.name:
        if args.help:
            args._parser.print_help()
            return 0
        raise BadInput("name a generator: yingshe art NAME -o OUT (yingshe art --list shows them)")
    from yingshe.core import registry

    names = [m.name for m in generators()]
    if args.name not in names:
        raise BadInput(f"unknown generator {args.name!r} (known: {', '.join(names)})")
    mapping = registry.get(args.name)
    parser = _generator_parser(mapping)
    if args.help:
        parser.print_help()
        return 0
    opts = parser.parse_args(args.rest)
    return render(mapping, opts)


def render(mapping, opts) -> int:
    from pathlib import Path

    from yingshe.cli.options import free_output, output_in_folder, recipe_from_args, wrote
    from yingshe.core.artwork import unique_path
    from yingshe.core.writers import WRITERS
    from yingshe.core.paths import gallery_dir
    from yingshe.core.progress import Progress, TqdmProgress

    base = {}
    if opts.recipe:
        from yingshe.cli.run import _recipe_base
        from yingshe.core import records

        try:
            base = _recipe_base(opts.recipe, mapping)
        except BadInput:
            rec = records.read_record(opts.recipe)  # an animation of this generator: its base recipe
            if rec["mapping"] != "animation" or rec["recipe"].get("generator") != mapping.name:
                raise
            base = records.parse_json(rec["recipe"].get("base", "{}"), what="the animation's base recipe")
    base.update(parse_sets(opts.set, opts))
    recipe = recipe_from_args(mapping.recipe, opts, base=base)
    out = opts.output
    folder = output_in_folder(out)  # -o out/: a name of its own inside
    if folder is not None:
        out = None
    ext = Path(out).suffix.lower() if out and out != "-" else (".gif" if opts.animate else ".png")
    if ext == "":
        ext = ".png"
    if opts.animate is None and ext in (".gif", ".mp4"):
        raise BadInput(f"-o {out}: {ext} is for animations; add --animate PARAM=A:B")
    if opts.animate is not None:
        if ext not in (".gif", ".mp4") and out != "-":
            raise BadInput("--animate writes .gif or .mp4; give -o NAME.gif or NAME.mp4")
        if out == "-":
            raise BadInput("--animate cannot write to stdout; give -o NAME.gif or NAME.mp4")
        if ext == ".mp4":
            try:
                import imageio_ffmpeg  # noqa: F401
            except ImportError:
                raise BadInput("MP4 needs imageio-ffmpeg: pip install 'yingshe[video]' (or save as .gif)") from None
        from yingshe.algorithmic.animation import AnimationRecipe, parse_sweep

        data = recipe.to_dict()
        seed = data.pop("seed")
        data.pop(parse_sweep(opts.animate)[0], None)
        anim = AnimationRecipe.from_dict({"generator": mapping.name, "sweep": opts.animate, "frames": opts.frames,
                                          "fps": opts.fps, "seed": seed, "base": json.dumps(data, sort_keys=True)})
        job_mapping, job_recipe = registry_get("animation"), anim
    else:
        if ext == ".svg" and not is_vector(mapping):
            raise BadInput(f"{mapping.name} is a raster generator; save it as .png (vector generators: "
                           + ", ".join(m.name for m in generators() if is_vector(m)) + ")")
        if ext not in WRITERS or WRITERS[ext].kind not in ("image", "vector", "record"):
            raise BadInput(f"-o {out}: cannot write {ext!r}; use .png, .jpg, .webp or .svg (.gif or .mp4 with --animate)")
        job_mapping, job_recipe = mapping, recipe
    if out is None:
        out = str(unique_path((folder or gallery_dir()) / f"{mapping.name}-{recipe.seed}{ext}"))
    elif out != "-":
        out = str(free_output(out, opts.overwrite, ext=ext))
    progress = Progress() if opts.quiet else TqdmProgress()
    art = job_mapping.run(job_recipe, {}, progress)
    path = art.save(out, gallery=not opts.no_gallery and out != "-")
    if opts.json:
        print(json.dumps({"output": str(path), "mapping": art.mapping, "seconds": round(art.seconds, 3),
                          "recipe": job_recipe.to_dict()}, indent=2),
              file=sys.stderr if out == "-" else sys.stdout)
    elif out != "-":
        print(wrote(path, f"{art.seconds:.2f} s"), file=sys.stderr)
    return 0


def is_vector(mapping) -> bool:
    """Vector generators set ``VECTOR = True`` in their module and can write SVG."""
    import importlib

    return bool(getattr(importlib.import_module(mapping.run.__module__), "VECTOR", False))


def registry_get(name):
    from yingshe.core import registry

    return registry.get(name)
