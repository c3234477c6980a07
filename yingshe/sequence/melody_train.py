"""``yingshe train melody DATA -o RUN``: a Transformer on music events (see melody_tokens.py).

DATA is ``music21:bach`` (the 371 chorales, four voices), ``music21:folk`` (the Essen folk
songs, one line) or a folder of MIDI files (``--voices 4`` or ``1``). Pieces are split into
train and validation by a seeded shuffle (``--val-fraction``). Each training example is a window
of ``--block-size`` tokens: a piece's header (``<bos> key meter``) followed by its events from a
random bar on, then further whole pieces until the window is full. With ``--transpose`` (the
default) every window is moved by a random interval of -5..+6 semitones, so the model sees every
piece in all twelve keys (the key token moves with it). Validation scores every token of every
held-out piece once, in its own key, with the context sampling would give it (the header plus
the latest bars), and reports nats and bits per token; the best model by validation loss is kept.

The run's model.safetensors holds the weights, the Transformer config and the tokenizer, so
``yingshe melody --model RUN`` needs nothing else.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

from yingshe.core.errors import BadInput
from yingshe.core.trainer import TrainCommand, option
from yingshe.sequence.lm_train import LMTrainConfig, LMTrainer

TRANSPOSE = range(-5, 7)  # twelve keys


@dataclass
class MelodyTrainConfig(LMTrainConfig):
    kind: ClassVar[str] = "melody"
    data_help: ClassVar[str] = "music21:bach, music21:folk, or a folder of MIDI files"
    eval_option: ClassVar[str] = "eval_pieces"

    batch: int = option(16, "windows of --block-size tokens per step per process")
    n_head: int = option(6, "attention heads")
    n_embd: int = option(192, "width of the residual stream")
    block_size: int = option(256, "context length in tokens")
    voices: int = option(0, "voices of a MIDI folder: 4 (SATB) or 1 (a single line); 0: 4 for MIDI, "
                            "fixed for the music21 corpora")
    transpose: bool = option(True, "move every training window to a random key (all twelve)")
    val_fraction: float = option(0.1, "share of the pieces held out for validation")
    eval_pieces: int = option(200, "validation pieces scored at each evaluation (0: all)", changeable=True)

    def check(self) -> None:
        super().check()
        if self.block_size < 32:
            raise BadInput("--block-size must be at least 32 (a bar of four voices takes ~60 tokens)")
        if self.voices not in (0, 1, 4):
            raise BadInput("--voices must be 4, 1 or 0 (automatic)")
        if not 0 < self.val_fraction < 0.5:
            raise BadInput("--val-fraction must be between 0 and 0.5")


# --------------------------------------------------------------------------- data

def split_pieces(pieces: list, val_fraction: float, seed: int = 0) -> tuple[list, list]:
    """(train, val): a seeded shuffle of the pieces, the first ``val_fraction`` held out."""
    import random

    order = list(range(len(pieces)))
    random.Random(seed).shuffle(order)
    n_val = max(1, int(round(val_fraction * len(pieces))))
    val = sorted(order[:n_val])
    train = sorted(order[n_val:])
    return [pieces[i] for i in train], [pieces[i] for i in val]


class EventData:
    """Encoded pieces (int16 arrays) and the windows the model trains on."""

    def __init__(self, tok, pieces: list):
        import numpy as np

        self.tok = tok
        self.seqs = [np.asarray(tok.encode(p), dtype=np.int16) for p in pieces]
        self.bars = [np.flatnonzero((s >= tok.bar0) & (s < tok.bar0 + 8)) for s in self.seqs]
        lo, hi = tok.pitch0, tok.pitch0 + (108 - 21)
        self.pitch_span = []
        for s in self.seqs:
            p = s[(s >= lo) & (s <= hi)]
            self.pitch_span.append((int(p.min()) - lo, hi - int(p.max())) if len(p) else (99, 99))
        # start bars weighted by count, so every bar is equally likely to open a window
        self.starts = [(i, b) for i, bars in enumerate(self.bars) for b in bars]

    @property
    def tokens(self) -> int:
        return int(sum(len(s) for s in self.seqs))

    def transpose(self, seq, k: int):
        """Token ids moved by ``k`` semitones: pitches and the key token."""
        tok = self.tok
        out = seq.copy()
        if k == 0:
            return out
        pitch = (out >= tok.pitch0) & (out < tok.pitch0 + 88)
        out[pitch] += k
        key = (out >= tok.key0) & (out < tok.key0 + 24)
        kk = out[key] - tok.key0
        out[key] = tok.key0 + (kk // 12) * 12 + (kk % 12 + k) % 12
        return out

    def shift_for(self, i: int, rng, transpose: bool) -> int:
        if not transpose:
            return 0
        down, up = self.pitch_span[i]
        ks = [k for k in TRANSPOSE if -down <= k <= up]
        return int(ks[rng.integers(len(ks))]) if ks else 0

    def window(self, rng, block: int, transpose: bool):
        """One (block + 1)-token window: header + events from a random bar, then whole pieces."""
        import numpy as np

        i, b = self.starts[rng.integers(len(self.starts))]
        k = self.shift_for(i, rng, transpose)
        s = self.transpose(self.seqs[i], k)
        parts = [s[:3], s[b:]]
        n = 3 + len(s) - b
        while n < block + 1:
            j = int(rng.integers(len(self.seqs)))
            t = self.transpose(self.seqs[j], self.shift_for(j, rng, transpose))
            parts.append(t)
            n += len(t)
        return np.concatenate(parts)[: block + 1]

    def batch(self, rng, batch: int, block: int, transpose: bool):
        import numpy as np
        import torch

        w = torch.from_numpy(np.stack([self.window(rng, block, transpose) for _ in range(batch)]).astype(np.int64))
        return w[:, :-1], w[:, 1:]


def scoring_windows(seq: list[int], tok, block: int) -> list[tuple[list[int], int]]:
    """Windows that score every token of ``seq`` once, with the context sampling gives it.

    Returns (window tokens, first scored index in the window); the window's token i+1 is scored
    from tokens 0..i. The first window is the piece's start; later ones are the header plus the
    piece from the bar line that :func:`melody_model.window_start` would slide to."""
    from yingshe.sequence.melody_model import HEADER, window_start

    out = []
    n = len(seq)
    first = seq[:block]
    out.append((first, 1))
    done = len(first)  # tokens seq[1:done] scored
    while done < n:
        j = window_start(seq[:done], tok, block * 3 // 4 - HEADER)
        w = seq[:HEADER] + seq[j:j + block - HEADER]
        # the window holds seq[j : j + block - HEADER]; scored: those at seq index >= done
        out.append((w, HEADER + (done - j)))
        done = j + block - HEADER
    return out


def sequence_loss(model, seqs: list, tok, block: int, device, batch: int = 16) -> tuple[float, int]:
    """(mean nats per token, tokens scored) of ``seqs`` under ``model`` (every token after
    ``<bos>`` scored once; see :func:`scoring_windows`)."""
    import torch

    rows = []
    for s in seqs:
        for w, first in scoring_windows([int(x) for x in s], tok, block):
            x = w[:-1]
            y = [-1] * (first - 1) + w[first:]
            rows.append((x, y))
    total, count = 0.0, 0
    was = model.training
    model.eval()
    with torch.no_grad():
        for i in range(0, len(rows), batch):
            chunk = rows[i:i + batch]
            T = max(len(x) for x, _ in chunk)
            X = torch.full((len(chunk), T), tok.pad, dtype=torch.long)
            Y = torch.full((len(chunk), T), -1, dtype=torch.long)
            for r, (x, y) in enumerate(chunk):
                X[r, :len(x)] = torch.tensor(x)
                Y[r, :len(y)] = torch.tensor(y)
            logits, _ = model(X.to(device))
            loss = torch.nn.functional.cross_entropy(logits.float().reshape(-1, logits.size(-1)),
                                                     Y.to(device).reshape(-1), ignore_index=-1, reduction="sum")
            total += float(loss)
            count += int((Y >= 0).sum())
    model.train(was)
    return total / max(1, count), count


def prepare(cfg: MelodyTrainConfig, progress=None):
    """(tokenizer, train data, val data, style, extra metadata) of a config's DATA."""
    from yingshe.sequence.melody_data import cached_corpus
    from yingshe.sequence.melody_tokens import METERS, MusicTokenizer

    pieces, skipped, voices = cached_corpus(cfg.data, cfg.voices or None, progress)
    if len(pieces) < 4:
        raise BadInput(f"{cfg.data!r}: only {len(pieces)} usable piece(s) ({skipped} skipped); need at least 4")
    train, val = split_pieces(pieces, cfg.val_fraction, seed=0)
    tok = MusicTokenizer(voices)
    train_data, val_data = EventData(tok, train), EventData(tok, val)
    if train_data.tokens < 2 * (cfg.block_size + 1):
        raise BadInput(f"{cfg.data!r} is too small for --block-size {cfg.block_size} ({train_data.tokens} tokens)")
    style = "chorale" if voices == 4 else "folk"
    extra = {"corpus": cfg.data, "style": style, "meters": sorted({p.meter for p in train}, key=list(METERS).index),
             "pieces": {"train": len(train), "val": len(val), "skipped": skipped},
             "tokens": {"train": train_data.tokens, "val": val_data.tokens}}
    return tok, train_data, val_data, style, extra


