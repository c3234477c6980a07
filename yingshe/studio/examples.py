"""The home page's examples: one card per Example a mapping registers, with a thumbnail.

Thumbnails come from the package (``yingshe/studio/thumbs/``, made by ``python -m
yingshe.studio.examples --ship``), else from a cache under the studio's home
(``$YINGSHE_HOME/studio-examples``), rendered once in a background thread when the studio starts
— never while a page loads; until then the card is a plain title card.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw

SHIPPED = Path(__file__).with_name("thumbs")
THUMB = 224


@dataclass(frozen=True)
class Card:
    mapping: str
    index: int  # which of the mapping's examples
    title: str
    thumbnail: str
    ready: bool  # a real thumbnail (not the title card)

    @property
    def caption(self) -> str:
        return f"{self.title} · {self.mapping}"


def key(mapping, index: int) -> str:
    """A thumbnail's file name: changes when the example does."""
    ex = mapping.examples[index]
    digest = hashlib.sha256(json.dumps([mapping.name, ex.title, ex.recipe, ex.inputs], sort_keys=True,
                                       default=str).encode()).hexdigest()[:12]
    return f"{mapping.name}-{index}-{digest}.jpg"


def cache_dir() -> Path:
    from yingshe.core import paths

    return paths.home() / "studio-examples"


def thumbnail_path(mapping, index: int) -> Path | None:
    name = key(mapping, index)
    for folder in (SHIPPED, cache_dir()):
        if (folder / name).is_file():
            return folder / name
    return None


def title_card(mapping, index: int) -> Path:
    """A plain card with the example's title (shown until the thumbnail is rendered)."""
    folder = cache_dir() / "cards"
    path = folder / key(mapping, index).replace(".jpg", ".png")
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        img = Image.new("RGB", (THUMB, THUMB), (238, 232, 220))
        d = ImageDraw.Draw(img)
        d.text((14, 16), mapping.name, fill=(150, 60, 40), font_size=22)
        words, line, y = mapping.examples[index].title.split(), "", 60
        for w in words:  # wrap the title
            if len(line) + len(w) > 18:
                d.text((14, y), line, fill=(40, 40, 40), font_size=18)
                line, y = "", y + 24
            line = (line + " " + w).strip()
        d.text((14, y), line, fill=(40, 40, 40), font_size=18)
        d.text((14, THUMB - 34), "rendering…", fill=(140, 140, 140), font_size=14)
        tmp = path.with_name(path.name + ".part")
        img.save(tmp, format="PNG")
        tmp.replace(path)
    return path


def cards(mappings) -> list[Card]:
    out = []
    for m in mappings:
        for i, ex in enumerate(m.examples):
            thumb = thumbnail_path(m, i)
            out.append(Card(m.name, i, ex.title, str(thumb or title_card(m, i)), thumb is not None))
    return out


