"""The poem Transformer measured against its peers, side by side in one run.

1. Validation bits per character: the Transformer vs an interpolated modified Kneser–Ney 5-gram
   (bench/kneser_ney.py) trained on the same train split and scored on the same validation
   tokens (the model's own tokenizer and split, rebuilt from the corpus exactly as training did).
2. Form and rhyme: N poems per form from the shipped model; the share with the exact form and
   the share whose rhyme holds (Chinese: read in context by pypinyin's phrase dictionary, which
   is stricter than the per-character table the decoder uses; English: CMUdict).
3. Memorisation: the share of generated lines found verbatim in the training corpus, and the
   longest span of a generated poem that appears verbatim in it.
4. Training throughput: our trainer (yingshe train poem) vs a bare nanoGPT-style loop (plain
   AdamW, the same model, batch, data and threads), interleaved trials, medians.
5. Sampling throughput: tokens per second of unconstrained ``generate`` and of the constrained
   poem writer (all candidates counted).
6. Sonnet coherence (with form): does a sonnet hold one thought? How much more alike its own
   quatrains and couplet are (MiniLM sentence embeddings) than parts of two different sonnets,
   next to the same number for Shakespeare's sonnets (see :func:`coherence`).

    python bench/poem.py                       # everything, both shipped models
    python bench/poem.py --only bpc,form --n 20 --models tang-poem
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

from kneser_ney import KneserNey  # noqa: E402

from yingshe.sequence.lm import load_lm  # noqa: E402
from yingshe.sequence.train_poem import PoemTrainConfig, encode_docs, evaluate_loss  # noqa: E402

FORMS = {"zh": ["wuyan-jueju", "qiyan-jueju", "wuyan-lushi", "qiyan-lushi"], "en": ["quatrain", "sonnet"]}


def rebuild_split(lm, val_fraction: float = 0.0):
    """(train docs, val docs, train ids, val ids) exactly as the model's training run had them
    (or with another ``val_fraction``: the split is by a hash of each poem, so a smaller share
    holds out a subset of a larger one's validation poems, unseen by both models)."""
    from yingshe.sequence.corpus import load_corpus

    cfg = PoemTrainConfig.from_dict(lm.meta["train"])
    corpus = load_corpus(cfg.data)
    train_docs, val_docs = corpus.split(val_fraction or cfg.val_fraction)
    tok = lm.tokenizer
    return train_docs, val_docs, encode_docs(tok, train_docs), encode_docs(tok, val_docs), cfg


# --------------------------------------------------------------------------- 1. bits per character

def novel_docs(train_docs, val_docs, language: str):
    """The validation poems that share no line with any training poem. The Tang corpus holds
    many poems twice (under two authors, or as variants): 108 of the tang-poem model's 935
    validation poems have half their lines or more in the training split, which an n-gram model
    simply looks up. These are left out here, so the comparison is about writing new verse."""
    from yingshe.sequence.corpus import zh_lines

    split = zh_lines if language == "zh" else (lambda body: body.splitlines())
    seen = {x for d in train_docs for x in split(d.body)}
    return [d for d in val_docs if not any(x in seen for x in split(d.body))]


def bench_bpc(lm, split) -> dict:
    train_docs, val_docs, train_ids, val_ids, cfg = split
    T = lm.model.config.block_size
    S = T // 2
    single = np.array([len(t) == 1 for t in lm.tokenizer.tokens])
    t0 = time.perf_counter()
    kn = KneserNey(5, len(lm.tokenizer)).fit([train_ids.numpy()])
    t_kn = time.perf_counter() - t0
    novel = novel_docs(train_docs, val_docs, lm.meta["language"])
    out = {"kn5_fit_seconds": t_kn, "val_docs": len(val_docs), "novel_val_docs": len(novel)}
    for name, ids in (("all", val_ids), ("novel", encode_docs(lm.tokenizer, novel))):
        n = len(ids) - 1
        n_scored = T + ((n - T) // S) * S  # the Transformer scores exactly tokens 1 .. n_scored
        t0 = time.perf_counter()
        loss = evaluate_loss(lm.model, ids, T, 32, lm.device, stride=S)
        t_tf = time.perf_counter() - t0
        lp = kn.log_probs(ids[: n_scored + 1].numpy(), start=1)
        chars = single[ids[1:n_scored + 1].numpy()]
        tf_bpc, kn_bpc = loss / math.log(2), float(-lp.mean() / math.log(2))
        out[name] = {"tokens": int(n_scored), "transformer_bpc": tf_bpc, "kn5_bpc": kn_bpc, "ratio": tf_bpc / kn_bpc,
                     "kn5_bpc_verse_chars_only": float(-lp[chars].mean() / math.log(2)), "transformer_seconds": t_tf}
    return out


# --------------------------------------------------------------------------- 2-3. form, rhyme, memorisation

def generate(lm, form: str, n: int, first: int = 0, **kw) -> list[dict]:
    """Poems of seeds first .. n-1, each with its form and rhyme check."""
    from yingshe.sequence.chinese import FORMS as ZH
    from yingshe.sequence.chinese import check_poem, write_chinese
    from yingshe.sequence.english import check_english, format_english, write_english

    out = []
    for seed in range(first, n):
        g = torch.Generator().manual_seed(seed)
        t0 = time.perf_counter()
        if form in ZH:
            p = write_chinese(lm, form, generator=g, **kw)
            text = p.text()
            res = check_poem(text, form)
            lines = p.lines
        else:
            p = write_english(lm, form, generator=g, **kw)
            text = format_english("", p["lines"], form)
            res = check_english(text, p["scheme"])
            lines = p["lines"]
            res["repaired"] = p["repaired"]
        out.append({"seed": seed, "text": text, "lines": lines, "check": res, "seconds": time.perf_counter() - t0})
    return out


def _norm_en(line: str) -> str:
    import re

    return " ".join(re.findall(r"[a-z']+", line.lower()))


def memorisation(poems: list[dict], train_docs, language: str) -> dict:
    """Share of generated lines verbatim in the training corpus; longest copied span (characters)."""
    from yingshe.sequence.corpus import zh_lines

    if language == "zh":
        corpus_lines = {x for d in train_docs for x in zh_lines(d.body)}
        corpus_text = "\n".join(d.body for d in train_docs)
        texts = ["".join(p["text"].splitlines()[2:]) for p in poems]  # body with its punctuation
        norm = lambda s: s  # noqa: E731
    else:
        corpus_lines = {_norm_en(x) for d in train_docs for x in d.body.splitlines()}
        corpus_text = "\n".join(_norm_en(x) for d in train_docs for x in d.body.splitlines())
        texts = ["\n".join(_norm_en(x) for x in p["lines"]) for p in poems]
        norm = _norm_en
    lines = [norm(x) for p in poems for x in p["lines"]]
    copied = [x for x in lines if x in corpus_lines]
    # Grow L one character at a time, updating each window's polynomial hash in place
    # (h_{L+1}[i] = h_L[i]·B + a[i+L], O(n) per L), and stop at the first L no poem shares.
    # The hashes of length-1 windows are the characters themselves; a text shorter than L has none.
    longest = [0] * len(texts)
    example = [""] * len(texts)
    corpus = np.frombuffer(corpus_text.encode("utf-32-le"), dtype=np.uint32)
    arrs = [np.frombuffer(t.encode("utf-32-le"), dtype=np.uint32) for t in texts]
    hc, hts = corpus.astype(np.uint64), [a.astype(np.uint64) for a in arrs]
    for L in range(1, 4):
        hc, hts = _extend(hc, corpus, L), [_extend(h, a, L) for h, a in zip(hts, arrs)]
    L = 4
    while True:
        ref = np.unique(hc)
        hit_any = False
        for i, h in enumerate(hts):
            if not len(h):
                continue
            k = np.minimum(np.searchsorted(ref, h), len(ref) - 1)  # ref is sorted: no np.isin re-sort
            found = ref[k] == h
            if found.any():
                hit_any = True
                longest[i] = L
                j = int(np.argmax(found))
                example[i] = texts[i][j:j + L]
        if not hit_any or L >= min(400, len(corpus)):
            break
        hc = _extend(hc, corpus, L)
        hts = [_extend(h, a, L) for h, a in zip(hts, arrs)]
        L += 1
    best = int(np.argmax(longest))
    return {"lines": len(lines), "copied_lines": len(copied), "copied_share": len(copied) / max(1, len(lines)),
            "copied_examples": sorted(set(copied))[:8], "longest_span": longest[best],
            "longest_span_text": example[best], "median_longest_span": float(np.median(longest))}


def _extend(h: np.ndarray, arr: np.ndarray, L: int) -> np.ndarray:
    """Hashes of arr's windows of length L + 1 from those of length L (len(h) = max(0, len(arr) - L + 1))."""
    with np.errstate(over="ignore"):
        return h[:-1] * np.uint64(1_000_003) + arr[L:L + max(0, len(h) - 1)].astype(np.uint64)


# --------------------------------------------------------------------------- 4. training throughput

def bench_training(lm, split, steps: int, trials: int, threads: int) -> dict:
    from yingshe.core.progress import CallbackProgress
    from yingshe.nets.transformer import GPT, GPTConfig
    from yingshe.sequence.train_poem import PoemTrainer

    _, _, train_ids, _, cfg = split
    torch.set_num_threads(threads)
    gcfg = GPTConfig.from_dict(lm.meta["gpt"])
    B, T = cfg.batch, gcfg.block_size

    def bare() -> float:
        """nanoGPT's train.py reduced to its loop: random windows, forward, backward, clip, AdamW."""
        torch.manual_seed(0)
        model = GPT(gcfg)
        model.train()
        opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, betas=(0.9, cfg.beta2), weight_decay=cfg.weight_decay)
        offsets = torch.arange(T + 1)
        stamps = []
        for _ in range(steps):
            ix = torch.randint(len(train_ids) - T - 1, (B,))
            w = train_ids[ix[:, None] + offsets]
            _, loss = model(w[:, :-1], w[:, 1:])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
            opt.step()
            stamps.append(time.perf_counter())
        return (len(stamps) - 3) * B * T / (stamps[-1] - stamps[2])  # tokens/s after 3 warm-up steps

    def ours(run_dir: Path) -> float:
        stamps = []
        c = PoemTrainConfig.from_dict(lm.meta["train"] | {"out": str(run_dir), "max_steps": steps,
                                                          "eval_every": 10 ** 6, "sample_every": 10 ** 6,
                                                          "ckpt_every": 10 ** 6, "log_every": 10 ** 6,
                                                          "eval_tokens": T, "threads": threads, "device": "cpu"})
        tr = PoemTrainer(c, progress=CallbackProgress(on_update=lambda *a, **k: stamps.append(time.perf_counter())))
        tr.train()
        # one update per step; the last one also paid for the final evaluation and checkpoint
        return (len(stamps) - 4) * B * T / (stamps[-2] - stamps[2])

    import tempfile

    bare_runs, our_runs = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(trials):
            bare_runs.append(bare())
            our_runs.append(ours(Path(tmp) / f"run{i}"))
    b, o = statistics.median(bare_runs), statistics.median(our_runs)
    return {"steps_per_trial": steps, "trials": trials, "threads": threads, "batch": B, "block_size": T,
            "bare_tokens_per_s": b, "trainer_tokens_per_s": o, "ratio": o / b,
            "bare_runs": bare_runs, "trainer_runs": our_runs}


# --------------------------------------------------------------------------- 5. sampling throughput

def bench_sampling(lm, form: str, threads: int, candidates: int = 8, n: int = 5) -> dict:
    torch.set_num_threads(threads)
    tok = lm.tokenizer
    start = torch.tensor([[tok.bos]] * candidates)
    new = min(100, lm.model.config.block_size - 1)
    t0 = time.perf_counter()
    for s in range(n):
        lm.model.generate(start, new, temperature=0.8, top_p=0.95, generator=torch.Generator().manual_seed(s))
    free = n * candidates * new / (time.perf_counter() - t0)
    t0 = time.perf_counter()
    poems = generate(lm, form, n, candidates=candidates, temperature=0.8, top_p=0.95)
    dt = time.perf_counter() - t0
    per_poem = sum(len(p["text"]) for p in poems) / n
    return {"unconstrained_tokens_per_s": free, "constrained_tokens_per_s": n * candidates * per_poem / dt,
            "seconds_per_poem": dt / n, "candidates": candidates, "form": form}


# --------------------------------------------------------------------------- main

def sonnet_parts(lines: list[str]) -> list[str]:
    """A 14-line sonnet's three quatrains and its couplet, each as one text."""
    return [" ".join(x.strip() for x in lines[a:b]) for a, b in ((0, 4), (4, 8), (8, 12), (12, 14))]


def coherence(sonnets: list[list[str]]) -> dict:
    """Does a sonnet hold one thought? A proxy: each sonnet's four parts (three quatrains and the
    couplet) are embedded with MiniLM (the sentence encoder our text→image models read prompts
    with); ``within`` is the mean cosine between two parts of one sonnet, ``across`` between parts
    of two different sonnets of the same set. ``within - across`` is what a sonnet's parts share
    beyond the set's common words and manner: 0 for parts thrown together at random."""
    from yingshe.diffusion.text import load_minilm

    sonnets = [s for s in sonnets if len(s) == 14]
    n = len(sonnets)
    e = load_minilm().sentence([p for s in sonnets for p in sonnet_parts(s)]).view(n, 4, -1)  # (n, 4, 384)
    sim = torch.einsum("ipd,jqd->ijpq", e, e)  # (n, n, 4, 4): every part against every part
    own = sim[torch.arange(n), torch.arange(n)]  # (n, 4, 4): each sonnet's parts against each other
    within = own[:, ~torch.eye(4, dtype=torch.bool)].mean(1)  # (n,): its 12 pairs of two parts
    across = (sim.sum((1, 2, 3)) - own.sum((1, 2))) / (16 * (n - 1))  # (n,): against the other sonnets
    per = within - across  # every sonnet counts alike, so the means of these are the set's
    return {"sonnets": n, "within": float(within.mean()), "across": float(across.mean()),
            "coherence": float(per.mean()), "coherence_sem": float(per.std() / math.sqrt(n))}


def form_stats(name: str, form: str, poems: list[dict], train_docs, language: str) -> dict:
    mem = memorisation(poems, train_docs, language)
    f = {"n": len(poems), "form_exact": sum(p["check"]["form"] for p in poems) / len(poems),
         "rhyme_correct": sum(p["check"]["rhyme"] for p in poems) / len(poems), "memorisation": mem,
         "seconds_per_poem": float(np.mean([p["seconds"] for p in poems]))}
    if language == "en":
        f["lines_in_meter"] = float(np.mean([p["check"]["meter"] for p in poems]))
        f["rhymes_repaired_per_poem"] = float(np.mean([p["check"]["repaired"] for p in poems]))
    print(f"{name} {form:12s} n={len(poems)}  form {f['form_exact']:.0%}  rhyme {f['rhyme_correct']:.0%}  copied "
          f"lines {mem['copied_share']:.1%} ({mem['copied_lines']}/{mem['lines']})  longest copied span "
          f"{mem['longest_span']} chars {mem['longest_span_text']!r}", flush=True)
    if form == "sonnet":
        from yingshe.sequence.corpus import load_corpus

        real = [d.body.splitlines() for d in load_corpus("english").docs if d.tag == "<sonnet>"]
        f["coherence"], f["coherence_real"] = coherence([p["lines"] for p in poems]), coherence(real)
        c, r = f["coherence"], f["coherence_real"]
        print(f"{name} sonnet coherence (MiniLM, parts of one sonnet minus parts of two): {c['coherence']:.3f} "
              f"± {c['coherence_sem']:.3f}   Shakespeare's {r['sonnets']} sonnets: {r['coherence']:.3f} "
              f"± {r['coherence_sem']:.3f}", flush=True)
    return f


def merge(files: list[str], samples: str, out_json: str, candidates: int) -> int:
    """Combine the poems of several --only form runs (seed ranges of one form in parallel)."""
    results: dict = {}
    for fname in files:
        data = json.loads(Path(fname).read_text())
        for name, r in data.items():
            dst = results.setdefault(name, {k: v for k, v in r.items() if k != "poems"})
            for k, v in r.items():
                if k not in ("poems", "forms"):
                    dst[k] = v
            for form, poems in r.get("poems", {}).items():
                dst.setdefault("poems", {}).setdefault(form, []).extend(poems)
    md = ["# Poems from the shipped models", "",
          f"`python bench/poem.py --only form` (candidates {candidates}, temperature 0.8, top-p 0.95): the first "
          "three seeds of each form, unedited.", ""]
    for name, r in results.items():
        if not r.get("poems"):
            continue
        lm = load_lm(name, expect_kind="poem")
        train_docs = rebuild_split(lm)[0]
        r["forms"] = {}
        for form, poems in r.pop("poems").items():
            poems.sort(key=lambda p: p["seed"])
            r["forms"][form] = form_stats(name, form, poems, train_docs, lm.meta["language"])
            md += [f"## {name}: {form}", ""]
            for p in poems[:3]:
                md += [f"seed {p['seed']}:", "", "```", p["text"].rstrip(), "```", ""]
    if out_json:
        Path(out_json).write_text(json.dumps(results, indent=2, ensure_ascii=False, default=str))
    if samples:
        Path(samples).write_text("\n".join(md) + "\n", encoding="utf-8")
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", default="tang-poem,english-verse")
    ap.add_argument("--only", default="bpc,form,train,sample")
    ap.add_argument("--n", type=int, default=100, help="poems per form")
    ap.add_argument("--forms", default="", help="comma list of forms (default: all of each model's language)")
    ap.add_argument("--seeds", default="", help="A:B, the seeds of this run's poems (default 0:N); for parallel "
                                                "runs whose JSON files --merge combines")
    ap.add_argument("--val-fraction", type=float, default=0.0,
                    help="score bits/char on this split for every model (default: each model's own); compare two "
                         "models on the smaller of their shares, which neither was trained on")
    ap.add_argument("--candidates", type=int, default=8)
    ap.add_argument("--steps", type=int, default=25, help="training steps per throughput trial")
    ap.add_argument("--trials", type=int, default=3)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--json", default="", help="write every number (and, with form, every poem) to this file")
    ap.add_argument("--samples", default="", help="write a few poems of each form (markdown) to this file")
    ap.add_argument("--merge", nargs="*", default=None, metavar="JSON", help="combine the poems of earlier runs")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    if args.merge is not None:
        return merge(args.merge, args.samples, args.json, args.candidates)
    only = set(args.only.split(","))
    results: dict = {}
    a, b = (int(x) for x in args.seeds.split(":")) if args.seeds else (0, args.n)
    for name in args.models.split(","):
        lm = load_lm(name, expect_kind="poem")
        r = results[name] = {"step": lm.meta.get("step"), "parameters": lm.model.num_params()}
        split = rebuild_split(lm, args.val_fraction) if only & {"bpc", "train"} else None
        print(f"== {name} (step {r['step']}, {r['parameters'] / 1e6:.2f} M parameters)", flush=True)
        if "bpc" in only:
            r["bpc"] = bench_bpc(lm, split)
            for part in ("all", "novel"):
                bb = r["bpc"][part]
                print(f"validation bits/char, {part} val poems ({bb['tokens']} tokens): Transformer "
                      f"{bb['transformer_bpc']:.3f}  KN-5 {bb['kn5_bpc']:.3f}  ratio {bb['ratio']:.3f}", flush=True)
        if "form" in only:
            forms = [f for f in (args.forms.split(",") if args.forms else FORMS[lm.meta["language"]])
                     if f in FORMS[lm.meta["language"]]]
            r["poems"] = {}
            for form in forms:
                poems = generate(lm, form, b, candidates=args.candidates, temperature=0.8, top_p=0.95, first=a)
                r["poems"][form] = poems
                print(f"{form}: {len(poems)} poems, {np.mean([p['seconds'] for p in poems]):.1f} s each", flush=True)
        if "train" in only:
            r["train"] = bench_training(lm, split, args.steps, args.trials, args.threads)
            t = r["train"]
            print(f"training tokens/s (median of {t['trials']}): trainer {t['trainer_tokens_per_s']:.0f}  bare loop "
                  f"{t['bare_tokens_per_s']:.0f}  ratio {t['ratio']:.3f}", flush=True)
        if "sample" in only:
            r["sample"] = bench_sampling(lm, FORMS[lm.meta['language']][0], args.threads, args.candidates)
            s_ = r["sample"]
            print(f"sampling tokens/s: unconstrained {s_['unconstrained_tokens_per_s']:.0f}  constrained "
                  f"{s_['constrained_tokens_per_s']:.0f}  ({s_['seconds_per_poem']:.2f} s per {s_['form']}, "
                  f"{s_['candidates']} candidates)", flush=True)
    out = args.json or ("/tmp/poem-bench.json" if "form" in only else "")
    if out:
        Path(out).write_text(json.dumps(results, indent=2, ensure_ascii=False, default=str))
    if "form" in only and not args.seeds:
        return merge([out], args.samples, args.json, args.candidates)
    return 0


if __name__ == "__main__":
    sys.exit(main())
