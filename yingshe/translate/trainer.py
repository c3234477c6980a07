"""pix2pix on the shared trainer (:mod:`yingshe.core.trainer`): paired pictures from any folder
(:mod:`yingshe.translate.data`), the U-Net and the 70×70 PatchGAN (:mod:`yingshe.nets.pix2pix`),
and the paper's step:

    D:  ½ · [BCE(D(A, B), 1) + BCE(D(A, G(A)), 0)]
    G:  BCE(D(A, G(A)), 1) + λ · |G(A) − B|₁            λ = 100

with Adam (lr 2e-4, β = (0.5, 0.999)) for both, the learning rate constant for ``epochs`` and
then falling linearly to zero over ``decay_epochs`` (the reference code's schedule). The loop,
checkpoints, resume, TensorBoard, sample grids and torchrun/DDP are the base's.

Validation (``evaluate``) runs the generator in eval mode (dropout off) on the held-out pictures
at full size and reports ``val_l1`` (mean absolute error of 0..1 pixels) and ``val_ssim``. It
does not report a ``val_loss``: for a GAN a lower L1 means blurrier, not better, so
``model.safetensors`` is the latest generator, not the one with the best L1.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import torch
import torch.nn.functional as F

from yingshe.core.errors import BadInput
from yingshe.core.progress import Progress
from yingshe.core.trainer import TrainCommand, TrainResult, option
from yingshe.core.trainer import TrainConfig as BaseConfig
from yingshe.core.trainer import Trainer as BaseTrainer
from yingshe.nets.pix2pix import UPSAMPLING, PatchGAN, PatchGANConfig, UNet, UNetConfig
from yingshe.translate import data as D
from yingshe.translate.pairs import DIRECTIONS, PAIRS

DATA_ON_DEVICE_BYTES = 2 << 30  # uint8 pairs up to 2 GiB live on the accelerator


@dataclass
class TrainConfig(BaseConfig):
    kind: ClassVar[str] = "pix2pix"
    data_help: ClassVar[str] = ("folder of pictures (searched recursively): the targets B, whose inputs A "
                                "--pairs makes; with --pairs aligned, A|B files side by side")

    pairs: str = option("edges", "how input A is made from each picture B (aligned: read A|B files)",
                        choices=PAIRS)
    direction: str = option("AtoB", "aligned pairs: AtoB translates the left half into the right", choices=DIRECTIONS)
    size: int = option(256, "picture size the model works at; pictures are resized to size×286/256 and "
                            "cropped at random (the paper's jitter)")
    crop: int = option(0, "side of the training crops (0: size, as the paper); smaller crops train faster "
                          "at the same scale")
    width: int = option(64, "network width: the paper's ngf = ndf")
    n_down: int = option(0, "U-Net depth (0: log2 of the crop, down to a 1×1 bottleneck)")
    upsample: str = option("resize", "decoder upsampling: resize-convolution, or the paper's transposed conv",
                           choices=UPSAMPLING)
    dropout: float = option(0.5, "dropout in the decoder's first layers (the generator's noise)")
    d_layers: int = option(3, "PatchGAN stride-2 layers (3: the 70×70 PatchGAN)")
    l1: float = option(100.0, "λ: weight of the L1 loss against the adversarial loss")
    epochs: int = option(100, "epochs at the starting learning rate", changeable=True)
    decay_epochs: int = option(100, "then epochs of linear decay to zero", changeable=True)
    batch: int = option(1, "pictures per step per process (the paper: 1)")
    lr: float = option(2e-4, "Adam learning rate")
    beta1: float = option(0.5, "Adam β1")
    flip: bool = option(True, "random left-right mirroring")
    jitter: bool = option(True, "random jitter: resize to size×286/256, then crop at random")
    val_fraction: float = option(0.1, "share of the pictures held out for validation (chosen by file name)")
    sample_n: int = option(6, "held-out pictures in each sample grid (input | output | target)", changeable=True)
    init: str = option("", "start from this trained generator (shipped name, run folder or model file) and "
                       "fine-tune it; its U-Net replaces --width/--n-down/--upsample/--dropout, and the "
                       "discriminator, as wide, starts afresh", metavar="MODEL")

    @property
    def crop_size(self) -> int:
        return self.crop or self.size

    @property
    def depth(self) -> int:
        return self.n_down or int(math.log2(self.crop_size))

    def check(self) -> None:
        super().check()
        if self.pairs not in PAIRS:
            raise BadInput(f"--pairs must be one of {', '.join(PAIRS)}; got {self.pairs!r}")
        if self.direction not in DIRECTIONS:
            raise BadInput(f"--direction must be AtoB or BtoA; got {self.direction!r}")
        if self.upsample not in UPSAMPLING:
            raise BadInput(f"--upsample must be one of {', '.join(UPSAMPLING)}; got {self.upsample!r}")
        if not 16 <= self.size <= 4096:
            raise BadInput(f"--size must be between 16 and 4096; got {self.size}")
        if self.crop and not 16 <= self.crop <= self.size:
            raise BadInput(f"--crop must be between 16 and --size ({self.size}); got {self.crop}")
        if self.n_down and not 2 <= self.n_down <= 10:
            raise BadInput(f"--n-down must be between 2 and 10; got {self.n_down}")
        m = 2 ** self.depth
        if self.crop_size % m or self.size % m:
            raise BadInput(f"--size {self.size} and the crop {self.crop_size} must be multiples of 2^{self.depth} = "
                           f"{m} (the U-Net halves them that often); use powers of two, or a smaller --n-down")
        if not 1 <= self.width <= 1024:
            raise BadInput(f"--width must be between 1 and 1024; got {self.width}")
        if not 1 <= self.d_layers <= 6:
            raise BadInput(f"--d-layers must be between 1 and 6; got {self.d_layers}")
        if self.crop_size < 3 * 2 ** self.d_layers:
            raise BadInput(f"the training crop ({self.crop_size} px) is too small for a {self.d_layers}-layer PatchGAN "
                           f"(at least {3 * 2 ** self.d_layers} px)")
        if not 0 <= self.dropout < 1:
            raise BadInput(f"--dropout must be in [0, 1); got {self.dropout}")
        if not (self.l1 >= 0 and math.isfinite(self.l1)):
            raise BadInput("--l1 must be 0 or more")
        if self.epochs < 0 or self.decay_epochs < 0 or self.epochs + self.decay_epochs < 1:
            raise BadInput("--epochs and --decay-epochs must be 0 or more, and not both 0")
        if not 0 <= self.beta1 < 1:
            raise BadInput(f"--beta1 must be in [0, 1); got {self.beta1}")
        if not 0 <= self.val_fraction < 1:
            raise BadInput(f"--val-fraction must be in [0, 1); got {self.val_fraction}")
        if self.sample_n < 1:
            raise BadInput("--sample-n must be at least 1")

    def unet_config(self) -> UNetConfig:
        d = self.depth
        return UNetConfig(width=self.width, n_down=d, dropout=self.dropout, n_dropout=min(3, d - 1),
                          upsample=self.upsample)

    def patchgan_config(self) -> PatchGANConfig:
        return PatchGANConfig(width=self.width, n_layers=self.d_layers)


def adam(params, lr: float, betas: tuple[float, float]) -> torch.optim.Adam:
    """Adam as the paper sets it; the fused kernel where this torch has one for the device (the
    same update, one pass over the weights: at batch 1 the per-tensor loop was 15 % of a CPU step)."""
    params = list(params)
    try:
        return torch.optim.Adam(params, lr=lr, betas=betas, fused=True)
    except (RuntimeError, TypeError, ValueError):
        return torch.optim.Adam(params, lr=lr, betas=betas)


def gan_loss(logits: torch.Tensor, real: bool) -> torch.Tensor:
    """The paper's (vanilla) GAN loss on patch logits."""
    target = torch.ones_like(logits) if real else torch.zeros_like(logits)
    return F.binary_cross_entropy_with_logits(logits, target)