def render(mapping, index: int, size: int = THUMB) -> Image.Image:
    """Run an example small and make its thumbnail: the picture, a video's middle frame, a sound's
    waveform, a text's first lines."""
    from yingshe.core import sources

    ex = mapping.examples[index]
    values = dict(ex.recipe)
    fields = {p.name for p in mapping.recipe.params()}
    if "size" in fields:
        own = int(values.get("size", getattr(mapping.recipe(), "size", size)))
        if own:  # 0 keeps its meaning (translate: the model's own size, which a small model needs)
            values["size"] = min(own, size)
    if "iterations" in fields and mapping.name == "style":
        values.setdefault("iterations", 40)  # a thumbnail: the look, not the finish
    if mapping.name == "music2paint":
        values["preview"] = 4.0
    if mapping.name == "animation":
        values["frames"] = min(int(values.get("frames", 8)), 8)
    recipe = mapping.recipe.from_dict(values)
    specs = {s.name: s for s in mapping.inputs}
    inputs = {}
    for name, srcs in ex.inputs.items():
        items = srcs if isinstance(srcs, tuple) else (srcs,)
        inputs[name] = [sources.load(s, kind=specs[name].kind, size_hint=size) for s in items]
    art = mapping.run(recipe, inputs, None)
    kinds = art.kinds()
    if "image" in kinds or "video" in kinds or "vector" in kinds:
        img = art.output("image") if art.image is not None or not art.frames else art.frames[len(art.frames) // 2]
    elif "audio" in kinds or "midi" in kinds:
        img = _waveform(art.output("audio"), size)
    else:
        img = _text_card(art.text or "", size)
    art.cleanup()
    img = img.convert("RGB")
    img.thumbnail((size, size), Image.LANCZOS)
    return img


def _waveform(audio, size: int) -> Image.Image:
    import numpy as np

    y = audio.mono()
    img = Image.new("RGB", (size, size), (28, 40, 70))
    d = ImageDraw.Draw(img)
    n = size - 20
    chunks = np.array_split(np.abs(y), n)
    peak = max(1e-6, max(float(c.max(initial=0)) for c in chunks))
    for i, c in enumerate(chunks):
        h = float(c.max(initial=0)) / peak * (size * 0.35)
        d.line([(10 + i, size / 2 - h), (10 + i, size / 2 + h)], fill=(140, 190, 255))
    return img


def _text_card(text: str, size: int) -> Image.Image:
    img = Image.new("RGB", (size, size), (245, 240, 228))
    d = ImageDraw.Draw(img)
    for i, line in enumerate(text.splitlines()[:8]):
        d.text((12, 12 + 24 * i), line[:16], fill=(40, 40, 40), font_size=18)
    return img


def prepare(mappings, *, folder: Path | None = None, background: bool = True):
    """Render every missing thumbnail: in a separate, low-priority process unless asked otherwise
    (a thread would hold the studio's interpreter while pages are served)."""
    folder = folder or cache_dir()
    todo = [(m, i) for m in mappings for i in range(len(m.examples)) if thumbnail_path(m, i) is None]
    if not todo:
        return None
    if background:
        import os
        import subprocess
        import sys

        return subprocess.Popen([sys.executable, "-m", "yingshe.studio.examples", "--parent", str(os.getpid())],
                                stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL,
                                preexec_fn=(lambda: os.nice(10)) if hasattr(os, "nice") else None)

    def work():
        for m, i in todo:
            try:
                img = render(m, i)
            except Exception as e:  # one broken example must not stop the others
                print(f"yingshe studio: example {m.name} #{i} could not be rendered ({type(e).__name__}: {e})")
                continue
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / key(m, i)
            tmp = path.with_name(path.name + ".part")
            img.save(tmp, format="JPEG", quality=85)
            tmp.replace(path)

    work()
    return None


def main(argv: list[str] | None = None) -> int:
    """``python -m yingshe.studio.examples --ship``: render the thumbnails that ship in the package."""
    import argparse

    from yingshe.core import registry

    ap = argparse.ArgumentParser(description=main.__doc__)
    ap.add_argument("--ship", action="store_true", help="write into the package's thumbs/ folder")
    ap.add_argument("--only", default="", help="comma list of mappings")
    ap.add_argument("--parent", type=int, default=0, help="stop when this process (the studio) is gone")
    a = ap.parse_args(argv)
    maps = [m for m in registry.all_mappings() if m.examples and (not a.only or m.name in a.only.split(","))]
    folder = SHIPPED if a.ship else cache_dir()
    import os

    for m in maps:
        for i in range(len(m.examples)):
            if a.parent and os.getppid() != a.parent:
                return 0  # the studio that started us has gone
            path = folder / key(m, i)
            if path.exists():
                continue
            try:
                img = render(m, i)
            except Exception as e:  # e.g. a model not trained yet: the studio shows a title card
                print(f"skipped {m.name} #{i}: {type(e).__name__}: {e}")
                continue
            folder.mkdir(parents=True, exist_ok=True)
            img.save(path, format="JPEG", quality=82)
            print(f"{path} ({path.stat().st_size // 1024} KB)")
    keep = {key(m, i) for m in registry.all_mappings() for i in range(len(m.examples))}
    for old in folder.glob("*.jpg"):
        if old.name not in keep and a.ship:
            old.unlink()  # a changed example's old thumbnail
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
