"""``yingshe train poem CORPUS -o RUN``: a character-level Transformer on verse.

CORPUS is ``tang`` (the 全唐诗, in Simplified characters), ``english`` (Shakespeare's sonnets,
Blake, Milton, tiny-shakespeare's verse) or a .txt/.json file of poems (see
yingshe/sequence/corpus.py). Documents are split into train and validation by a hash of their
identity; training draws random windows of ``--block-size`` tokens from the train stream
(nanoGPT's way), evaluation reads the validation stream in consecutive windows and reports the
loss in nats and bits per character; the best model by validation loss is kept.

The run's model.safetensors holds the weights, the Transformer config and the tokenizer (and,
for English, the rhyme vocabulary), so ``yingshe poem --model RUN`` needs nothing else.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

from yingshe.core.errors import BadInput
from yingshe.core.trainer import TrainCommand, TrainConfig, Trainer, option

DEFAULT_STEPS = 6000


@dataclass
class PoemTrainConfig(TrainConfig):
    kind: ClassVar[str] = "poem"
    data_help: ClassVar[str] = "tang, english, or a .txt/.json(.gz) file of poems"

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
    block_size: int = option(128, "context length in tokens (characters)")
    dropout: float = option(0.1, "dropout in training")
    min_count: int = option(2, "keep characters seen at least this often (others become <unk>)")
    val_fraction: float = option(0.02, "share of the documents held out for validation")
    eval_tokens: int = option(32768, "validation tokens read at each evaluation (0: all)", changeable=True)
    precision: str = option("auto", "auto: bfloat16 autocast on CUDA, float32 elsewhere",
                            choices=("auto", "fp32", "bf16"), changeable=True)

    def check(self) -> None:
        super().check()
        for name in ("n_layer", "n_head", "n_embd", "block_size", "min_count"):
            if getattr(self, name) < 1:
                raise BadInput(f"--{name.replace('_', '-')} must be at least 1")
        if self.n_embd % self.n_head:
            raise BadInput(f"--n-embd ({self.n_embd}) must be divisible by --n-head ({self.n_head})")
        if not 0 <= self.dropout < 1:
            raise BadInput("--dropout must be in [0, 1)")
        if not 0 < self.val_fraction < 0.5:
            raise BadInput("--val-fraction must be between 0 and 0.5")
        if self.warmup < 0 or self.eval_tokens < 0 or self.grad_clip < 0 or self.weight_decay < 0:
            raise BadInput("--warmup, --eval-tokens, --grad-clip and --weight-decay must be 0 or more")
        if not 0 < self.min_lr <= self.lr:
            raise BadInput("--min-lr must be positive and at most --lr")
        if not 0 < self.beta2 < 1:
            raise BadInput("--beta2 must be between 0 and 1")


def encode_docs(tok, docs) -> "object":
    """One int64 stream of every document's tokens, end to end."""
    import torch

    ids: list[int] = []
    for d in docs:
        ids.extend(tok.encode(d.text()))
    return torch.tensor(ids, dtype=torch.long)


def prepare(cfg: PoemTrainConfig):
    """(corpus, tokenizer, train ids, val ids, extra model metadata) of a config's CORPUS."""
    from yingshe.sequence.corpus import load_corpus
    from yingshe.sequence.tokenizer import CharTokenizer

    corpus = load_corpus(cfg.data)
    train_docs, val_docs = corpus.split(cfg.val_fraction)
    tok = CharTokenizer.build((d.text() for d in train_docs), specials=corpus.tags, min_count=cfg.min_count)
    train_ids, val_ids = encode_docs(tok, train_docs), encode_docs(tok, val_docs)
    if len(train_ids) < 4 * (cfg.block_size + 1) or len(val_ids) < cfg.block_size + 1:
        raise BadInput(f"corpus {cfg.data!r} is too small for --block-size {cfg.block_size} "
                       f"({len(train_ids)} training and {len(val_ids)} validation tokens)")
    extra = {"language": corpus.language, "corpus": corpus.name, "tags": list(corpus.tags),
             "documents": {"train": len(train_docs), "val": len(val_docs)},
             "tokens": {"train": len(train_ids), "val": len(val_ids)}}
    if corpus.language == "en":
        from yingshe.sequence.english import rhyme_vocabulary

        extra["rhyme_words"] = rhyme_vocabulary(d.body for d in train_docs)
    return corpus, tok, train_ids, val_ids, extra


