"""``yingshe dataset art``: captioned training sets of generated pictures."""

from __future__ import annotations

import argparse
import sys


def add_commands(sub) -> None:
    p = sub.add_parser("dataset", help="build training datasets (yingshe dataset art ...)",
                       description="Build training datasets.")
    dsub = p.add_subparsers(dest="dataset_kind", metavar="KIND", parser_class=type(p))
    a = dsub.add_parser("art", help="generated pictures in class folders + captions.jsonl",
                        formatter_class=argparse.RawDescriptionHelpFormatter,
                        description="Render N pictures from algorithmic generators into DIR/<generator>/<index>.png "
                                    "and write DIR/captions.jsonl: one JSON line per picture with its file, class, "
                                    "a natural caption (from the recipe and the measured colours) and its recipe.",
                        epilog="example:\n  yingshe dataset art --generators flowfield,attractor,julia --n 5000 "
                               "--size 64 -o data/art")
    a.add_argument("--generators", default="flowfield,attractor,mandelbrot,julia,reaction,voronoi,truchet,"
                   "subdivision,harmonograph,packing,lsystem",
                   help="comma-separated generator names (one class each) [default: all]")
    a.add_argument("--n", type=int, default=1000, help="number of pictures [default: 1000]")
    a.add_argument("--size", type=int, default=64, help="picture size in pixels [default: 64]")
    a.add_argument("--seed", type=int, default=0, help="dataset seed [default: 0]")
    a.add_argument("--workers", type=int, default=None, help="processes [default: one per CPU core]")
    a.add_argument("-o", "--output", required=True, metavar="DIR", help="output folder")
    a.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    a.set_defaults(func=cmd_dataset_art)
    p.set_defaults(func=lambda args: (p.print_help(), 0)[1])


def cmd_dataset_art(args) -> int:
    from yingshe.algorithmic.dataset import build
    from yingshe.core.progress import Progress, TqdmProgress

    names = [g.strip() for g in args.generators.split(",") if g.strip()]
    path = build(args.output, names, args.n, args.size, seed=args.seed, workers=args.workers,
                 progress=Progress() if args.quiet else TqdmProgress())
    print(f"wrote {args.n} pictures and {path}", file=sys.stderr)
    return 0
