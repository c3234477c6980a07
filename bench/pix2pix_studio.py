"""The studio's sketch canvas in a real browser: draw strokes on the ``translate`` tab's canvas
and time how long until the live translation changes on the page (headless Chromium driven by
Playwright, as tests/test_studio_browser.py does; Debian's chromium, never `playwright install`).

    nice -n 10 python bench/pix2pix_studio.py [--model edges2monet] [--strokes 4] [--shot FILE]

Prints per-stroke seconds from mouse-up to the new 256 px translation on the page (this includes
the pad's PNG, the coarse 128 px preview the studio shows first, then the full one) and saves a
screenshot of the tab after the last stroke. ``--url`` times a studio already running.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _studio import chromium_page, running_studio  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="edges2monet")
    ap.add_argument("--strokes", type=int, default=4)
    ap.add_argument("--url", help="a studio already running (default: start one)")
    ap.add_argument("--shot", default=str(ROOT / "bench" / "results" / "pix2pix-studio-canvas.png"))
    a = ap.parse_args()
    from yingshe.core.registry import SECTIONS, get

    base = Path(tempfile.mkdtemp(prefix="ys-canvas-"))
    studio = (contextlib.nullcontext(a.url) if a.url
              else running_studio(str(base / "out"), str(base / "home"), "--threads", "1"))
    with studio as url:
        with chromium_page(url, 1400, 1100) as page:
            page.get_by_role("tab", name=SECTIONS[get("translate").where], exact=True).click()
            page.get_by_role("tab", name="translate", exact=True).click()
            if a.model != "edges2monet":
                box = page.locator("#translate-model input, #translate-model textarea").first
                box.fill(a.model)
                box.press("Enter")
            canvas = page.locator("#translate-input-image-pad canvas").first
            canvas.wait_for(timeout=60_000)
            time.sleep(0.5)
            canvas.scroll_into_view_if_needed()
            cb = canvas.bounding_box()
            side = min(cb["width"], cb["height"]) * 0.8  # strokes well inside the pad
            cb = {"x": cb["x"] + (cb["width"] - side) / 2, "y": cb["y"] + (cb["height"] - side) / 2,
                  "width": side, "height": side}
            out = page.locator("#translate-output img")
            times = []
            strokes = [((0.0, 0.6), (1.0, 0.55)), ((0.15, 0.6), (0.15, 0.2)), ((0.8, 0.55), (0.8, 0.15)),
                       ((0.3, 0.6), (0.5, 0.35)), ((0.5, 0.35), (0.7, 0.6)), ((0.1, 0.8), (0.6, 0.8))]
            for i in range(a.strokes):
                (x0, y0), (x1, y1) = strokes[i % len(strokes)]
                before = out.get_attribute("src") if out.count() else None
                page.mouse.move(cb["x"] + cb["width"] * x0, cb["y"] + cb["height"] * y0)
                page.mouse.down()
                for k in range(1, 11):
                    page.mouse.move(cb["x"] + cb["width"] * (x0 + (x1 - x0) * k / 10),
                                    cb["y"] + cb["height"] * (y0 + (y1 - y0) * k / 10))
                t0 = time.perf_counter()
                page.mouse.up()
                deadline = t0 + 120
                seen, refining = None, False
                while time.perf_counter() < deadline:  # the coarse preview ("refining…"), then the final one
                    status = page.locator("#translate-status").inner_text()
                    src = out.get_attribute("src") if out.count() else None
                    refining = refining or "refining" in status
                    if refining and src and src != before and "press Run" in status:
                        seen = time.perf_counter() - t0
                        break
                    time.sleep(0.02)
                times.append(round(seen, 3) if seen is not None else None)
                print(f"stroke {i + 1}: {times[-1]} s to the live translation", file=sys.stderr, flush=True)
            Path(a.shot).parent.mkdir(parents=True, exist_ok=True)
            page.locator("#translate-output").scroll_into_view_if_needed()
            page.screenshot(path=a.shot, full_page=False)
        ok = [t for t in times if t is not None]
        print(json.dumps({"strokes": times, "median_s": sorted(ok)[len(ok) // 2] if ok else None,
                          "load_average_1min": round(os.getloadavg()[0], 2), "screenshot": a.shot}))


if __name__ == "__main__":
    main()