class PoemTrainer(Trainer):
    label = "poem"

    def setup(self) -> None:
        import torch

        from yingshe.nets.transformer import GPT, GPTConfig

        cfg = self.cfg
        self.corpus, self.tok, self.train_ids, self.val_ids, self.extra = prepare(cfg)
        self.gpt_cfg = GPTConfig(vocab_size=len(self.tok), block_size=cfg.block_size, n_layer=cfg.n_layer,
                                 n_head=cfg.n_head, n_embd=cfg.n_embd, dropout=cfg.dropout, bias=False)
        self.model = GPT(self.gpt_cfg).to(self.device)
        self.opt = self.model.configure_optimizers(cfg.weight_decay, cfg.lr, (0.9, cfg.beta2), self.device.type)
        self.nets = {"gpt": self.model}
        self.opts = {"opt": self.opt}
        self.total_steps = cfg.max_steps or DEFAULT_STEPS
        # the trainer's defaults for "0": evaluate (and keep the best model) and sample regularly
        cfg.eval_every = cfg.eval_every or max(1, min(250, self.total_steps // 10))
        cfg.sample_every = cfg.sample_every or max(1, min(500, self.total_steps // 5))
        self.tokens_per_step = cfg.batch * cfg.block_size
        prec = cfg.precision if cfg.precision != "auto" else ("bf16" if self.device.type == "cuda" else "fp32")
        self.autocast = (torch.autocast(self.device.type, dtype=torch.bfloat16) if prec == "bf16"
                         else _Null())
        self.train_ids = self.train_ids.to(self.device)
        self.offsets = torch.arange(cfg.block_size + 1, device=self.device)

    def after_resume(self) -> None:
        self.model_train = self.ddp(self.model)

    # ------------------------------------------------------------------ one step
    def lr_at(self, step: int) -> float:
        cfg = self.cfg
        if step < cfg.warmup:
            return cfg.lr * (step + 1) / (cfg.warmup + 1)
        t = (step - cfg.warmup) / max(1, self.total_steps - cfg.warmup)
        return cfg.min_lr + 0.5 * (1 + math.cos(math.pi * min(1.0, t))) * (cfg.lr - cfg.min_lr)

    def batch(self):
        """Random windows (B, T+1) of the train stream; the base seeds the RNG at every step."""
        import torch

        n = len(self.train_ids) - self.cfg.block_size - 1
        ix = torch.randint(n, (self.cfg.batch,)).to(self.device)
        w = self.train_ids[ix[:, None] + self.offsets]  # (B, T+1)
        return w[:, :-1], w[:, 1:]

    def train_step(self, step: int) -> dict:
        import torch

        lr = self.lr_at(step)
        for g in self.opt.param_groups:
            g["lr"] = lr
        x, y = self.batch()
        with self.autocast:
            _, loss = self.model_train(x, y)
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        if self.cfg.grad_clip > 0:
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.cfg.grad_clip)
        self.opt.step()
        return {"loss": loss.detach(), "lr": lr}

    # ------------------------------------------------------------------ evaluation
    def evaluate(self) -> dict:
        loss = evaluate_loss(self.model, self.val_ids, self.cfg.block_size, self.cfg.batch, self.device,
                             max_tokens=self.cfg.eval_tokens, autocast=self.autocast)
        return {"val_loss": loss, "val_bpc": loss / math.log(2)}

    def sample(self):
        """A few hundred characters from the model, into TensorBoard and RUN/samples/ (text)."""
        import torch

        tag = self.extra["tags"][0]
        start = torch.tensor([self.tok.encode(f"<bos>{tag}")], device=self.device)
        g = torch.Generator().manual_seed(self.cfg.seed)
        out = self.model.generate(start, min(160, self.cfg.block_size - 2), temperature=0.8, top_k=40, generator=g)
        text = self.tok.decode(out[0].tolist())
        (self.run_dir / "samples").mkdir(parents=True, exist_ok=True)
        (self.run_dir / "samples" / f"step-{self.step:07d}.txt").write_text(text + "\n", encoding="utf-8")
        if self.writer:
            self.writer.add_text("sample", text.replace("\n", "  \n"), self.step)
        return None

    # ------------------------------------------------------------------ files
    def model_tensors(self) -> dict:
        return dict(self.model.state_dict())

    def model_meta(self) -> dict:
        return {"format": 1, "kind": "poem", "step": self.step, "train": self.cfg.to_dict(),
                "model": self.gpt_cfg.to_dict(), "gpt": self.gpt_cfg.to_dict(),
                "tokenizer": self.tok.to_meta(), "best": dict(self.best)} | self.extra

    def config_info(self) -> dict:
        return {"vocab_size": len(self.tok), "parameters": self.model.num_params()} | {
            k: v for k, v in self.extra.items() if k != "rhyme_words"}


def evaluate_loss(model, ids, block_size: int, batch: int, device, *, max_tokens: int = 0, stride: int = 0,
                  autocast=None) -> float:
    """Mean next-token cross-entropy (nats) of the stream ``ids``, each token scored once.

    Windows of ``block_size`` tokens start every ``stride`` tokens (default: ``block_size``,
    back to back); a window scores only its last ``stride`` positions (the first window scores
    all), so with ``stride = block_size // 2`` every token has at least half a window of context.
    ``max_tokens`` stops after about that many scored tokens (0: the whole stream)."""
    import torch

    T = block_size
    S = stride or T
    ids = ids.to(device)
    n = len(ids) - 1  # tokens that have a next token
    if n < T:
        raise ValueError(f"the stream ({n + 1} tokens) is shorter than one window ({T + 1})")
    starts = list(range(0, n - T + 1, S))
    if max_tokens:
        starts = starts[: max(1, 1 + (max_tokens - T) // S)]
    total, count = 0.0, 0
    was = model.training
    model.eval()
    with torch.no_grad():
        for i in range(0, len(starts), batch):
            chunk = torch.tensor(starts[i:i + batch], device=device)
            w = ids[chunk[:, None] + torch.arange(T + 1, device=device)]  # (b, T+1)
            x, y = w[:, :-1], w[:, 1:].clone()
            y[chunk > 0, : T - S] = -1  # scored already by the window before
            with autocast or _Null():
                logits, _ = model(x)
            loss = torch.nn.functional.cross_entropy(logits.float().reshape(-1, logits.size(-1)), y.reshape(-1),
                                                     ignore_index=-1, reduction="sum")
            total += float(loss)
            count += int((y >= 0).sum())
    model.train(was)
    return total / max(1, count)


class _Null:
    def __enter__(self):
        return self

    def __exit__(self, *a):
        return False


DESCRIPTION = __doc__.split("\n", 1)[1].strip() + """

RUN receives config.json, model.safetensors (the best model by validation loss, tokenizer
inside), checkpoint.safetensors (for --resume), samples/step-N.txt and tb/ (TensorBoard)."""

EPILOG = """\
examples:
  yingshe train poem tang -o runs/tang                     (the shipped tang-poem's recipe: see its .recipe.json)
  yingshe train poem english -o runs/verse --block-size 256
  yingshe train poem my_poems.json -o runs/mine --max-minutes 30
  yingshe train poem tang -o runs/tang --resume --max-steps 12000   (continue, and train longer)
  torchrun --nproc_per_node=4 -m yingshe train poem tang -o runs/big --n-layer 8 --n-embd 512 --batch 64
then: yingshe poem --model runs/tang/model.safetensors --form qiyan-jueju"""

POEM_COMMAND = TrainCommand("poem", PoemTrainConfig, PoemTrainer, DESCRIPTION, EPILOG)
