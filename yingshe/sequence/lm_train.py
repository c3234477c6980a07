"""What the two Transformer trainers share (``yingshe train poem`` in train_poem.py and
``yingshe train melody`` in melody_train.py), on top of the shared trainer (yingshe/core/trainer.py).

:class:`LMTrainConfig` holds the options of a GPT (yingshe/nets/transformer.py) trained on
windows of ``--block-size`` tokens: AdamW (weight decay on matrices only, β1 0.9) with a linear
warm-up to ``--lr`` and a cosine decay to ``--min-lr``, gradient clipping, the network's shape.
:class:`LMTrainer` builds the network and its optimiser once a subclass has read its data, and
runs the training step; the model file it writes holds the weights, the Transformer config and
the tokenizer (what :mod:`yingshe.sequence.lm` reads). A subclass says what differs: the data
(``load_data``: ``self.tok``, ``self.extra`` and its own data), the step's windows (``batch``),
validation (``evaluate``) and samples (``sample``).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import ClassVar

from yingshe.core.errors import BadInput
from yingshe.core.trainer import TrainConfig, Trainer, option, warmup_cosine


@dataclass
class LMTrainConfig(TrainConfig):
    """A Transformer's options; subclasses add their data's and may change a default by
    declaring the field again (it keeps its place in ``--help``)."""

    #: the option that says how much validation data an evaluation reads (0 or more)
    eval_option: ClassVar[str] = ""
    #: the least --block-size (a subclass where 0 means "choose one for me" sets 0)
    min_block_size: ClassVar[int] = 1

    batch: int = option(32, "windows of --block-size tokens per step per process")
    lr: float = option(1e-3, "peak learning rate (linear warm-up, then cosine decay to --min-lr)")
    min_lr: float = option(1e-4, "learning rate at the end of the cosine decay")
    warmup: int = option(200, "steps of linear learning-rate warm-up")
    weight_decay: float = option(0.1, "AdamW weight decay (matrices only)")
    beta2: float = option(0.99, "AdamW β2 (β1 is 0.9)")
    grad_clip: float = option(1.0, "clip the gradient norm to this (0: off)")
    n_layer: int = option(4, "Transformer blocks")
    n_head: int = option(4, "attention heads")
    n_embd: int = option(256, "width of the residual stream")
    block_size: int = option(128, "context length in tokens")
    dropout: float = option(0.1, "dropout in training")

    def check(self) -> None:
        super().check()
        for name in ("n_layer", "n_head", "n_embd", "block_size"):
            least = self.min_block_size if name == "block_size" else 1
            if getattr(self, name) < least:
                raise BadInput(f"--{name.replace('_', '-')} must be at least {least}")
        if self.n_embd % self.n_head:
            raise BadInput(f"--n-embd ({self.n_embd}) must be divisible by --n-head ({self.n_head})")
        if not 0 <= self.dropout < 1:
            raise BadInput("--dropout must be in [0, 1)")
        eval_flag = "--" + self.eval_option.replace("_", "-")
        if self.warmup < 0 or getattr(self, self.eval_option) < 0 or self.grad_clip < 0 or self.weight_decay < 0:
            raise BadInput(f"--warmup, {eval_flag}, --grad-clip and --weight-decay must be 0 or more")
        if not 0 < self.min_lr <= self.lr:
            raise BadInput("--min-lr must be positive and at most --lr")
        if not 0 < self.beta2 < 1:
            raise BadInput("--beta2 must be between 0 and 1")


class LMTrainer(Trainer):
    """A GPT on token windows; subclasses fill in ``load_data``, ``batch``, ``evaluate`` and ``sample``."""

    #: training steps when --max-steps is 0
    default_steps: ClassVar[int] = 4000
    #: when --sample-every is 0: this many samples in a run, at most this many steps apart
    samples_per_run: ClassVar[int] = 4
    sample_every_max: ClassVar[int] = 1000
    #: the forward passes' precision (a subclass may set a torch.autocast in load_data)
    autocast = contextlib.nullcontext()
    #: weights to start from (``--init``), set by a subclass's ``load_data``
    init_state: dict | None = None

    def load_data(self) -> None:
        """Read the data: set ``self.tok`` (its ``len`` is the vocabulary), ``self.extra`` (what
        the model file and config.json tell about the data) and what ``batch`` draws from."""
        raise NotImplementedError

    def batch(self, step: int):
        """This step's (inputs, targets): (B, T) token ids each, on ``self.device``."""
        raise NotImplementedError

    def setup(self) -> None:
        from yingshe.nets.transformer import GPT, GPTConfig

        cfg = self.cfg
        self.load_data()
        self.gpt_cfg = GPTConfig(vocab_size=len(self.tok), block_size=cfg.block_size, n_layer=cfg.n_layer,
                                 n_head=cfg.n_head, n_embd=cfg.n_embd, dropout=cfg.dropout, bias=False)
        self.model = GPT(self.gpt_cfg).to(self.device)
        if self.init_state is not None:  # --init: fine-tune a trained model
            self.model.load_state_dict(self.init_state)
            self.init_state = None
        self.opt = self.model.configure_optimizers(cfg.weight_decay, cfg.lr, (0.9, cfg.beta2), self.device.type)
        self.nets = {"gpt": self.model}
        self.opts = {"opt": self.opt}
        self.total_steps = cfg.max_steps or self.default_steps
        # the trainer's defaults for "0": evaluate (and keep the best model) and sample regularly
        cfg.eval_every = cfg.eval_every or max(1, min(250, self.total_steps // 10))
        cfg.sample_every = cfg.sample_every or max(1, min(self.sample_every_max,
                                                          self.total_steps // self.samples_per_run))
        self.tokens_per_step = cfg.batch * cfg.block_size

    def after_resume(self) -> None:
        self.model_train = self.ddp(self.model)

    # ------------------------------------------------------------------ one step
    def lr_at(self, step: int) -> float:
        cfg = self.cfg
        return warmup_cosine(step, warmup=cfg.warmup, total=self.total_steps, peak=cfg.lr, floor=cfg.min_lr)

    def train_step(self, step: int) -> dict:
        import torch

        lr = self.lr_at(step)
        for g in self.opt.param_groups:
            g["lr"] = lr
        x, y = self.batch(step)
        with self.autocast:
            _, loss = self.model_train(x, y)
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        if self.cfg.grad_clip > 0:
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.cfg.grad_clip)
        self.opt.step()
        return {"loss": loss.detach(), "lr": lr}

    # ------------------------------------------------------------------ files
    def model_tensors(self) -> dict:
        return dict(self.model.state_dict())  # the tied output matrix once, as transformer.wte.weight

    def model_meta(self) -> dict:
        return super().model_meta() | {"model": self.gpt_cfg.to_dict(), "gpt": self.gpt_cfg.to_dict(),
                                       "tokenizer": self.tok.to_meta(), "best": dict(self.best)} | self.extra

    def config_info(self) -> dict:
        return {"vocab_size": len(self.tok), "parameters": self.model.num_params()} | self.extra
