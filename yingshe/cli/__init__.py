"""The ``yingshe`` command line. Each family of commands lives in its own module listed in
``COMMAND_MODULES``; each module has ``add_commands(subparsers)``."""

from __future__ import annotations

import argparse
import importlib
import os
import sys

import yingshe
from yingshe.core.errors import YingsheError

#: One line per command module.
COMMAND_MODULES = [
    "yingshe.cli.style",
    "yingshe.cli.records",
    "yingshe.cli.gallery",
    "yingshe.cli.demo",
    "yingshe.cli.art",
    "yingshe.cli.dataset",
    "yingshe.cli.studio",
    "yingshe.cli.train",
    "yingshe.cli.sample",
    "yingshe.cli.run",
]

EPILOG = """\
examples:
  yingshe demo                                   make a small gallery offline and print where it is
  yingshe list                                   every mapping: what it takes, what it makes
  yingshe style photo.jpg --style starry.jpg -o out.png
  yingshe style photos/ --style a.jpg --style b.jpg --style-weights 0.7,0.3 -o out/
  yingshe info out.png                           print the recipe inside an artwork
  yingshe recreate out.png -o again.png          make it again, pixel for pixel
  yingshe gallery list                           what you have made

Every artwork records its recipe; `yingshe COMMAND --help` explains each command.
"""


class ArgumentParser(argparse.ArgumentParser):
    """argparse that reports bad options on one line and exits 2 (argparse's own code), and
    takes no abbreviations: ``--start`` must not quietly become ``--start-bars``."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)

    def error(self, message: str):  # noqa: D401
        self.exit(2, f"yingshe: error: {message} (see `{self.prog} --help`)\n")

    def parse_known_args(self, args=None, namespace=None):
        ns, extra = super().parse_known_args(args, namespace)
        for name in ("output", "out"):  # `-o ''` would quietly mean the current or the gallery folder
            if getattr(ns, name, None) == "":
                self.error("-o is empty; give a file or folder name")
        return ns, extra


def build_parser(mappings: bool = True) -> argparse.ArgumentParser:
    """The whole command line. ``mappings``: add a command for each registered mapping that has
    no hand-written one (skipped when the command is already known to be a built-in one)."""
    parser = ArgumentParser(
        prog="yingshe",
        description="映射 yingshe — everything is a mapping: make art with AI, and keep the recipe.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"yingshe {yingshe.__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=ArgumentParser)
    for module in COMMAND_MODULES:
        importlib.import_module(module).add_commands(sub)
    if mappings:
        from yingshe.cli.run import add_mapping_commands

        add_mapping_commands(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    builtin = build_parser(mappings=False)
    first = next((a for a in argv if not a.startswith("-")), None)
    known = first is not None and first in _commands(builtin)
    try:
        if not known and first is not None and argv[0] == first:
            # `yingshe MAPPING ...`: its own parser takes every argument, options first or not
            from yingshe.cli.run import mapping_names

            if first in mapping_names():
                args = argparse.Namespace(func=_run_mapping, _mapping=first, rest=argv[1:])
                return _call(args)
        parser = builtin if known else build_parser()
    except YingsheError as e:
        print(f"yingshe: error: {e}", file=sys.stderr)
        return e.exit_code
    args, extra = parser.parse_known_args(argv)
    if extra:  # said by the command's own parser, so the hint names its --help, not yingshe's
        command = getattr(args, "command", None)
        prog = f"yingshe {command}" if command else "yingshe"
        print(f"yingshe: error: unrecognized arguments: {' '.join(extra)} (see `{prog} --help`)", file=sys.stderr)
        return 2
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    return _call(args)


def _run_mapping(args) -> int:
    from yingshe.cli.run import cmd_mapping

    return cmd_mapping(args)


def _call(args) -> int:
    from yingshe.core.progress import catch_ctrl_c

    catch_ctrl_c()
    try:
        return int(args.func(args) or 0)
    except YingsheError as e:
        print(f"yingshe: error: {e}", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:
        print("yingshe: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # `yingshe info x.png | head`: the reader went away; not an error of ours.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except MemoryError:
        print("yingshe: error: out of memory (try a smaller --size)", file=sys.stderr)
        return 1
    except OSError as e:  # the system said no: a folder that cannot be written, a file where a folder must be
        import errno

        where = f": {e.filename}" if e.filename else ""
        print(f"yingshe: error: {e.strerror or e}{where}", file=sys.stderr)
        return 1 if e.errno in (errno.ENOSPC, errno.EIO, errno.EDQUOT) else 2


def _commands(parser: argparse.ArgumentParser) -> set[str]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return set(action.choices)
    return set()
