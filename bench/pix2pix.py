"""pix2pix: quality on a model's held-out pictures, training throughput against the paper's loop,
and the translation latency the studio's sketch canvas needs.

    nice -n 10 python bench/pix2pix.py [--model edges2monet] [--data DIR] [--steps 120] [--trials 2]
                                       [--threads 1] [--skip-throughput] [--skip-quality]
    python bench/pix2pix.py --model edges2emoji --data EMOJI/img/google/64 --skip-throughput

1. Quality, on the model's own held-out split (the file names stored in the model file): each
   held-out picture B at the model's size (256 px for edges2monet, 64 for edges2emoji), its
   input A made exactly as ``translate`` makes it, G(A) in eval mode (dropout off). L1 (0..1
   pixels) and SSIM against B, and FID-VGG19 of the outputs against the held-out pictures; for
   scale, FID-VGG19 of the edge maps themselves (the worst a model could do by copying its
   input) and of as many *training* pictures (what real ones score against the held-out ones:
   the floor at this sample size). A contact sheet of input | output | target (30, spread
   over the names) goes to bench/results/pix2pix-MODEL-heldout.jpg, the built-in drawings to -sketches.jpg.
2. Throughput: ``yingshe train pix2pix``'s trainer (the shipped model's CPU settings: 256 px
   pictures, 128 px crops, width 32, batch 1) against the reference loop written here from the
   paper and junyanz/pytorch-CycleGAN-and-pix2pix: the same U-Net and PatchGAN, plain
   ``torch.optim.Adam(2e-4, β=(0.5, 0.999))``, D on the real pair and on the fake pair, then G
   with D's weights frozen; same in-memory data and jitter, no trainer. Trials alternate so both
   see the same machine load; the trainer's time includes its per-step work (reseeding, the
   learning-rate schedule, progress, TensorBoard scalars) and what falls inside the window; a
   second figure adds the end-of-run sample grid, validation and checkpoint.
   Four line drawings like those made on the studio's canvas go through the ``translate``
   mapping too (drawing | translation | two seeds of the paper's dropout noise).
3. Latency: the ``translate`` mapping (model cached, as in the studio) on a 256 px line drawing
   at the model's own size (what the studio's pad does), median of 15 runs, at 1 thread and at
   torch's default.

Writes numbers as JSON on stdout; bench/RESULTS.md records them with the commands.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from yingshe.core.progress import Progress  # noqa: E402
from yingshe.nets.pix2pix import PatchGAN, UNet  # noqa: E402
from yingshe.translate import data as D  # noqa: E402
from yingshe.translate.pairs import make_input  # noqa: E402
from yingshe.translate.trainer import TrainConfig, Trainer, translate_batch  # noqa: E402

DEFAULT_THREADS = torch.get_num_threads()  # before anything sets it
MONET = ROOT.parent / "shared" / "data" / "datasets" / "monet_paintings_256"
RESULTS = ROOT / "bench" / "results"


# ----------------------------------------------------------------------------- 1. quality

def quality(model_spec: str, data_dir: Path, sheet: Path) -> dict:
    from skimage.metrics import structural_similarity

    from yingshe.core.files import image_folder
    from yingshe.core.images import open_image
    from yingshe.generative.evaluate import VGGFeatures, fid
    from yingshe.translate.model import load_translator

    t = load_translator(model_spec)
    held = list(t.meta.get("data", {}).get("held_out") or [])
    if not held:
        raise SystemExit(f"{model_spec}: no held-out file names in the model")
    size = t.size

    def load(names):  # as training reads them (transparency on white)
        return np.stack([D._square(open_image(data_dir / n), size) for n in names])  # (N, S, S, 3)

    b = load(held)
    a = np.stack([make_input(t.pairs, x) for x in b])
    out = translate_batch(t.net, torch.from_numpy(a).permute(0, 3, 1, 2), "cpu")  # (N, 3, S, S) in [0, 1]
    tgt = torch.from_numpy(b).permute(0, 3, 1, 2).float() / 255
    l1 = float((out - tgt).abs().mean())
    ssim = float(np.mean([structural_similarity(o.permute(1, 2, 0).numpy(), g.permute(1, 2, 0).numpy(),
                                                channel_axis=2, data_range=1.0) for o, g in zip(out, tgt)]))
    feats = VGGFeatures()
    f_tgt, f_out = feats(tgt), feats(out)
    f_in = feats(torch.from_numpy(a).permute(0, 3, 1, 2).float() / 255)
    train_names = sorted(set(str(p.relative_to(data_dir)) for p in image_folder(data_dir)[1]) - set(held))
    rng = np.random.default_rng(0)
    train_pick = [train_names[i] for i in rng.choice(len(train_names), len(held), replace=False)]
    f_train = feats(torch.from_numpy(load(train_pick)).permute(0, 3, 1, 2).float() / 255)
    # contact sheet: input | output | target, 128 px per cell (30 held-out pictures, evenly spread
    # over the sorted names: the first 30 emoji are all keycaps and flags)
    rows = []
    for i in sorted(set(np.linspace(0, len(held) - 1, min(30, len(held))).round().astype(int).tolist())):
        cells = [Image.fromarray(a[i]), Image.fromarray((out[i].permute(1, 2, 0).numpy() * 255 + 0.5).astype(np.uint8)),
                 Image.fromarray(b[i])]
        rows.append(np.concatenate([np.asarray(c.resize((128, 128), Image.LANCZOS)) for c in cells], 1))
    half = (len(rows) + 1) // 2
    left, right = np.concatenate(rows[:half], 0), np.concatenate(rows[half:], 0)
    if right.shape[0] < left.shape[0]:
        right = np.concatenate([right, np.full((left.shape[0] - right.shape[0],) + right.shape[1:], 255, np.uint8)])
    sep = np.full((left.shape[0], 8, 3), 255, np.uint8)
    sheet.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.concatenate([left, sep, right], 1)).save(sheet, quality=88)
    return {"model": t.source, "model_sha256": t.sha256, "model_step": t.meta.get("step"), "size": size,
            "held_out": len(held), "l1": round(l1, 4), "ssim": round(ssim, 4),
            "fid_vgg19_outputs": round(fid(f_out, f_tgt), 4), "fid_vgg19_edge_maps": round(fid(f_in, f_tgt), 4),
            "fid_vgg19_training_pictures": round(fid(f_train, f_tgt), 4), "features": feats.VERSION,
            "sheet": str(sheet.relative_to(ROOT)) if sheet.is_relative_to(ROOT) else str(sheet)}


def drawn_sketches(size: int = 256) -> list[tuple[str, Image.Image]]:
    """The built-in line drawings (yingshe.samples: sketch:NAME), like a person makes on the canvas."""
    from yingshe import samples

    return [(name, samples.sketch(name, size)) for name in samples.SKETCHES]


def sketches(model_spec: str, sheet: Path) -> dict:
    """The drawn sketches through the ``translate`` mapping: a sheet of drawing | translation."""
    from yingshe.core import registry, sources

    m = registry.get("translate")
    recipe = m.recipe.from_dict({"model": model_spec})  # at the model's own size
    cells, noted = [], {}
    for name, img in drawn_sketches():
        art = m.run(recipe, {"image": [sources.from_image(img)]}, threads=1)
        noisy = [m.run(recipe.replace(noise=True, seed=k), {"image": [sources.from_image(img)]}, threads=1).image
                 for k in (1, 2)]
        noted[name] = art.summary["prepared"]
        # a model smaller than the drawing (edges2emoji: 64 px) is shown at the drawing's size
        cells.append(np.concatenate([np.asarray(x.resize(img.size, Image.NEAREST)) for x in [img, art.image, *noisy]], 1))
    Image.fromarray(np.concatenate(cells, 0)).save(sheet, quality=88)
    return {"sheet": str(sheet.relative_to(ROOT)) if sheet.is_relative_to(ROOT) else str(sheet),
            "columns": "drawing | translation (dropout off) | --noise --seed 1 | --noise --seed 2", "prepared": noted}


# ----------------------------------------------------------------------------- 2. throughput

def reference_loop(data: D.PairData, cfg: TrainConfig, steps: int) -> float:
    """The paper's loop, with the same networks and data, no trainer: images per second."""
    torch.manual_seed(0)
    G, Dn = UNet(cfg.unet_config()), PatchGAN(cfg.patchgan_config())
    opt_g = torch.optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(Dn.parameters(), lr=2e-4, betas=(0.5, 0.999))
    bce = torch.nn.BCEWithLogitsLoss()
    n = len(data.train)

    def step(i):
        idx = torch.randint(0, n, (cfg.batch,))
        a, b = D.jittered_batch(data.train, idx, cfg.crop_size, flip=True, thicken=True)
        fake = G(a)
        for p in Dn.parameters():
            p.requires_grad_(True)
        opt_d.zero_grad()
        pred_fake = Dn(torch.cat([a, fake.detach()], 1))
        pred_real = Dn(torch.cat([a, b], 1))
        loss_d = 0.5 * (bce(pred_fake, torch.zeros_like(pred_fake)) + bce(pred_real, torch.ones_like(pred_real)))
        loss_d.backward()
        opt_d.step()
        for p in Dn.parameters():
            p.requires_grad_(False)
        opt_g.zero_grad()
        pred = Dn(torch.cat([a, fake], 1))
        loss_g = bce(pred, torch.ones_like(pred)) + cfg.l1 * F.l1_loss(fake, b)
        loss_g.backward()
        opt_g.step()

    for i in range(3):
        step(i)  # warm-up
    t0 = time.perf_counter()
    for i in range(steps):
        step(i)
    return steps * cfg.batch / (time.perf_counter() - t0)


