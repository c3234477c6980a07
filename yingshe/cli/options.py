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


def add_overwrite_option(parser) -> None:
    """``--overwrite``: the one way an existing ``-o FILE`` is replaced (see :func:`free_output`)."""
    parser.add_argument("--overwrite", action="store_true",
                        help="replace -o FILE if it exists [default: keep it and write FILE-1.ext, FILE-2.ext ...]")


def free_output(output: str | Path, overwrite: bool = False, ext: str = "") -> Path:
    """Where ``-o FILE`` is written: FILE (with ``ext`` added when it has no extension, as the
    writer will) when it is free or ``--overwrite`` is given, else the first free ``FILE-1.ext``,
    ``FILE-2.ext`` ... (a file whose .json sidecar exists counts as taken). Outputs never overwrite
    earlier work unless asked: re-running a command with other settings keeps both results.
    :func:`wrote` tells the user when the name was changed."""
    from yingshe.core.artwork import unique_path

    out = Path(output)
    if ext and not out.suffix:
        out = out.with_suffix(ext)
    if overwrite or out.is_dir():
        return out
    new = unique_path(out)
    if new != out:  # what stood in the way: the file, or a .json of that name
        _RENAMED[new] = out if out.exists() else out.with_name(out.name + ".json")
    return new


_RENAMED: dict[Path, Path] = {}  # written → asked for, by free_output


def wrote(path: str | Path, detail: str = "") -> str:
    """The line that says where an artwork went: ``wrote a-1.png (a.png exists; ...)``."""
    asked = _RENAMED.get(Path(path))
    note = f"{asked} exists, kept: --overwrite replaces it" if asked else ""
    inside = "; ".join(x for x in (detail, note) if x)
    return f"wrote {path}" + (f" ({inside})" if inside else "")


def output_in_folder(output: str | None) -> Path | None:
    """The folder ``-o`` names when it ends with / (or \\) or is an existing folder, else None."""
    if output and output != "-" and (output.endswith(("/", "\\")) or Path(output).is_dir()):
        return Path(output)
    return None


def indexed_sources(items: list[str], flag: str, *, required: bool = False) -> tuple[tuple[int, ...] | None, list[str]]:
    """``--mask 1:sky.png --mask 0:sea.png`` → ((1, 0), ["sky.png", "sea.png"]): the indices, or
    None when no source has one (``required``: every source must). A file whose name merely looks
    like ``N:...`` and exists is read as a file."""
    indices: list[int | None] = []
    sources: list[str] = []
    for item in items:
        head, sep, rest = item.partition(":")
        if sep and head.strip().isdigit() and rest and not Path(item).exists():
            indices.append(int(head))
            sources.append(rest)
        elif required:
            raise BadInput(f"{flag} {item!r}: expected INDEX:FILE, e.g. 0:sky.png")
        else:
            indices.append(None)
            sources.append(item)
    if all(i is None for i in indices):
        return None, sources
    if any(i is None for i in indices):
        raise BadInput(f"{flag}: give every one an INDEX: (e.g. {flag} 0:sky.png) or none of them")
    return tuple(indices), sources  # type: ignore[return-value]
