"""Semantic search over pictures with our CLIP: "blue swirls" finds the pictures whose image
embedding lies nearest the query's MiniLM embedding, whatever their recipes say.

Image embeddings are kept in a side store (SQLite in the cache folder, keyed by the file's
sha256 and the CLIP model's sha256), so each picture is embedded once; gallery rows carry the
sha256 already. ``yingshe gallery search --semantic TEXT`` calls :func:`search_rows`.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from yingshe.core.errors import BadInput

SCHEMA = """CREATE TABLE IF NOT EXISTS clip_embeddings (
    sha256 TEXT NOT NULL, model TEXT NOT NULL, vector BLOB NOT NULL, PRIMARY KEY (sha256, model))"""


def store_path() -> Path:
    from yingshe.core.paths import cache_dir

    return cache_dir() / "clip-embeddings.sqlite"


def embeddings(paths: list[Path], shas: list[str], model, *, store: Path | None = None):
    """(N, 384) unit image embeddings of ``paths`` (cached by file sha256 and model)."""
    import numpy as np
    import torch
    from PIL import Image

    store = store or store_path()
    store.parent.mkdir(parents=True, exist_ok=True)
    key = model.record.get("sha256") or model.name
    con = sqlite3.connect(str(store))
    try:
        con.execute(SCHEMA)
        have = {}
        for i in range(0, len(shas), 500):
            chunk = shas[i:i + 500]
            q = f"SELECT sha256, vector FROM clip_embeddings WHERE model=? AND sha256 IN ({','.join('?' * len(chunk))})"
            for sha, blob in con.execute(q, (key, *chunk)):
                have[sha] = np.frombuffer(blob, np.float16).astype(np.float32)
        missing = [i for i, s in enumerate(shas) if s not in have]
        images, ok = [], []
        for i in missing:
            try:
                with Image.open(paths[i]) as im:
                    images.append(im.convert("RGB"))
                ok.append(i)
            except Exception:
                continue  # a missing or unreadable file is simply not found
        if images:
            emb = model.embed_images(images).numpy()
            for i, v in zip(ok, emb):
                have[shas[i]] = v
                con.execute("INSERT OR REPLACE INTO clip_embeddings VALUES (?, ?, ?)",
                            (shas[i], key, v.astype(np.float16).tobytes()))
            con.commit()
    finally:
        con.close()
    out = torch.zeros(len(shas), model.net.cfg.embed)
    found = torch.zeros(len(shas), dtype=torch.bool)
    for i, s in enumerate(shas):
        if s in have:
            out[i] = torch.from_numpy(have[s])
            found[i] = True
    return out, found


def search_paths(query: str, paths: list, shas: list[str] | None = None, *, clip: str = "yingshe-clip-emoji",
                 top: int = 20, store: Path | None = None) -> list[tuple[int, float]]:
    """(index, cosine) of the ``top`` pictures nearest ``query``, best first."""
    from yingshe.core.fingerprint import sha256_file
    from yingshe.diffusion.clip import load_clip

    if not query.strip():
        raise BadInput("semantic search needs words to look for, e.g. \"blue swirls\"")
    model = load_clip(clip)
    paths = [Path(p) for p in paths]
    if shas is None:
        shas = [sha256_file(p) if p.is_file() else f"missing:{p}" for p in paths]
    img, found = embeddings(paths, shas, model, store=store)
    q = model.embed_texts([query])[0]
    sims = img @ q
    sims[~found] = -2
    order = sims.argsort(descending=True).tolist()
    return [(i, round(float(sims[i]), 4)) for i in order[:top] if found[i]]


def search_rows(query: str, rows: list, *, top: int = 20, clip: str = "yingshe-clip-emoji") -> list[tuple]:
    """Gallery rows (``yingshe.core.gallery.Row`` with ``path`` and ``sha256``) nearest ``query``:
    [(row, cosine)], best first. Only pictures are searched."""
    pics = [r for r in rows if getattr(r, "kind", "image") == "image"]
    hits = search_paths(query, [r.path for r in pics], [r.sha256 for r in pics], clip=clip, top=top)
    return [(pics[i], s) for i, s in hits]