class MelodyTrainer(LMTrainer):
    label = "melody"
    default_steps = 4000
    samples_per_run = 4
    sample_every_max = 1000

    def load_data(self) -> None:
        self.tok, self.train_data, self.val_data, self.style, self.extra = prepare(self.cfg)

    def batch(self, step: int):
        """This step's windows: a generator seeded by (seed, step, rank), so resume repeats them."""
        import numpy as np

        rng = np.random.default_rng([self.cfg.seed, step, self.rank])
        x, y = self.train_data.batch(rng, self.cfg.batch, self.cfg.block_size, self.cfg.transpose)
        return x.to(self.device), y.to(self.device)

    def evaluate(self) -> dict:
        seqs = self.val_data.seqs[: self.cfg.eval_pieces or None]
        loss, _ = sequence_loss(self.model, seqs, self.tok, self.cfg.block_size, self.device, self.cfg.batch)
        return {"val_loss": loss, "val_bits_per_token": loss / math.log(2)}

    def sample(self):
        """A 4-bar sample, written as MIDI into RUN/samples/ (and its events into TensorBoard)."""
        import torch

        from yingshe.sequence.melody_data import piece_to_pretty_midi
        from yingshe.sequence.melody_model import MelodyModel, generate
        from yingshe.sequence.melody_tokens import Constraints, Grammar

        was = self.model.training
        mm = MelodyModel(self.model, self.tok, {"style": self.style})
        g = Grammar(self.tok, Constraints(bars=4, key=0, meters=tuple(self.extra["meters"])))
        ids, _ = generate(mm, g, [self.tok.bos], generator=torch.Generator().manual_seed(self.cfg.seed),
                          temperature=0.9, top_p=0.95)
        self.model.train(was)
        piece = self.tok.decode(ids)
        (self.run_dir / "samples").mkdir(parents=True, exist_ok=True)
        piece_to_pretty_midi(piece).write(str(self.run_dir / "samples" / f"step-{self.step:07d}.mid"))
        if self.writer:
            self.writer.add_text("sample", self.tok.describe(ids[:200]), self.step)
        return None


DESCRIPTION = __doc__.split("\n", 1)[1].strip() + """

RUN receives config.json, model.safetensors (the best model by validation loss, tokenizer
inside), checkpoint.safetensors (for --resume), samples/step-N.mid and tb/ (TensorBoard)."""

EPILOG = """\
examples:
  yingshe train melody music21:bach -o runs/bach          (see bach-chorale.recipe.json for the shipped one)
  yingshe train melody music21:folk -o runs/folk --max-minutes 60
  yingshe train melody my_midis/ -o runs/mine --voices 1
  yingshe train melody music21:bach -o runs/bach --resume --max-steps 8000   (continue, and train longer)
  torchrun --nproc_per_node=2 -m yingshe train melody music21:bach -o runs/ddp --device cpu
then: yingshe melody --model runs/bach -o chorale.mid"""

MELODY_COMMAND = TrainCommand("melody", MelodyTrainConfig, MelodyTrainer, DESCRIPTION, EPILOG)
