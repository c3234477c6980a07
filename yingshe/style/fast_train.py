"""``yingshe train fast-style --style STYLE PHOTOS/ -o RUN``: a Johnson et al. (2016) network
that paints any photo in one style, trained on the shared trainer (:mod:`yingshe.core.trainer`).

The loss is the perceptual loss of the paper, measured with yingshe's offline VGG19 (the
ImageNet Caffe weights of Gatys et al.): the painting's features at ``content_layers`` stay
close to the photo's, the Gram matrices of its features at ``style_layers`` close to the style
image's, plus a little total variation. The base trainer does the loop, checkpoints, resume,
TensorBoard scalars and sample grids, and torchrun/DDP. Apply the result with
``yingshe fast-style PHOTO --model RUN -o out.png``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch

from yingshe.core.errors import BadInput
from yingshe.core.trainer import TrainCommand
from yingshe.core.trainer import TrainConfig as BaseConfig
from yingshe.core.trainer import Trainer as BaseTrainer
from yingshe.core.trainer import option
from yingshe.nets.vgg19_layers import LAYER_INDEX


@dataclass
class FastStyleConfig(BaseConfig):
    kind: ClassVar[str] = "fast-style"
    data_help: ClassVar[str] = "folder of photos to learn on (recursive; centre squares at --size)"

    style: str = option("", "the style image: a file, or builtin:NAME (`yingshe styles` lists them)", metavar="IMAGE")
    size: int = option(256, "training crop size in pixels (the paper: 256)")
    style_size: int = option(512, "longest side of the style image when its Gram matrices are measured "
                                  "(larger = finer strokes)")
    width: int = option(32, "network width: channels of the first conv (the paper: 32)")
    blocks: int = option(5, "residual blocks (the paper: 5)")
    batch: int = option(4, "photos per step per process")
    lr: float = option(1e-3, "Adam learning rate")
    steps: int = option(2000, "optimiser steps (--max-steps, if given, wins)", changeable=True)
    content_weight: float = option(1.0, "weight of the content (photo) loss")
    style_weight: float = option(5.0, "weight of the style (Gram) loss (Johnson et al.'s 5, in the same units: "
                                      "Caffe VGG features, Gram / (C·H·W), mean squared errors)")
    tv_weight: float = option(0.0, "total-variation weight, in 0-255 pixel units (e.g. 100: smoother)")
    content_layers: str = option("relu2_2", "VGG19 layers for content, comma-separated (the paper: relu2_2)")
    style_layers: str = option("relu1_1,relu2_1,relu3_1,relu4_1,relu5_1", "VGG19 layers for style (Gatys et al.)")
    flip: bool = option(True, "random left-right flips")
    sample_every: int = option(200, "save a sample grid every N steps", changeable=True)
    ckpt_every: int = option(200, "save a checkpoint every N steps (resume loses at most this many)", changeable=True)

    def layers(self, which: str) -> tuple[str, ...]:
        return tuple(x.strip() for x in getattr(self, which).split(",") if x.strip())

    def check(self) -> None:
        super().check()
        if not self.style:
            raise BadInput("name the style to learn: --style IMAGE (a file, or builtin:NAME)")
        if self.size < 32 or self.size % 4:
            raise BadInput(f"--size must be a multiple of 4 and at least 32; got {self.size}")
        if self.style_size < 32:
            raise BadInput(f"--style-size must be at least 32; got {self.style_size}")
        if self.width < 1 or self.blocks < 0 or self.steps < 1:
            raise BadInput("--width and --steps must be at least 1, --blocks at least 0")
        for w in ("content_weight", "style_weight", "tv_weight"):
            if getattr(self, w) < 0:
                raise BadInput(f"--{w.replace('_', '-')} must be 0 or more")
        for which in ("content_layers", "style_layers"):
            names = self.layers(which)
            if not names:
                raise BadInput(f"--{which.replace('_', '-')} needs at least one VGG19 layer")
            for n in names:
                if n not in LAYER_INDEX:
                    raise BadInput(f"--{which.replace('_', '-')}: unknown VGG19 layer {n!r} (e.g. relu2_2, relu4_1)")


class FastStyleTrainer(BaseTrainer):
    label = "fast-style"

    def setup(self) -> None:
        from yingshe.core import sources
        from yingshe.core.images import resize_longest
        from yingshe.generative.data import load_folder
        from yingshe.nets.johnson import JohnsonConfig, JohnsonNet
        from yingshe.nets.vgg19 import load_vgg19
        from yingshe.style import losses

        cfg = self.cfg
        style_src = sources.load(cfg.style, what="style")  # BadInput for a bad file or name, before any work
        self.style_record = style_src.record
        self.data = load_folder(cfg.data, cfg.size, labels=False, progress=self.progress if self.main else None)
        self.skipped = len(self.data.skipped)
        self.model_cfg = JohnsonConfig(width=cfg.width, blocks=cfg.blocks)
        self.net = JohnsonNet(self.model_cfg).to(self.device)
        self.opt = torch.optim.Adam(self.net.parameters(), lr=cfg.lr)
        self.nets, self.opts = {"net": self.net}, {"opt": self.opt}
        self.content_layers, self.style_layers = cfg.layers("content_layers"), cfg.layers("style_layers")
        deepest = max(self.content_layers + self.style_layers, key=LAYER_INDEX.__getitem__)
        self.vgg, self.pre, self.vgg_record = load_vgg19("vgg19-caffe", last_layer=deepest, device=self.device)
        style = resize_longest(style_src.image, cfg.style_size)
        self.style_image = style
        with torch.no_grad():
            feats = self.vgg(self.pre(_tensor(style).to(self.device)), self.style_layers)
            self.style_grams = {k: losses.gram(v) for k, v in feats.items()}  # (C, C) each
        self.total_steps = cfg.max_steps or cfg.steps
        n = min(4, len(self.data))
        self.fixed = self.data.images[:n].float().div(255).to(self.device)  # photos for the sample grids

    def after_resume(self) -> None:
        self.net_train = self.ddp(self.net)

    def losses(self, x: torch.Tensor, y: torch.Tensor) -> dict:
        """Perceptual loss of paintings ``y`` (N, 3, S, S) of photos ``x``, both in [0, 1].

        Losses are on the Caffe VGG's 0-255 scale, as in ``yingshe style`` (same weights, same
        balance): content = mean squared feature difference, style = Σ mse of Gram/(C·H·W)."""
        from yingshe.style import losses

        cfg = self.cfg
        fy = self.vgg(self.pre(y), self.content_layers + self.style_layers)
        with torch.no_grad():
            fx = self.vgg(self.pre(x), self.content_layers)
        content = sum(losses.content_loss(fy[l], fx[l]) for l in self.content_layers) / len(self.content_layers)
        style = y.new_zeros(())
        for l in self.style_layers:
            f = fy[l]
            grams = torch.stack([losses.gram(f[i:i + 1]) for i in range(f.shape[0])])  # (N, C, C)
            style = style + ((grams - self.style_grams[l]) ** 2).mean()
        tv = losses.tv_loss(y) * 255.0  # pixel units
        total = cfg.content_weight * content + cfg.style_weight * style + cfg.tv_weight * tv
        return {"loss": total, "loss_content": content.detach(), "loss_style": style.detach(), "loss_tv": tv.detach()}

    def train_step(self, step: int) -> dict:
        idx = self.epoch_indices(step, len(self.data))
        flip = torch.rand(len(idx)) < 0.5 if self.cfg.flip else None
        x, _ = self.data.batch(idx, flip)
        x = x.to(self.device).add(1).div(2)  # [-1, 1] → [0, 1]
        y = self.net_train(x)
        out = self.losses(x, y)
        self.opt.zero_grad(set_to_none=True)
        out["loss"].backward()
        self.opt.step()
        return {k: v.detach() for k, v in out.items()}

    def sample(self):
        """Top row: the fixed photos; bottom row: their paintings; the style at the right."""
        from PIL import Image

        y = self.net(self.fixed)
        n, s = self.fixed.shape[0], self.cfg.size
        grid = Image.new("RGB", ((n + 1) * s, 2 * s), "white")
        for i in range(n):
            grid.paste(_image(self.fixed[i]), (i * s, 0))
            grid.paste(_image(y[i]), (i * s, s))
        st = self.style_image.copy()
        st.thumbnail((s, 2 * s))
        grid.paste(st, (n * s, 0))
        return grid

    def model_meta(self) -> dict:
        from yingshe.nets.johnson import config_dict

        return {"format": 1, "kind": "fast-style", "model": config_dict(self.model_cfg), "step": self.step,
                "style": self.style_record, "vgg19": self.vgg_record.record(), "train": self.cfg.to_dict()}

    def model_tensors(self) -> dict:
        from yingshe.core import checkpoint as ckpt

        return ckpt.prefixed("net", self.net.state_dict())

    def config_info(self) -> dict:
        return {"images": len(self.data), "style": self.style_record}


def _tensor(img) -> torch.Tensor:
    import numpy as np

    return torch.from_numpy(np.asarray(img.convert("RGB"), np.float32) / 255).permute(2, 0, 1)[None]


def _image(x: torch.Tensor):
    from PIL import Image

    a = (x.detach().float().clamp(0, 1).permute(1, 2, 0).cpu().numpy() * 255 + 0.5).astype("uint8")
    return Image.fromarray(a)


FAST_STYLE_COMMAND = TrainCommand(
    "fast-style", FastStyleConfig, FastStyleTrainer,
    "Train a feed-forward network (Johnson et al. 2016: instance norm, residual blocks, resize-convolution "
    "upsampling) that paints any photo in the style of --style, with the VGG19 perceptual loss. RUN receives "
    "model.safetensors; apply it with `yingshe fast-style PHOTO --model RUN -o out.png`.",
    epilog="examples:\n"
           "  yingshe train fast-style --style builtin:starry-night photos/ -o runs/starry\n"
           "  yingshe train fast-style --style wave.jpg photos/ -o runs/wave --steps 4000 --size 256\n"
           "  yingshe train fast-style ... --resume        continue after a stop or a kill\n"
           "  yingshe fast-style photo.jpg --model runs/starry -o painted.png")
