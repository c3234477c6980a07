"""The one registry of mappings: the CLI, the studio, the gallery and ``recreate`` all look here.

Adding a mapping = one module that calls :func:`register` + one line in ``MAPPING_MODULES``.
Modules are imported lazily, so ``yingshe --help`` does not pay for torch.
"""

from __future__ import annotations

import contextlib
import contextvars
import importlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable

from yingshe.core.errors import BadInput

if TYPE_CHECKING:
    from yingshe.core.artwork import Artwork
    from yingshe.core.progress import Progress
    from yingshe.core.recipe import Recipe

#: One line per mapping module (each calls ``register`` at import).
MAPPING_MODULES = [
    "yingshe.samples",  # built-in inputs: photo:, sound:, poem: (no mapping of its own)
    "yingshe.style.mapping",
    "yingshe.style.fast",
    "yingshe.algorithmic.scheme",
    "yingshe.algorithmic.flowfield",
    "yingshe.algorithmic.mandelbrot",
    "yingshe.algorithmic.julia",
    "yingshe.algorithmic.attractor",
    "yingshe.algorithmic.animation",
    "yingshe.algorithmic.lsystem",
    "yingshe.algorithmic.reaction",
    "yingshe.algorithmic.packing",
    "yingshe.algorithmic.voronoi",
    "yingshe.algorithmic.truchet",
    "yingshe.algorithmic.subdivision",
    "yingshe.algorithmic.harmonograph",
    "yingshe.generative.mapping",
    "yingshe.translate.mapping",
    "yingshe.crossmodal.poem2paint",
    "yingshe.sequence.melody",
    "yingshe.sequence.poem",
    "yingshe.crossmodal.music2paint",
    "yingshe.crossmodal.paint2music",
    "yingshe.diffusion.mapping",
    "yingshe.grid",
]


@dataclass(frozen=True)
class InputSpec:
    """An input a mapping takes besides its recipe (content image, style images, masks...)."""

    name: str
    kind: str  # one of yingshe.core.media.KINDS: "image" | "text" | "audio" | "video" | "midi"
    help: str
    multiple: bool = False
    required: bool = True
    #: read through a recipe field (e.g. palette=image:PATH), not given as an input of its own
    from_recipe: bool = False
    #: a picture a person may draw: the studio offers a sketch canvas (and upload) for it
    sketch: bool = False
    #: the drawing is a mask: white strokes on black (white marks where the mapping acts)
    mask: bool = False
    #: each source may be written INDEX:SOURCE; the indices fill this recipe field (a tuple of ints),
    #: e.g. ``--mask 1:sky.png`` sets ``mask_styles`` (which style paints where)
    index_field: str = ""


@dataclass(frozen=True)
class Example:
    """A ready-made recipe with built-in inputs: what the studio's home page shows and runs.

    ``inputs`` maps input names to sources that need nothing of the user's: ``photo:NAME`` (the
    photos that ship with scikit-image), ``builtin:NAME`` styles, ``sound:NAME``, ``poem:NAME``, ``sketch:NAME``
    (:mod:`yingshe.samples`), or ``yingshe:MAPPING?...`` specs.
    """

    title: str
    recipe: dict = field(default_factory=dict)
    inputs: dict = field(default_factory=dict)  # name -> source spec (or a tuple of them)


#: Where the studio shows a mapping: by what it makes (home page sections and navigation).
SECTIONS = {
    "photos": "Pictures from photos",
    "nothing": "Pictures from nothing",
    "words": "From words",
    "sound": "Sound and music",
    "video": "Video",
    "algorithmic": "Algorithmic",
}


@dataclass(frozen=True)
class Mapping:
    name: str
    summary: str  # one line, shown by `yingshe list` and as the studio tab's description
    family: str
    recipe: type["Recipe"]
    run: Callable[..., "Artwork"]  # run(recipe, inputs, progress, **options) -> Artwork
    inputs: tuple[InputSpec, ...] = ()
    #: the kinds of output the artwork has (yingshe.core.media.KINDS), the first being the main one
    outputs: tuple[str, ...] = ("image",)
    #: fast enough (well under a second at 256 px) for the studio to re-render as a slider moves
    realtime: bool = False
    #: the image input a webcam may stream into, frame by frame (the studio adds a live webcam panel);
    #: empty: none. Only for mappings that paint a 256 px frame in well under a second.
    webcam: str = ""
    #: False when a hand-written command runs it (``yingshe sample``), so no generic one is made
    cli: bool = True
    #: studio section (a key of SECTIONS); empty: worked out from the family, inputs and outputs
    section: str = ""
    #: order within the section: the flagship of a section has the lowest
    rank: int = 50
    #: ready-made recipes with built-in inputs, for the studio's home page
    examples: tuple[Example, ...] = ()
    #: inputs that depend on the recipe (``grid`` takes those of the mapping it sweeps)
    dynamic_inputs: Callable[[dict], tuple[InputSpec, ...]] | None = None
    #: summary keys that tell how the recipe was found, not what a run computes (``encode``'s
    #: source picture for a latent): ``recreate`` copies them from the record, so the file is the same
    recorded_facts: tuple[str, ...] = ()

    def input_specs(self, recipe: dict | None = None) -> tuple[InputSpec, ...]:
        if self.dynamic_inputs is not None and recipe is not None:
            return tuple(self.dynamic_inputs(recipe))
        return self.inputs

    @property
    def where(self) -> str:
        """The studio section this mapping appears in."""
        if self.section:
            return self.section
        if self.family.startswith("algorithmic") and "video" not in self.outputs:
            return "algorithmic"
        if self.outputs[0] == "video":
            return "video"
        if self.outputs[0] in ("audio", "midi"):
            return "sound"
        kinds = {i.kind.split("|")[0] for i in self.inputs if not i.from_recipe and i.required}
        if "text" in kinds or self.outputs[0] == "text":
            return "words"
        if "image" in kinds:
            return "photos"
        return "nothing"


_REGISTRY: dict[str, Mapping] = {}
_loaded = False


def register(mapping: Mapping) -> Mapping:
    if mapping.name in _REGISTRY and _REGISTRY[mapping.name] is not mapping:
        raise ValueError(f"mapping {mapping.name!r} registered twice")
    if mapping.recipe.mapping != mapping.name:
        raise ValueError(f"{mapping.recipe.__name__}.mapping must be {mapping.name!r}")
    _REGISTRY[mapping.name] = mapping
    return mapping


def _load_all() -> None:
    global _loaded
    if not _loaded:
        for module in MAPPING_MODULES:
            importlib.import_module(module)
        _loaded = True


#: True while a mapping runs for a live preview's coarse first frame (the studio sets it): a
#: mapping may then trade finish for speed where the composition stays the same (the line
#: generators supersample 2x instead of 4x). Never set for a saved artwork, so records still
#: recreate their exact bytes.
PREVIEW: contextvars.ContextVar[bool] = contextvars.ContextVar("yingshe_preview", default=False)


@contextlib.contextmanager
def preview():
    """Run the mappings called inside as a quick preview (see :data:`PREVIEW`)."""
    token = PREVIEW.set(True)
    try:
        yield
    finally:
        PREVIEW.reset(token)


def get(name: str) -> Mapping:
    _load_all()
    try:
        return _REGISTRY[name]
    except KeyError:
        raise BadInput(f"unknown mapping {name!r} (known: {', '.join(sorted(_REGISTRY))})") from None


def all_mappings() -> list[Mapping]:
    _load_all()
    return [_REGISTRY[k] for k in sorted(_REGISTRY)]
