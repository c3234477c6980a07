"""The one trainer shape for GANs and VAEs: config dataclass → dataset → model → loop with
checkpoints, a fixed-noise sample grid per epoch, TensorBoard scalars and seeds.

Single process by default; under ``torchrun --nproc_per_node=K`` the same code runs with
DistributedDataParallel (NCCL on GPUs, gloo on CPU). ``--batch`` is per process. Randomness
is reseeded from (seed, step, rank) at every step, so a resumed run continues exactly as the
uninterrupted one would have, and each rank draws different noise.
"""

from __future__ import annotations

import copy
import json
import math
import os
import sys
import time
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import torch
import torch.distributed as dist

from yingshe.core.errors import BadInput, Interrupted
from yingshe.core.progress import Progress
from yingshe.generative import checkpoint as ckpt
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
class TrainConfig:
    kind: str = "gan"
    data: str = ""
    out: str = "run"
    size: int = 64
    epochs: int = 25
    batch: int = 64  # per process
    lr: float = 2e-4
    beta1: float | None = None  # None: ADAM_BETAS for the loss
    beta2: float | None = None
    z_dim: int = 0  # 0: 100 for the GAN (DCGAN), 128 for the VAE
    width: int = 0  # 0: 64 for the GAN (ngf = ndf), 32 for the VAE
    loss: str = "bce"  # GAN: bce | hinge | wgan-gp
    spectral_norm: bool = False
    diffaug: str = ""  # comma list of color,translation,cutout
    ema: float = 0.999  # EMA decay of the generator copy used for sampling; 0 = off
    conditional: bool = False
    n_critic: int = 1  # discriminator steps per generator step
    gp_weight: float = 10.0
    beta: float = 1.0  # VAE: KL weight (β-VAE when > 1)
    kl_warmup: int = 1000  # VAE: steps of linear KL warm-up
    flip: bool = True
    seed: int = 0
    ckpt_every: int = 500  # steps; also at every epoch end (throttled by epoch_save_seconds)
    epoch_save_seconds: float = 30.0  # at most one epoch-end grid + checkpoint per this many seconds
    max_steps: int = 0  # 0: run all epochs
    max_minutes: float = 0.0  # 0: no time limit
    sample_n: int = 64
    log_every: int = 25
    device: str = "auto"
    threads: int | None = None

    def __post_init__(self) -> None:
        b1, b2 = ADAM_BETAS.get("vae" if self.kind == "vae" else self.loss, ADAM_BETAS["bce"])
        self.beta1 = b1 if self.beta1 is None else self.beta1
        self.beta2 = b2 if self.beta2 is None else self.beta2

    def check(self) -> None:
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

    @classmethod
    def from_dict(cls, d: dict) -> "TrainConfig":
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in known})


@dataclass
class TrainResult:
    run_dir: Path
    step: int
    epoch: int
    seconds: float
    images_per_second: float
    last: dict = field(default_factory=dict)  # last losses
    nets: dict = field(default_factory=dict)  # name -> module (unwrapped)
    skipped: int = 0
    interrupted: bool = False


# --------------------------------------------------------------------------- distributed

def _dist_setup(cfg: TrainConfig):
    """(rank, world, device). Initialises torch.distributed when launched by torchrun."""
    from yingshe.core.device import resolve_device

    world = int(os.environ.get("WORLD_SIZE", "1"))
    device = resolve_device(cfg.device)
    if world <= 1:
        return 0, 1, device
    if not dist.is_initialized():
        backend = "nccl" if device.type == "cuda" else "gloo"
        dist.init_process_group(backend)
    rank = dist.get_rank()
    if device.type == "cuda":
        local = int(os.environ.get("LOCAL_RANK", "0"))
        if local >= torch.cuda.device_count():
            raise BadInput(f"this machine has {torch.cuda.device_count()} CUDA GPU(s) but torchrun started local "
                           f"rank {local}: use --nproc_per_node={torch.cuda.device_count()} or --device cpu (gloo)")
        device = torch.device("cuda", local)
        torch.cuda.set_device(device)
    elif device.type == "mps":
        device = torch.device("cpu")  # no multi-process MPS backend
    return rank, dist.get_world_size(), device