class Trainer(BaseTrainer):
    """pix2pix: U-Net G, PatchGAN D, on pairs made from a folder of pictures."""

    label = "pix2pix"

    def __init__(self, cfg: TrainConfig, *, resume: bool = False, progress: Progress | None = None,
                 data: D.PairData | None = None):
        self._data = data
        super().__init__(cfg, resume=resume, progress=progress)

    def setup(self) -> None:
        cfg = self.cfg
        self.init_record = None
        if cfg.init:  # before the data, so that a wrong --init fails at once
            init_g, self.init_record = self._load_init(cfg.init)
        self.data = self._data or D.load_pairs(cfg.data, cfg.pairs, cfg.size, direction=cfg.direction,
                                               val_fraction=cfg.val_fraction, jitter=cfg.jitter,
                                               progress=self.progress if self.main else None)
        self.skipped = len(self.data.skipped)
        train = self.data.train
        if self.device.type != "cpu" and train.b.numel() * 2 <= DATA_ON_DEVICE_BYTES:
            train = train.to(self.device)  # crops are cut on the GPU: no per-step host copies
        self.train_set = train
        if cfg.init:
            self.G = init_g
            self.g_cfg = g = self.G.config
            # the run's config says what it trains (config.json, the model file's "train")
            cfg.width, cfg.n_down, cfg.upsample, cfg.dropout = g.width, g.n_down, g.upsample, g.dropout
            self.d_cfg = cfg.patchgan_config()  # as wide as the generator, as the paper's ndf = ngf
        else:
            self.g_cfg, self.d_cfg = cfg.unet_config(), cfg.patchgan_config()
            self.G = UNet(self.g_cfg)
        self.G = self.G.to(self.device)
        self.D = PatchGAN(self.d_cfg).to(self.device)
        betas = (cfg.beta1, 0.999)
        self.opt_g = adam(self.G.parameters(), cfg.lr, betas)
        self.opt_d = adam(self.D.parameters(), cfg.lr, betas)
        self.nets = {"G": self.G, "D": self.D}
        self.opts = {"opt_g": self.opt_g, "opt_d": self.opt_d}
        n = len(self.train_set)
        self.total_steps = cfg.max_steps or self.epochs_to_steps(n, cfg.epochs + cfg.decay_epochs)
        if cfg.max_steps:
            self.epochs_to_steps(n, 1)  # still sets the epoch length (epoch-end grids)
        if not cfg.eval_every:
            cfg.eval_every = 10 * self.steps_per_epoch  # 0 means the trainer's default: every 10 epochs
        shown = self.data.val if len(self.data.val) else _centre(self.data.train, cfg.size)
        k = min(cfg.sample_n, len(shown))
        self.fixed = PairSetView(shown.a[:k], shown.b[:k])

    def _load_init(self, spec: str) -> tuple[UNet, dict]:
        """A trainable copy of the generator ``spec`` names, and its record (where training began)."""
        from yingshe.translate.model import load_translator

        try:
            t = load_translator(spec)  # finds the file, checks it, and says why it is not a pix2pix model
        except BadInput as e:  # its message names translate's --model
            raise BadInput(str(e).replace("--model", "--init", 1)) from None
        m = t.config.multiple
        if self.cfg.crop_size % m or self.cfg.size % m:
            raise BadInput(f"--init {spec}: its U-Net halves pictures {t.config.n_down} times; --size {self.cfg.size} "
                           f"and the crop {self.cfg.crop_size} must be multiples of {m}")
        G = UNet(t.config)
        G.load_state_dict(t.net.state_dict())
        record = t.weights_record() | {"step": t.meta.get("step"), "init": t.meta.get("init")}
        return G.train().requires_grad_(True), record

    def after_resume(self) -> None:
        self.G_train, self.D_train = self.ddp(self.G), self.ddp(self.D)

    # ------------------------------------------------------------------ one step
    def learning_rate(self, step: int) -> float:
        """Constant for ``epochs``, then linearly to zero over ``decay_epochs`` (per step)."""
        cfg, spe = self.cfg, max(1, self.steps_per_epoch)
        into_decay = step - cfg.epochs * spe
        if into_decay <= 0:
            return cfg.lr
        return cfg.lr * max(0.0, 1.0 - into_decay / (cfg.decay_epochs * spe + 1))

    def train_step(self, step: int) -> dict:
        cfg = self.cfg
        lr = self.learning_rate(step)
        for opt in (self.opt_g, self.opt_d):
            for group in opt.param_groups:
                group["lr"] = lr
        idx = self.epoch_indices(step, len(self.train_set))
        a, b = D.jittered_batch(self.train_set, idx, cfg.crop_size, flip=cfg.flip, thicken=cfg.pairs == "edges")
        a, b = a.to(self.device, non_blocking=True), b.to(self.device, non_blocking=True)
        return pix2pix_step(self.G_train, self.D_train, self.D, self.opt_g, self.opt_d, a, b, cfg.l1,
                            ddp=self.world > 1) | {"lr": lr}

    # ------------------------------------------------------------------ validation, pictures
    def evaluate(self) -> dict:
        val = self.data.val
        if not len(val):
            return {}
        l1, ssim = validate(self.G, val, self.device)
        return {"val_l1": l1, "val_ssim": ssim}

    def sample(self):
        a, b = self.fixed.a.to(self.device), self.fixed.b.to(self.device)
        out = self.G(D.to_unit(a))
        return triptych(a, out, b)

    def model_tensors(self) -> dict:
        return dict(self.G.state_dict())

    def model_meta(self) -> dict:
        cfg = self.cfg
        return {"format": 1, "kind": "pix2pix", "model": self.g_cfg.to_dict(), "discriminator": self.d_cfg.to_dict(),
                "pairs": cfg.pairs, "direction": cfg.direction, "size": cfg.size, "step": self.step,
                "train": cfg.to_dict(), "data": self.data_info(), "init": self.init_record}

    def data_info(self) -> dict:
        d = self.data
        return {"root": d.root, "train_images": len(d.train), "held_out": list(d.val.names),
                "skipped": len(d.skipped)}

    def config_info(self) -> dict:
        return {"model": self.g_cfg.to_dict(), "discriminator": self.d_cfg.to_dict(), "init": self.init_record,
                "generator_parameters": self.G.n_params(), "data": self.data_info(),
                "skipped_files": self.data.skipped[:100]}


