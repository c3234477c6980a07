"""The one trainer shape every model of yingshe trains with (GAN, VAE, fast style, pix2pix,
Transformers, diffusion): config dataclass → data → model → loop.

A subclass of :class:`Trainer` says what is particular to its model:

- ``setup()``: load the data, build ``self.nets`` (name → module) and ``self.opts`` (name →
  optimiser), set ``self.total_steps``; wrap the modules that train with ``self.ddp(module)``
  in ``after_resume()`` (they must not be wrapped before the checkpoint is loaded);
- ``train_step(step) -> dict`` of scalar metrics (tensors or floats) for one optimiser step;
- optionally ``sample() -> PIL image`` (a grid, saved to ``RUN/samples/`` and TensorBoard),
  ``evaluate() -> dict`` (validation metrics; with ``val_loss`` the best model is kept),
  ``model_tensors()`` / ``model_meta()`` (what ``model.safetensors`` holds: what sampling needs).

The base does the rest, the same way for every model: seeds (reseeded from (seed, step, rank)
at every step, so a resumed run continues exactly as the uninterrupted one would have), the run
folder (made only after the data and options are known good), ``config.json``,
``checkpoint.safetensors`` (every net, optimiser moments, step; resume loses at most
``ckpt_every`` steps after a kill), ``model.safetensors``, TensorBoard scalars and grids,
progress with ETA, Ctrl-C (saves, then :class:`Interrupted`), ``max_minutes``, and
torch.distributed: under ``torchrun --nproc_per_node=K`` the same code runs with DDP (NCCL on
GPUs, gloo on CPU); ``batch`` is per process.

Config fields are declared with :func:`option` so the command line (``yingshe train KIND``) is
generated from them, like recipes are for mappings.
"""

from __future__ import annotations

import argparse
import atexit
import dataclasses
import json
import math
import os
import sys
import time
import typing
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, ClassVar

from yingshe.core.errors import BadInput, Interrupted
from yingshe.core.progress import Progress


# --------------------------------------------------------------------------- config

def warmup_cosine(step: int, *, warmup: int, total: int, peak: float, floor: float) -> float:
    """The learning rate at ``step`` (0-based): a linear warm-up to ``peak`` over ``warmup`` steps,
    then half a cosine down to ``floor`` at ``total``."""
    if step < warmup:
        return peak * (step + 1) / (warmup + 1)
    t = (step - warmup) / max(1, total - warmup)
    return floor + 0.5 * (1 + math.cos(math.pi * min(1.0, t))) * (peak - floor)


def option(default: Any, help: str, *, choices: tuple | None = None, cli: str | None = None,
           changeable: bool = False, metavar: str | None = None, hidden: bool = False, before: Any = None):
    """A training-config field with its ``--help`` line. ``changeable`` fields may differ on
    ``--resume`` (how long to train, where, how often to save); the others define the run.
    ``before``: what runs saved before this option existed did (a resumed one keeps doing it,
    where the new default would change the run)."""
    meta = dict(help=help, choices=choices, cli=cli, changeable=changeable, metavar=metavar, hidden=hidden,
                before=before)
    return field(default=default, metadata=meta)


@dataclass
class TrainConfig:
    """Fields every trainer has. Subclasses add their model's and set ``kind``."""

    kind: ClassVar[str] = ""
    #: what DATA is, for ``yingshe train KIND --help``
    data_help: ClassVar[str] = "folder of training data"

    data: str = option("", "training data", hidden=True)
    out: str = option("run", "run folder", hidden=True)
    seed: int = option(0, "random seed (weights, data order, noise)")
    batch: int = option(64, "examples per step per process")
    lr: float = option(2e-4, "learning rate")
    max_steps: int = option(0, "stop after N steps in all (0: the trainer's default length)", changeable=True)
    max_minutes: float = option(0.0, "stop after N minutes of training (0: no limit)", changeable=True)
    ckpt_every: int = option(500, "save a checkpoint every N steps (resume loses at most this many)",
                             changeable=True)
    log_every: int = option(25, "log scalars every N steps", changeable=True)
    sample_every: int = option(0, "save a sample grid every N steps (0: the trainer's default)", changeable=True)
    eval_every: int = option(0, "evaluate on the validation split every N steps (0: the trainer's default)",
                             changeable=True)
    device: str = option("auto", "auto picks CUDA, then MPS, then CPU", choices=("auto", "cpu", "cuda", "mps"),
                         changeable=True)
    threads: int | None = option(None, "CPU threads for torch", changeable=True)

    def check(self) -> None:
        """Validate; subclasses call ``super().check()`` and raise BadInput naming the option."""
        for f in fields(self):  # no count, size or seed of any trainer is negative (0 often means "auto")
            v = getattr(self, f.name)
            if isinstance(v, int) and not isinstance(v, bool) and v < 0:
                raise BadInput(f"--{f.name.replace('_', '-')} must be 0 or more; got {v}")
        for name in ("batch", "ckpt_every", "log_every"):
            if getattr(self, name) < 1:
                raise BadInput(f"--{name.replace('_', '-')} must be at least 1")
        if not (self.lr > 0 and math.isfinite(self.lr)):
            raise BadInput("--lr must be a positive number")
        if not (self.max_minutes >= 0 and math.isfinite(self.max_minutes)):
            raise BadInput("--max-minutes must be 0 or more")
        if self.threads is not None and not 1 <= self.threads <= 1024:
            raise BadInput(f"--threads must be between 1 and 1024; got {self.threads}")

    @classmethod
    def from_dict(cls, d: dict):
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in known})

    def to_dict(self) -> dict:
        return asdict(self) | {"kind": self.kind}