# --------------------------------------------------------------------------- the trainer

class Trainer:
    def __init__(self, cfg: TrainConfig, *, resume: bool = False, progress: Progress | None = None,
                 dataset: ImageDataset | None = None):
        from yingshe.core.device import set_threads

        cfg.check()
        self.cfg = cfg
        self.progress = progress or Progress()
        set_threads(cfg.threads)
        self.rank, self.world, self.device = _dist_setup(cfg)
        self.main = self.rank == 0
        self.run_dir = Path(cfg.out)  # made only once data and options are known good: no empty run folders
        self.data = dataset or load_folder(cfg.data, cfg.size, progress=self.progress if self.main else None)
        if self.device.type != "cpu" and self.data.images.numel() <= DATA_ON_DEVICE_BYTES:
            self.data = self.data.to(self.device)  # batches are gathered on the GPU: no per-step host copies
        classes = self.data.classes if cfg.conditional else []
        if cfg.conditional and len(classes) < 2:
            raise BadInput(f"--conditional needs images in at least 2 sub-folders of {cfg.data!r} "
                           f"(found {len(classes)}); the sub-folder names are the classes")
        self.classes = classes
        self.policy = parse_policy(cfg.diffaug)
        self.model_cfg = cfg.model_config(len(classes))
        torch.manual_seed(cfg.seed)  # identical initial weights on every rank
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
            self.V = VAE(self.model_cfg).to(self.device)
            self.opt = torch.optim.Adam(self.V.parameters(), lr=cfg.lr, betas=betas)
            self.nets = {"V": self.V}
            self.opts = {"opt": self.opt}
        self.step = 0
        self.seconds = 0.0
        if resume:
            self._load_checkpoint()
        if self.world > 1:
            from torch.nn.parallel import DistributedDataParallel as DDP

            ids = [self.device.index] if self.device.type == "cuda" else None
            if cfg.kind == "gan":
                self.G_train, self.D_train = DDP(self.G, device_ids=ids), DDP(self.D, device_ids=ids)
            else:
                self.V_train = DDP(self.V, device_ids=ids)
        elif cfg.kind == "gan":
            self.G_train, self.D_train = self.G, self.D
        else:
            self.V_train = self.V
        g = torch.Generator().manual_seed(cfg.seed)
        self.fixed_z = torch.randn(cfg.sample_n, self.model_cfg.z_dim, generator=g).to(self.device)
        self.fixed_y = (torch.arange(cfg.sample_n) % max(1, len(classes))).to(self.device) if classes else None
        self.global_batch = cfg.batch * self.world
        self._perm: tuple[int, torch.Tensor] | None = None  # (epoch, that epoch's image order)
        n = len(self.data)
        self.steps_per_epoch = max(1, max(n, self.global_batch) // self.global_batch)
        self.total_steps = cfg.max_steps or cfg.epochs * self.steps_per_epoch
        self.writer = None
        if self.main:
            self.run_dir.mkdir(parents=True, exist_ok=True)
            self._write_config()
            try:
                from torch.utils.tensorboard import SummaryWriter

                self.writer = SummaryWriter(str(self.run_dir / "tb"))
            except ImportError:
                print("yingshe: tensorboard is not installed (pip install 'yingshe[train]'); no TensorBoard logs",
                      file=sys.stderr)

    # ------------------------------------------------------------------ data
    def _indices(self, step: int) -> torch.Tensor:
        """This rank's image indices for ``step``: a seeded permutation per epoch, split by rank."""
        epoch, i = divmod(step, self.steps_per_epoch)
        if self._perm is None or self._perm[0] != epoch:  # one permutation per epoch, not per step
            n = len(self.data)
            g = torch.Generator().manual_seed(self.cfg.seed * 100_003 + epoch)
            perm = torch.randperm(n, generator=g)
            if n < self.global_batch:
                perm = perm.repeat(math.ceil(self.global_batch / n))
            self._perm = (epoch, perm)
        perm = self._perm[1]
        start = i * self.global_batch + self.rank * self.cfg.batch
        return perm[start:start + self.cfg.batch]

    def _batch(self, step: int):
        idx = self._indices(step)
        flip = torch.rand(len(idx)) < 0.5 if self.cfg.flip else None
        x, y = self.data.batch(idx, flip)
        return x.to(self.device, non_blocking=True), y.to(self.device, non_blocking=True)

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

    # ------------------------------------------------------------------ the loop
    def train(self) -> TrainResult:
        cfg = self.cfg
        step_fn = self.gan_step if cfg.kind == "gan" else self.vae_step
        for net in self.nets.values():
            if net is not getattr(self, "G_ema", None):
                net.train()
        bar = self.progress if self.main else Progress()
        bar.start(self.total_steps, f"training {cfg.kind} ({self.run_dir.name})")
        if self.step:
            bar.update(self.step)
        t0 = time.perf_counter()
        seconds0, step0 = self.seconds, self.step
        last: dict = {}
        interrupted = False
        last_epoch_save = -math.inf
        try:
            while self.step < self.total_steps:
                torch.manual_seed((cfg.seed * 1_000_003 + self.step) * 64 + self.rank)
                x, y = self._batch(self.step)
                metrics = step_fn(x, y)
                self.step += 1
                self.seconds = seconds0 + time.perf_counter() - t0
                if self.step % cfg.log_every == 0 or self.step == self.total_steps:
                    last = {k: float(v) for k, v in metrics.items()}
                    ips = (self.step - step0) * self.global_batch / max(1e-9, time.perf_counter() - t0)
                    bar.update(1, **{k: v for k, v in last.items() if k.startswith("loss")}, img_s=round(ips, 1))
                    if self.writer:
                        for k, v in last.items():
                            self.writer.add_scalar(f"{cfg.kind}/{k}", v, self.step)
                        self.writer.add_scalar("speed/images_per_second", ips, self.step)
                else:
                    bar.update(1)
                # An epoch of 300 images is 5 steps: on a GPU that is many per second, so epoch-end
                # grids and checkpoints are throttled (the first epoch and the last step always save).
                last_step = self.step == self.total_steps
                end_of_epoch = self.step % self.steps_per_epoch == 0 and (
                    self.step == self.steps_per_epoch or time.perf_counter() - last_epoch_save >= cfg.epoch_save_seconds)
                if end_of_epoch or last_step:
                    self._sample_grid()
                    last_epoch_save = time.perf_counter()
                if self.step % cfg.ckpt_every == 0 or end_of_epoch or last_step:
                    self._save_checkpoint()
                if self._should_stop():
                    interrupted = bar.stopped()
                    if self.step % cfg.ckpt_every:
                        self._save_checkpoint()
                    break
        except KeyboardInterrupt:
            interrupted = True
            self._save_checkpoint()
            if self.main:
                print(f"\nyingshe: interrupted at step {self.step}; checkpoint saved in {self.run_dir} "
                      "(--resume continues)", file=sys.stderr)
        finally:
            bar.close()
            if self.writer:
                self.writer.flush()
        if self.world > 1 and not interrupted:
            self._sync_buffers()
        elapsed = time.perf_counter() - t0
        done = self.step - step0
        result = TrainResult(self.run_dir, self.step, self.step // self.steps_per_epoch, self.seconds,
                             done * self.global_batch / elapsed if elapsed > 0 else 0.0, last,
                             dict(self.nets), len(self.data.skipped), interrupted)
        if interrupted and self.world == 1 and not bar.stopped():
            raise Interrupted(f"interrupted at step {self.step}; checkpoint saved in {self.run_dir} (--resume continues)")
        return result

    @torch.no_grad()
    def _sync_buffers(self) -> None:
        """DDP broadcasts buffers (BatchNorm statistics) from rank 0 before each forward, so after
        the last step they differ by one update; make every rank end with rank 0's."""
        for net in self.nets.values():
            for b in net.buffers():
                dist.broadcast(b, 0)

    def _should_stop(self) -> bool:
        stop = self.progress.stopped() or (self.cfg.max_minutes > 0 and self.seconds > 60 * self.cfg.max_minutes)
        if self.world > 1:  # every rank must stop at the same step
            flag = torch.tensor([1.0 if stop else 0.0], device=self.device)
            dist.all_reduce(flag)
            stop = bool(flag.item() > 0)
        return stop

    # ------------------------------------------------------------------ files
    def sampler(self) -> torch.nn.Module:
        if self.cfg.kind == "gan":
            return self.G_ema if self.G_ema is not None else self.G
        return self.V

    def model_meta(self) -> dict:
        return {"format": 1, "kind": self.cfg.kind, "model": self.model_cfg.to_dict(), "classes": self.classes,
                "step": self.step, "train": asdict(self.cfg),
                "data": {"root": self.data.root, "images": len(self.data), "skipped": len(self.data.skipped)}}

    def _write_config(self) -> None:
        from yingshe.core.images import atomic_write

        info = {"train": asdict(self.cfg), "model": self.model_cfg.to_dict(), "classes": self.classes,
                "world_size": self.world, "data": {"root": self.data.root, "images": len(self.data),
                                                   "skipped": len(self.data.skipped),
                                                   "skipped_files": self.data.skipped[:100]}}
        text = json.dumps(info, indent=2, sort_keys=True).encode()
        atomic_write(self.run_dir / "config.json", lambda f: f.write(text))

    def _save_checkpoint(self) -> None:
        if not self.main:
            return
        tensors, groups = {}, {}
        for name, net in self.nets.items():
            tensors |= ckpt.prefixed(name, net.state_dict())
        for name, opt in self.opts.items():
            t, groups[name] = ckpt.optimizer_tensors(name, opt)
            tensors |= t
        meta = self.model_meta() | {"optimizers": groups, "seconds": self.seconds}
        ckpt.save_tensors(self.run_dir / "checkpoint.safetensors", tensors, meta)
        net = self.sampler()
        ckpt.save_tensors(self.run_dir / "model.safetensors", dict(net.state_dict()), self.model_meta())

    def _load_checkpoint(self) -> None:
        path = self.run_dir / "checkpoint.safetensors"
        if not path.exists():
            raise BadInput(f"--resume: {str(path)!r} does not exist (nothing to resume)")
        tensors, meta = ckpt.load_tensors(path)
        if meta.get("kind") != self.cfg.kind or meta.get("model") != self.model_cfg.to_dict():
            raise BadInput(f"--resume: {path} holds a different model ({meta.get('kind')} {meta.get('model')}); "
                           "use the run's own options (see its config.json)")
        for name, net in self.nets.items():
            net.load_state_dict(ckpt.unprefixed(name, tensors))
        for name, opt in self.opts.items():
            ckpt.load_optimizer(name, opt, tensors, meta["optimizers"][name])
        self.step = int(meta["step"])
        self.seconds = float(meta.get("seconds", 0.0))

    @torch.no_grad()
    def _sample_grid(self) -> None:
        if not self.main:
            return
        from yingshe.generative.sample import decode, grid_image

        net = self.sampler()
        was_training = net.training
        net.eval()
        imgs = decode(net, self.cfg.kind, self.fixed_z, self.fixed_y)
        net.train(was_training)
        epoch = math.ceil(self.step / self.steps_per_epoch)
        img = grid_image(imgs)
        (self.run_dir / "samples").mkdir(exist_ok=True)
        img.save(self.run_dir / "samples" / f"epoch-{epoch:04d}.png")
        if self.writer:
            import numpy as np

            self.writer.add_image("samples", np.asarray(img), self.step, dataformats="HWC")


class _nullcontext:
    def __enter__(self):
        return self

    def __exit__(self, *a):
        return False


def train(cfg: TrainConfig, *, resume: bool = False, progress: Progress | None = None,
          dataset: ImageDataset | None = None) -> TrainResult:
    return Trainer(cfg, resume=resume, progress=progress, dataset=dataset).train()