@dataclass
class PairSetView:
    a: torch.Tensor
    b: torch.Tensor


def _centre(s: D.PairSet, size: int) -> D.PairSet:
    """Training pairs at load size → centred crops at ``size`` (sample grids without a held-out set)."""
    L = s.b.shape[-1]
    o = (L - size) // 2
    return D.PairSet(s.a[..., o:o + size, o:o + size], s.b[..., o:o + size, o:o + size], s.names)


def pix2pix_step(G, D_train, D_raw, opt_g, opt_d, a: torch.Tensor, b: torch.Tensor, lam: float, *,
                 ddp: bool = False) -> dict:
    """One step of the paper: D on real and generated pairs, then G against D plus λ·L1."""
    fake = G(a)  # (B, 3, H, W) in [-1, 1]
    # 1. discriminator: real pairs → 1, generated pairs → 0 (halved, as in the paper: D learns slower)
    D_raw.requires_grad_(True)
    # one forward over real and generated pairs together: D normalises each picture on its own
    # (instance norm), so this is the same as two forwards, and faster
    real_logits, fake_logits = D_train(torch.cat([torch.cat([a, b], 1), torch.cat([a, fake.detach()], 1)])).chunk(2)
    loss_d = 0.5 * (gan_loss(real_logits, True) + gan_loss(fake_logits, False))
    opt_d.zero_grad(set_to_none=True)
    loss_d.backward()
    opt_d.step()
    # 2. generator: fool D, and stay near the target
    D_raw.requires_grad_(False)  # no gradients for D's weights here
    ctx = D_train.no_sync() if ddp else _null()
    with ctx:
        loss_gan = gan_loss(D_train(torch.cat([a, fake], 1)), True)
    loss_l1 = F.l1_loss(fake, b)
    loss_g = loss_gan + lam * loss_l1
    opt_g.zero_grad(set_to_none=True)
    loss_g.backward()
    opt_g.step()
    D_raw.requires_grad_(True)
    return {"loss_d": loss_d.detach(), "loss_g": loss_gan.detach(), "loss_l1": loss_l1.detach()}


