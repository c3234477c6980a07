"""The studio's gallery with 10,000 artworks (issue 17): how long the first page takes.

    python bench/gallery_scale.py --n 10000 [--browser]

Makes N small real artworks' rows (each a 256 px PNG under the output folder, all in the
gallery database), then times the studio's handler for the first page (the SQL page + count +
one thumbnail per row): cold (no thumbnails cached yet) and warm. With --browser, also the page
round trip in Debian's Chromium: from clicking the gallery tab on a freshly loaded page (1.5 s
after it appears) to every thumbnail of the first page drawn. Target: ≤ 300 ms.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))


def make_rows(out: Path, n: int) -> None:
    import numpy as np
    from PIL import Image

    from yingshe.core.gallery import Gallery

    rng = np.random.default_rng(0)
    out.mkdir(parents=True, exist_ok=True)
    with Gallery.open() as g:
        g.con.execute("BEGIN")
        for i in range(n):
            path = out / f"art-{i:05d}.png"
            a = (rng.random((16, 16, 3)) * 255).astype(np.uint8)
            Image.fromarray(a).resize((256, 256), Image.NEAREST).save(path, compress_level=1)
            rec = {"created": f"2026-11-{1 + i % 28:02d}T12:00:00+00:00", "mapping": "mandelbrot",
                   "recipe": {"seed": i, "size": 256}, "inputs": {}, "seconds": 0.1}
            g.con.execute("INSERT INTO artworks (created, mapping, path, sha256, recipe, record, seconds, width, height,"
                          " seed, inputs, kind, duration, bytes) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                          (rec["created"], "mandelbrot", str(path.resolve()), hashlib.sha256(path.read_bytes()).hexdigest(), json.dumps(rec["recipe"]),
                           json.dumps(rec), 0.1, 256, 256, i, "{}", "image", None, path.stat().st_size))
        g.con.execute("COMMIT")


def time_handler(studio, repeat: int) -> tuple[float, float]:
    import shutil

    thumbs = studio.output / ".thumbs"
    cold = []
    warm = []
    for _ in range(repeat):
        shutil.rmtree(thumbs, ignore_errors=True)
        t = time.perf_counter()
        rows, total = studio.gallery_page()
        [studio.thumbnail(r) for r in rows]
        cold.append(time.perf_counter() - t)
        t = time.perf_counter()
        rows, total = studio.gallery_page()
        [studio.thumbnail(r) for r in rows]
        warm.append(time.perf_counter() - t)
    return statistics.median(cold), statistics.median(warm)


def time_browser(out: Path, home: Path, repeat: int) -> list[float]:
    from _studio import chromium_page, running_studio

    done = ("Array.from(document.querySelectorAll('#gallery-grid img'))"
            ".filter(i => i.complete && i.naturalWidth > 0).length >= 48")
    with running_studio(out, home) as url, chromium_page(url, 1400, 1000) as page:
        page.get_by_role("tab", name="gallery", exact=True).click()  # a first visit fills the thumbnail cache
        page.wait_for_function(done, timeout=120_000)
        times = []
        for _ in range(repeat):  # a fresh page each time (Gradio does not redraw an unchanged gallery)
            page.reload()
            page.wait_for_selector("#tabs")
            page.wait_for_timeout(1500)  # a person clicks once the page has loaded (Gradio's stream never idles)
            t = time.perf_counter()
            page.get_by_role("tab", name="gallery", exact=True).click()
            page.wait_for_function(done, timeout=60_000)
            times.append(time.perf_counter() - t)
    return times


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=10_000)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--browser", action="store_true")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        home, out = Path(tmp) / "home", Path(tmp) / "out"
        os.environ["YINGSHE_HOME"] = str(home)
        t = time.perf_counter()
        make_rows(out, a.n)
        print(f"made {a.n} artworks in {time.perf_counter() - t:.1f} s")
        from yingshe.studio.service import Studio

        studio = Studio(out)
        cold, warm = time_handler(studio, a.repeat)
        print(f"first page (48 thumbnails) handler: cold {cold * 1000:.0f} ms, warm {warm * 1000:.0f} ms")
        if a.browser:
            times = time_browser(out, home, a.repeat)
            print(f"first page in Chromium, gallery tab clicked → 48 thumbnails drawn: median "
                  f"{statistics.median(times) * 1000:.0f} ms (each: {', '.join(f'{t * 1000:.0f}' for t in times)})")


if __name__ == "__main__":
    main()
