"""GANs and VAEs on the shared trainer (:mod:`yingshe.core.trainer`): a folder of images, a
DCGAN-family G/D pair (or a VAE), and one step function; the loop, checkpoints, resume,
TensorBoard, sample grids and DDP are the base's.
"""

from __future__ import annotations

import copy
from dataclasses import asdict, dataclass
from typing import ClassVar

import torch

from yingshe.core.errors import BadInput
from yingshe.core.progress import Progress
from yingshe.core.trainer import TrainConfig as BaseConfig
from yingshe.core.trainer import Trainer as BaseTrainer
from yingshe.core.trainer import TrainCommand, TrainResult, option
from yingshe.generative import losses
from yingshe.generative.augment import diff_augment, parse_policy
from yingshe.generative.data import ImageDataset, load_folder
from yingshe.generative.gan import Discriminator, GANConfig, Generator
from yingshe.generative.vae import VAE, VAEConfig

KINDS = ("gan", "vae")
# Adam (β1, β2) when not given: DCGAN's for BCE (Radford et al.); β1 = 0 for spectrally normalised
# hinge GANs (SAGAN/BigGAN) — with DCGAN's 0.5 our hinge + SN + DiffAugment run on 300 Monets drew
# periodic dot patterns (bench/RESULTS.md); WGAN-GP's paper values; Adam's own for the VAE.
ADAM_BETAS = {"bce": (0.5, 0.999), "hinge": (0.0, 0.99), "wgan-gp": (0.0, 0.9), "vae": (0.9, 0.999)}
DATA_ON_DEVICE_BYTES = 2 << 30  # uint8 datasets up to 2 GiB (~170k images at 64 px) live on the accelerator


@dataclass
class TrainConfig(BaseConfig):
    data_help: ClassVar[str] = ("folder of images (recursive); with --conditional, one sub-folder per class "
                                "(the sub-folder names are the classes)")

    kind: str = option("gan", "gan or vae", choices=KINDS, hidden=True)
    size: int = option(64, "image size", choices=(32, 64, 128))
    epochs: int = option(25, "passes over the data", changeable=True)
    batch: int = option(64, "images per step per process")
    lr: float = option(2e-4, "Adam learning rate")
    beta1: float | None = option(None, "Adam β1 [bce 0.5, hinge and wgan-gp 0, VAE 0.9]")
    beta2: float | None = option(None, "Adam β2 [bce 0.999, hinge 0.99, wgan-gp 0.9, VAE 0.999]")
    z_dim: int = option(0, "latent size (0: 100 for the GAN, 128 for the VAE)")
    width: int = option(0, "network width, DCGAN's ngf = ndf (0: 64 for the GAN, 32 for the VAE)")
    loss: str = option("bce", "GAN loss: non-saturating BCE (DCGAN), hinge, or WGAN-GP",
                       choices=tuple(losses.GAN_LOSSES))
    spectral_norm: bool = option(False, "spectral normalisation in the discriminator")
    diffaug: str = option("", "DiffAugment for small datasets: comma list of color,translation,cutout",
                          metavar="POLICY")
    ema: float = option(0.999, "EMA decay of the sampling generator; 0 = off")
    conditional: bool = option(False, "class-conditional GAN (classes = DATA's sub-folders)")
    n_critic: int = option(1, "discriminator steps per generator step")
    gp_weight: float = option(10.0, "WGAN-GP penalty weight λ")
    beta: float = option(1.0, "VAE KL weight (β-VAE when > 1)")
    kl_warmup: int = option(1000, "VAE: steps of linear KL warm-up")
    flip: bool = option(True, "random left-right flips")
    epoch_save_seconds: float = option(30.0, "at most one epoch-end sample grid + checkpoint per N seconds "
                                             "(short epochs on a GPU)", changeable=True)
    sample_n: int = option(64, "images in each epoch's sample grid", changeable=True)

    def __post_init__(self) -> None:
        b1, b2 = ADAM_BETAS.get("vae" if self.kind == "vae" else self.loss, ADAM_BETAS["bce"])
        self.beta1 = b1 if self.beta1 is None else self.beta1
        self.beta2 = b2 if self.beta2 is None else self.beta2

    def check(self) -> None:
        super().check()
        if self.kind not in KINDS:
            raise BadInput(f"kind must be gan or vae, not {self.kind!r}")
        if self.size not in (32, 64, 128):
            raise BadInput(f"--size must be 32, 64 or 128; got {self.size}")
        if self.loss not in losses.GAN_LOSSES:
            raise BadInput(f"--loss must be one of {', '.join(losses.GAN_LOSSES)}; got {self.loss!r}")
        for name, lo in (("epochs", 1), ("batch", 1), ("n_critic", 1), ("ckpt_every", 1), ("sample_n", 1)):
            if getattr(self, name) < lo:
                raise BadInput(f"--{name.replace('_', '-')} must be at least {lo}")
        if not (self.lr > 0 and 0 <= self.ema < 1 and self.beta >= 0 and self.max_steps >= 0
                and self.epoch_save_seconds >= 0 and 0 <= self.beta1 < 1 and 0 <= self.beta2 < 1):
            raise BadInput("--lr must be > 0, --ema, --beta1 and --beta2 in [0, 1), --beta >= 0, --max-steps >= 0, "
                           "--epoch-save-seconds >= 0")
        parse_policy(self.diffaug)

    def model_config(self, n_classes: int):
        if self.kind == "gan":
            return GANConfig(size=self.size, z_dim=self.z_dim or 100, g_width=self.width or 64,
                             d_width=self.width or 64, n_classes=n_classes,
                             d_norm="batch" if self.loss == "bce" else "none", spectral_norm=self.spectral_norm)
        return VAEConfig(size=self.size, z_dim=self.z_dim or 128, width=self.width or 32)



