"""``yingshe eval ART...``: how well text→image artworks match their prompts, by our CLIP.

For each artwork (any picture whose record holds a text input, e.g. ``diffuse``'s prompt): the
CLIP score of the picture against its own prompt (100 × max(cosine, 0), as torchmetrics'
CLIPScore), and over the set, R-precision: how often a picture's own prompt scores above every
other artwork's prompt (R = 1; with N artworks each is ranked against N − 1 distractors, so
chance is 1/N). Records are read with the safe reader; nothing they name is opened.
"""

from __future__ import annotations

from pathlib import Path

from yingshe.core.errors import BadInput


def prompt_of(record: dict) -> str | None:
    """The first text input of a record (a prompt, a poem), or None."""
    for items in (record.get("inputs") or {}).values():
        for item in items:
            if isinstance(item, dict) and item.get("kind") == "text" and isinstance(item.get("text"), str):
                return item["text"]
    return None


def evaluate_artworks(paths: list[str], clip: str = "yingshe-clip-emoji") -> dict:
    from yingshe.core.images import open_image
    from yingshe.core.records import read_record
    from yingshe.diffusion.clip import cosines, load_clip, r_precision, scores_of
    from yingshe.diffusion.prompts import plain

    rows, images, texts = [], [], []
    for p in paths:
        record = read_record(p)
        prompt = prompt_of(record)
        if prompt is None:
            raise BadInput(f"{p}: its record holds no prompt (made by {record.get('mapping')!r}, not from text)")
        images.append(open_image(Path(p)))
        texts.append(plain(prompt))
        rows.append({"path": str(p), "mapping": record.get("mapping"), "prompt": prompt})
    model = load_clip(clip)
    img = model.embed_images(images)
    txt = model.embed_texts(texts)
    cos = cosines(img, txt)
    scores = scores_of(cos)
    for row, s, c in zip(rows, scores.tolist(), cos.tolist()):
        row["clip_score"] = round(float(s), 3)
        row["cosine"] = round(float(c), 4)  # our small CLIP's cosines are small: its ranking is what counts
    out = {"clip": model.record, "artworks": rows,
           "mean_clip_score": round(float(scores.mean()), 3) if len(rows) else None}
    distinct = len(set(texts))
    if len(rows) >= 2 and distinct >= 2:
        out["r_precision"] = round(r_precision(img, txt, distractors=len(rows) - 1, groups=texts), 4)
        out["r_precision_chance"] = round(1 / distinct, 4)
    return out
