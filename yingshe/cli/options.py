"""Turn a Recipe's fields into argparse options, and parsed options back into a Recipe."""

from __future__ import annotations

import argparse
from pathlib import Path

from yingshe.core.errors import BadInput
from yingshe.core.recipe import ParamSpec, Recipe


def _metavar(spec: ParamSpec) -> str:
    if spec.choices:
        return "{" + ",".join(map(str, spec.choices)) + "}"
    base = {"int": "N", "float": "X", "str": "TEXT", "bool": "BOOL"}[spec.kind]
    return f"{base},{base}..." if spec.is_tuple else base


def _help(spec: ParamSpec) -> str:
    text = spec.help
    bounds = []
    if spec.min is not None:
        bounds.append(f">= {spec.min:g}")
    if spec.max is not None:
        bounds.append(f"<= {spec.max:g}")
    default = spec.default
    if spec.is_tuple:
        default = ",".join(map(str, default)) if default else "(empty)"
    elif default is None:
        default = "auto"
    extra = f" [default: {default}" + (f"; {' and '.join(bounds)}" if bounds and spec.kind != 'str' else "") + "]"
    return text + extra.replace("%", "%%")


def add_recipe_options(parser: argparse.ArgumentParser, recipe_cls: type[Recipe], *, skip=()) -> None:
    """One option per recipe field. Values stay text here; the Recipe parses and validates them,
    so the CLI, the studio and recipe files share one set of rules and messages."""
    group = parser.add_argument_group(f"{recipe_cls.mapping} recipe (recorded in the artwork)")
    for spec in recipe_cls.params():
        if spec.name in skip:
            continue
        if spec.kind == "bool" and not spec.is_tuple:
            group.add_argument(spec.cli, dest=f"r_{spec.name}", action=argparse.BooleanOptionalAction,
                               default=None, help=_help(spec))
        else:
            group.add_argument(spec.cli, dest=f"r_{spec.name}", metavar=_metavar(spec), default=None,
                               help=_help(spec))


def recipe_from_args(recipe_cls: type[Recipe], args: argparse.Namespace, base: dict | None = None, **extra) -> Recipe:
    values = dict(base or {})
    for spec in recipe_cls.params():
        v = getattr(args, f"r_{spec.name}", None)
        if v is not None:
            values[spec.name] = v
    values.update(extra)
    return recipe_cls.from_dict(values)


def add_runtime_options(parser: argparse.ArgumentParser) -> None:
    """Options that choose where a job runs; they do not change the picture (beyond float
    rounding across devices) and are recorded in the artwork but not in the recipe."""
    from yingshe.core.device import DEVICE_CHOICES

    g = parser.add_argument_group("runtime")
    g.add_argument("--device", default="auto", choices=DEVICE_CHOICES,
                   help="where to compute: auto picks CUDA, then Apple MPS, then CPU [default: auto]")
    g.add_argument("--threads", type=int, default=None, help="CPU threads for torch [default: torch's choice]")
    g.add_argument("--no-gallery", action="store_true", help="do not add the result to the gallery")
    g.add_argument("--json", action="store_true", help="print a machine-readable summary on stdout")
    g.add_argument("--quiet", "-q", action="store_true", help="no progress bar")


def many_outputs_folder(output: str | None, n: int, what: str):
    """The folder that ``-o OUTPUT`` names for ``n`` artworks (None: the gallery). A name with a
    file extension yingshe writes (``-o out.png``) is refused rather than made into a folder
    called ``out.png``: the user meant one file."""
    from yingshe.core.paths import gallery_dir
    from yingshe.core.writers import WRITERS

    if not output:
        return gallery_dir()
    folder = Path(output)
    if folder.exists() and not folder.is_dir():
        raise BadInput(f"-o {output!r}: {n} {what} make {n} artworks and need a folder, and this is a file")
    if not folder.exists() and not output.endswith(("/", "\\")) and folder.suffix.lower() in WRITERS:
        raise BadInput(f"-o {output!r}: {n} {what} make {n} artworks; give a folder (e.g. -o out/), "
                       "or one input for one file")
    return folder
