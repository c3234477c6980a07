"""Built-in style images: twelve public-domain paintings shipped with yingshe (about 0.8 MB).

Use them wherever a style image goes, as ``builtin:NAME`` (``--style builtin:starry-night``).
Each is the painting's photographic reproduction, resized to 512 px on its longest side
(JPEG, quality 88). Every painter died before 1956 and every work was made before 1930, so the
works are in the public domain, and faithful photographs of 2-D public-domain art are too
(Bridgeman v. Corel; EU Directive 2019/790 art. 14). The files come from the style-transfer
repositories named in ``source`` (data only), as staged and checked in the project's
shared/data/styles (see its MANIFEST.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from yingshe.core.errors import BadInput

FOLDER = Path(__file__).resolve().parent


@dataclass(frozen=True)
class BuiltinStyle:
    name: str    # what comes after builtin:
    title: str
    artist: str
    year: str
    source: str  # where the reproduction was taken from (repository @ commit : path)

    @property
    def path(self) -> Path:
        return FOLDER / f"{self.name}.jpg"

    @property
    def spec(self) -> str:
        return f"builtin:{self.name}"

    def image(self) -> Image.Image:
        with Image.open(self.path) as im:
            return im.convert("RGB")


_JCJ = "jcjohnson/neural-style@07c4b82:examples/inputs/"
_ASET = "asetoodehnia/Neural-Style-Transfer@71eaf3f:styles/"
_HISP = "hi-space/image-style-transfer@9de6e1f:image/"
_ADAIN = "naoto0804/pytorch-AdaIN@47950d0:input/style/"

STYLES: tuple[BuiltinStyle, ...] = (
    BuiltinStyle("starry-night", "The Starry Night", "Vincent van Gogh", "1889", _JCJ + "starry_night.jpg"),
    BuiltinStyle("starry-night-over-the-rhone", "Starry Night Over the Rhône", "Vincent van Gogh", "1888",
                 _HISP + "vangogh-starry_night_over_the_rhone.png"),
    BuiltinStyle("great-wave", "The Great Wave off Kanagawa", "Katsushika Hokusai", "c. 1831", _ASET + "wave.jpg"),
    BuiltinStyle("the-scream", "The Scream", "Edvard Munch", "1893", _JCJ + "the_scream.jpg"),
    BuiltinStyle("shipwreck", "The Shipwreck of the Minotaur", "J. M. W. Turner", "c. 1810", _JCJ + "shipwreck.jpg"),
    BuiltinStyle("composition-vii", "Composition VII", "Wassily Kandinsky", "1913", _ASET + "composition_vii.jpg"),
    BuiltinStyle("cliff-walk", "The Cliff Walk at Pourville", "Claude Monet", "1882", _ASET + "cliff.jpg"),
    BuiltinStyle("charing-cross-bridge", "Charing Cross Bridge", "Claude Monet", "c. 1900",
                 _HISP + "monet-charing_cross_bridge.jpg"),
    BuiltinStyle("woman-with-a-hat", "Woman with a Hat", "Henri Matisse", "1905", _JCJ + "woman-with-hat-matisse.jpg"),
    BuiltinStyle("te-fare", "Te Fare (The House)", "Paul Gauguin", "1892", _HISP + "gauguin-te_fare.jpg"),
    BuiltinStyle("contrast-of-forms", "Contrast of Forms", "Fernand Léger", "1913", _ADAIN + "contrast_of_forms.jpg"),
    BuiltinStyle("dance-foyer", "The Dance Foyer at the Opera, rue Le Peletier", "Edgar Degas", "1872",
                 _HISP + "degas-the_dance_foyer_at_the_opera.jpg"),
)
_BY_NAME = {s.name: s for s in STYLES}


def list_builtin_styles() -> list[BuiltinStyle]:
    """The built-in styles, in display order (for ``yingshe styles`` and the studio)."""
    return list(STYLES)


def get(name: str) -> BuiltinStyle:
    key = name.strip().lower().replace("_", "-").replace(" ", "-")
    if key not in _BY_NAME:
        close = [n for n in _BY_NAME if key and (key in n or n in key)]
        hint = f"; did you mean {', '.join('builtin:' + n for n in close)}?" if close else ""
        raise BadInput(f"no built-in style {name!r}{hint} (known: {', '.join(_BY_NAME)}; `yingshe styles` lists them)")
    return _BY_NAME[key]


def render(rest: str, size_hint: int | None = None) -> Image.Image:
    """The ``builtin:`` source scheme: ``builtin:NAME`` (a ``?size=`` query is accepted and
    ignored: the shipped reproduction is used as it is)."""
    name = rest.split("?", 1)[0]
    return get(name).image()


def table_markdown() -> str:
    """The table of built-in styles (name, title, artist, year, source) as Markdown."""
    rows = ["| name | title | artist | year | source |", "| --- | --- | --- | --- | --- |"]
    rows += [f"| `builtin:{s.name}` | {s.title} | {s.artist} | {s.year} | {s.source} |" for s in STYLES]
    return "\n".join(rows)
