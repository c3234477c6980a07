"""``yingshe train clip DATA``: our small CLIP (:mod:`yingshe.diffusion.clip`) on the shared
trainer: a ResNet image tower learns to land on the frozen MiniLM sentence embeddings of each
picture's augmented captions (symmetric InfoNCE, learnt temperature). A held-out split (``--val``
pictures) gives the validation loss (best model kept) and R-precision.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from typing import ClassVar

import torch
from torch.nn import functional as F

from yingshe.core.errors import BadInput
from yingshe.core.progress import Progress
from yingshe.core.trainer import TrainCommand, TrainConfig as BaseConfig, Trainer as BaseTrainer, option
from yingshe.diffusion import data as D
from yingshe.diffusion.clip import CLIP, ClipConfig, r_precision


@dataclass
class ClipTrainConfig(BaseConfig):
    kind: ClassVar[str] = "clip"
    data_help: ClassVar[str] = ("an emoji-datasource-google package folder and/or folders with captions.jsonl "
                                "(`yingshe dataset art`), comma-separated")

    size: int = option(64, "picture size in px", choices=(32, 64, 128))
    width: int = option(32, "channels of the tower's first stage (doubled at each of 4 stages)")
    blocks: int = option(1, "residual blocks per stage")
    epochs: int = option(30, "passes over the training pictures", changeable=True)
    batch: int = option(128, "pictures per step per process (the contrastive batch)")
    lr: float = option(1e-3, "AdamW learning rate (cosine decay)")
    captions: int = option(8, "caption variants per picture (their MiniLM embeddings are computed once)")
    val: int = option(200, "pictures held out for validation loss and R-precision")
    shift: int = option(4, "random shift of each picture in px (augmentation)")
    eval_every: int = option(100, "evaluate every N steps", changeable=True)

    def check(self) -> None:
        super().check()
        if self.width < 4 or self.blocks < 1 or self.captions < 1 or self.epochs < 1 or self.val < 0 or self.shift < 0:
            raise BadInput("--width must be at least 4, --blocks, --captions and --epochs at least 1, "
                           "--val and --shift 0 or more")


class ClipTrainer(BaseTrainer):
    label = "clip"

    def __init__(self, cfg: ClipTrainConfig, *, resume: bool = False, progress: Progress | None = None,
                 examples: list | None = None):
        self._examples = examples
        super().__init__(cfg, resume=resume, progress=progress)

    def setup(self) -> None:
        from yingshe.diffusion.text import load_minilm

        cfg = self.cfg
        examples = self._examples if self._examples is not None else D.load_examples(cfg.data)
        if len(examples) < cfg.val + 2:
            raise BadInput(f"{len(examples)} pictures: too few for --val {cfg.val} (lower it)")
        order = torch.randperm(len(examples), generator=torch.Generator().manual_seed(cfg.seed)).tolist()
        self.val_idx = sorted(order[:cfg.val])
        self.train_idx = sorted(order[cfg.val:])
        self.examples = examples
        self.pixels = D.pictures(examples, cfg.size, progress=self.progress if self.main else None)
        rng = random.Random(cfg.seed)
        caps = [D.captions_for(ex, cfg.captions, rng) for ex in examples]  # [N][K]
        flat = [c for cs in caps for c in cs]
        self.text = self._text_embeddings(load_minilm(), flat).view(len(examples), cfg.captions, -1)  # (N, K, 384)
        self.groups = [ex.meta.get("name") or str(ex.file) for ex in examples]
        self.model_cfg = ClipConfig(size=cfg.size, width=cfg.width, blocks=cfg.blocks)
        self.net = CLIP(self.model_cfg).to(self.device)
        self.opt = torch.optim.AdamW(self.net.parameters(), lr=cfg.lr, weight_decay=0.05)
        self.nets = {"clip": self.net}
        self.opts = {"opt": self.opt}
        self.total_steps = cfg.max_steps or self.epochs_to_steps(len(self.train_idx), cfg.epochs)

    def _text_embeddings(self, minilm, texts: list[str]) -> torch.Tensor:
        """MiniLM sentence embeddings of every caption, cached beside the run by content hash."""
        from yingshe.core import checkpoint as ckpt

        key = hashlib.sha256("\n".join(texts).encode()).hexdigest()[:16]
        cache = self.run_dir / f"text-{key}.safetensors"
        if cache.is_file():
            t, _ = ckpt.load_tensors(cache)
            return t["text"].float()
        if self.main:
            self.progress.start(1, f"MiniLM: embedding {len(texts)} captions")
        emb = minilm.sentence(texts)
        if self.main:
            self.progress.update(1)
            self.run_dir.mkdir(parents=True, exist_ok=True)
            ckpt.save_tensors(cache, {"text": emb.half()}, {"captions": len(texts)})
        return emb.half().float()

    def _images(self, idx: list[int], augment: bool) -> torch.Tensor:
        x = self.pixels[idx].float() / 127.5 - 1
        s = self.cfg.shift
        if augment and s:
            x = F.pad(x, (s, s, s, s), value=1.0)  # white, like the emoji's background
            i, j = (int(v) for v in torch.randint(0, 2 * s + 1, (2,)))
            x = x[:, :, i:i + self.cfg.size, j:j + self.cfg.size]
        return x.to(self.device)

    def train_step(self, step: int) -> dict:
        cfg = self.cfg
        pos = self.epoch_indices(step, len(self.train_idx)).tolist()
        idx = [self.train_idx[p] for p in pos]
        k = torch.randint(0, cfg.captions, (len(idx),))
        txt = self.text[idx, k].to(self.device)  # (B, 384), unit
        img = self.net.image(self._images(idx, True))
        loss = self.net.loss(img, F.normalize(txt, dim=-1))
        for g in self.opt.param_groups:  # cosine decay
            g["lr"] = cfg.lr * 0.5 * (1 + torch.cos(torch.tensor(torch.pi * step / self.total_steps)).item())
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        if self.world > 1:  # torchrun: average the gradients (the loss is per process)
            import torch.distributed as dist

            for p in self.net.parameters():
                if p.grad is not None:
                    dist.all_reduce(p.grad)
                    p.grad /= self.world
        self.opt.step()
        return {"loss": loss.detach(), "temperature": self.net.logit_scale.exp().detach()}

    def evaluate(self) -> dict:
        if not self.val_idx:
            return {}
        img = torch.cat([self.net.image(self._images(self.val_idx[i:i + 256], False))
                         for i in range(0, len(self.val_idx), 256)])
        txt = F.normalize(self.text[self.val_idx, 0].to(self.device), dim=-1)  # the plain names
        val_loss = float(self.net.loss(img, txt))
        groups = [self.groups[i] for i in self.val_idx]
        rp = r_precision(img.cpu(), txt.cpu(), distractors=min(99, len(self.val_idx) - 1), seed=0, groups=groups)
        return {"val_loss": val_loss, "r_precision": rp}

    def model_meta(self) -> dict:
        return {"format": 1, "kind": "clip", "model": self.model_cfg.to_dict(), "text": "minilm-l6",
                "step": self.step, "train": self.cfg.to_dict(),
                "data": {"data": self.cfg.data, "pictures": len(self.examples), "val": len(self.val_idx)},
                "best": self.best}

    def model_tensors(self) -> dict:
        return {k: v.half() if v.is_floating_point() else v for k, v in self.net.state_dict().items()}

    def config_info(self) -> dict:
        return {"model": self.model_cfg.to_dict(), "data": {"pictures": len(self.examples),
                                                            "train": len(self.train_idx), "val": len(self.val_idx)},
                "parameters": sum(p.numel() for p in self.net.parameters())}

    def sample(self):
        return None


_DESCRIPTION = """\
Train our small CLIP: a ResNet image tower against the frozen MiniLM text tower (LiT-style).
DATA as for `yingshe train diffusion` (emoji-datasource-google and/or captions.jsonl folders).
RUN receives model.safetensors (the best by validation loss; `--clip RUN/model.safetensors` for
`diffuse --rerank`, `yingshe eval`), checkpoint.safetensors, tb/, and the cached caption embeddings."""

CLIP_COMMAND = TrainCommand("clip", ClipTrainConfig, ClipTrainer, _DESCRIPTION,
                            "example:\n  yingshe train clip data/emoji/node_modules/emoji-datasource-google,data/art "
                            "-o runs/clip --epochs 30")
