"""``yingshe info`` and ``yingshe recreate``: read an artwork's recipe, make it again."""

from __future__ import annotations

import argparse
import json
import sys


def add_commands(sub) -> None:
    p = sub.add_parser("info", help="print the recipe recorded inside an artwork (JSON)",
                       description="Print the record embedded in a yingshe artwork: mapping, recipe, seed, "
                                   "input and weight fingerprints, version, device and timings.")
    p.add_argument("file", metavar="FILE", help="a yingshe PNG (or an image with a .json sidecar)")
    p.add_argument("--recipe-only", action="store_true", help="print just the mapping's recipe")
    p.set_defaults(func=cmd_info)

    p = sub.add_parser("recreate", help="make an artwork again from the recipe inside it",
                       description="Re-run the mapping recorded in FILE with the same recipe, seed, inputs "
                                   "(checked by sha256), device and threads. On the same machine and "
                                   "yingshe version the pixels are identical.",
                       formatter_class=argparse.RawDescriptionHelpFormatter,
                       epilog="example:\n  yingshe recreate starry-photo.png -o again.png")
    p.add_argument("file", metavar="FILE")
    p.add_argument("-o", "--output", required=True, metavar="OUT", help="where to write the new artwork (or -)")
    p.add_argument("--device", default=None, choices=("auto", "cpu", "cuda", "mps"),
                   help="override the recorded device (pixels may then differ slightly)")
    p.add_argument("--threads", type=int, default=None, help="override the recorded CPU thread count")
    p.add_argument("--allow-changed-inputs", action="store_true",
                   help="use input files even if their sha256 changed since the artwork was made")
    p.add_argument("--no-gallery", action="store_true", help="do not add the result to the gallery")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_recreate)


def cmd_info(args) -> int:
    from yingshe.core.images import read_record

    record = read_record(args.file)
    out = record.get("recipe") if args.recipe_only else record
    print(json.dumps(out, indent=2, ensure_ascii=False, sort_keys=True))
    return 0


def cmd_recreate(args) -> int:
    from yingshe.core.images import read_record
    from yingshe.core.progress import Progress, TqdmProgress
    from yingshe.core.recreate import recreate

    record = read_record(args.file)
    art = recreate(record, progress=Progress() if args.quiet else TqdmProgress(), device=args.device,
                   threads=args.threads, allow_changed_inputs=args.allow_changed_inputs)
    path = art.save(args.output, gallery=not args.no_gallery and args.output != "-")
    if args.output != "-":
        print(f"wrote {path}", file=sys.stderr)
    return 0
