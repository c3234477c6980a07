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

import contextlib
import math
import sys
from dataclasses import dataclass
from typing import ClassVar

from yingshe.core.errors import BadInput, WeightsError
from yingshe.core.trainer import TrainCommand, option
from yingshe.sequence.lm_train import LMTrainConfig, LMTrainer


#: the context of a new model when --block-size is 0 (a fine-tuned one keeps its model's)
NEW_BLOCK = 128
#: the validation share when --val-fraction is 0 (a fine-tuned one on its model's corpus keeps its model's)
NEW_VAL_FRACTION = 0.02


@dataclass
class PoemTrainConfig(LMTrainConfig):
    kind: ClassVar[str] = "poem"
    data_help: ClassVar[str] = "tang, english, or a .txt/.json(.gz) file of poems"
    eval_option: ClassVar[str] = "eval_tokens"
    min_block_size: ClassVar[int] = 0  # 0: chosen in load_data (NEW_BLOCK, or --init's)

    block_size: int = option(0, f"context length in tokens (characters); 0: {NEW_BLOCK} for a new model, the "
                                "model's own with --init (a larger value extends its context)")
    min_count: int = option(2, "keep characters seen at least this often (others become <unk>)")
    val_fraction: float = option(0.0, f"share of the documents held out for validation; 0: {NEW_VAL_FRACTION}, or "
                                      "--init's own when it was trained on the same corpus")
    eval_tokens: int = option(32768, "validation tokens read at each evaluation (0: all)", changeable=True)
    precision: str = option("auto", "auto: bfloat16 autocast on CUDA, float32 elsewhere",
                            choices=("auto", "fp32", "bf16"), changeable=True)
    init: str = option("", "start from this trained poem model (shipped name, run folder or model file) and "
                           "fine-tune it on DATA: its vocabulary and shape replace --n-layer, --n-head, --n-embd "
                           "and --min-count; --block-size may only grow its context", metavar="MODEL")

    def check(self) -> None:
        super().check()
        if self.min_count < 1:
            raise BadInput("--min-count must be at least 1")
        if not 0 <= self.val_fraction < 0.5:
            raise BadInput("--val-fraction must be between 0 and 0.5")


def encode_docs(tok, docs) -> "object":
    """One int64 stream of every document's tokens, end to end."""
    import torch

    ids: list[int] = []
    for d in docs:
        ids.extend(tok.encode(d.text()))
    return torch.tensor(ids, dtype=torch.long)


def prepare(cfg: PoemTrainConfig, init=None):
    """(corpus, tokenizer, train ids, val ids, extra model metadata) of a config's CORPUS.

    With ``init`` (the :class:`~yingshe.sequence.lm.LanguageModel` of ``--init``) the corpus is
    read with that model's tokenizer, which must know its form tags and nearly all its characters."""
    from yingshe.sequence.corpus import load_corpus
    from yingshe.sequence.tokenizer import CharTokenizer

    corpus = load_corpus(cfg.data)
    train_docs, val_docs = corpus.split(cfg.val_fraction)
    if init is None:
        tok = CharTokenizer.build((d.text() for d in train_docs), specials=corpus.tags, min_count=cfg.min_count)
    else:
        tok = init.tokenizer
        _check_init_fits(cfg, init, corpus)
    train_ids, val_ids = encode_docs(tok, train_docs), encode_docs(tok, val_docs)
    if init is not None and len(train_ids):
        unknown = float((train_ids == tok.unk).float().mean())
        if unknown > 0.05:
            raise BadInput(f"--init {cfg.init}: its vocabulary lacks {unknown:.0%} of the characters of {cfg.data!r} "
                           "(they would all read <unk>); train a new model on it instead, without --init")
    if len(train_ids) < 4 * (cfg.block_size + 1) or len(val_ids) < cfg.block_size + 1:
        raise BadInput(f"corpus {cfg.data!r} is too small for --block-size {cfg.block_size} "
                       f"({len(train_ids)} training and {len(val_ids)} validation tokens)")
    extra = {"language": corpus.language, "corpus": corpus.name, "tags": list(corpus.tags),
             "documents": {"train": len(train_docs), "val": len(val_docs)},
             "tokens": {"train": len(train_ids), "val": len(val_ids)}}
    if corpus.language == "en":
        from yingshe.sequence.english import rhyme_vocabulary

        words = rhyme_vocabulary(d.body for d in train_docs)
        if init is not None:  # the words the model already rhymes with stay available
            known = set(words)
            words += [w for w in init.meta.get("rhyme_words") or [] if w not in known]
        extra["rhyme_words"] = words
    if init is not None:
        extra["init"] = init.record | {"step": init.meta.get("step"), "init": init.meta.get("init")}
    return corpus, tok, train_ids, val_ids, extra


def _check_init_fits(cfg: PoemTrainConfig, init, corpus) -> None:
    """--init's model writes the corpus's language and knows its form tags, or a one-line error."""
    names = {"zh": "Chinese", "en": "English"}
    lang = init.meta.get("language")
    if lang != corpus.language:
        raise BadInput(f"--init {cfg.init} writes {names.get(lang, lang)}, but {cfg.data!r} is "
                       f"{names.get(corpus.language, corpus.language)}")
    missing = [t for t in corpus.tags if t not in init.tokenizer]
    if missing:
        raise BadInput(f"--init {cfg.init} does not know the form tag(s) {', '.join(missing)} of {cfg.data!r}")


