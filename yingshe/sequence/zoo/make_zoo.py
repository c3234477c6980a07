"""Export a finished `yingshe train poem` run as a shipped model (fp16) with its recipe.

    python yingshe/sequence/zoo/make_zoo.py RUN NAME --command "..." --hardware "..." [--note "..."]

writes yingshe/sequence/zoo/NAME.safetensors (the best model of RUN, weights in float16, the
tokenizer and everything `yingshe poem` needs in its metadata) and NAME.recipe.json (the exact
training command, data, hardware, training time, validation loss in fp32 and as shipped).
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import sys
from pathlib import Path

import torch

HERE = Path(__file__).resolve().parent


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("run")
    ap.add_argument("name")
    ap.add_argument("--command", required=True, help="the exact training command")
    ap.add_argument("--hardware", required=True)
    ap.add_argument("--note", default="")
    args = ap.parse_args()

    from yingshe.core.checkpoint import load_tensors
    from yingshe.sequence.lm import lm_from_tensors, save_lm
    from yingshe.sequence.train_poem import PoemTrainConfig, evaluate_loss, prepare

    run = Path(args.run)
    tensors, meta = load_tensors(run / "model.safetensors")
    lm32 = lm_from_tensors(tensors, meta, expect_kind="poem")
    cfg = PoemTrainConfig.from_dict(meta["train"])
    torch.set_num_threads(1)
    *_, val_ids, _ = prepare(cfg)
    T = lm32.model.config.block_size
    loss32 = evaluate_loss(lm32.model, val_ids, T, 32, "cpu", stride=T // 2)
    keep = {k: v for k, v in meta.items() if k not in ("gpt", "tokenizer", "model")}
    out = save_lm(HERE / f"{args.name}.safetensors", lm32.model, lm32.tokenizer, keep | {"name": args.name},
                  dtype=torch.float16)
    t16, m16 = load_tensors(out)
    lm16 = lm_from_tensors(t16, m16, expect_kind="poem")
    loss16 = evaluate_loss(lm16.model, val_ids, T, 32, "cpu", stride=T // 2)
    ckpt_meta = load_tensors(run / "checkpoint.safetensors")[1]
    recipe = {
        "name": args.name,
        "command": args.command,
        "data": {"corpus": cfg.data, "language": meta.get("language"), "documents": meta.get("documents"),
                 "tokens": meta.get("tokens"), "val_fraction": cfg.val_fraction,
                 "source": "shared/data/corpora (see its MANIFEST.md); not needed at run time"},
        "model": meta["gpt"] | {"parameters": lm32.model.num_params()},
        "training": {"steps": ckpt_meta.get("step"), "best_step": meta.get("best", {}).get("step"),
                     "seconds": round(float(ckpt_meta.get("seconds", 0.0)), 1), "config": meta["train"]},
        "validation": {"loss_nats_fp32": round(loss32, 4), "bits_per_char_fp32": round(loss32 / math.log(2), 4),
                       "loss_nats_fp16": round(loss16, 4), "bits_per_char_fp16": round(loss16 / math.log(2), 4),
                       "evaluation": f"every validation token once, windows of {T} with stride {T // 2}"},
        "hardware": args.hardware,
        "software": {"python": platform.python_version(), "torch": torch.__version__.split("+")[0]},
        "file": {"bytes": out.stat().st_size, "dtype": "float16"},
        "note": args.note,
    }
    (HERE / f"{args.name}.recipe.json").write_text(json.dumps(recipe, indent=2, ensure_ascii=False) + "\n")
    print(json.dumps(recipe["validation"]), out.stat().st_size, "bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
