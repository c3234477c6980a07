"""``yingshe train diffusion DATA``: our latent text→image model on the shared trainer
(:mod:`yingshe.core.trainer`: run folder, safetensors checkpoints and resume, TensorBoard,
Ctrl-C, torchrun/DDP).

Two stages in one run, one step counter:

1. ``--ae-steps`` steps of the autoencoder (diffusers ``AutoencoderKL``): L1 + MSE on random
   crops (it is fully convolutional, so crops teach it the same at a fraction of the cost) and a
   small KL term. Skipped with ``--vae MODEL`` (reuse the autoencoder of a trained model).
2. The UNet (diffusers ``UNet2DConditionModel``) on the frozen autoencoder's latents, DDPM
   ε-prediction, conditioned on frozen MiniLM token states of augmented captions
   (:mod:`yingshe.diffusion.data`), the caption dropped ``--uncond`` of the time for
   classifier-free guidance, with an EMA copy that is what the model file keeps.

The same command trains the shipped CPU model and, with ``--width 2`` (wider nets) and a larger
batch, a bigger one on a GPU.
"""

from __future__ import annotations

import copy
import random
from dataclasses import dataclass
from typing import ClassVar

import torch

from yingshe.core.errors import BadInput
from yingshe.core.progress import Progress
from yingshe.core.trainer import TrainCommand, TrainConfig as BaseConfig, Trainer as BaseTrainer, option, warmup_cosine
from yingshe.diffusion import data as D
from yingshe.diffusion.models import NOISE, LatentConfig, build_unet, build_vae, model_description

SAMPLE_PROMPTS = ("a slice of pizza", "a red heart", "a smiling face", "a green tree", "a blue car",
                  "the moon", "a cat face", "a rocket")


@dataclass
class DiffusionConfig(BaseConfig):
    kind: ClassVar[str] = "diffusion"
    data_help: ClassVar[str] = ("an emoji-datasource-google package folder and/or folders with captions.jsonl "
                                "(`yingshe dataset art`), comma-separated")

    size: int = option(64, "picture size in px (the latents are size/4)", choices=(32, 64, 128))
    width: float = option(1.0, "multiply every network width (the shipped CPU model: 0.75; 2 or more on a GPU)")
    layers: int = option(1, "ResNet layers per UNet block")
    # 3,000 steps of batch 16 on 32 px crops: 13 min on one CPU core. Fewer lose colour (150: sepia,
    # 600: the named emoji among the 10 nearest after encode/decode for 81 of 100; 3,000: 99 of 100).
    ae_steps: int = option(3000, "autoencoder steps before the UNet (stage 1)")
    ae_crop: int = option(32, "autoencoder training crop in px")
    ae_lr: float = option(1e-3, "autoencoder learning rate")
    vae: str = option("", "reuse the autoencoder of this model file (skips stage 1)", metavar="MODEL")
    init: str = option("", "start from this trained model's autoencoder and UNet, zoo name or file: fine-tune it "
                       "or train a shipped model further (skips stage 1; its sizes replace --width/--layers)",
                       metavar="MODEL")
    steps: int = option(3000, "UNet steps (stage 2)")
    batch: int = option(32, "pictures per step per process")
    lr: float = option(3e-4, "UNet learning rate (AdamW, 100 warm-up steps)")
    decay: str = option("none", "learning-rate decay after the warm-up: none (constant --lr) or cosine (to --min-lr "
                        "at the last UNet step: the best model a fixed budget gives)", choices=("none", "cosine"))
    min_lr: float = option(3e-5, "the learning rate at the end of --decay cosine")
    # On the emoji, names took hit@10 from 0.38 to 0.51 in 10,000 steps (bench/RESULTS.md); plain
    # epochs had spent half of every epoch on the 2,261 People pictures, five sixths of them skin tones.
    balance: str = option("names", "how often each picture is drawn: names (each name equally often: an emoji and "
                          "its skin-tone variants share one name's share, so the People pictures do not crowd out "
                          "flags and objects) or none (each picture equally often)", choices=("names", "none"),
                          before="none")
    uncond: float = option(0.1, "fraction of captions dropped (classifier-free guidance)")
    captions: int = option(8, "caption variants per picture")
    ema: float = option(0.999, "EMA decay of the UNet kept in the model file (0: off)")
    sample_every: int = option(250, "save a sample grid every N steps", changeable=True)
    ckpt_every: int = option(100, "save a checkpoint every N steps", changeable=True)

    def check(self) -> None:
        super().check()
        for name, lo in (("ae_steps", 0), ("steps", 1), ("layers", 1), ("captions", 1)):
            if getattr(self, name) < lo:
                raise BadInput(f"--{name.replace('_', '-')} must be at least {lo}")
        if not 0.25 <= self.width <= 16:
            raise BadInput("--width must be between 0.25 and 16")
        if self.init and self.vae:
            raise BadInput("--init already brings its autoencoder; leave out --vae")
        if self.decay == "cosine" and not 0 < self.min_lr <= self.lr:
            raise BadInput("--min-lr must be positive and at most --lr")
        if not 0 <= self.uncond < 1 or not 0 <= self.ema < 1:
            raise BadInput("--uncond and --ema must be in [0, 1)")
        if self.ae_crop % 8 or not 8 <= self.ae_crop <= self.size:
            raise BadInput(f"--ae-crop must be a multiple of 8 between 8 and --size ({self.size})")
        if self.size not in (32, 64, 128):
            raise BadInput(f"--size must be 32, 64 or 128; got {self.size}")

    def model_config(self) -> LatentConfig:
        def w(chs, q):
            return tuple(max(q, int(round(c * self.width / q)) * q) for c in chs)

        base = LatentConfig()
        return LatentConfig(size=self.size, vae_channels=w(base.vae_channels, 16), unet_channels=w(base.unet_channels, 32),
                            layers_per_block=self.layers)