def _field_type(cls, f) -> tuple[type, bool]:
    tp = typing.get_type_hints(cls)[f.name]
    optional = False
    if typing.get_origin(tp) in (typing.Union, getattr(__import__("types"), "UnionType", typing.Union)):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        optional, tp = True, args[0]
    return tp, optional


def add_config_arguments(parser: argparse.ArgumentParser, cfg_cls: type[TrainConfig]) -> None:
    """One ``--option`` per config field (defaults stay None, so we know what the user gave)."""
    groups = {"model": parser.add_argument_group("model and training"),
              "run": parser.add_argument_group("how long, where, how often")}
    for f in fields(cfg_cls):
        m = f.metadata
        if m.get("hidden"):
            continue
        tp, _ = _field_type(cfg_cls, f)
        flag = m.get("cli") or "--" + f.name.replace("_", "-")
        default = f.default if f.default is not dataclasses.MISSING else f.default_factory()  # type: ignore[misc]
        shown = "auto" if default is None else ("off" if default == "" else default)
        help_ = f"{m.get('help', '')} [default: {shown}]".replace("%", "%%")
        g = groups["run" if m.get("changeable") else "model"]
        if tp is bool:
            g.add_argument(flag, dest=f.name, action=argparse.BooleanOptionalAction, default=None, help=help_)
        else:
            metavar = m.get("metavar") or (None if m.get("choices") else {int: "N", float: "X"}.get(tp, "TEXT"))
            g.add_argument(flag, dest=f.name, type=_parser_for(tp, flag), default=None, choices=m.get("choices"),
                           metavar=metavar, help=help_)


def _parser_for(tp, flag):
    def parse(text: str):
        try:
            return tp(text)
        except ValueError:
            kind = {int: "a whole number", float: "a number"}.get(tp, "a value")
            raise argparse.ArgumentTypeError(f"{flag} must be {kind}, not {text!r}") from None
    parse.__name__ = getattr(tp, "__name__", "value")
    return parse


def given_options(args: argparse.Namespace, cfg_cls: type[TrainConfig]) -> dict:
    return {f.name: getattr(args, f.name) for f in fields(cfg_cls)
            if not f.metadata.get("hidden") and getattr(args, f.name, None) is not None}


def resolve_config(cfg_cls: type[TrainConfig], given: dict, *, data: str, out: str, resume: bool,
                   extra: dict | None = None) -> TrainConfig:
    """The config of a new run, or of a resumed one (only ``changeable`` options may differ).
    ``extra`` holds fields the command fixes (a config shared by two kinds gets its ``kind``)."""
    run = Path(out)
    kind = (extra or {}).get("kind", cfg_cls.kind)
    if resume:
        cfg_path = run / "config.json"
        if not cfg_path.exists():
            raise BadInput(f"--resume: {str(cfg_path)!r} does not exist (nothing to resume)")
        try:
            saved = json.loads(cfg_path.read_text())["train"]
        except (OSError, ValueError, KeyError, TypeError) as e:
            raise BadInput(f"--resume: cannot read {cfg_path}: {e}") from None
        if saved.get("kind") != kind:
            raise BadInput(f"--resume: {out!r} trains a {saved.get('kind')}, not a {kind}")
        for f in fields(cfg_cls):  # an option newer than the run: what the run did without it
            if f.metadata.get("before") is not None and f.name not in saved:
                saved[f.name] = f.metadata["before"]
        changeable = {f.name for f in fields(cfg_cls) if f.metadata.get("changeable")}
        fixed = sorted(k for k in given if k not in changeable and given[k] != saved.get(k))
        if fixed:
            raise BadInput(f"--resume: cannot change {', '.join('--' + k.replace('_', '-') for k in fixed)} "
                           "of an existing run (only how long, where and how often: "
                           + ", ".join("--" + k.replace("_", "-") for k in sorted(changeable)) + ")")
        values = saved | {k: v for k, v in given.items() if k in changeable}
    else:
        if (run / "checkpoint.safetensors").exists():
            raise BadInput(f"{out!r} already holds a training run; use --resume to continue it, or choose another -o")
        values = dict(given)
    values.pop("kind", None)
    values |= (extra or {}) | {"data": data, "out": out}
    return cfg_cls.from_dict(values)


