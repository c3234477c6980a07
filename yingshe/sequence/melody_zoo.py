"""Export a finished ``yingshe train melody`` run as a shipped model (fp16) with its recipe.

    python -m yingshe.sequence.melody_zoo RUN NAME --command "..." --hardware "..." [--note "..."]

writes yingshe/sequence/zoo/NAME.safetensors (the best model of RUN, weights in float16, the
tokenizer and what ``yingshe melody`` needs in its metadata) and NAME.recipe.json (the exact
training command, data, hardware, training time, validation loss in fp32 and as shipped). The
exporter is yingshe/sequence/lm_zoo.py's, shared with the poem models' make_zoo.py.
"""

from __future__ import annotations

import sys


def prepare_validation(meta: dict):
    """(score, save, data, evaluation) of a melody run for :func:`yingshe.sequence.lm_zoo.export_run`."""
    import torch

    from yingshe.sequence.melody_model import save_model
    from yingshe.sequence.melody_train import MelodyTrainConfig, prepare, sequence_loss

    cfg = MelodyTrainConfig.from_dict(meta["train"])
    tok, _, val, style, _ = prepare(cfg)
    T = meta["gpt"]["block_size"]

    def score(mm):
        return sequence_loss(mm.model, val.seqs, tok, T, "cpu")

    def save(path, mm, keep):
        return save_model(path, mm.model, mm.tokenizer, style, keep, dtype=torch.float16)

    data = {"corpus": cfg.data, "pieces": meta.get("pieces"), "tokens": meta.get("tokens"),
            "meters": meta.get("meters"), "val_fraction": cfg.val_fraction,
            "augmentation": "every window moved to a random key of twelve (-5..+6 semitones)" if cfg.transpose
            else "none",
            "source": "music21's corpus (installed with music21); not needed at run time"}
    evaluation = ("every token of every held-out piece once, in its own key, with the context "
                  f"sampling gives it (header + latest bars, {T} tokens)")
    return score, save, data, evaluation


def main(argv: list[str] | None = None) -> int:
    from yingshe.sequence.lm_zoo import export_run
    from yingshe.sequence.melody_model import model_from_tensors

    return export_run(argv, __doc__, load=model_from_tensors, prepare=prepare_validation, unit="token")


if __name__ == "__main__":
    sys.exit(main())