def load_init(cfg: PoemTrainConfig, device):
    """The LanguageModel ``--init`` names; the run takes its shape (written back into ``cfg``,
    so config.json and --resume see the real network)."""
    from yingshe.sequence.lm import load_lm

    try:
        init = load_lm(cfg.init, device=device, expect_kind="poem")
    except (BadInput, WeightsError) as e:
        raise BadInput(f"--init {cfg.init}: {e}") from None
    g = init.model.config
    if 0 < cfg.block_size < g.block_size:
        raise BadInput(f"--block-size {cfg.block_size} is shorter than the context of --init {cfg.init} "
                       f"({g.block_size}); leave it out, or give a larger one to extend the context")
    cfg.n_layer, cfg.n_head, cfg.n_embd = g.n_layer, g.n_head, g.n_embd
    cfg.block_size = max(cfg.block_size, g.block_size)
    return init


def choose_val_fraction(cfg: PoemTrainConfig, init) -> None:
    """Set ``cfg.val_fraction`` when it is 0: NEW_VAL_FRACTION, or --init's own when the init was
    trained on the same corpus. The split goes by a hash of each poem, so a smaller share would
    hold out only some of the init's validation poems and train on the rest: its validation
    loss and the new one would no longer compare. Given explicitly that small, it is allowed,
    with a note."""
    was = (init.meta.get("train") or {}) if init is not None else {}
    same = bool(was.get("val_fraction")) and was.get("data") == cfg.data
    if not cfg.val_fraction:
        cfg.val_fraction = float(was["val_fraction"]) if same else NEW_VAL_FRACTION
    elif same and cfg.val_fraction < float(was["val_fraction"]):
        print(f"yingshe: note: --init {cfg.init} held out {float(was['val_fraction']):g} of {cfg.data!r} for validation; "
              f"with --val-fraction {cfg.val_fraction:g} some of those poems are trained on, and the two validation "
              "losses do not compare (leave --val-fraction out to keep its split)", file=sys.stderr)


class PoemTrainer(LMTrainer):
    label = "poem"
    default_steps = 6000
    samples_per_run = 5
    sample_every_max = 500

    def load_data(self) -> None:
        import torch

        from yingshe.nets.transformer import extend_context

        cfg = self.cfg
        init = load_init(cfg, self.device) if cfg.init else None  # before the data: a wrong --init fails at once
        cfg.block_size = cfg.block_size or NEW_BLOCK  # written back: config.json and --resume see the real size
        choose_val_fraction(cfg, init)
        self.corpus, self.tok, self.train_ids, self.val_ids, self.extra = prepare(cfg, init)
        if init is not None:  # LMTrainer.setup loads it into the new network
            self.init_state = extend_context(init.model.state_dict(), cfg.block_size)
            if cfg.block_size > init.model.config.block_size:
                self.extra["init"]["block_size"] = init.model.config.block_size
        prec = cfg.precision if cfg.precision != "auto" else ("bf16" if self.device.type == "cuda" else "fp32")
        if prec == "bf16":
            self.autocast = torch.autocast(self.device.type, dtype=torch.bfloat16)
        self.train_ids = self.train_ids.to(self.device)
        self.offsets = torch.arange(cfg.block_size + 1, device=self.device)

    def batch(self, step: int):
        """Random windows (B, T+1) of the train stream; the base seeds the RNG at every step."""
        import torch

        n = len(self.train_ids) - self.cfg.block_size - 1
        ix = torch.randint(n, (self.cfg.batch,)).to(self.device)
        w = self.train_ids[ix[:, None] + self.offsets]  # (B, T+1)
        return w[:, :-1], w[:, 1:]

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

    def config_info(self) -> dict:
        return {k: v for k, v in super().config_info().items() if k != "rhyme_words"}


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
            with autocast or contextlib.nullcontext():
                logits, _ = model(x)
            loss = torch.nn.functional.cross_entropy(logits.float().reshape(-1, logits.size(-1)), y.reshape(-1),
                                                     ignore_index=-1, reduction="sum")
            total += float(loss)
            count += int((y >= 0).sum())
    model.train(was)
    return total / max(1, count)


DESCRIPTION = __doc__.split("\n", 1)[1].strip() + """

RUN receives config.json, model.safetensors (the best model by validation loss, tokenizer
inside), checkpoint.safetensors (for --resume), samples/step-N.txt and tb/ (TensorBoard)."""

EPILOG = """\
examples:
  yingshe train poem tang -o runs/tang                     (the shipped tang-poem's recipe: see its .recipe.json)
  yingshe train poem english -o runs/verse --block-size 256
  yingshe train poem my_poems.json -o runs/mine --max-minutes 30
  yingshe train poem tang -o runs/tang --resume --max-steps 12000   (continue, and train longer)
  yingshe train poem my_sonnets.txt -o runs/ft --init english-verse --lr 3e-4 --max-steps 1000   (fine-tune)
  yingshe train poem english -o runs/long --init english-verse --block-size 1024 --batch 4   (read further back)
  torchrun --nproc_per_node=4 -m yingshe train poem tang -o runs/big --n-layer 8 --n-embd 512 --batch 64
then: yingshe poem --model runs/tang/model.safetensors --form qiyan-jueju"""

POEM_COMMAND = TrainCommand("poem", PoemTrainConfig, PoemTrainer, DESCRIPTION, EPILOG)