# --------------------------------------------------------------------------- distributed

def _leave_group() -> None:
    import torch.distributed as dist

    if dist.is_initialized():
        dist.destroy_process_group()


def dist_setup(device_name: str):
    """(rank, world, device). Initialises torch.distributed when launched by torchrun."""
    import torch
    import torch.distributed as dist

    from yingshe.core.device import resolve_device

    world = int(os.environ.get("WORLD_SIZE", "1"))
    device = resolve_device(device_name)
    if world <= 1:
        return 0, 1, device
    if not dist.is_initialized():
        # torch._dynamo must be imported before the group exists. DDP's constructor imports it, and
        # an import after init_process_group keeps a reference to the group that
        # destroy_process_group cannot drop (torch 2.13): gloo's threads then outlive it and, now
        # and then, abort the process in C++ teardown after all the work is saved ("terminate
        # called without an active exception", exit -6; 2 of about 95 runs on a busy 2-core machine).
        import torch._dynamo  # noqa: F401

        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
        # and leave the group while the interpreter is whole, so those threads are joined
        atexit.register(_leave_group)
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

@dataclass
class TrainResult:
    run_dir: Path
    step: int
    epoch: int
    seconds: float
    examples_per_second: float
    last: dict = field(default_factory=dict)  # last logged metrics
    nets: dict = field(default_factory=dict)  # name -> module (unwrapped)
    skipped: int = 0
    interrupted: bool = False
    best: dict = field(default_factory=dict)  # best validation metrics, when the trainer evaluates

    @property
    def images_per_second(self) -> float:  # the image trainers' name for it
        return self.examples_per_second