class _null:
    def __enter__(self):
        return self

    def __exit__(self, *a):
        return False


@torch.no_grad()
def translate_batch(G, a_uint8: torch.Tensor, device, batch: int = 8) -> torch.Tensor:
    """uint8 inputs (N, 3, H, W) → outputs in [0, 1] (N, 3, H, W), eval mode assumed."""
    out = []
    for i in range(0, a_uint8.shape[0], batch):
        x = D.to_unit(a_uint8[i:i + batch].to(device))
        out.append(G(x).add_(1).mul_(0.5).clamp_(0, 1).cpu())
    return torch.cat(out)


@torch.no_grad()
def validate(G, val: D.PairSet, device) -> tuple[float, float]:
    """(mean L1 of 0..1 pixels, mean SSIM) of G's outputs against the held-out targets."""
    from skimage.metrics import structural_similarity

    was = G.training
    G.eval()
    try:
        out = translate_batch(G, val.a, device)
    finally:
        G.train(was)
    tgt = val.b.float() / 255
    l1 = float((out - tgt).abs().mean())
    ssim = [structural_similarity(o.permute(1, 2, 0).numpy(), t.permute(1, 2, 0).numpy(), channel_axis=2,
                                  data_range=1.0) for o, t in zip(out, tgt)]
    return l1, float(sum(ssim) / len(ssim))


