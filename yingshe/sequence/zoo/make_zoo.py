"""Export a finished `yingshe train poem` run as a shipped model (fp16) with its recipe.

    python yingshe/sequence/zoo/make_zoo.py RUN NAME --command "..." --hardware "..." [--note "..."]

writes yingshe/sequence/zoo/NAME.safetensors (the best model of RUN, weights in float16, the
tokenizer and everything `yingshe poem` needs in its metadata) and NAME.recipe.json (the exact
training command, data, hardware, training time, validation loss in fp32 and as shipped). The
exporter is yingshe/sequence/lm_zoo.py's, shared with the melody models' melody_zoo.py.
"""

from __future__ import annotations

import sys

import torch


def prepare_validation(meta: dict):
    """(score, save, data, evaluation) of a poem run for :func:`yingshe.sequence.lm_zoo.export_run`."""
    from yingshe.sequence.corpus import load_corpus
    from yingshe.sequence.lm import save_lm
    from yingshe.sequence.tokenizer import CharTokenizer
    from yingshe.sequence.train_poem import PoemTrainConfig, encode_docs, evaluate_loss

    cfg = PoemTrainConfig.from_dict(meta["train"])
    # the run's validation split, read with the run's own tokenizer (a --init run's is its init's)
    _, val_docs = load_corpus(cfg.data).split(cfg.val_fraction)
    val_ids = encode_docs(CharTokenizer.from_meta(meta["tokenizer"]), val_docs)
    T = meta["gpt"]["block_size"]

    def score(lm):
        return evaluate_loss(lm.model, val_ids, T, 32, "cpu", stride=T // 2), None

    def save(path, lm, keep):
        return save_lm(path, lm.model, lm.tokenizer, keep, dtype=torch.float16)

    data = {"corpus": cfg.data, "language": meta.get("language"), "documents": meta.get("documents"),
            "tokens": meta.get("tokens"), "val_fraction": cfg.val_fraction,
            "source": "shared/data/corpora (see its MANIFEST.md); not needed at run time"}
    return score, save, data, f"every validation token once, windows of {T} with stride {T // 2}"


def main() -> int:
    from yingshe.sequence.lm import lm_from_tensors
    from yingshe.sequence.lm_zoo import export_run

    return export_run(None, __doc__, load=lambda tensors, meta: lm_from_tensors(tensors, meta, expect_kind="poem"),
                      prepare=prepare_validation, unit="char")


if __name__ == "__main__":
    sys.exit(main())