class Trainer:
    """Subclass and fill in :meth:`setup` and :meth:`train_step` (see the module docstring)."""

    #: TensorBoard scalar prefix and progress label
    label: ClassVar[str] = "model"
    #: the epoch length in steps, for epoch-end grids and checkpoints (subclasses set it in setup)
    steps_per_epoch: int = 0
    #: at most one epoch-end grid + checkpoint per this many seconds (short epochs on a GPU)
    epoch_save_seconds: float = 30.0

    def __init__(self, cfg: TrainConfig, *, resume: bool = False, progress: Progress | None = None):
        import torch

        from yingshe.core.device import set_threads

        cfg.check()
        self.cfg = cfg
        self.progress = progress or Progress()
        set_threads(cfg.threads)
        self.rank, self.world, self.device = dist_setup(cfg.device)
        self.main = self.rank == 0
        self.run_dir = Path(cfg.out)
        self.nets: dict[str, Any] = {}
        self.opts: dict[str, Any] = {}
        self.step = 0
        self.seconds = 0.0
        self.total_steps = 0
        self.best: dict = {}
        self.skipped = 0  # unreadable training files, when the data loader skips some
        torch.manual_seed(cfg.seed)  # identical initial weights on every rank
        self.setup()
        if self.total_steps < 1:
            raise BadInput("nothing to train: the run has 0 steps")
        if resume:
            self.load_checkpoint()
        self.after_resume()
        self.writer = None
        if self.main:
            self.run_dir.mkdir(parents=True, exist_ok=True)
            self.write_config()
            try:
                from torch.utils.tensorboard import SummaryWriter

                self.writer = SummaryWriter(str(self.run_dir / "tb"))
            except ImportError:
                print("yingshe: tensorboard is not installed (pip install 'yingshe[train]'); no TensorBoard logs",
                      file=sys.stderr)

    # ------------------------------------------------------------------ for subclasses
    def setup(self) -> None:
        raise NotImplementedError

    def after_resume(self) -> None:
        """Wrap the training modules with :meth:`ddp` here (after the checkpoint is loaded)."""

    def train_step(self, step: int) -> dict:
        raise NotImplementedError

    def sample(self):
        """A picture of the model's progress (PIL image), or None."""
        return None

    def evaluate(self) -> dict:
        """Validation metrics; a ``val_loss`` key makes the trainer keep the best model."""
        return {}

    def model_tensors(self) -> dict:
        """What ``model.safetensors`` holds (default: every net's state, prefixed by its name)."""
        from yingshe.core import checkpoint as ckpt

        out = {}
        for name, net in self.nets.items():
            out |= ckpt.prefixed(name, net.state_dict())
        return out

    def model_meta(self) -> dict:
        """The JSON description stored with the model (what loading it needs)."""
        return {"format": 1, "kind": self.cfg.kind, "step": self.step, "train": self.cfg.to_dict()}

    def config_info(self) -> dict:
        """Extra facts for config.json (data size, classes...)."""
        return {}

    # ------------------------------------------------------------------ helpers
    def ddp(self, module):
        """``module`` wrapped for DistributedDataParallel when running under torchrun."""
        if self.world <= 1:
            return module
        from torch.nn.parallel import DistributedDataParallel as DDP

        return DDP(module, device_ids=[self.device.index] if self.device.type == "cuda" else None)

    def epoch_indices(self, step: int, n: int, weights=None):
        """This rank's example indices for ``step``: one seeded permutation of ``n`` examples per
        epoch, split by rank (short datasets repeat to fill a global batch). With ``weights`` (a
        tensor of ``n`` non-negative numbers) an epoch is instead ``n`` draws with replacement, each
        example drawn in proportion to its weight (class-balanced sampling); still seeded per epoch,
        so a resumed run draws the same batches."""
        import torch

        b = self.cfg.batch
        global_batch = b * self.world
        steps_per_epoch = max(1, max(n, global_batch) // global_batch)
        epoch, i = divmod(step, steps_per_epoch)
        cached = getattr(self, "_perm", None)
        if cached is None or cached[0] != (epoch, n):
            g = torch.Generator().manual_seed(self.cfg.seed * 100_003 + epoch)
            if weights is not None:
                perm = torch.multinomial(weights.double(), n, replacement=True, generator=g)
            else:
                perm = torch.randperm(n, generator=g)
            if n < global_batch:
                perm = perm.repeat(math.ceil(global_batch / n))
            self._perm = ((epoch, n), perm)
        perm = self._perm[1]
        start = i * global_batch + self.rank * b
        return perm[start:start + b]

    def epochs_to_steps(self, n: int, epochs: int) -> int:
        global_batch = self.cfg.batch * self.world
        self.steps_per_epoch = max(1, max(n, global_batch) // global_batch)
        return epochs * self.steps_per_epoch

    # ------------------------------------------------------------------ the loop
    def train(self) -> TrainResult:
        import torch

        cfg = self.cfg
        for net in self.nets.values():
            if any(p.requires_grad for p in net.parameters()):
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
        sample_every = cfg.sample_every
        eval_every = cfg.eval_every
        try:
            while self.step < self.total_steps:
                torch.manual_seed((cfg.seed * 1_000_003 + self.step) * 64 + self.rank)
                metrics = self.train_step(self.step)
                self.step += 1
                self.seconds = seconds0 + time.perf_counter() - t0
                last_step = self.step == self.total_steps
                if self.step % cfg.log_every == 0 or last_step:
                    last = {k: float(v) for k, v in metrics.items()}
                    eps = (self.step - step0) * cfg.batch * self.world / max(1e-9, time.perf_counter() - t0)
                    bar.update(1, **{k: v for k, v in last.items() if k.startswith("loss")}, ex_s=round(eps, 1))
                    if self.writer:
                        for k, v in last.items():
                            self.writer.add_scalar(f"{cfg.kind}/{k}", v, self.step)
                        self.writer.add_scalar("speed/examples_per_second", eps, self.step)
                else:
                    bar.update(1)
                spe = self.steps_per_epoch
                end_of_epoch = bool(spe) and self.step % spe == 0 and (
                    self.step == spe or time.perf_counter() - last_epoch_save >= self.epoch_save_seconds)
                if (sample_every and self.step % sample_every == 0) or end_of_epoch or last_step:
                    self._save_sample()
                    last_epoch_save = time.perf_counter()
                improved = False
                if (eval_every and self.step % eval_every == 0) or last_step:
                    improved = self._evaluate()
                if self.step % cfg.ckpt_every == 0 or end_of_epoch or last_step or improved:
                    self.save_checkpoint()
                if self._should_stop():
                    interrupted = bar.stopped()
                    if self.step % cfg.ckpt_every:
                        if eval_every and not last_step:
                            self._evaluate()
                        self.save_checkpoint()
                    break
        except KeyboardInterrupt:
            interrupted = True
            self.save_checkpoint()
            if self.main:
                print(f"\nyingshe: interrupted at step {self.step}; checkpoint saved in {self.run_dir} "
                      "(--resume continues)", file=sys.stderr)
        finally:
            bar.close()
            if self.writer:
                self.writer.flush()
        if self.world > 1 and not interrupted:
            self.sync_buffers()
        elapsed = time.perf_counter() - t0
        done = self.step - step0
        result = TrainResult(self.run_dir, self.step, self.step // self.steps_per_epoch if self.steps_per_epoch else 0,
                             self.seconds, done * cfg.batch * self.world / elapsed if elapsed > 0 else 0.0, last,
                             {k: v for k, v in self.nets.items()}, self.skipped, interrupted, dict(self.best))
        if interrupted and self.world == 1 and not bar.stopped():
            raise Interrupted(f"interrupted at step {self.step}; checkpoint saved in {self.run_dir} (--resume continues)")
        return result

    def _evaluate(self) -> bool:
        """Run evaluate(); log it; True when ``val_loss`` is the best so far."""
        was = {name: net.training for name, net in self.nets.items()}
        for net in self.nets.values():
            net.eval()
        try:
            import torch

            with torch.no_grad():
                res = {k: float(v) for k, v in (self.evaluate() or {}).items()}
        finally:
            for name, net in self.nets.items():
                net.train(was[name])
        if not res:
            return False
        if self.writer:
            for k, v in res.items():
                self.writer.add_scalar(f"{self.cfg.kind}/{k}", v, self.step)
        if "val_loss" in res and res["val_loss"] < self.best.get("val_loss", math.inf):
            self.best = res | {"step": self.step}
            return True
        return False

    def sync_buffers(self) -> None:
        """DDP broadcasts buffers (BatchNorm statistics) from rank 0 before each forward, so after
        the last step they differ by one update; make every rank end with rank 0's."""
        import torch.distributed as dist

        for net in self.nets.values():
            for b in net.buffers():
                dist.broadcast(b, 0)

    def _should_stop(self) -> bool:
        stop = self.progress.stopped() or (self.cfg.max_minutes > 0 and self.seconds > 60 * self.cfg.max_minutes)
        if self.world > 1:  # every rank must stop at the same step
            import torch
            import torch.distributed as dist

            flag = torch.tensor([1.0 if stop else 0.0], device=self.device)
            dist.all_reduce(flag)
            stop = bool(flag.item() > 0)
        return stop

    # ------------------------------------------------------------------ files
    def write_config(self) -> None:
        from yingshe.core.images import atomic_write

        info = {"train": self.cfg.to_dict(), "world_size": self.world} | self.config_info()
        text = json.dumps(info, indent=2, sort_keys=True, default=str).encode()
        atomic_write(self.run_dir / "config.json", lambda f: f.write(text))

    def save_checkpoint(self) -> None:
        """``checkpoint.safetensors`` (everything resume needs) and ``model.safetensors`` (the
        best model by validation loss when the trainer evaluates, else the latest)."""
        if not self.main:
            return
        from yingshe.core import checkpoint as ckpt

        tensors, groups = {}, {}
        for name, net in self.nets.items():
            tensors |= ckpt.prefixed(name, net.state_dict())
        for name, opt in self.opts.items():
            t, groups[name] = ckpt.optimizer_tensors(name, opt)
            tensors |= t
        meta = self.model_meta() | {"optimizers": groups, "seconds": self.seconds, "best": self.best,
                                    "step": self.step}
        ckpt.save_tensors(self.run_dir / "checkpoint.safetensors", tensors, meta)
        best_step = self.best.get("step")
        if best_step is None or best_step == self.step or not (self.run_dir / "model.safetensors").exists():
            ckpt.save_tensors(self.run_dir / "model.safetensors", self.model_tensors(), self.model_meta())

    def load_checkpoint(self) -> None:
        from yingshe.core import checkpoint as ckpt

        path = self.run_dir / "checkpoint.safetensors"
        if not path.exists():
            raise BadInput(f"--resume: {str(path)!r} does not exist (nothing to resume)")
        tensors, meta = ckpt.load_tensors(path)
        mine = self.model_meta()
        if meta.get("kind") != mine.get("kind") or meta.get("model") != mine.get("model"):
            raise BadInput(f"--resume: {path} holds a different model ({meta.get('kind')} {meta.get('model')}); "
                           "use the run's own options (see its config.json)")
        for name, net in self.nets.items():
            net.load_state_dict(ckpt.unprefixed(name, tensors))
        for name, opt in self.opts.items():
            ckpt.load_optimizer(name, opt, tensors, meta["optimizers"][name])
        self.step = int(meta["step"])
        self.seconds = float(meta.get("seconds", 0.0))
        self.best = dict(meta.get("best") or {})
        self.on_resume(meta)

    def on_resume(self, meta: dict) -> None:
        """Restore anything else a subclass keeps in the checkpoint's metadata."""

    def _save_sample(self) -> None:
        if not self.main:
            return
        import torch

        nets = list(self.nets.values())
        was = [n.training for n in nets]
        for n in nets:
            n.eval()
        try:
            with torch.no_grad():
                img = self.sample()
        finally:
            for n, w in zip(nets, was):
                n.train(w)
        if img is None:
            return
        name = (f"epoch-{math.ceil(self.step / self.steps_per_epoch):04d}.png" if self.steps_per_epoch
                else f"step-{self.step:07d}.png")
        (self.run_dir / "samples").mkdir(exist_ok=True)
        img.save(self.run_dir / "samples" / name)
        if self.writer:
            import numpy as np

            self.writer.add_image("samples", np.asarray(img.convert("RGB")), self.step, dataformats="HWC")


# --------------------------------------------------------------------------- the command line

@dataclass(frozen=True)
class TrainCommand:
    """What ``yingshe train KIND`` needs to know of one kind (listed in yingshe/cli/train.py)."""

    kind: str
    config: type  # a TrainConfig subclass
    trainer: type  # a Trainer subclass
    description: str  # what it trains, on what data, what RUN receives
    epilog: str = ""  # examples
    extra: dict = field(default_factory=dict)  # config fields the kind fixes (e.g. {"kind": "vae"})


def train_parser(command: TrainCommand, parser_class=argparse.ArgumentParser) -> argparse.ArgumentParser:
    """``yingshe train KIND DATA -o RUN [options]``: the generic parser for one trainer kind."""
    cfg_cls = command.config
    p = parser_class(prog=f"yingshe train {command.kind}", description=command.description, epilog=command.epilog,
                     formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("data", metavar="DATA", help=cfg_cls.data_help)
    p.add_argument("-o", "--out", required=True, metavar="RUN", help="run folder (created)")
    p.add_argument("--resume", action="store_true", help="continue RUN from its last checkpoint")
    add_config_arguments(p, cfg_cls)
    r = p.add_argument_group("output")
    r.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    r.add_argument("--json", action="store_true", help="print a machine-readable summary on stdout")
    return p


def run_train_command(command: TrainCommand, args) -> int:
    """Resolve the config (new or resumed run), train, print a one-line summary (rank 0)."""
    from yingshe.core.progress import TqdmProgress

    cfg_cls = command.config
    cfg = resolve_config(cfg_cls, given_options(args, cfg_cls), data=args.data, out=args.out, resume=args.resume,
                         extra=dict(command.extra))
    progress = Progress() if args.quiet else TqdmProgress()
    result = command.trainer(cfg, resume=args.resume, progress=progress).train()
    if int(os.environ.get("RANK", "0")) == 0:
        summary = {"run": str(result.run_dir), "step": result.step, "epoch": result.epoch,
                   "seconds": round(result.seconds, 1), "examples_per_second": round(result.examples_per_second, 1),
                   "skipped_files": result.skipped, "last": result.last, "best": result.best}
        if args.json:
            print(json.dumps(summary, indent=2))
        else:
            skipped = f" ({result.skipped} unreadable file(s) skipped)" if result.skipped else ""
            best = f", best val_loss {result.best['val_loss']:.4g} at step {result.best['step']}" if result.best else ""
            print(f"trained {cfg.kind} to step {result.step} in {result.seconds:.0f} s "
                  f"({result.examples_per_second:.1f} examples/s{best}){skipped}: {result.run_dir}/model.safetensors",
                  file=sys.stderr)
    return 0
