"""``yingshe MAPPING [INPUT...] [options] -o OUT`` for every registered mapping, built from the
registry: nothing here knows any particular mapping.

- The first input a mapping declares is positional (several files or folders make a batch);
  its other inputs are ``--NAME SOURCE`` options (repeat for several). A source is a file, a
  ``yingshe:MAPPING?key=value`` spec made on the fly, a registered scheme (``builtin:...``), or
  for text the text itself or ``@FILE``.
- The recipe's fields are options (``--help`` lists them with ranges and defaults); ``--set
  key=value`` and ``--recipe FILE`` (a JSON recipe or another artwork of the same mapping) too.
- ``-o`` picks the format by extension among the writers that fit the mapping's outputs; a
  folder (or several inputs) gets one file per input, never overwriting; ``-`` writes to stdout.

`yingshe list` shows every mapping with its input and output kinds.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from yingshe.core.errors import BadInput


def add_commands(sub) -> None:
    p = sub.add_parser("list", help="every mapping, with what it takes and what it makes",
                       description="List the mappings: name, family, inputs → outputs, summary.")
    p.add_argument("--json", action="store_true", help="machine-readable")
    p.set_defaults(func=cmd_list)


def add_mapping_commands(sub) -> None:
    """One command per mapping that has no hand-written one (called after the command modules)."""
    from yingshe.core import registry

    for m in registry.all_mappings():
        if m.name in sub.choices or not m.cli or m.family.startswith("algorithmic"):
            continue
        p = sub.add_parser(m.name, help=m.summary, add_help=False)
        p.add_argument("rest", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
        p.set_defaults(func=cmd_mapping, _mapping=m.name)


def mapping_names() -> set[str]:
    """Mappings with a generic command (``yingshe NAME``)."""
    from yingshe.core import registry

    return {m.name for m in registry.all_mappings() if m.cli and not m.family.startswith("algorithmic")
            and m.name != "style"}


def kinds_line(m) -> str:
    ins = ", ".join(f"{s.kind}({s.name}{'…' if s.multiple else ''}{'' if s.required else '?'})"
                    for s in m.inputs if not s.from_recipe) or "seed"
    return f"{ins} → {', '.join(m.outputs)}"


def cmd_list(args) -> int:
    from yingshe.core import registry

    maps = registry.all_mappings()
    if args.json:
        print(json.dumps([{"name": m.name, "family": m.family, "summary": m.summary, "outputs": list(m.outputs),
                           "inputs": [{"name": s.name, "kind": s.kind, "multiple": s.multiple,
                                       "required": s.required} for s in m.inputs if not s.from_recipe],
                           "command": _command_of(m)} for m in maps], indent=2, ensure_ascii=False))
        return 0
    width = max(len(m.name) for m in maps)
    for family in sorted({m.family for m in maps}):
        print(f"{family}:")
        for m in (m for m in maps if m.family == family):
            print(f"  {m.name:{width}s}  {kinds_line(m):38s}  {m.summary}")
    print("\nrun one: yingshe NAME --help   (algorithmic generators: yingshe art NAME)")
    return 0


def _command_of(m) -> str:
    if m.family.startswith("algorithmic"):
        return f"yingshe art {m.name}" if m.family == "algorithmic" else "yingshe art NAME --animate ..."
    return {"latent-sample": "yingshe sample"}.get(m.name, f"yingshe {m.name}")


# --------------------------------------------------------------------------- one mapping

def mapping_parser(m, argv: list[str] | None = None):
    from yingshe.cli import ArgumentParser
    from yingshe.cli.options import add_overwrite_option, add_recipe_options
    from yingshe.core.writers import DEFAULT_EXT, WRITERS

    exts = sorted(e for e, w in WRITERS.items() if w.kind in m.outputs or (w.kind == "image" and "video" in m.outputs))
    specs = m.inputs
    if m.dynamic_inputs is not None:  # grid: the inputs of the mapping named by --mapping
        specs = m.input_specs({"target": _option_value(argv or [], "--mapping", m)})
    ins = [s for s in specs if not s.from_recipe]
    first = ins[0] if ins and m.dynamic_inputs is None else None
    example = f"yingshe {m.name}" + (f" {_example_source(first)}" if first else "") + "".join(
        f" --{s.name} {_example_source(s)}" for s in (ins if first is None else ins[1:]) if s.required) + \
        f" -o out{DEFAULT_EXT[m.outputs[0]]}"
    epilog = (f"example:\n  {example}\n\n" + _examples(m) +
              "sources: a file, a folder (batch), yingshe:MAPPING?key=value (made on the fly), "
              + ("text itself or @FILE for text, " if any(s.kind == "text" for s in ins) else "")
              + f"or a scheme like builtin:NAME.\noutput formats: {' '.join(exts)}; `yingshe info OUT` shows the "
              "recipe inside, `yingshe recreate OUT` makes it again.")
    p = ArgumentParser(prog=f"yingshe {m.name}", description=f"{m.summary}.\n\n{kinds_line(m)}",
                       epilog=epilog, formatter_class=argparse.RawDescriptionHelpFormatter)
    if first is not None:
        p.add_argument(first.name, nargs="+" if first.required else "*", metavar=first.name.upper(),
                       help=f"{first.help} ({first.kind}; several, or a folder, make a batch)")
    for s in (ins if first is None else ins[1:]):
        p.add_argument(f"--{s.name.replace('_', '-')}", dest=f"in_{s.name}", action="append",
                       default=[], metavar="[INDEX:]SOURCE" if s.index_field else "SOURCE",
                       required=s.required and not s.multiple,
                       help=f"{s.help} ({s.kind}{'; repeat for several' if s.multiple else ''}"
                            + (f"; INDEX:SOURCE sets its --{s.index_field.replace('_', '-')} entry, "
                               f"e.g. --{s.name} 1:sky.png" if s.index_field else "") + ")")
    still = ("; a picture extension (.png, .jpg ...) writes a single still frame"
             if "video" in m.outputs and "image" not in m.outputs else "")
    p.add_argument("-o", "--output", default=None, metavar="OUT",
                   help=f"output file (its extension picks the format{still}), a folder (ends with /), or - for "
                        "stdout [default: the gallery folder]")
    add_overwrite_option(p)
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="set any recipe field (repeatable)")
    p.add_argument("--recipe", default=None, metavar="FILE",
                   help=f"start from a recipe: a JSON file, or another {m.name} artwork")
    add_recipe_options(p, m.recipe)
    g = p.add_argument_group("runtime")
    from yingshe.core.device import DEVICE_CHOICES

    g.add_argument("--device", default="auto", choices=DEVICE_CHOICES,
                   help="where to compute: auto picks CUDA, then Apple MPS, then CPU [default: auto]")
    g.add_argument("--threads", type=int, default=None, help="CPU threads for torch [default: torch's choice]")
    g.add_argument("--max-seconds", type=float, default=None, metavar="S",
                   help="longest sound or video input accepted [default: 1200]")
    g.add_argument("--no-gallery", action="store_true", help="do not add the result to the gallery")
    g.add_argument("--json", action="store_true", help="print a machine-readable summary on stdout")
    g.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    p._ys_first = first
    p._ys_specs = specs
    return p


def _option_value(argv: list[str], flag: str, m) -> str:
    for i, a in enumerate(argv):
        if a == flag and i + 1 < len(argv):
            return argv[i + 1]
        if a.startswith(flag + "="):
            return a.split("=", 1)[1]
    spec = {p.cli: p for p in m.recipe.params()}.get(flag)
    return str(spec.default) if spec else ""


def _example_source(s) -> str:
    return {"image": "photo.jpg", "audio": "song.wav", "video": "clip.mp4", "midi": "tune.mid",
            "text": "@poem.txt"}.get(s.kind.split("|")[0], "FILE")


def _examples(m) -> str:
    import importlib

    text = getattr(importlib.import_module(m.run.__module__), "EXAMPLES", "")
    return ("examples:\n" + "\n".join("  " + line for line in text.strip().splitlines()) + "\n\n") if text else ""


def cmd_mapping(args) -> int:
    from yingshe.core import registry

    m = registry.get(args._mapping)
    parser = mapping_parser(m, args.rest)
    if any(a in ("-h", "--help") for a in args.rest):
        parser.print_help()
        return 0
    return run_mapping(m, parser, parser.parse_args(args.rest))


def run_mapping(m, parser, opts) -> int:
    from yingshe.cli.art import parse_sets
    from yingshe.cli.options import indexed_sources, recipe_from_args, wrote
    from yingshe.core import sources
    from yingshe.core.progress import Progress, TqdmProgress

    if opts.threads is not None and not 1 <= opts.threads <= 1024:
        raise BadInput(f"--threads must be between 1 and 1024; got {opts.threads}")
    if opts.max_seconds is not None and not opts.max_seconds > 0:
        raise BadInput("--max-seconds must be above 0")
    base = _recipe_base(opts.recipe, m) if opts.recipe else {}
    base.update(parse_sets(opts.set, opts))
    for s in parser._ys_specs:  # --mask 1:sky.png: the index goes into the recipe (e.g. mask_styles)
        if s.index_field and s is not parser._ys_first:
            flag = f"--{s.name.replace('_', '-')}"
            indices, srcs = indexed_sources(getattr(opts, f"in_{s.name}"), flag)
            if indices is not None:
                if getattr(opts, f"r_{s.index_field}", None) is not None:
                    raise BadInput(f"give {flag} as INDEX:FILE or use --{s.index_field.replace('_', '-')}, not both")
                base[s.index_field] = list(indices)
                setattr(opts, f"in_{s.name}", srcs)
    recipe = recipe_from_args(m.recipe, opts, base=base)
    first = parser._ys_first
    size_hint = getattr(recipe, "size", None) if isinstance(getattr(recipe, "size", None), int) else None
    # Every input is loaded before any work starts, so a bad file fails at once.
    shared: dict[str, list] = {}
    for s in parser._ys_specs:
        if s.from_recipe or s is first:
            continue
        given = getattr(opts, f"in_{s.name}")
        if len(given) > 1 and not s.multiple:
            raise BadInput(f"--{s.name} takes one source, not {len(given)}")
        shared[s.name] = [sources.load(g, what=f"{s.name} {s.kind.split('|')[0]}", kind=s.kind, size_hint=size_hint,
                                       max_seconds=opts.max_seconds) for g in given]
    firsts: list = [None]
    if first is not None:
        given = getattr(opts, first.name) or []
        items = _text_files(given) if first.kind == "text" else sources.expand_folders(given, first.kind)
        if first.multiple:
            firsts = [[sources.load(g, what=first.name, kind=first.kind, size_hint=size_hint,
                                    max_seconds=opts.max_seconds) for g in items]]
            items = [items[0]] if items else []
        else:
            firsts = [[sources.load(g, what=first.name, kind=first.kind, size_hint=size_hint,
                                    max_seconds=opts.max_seconds)] for g in items] or [[]]
    outs = output_paths(m, recipe, [f[0].record["source"] if f else None for f in firsts], opts.output,
                        overwrite=opts.overwrite)
    summaries = []
    for batch, out in zip(firsts, outs):
        inputs = dict(shared)
        if first is not None:
            inputs[first.name] = batch or []
        progress = Progress() if opts.quiet else TqdmProgress()
        art = m.run(recipe, inputs, progress, device=opts.device, threads=opts.threads)
        path = art.save(out, gallery=not opts.no_gallery and out != "-")
        if not art.interrupted:
            art.cleanup()
        note = " (stopped early: best so far)" if art.interrupted else ""
        summary = {"output": str(path), "mapping": m.name, "seconds": round(art.seconds, 3),
                   "interrupted": art.interrupted, "recipe": recipe.to_dict(), "summary": art.summary}
        summaries.append(summary)
        if out != "-" and not opts.json:
            print(wrote(path, f"{art.seconds:.2f} s") + note, file=sys.stderr)
        if art.interrupted:
            break
    if opts.json:
        print(json.dumps(summaries if len(summaries) > 1 else summaries[0], indent=2, ensure_ascii=False,
                         default=str), file=sys.stderr if opts.output == "-" else sys.stdout)
    return 130 if summaries and summaries[-1]["interrupted"] else 0


def _text_files(given: list[str]) -> list[str]:
    """Text inputs on the command line: words are the text, an existing file (or @FILE) is read,
    and a folder gives each of its .txt/.md files (a batch). Only here, where the user typed
    the path: a text inside a record is never taken for a path."""
    from yingshe.core import sources

    out = []
    for g in given:
        p = Path(g)
        if not g.strip() or g.startswith("@") or "\n" in g or len(g) > 4096 or not (p.is_file() or p.is_dir()):
            out.append(g)
        else:
            out += ["@" + f for f in sources.expand_folders([g], "text")]
    return out


def _recipe_base(path: str, m) -> dict:
    from yingshe.core import records

    p = Path(path)
    if p.suffix.lower() == ".json":
        data = records.parse_json(records.read_raw(p) or b"{}", what=f"--recipe {path}")
        if isinstance(data, dict) and "mapping" not in data and "yingshe" not in data:
            return dict(data)  # a bare recipe
    rec = records.read_record(p)
    if rec["mapping"] != m.name:
        raise BadInput(f"--recipe {path}: that is a {rec['mapping']} recipe, not a {m.name} one")
    return dict(rec["recipe"])


def output_paths(m, recipe, firsts: list[str | None], output: str | None, *, overwrite: bool = False) -> list:
    """Where each result goes; checked now (format, folder), not after minutes of work."""
    import os

    from yingshe.cli.options import free_output, many_outputs_folder, output_in_folder
    from yingshe.core.artwork import unique_path
    from yingshe.core.writers import DEFAULT_EXT, writer_for

    ext = DEFAULT_EXT.get(m.outputs[0], ".png")
    if output == "-":
        if len(firsts) != 1:
            raise BadInput("-o - writes one artwork to stdout; give a single input")
        return ["-"]

    def stem(src: str | None) -> str:
        if src is None:
            return f"{m.name}-{recipe.seed}"
        name = Path(src).stem if not (":" in src[:12] or src.startswith("<")) else src.split("?")[0].split(":")[-1]
        return "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in name)[:40] + f"--{m.name}"

    def ext_for(src: str | None) -> str:  # a mapping that paints pictures and videos: a video stays a video
        from yingshe.core.video import VIDEO_EXTS

        if src and "video" in m.outputs and m.outputs[0] != "video" and Path(src).suffix.lower() in VIDEO_EXTS:
            return DEFAULT_EXT["video"]
        return ext

    if output is None or output_in_folder(output) is not None or len(firsts) > 1:
        folder = many_outputs_folder(output, len(firsts), "inputs")
        chosen: list = []
        for src in firsts:
            e = ext_for(src)
            path = unique_path(folder / f"{stem(src)}{e}")
            while path in chosen:
                path = unique_path(path.with_name(path.stem + "-x" + e))
            chosen.append(path)
        return chosen
    out = Path(output)
    if out.suffix:
        w = writer_for(out)
        if w.kind != "record" and w.kind not in m.outputs and not (w.kind == "image" and "video" in m.outputs):
            raise BadInput(f"-o {output!r}: {m.name} makes {', '.join(m.outputs)}, not a {w.what}; use "
                           + " or ".join(DEFAULT_EXT[k] for k in m.outputs if k in DEFAULT_EXT))
    parent = out.parent if str(out.parent) else Path(".")
    while not parent.exists():
        parent = parent.parent
    if not os.access(parent, os.W_OK):
        raise BadInput(f"-o {output!r}: cannot write in {str(parent)!r}")
    return [free_output(out, overwrite, ext=ext)]
