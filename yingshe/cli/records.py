"""``yingshe info`` and ``yingshe recreate``: read an artwork's recipe, make it again."""

from __future__ import annotations

import argparse
import json
import sys

from yingshe.cli.options import add_overwrite_option, free_output, output_in_folder, wrote

RECREATE_EPILOG = """\
examples:
  yingshe recreate starry-photo.png -o again.png
  yingshe recreate friend.png -o mine.png --input content=photo.jpg     (someone else's artwork)
  yingshe recreate friend.png -o mine.png --search ~/Pictures           (inputs found by sha256)
  yingshe recreate video.mp4 -o again.mp4 --deep        (inputs that are artworks made again first)

An artwork made here (in your gallery) reads its inputs where they were. Someone else's
artwork is untrusted: its recorded paths are shown, not followed, outside its own folder and
the current folder; name them with --input or --search."""


def add_commands(sub) -> None:
    p = sub.add_parser("info", help="print the recipe recorded inside an artwork (JSON)",
                       description="Print the record embedded in a yingshe artwork (PNG, JPEG, WebP, SVG, GIF, "
                                   "FLAC, MIDI, or any file with a .json sidecar): mapping, recipe, seed, input and "
                                   "weight fingerprints, version, device. Inputs that were themselves artworks "
                                   "carry their own records: --tree shows the whole chain.")
    p.add_argument("file", metavar="FILE", help="a yingshe artwork")
    p.add_argument("--recipe-only", action="store_true", help="print just the mapping's recipe")
    p.add_argument("--tree", action="store_true", help="the provenance chain, one line per artwork")
    p.set_defaults(func=cmd_info)

    p = sub.add_parser("recreate", help="make an artwork again from the recipe inside it",
                       description="Re-run the mapping recorded in FILE with the same recipe, seed, inputs "
                                   "(checked by sha256), device and threads. On the same machine and "
                                   "yingshe version the file is identical.",
                       formatter_class=argparse.RawDescriptionHelpFormatter, epilog=RECREATE_EPILOG)
    p.add_argument("file", metavar="FILE")
    p.add_argument("-o", "--output", required=True, metavar="OUT", help="where to write the new artwork (or -)")
    add_overwrite_option(p)
    p.add_argument("--input", action="append", default=[], metavar="NAME=FILE",
                   help="use FILE for the artwork's input NAME (repeat for several, in order)")
    p.add_argument("--search", action="append", default=[], metavar="DIR",
                   help="find inputs in DIR by their sha256 (repeatable)")
    p.add_argument("--deep", action="store_true",
                   help="inputs that are yingshe artworks: make them again from their own records first")
    p.add_argument("--device", default=None, choices=("auto", "cpu", "cuda", "mps"),
                   help="override the recorded device (results may then differ slightly)")
    p.add_argument("--threads", type=int, default=None, help="override the recorded CPU thread count")
    p.add_argument("--allow-changed-inputs", action="store_true",
                   help="use inputs and weights even if their sha256 changed since the artwork was made")
    p.add_argument("--no-gallery", action="store_true", help="do not add the result to the gallery")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_recreate)


def cmd_info(args) -> int:
    from yingshe.core.records import read_record

    record = read_record(args.file)
    if args.tree:
        for line in tree_lines(record, args.file):
            print(line)
        return 0
    out = record.get("recipe") if args.recipe_only else record
    print(json.dumps(out, indent=2, ensure_ascii=False, sort_keys=True))
    return 0


def tree_lines(record: dict, name: str, prefix: str = "", last: bool = True, top: bool = True) -> list[str]:
    """The chain of artworks behind ``record``, drawn as a tree."""
    seed = record.get("recipe", {}).get("seed")
    label = f"{record['mapping']} (seed {seed})  {name}"
    lines = [label if top else prefix + ("└─ " if last else "├─ ") + label]
    child_prefix = "" if top else prefix + ("   " if last else "│  ")
    items = [(n, it) for n, its in (record.get("inputs") or {}).items() for it in its]
    for i, (n, it) in enumerate(items):
        end = i == len(items) - 1
        src = it["source"] if len(it["source"]) <= 70 else it["source"][:67] + "..."
        if "record" in it:
            lines += tree_lines(it["record"], f"[{n}] {src}", child_prefix, end, top=False)
        else:
            lines.append(child_prefix + ("└─ " if end else "├─ ") + f"[{n}] {src}  sha256 {it['sha256'][:12]}…")
    return lines


def cmd_recreate(args) -> int:
    from pathlib import Path

    from yingshe.core.errors import BadInput
    from yingshe.core.fingerprint import sha256_file
    from yingshe.core.gallery import Gallery
    from yingshe.core.progress import Progress, TqdmProgress
    from yingshe.core.recreate import Supplied, recreate
    from yingshe.core.records import read_record

    record = read_record(args.file)
    supplied = Supplied()
    for item in args.input:
        name, sep, path = item.partition("=")
        if not sep or not name.strip() or not path:
            raise BadInput(f"--input {item!r}: expected NAME=FILE, e.g. --input content=photo.jpg")
        supplied.inputs.setdefault(name.strip(), []).append(Path(path).expanduser())
    supplied.search = [Path(d).expanduser() for d in args.search]
    if args.threads is not None and not 1 <= args.threads <= 1024:
        raise BadInput(f"--threads must be between 1 and 1024; got {args.threads}")
    with Gallery.open() as g:  # an artwork made here is ours: its paths may be read
        trusted = g.find(sha256_file(args.file)) is not None
    art = recreate(record, progress=Progress() if args.quiet else TqdmProgress(), device=args.device,
                   threads=args.threads, allow_changed_inputs=args.allow_changed_inputs, trusted=trusted,
                   artwork_path=args.file, supplied=supplied, deep=args.deep)
    folder = output_in_folder(args.output)  # -o again/: the artwork's own name inside
    if folder is not None:
        from yingshe.core.artwork import unique_path

        out = unique_path(folder / Path(args.file).with_suffix(art.default_ext()).name)
    else:
        out = args.output if args.output == "-" else free_output(args.output, args.overwrite, ext=art.default_ext())
    path = art.save(out, gallery=not args.no_gallery and out != "-")
    if args.output != "-":
        print(wrote(path), file=sys.stderr)
    return 0
