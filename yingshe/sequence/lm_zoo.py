"""Export a finished Transformer training run as a shipped model (fp16) with its recipe.

The one exporter behind ``python yingshe/sequence/zoo/make_zoo.py`` (poem runs) and
``python -m yingshe.sequence.melody_zoo`` (melody runs): both take ``RUN NAME --command "..."
--hardware "..." [--note "..."]`` and write yingshe/sequence/zoo/NAME.safetensors (the best model
of RUN, weights in float16, the tokenizer and what sampling needs in its metadata) and
NAME.recipe.json (the exact training command, data, hardware, training time, validation loss in
fp32 and as shipped). What differs between the kinds (how a model file is read and written, the
validation split and how it is scored, what the recipe says of the data) is passed in.
"""

from __future__ import annotations

import argparse
import json
import math
import platform
from pathlib import Path

ZOO_DIR = Path(__file__).resolve().parent / "zoo"


def export_run(argv: list[str] | None, description: str, *, load, prepare, unit: str) -> int:
    """Parse the command line and export its run.

    ``load(tensors, meta)``: the model of a file's contents (float32; with ``.model`` and
    ``.tokenizer``). ``prepare(meta)``, given the run's model metadata, rebuilds its validation
    split and returns ``(score, save, data, evaluation)``: ``score(loaded) -> (nats per token,
    tokens scored or None)``, ``save(path, loaded, meta) -> path`` (in float16), the recipe's
    ``data`` entry and a sentence on how ``score`` reads the split. ``unit``: bits per "char"
    or per "token" in the recipe."""
    import torch

    from yingshe.core.checkpoint import load_tensors

    ap = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("run")
    ap.add_argument("name")
    ap.add_argument("--command", required=True, help="the exact training command")
    ap.add_argument("--hardware", required=True)
    ap.add_argument("--note", default="")
    args = ap.parse_args(argv)

    run = Path(args.run)
    tensors, meta = load_tensors(run / "model.safetensors")
    m32 = load(tensors, meta)
    torch.set_num_threads(1)
    score, save, data, evaluation = prepare(meta)
    loss32, n = score(m32)
    keep = {k: v for k, v in meta.items() if k not in ("gpt", "tokenizer", "model")}
    ZOO_DIR.mkdir(exist_ok=True)
    out = save(ZOO_DIR / f"{args.name}.safetensors", m32, keep | {"name": args.name})
    loss16, _ = score(load(*load_tensors(out)))
    ckpt_meta = load_tensors(run / "checkpoint.safetensors")[1]
    bits = f"bits_per_{unit}"
    recipe = {
        "name": args.name,
        "command": args.command,
        "data": data,
        "model": meta["gpt"] | {"parameters": m32.model.num_params()},
        "training": {"steps": ckpt_meta.get("step"), "best_step": (meta.get("best") or {}).get("step"),
                     "seconds": round(float(ckpt_meta.get("seconds", 0.0)), 1), "config": meta["train"]},
        "validation": ({"tokens": n} if n is not None else {}) | {
            "loss_nats_fp32": round(loss32, 4), f"{bits}_fp32": round(loss32 / math.log(2), 4),
            "loss_nats_fp16": round(loss16, 4), f"{bits}_fp16": round(loss16 / math.log(2), 4),
            "evaluation": evaluation},
        "hardware": args.hardware,
        "software": {"python": platform.python_version(), "torch": torch.__version__.split("+")[0]},
        "file": {"bytes": out.stat().st_size, "dtype": "float16"},
        "note": args.note,
    }
    (ZOO_DIR / f"{args.name}.recipe.json").write_text(json.dumps(recipe, indent=2, ensure_ascii=False) + "\n")
    print(json.dumps(recipe["validation"]), out.stat().st_size, "bytes")
    return 0
