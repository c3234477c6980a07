"""Recipe → studio controls, and control values → Recipe. No Gradio here: plain data.

Every field of a mapping's :class:`~yingshe.core.recipe.Recipe` becomes one :class:`Control`:

- ``choices``                      → dropdown
- ``suggest`` (open choices)        → dropdown that also takes typed values
- ``bool``                         → checkbox
- ``int``/``float`` with a modest range → slider over the recipe's ``min``..``max``
- ``int``/``float`` with a huge or open range → number box (the Recipe still validates it)
- tuples, optional values, free text → text box (comma-separated; blank = auto for optional)
- ``seed``                         → number box with a dice button

Values go back through ``Recipe.from_dict``, so the studio, the CLI and recipe files share one
set of parsing rules and one-line error messages.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from yingshe.core.recipe import ParamSpec, Recipe

#: Widest range a slider may span; beyond it a slider is too coarse to set a value with.
INT_SLIDER_SPAN = 10_000
FLOAT_SLIDER_SPAN = 1_000.0
SEED_MAX = 2**32 - 1


@dataclass(frozen=True)
class Control:
    name: str
    widget: str  # "slider" | "number" | "dropdown" | "checkbox" | "text" | "seed"
    label: str
    info: str
    value: Any
    minimum: float | None = None
    maximum: float | None = None
    step: float | None = None
    choices: tuple | None = None
    advanced: bool = False
    precision: int | None = None  # number boxes: 0 for whole numbers
    custom: bool = False  # dropdowns: other values may be typed (a palette spec, a hex list...)


def label_of(name: str) -> str:
    return name.replace("_", " ")


def _step(spec: ParamSpec) -> float:
    if spec.kind == "int":
        return 1
    span = float(spec.max) - float(spec.min)
    # about 1000 positions across the range, rounded to a power of ten (0.01, 0.1, 1 ...)
    return 10 ** math.floor(math.log10(span / 1000)) if span > 0 else 0.01


def control_for(spec: ParamSpec) -> Control:
    """The control that edits one recipe field."""
    info = spec.help
    common = dict(name=spec.name, label=label_of(spec.name), advanced=spec.advanced)
    if spec.name == "seed":
        return Control(widget="seed", info=info, value=spec.default, minimum=0,
                       maximum=spec.max if spec.max is not None else SEED_MAX, precision=0, **common)
    if spec.is_tuple or (spec.optional and spec.kind in ("int", "float", "str")):
        if spec.is_tuple:
            value = ",".join(map(str, spec.default or ()))
            info += " (comma-separated" + ("; blank = none" if not spec.min_len else "") + ")"
        else:
            value = "" if spec.default is None else str(spec.default)
            info += " (blank = auto)"
        return Control(widget="text", info=info, value=value, **common)
    if spec.choices:
        return Control(widget="dropdown", info=info, value=spec.default, choices=tuple(spec.choices), **common)
    if spec.suggest and not spec.is_tuple and spec.kind == "str":
        # an open choice: the suggestions in a list, anything else typed in
        return Control(widget="dropdown", info=info, value=spec.default, choices=tuple(spec.suggest), custom=True,
                       **common)
    if spec.kind == "bool":
        return Control(widget="checkbox", info=info, value=bool(spec.default), **common)
    if spec.kind in ("int", "float"):
        lo, hi = spec.min, spec.max
        span_limit = INT_SLIDER_SPAN if spec.kind == "int" else FLOAT_SLIDER_SPAN
        if lo is not None and hi is not None and float(hi) - float(lo) <= span_limit:
            return Control(widget="slider", info=info, value=spec.default, minimum=lo, maximum=hi,
                           step=_step(spec), **common)
        bounds = []
        if lo is not None:
            bounds.append(f"≥ {lo:g}")
        if hi is not None:
            bounds.append(f"≤ {hi:g}")
        if bounds:
            info += f" ({', '.join(bounds)})"
        return Control(widget="number", info=info, value=spec.default, minimum=lo, maximum=hi,
                       precision=0 if spec.kind == "int" else None, **common)
    return Control(widget="text", info=info, value=str(spec.default), **common)


def controls_for(recipe_cls: type[Recipe]) -> list[Control]:
    """One control per recipe field, in the recipe's order (seed first)."""
    return [control_for(s) for s in recipe_cls.params()]


def to_recipe(recipe_cls: type[Recipe], values: list | tuple | dict) -> Recipe:
    """Control values (in :func:`controls_for` order, or by name) → a validated Recipe.

    Raises :class:`~yingshe.core.errors.BadInput` naming the field when a value is out of range.
    """
    specs = recipe_cls.params()
    if not isinstance(values, dict):
        if len(values) != len(specs):
            raise ValueError(f"{recipe_cls.__name__}: {len(values)} values for {len(specs)} controls")
        values = {s.name: v for s, v in zip(specs, values)}
    data = {}
    for spec in specs:
        if spec.name not in values:
            continue
        v = values[spec.name]
        if spec.is_tuple and isinstance(v, str):
            pass  # "1,2,3": the Recipe parses it ("" = empty tuple)
        elif spec.kind == "int" and isinstance(v, float) and v.is_integer():
            v = int(v)
        elif spec.optional and isinstance(v, str) and v.strip() == "":
            v = None
        data[spec.name] = v
    return recipe_cls.from_dict(data)


def to_values(recipe: Recipe | dict, recipe_cls: type[Recipe]) -> list:
    """A recipe (or its dict) → control values in :func:`controls_for` order."""
    data = recipe.to_dict() if isinstance(recipe, Recipe) else dict(recipe)
    out = []
    for spec, ctl in zip(recipe_cls.params(), controls_for(recipe_cls)):
        v = data.get(spec.name, spec.default)
        if ctl.widget == "text":
            if spec.is_tuple:
                v = ",".join(map(str, v or ()))
            else:
                v = "" if v is None else str(v)
        out.append(v)
    return out
