"""``grid``: any picture-making mapping over two of its parameters, as one labelled picture (an
X/Y plot, as AUTOMATIC1111's web UI has): ``yingshe grid --mapping julia --x c_re=-0.8,-0.4,0 --y
density=1,2``.

The grid is itself an artwork: its recipe names the mapping, its base recipe and the two
parameter sweeps, so `yingshe recreate` makes it again, and the summary lists every cell's full
recipe (`yingshe info grid.png` recovers any of them). It takes the inputs of the mapping it
sweeps (content and style pictures for ``style``, ...).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

from yingshe.core.artwork import Artwork
from yingshe.core.errors import BadInput
from yingshe.core.progress import Progress
from yingshe.core.recipe import Recipe, param
from yingshe.core.registry import Example, InputSpec, Mapping, get, register

MAX_CELLS = 64

EXAMPLES = """\
yingshe grid --mapping julia --x c_re=-0.8,-0.4,0.28 --y density=1,2.5 -o julia-grid.png
yingshe grid --mapping style --content photo.jpg --style starry.jpg --x style_weight=1e4,1e5,1e6 --y size=256,384
yingshe info julia-grid.png        (the summary lists each cell's full recipe)"""


@dataclass
class GridRecipe(Recipe):
    mapping = "grid"

    target: str = param("julia", "the mapping to sweep (any that makes pictures)", cli="--mapping")
    base: str = param("{}", "the mapping's recipe apart from the swept parameters (JSON)", advanced=True)
    x: str = param("seed=0,1,2", "PARAM=V1,V2,...: the columns")
    y: str = param("", "PARAM=V1,V2,...: the rows (empty: one row)")
    cell: int = param(256, "longest side of each cell in pixels", min=32, max=1024)
    labels: bool = param(True, "write each column's and row's value in the margin")

    def check(self) -> None:
        m = target_mapping(self.target)
        if m.outputs[0] not in ("image", "vector", "video"):
            raise BadInput(f"--mapping {self.target}: it makes {m.outputs[0]}; a grid is of pictures")
        xs, ys = sweep(self.x, m), (sweep(self.y, m) if self.y.strip() else (None, [None]))
        if len(xs[1]) * len(ys[1]) > MAX_CELLS:
            raise BadInput(f"a grid of {len(xs[1])}×{len(ys[1])} cells: at most {MAX_CELLS}")
        if xs[0] == ys[0]:
            raise BadInput("--x and --y sweep the same parameter")
        self.cell_recipes()

    def base_dict(self) -> dict:
        try:
            base = json.loads(self.base or "{}")
        except ValueError:
            raise BadInput("grid --base is not valid JSON") from None
        if not isinstance(base, dict):
            raise BadInput("grid --base must be a JSON object of recipe fields")
        return base

    def cell_recipes(self) -> list[list]:
        """rows × columns of the target's recipes."""
        m = target_mapping(self.target)
        (xn, xs), (yn, ys) = sweep(self.x, m), (sweep(self.y, m) if self.y.strip() else (None, [None]))
        base = self.base_dict() | {"seed": self.seed} if "seed" not in (xn, yn) else self.base_dict()
        fields = {p.name for p in m.recipe.params()}
        if "size" in fields and "size" not in base and "size" not in (xn, yn):
            base["size"] = self.cell  # render each cell at its size in the grid, not the mapping's default
        rows = []
        for yv in ys:
            row = []
            for xv in xs:
                values = dict(base) | {xn: xv} | ({yn: yv} if yn else {})
                row.append(m.recipe.from_dict(values))
            rows.append(row)
        return rows


def target_mapping(name: str):
    m = get(name)
    if m.name == "grid":
        raise BadInput("a grid of grids: choose another mapping")
    return m


def sweep(text: str, m) -> tuple[str, list[str]]:
    name, sep, values = text.partition("=")
    name = name.strip().replace("-", "_")
    vals = [v.strip() for v in values.split(",") if v.strip()]
    if not sep or not name or not vals:
        raise BadInput(f"grid sweep {text!r}: expected PARAM=V1,V2,..., e.g. seed=1,2,3")
    fields = {p.name for p in m.recipe.params()}
    if name not in fields:
        raise BadInput(f"grid sweep {text!r}: {m.name} has no parameter {name!r} (its parameters: {', '.join(sorted(fields))})")
    return name, vals


def run(recipe: GridRecipe, inputs: dict, progress: Progress | None = None, *, device: str = "auto",
        threads: int | None = None, **_) -> Artwork:
    from PIL import Image, ImageDraw

    t0 = time.perf_counter()
    progress = progress or Progress()
    m = target_mapping(recipe.target)
    cells = recipe.cell_recipes()
    n = sum(len(r) for r in cells)
    progress.start(n, f"grid of {recipe.target}")
    (xn, xs) = sweep(recipe.x, m)
    (yn, ys) = sweep(recipe.y, m) if recipe.y.strip() else (None, [None])
    images, summary, used, weights = [], [], {}, {}
    done = 0
    for r, row in enumerate(cells):
        for c, cell in enumerate(row):
            art = m.run(cell, inputs, None, device=device, threads=threads)
            img = art.output("image").convert("RGB")
            img.thumbnail((recipe.cell, recipe.cell), Image.LANCZOS)
            images.append(img)
            summary.append({"x": xs[c], "y": ys[r], "recipe": cell.to_dict()})
            used = used or art.inputs
            weights |= art.weights
            done += 1
            progress.update(1)
            if progress.stopped():
                break
        if progress.stopped():
            break
    progress.close()
    w = max(i.width for i in images)
    h = max(i.height for i in images)
    left = 90 if (recipe.labels and yn) else 0
    top = 28 if recipe.labels else 0
    sheet = Image.new("RGB", (left + w * len(xs), top + h * len(ys)), (250, 248, 244))
    d = ImageDraw.Draw(sheet)
    for k, img in enumerate(images):
        r, c = divmod(k, len(xs))
        sheet.paste(img, (left + c * w + (w - img.width) // 2, top + r * h + (h - img.height) // 2))
    if recipe.labels:
        for c, v in enumerate(xs):
            d.text((left + c * w + 6, 6), f"{xn}={v}"[:40], fill=(30, 30, 30), font_size=14)
        if yn:
            for r, v in enumerate(ys):
                d.text((6, top + r * h + h // 2 - 8), f"{yn}={v}"[:14], fill=(30, 30, 30), font_size=14)
    return Artwork(mapping=recipe.mapping, recipe=recipe, image=sheet, inputs=used, weights=weights,
                   seconds=time.perf_counter() - t0, summary={"cells": summary, "columns": xn, "rows": yn},
                   interrupted=done < n)


def _inputs_of(recipe: dict) -> tuple[InputSpec, ...]:
    """A grid takes the inputs of the mapping it sweeps."""
    try:
        return target_mapping(str(recipe.get("target", "julia"))).inputs
    except BadInput:
        return ()


MAPPING = register(Mapping(
    name="grid",
    summary="any picture mapping over two of its parameters, as one labelled picture (an X/Y plot)",
    family="tools",
    recipe=GridRecipe,
    run=run,
    section="nothing",
    rank=90,
    dynamic_inputs=_inputs_of,
    examples=(Example("Julia sets: the constant's real part × the colour density (an X/Y plot)",
                      {"target": "julia", "x": "c_re=-0.8,-0.7,-0.4", "y": "density=1,2", "cell": 160}),),
))