class Clock(Progress):
    """Timestamps of the trainer's steps (its progress updates)."""

    def __init__(self):
        self.times: list[float] = []

    def update(self, n: int = 1, **metrics) -> None:
        self.times.append(time.perf_counter())


def trainer_run(data: D.PairData, cfg_kw: dict, steps: int) -> tuple[float, float]:
    """(images/s over steps 3..N excluding the end-of-run work, images/s of the whole run)."""
    with tempfile.TemporaryDirectory() as d:
        clock = Clock()
        cfg = TrainConfig(data="<memory>", out=d, max_steps=3 + steps, **cfg_kw)
        t = Trainer(cfg, data=data, progress=clock)
        t0 = time.perf_counter()
        res = t.train()
        whole = time.perf_counter() - t0
        # the last update comes before that step's sample grid, validation and checkpoint
        window = clock.times[-2] - clock.times[2]
        return (len(clock.times) - 3 - 1) * cfg.batch / window, (3 + steps) * cfg.batch / whole


def throughput(data_dir: Path, steps: int, trials: int, threads: int) -> dict:
    torch.set_num_threads(threads)
    kw = dict(pairs="edges", size=256, crop=128, width=32, batch=1, threads=threads, device="cpu",
              log_every=25, ckpt_every=500, epochs=25, decay_epochs=25)
    data = D.load_pairs(data_dir, "edges", 256)
    cfg = TrainConfig(data="<memory>", out="/nonexistent", **kw)
    ref, ours, ours_whole = [], [], []
    for i in range(trials):
        ref.append(reference_loop(data, cfg, steps))
        o, w = trainer_run(data, kw, steps)
        ours.append(o)
        ours_whole.append(w)
        print(f"trial {i + 1}: reference {ref[-1]:.3f} img/s   yingshe trainer {o:.3f} img/s "
              f"(whole run with end-of-run grid, validation, checkpoint: {w:.3f})", file=sys.stderr, flush=True)
    paired = sorted(o / r for o, r in zip(ours, ref))
    paired_whole = sorted(o / r for o, r in zip(ours_whole, ref))
    return {"reference_images_per_s": round(statistics.median(ref), 3),
            "trainer_images_per_s": round(statistics.median(ours), 3),
            "ratio": round(statistics.median(paired), 3), "paired_ratios": [round(r, 3) for r in paired],
            "ratio_whole_run": round(statistics.median(paired_whole), 3),
            "steps": steps, "trials": trials, "threads": threads, "settings": kw}


