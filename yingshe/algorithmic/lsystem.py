"""L-systems: rewriting grammars drawn by a turtle (plants, dragon, Hilbert, Koch, ...).

Grammar language (the ``rules`` field): ``A=RHS;B=RHS``, one rule per symbol, e.g.
``X=F+[[X]-X]-F[-FX]+X;F=FF``. Turtle symbols: ``F`` ``G`` ``A`` ``B`` draw forward, ``f`` moves
without drawing, ``+``/``-`` turn by the angle, ``|`` turns around, ``[``/``]`` save/restore
the turtle (branches). Any other symbol only takes part in the rewriting.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from yingshe.algorithmic.common import PALETTE_INPUT, ArtRecipe, Canvas, colours, finish, now, ramp, palette_param
from yingshe.core.errors import BadInput
from yingshe.core.progress import Progress
from yingshe.core.recipe import param
from yingshe.core.registry import Example, Mapping, register

VECTOR = True
MAX_SYMBOLS = 3_000_000

#: name -> (axiom, rules, angle, iterations, start heading in degrees)
PRESETS = {
    "plant": ("X", "X=F+[[X]-X]-F[-FX]+X;F=FF", 25.0, 6, -65.0),
    "bush": ("F", "F=FF-[-F+F+F]+[+F-F-F]", 22.5, 4, -90.0),
    "weed": ("F", "F=F[+F]F[-F][F]", 20.0, 5, -90.0),
    "dragon": ("FX", "X=X+YF+;Y=-FX-Y", 90.0, 12, 0.0),
    "hilbert": ("A", "A=+BF-AFA-FB+;B=-AF+BFB+FA-", 90.0, 6, 0.0),
    "koch": ("F--F--F", "F=F+F--F+F", 60.0, 4, 0.0),
    "sierpinski": ("A", "A=B-A-B;B=A+B+A", 60.0, 7, 0.0),
    "gosper": ("A", "A=A-B--B+A++AA+B-;B=+A-BB--B-A++A+B", 60.0, 4, 0.0),
}
DRAW = set("FGAB")
PLANTS = ("plant", "bush", "weed")


@dataclass
class LSystemRecipe(ArtRecipe):
    mapping = "lsystem"

    palette: str = palette_param("forest")
    preset: str = param("plant", "a named grammar: " + ", ".join(PRESETS), choices=tuple(PRESETS))
    axiom: str = param("", "start string (default: the preset's)")
    rules: str = param("", "your own grammar, e.g. 'X=F+[[X]-X]-F[-FX]+X;F=FF' (default: the preset's)")
    angle: float | None = param(None, "turn angle in degrees (default: the preset's)", min=-360.0, max=360.0)
    iterations: int | None = param(None, "rewriting rounds (default: the preset's)", min=0, max=30)
    jitter: float | None = param(None, "random wobble of each turn in degrees (default: 4 for plants, 0 for curves)",
                                 min=0.0, max=45.0)
    width: float = param(1.2, "line width in pixels at 1024 px", min=0.05, max=20.0)
    margin: float = param(0.05, "empty border, as a fraction of the size", min=0.0, max=0.45)

    def check(self) -> None:
        super().check()
        parse_rules(self.rules)


def parse_rules(text: str) -> dict[str, str]:
    rules = {}
    for part in text.replace("\n", ";").split(";"):
        part = part.strip()
        if not part:
            continue
        lhs, sep, rhs = part.partition("=")
        lhs = lhs.strip()
        if not sep or len(lhs) != 1:
            raise BadInput(f"--rules {part!r}: each rule is SYMBOL=REPLACEMENT, e.g. F=F+F--F+F")
        rules[lhs] = rhs.strip()
    return rules


def expand(axiom: str, rules: dict[str, str], n: int) -> str:
    s = axiom
    for _ in range(n):
        s = "".join(rules.get(ch, ch) for ch in s)
        if len(s) > MAX_SYMBOLS:
            raise BadInput(f"the L-system grows past {MAX_SYMBOLS:,} symbols; use fewer --iterations")
    return s


def turtle(s: str, angle: float, heading: float, jitter: float, rng) -> list[tuple[np.ndarray, int]]:
    """Polylines (points, bracket depth) traced by the turtle."""
    x = y = 0.0
    a = math.radians(heading)
    turn = math.radians(angle)
    stack = []
    lines: list[tuple[list, int]] = []
    cur: list | None = None
    jit = math.radians(jitter)
    for ch in s:
        if ch in DRAW:
            if cur is None:
                cur = [(x, y)]
                lines.append((cur, len(stack)))
            x += math.cos(a)
            y += math.sin(a)
            cur.append((x, y))
        elif ch == "f":
            x += math.cos(a)
            y += math.sin(a)
            cur = None
        elif ch == "+":
            a += turn + (rng.normal(0, jit) if jit else 0.0)
        elif ch == "-":
            a -= turn + (rng.normal(0, jit) if jit else 0.0)
        elif ch == "|":
            a += math.pi
        elif ch == "[":
            stack.append((x, y, a))
        elif ch == "]" and stack:
            x, y, a = stack.pop()
            cur = None
    return [(np.array(p), d) for p, d in lines if len(p) >= 2]


def run(recipe: LSystemRecipe, inputs: dict, progress: Progress | None = None, **options):
    t0 = now()
    progress = progress or Progress()
    progress.start(1, desc="lsystem")
    cols, used = colours(recipe)
    axiom, rules, angle, iters, heading = PRESETS[recipe.preset]
    custom = parse_rules(recipe.rules)
    if custom:
        rules_d, heading = custom, -90.0
    else:
        rules_d = parse_rules(rules)
    axiom = recipe.axiom or axiom
    angle = recipe.angle if recipe.angle is not None else angle
    iters = recipe.iterations if recipe.iterations is not None else iters
    rng = np.random.default_rng(recipe.seed)
    jitter = recipe.jitter if recipe.jitter is not None else (4.0 if recipe.preset in PLANTS and not custom else 0.0)
    lines = turtle(expand(axiom, rules_d, iters), angle, heading, jitter, rng)
    size = recipe.size
    canvas = Canvas(size, size, cols[0])
    if lines:
        allp = np.concatenate([p for p, _ in lines])
        lo, hi = allp.min(0), allp.max(0)
        span = max(hi[0] - lo[0], hi[1] - lo[1], 1e-9)
        scale = size * (1 - 2 * recipe.margin) / span
        offset = (size - (hi - lo) * scale) / 2 - lo * scale
        maxd = max(d for _, d in lines)
        inks = cols[1:]
        lw = recipe.width * size / 1024
        shades = ramp(inks, np.arange(maxd + 1) / maxd if maxd else np.array([0.5]))
        for p, d in lines:
            t = d / maxd if maxd else 0.5
            colour = shades[d if maxd else 0]
            canvas.polyline(p * scale + offset, colour, max(0.05, lw * (1.6 - t)))
    progress.update(1)
    progress.close()
    return finish(recipe, t0, canvas=canvas, inputs=used, summary={"polylines": len(lines)})


def sample(rng, size):
    preset = ["plant", "bush", "weed", "dragon", "hilbert", "koch", "sierpinski", "gosper"][int(rng.integers(8))]
    it = {"plant": 4, "bush": 3, "weed": 4, "dragon": 9, "hilbert": 4, "koch": 3, "sierpinski": 5, "gosper": 3}[preset]
    return {"preset": preset, "iterations": it, "width": 3.0,
            "jitter": float(rng.uniform(0, 6)) if preset in ("plant", "bush", "weed") else 0.0}


def CAPTION(r):  # noqa: N802
    kind = "branching plant" if r.preset in ("plant", "bush", "weed") else f"{r.preset} curve"
    return f"l-system {kind} lines"


MAPPING = register(Mapping("lsystem", "L-systems: plants, dragon, Hilbert, Koch, ... or your own grammar",
                           "algorithmic", LSystemRecipe, run, inputs=(PALETTE_INPUT,), outputs=("image", "vector"), rank=30,
                           examples=(Example("A fern-like plant", {"preset": "plant", "size": 768}),)))
