"""Captioned pictures for our text→image models, and the caption augmentation.

DATA for ``yingshe train diffusion`` / ``yingshe train clip`` is one or more folders joined by
commas, each either

- the npm package ``emoji-datasource-google`` (3,786 Noto emoji at 64 px with their Unicode
  names, short names, categories and skin tones; Apache-2.0 pictures, MIT package). Fetch it
  once, anywhere (the product never needs it at run time)::

      mkdir -p data/emoji && cd data/emoji && npm install emoji-datasource-google@16.0.0
      # DATA = data/emoji/node_modules/emoji-datasource-google

- or a folder with ``captions.jsonl`` (one ``{"file": ..., "caption": ...}`` line per picture;
  ``yingshe dataset art`` writes these; ``"captions": [...]`` may list more than one).

Each picture gets several captions: its names in plain words put into templates ("an emoji of
a slice of pizza", "pizza icon"), a few synonyms, and a colour word measured from its pixels
("a red heart"), so people's own phrasings work, not only the training strings. Unconditional
training (for classifier-free guidance) uses the empty caption.
"""

from __future__ import annotations

import json
import random
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from yingshe.core.errors import BadInput

SKIN_TONES = {"1F3FB": "light skin tone", "1F3FC": "medium-light skin tone", "1F3FD": "medium skin tone",
              "1F3FE": "medium-dark skin tone", "1F3FF": "dark skin tone"}

#: how people may say it ("{}" is the phrase)
TEMPLATES = ("{}", "{}", "a {}", "an emoji of {}", "{} emoji", "a picture of {}", "an icon of {}", "{} icon",
             "a drawing of {}", "a cartoon {}", "a flat illustration of {}", "{} on a white background",
             "a cute {}", "a simple {}", "a colourful {}", "clip art of {}")
#: a few everyday synonyms (word -> alternatives), applied word by word
SYNONYMS = {
    "face": ("face", "smiley"), "grinning": ("grinning", "smiling"), "automobile": ("automobile", "car"),
    "cat": ("cat", "kitty"), "dog": ("dog", "puppy"), "heart": ("heart", "love heart"),
    "smiling": ("smiling", "happy"), "crying": ("crying", "sad"), "sign": ("sign", "symbol"),
    "large": ("large", "big"), "small": ("small", "little"), "black": ("black", "dark"),
    "rabbit": ("rabbit", "bunny"), "ideograph": ("ideograph", "chinese character"), "mark": ("mark", "symbol"),
    "woman": ("woman", "lady"), "man": ("man", "guy"), "person": ("person", "someone"),
    "frowning": ("frowning", "unhappy"), "pile": ("pile", "heap"), "poo": ("poo", "poop"),
    "slice": ("slice", "piece"), "house": ("house", "home"), "building": ("building", "tower"),
    "globe": ("globe", "earth", "world"), "sun": ("sun", "sunshine"), "telephone": ("telephone", "phone"),
    "ball": ("ball",), "hand": ("hand", "palm"), "thumbs": ("thumbs",), "fire": ("fire", "flame"),
}
#: a colour word before the phrase only when the phrase names none
COLOUR_WORDS = ("red", "orange", "yellow", "golden", "green", "teal", "blue", "purple", "magenta", "pink", "brown",
                "black", "white", "grey", "silver", "charcoal")


@dataclass
class Example:
    file: Path
    phrases: tuple[str, ...]  # plain-words names ("slice of pizza", "pizza")
    colour: str = ""  # measured main colour ("red"), "" when unknown
    group: str = ""  # category ("Food & Drink") or dataset class
    raw: bool = False  # phrases are whole captions already (no templates)
    suffix: str = ""  # said after the phrase ("medium skin tone")
    meta: dict = field(default_factory=dict)


# --------------------------------------------------------------------------- sources

def _plain(name: str) -> str:
    s = name.replace("_", " ").replace("-", " ").replace(":", " ").lower()
    s = re.sub(r"\s+", " ", s).strip()
    return s