class _AEStep(torch.nn.Module):
    """The autoencoder's training forward as one module (so DDP sees it): (reconstruction, KL)."""

    def __init__(self, vae):
        super().__init__()
        self.vae = vae

    def forward(self, x):
        post = self.vae.encode(x).latent_dist
        return self.vae.decode(post.sample()).sample, post.kl().mean()


class _UNetStep(torch.nn.Module):
    def __init__(self, unet):
        super().__init__()
        self.unet = unet

    def forward(self, z, t, states):
        return self.unet(z, t, encoder_hidden_states=states).sample


class DiffusionTrainer(BaseTrainer):
    label = "diffusion"

    def __init__(self, cfg: DiffusionConfig, *, resume: bool = False, progress: Progress | None = None,
                 examples: list | None = None):
        self._examples = examples
        super().__init__(cfg, resume=resume, progress=progress)

    # ------------------------------------------------------------------ setup
    def setup(self) -> None:
        from diffusers import DDPMScheduler

        from yingshe.diffusion.text import load_minilm

        cfg = self.cfg
        self.mcfg = cfg.model_config()
        self.scale = 1.0
        self.init_scale = None  # the latent scale of --init's model, which its UNet was trained on
        self.init_record = None
        if cfg.init:  # before the data, so that a wrong --init fails at once
            self.mcfg, self.vae, self.unet, self.init_scale = self._load_init(cfg.init)
        self.examples = self._examples if self._examples is not None else D.load_examples(cfg.data)
        self.pixels = D.pictures(self.examples, cfg.size, progress=self.progress if self.main else None)
        w = D.name_weights(self.examples) if cfg.balance == "names" else []
        self.weights = torch.tensor(w) if len(set(w)) > 1 else None  # all equal: plain permuted epochs
        self.text = load_minilm()
        if not cfg.init:  # after MiniLM, which draws from torch's generator too: a seed gives the weights it gave
            self.vae = build_vae(self.mcfg)
            self.unet = build_unet(self.mcfg)
        self.vae, self.unet = self.vae.to(self.device), self.unet.to(self.device)
        self.unet_ema = copy.deepcopy(self.unet).eval().requires_grad_(False) if cfg.ema > 0 else None
        self.ae_steps = 0 if (cfg.vae or cfg.init) else cfg.ae_steps
        if cfg.vae:
            self._load_vae(cfg.vae)
        self.opt_ae = torch.optim.Adam(self.vae.parameters(), lr=cfg.ae_lr)
        self.opt = torch.optim.AdamW(self.unet.parameters(), lr=cfg.lr, weight_decay=0.01)
        self.nets = {"vae": self.vae, "unet": self.unet} | ({"unet_ema": self.unet_ema} if self.unet_ema else {})
        self.opts = {"opt_ae": self.opt_ae, "opt": self.opt}
        self.noise = DDPMScheduler.from_config(NOISE)
        self.alphas = self.noise.alphas_cumprod.to(self.device)
        self.latents = None  # (N, C, h, w) scaled latents, made after stage 1
        self.total_steps = cfg.max_steps or (self.ae_steps + cfg.steps)
        self.steps_per_epoch = 0
        with torch.no_grad():
            self.empty = self.text.token_states([""], self.mcfg.text_length).to(self.device)  # (1, L, 384)

    @staticmethod
    def _read_model(flag: str, spec: str):
        """(weights record, tensors, metadata) of the trained model that ``--vae`` or ``--init`` names."""
        from yingshe.core import checkpoint as ckpt
        from yingshe.core.weights import resolve

        w = resolve(spec, family_for_paths="yingshe-diffusion")
        tensors, meta = ckpt.load_tensors(w.path)
        if meta.get("kind") != "diffusion":
            raise BadInput(f"--{flag} {spec}: not a yingshe diffusion model")
        return w.record(), tensors, meta

    def _load_vae(self, spec: str) -> None:
        from yingshe.core import checkpoint as ckpt

        _, tensors, meta = self._read_model("vae", spec)
        state = {k: v.float() for k, v in ckpt.unprefixed("vae", tensors).items()}
        try:
            self.vae.load_state_dict(state)
        except RuntimeError:
            raise BadInput(f"--vae {spec}: its autoencoder has other sizes than --size/--width give") from None
        self.vae.register_to_config(scaling_factor=meta["vae"].get("scaling_factor", 1.0))

    def _load_init(self, spec: str):
        """(LatentConfig, vae, unet, latent scale) of a trained model, in training mode."""
        from yingshe.diffusion.models import from_description

        record, tensors, meta = self._read_model("init", spec)
        mcfg, vae, unet = from_description(meta, tensors)
        if mcfg.size != self.cfg.size:
            raise BadInput(f"--init {spec}: it makes {mcfg.size} px pictures; give --size {mcfg.size}")
        # the model file records where its training began (its own step counter starts at 0 again)
        self.init_record = record | {"step": meta.get("step"), "init": meta.get("init")}
        return mcfg, vae, unet.train().requires_grad_(True), float(meta.get("latent_scale", 1.0))

    def after_resume(self) -> None:
        self.ae_train = self.ddp(_AEStep(self.vae))
        self.unet_train = self.ddp(_UNetStep(self.unet))

    def on_resume(self, meta: dict) -> None:
        if "latent_scale" in meta:
            self.scale = float(meta["latent_scale"])

    # ------------------------------------------------------------------ steps
    def train_step(self, step: int) -> dict:
        if step < self.ae_steps:
            return self.ae_step(step)
        return self.unet_step(step)

    def ae_step(self, step: int) -> dict:
        cfg = self.cfg
        idx = self.epoch_indices(step, len(self.examples), self.weights)
        x = self.pixels[idx].to(self.device).float() / 127.5 - 1  # (B, 3, S, S) in [-1, 1]
        c = cfg.ae_crop
        if c < cfg.size:
            i, j = (int(v) for v in torch.randint(0, cfg.size - c + 1, (2,)))
            x = x[:, :, i:i + c, j:j + c]
        rec, kl = self.ae_train(x)
        l1 = (rec - x).abs().mean()
        mse = (rec - x).pow(2).mean()
        loss = l1 + mse + 1e-6 * kl
        self.opt_ae.zero_grad(set_to_none=True)
        loss.backward()
        self.opt_ae.step()
        return {"loss_ae": loss.detach(), "l1": l1.detach(), "kl": kl.detach()}

    @torch.no_grad()
    def _make_latents(self) -> None:
        """Every picture's latent (the posterior mean), and the scale that gives them unit std."""
        self.vae.eval()
        outs = []
        for s in range(0, len(self.examples), 64):
            x = self.pixels[s:s + 64].to(self.device).float() / 127.5 - 1
            outs.append(self.vae.encode(x).latent_dist.mean)
        lat = torch.cat(outs)
        if self.init_scale is not None:  # keep the scale --init's UNet learned, whatever the data
            self.scale = self.init_scale
        elif self.step <= self.ae_steps or self.scale == 1.0:
            self.scale = float(1.0 / lat.std().clamp(min=1e-6))
        self.vae.register_to_config(scaling_factor=self.scale)
        self.latents = lat * self.scale
        self.vae.requires_grad_(False)

    def _captions(self, idx, step: int) -> list[str]:
        rng = random.Random(self.cfg.seed * 1_000_003 + step * 64 + self.rank)
        out = []
        for i in idx.tolist():
            out.append("" if rng.random() < self.cfg.uncond else D.augment(self.examples[i], rng))
        return out

    def unet_step(self, step: int) -> dict:
        cfg = self.cfg
        if self.latents is None:
            self._make_latents()
        idx = self.epoch_indices(step - self.ae_steps, len(self.examples), self.weights)
        z0 = self.latents[idx]  # (B, C, h, w)
        states = self.text.token_states(self._captions(idx, step), self.mcfg.text_length).to(self.device)
        t = torch.randint(0, self.noise.config.num_train_timesteps, (len(idx),), device=self.device)
        eps = torch.randn_like(z0)
        a = self.alphas[t].view(-1, 1, 1, 1)
        zt = a.sqrt() * z0 + (1 - a).sqrt() * eps
        pred = self.unet_train(zt, t, states)
        loss = (pred - eps).pow(2).mean()
        s, n = step - self.ae_steps, self.total_steps - self.ae_steps  # this stage's step and length
        lr = warmup_cosine(s, warmup=100, total=n, peak=cfg.lr, floor=cfg.min_lr if cfg.decay == "cosine" else cfg.lr)
        for g in self.opt.param_groups:
            g["lr"] = lr
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        gn = torch.nn.utils.clip_grad_norm_(self.unet.parameters(), 1.0)
        self.opt.step()
        if self.unet_ema is not None:
            decay = min(cfg.ema, (1 + step - self.ae_steps) / (10 + step - self.ae_steps))
            torch._foreach_lerp_(list(self.unet_ema.parameters()), [p.detach() for p in self.unet.parameters()],
                                 1 - decay)
        return {"loss": loss.detach(), "grad_norm": gn.detach(), "lr": lr}

    # ------------------------------------------------------------------ pictures and files
    def sampler_unet(self):
        return self.unet_ema if self.unet_ema is not None else self.unet

    def sample(self):
        from yingshe.generative.sample import grid_image

        if self.step <= self.ae_steps:  # stage 1: reconstructions under their originals
            x = self.pixels[:8].to(self.device).float() / 127.5 - 1
            rec = self.vae.decode(self.vae.encode(x).latent_dist.mean).sample
            return grid_image((torch.cat([x, rec]).clamp(-1, 1) + 1) / 2, nrow=8)
        if self.latents is None:
            self._make_latents()
        from yingshe.diffusion.pipeline import our_pipeline

        pipe = our_pipeline(self.vae, self.sampler_unet(), "ddim")
        states = self.text.token_states(list(SAMPLE_PROMPTS), self.mcfg.text_length).to(self.device)
        neg = self.empty.expand(len(SAMPLE_PROMPTS), -1, -1)
        g = torch.Generator().manual_seed(self.cfg.seed)
        out = pipe(prompt_embeds=states, negative_prompt_embeds=neg, num_inference_steps=20, guidance_scale=5.0,
                   generator=g, height=self.cfg.size, width=self.cfg.size, output_type="pt").images
        return grid_image(out, nrow=8)

    def model_tensors(self) -> dict:
        from yingshe.core import checkpoint as ckpt

        half = torch.float16
        return (ckpt.prefixed("vae", {k: v.to(half) for k, v in self.vae.state_dict().items()})
                | ckpt.prefixed("unet", {k: v.to(half) for k, v in self.sampler_unet().state_dict().items()}))

    def model_meta(self) -> dict:
        self.vae.register_to_config(scaling_factor=self.scale)
        extra = {"init": self.init_record} if self.init_record else {}
        return model_description(self.mcfg, self.vae, self.unet, step=self.step, latent_scale=self.scale,
                                 train=self.cfg.to_dict(),
                                 data={"data": self.cfg.data, "pictures": len(self.examples)}, **extra)

    def config_info(self) -> dict:
        groups: dict = {}
        for ex in self.examples:
            groups[ex.group] = groups.get(ex.group, 0) + 1
        return {"model": self.mcfg.to_dict(), "data": {"pictures": len(self.examples), "groups": groups},
                "parameters": {"vae": sum(p.numel() for p in self.vae.parameters()),
                               "unet": sum(p.numel() for p in self.unet.parameters())}}


