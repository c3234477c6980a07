"""Export a finished ``yingshe train melody`` run as a shipped model (fp16) with its recipe.

    python -m yingshe.sequence.melody_zoo RUN NAME --command "..." --hardware "..." [--note "..."]

writes yingshe/sequence/zoo/NAME.safetensors (the best model of RUN, weights in float16, the
tokenizer and what ``yingshe melody`` needs in its metadata) and NAME.recipe.json (the exact
training command, data, hardware, training time, validation loss in fp32 and as shipped).
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import sys
from pathlib import Path

ZOO_DIR = Path(__file__).resolve().parent / "zoo"


def main(argv: list[str] | None = None) -> int:
    import torch

    from yingshe.core.checkpoint import load_tensors
    from yingshe.sequence.melody_model import model_from_tensors, save_model
    from yingshe.sequence.melody_train import MelodyTrainConfig, prepare, sequence_loss

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("run")
    ap.add_argument("name")
    ap.add_argument("--command", required=True, help="the exact training command")
    ap.add_argument("--hardware", required=True)
    ap.add_argument("--note", default="")
    args = ap.parse_args(argv)

    run = Path(args.run)
    tensors, meta = load_tensors(run / "model.safetensors")
    mm32 = model_from_tensors(tensors, meta)
    cfg = MelodyTrainConfig.from_dict(meta["train"])
    torch.set_num_threads(1)
    tok, _, val, style, extra = prepare(cfg)
    T = mm32.model.config.block_size
    loss32, n = sequence_loss(mm32.model, val.seqs, tok, T, "cpu")
    keep = {k: v for k, v in meta.items() if k not in ("gpt", "tokenizer", "model", "kind", "format", "style")}
    ZOO_DIR.mkdir(exist_ok=True)
    out = save_model(ZOO_DIR / f"{args.name}.safetensors", mm32.model, mm32.tokenizer, style,
                     keep | {"name": args.name}, dtype=torch.float16)
    mm16 = model_from_tensors(*load_tensors(out))
    loss16, _ = sequence_loss(mm16.model, val.seqs, tok, T, "cpu")
    ckpt_meta = load_tensors(run / "checkpoint.safetensors")[1]
    recipe = {
        "name": args.name,
        "command": args.command,
        "data": {"corpus": cfg.data, "pieces": meta.get("pieces"), "tokens": meta.get("tokens"),
                 "meters": meta.get("meters"), "val_fraction": cfg.val_fraction,
                 "augmentation": "every window moved to a random key of twelve (-5..+6 semitones)" if cfg.transpose
                 else "none",
                 "source": "music21's corpus (installed with music21); not needed at run time"},
        "model": meta["gpt"] | {"parameters": mm32.model.num_params()},
        "training": {"steps": ckpt_meta.get("step"), "best_step": (meta.get("best") or {}).get("step"),
                     "seconds": round(float(ckpt_meta.get("seconds", 0.0)), 1), "config": meta["train"]},
        "validation": {"tokens": n, "loss_nats_fp32": round(loss32, 4),
                       "bits_per_token_fp32": round(loss32 / math.log(2), 4),
                       "loss_nats_fp16": round(loss16, 4), "bits_per_token_fp16": round(loss16 / math.log(2), 4),
                       "evaluation": "every token of every held-out piece once, in its own key, with the context "
                                     f"sampling gives it (header + latest bars, {T} tokens)"},
        "hardware": args.hardware,
        "software": {"python": platform.python_version(), "torch": torch.__version__.split("+")[0]},
        "file": {"bytes": out.stat().st_size, "dtype": "float16"},
        "note": args.note,
    }
    (ZOO_DIR / f"{args.name}.recipe.json").write_text(json.dumps(recipe, indent=2, ensure_ascii=False) + "\n")
    print(json.dumps(recipe["validation"]), out.stat().st_size, "bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
