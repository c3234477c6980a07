"""``yingshe demo``: a small gallery of real artworks, offline, in a minute or two on a 2-core CPU.

The photos ship inside scikit-image (public domain / CC0) and the paintings inside yingshe
(``yingshe styles``), so nothing is downloaded. Most pieces use fast style (one pass of Magenta's
arbitrary-style network: seconds each); the last is painted by Gatys optimisation, the slow,
careful method (``--no-gatys`` skips it).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

#: (mapping, photo, painting, recipe overrides)
PIECES = [
    ("fast-style", "astronaut", "starry-night", {}),
    ("fast-style", "chelsea", "great-wave", {}),
    ("fast-style", "coffee", "the-scream", {}),
    ("fast-style", "rocket", "composition-vii", {}),
    ("style", "astronaut", "woman-with-a-hat", {"preserve_colors": "none"}),
]


def add_commands(sub) -> None:
    p = sub.add_parser("demo", help="make a small gallery of artworks offline and print where it is",
                       description="Paint photos that ship with scikit-image in the manner of paintings that ship\n"
                                   "with yingshe, by fast style and by Gatys optimisation. Runs offline: about a\n"
                                   "minute and a half on a 2-core CPU (--no-gatys: seconds), seconds on a GPU.\n"
                                   "Every artwork carries its recipe.",
                       formatter_class=argparse.RawDescriptionHelpFormatter,
                       epilog="examples:\n  yingshe demo\n  yingshe demo -o my-demo/ --size 768\n"
                              "  yingshe demo --no-gatys          (fast style only: seconds)")
    p.add_argument("-o", "--output", default=None, metavar="DIR", help="folder for the artworks [default: <gallery>/demo]")
    p.add_argument("--size", type=int, default=512, help="longest side of each artwork [default: 512; the Gatys piece "
                                                        "is painted at half of it]")
    p.add_argument("--pieces", type=int, default=len(PIECES), help=f"how many artworks (1-{len(PIECES)})")
    p.add_argument("--no-gatys", action="store_true", help="skip the slower Gatys piece")
    p.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda", "mps"))
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bars")
    p.set_defaults(func=cmd_demo)


def cmd_demo(args) -> int:
    import skimage.data
    from PIL import Image

    from yingshe.core import registry, sources
    from yingshe.core.artwork import unique_path
    from yingshe.core.errors import BadInput
    from yingshe.core.images import save_image
    from yingshe.core.paths import gallery_dir
    from yingshe.core.progress import Progress, TqdmProgress

    if not 1 <= args.pieces <= len(PIECES):
        raise BadInput(f"--pieces must be between 1 and {len(PIECES)}")
    if not 64 <= args.size <= 4096:
        raise BadInput("--size must be between 64 and 4096")
    out_dir = Path(args.output) if args.output else gallery_dir() / "demo"
    out_dir.mkdir(parents=True, exist_ok=True)
    made = []
    for mapping_name, name, painting, overrides in PIECES[: args.pieces]:
        if mapping_name == "style" and args.no_gatys:
            continue
        photo = out_dir / f"{name}.png"
        if not photo.exists():  # a real file beside the artworks, so anyone can see what was painted
            save_image(Image.fromarray(getattr(skimage.data, name)()).convert("RGB"), photo)
        mapping = registry.get(mapping_name)
        size = args.size if mapping_name == "fast-style" else max(64, args.size // 2)
        recipe = mapping.recipe(size=size, **overrides)
        recipe.validate()
        inputs = {"content": [sources.load(photo, what="content image")],
                  "style": [sources.load(f"builtin:{painting}", what="style image", size_hint=size)]}
        how = "fast style" if mapping_name == "fast-style" else "Gatys optimisation (the careful one)"
        print(f"painting {name} as builtin:{painting} by {how} ...", file=sys.stderr)
        art = mapping.run(recipe, inputs, Progress() if args.quiet else TqdmProgress(), device=args.device)
        path = art.save(unique_path(out_dir / f"{name}-{painting}.png"))  # a second demo never overwrites
        made.append(path)
        if art.interrupted:
            break
    print(f"\nyour demo gallery is in {out_dir}")
    for p in made:
        print(f"  {p}")
    print("try: yingshe info " + str(made[0]) + "   |   yingshe gallery list   |   yingshe studio")
    return 0
