"""Studio latency: slider release → new image, for the live (realtime) mappings and the latent
explorer. Live previews are progressive (issue 17): a 128 px render scaled up comes first, then
the 512 px one. Targets: the first preview within 100 ms of a page round trip, the latent
explorer within 300 ms.

Measures (1) the server-side handler alone (what the slider's event runs) and (2) the round
trip through a real page: `yingshe studio` in a subprocess, headless Chromium, a slider moved
with the mouse, timed until the new image is in the page.

    nice -n 10 python bench/studio_latency.py [--repeats 15] [--no-browser]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))


def _stats(xs):
    xs = sorted(xs)
    return f"median {statistics.median(xs) * 1000:6.1f} ms   p90 {xs[int(0.9 * (len(xs) - 1))] * 1000:6.1f} ms   (n={len(xs)})"


def server_side(repeats: int) -> None:
    from yingshe.core.registry import all_mappings
    from yingshe.studio.controls import to_values
    from yingshe.studio.service import Studio

    studio = Studio(tempfile.mkdtemp())
    for m in all_mappings():
        if not m.realtime or any(s.required and not s.from_recipe for s in m.inputs):
            continue
        values = dict(zip([s.name for s in m.recipe.params()], to_values(m.recipe(), m.recipe)))
        list(studio.live_renders(m.name, values))  # warm-up
        first, final = [], []
        for i in range(repeats):
            values["seed"] = i
            t = time.perf_counter()
            for k, _ in enumerate(studio.live_renders(m.name, values)):
                (first if k == 0 else final).append(time.perf_counter() - t)
        print(f"handler  {m.name:<14} first (128 px) {_stats(first)}")
        print(f"handler  {m.name:<14} final (512 px) {_stats(final)}")
    from yingshe.studio import latent

    if latent.available():
        ex = latent.Explorer()
        for name in ex.names():
            ex.render(name, 0, [0] * ex.k)
            times = []
            for i in range(repeats):
                t = time.perf_counter()
                ex.render(name, 0, [i / repeats * 3] + [0] * (ex.k - 1))
                times.append(time.perf_counter() - t)
            print(f"handler  latent:{name:<8} 256 px  {_stats(times)}")


def round_trip(repeats: int) -> None:
    from _studio import chromium_page, running_studio

    with running_studio(tempfile.mkdtemp(), tempfile.mkdtemp()) as url, chromium_page(url, 1280, 1600) as page:
        from yingshe.core.registry import SECTIONS, all_mappings
        from yingshe.studio.controls import controls_for

        # a slider that changes the picture, not how much work it is (truchet's tiles and voronoi's
        # relax iterations multiply the render time: at 400 tiles a preview takes seconds)
        chosen = {"truchet": "width", "voronoi": "glow"}
        cases = []
        for m in sorted(all_mappings(), key=lambda m: (m.rank, m.name)):
            if not m.realtime or any(s.required and not s.from_recipe for s in m.inputs):
                continue  # (translate needs a drawing: bench/pix2pix_studio.py times its canvas)
            slider = chosen.get(m.name) or next((c.name for c in controls_for(m.recipe) if c.widget == "slider" and c.name != "size"
                           and not c.advanced), None)
            if slider:
                cases.append((SECTIONS[m.where], m.name, f"#{m.name}-{slider}", f"#{m.name}-output img"))
        cases.append(("Pictures from nothing", "latent explorer", "#latent-d1", "#latent-output img"))
        for section, tab, slider, img in cases:
            label = tab.split()[0]
            page.get_by_role("tab", name=section, exact=True).click()
            if not page.locator(f"[role=tab]:has-text('{tab}')").count():
                continue
            page.get_by_role("tab", name=tab, exact=True).click()
            page.locator(f"{slider} input[type=range]").scroll_into_view_if_needed()
            box = page.locator(f"{slider} input[type=range]").bounding_box()
            times = []
            for i in range(repeats + 1):
                before = page.eval_on_selector(img, "e => e.src") if page.locator(img).count() else None
                x = box["x"] + box["width"] * (0.2 + 0.6 * ((i * 7) % repeats) / repeats)
                t = time.perf_counter()
                page.mouse.click(x, box["y"] + box["height"] / 2)
                page.wait_for_function(
                    "([sel, old]) => { const e = document.querySelector(sel); return e && e.src !== old && e.complete; }",
                    arg=[img, before], timeout=30_000)
                if i:  # the first one warms up
                    times.append(time.perf_counter() - t)
                page.wait_for_timeout(1500)  # let the 512 px render land before the next move
            print(f"page     {label:<14} first preview  {_stats(times)}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeats", type=int, default=15)
    ap.add_argument("--no-browser", action="store_true")
    a = ap.parse_args()
    import torch

    print(f"torch threads {torch.get_num_threads()}, cpus {os.cpu_count()}")
    server_side(a.repeats)
    if not a.no_browser:
        round_trip(a.repeats)


if __name__ == "__main__":
    main()