def emoji_phrases(e: dict) -> list[str]:
    """Plain-words names of one emoji record of emoji-datasource."""
    out = []
    name = _plain(e.get("name") or "")
    if name.endswith(" flag") and e.get("category") == "Flags":
        country = name[:-5]
        out += [f"flag of {country}", f"{country} flag"]
    elif name:
        out.append(name)
    for s in e.get("short_names") or []:
        p = _plain(s)
        if p and p not in out and not re.fullmatch(r"flag [a-z]{2}", p):
            out.append(p)
    return out or ["emoji"]


def is_emoji_package(folder: Path) -> bool:
    return (folder / "emoji.json").is_file() and (folder / "img" / "google" / "64").is_dir()


def load_emoji(folder: Path) -> list[Example]:
    """Every Noto emoji (skin tones included) of an emoji-datasource-google folder."""
    try:
        records = json.loads((folder / "emoji.json").read_text())
    except (OSError, ValueError) as e:
        raise BadInput(f"{folder}/emoji.json: cannot read it ({e})") from None
    img = folder / "img" / "google" / "64"
    out = []
    for e in records:
        if not e.get("has_img_google") or not e.get("image"):
            continue
        phrases = emoji_phrases(e)
        base = dict(name=e.get("name"), unified=e.get("unified"), category=e.get("category"),
                    subcategory=e.get("subcategory"), sort_order=e.get("sort_order"))
        if (img / e["image"]).is_file():
            out.append(Example(img / e["image"], tuple(phrases), group=e.get("category") or "", meta=base))
        for code, v in (e.get("skin_variations") or {}).items():
            if not v.get("has_img_google") or not (img / v["image"]).is_file():
                continue
            tones = [SKIN_TONES[c] for c in code.split("-") if c in SKIN_TONES]
            tone = " and ".join(dict.fromkeys(tones))
            out.append(Example(img / v["image"], tuple(phrases), group=e.get("category") or "", suffix=tone,
                               meta=base | {"unified": v.get("unified"), "skin": code}))
    return out


def name_weights(examples: list[Example]) -> list[float]:
    """A sampling weight per example that gives every name the same share: 1 / (pictures of that
    name). An emoji's skin-tone variants share its name; a captioned picture without a name is its
    own."""
    keys = [e.meta.get("name") or f"#{i}" for i, e in enumerate(examples)]
    count = Counter(keys)
    return [1.0 / count[k] for k in keys]


def load_captioned(folder: Path) -> list[Example]:
    path = folder / "captions.jsonl"
    out = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as e:
        raise BadInput(f"{path}: cannot read it ({e})") from None
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            file = folder / row["file"]
            caps = [row["caption"]] + [c for c in row.get("captions", []) if c != row["caption"]]
        except (ValueError, KeyError, TypeError):
            raise BadInput(f"{path}:{n}: expected a JSON object with 'file' and 'caption'") from None
        if file.is_file() and all(isinstance(c, str) and c.strip() for c in caps):
            out.append(Example(file, tuple(c.strip() for c in caps), group=str(row.get("class", "")), raw=True))
    return out


def load_examples(data: str) -> list[Example]:
    """Examples of every folder in ``data`` (comma-separated)."""
    folders = [Path(p.strip()).expanduser() for p in data.split(",") if p.strip()]
    if not folders:
        raise BadInput("name the training data: an emoji-datasource-google folder or a folder with captions.jsonl")
    out: list[Example] = []
    for f in folders:
        if not f.is_dir():
            raise BadInput(f"{str(f)!r} is not a folder")
        if is_emoji_package(f):
            out += load_emoji(f)
        elif (f / "captions.jsonl").is_file():
            out += load_captioned(f)
        elif (f / "node_modules" / "emoji-datasource-google").is_dir():
            out += load_emoji(f / "node_modules" / "emoji-datasource-google")
        else:
            raise BadInput(f"{str(f)!r} is neither an emoji-datasource-google package folder nor a folder with "
                           "captions.jsonl (see `yingshe train diffusion --help`)")
    if not out:
        raise BadInput(f"no captioned pictures found in {data!r}")
    return out


