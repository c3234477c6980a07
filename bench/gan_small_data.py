"""Small-data GAN quality: the 300 Monet paintings at 64 px, plain DCGAN (BCE, BatchNorm D)
vs hinge + spectral norm + DiffAugment(color, translation, cutout), at equal training time.
Both arms run at the same time (one process each, one CPU thread each, on the same GPU when
there is one), so they share the machine fairly; each stops after --minutes of training. Then
FID-VGG19 / KID of 300 samples each against the 300 paintings (FID-VGG19: see
yingshe/generative/evaluate.py; not comparable with Inception FID).

    python bench/gan_small_data.py [--minutes 8] [--width 32] [--batch 32] [--device auto]
    python bench/gan_small_data.py --eval-only --out RUNS   # score runs trained elsewhere
"""

import argparse
import json
import shutil
import subprocess
import sys
from pathlib import Path

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "datasets" / "monet_paintings_256"
DIFFAUG = "color,translation,cutout"
B05 = dict(beta1=0.5, beta2=0.999)  # DCGAN's Adam betas, for the ablations
ARMS = {  # the two arms (each loss with the trainer's default Adam betas), then ablations
    "dcgan": dict(loss="bce", spectral_norm=False, diffaug=""),
    "hinge-sn-diffaug": dict(loss="hinge", spectral_norm=True, diffaug=DIFFAUG),  # Adam β = (0, 0.99)
    "hinge-sn-diffaug-b05": dict(loss="hinge", spectral_norm=True, diffaug=DIFFAUG, **B05),
    "hinge-sn-b05": dict(loss="hinge", spectral_norm=True, diffaug="", **B05),
    "hinge-diffaug-b05": dict(loss="hinge", spectral_norm=False, diffaug=DIFFAUG, **B05),
    "dcgan-diffaug": dict(loss="bce", spectral_norm=False, diffaug=DIFFAUG),
}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--minutes", type=float, default=8.0)
    ap.add_argument("--width", type=int, default=32)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--data", default=str(DATA))
    ap.add_argument("--out", default="/tmp/gan_small_data")
    ap.add_argument("--device", default="auto", help="auto | cpu | cuda | mps (training and evaluation)")
    ap.add_argument("--results", default=str(Path(__file__).resolve().parent / "results"),
                    help="folder for the sample grids")
    ap.add_argument("--arms", default="dcgan,hinge-sn-diffaug", help=f"comma list of: {', '.join(ARMS)}")
    ap.add_argument("--eval-only", action="store_true")
    a = ap.parse_args()
    out = Path(a.out)
    arms = {name: ARMS[name] for name in a.arms.split(",")}
    if not a.eval_only:
        procs = {}
        for name, opts in arms.items():
            code = ("from yingshe.generative.trainer import TrainConfig, train; import json, sys; "
                    f"r = train(TrainConfig(kind='gan', data={a.data!r}, out={str(out / name)!r}, size=64, "
                    f"batch={a.batch}, width={a.width}, epochs=100000, max_minutes={a.minutes}, threads=1, "
                    f"ckpt_every=2000, lr=2e-4, ema=0.0, device={a.device!r}, **{opts!r})); "
                    "print(json.dumps({'step': r.step, 'seconds': r.seconds, 'img_s': r.images_per_second}))")
            procs[name] = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
        for name, p in procs.items():
            print(name, p.communicate()[0].strip(), flush=True)
    from yingshe.core.device import resolve_device
    from yingshe.generative.evaluate import evaluate
    from yingshe.generative.sample import decode, grid_image, latents, load_model

    device = resolve_device(a.device)

    results = {}
    res_dir = Path(a.results)
    res_dir.mkdir(exist_ok=True)
    for name in arms:
        m = load_model(out / name, device=device)
        r = evaluate(m, a.data, n=300, seed=0, device=device)
        r["steps"] = m.meta["step"]
        results[name] = r
        grid_image(decode(m.net, "gan", latents(36, m.z_dim, 1).to(device))).save(res_dir / f"gan_small_data_{name}.png")
        print(name, json.dumps({k: r[k] for k in ("metric", "features", "fid", "kid", "kid_std", "samples", "steps")}),
              flush=True)
    print(json.dumps({k: {"fid": round(v["fid"], 4), "kid": round(v["kid"], 6), "steps": v["steps"]}
                      for k, v in results.items()}))


if __name__ == "__main__":
    main()
