"""How the shipped models are made (run by us, not imported by yingshe):

    python -m yingshe.generative.zoo.train_zoo WORK [--n 6000] [--minutes 6] [--device cuda]

1. ``yingshe dataset art --n N --size 64 -o WORK/data``: N pictures from all algorithmic
   generators, one sub-folder (= class) per generator.
2. ``yingshe train gan`` (class-conditional, hinge + spectral norm + EMA, 32 px) and
   ``yingshe train vae`` (32 px) on it, both at once, each for --minutes.
3. Each run's model.safetensors is copied here as art-gan-32 / art-vae-32, with its training
   recipe (the run's config.json) beside it as *.recipe.json. The data root in both is replaced by
   how the data was made, since the training machine's path means nothing elsewhere.
"""

import argparse
import json
import subprocess
import sys
from pathlib import Path

ZOO = Path(__file__).resolve().parent
RUNS = {
    "art-gan-32": ["gan", "--conditional", "--loss", "hinge", "--spectral-norm", "--ema", "0.999",
                   "--width", "64", "--z-dim", "64", "--batch", "64", "--lr", "2e-4", "--beta1", "0", "--beta2", "0.99"],
    "art-vae-32": ["vae", "--width", "64", "--z-dim", "64", "--batch", "64", "--lr", "1e-3", "--beta1", "0.9",
                   "--beta2", "0.999", "--kl-warmup", "2000"],
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("work", type=Path)
    ap.add_argument("--n", type=int, default=6000)
    ap.add_argument("--minutes", type=float, default=6.0)
    ap.add_argument("--device", default="auto")
    ap.add_argument("--install", action="store_true", help="copy the trained models into the package")
    a = ap.parse_args()
    data = a.work / "data"
    yingshe = [sys.executable, "-m", "yingshe"]
    if not data.exists():
        subprocess.run(yingshe + ["dataset", "art", "--n", str(a.n), "--size", "64", "-o", str(data), "-q"], check=True)
    made_by = f"`yingshe dataset art --n {a.n} --size 64` ({a.n} pictures, one sub-folder per generator)"
    procs = {name: subprocess.Popen(yingshe + ["train", args[0], str(data), "-o", str(a.work / name), "--size", "32",
                                               "--epochs", "100000", "--max-minutes", str(a.minutes),
                                               "--device", a.device, "--threads", "2", "--ckpt-every", "5000",
                                               "-q", "--json"] + args[1:], stdout=subprocess.PIPE, text=True)
             for name, args in RUNS.items()}
    for name, p in procs.items():
        out = p.communicate()[0]
        if p.returncode:
            raise SystemExit(f"{name}: training failed ({p.returncode})")
        print(name, out.strip(), flush=True)
    if a.install:
        install(a.work, made_by, f"{a.minutes} min each, both at once, on {_device_name(a.device)}")


def _device_name(device: str) -> str:
    import torch

    from yingshe.core.device import resolve_device

    d = resolve_device(device)
    return torch.cuda.get_device_name(d) if d.type == "cuda" else d.type


def install(work: Path, made_by: str, trained_on: str) -> None:
    from yingshe.core import checkpoint as ckpt

    for name in RUNS:
        run = work / name
        tensors, meta = ckpt.load_tensors(run / "model.safetensors")
        meta["data"]["root"] = made_by
        meta["train"]["data"] = meta["train"]["out"] = "<see data.root>"
        ckpt.save_tensors(ZOO / f"{name}.safetensors", tensors, meta)
        cfg = json.loads((run / "config.json").read_text())
        cfg["data"]["root"] = made_by
        cfg["data"].pop("skipped_files", None)
        cfg["train"]["data"] = cfg["train"]["out"] = "<see data.root>"
        cfg["step"] = meta["step"]
        cfg["trained_on"] = trained_on
        (ZOO / f"{name}.recipe.json").write_text(json.dumps(cfg, indent=2, sort_keys=True) + "\n")
        print(f"installed {name}: step {meta['step']}", flush=True)


if __name__ == "__main__":
    main()