class Trainer(BaseTrainer):
    """GAN (G, D, EMA copy of G) or VAE on a folder of images."""

    def __init__(self, cfg: TrainConfig, *, resume: bool = False, progress: Progress | None = None,
                 dataset: ImageDataset | None = None):
        self._dataset = dataset
        self.epoch_save_seconds = cfg.epoch_save_seconds
        super().__init__(cfg, resume=resume, progress=progress)

    def setup(self) -> None:
        cfg = self.cfg
        self.data = self._dataset or load_folder(cfg.data, cfg.size, progress=self.progress if self.main else None)
        if self.device.type != "cpu" and self.data.images.numel() <= DATA_ON_DEVICE_BYTES:
            self.data = self.data.to(self.device)  # batches are gathered on the GPU: no per-step host copies
        self.skipped = len(self.data.skipped)
        classes = self.data.classes if cfg.conditional else []
        if cfg.conditional and len(classes) < 2:
            raise BadInput(f"--conditional needs images in at least 2 sub-folders of {cfg.data!r} "
                           f"(found {len(classes)}); the sub-folder names are the classes")
        self.classes = classes
        self.policy = parse_policy(cfg.diffaug)
        self.model_cfg = cfg.model_config(len(classes))
        betas = (cfg.beta1, cfg.beta2)
        if cfg.kind == "gan":
            self.G = Generator(self.model_cfg).to(self.device)
            self.D = Discriminator(self.model_cfg).to(self.device)
            self.G_ema = copy.deepcopy(self.G).eval().requires_grad_(False) if cfg.ema > 0 else None
            self.d_batchnorm = any(isinstance(m, torch.nn.BatchNorm2d) for m in self.D.modules())
            self.opt_g = torch.optim.Adam(self.G.parameters(), lr=cfg.lr, betas=betas)
            self.opt_d = torch.optim.Adam(self.D.parameters(), lr=cfg.lr, betas=betas)
            self.nets = {"G": self.G, "D": self.D} | ({"G_ema": self.G_ema} if self.G_ema is not None else {})
            self.opts = {"opt_g": self.opt_g, "opt_d": self.opt_d}
        else:
            self.G_ema = None
            self.V = VAE(self.model_cfg).to(self.device)
            self.opt = torch.optim.Adam(self.V.parameters(), lr=cfg.lr, betas=betas)
            self.nets = {"V": self.V}
            self.opts = {"opt": self.opt}
        g = torch.Generator().manual_seed(cfg.seed)
        self.fixed_z = torch.randn(cfg.sample_n, self.model_cfg.z_dim, generator=g).to(self.device)
        self.fixed_y = (torch.arange(cfg.sample_n) % max(1, len(classes))).to(self.device) if classes else None
        self.global_batch = cfg.batch * self.world
        self.total_steps = cfg.max_steps or self.epochs_to_steps(len(self.data), cfg.epochs)
        if cfg.max_steps:
            self.epochs_to_steps(len(self.data), 1)  # still sets the epoch length (epoch-end grids)

    def after_resume(self) -> None:
        if self.cfg.kind == "gan":
            self.G_train, self.D_train = self.ddp(self.G), self.ddp(self.D)
        else:
            self.V_train = self.ddp(self.V)

    # ------------------------------------------------------------------ data
    def _batch(self, step: int):
        idx = self.epoch_indices(step, len(self.data))
        flip = torch.rand(len(idx)) < 0.5 if self.cfg.flip else None
        x, y = self.data.batch(idx, flip)
        return x.to(self.device, non_blocking=True), y.to(self.device, non_blocking=True)

    def train_step(self, step: int) -> dict:
        x, y = self._batch(step)
        return self.gan_step(x, y) if self.cfg.kind == "gan" else self.vae_step(x, y)

    # ------------------------------------------------------------------ one step
    def gan_step(self, x: torch.Tensor, y: torch.Tensor) -> dict:
        cfg = self.cfg
        y = y if self.classes else None
        z = torch.randn(x.shape[0], self.model_cfg.z_dim, device=self.device)
        fake = self.G_train(z, y) if y is not None else self.G_train(z)
        aug = (lambda t: diff_augment(t, self.policy)) if self.policy else (lambda t: t)
        if self.d_batchnorm:
            # BatchNorm in D must see all-real and all-fake batches, as in the DCGAN example: the
            # generator step feeds D an all-fake batch, and a D trained on mixed batches normalises
            # that one differently from anything it has learnt (the plain DCGAN then collapses to
            # grey noise on the Monet set).
            real_logits = self.D_train(aug(x), y) if y is not None else self.D_train(aug(x))
            fk = aug(fake.detach())
            fake_logits = self.D_train(fk, y) if y is not None else self.D_train(fk)
        else:
            # No batch statistics in D: one forward over real and fake together is the same and faster.
            both = aug(torch.cat([x, fake.detach()]))
            yy = torch.cat([y, y]) if y is not None else None
            out = self.D_train(both, yy) if yy is not None else self.D_train(both)
            real_logits, fake_logits = out.chunk(2)
        loss_d = losses.d_loss(cfg.loss, real_logits, fake_logits)
        gp = None
        if cfg.loss == "wgan-gp":
            gp = losses.gradient_penalty(self.D, aug(x), aug(fake.detach()), y)
            loss_d = loss_d + cfg.gp_weight * gp
        self.opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        self.opt_d.step()
        out = {"loss_d": loss_d.detach(), "d_real": real_logits.detach().mean(),
               "d_fake": fake_logits.detach().mean()}
        if gp is not None:
            out["gp"] = gp.detach()
        if (self.step + 1) % cfg.n_critic == 0:
            ctx = self.D_train.no_sync() if self.world > 1 else _nullcontext()
            with ctx:  # D's gradients here are thrown away: no need to all-reduce them
                logits = self.D_train(aug(fake), y) if y is not None else self.D_train(aug(fake))
                loss_g = losses.g_loss(cfg.loss, logits)
                self.opt_g.zero_grad(set_to_none=True)
                loss_g.backward()
            self.opt_g.step()
            out["loss_g"] = loss_g.detach()
            if self.G_ema is not None:
                self._update_ema()
        return out

    @torch.no_grad()
    def _update_ema(self) -> None:
        decay = min(self.cfg.ema, (1 + self.step) / (10 + self.step))
        ema_p = list(self.G_ema.parameters())
        torch._foreach_lerp_(ema_p, [p.detach() for p in self.G.parameters()], 1 - decay)
        for be, b in zip(self.G_ema.buffers(), self.G.buffers()):
            be.copy_(b)

    def vae_step(self, x: torch.Tensor, y: torch.Tensor) -> dict:
        x_hat, mu, logvar = self.V_train(x)
        w = losses.kl_weight(self.step, self.cfg.kl_warmup, self.cfg.beta)
        loss, rec, kl = losses.vae_loss(x_hat, x, mu, logvar, w)
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        self.opt.step()
        return {"loss": loss.detach(), "recon": rec.detach(), "kl": kl.detach(), "kl_weight": w}

    # ------------------------------------------------------------------ files
    def sampler(self) -> torch.nn.Module:
        if self.cfg.kind == "gan":
            return self.G_ema if self.G_ema is not None else self.G
        return self.V

    def model_meta(self) -> dict:
        return {"format": 1, "kind": self.cfg.kind, "model": self.model_cfg.to_dict(), "classes": self.classes,
                "step": self.step, "train": asdict(self.cfg),
                "data": {"root": self.data.root, "images": len(self.data), "skipped": len(self.data.skipped)}}

    def model_tensors(self) -> dict:
        return dict(self.sampler().state_dict())

    def config_info(self) -> dict:
        return {"model": self.model_cfg.to_dict(), "classes": self.classes,
                "data": {"root": self.data.root, "images": len(self.data), "skipped": len(self.data.skipped),
                         "skipped_files": self.data.skipped[:100]}}

    def sample(self):
        from yingshe.generative.sample import decode, grid_image

        return grid_image(decode(self.sampler(), self.cfg.kind, self.fixed_z, self.fixed_y))


