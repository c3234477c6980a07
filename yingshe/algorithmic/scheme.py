"""The ``art:`` image source: ``art:flowfield?seed=3&palette=ember&size=512`` renders a generator.

Lets any mapping take a generated picture wherever it takes an image (a style image, say).
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from PIL import Image

from yingshe.core import registry
from yingshe.core.errors import BadInput
from yingshe.core.sources import register_scheme


def render_spec(spec: str, size_hint: int | None = None) -> Image.Image:
    name, _, query = spec.partition("?")
    mapping = registry.get(name.strip())
    if mapping.family != "algorithmic":
        raise BadInput(f"art:{name}: {name!r} is not an algorithmic generator")
    try:
        params = dict(parse_qsl(query, keep_blank_values=True, strict_parsing=bool(query)))
    except ValueError:
        raise BadInput(f"art:{spec}: expected art:NAME?key=value&key=value") from None
    if size_hint and "size" not in params:
        params["size"] = str(size_hint)
    recipe = mapping.recipe.from_dict(params)
    art = mapping.run(recipe, {}, None)
    return art.image


register_scheme("art", render_spec)
