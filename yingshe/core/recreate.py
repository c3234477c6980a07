"""Recreate an artwork from its record: same mapping, recipe, inputs (checked by sha256),
device and thread count, hence the same pixels on the same machine and version."""

from __future__ import annotations

import inspect

from yingshe.core import registry, sources
from yingshe.core.artwork import Artwork
from yingshe.core.errors import BadInput
from yingshe.core.progress import Progress


def recreate(record: dict, *, progress: Progress | None = None, device: str | None = None,
             threads: int | None = None, allow_changed_inputs: bool = False) -> Artwork:
    if not isinstance(record, dict) or "mapping" not in record or "recipe" not in record:
        raise BadInput("not a yingshe record (no mapping/recipe)")
    mapping = registry.get(record["mapping"])
    recipe = mapping.recipe.from_dict(record["recipe"])
    inputs: dict[str, list] = {}
    for name, items in (record.get("inputs") or {}).items():
        loaded = []
        for item in items:
            src = sources.load(item["source"], what=f"{name} input")
            if src.record["sha256"] != item.get("sha256") and not allow_changed_inputs:
                raise BadInput(f"{name} input {item['source']!r} has changed since the artwork was made "
                               "(sha256 differs); pass --allow-changed-inputs to use it anyway")
            loaded.append(src)
        inputs[name] = loaded
    options = {"device": device or _recorded_device(record), "threads": threads or record.get("threads")}
    params = inspect.signature(mapping.run).parameters
    if not any(p.kind == p.VAR_KEYWORD for p in params.values()):
        options = {k: v for k, v in options.items() if k in params}
    art = mapping.run(recipe, inputs, progress or Progress(), **options)
    # Weights are resolved inside the mapping, so compare their fingerprints afterwards: a
    # retrained model must not pass for the one the artwork was made with.
    for name, rec in (record.get("weights") or {}).items():
        now = (art.weights.get(name) or {}).get("sha256")
        if rec.get("sha256") and now != rec["sha256"] and not allow_changed_inputs:
            raise BadInput(f"{name} weights {rec.get('source', '')!r} have changed since the artwork was made "
                           "(sha256 differs); pass --allow-changed-inputs to use them anyway")
    return art


def _recorded_device(record: dict) -> str:
    dev = str(record.get("device") or "auto")
    return dev.split(":")[0] if dev.split(":")[0] in ("cpu", "cuda", "mps") else "auto"