# ----------------------------------------------------------------------------- 3. latency

def latency(model_spec: str, data_dir: Path, runs: int = 15) -> dict:
    from yingshe.core import registry, sources
    from yingshe.core.files import image_folder
    from yingshe.core.images import open_image
    from yingshe.translate.model import load_translator

    m = registry.get("translate")
    b = D._square(open_image(image_folder(data_dir)[1][0]), 256)
    sketch = sources.from_image(Image.fromarray(make_input("edges", b)))  # a 256 px drawing, as on the canvas
    recipe = m.recipe.from_dict({"model": model_spec})  # at the model's own size, as the studio runs it
    out = {"size": load_translator(model_spec).size, "load_average_1min": round(__import__("os").getloadavg()[0], 2), "cpus": __import__("os").cpu_count()}
    for label, threads in dict.fromkeys([("threads_1", 1), (f"threads_{DEFAULT_THREADS}", DEFAULT_THREADS)]):
        m.run(recipe, {"image": [sketch]}, threads=threads)  # load + warm
        times = []
        for _ in range(runs):
            t0 = time.perf_counter()
            m.run(recipe, {"image": [sketch]}, threads=threads)
            times.append(time.perf_counter() - t0)
        out[label] = {"median_ms": round(1000 * statistics.median(times), 1), "min_ms": round(1000 * min(times), 1)}
    torch.set_num_threads(DEFAULT_THREADS)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default="edges2monet", help="shipped name, run folder or model file")
    ap.add_argument("--data", default=str(MONET), help="the model's training folder (for its held-out files)")
    ap.add_argument("--steps", type=int, default=120, help="training steps per throughput trial")
    ap.add_argument("--trials", type=int, default=2)
    ap.add_argument("--threads", type=int, default=1, help="threads for the throughput comparison")
    ap.add_argument("--sheet", default=None, help="contact sheet of held-out pictures [bench/results/pix2pix-MODEL-heldout.jpg]")
    ap.add_argument("--skip-throughput", action="store_true")
    ap.add_argument("--skip-quality", action="store_true")
    a = ap.parse_args()
    data_dir = Path(a.data)
    if a.sheet is None:
        a.sheet = str(RESULTS / f"pix2pix-{Path(a.model).stem if Path(a.model).exists() else a.model}-heldout.jpg")
    res: dict = {"torch": torch.__version__}
    if not a.skip_quality:
        res["quality"] = quality(a.model, data_dir, Path(a.sheet))
        print(json.dumps(res["quality"]), file=sys.stderr, flush=True)
        res["sketches"] = sketches(a.model, Path(a.sheet).with_name(Path(a.sheet).name.replace("-heldout", "-sketches")))
        res["latency"] = latency(a.model, data_dir)
        print(json.dumps(res["latency"]), file=sys.stderr, flush=True)
    if not a.skip_throughput:
        res["throughput"] = throughput(data_dir, a.steps, a.trials, a.threads)
    print(json.dumps(res, indent=2))


if __name__ == "__main__":
    main()
