"""Recipes: typed dataclasses of every parameter that changes a mapping's result.

A recipe is the single source of truth: the CLI options, the studio's controls and the record
written into each artwork all come from its fields. Declare fields with :func:`param`::

    @dataclass
    class FlowRecipe(Recipe):
        particles: int = param(2000, "number of particle trails", min=1, max=1_000_000)
        palette: str = param("ocean", "colour palette", choices=("ocean", "ember"))

Supported field types: ``int``, ``float``, ``str``, ``bool``, ``tuple[int|float|str, ...]`` and
``Optional`` of those. Every recipe has a ``seed``.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import dataclass, field
from typing import Any, ClassVar

from yingshe.core.errors import BadInput

_MISSING = dataclasses.MISSING


def param(default: Any, help: str, *, min: float | None = None, max: float | None = None,
          choices: tuple | None = None, cli: str | None = None, advanced: bool = False,
          item_min: float | None = None, item_max: float | None = None,
          min_len: int | None = None, max_len: int | None = None, suggest: tuple | None = None):
    """A recipe field with its one-line help, valid range/choices and (optionally) CLI name.

    For tuple fields, ``min``/``max`` bound each item and ``min_len``/``max_len`` the length.
    ``suggest``: values to offer for an open field (the studio's dropdown also takes others);
    items may be ``(label, value)`` pairs.
    """
    meta = dict(help=help, min=min, max=max, choices=choices, cli=cli, advanced=advanced,
                min_len=min_len, max_len=max_len, suggest=suggest)
    if isinstance(default, (list, tuple)):
        value = tuple(default)
        return field(default_factory=lambda: value, metadata=meta)
    return field(default=default, metadata=meta)


@dataclass(frozen=True)
class ParamSpec:
    """What a user interface needs to know about one recipe field."""

    name: str
    kind: str  # "int" | "float" | "str" | "bool"
    is_tuple: bool
    optional: bool
    default: Any
    help: str
    min: float | None
    max: float | None
    choices: tuple | None
    cli: str
    advanced: bool
    min_len: int | None
    max_len: int | None
    suggest: tuple | None = None


def _unwrap(tp) -> tuple[str, bool, bool]:
    """Map a type hint to (kind, is_tuple, optional)."""
    optional = False
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        optional = len(args) != len(typing.get_args(tp))
        if len(args) != 1:
            raise TypeError(f"unsupported union {tp}")
        tp = args[0]
        origin = typing.get_origin(tp)
    is_tuple = origin in (tuple, list)
    if is_tuple:
        tp = typing.get_args(tp)[0]
    kind = {int: "int", float: "float", str: "str", bool: "bool"}.get(tp)
    if kind is None:
        raise TypeError(f"unsupported recipe field type {tp}")
    return kind, is_tuple, optional


@dataclass
class Recipe:
    """Base of every mapping's recipe. Subclasses are dataclasses and set ``mapping``."""

    mapping: ClassVar[str] = ""
    seed: int = param(0, "random seed: the same recipe, inputs and seed give the same artwork",
                      min=0, max=2**32 - 1)

    # ------------------------------------------------------------------ introspection
    @classmethod
    def params(cls) -> list[ParamSpec]:
        hints = typing.get_type_hints(cls)
        specs = []
        for f in dataclasses.fields(cls):
            kind, is_tuple, optional = _unwrap(hints[f.name])
            default = f.default if f.default is not _MISSING else f.default_factory()  # type: ignore[misc]
            m = f.metadata
            specs.append(ParamSpec(
                name=f.name, kind=kind, is_tuple=is_tuple, optional=optional, default=default,
                help=m.get("help", ""), min=m.get("min"), max=m.get("max"), choices=m.get("choices"),
                cli=m.get("cli") or "--" + f.name.replace("_", "-"), advanced=m.get("advanced", False),
                min_len=m.get("min_len"), max_len=m.get("max_len"), suggest=m.get("suggest")))
        return specs

    # ------------------------------------------------------------------ (de)serialisation
    def to_dict(self) -> dict:
        out = {}
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            out[f.name] = list(v) if isinstance(v, tuple) else v
        return out

    @classmethod
    def from_dict(cls, data: dict, *, strict: bool = True):
        """Build and validate a recipe from JSON-like data; strings are parsed like CLI text."""
        if not isinstance(data, dict):
            raise BadInput(f"{cls.mapping} recipe must be a JSON object")
        specs = {s.name: s for s in cls.params()}
        unknown = sorted(set(data) - set(specs))
        if unknown and strict:
            raise BadInput(f"unknown {cls.mapping} parameter(s): {', '.join(unknown)} "
                           f"(known: {', '.join(sorted(specs))})")
        values = {name: coerce(specs[name], v) for name, v in data.items() if name in specs}
        recipe = cls(**values)
        recipe.validate()
        return recipe

    def replace(self, **changes):
        new = dataclasses.replace(self, **changes)
        new.validate()
        return new

    # ------------------------------------------------------------------ validation
    def validate(self) -> None:
        """Check every field's type and range; raise :class:`BadInput` naming the field."""
        for spec in self.params():
            v = getattr(self, spec.name)
            setattr(self, spec.name, coerce(spec, v))
        self.check()

    def check(self) -> None:
        """Cross-field checks; subclasses override (and raise BadInput)."""


def _parse_scalar(spec: ParamSpec, v: Any):
    name = spec.name.replace("_", "-")
    if spec.kind == "bool":
        if isinstance(v, bool):
            return v
        if isinstance(v, str) and v.strip().lower() in ("1", "true", "yes", "on"):
            return True
        if isinstance(v, str) and v.strip().lower() in ("0", "false", "no", "off"):
            return False
        raise BadInput(f"--{name} must be true or false, not {v!r}")
    if spec.kind == "int":
        if isinstance(v, bool):
            raise BadInput(f"--{name} must be a whole number, not {v!r}")
        if isinstance(v, float) and v.is_integer():
            v = int(v)
        if isinstance(v, str):
            try:
                v = int(v.strip().replace("_", ""))
            except ValueError:
                raise BadInput(f"--{name} must be a whole number, not {v!r}") from None
        if not isinstance(v, int):
            raise BadInput(f"--{name} must be a whole number, not {v!r}")
    elif spec.kind == "float":
        if isinstance(v, bool):
            raise BadInput(f"--{name} must be a number, not {v!r}")
        if isinstance(v, str):
            try:
                v = float(v.strip())
            except ValueError:
                raise BadInput(f"--{name} must be a number, not {v!r}") from None
        if not isinstance(v, (int, float)):
            raise BadInput(f"--{name} must be a number, not {v!r}")
        v = float(v)
        if v != v or v in (float("inf"), float("-inf")):
            raise BadInput(f"--{name} must be a finite number, not {v}")
    else:
        if not isinstance(v, str):
            raise BadInput(f"--{name} must be text, not {v!r}")
    if spec.choices is not None and v not in spec.choices:
        raise BadInput(f"--{name} must be one of {', '.join(map(str, spec.choices))}; got {v!r}")
    if spec.min is not None and v < spec.min:
        raise BadInput(f"--{name} must be at least {spec.min}; got {v}")
    if spec.max is not None and v > spec.max:
        raise BadInput(f"--{name} must be at most {spec.max}; got {v}")
    return v


def coerce(spec: ParamSpec, v: Any):
    """Parse/validate one value for ``spec`` (CLI text, JSON value or Python value)."""
    if v is None or (spec.optional and isinstance(v, str) and v.strip().lower() in ("", "none", "auto")):
        if spec.optional:
            return None
        raise BadInput(f"--{spec.name.replace('_', '-')} needs a value")
    if not spec.is_tuple:
        return _parse_scalar(spec, v)
    if isinstance(v, str):
        items = [s for s in (x.strip() for x in v.split(",")) if s != ""]
    elif isinstance(v, (list, tuple)):
        items = list(v)
    else:
        items = [v]
    out = tuple(_parse_scalar(spec, x) for x in items)
    name = spec.name.replace("_", "-")
    if spec.min_len is not None and len(out) < spec.min_len:
        raise BadInput(f"--{name} needs at least {spec.min_len} value(s)")
    if spec.max_len is not None and len(out) > spec.max_len:
        raise BadInput(f"--{name} takes at most {spec.max_len} value(s)")
    return out