_DESCRIPTION = """\
Train our own latent text→image model: a small autoencoder (stage 1, --ae-steps), then a UNet
with cross-attention on frozen MiniLM token states (stage 2, --steps), both diffusers models,
DDPM noise, classifier-free guidance (captions dropped --uncond of the time), EMA. Each name is
drawn equally often (--balance names: an emoji's skin-tone variants share one share).

DATA: the npm package emoji-datasource-google (3,786 Noto emoji with names and categories) and/or
folders with captions.jsonl (`yingshe dataset art`), comma-separated. Fetch the emoji once:
  mkdir -p data/emoji && (cd data/emoji && npm install emoji-datasource-google@16.0.0)

RUN receives config.json, model.safetensors (fp16: `yingshe diffuse "a red heart" --model RUN`),
checkpoint.safetensors (--resume), samples/ (reconstructions, then prompts) and tb/."""

_EPILOG = """\
examples:
  yingshe train diffusion data/emoji/node_modules/emoji-datasource-google,data/art -o runs/emoji64
  yingshe train diffusion DATA -o runs/emoji64 --resume --steps 6000      (continue, train longer)
  yingshe train diffusion DATA -o runs/more --init yingshe-emoji-64 --steps 20000  (train the shipped model further)
  torchrun --nproc_per_node=4 -m yingshe train diffusion DATA -o runs/big --width 2 --batch 128 --device cuda"""

DIFFUSION_COMMAND = TrainCommand("diffusion", DiffusionConfig, DiffusionTrainer, _DESCRIPTION, _EPILOG)
