"""``yingshe demo``: a small gallery of real artworks, offline, in a few minutes on a CPU.

Content photos ship inside scikit-image (public domain / CC0); the style images are made by
yingshe's own flow-field generator, so nothing is downloaded.
"""

from __future__ import annotations

import sys
from pathlib import Path

#: (skimage photo, generated style, style-transfer overrides)
PIECES = [
    ("astronaut", "art:flowfield?seed=3&palette=ember", {}),
    ("coffee", "art:flowfield?seed=7&palette=ocean&curl=true", {"preserve_colors": "none"}),
    ("chelsea", "art:flowfield?seed=11&palette=dusk", {"style_scale": 1.5}),
]


def add_commands(sub) -> None:
    p = sub.add_parser("demo", help="make a small gallery of artworks offline and print where it is",
                       description="Stylise photos that ship with scikit-image using style images that yingshe "
                                   "generates itself. Runs offline; takes a few minutes on a CPU, seconds on a GPU.")
    p.add_argument("-o", "--output", default=None, metavar="DIR", help="folder for the artworks [default: <gallery>/demo]")
    p.add_argument("--size", type=int, default=256, help="longest side of each artwork [default: 256]")
    p.add_argument("--iterations", type=int, default=150, help="optimiser iterations per artwork [default: 150]")
    p.add_argument("--pieces", type=int, default=len(PIECES), help=f"how many artworks (1-{len(PIECES)})")
    p.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda", "mps"))
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bars")
    p.set_defaults(func=cmd_demo)


def cmd_demo(args) -> int:
    import skimage.data
    from PIL import Image

    from yingshe.core import sources
    from yingshe.core.errors import BadInput
    from yingshe.core.images import save_image
    from yingshe.core.paths import gallery_dir
    from yingshe.core.progress import Progress, TqdmProgress
    from yingshe.style.pipeline import run
    from yingshe.style.recipe import StyleRecipe

    if not 1 <= args.pieces <= len(PIECES):
        raise BadInput(f"--pieces must be between 1 and {len(PIECES)}")
    out_dir = Path(args.output) if args.output else gallery_dir() / "demo"
    out_dir.mkdir(parents=True, exist_ok=True)
    made = []
    for name, style_spec, overrides in PIECES[: args.pieces]:
        photo = out_dir / f"{name}.png"
        if not photo.exists():  # a real file, so the recipe can point at it and recreate works
            save_image(Image.fromarray(getattr(skimage.data, name)()).convert("RGB"), photo)
        recipe = StyleRecipe(size=args.size, iterations=args.iterations, **overrides)
        recipe.validate()
        content = sources.load(photo, what="content image")
        style = sources.load(style_spec, what="style image", size_hint=args.size)
        style_file = out_dir / f"style-{name}.png"
        save_image(style.image, style_file, {"source": style.record["source"]})
        print(f"painting {name} with {style.record['source']} ...", file=sys.stderr)
        art = run(recipe, {"content": [content], "style": [style]}, Progress() if args.quiet else TqdmProgress(),
                  device=args.device)
        path = art.save(out_dir / f"{name}-painted.png")
        made.append(path)
        if art.interrupted:
            break
    print(f"\nyour demo gallery is in {out_dir}")
    for p in made:
        print(f"  {p}")
    print("try: yingshe info " + str(made[0]) + "   |   yingshe gallery list")
    return 0