# --------------------------------------------------------------------------- pictures

def load_picture(path: Path, size: int):
    """An RGB picture at ``size`` px, transparency flattened onto white."""
    from PIL import Image

    with Image.open(path) as im:
        im.load()
        if im.mode in ("RGBA", "LA", "P"):
            im = im.convert("RGBA")
            bg = Image.new("RGBA", im.size, (255, 255, 255, 255))
            im = Image.alpha_composite(bg, im)
        im = im.convert("RGB")
    if im.size != (size, size):
        w, h = im.size
        s = min(w, h)
        im = im.crop(((w - s) // 2, (h - s) // 2, (w - s) // 2 + s, (h - s) // 2 + s)).resize((size, size),
                                                                                            Image.LANCZOS)
    return im


def main_colour(img) -> str:
    """The colour word of the most common non-white colour of a picture ("" when none)."""
    import numpy as np

    from yingshe.algorithmic.captions import colour_name

    px = np.asarray(img.convert("RGB"), np.float32).reshape(-1, 3) / 255.0
    px = px[(px.min(1) < 0.92)]  # not the white background
    if len(px) < 16:
        return ""
    q = np.round(px * 5).astype(int)
    keys, inv, counts = np.unique(q, axis=0, return_inverse=True, return_counts=True)
    top = int(np.argmax(counts))
    name = colour_name(px[inv.reshape(-1) == top].mean(0))
    return name.split()[-1]


def pictures(examples: list[Example], size: int, progress=None):
    """(N, 3, size, size) uint8 tensor of every example; fills in each example's colour."""
    import numpy as np
    import torch

    out = torch.empty(len(examples), 3, size, size, dtype=torch.uint8)
    if progress is not None:
        progress.start(len(examples), "loading pictures")
    for i, ex in enumerate(examples):
        try:
            im = load_picture(ex.file, size)
        except Exception as e:
            raise BadInput(f"{ex.file}: cannot read this picture ({type(e).__name__})") from None
        if not ex.colour and not ex.raw:
            ex.colour = main_colour(im)
        out[i] = torch.from_numpy(np.asarray(im, np.uint8).copy()).permute(2, 0, 1)
        if progress is not None:
            progress.update(1)
    return out


# --------------------------------------------------------------------------- captions

def _article(phrase: str) -> str:
    return "an" if phrase[:1] in "aeiou" else "a"


def _synonyms(phrase: str, rng: random.Random) -> str:
    words = phrase.split(" ")
    return " ".join(rng.choice(SYNONYMS[w]) if w in SYNONYMS and rng.random() < 0.5 else w for w in words)


def augment(ex: Example, rng: random.Random) -> str:
    """One caption of ``ex``: a name in a template, maybe with synonyms and a colour word."""
    phrase = rng.choice(ex.phrases)
    if ex.raw:
        t = rng.choice(("{}", "{}", "{}", "a picture of {}", "an image of {}", "{}, abstract art"))
        return t.format(phrase)
    phrase = _synonyms(phrase, rng)
    if ex.colour and rng.random() < 0.3 and not any(c in phrase.split() for c in COLOUR_WORDS):
        phrase = f"{ex.colour} {phrase}"
    t = rng.choice(TEMPLATES)
    if t == "a {}":
        t = _article(phrase) + " {}"
    return t.format(phrase) + (f", {ex.suffix}" if ex.suffix else "")


def captions_for(ex: Example, k: int, rng: random.Random) -> list[str]:
    """``k`` captions: the plain first name, then augmented ones (distinct where possible)."""
    first = ex.phrases[0] + (f", {ex.suffix}" if ex.suffix else "")
    out = [first]
    tries = 0
    while len(out) < k and tries < 8 * k:
        c = augment(ex, rng)
        tries += 1
        if c not in out:
            out.append(c)
    while len(out) < k:
        out.append(rng.choice(out))
    return out