def triptych(a_uint8: torch.Tensor, out: torch.Tensor, b_uint8: torch.Tensor):
    """Rows of input | output | target (a PIL picture)."""
    from PIL import Image

    a = a_uint8.float().cpu() / 255
    b = b_uint8.float().cpu() / 255
    o = out.detach().float().cpu().add(1).mul(0.5).clamp(0, 1)
    rows = torch.cat([torch.cat([x, y, z], -1) for x, y, z in zip(a, o, b)], -2)  # (3, n·H, 3W)
    arr = (rows.permute(1, 2, 0).numpy() * 255 + 0.5).astype("uint8")
    return Image.fromarray(arr, "RGB")


def train(cfg: TrainConfig, *, resume: bool = False, progress: Progress | None = None,
          data: D.PairData | None = None) -> TrainResult:
    return Trainer(cfg, resume=resume, progress=progress, data=data).train()


_DESCRIPTION = """\
Train pix2pix (Isola et al. 2017): a U-Net that translates picture A into picture B, against a
70×70 PatchGAN, with L1 + adversarial loss (λ = 100). DATA is any folder of pictures (searched
recursively): each picture is a target B and --pairs makes its input A (edges: Canny lines;
sketch: XDoG; colorize: grey; blur: Gaussian blur), or --pairs aligned reads A|B files side by
side as the pix2pix datasets are stored. Random jitter (resize to 286, crop 256, at the same
ratios for other sizes) and mirroring; a tenth of the pictures (by file name) is held out.

RUN receives config.json, model.safetensors (the generator, for `yingshe translate --model RUN`),
checkpoint.safetensors (--resume), samples/ (input | output | target on held-out pictures), and
tb/ (TensorBoard: losses, val_l1, val_ssim, the grids)."""

_EPILOG = """\
examples:
  yingshe train pix2pix photos/ -o runs/p --pairs edges                      (the paper: 256 px, 200 epochs)
  yingshe train pix2pix paintings/ -o runs/p --pairs sketch --size 256 --crop 128 --width 32 --epochs 40
  yingshe train pix2pix facades/train -o runs/facades --pairs aligned --direction BtoA
  yingshe train pix2pix photos/ -o runs/p --resume --decay-epochs 150        (continue, decay longer)
  yingshe train pix2pix monets/ -o runs/m2 --init edges2monet --epochs 10 --decay-epochs 10   (fine-tune a model)
  torchrun --nproc_per_node=2 -m yingshe train pix2pix photos/ -o runs/ddp --pairs colorize
then: yingshe translate sketch.png -o painting.png --model runs/p"""

PIX2PIX_COMMAND = TrainCommand("pix2pix", TrainConfig, Trainer, _DESCRIPTION, _EPILOG)