class _nullcontext:
    def __enter__(self):
        return self

    def __exit__(self, *a):
        return False


def train(cfg: TrainConfig, *, resume: bool = False, progress: Progress | None = None,
          dataset: ImageDataset | None = None) -> TrainResult:
    return Trainer(cfg, resume=resume, progress=progress, dataset=dataset).train()


_DESCRIPTION = """\
Train a {what} on a folder of images. DATA is searched recursively; unreadable files are skipped
and counted; images are centre-cropped to squares, resized to --size and mirrored at random.
When every image sits in a sub-folder (DATA/<class>/..., like `yingshe dataset` makes),
--conditional trains a class-conditional GAN on the sub-folder names.

RUN receives config.json, model.safetensors (for `yingshe sample`), checkpoint.safetensors (for
--resume), samples/epoch-NNNN.png (fixed noise, one grid per epoch) and tb/ (TensorBoard)."""

_EPILOG = """\
examples:
  yingshe train gan photos/ -o runs/g64 --size 64 --epochs 50
  yingshe train gan monet/ -o runs/monet --loss hinge --spectral-norm --diffaug color,translation,cutout
  yingshe train gan art/ -o runs/cond --conditional --size 32
  yingshe train vae faces/ -o runs/v64 --beta 4 --kl-warmup 2000
  yingshe train gan photos/ -o runs/g64 --resume --epochs 100      (continue, and train longer)
  torchrun --nproc_per_node=2 -m yingshe train gan photos/ -o runs/ddp
then: yingshe sample runs/g64 -o grid.png; yingshe eval runs/g64 --data photos/"""

GAN_COMMAND = TrainCommand("gan", TrainConfig, Trainer, _DESCRIPTION.format(what="DCGAN-family GAN (noise → image)"),
                           _EPILOG, {"kind": "gan"})
VAE_COMMAND = TrainCommand("vae", TrainConfig, Trainer, _DESCRIPTION.format(what="(β-)VAE (image ↔ latent)"),
                           _EPILOG, {"kind": "vae"})
