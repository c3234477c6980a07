"""Text → image: the quality bar and the speed of our own model (issue 10).

Quality, for prompts that name an emoji in plain words ("a slice of pizza", "a blue heart"):

- hit@10: the named emoji is among the 10 nearest of all 3,786 emoji to the generated picture in
  VGG19 feature space (the FID-VGG19 features: unit-normalised channel vectors of relu1_2 ...
  relu5_4, averaged over space; here at the emoji's own 64 px). The bar: at least half of the
  prompts. Chance is 10/3,786 = 0.26 % (a skin-tone variant of the named emoji counts as it).
- the autoencoder's ceiling: hit@10 of the named emoji themselves after the model's own
  autoencoder (encode, decode): what a UNet that drew every latent exactly would score;
- FID-VGG19 of the generated pictures against the 3,786 emoji (same features);
- CLIP R-precision of the generated pictures (their prompt against 99 other emoji names, our
  CLIP), beside the same number for the real emoji (the ceiling our CLIP allows).

Speed: one 64 px picture, 25 steps with guidance (the default sampler, Euler a), against the 2 s bar; the UNet's
and decoder's FLOPs (torch's FLOP counter) per second against this machine's conv ceiling (one
large 3×3 convolution measured in the same run).

    python bench/diffusion.py --emoji data/emoji/node_modules/emoji-datasource-google \\
        --model yingshe-emoji-64 --clip yingshe-clip-emoji --prompts 100 --out bench/results
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

NAMED = ("slice of pizza", "blue heart")


def emoji_set(folder: str):
    from yingshe.diffusion import data as D

    ex = D.load_emoji(Path(folder))
    pics = D.pictures(ex, 64)
    return ex, pics


def real_features(ex, pics, feats, cache: Path | None):
    key = hashlib.sha256(("|".join(str(e.file.name) for e in ex) + feats.VERSION + "64").encode()).hexdigest()[:16]
    path = cache / f"emoji-vgg-{key}.npy" if cache else None
    if path and path.is_file():
        return np.load(path)
    f = feats(pics.float() / 255)
    if path:
        path.parent.mkdir(parents=True, exist_ok=True)
        np.save(path, f)
    return f


def choose_prompts(ex, n: int, seed: int = 0):
    """(prompt, indices of the named emoji's pictures): the two named examples, then base emoji
    drawn at random from every category but 'Component' (skin swatches, hair parts)."""
    by_name: dict[str, list[int]] = {}
    for i, e in enumerate(ex):
        by_name.setdefault(e.meta.get("name") or "", []).append(i)
    bases = [i for i, e in enumerate(ex) if not e.suffix and e.group != "Component"]
    rng = random.Random(seed)
    rng.shuffle(bases)
    chosen = [i for i in bases if ex[i].phrases[0] in NAMED] + [i for i in bases if ex[i].phrases[0] not in NAMED]
    out = []
    for i in chosen[:n]:
        phrase = ex[i].phrases[0]
        art = "an" if phrase[0] in "aeiou" else "a"
        prompt = phrase if phrase.startswith(("flag of", "the ")) else f"{art} {phrase}"
        out.append((prompt, by_name[ex[i].meta.get("name") or ""]))
    return out


def generate(prompts, model: str, steps: int, guidance: float, threads: int, clip: str, rerank: int = 0,
             scheduler: str | None = None, seed_offset: int = 0):
    from yingshe.core import registry, sources

    m = registry.get("diffuse")
    imgs, secs = [], []
    for k, p in enumerate(prompts):
        r = m.recipe.from_dict({"model": model, "steps": steps, "guidance": guidance, "seed": k + seed_offset,
                                "clip": clip, "rerank": rerank} | ({"scheduler": scheduler} if scheduler else {}))
        t = time.perf_counter()
        art = m.run(r, {"prompt": [sources.from_text(p)]}, threads=threads)
        secs.append(time.perf_counter() - t)
        imgs.append(art.image)
        print(f"  [{k + 1}/{len(prompts)}] {p!r}: {secs[-1]:.2f} s", file=sys.stderr, flush=True)
    return imgs, secs


def distances(feats, real) -> np.ndarray:
    """(P, N) squared distances from P pictures' features to the N emoji's."""
    return ((feats[:, None, :] - real[None, :, :]) ** 2).sum(-1)


def hits_at_10(d, chosen) -> list[bool]:
    """For each prompt, whether one of its emoji's pictures is among the 10 nearest (d: (P, N) distances)."""
    nearest = np.argsort(d, axis=1)[:, :10]
    return [bool(set(nearest[k].tolist()) & set(idx)) for k, (_, idx) in enumerate(chosen)]


@torch.no_grad()
def autoencoded(model: str, pics) -> torch.Tensor:
    """(P, 3, 64, 64) uint8 pictures through the model's autoencoder (posterior mean), in [0, 1]."""
    from yingshe.diffusion.pipeline import load

    vae = load(model).pipe.vae
    x = pics.float() / 127.5 - 1
    return (vae.decode(vae.encode(x).latent_dist.mean).sample.clamp(-1, 1) + 1) / 2


def registry_default(name: str):
    from yingshe.core import registry

    return getattr(registry.get("diffuse").recipe(), name)


def to_tensor(imgs):
    return torch.stack([torch.from_numpy(np.asarray(i.convert("RGB"), np.float32).copy()).permute(2, 0, 1)
                        for i in imgs]) / 255


def speed(model: str, threads: int, repeats: int = 3) -> dict:
    """Seconds for one 64 px picture (25 steps, guidance 5, the default sampler) and FLOP/s vs the
    conv ceiling."""
    from torch.utils.flop_counter import FlopCounterMode

    from yingshe.core import registry, sources
    from yingshe.diffusion import pipeline as P

    torch.set_num_threads(threads)
    m = registry.get("diffuse")
    r = m.recipe.from_dict({"model": model, "steps": 25, "guidance": 5.0, "clip": ""})
    run = lambda: m.run(r, {"prompt": [sources.from_text("a slice of pizza")]}, threads=threads)  # noqa: E731
    run()  # warm-up: loads, allocator
    times, cpu = [], []
    for _ in range(repeats):
        t, c = time.perf_counter(), time.process_time()
        run()
        times.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
    loaded = P.load(model)
    pipe = loaded.pipe
    size = loaded.default_size
    f = pipe.vae_scale_factor
    z = torch.randn(2, pipe.unet.config.in_channels, size // f, size // f)
    states = torch.zeros(2, loaded.text_length, 384)
    with torch.no_grad(), FlopCounterMode(display=False) as fc:
        pipe.unet(z, torch.tensor([500, 500]), encoder_hidden_states=states)
    unet_flops = fc.get_total_flops()
    with torch.no_grad(), FlopCounterMode(display=False) as fc2:
        pipe.vae.decode(z[:1])
    total = 25 * unet_flops + fc2.get_total_flops()
    # the machine's conv ceiling: one large 3×3 convolution, same threads, same run
    x, w = torch.randn(8, 128, 64, 64), torch.randn(128, 128, 3, 3)
    torch.nn.functional.conv2d(x, w, padding=1)
    ct = []
    for _ in range(3):
        t = time.perf_counter()
        torch.nn.functional.conv2d(x, w, padding=1)
        ct.append(time.perf_counter() - t)
    conv_gflops = 2 * 8 * 128 * 128 * 9 * 64 * 64 / min(ct) / 1e9  # best of 3: the least disturbed
    med = statistics.median(times)
    med_cpu = statistics.median(cpu)
    gf = total / med / 1e9
    return {"threads": threads, "seconds": [round(t, 3) for t in times], "median_s": round(med, 3),
            "cpu_seconds": [round(c, 3) for c in cpu], "median_cpu_s": round(med_cpu, 3),
            "bar_s": 2.0, "meets_bar": med <= 2.0, "meets_bar_in_cpu_time": med_cpu / threads <= 2.0, "gflop_per_image": round(total / 1e9, 2),
            "unet_gflop_per_cfg_call": round(unet_flops / 1e9, 3), "gflop_s": round(gf, 2), "gflop_s_cpu_time": round(total / (med_cpu / threads) / 1e9, 2),
            "conv_ceiling_gflop_s": round(conv_gflops, 2), "ratio_to_ceiling": round(gf / conv_gflops, 3)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--emoji", required=True, help="the emoji-datasource-google package folder")
    ap.add_argument("--model", default="yingshe-emoji-64")
    ap.add_argument("--clip", default="yingshe-clip-emoji")
    ap.add_argument("--prompts", type=int, default=100)
    ap.add_argument("--steps", type=int, default=25)
    ap.add_argument("--guidance", type=float, default=5.0)
    ap.add_argument("--scheduler", default=None, help="sampler (diffuse --scheduler) [default: diffuse's]")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--rerank", type=int, default=0, help="sample N per prompt, keep our CLIP's best (diffuse --rerank)")
    ap.add_argument("--candidates", type=int, default=0,
                    help="also draw N pictures per prompt (the seeds --rerank N draws) and report how often any of "
                         "them, and our CLIP's pick, hits: the ceiling of reranking")
    ap.add_argument("--cache", default=None, help="folder to keep the emoji's VGG19 features in")
    ap.add_argument("--out", default=str(ROOT / "bench" / "results"))
    ap.add_argument("--skip-quality", action="store_true")
    ap.add_argument("--skip-speed", action="store_true")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    out = Path(a.out)
    res: dict = {"model": a.model, "clip": a.clip, "torch": torch.__version__}
    if not a.skip_quality:
        from yingshe.diffusion.clip import load_clip, r_precision
        from yingshe.generative.evaluate import VGGFeatures, fid
        from yingshe.generative.sample import grid_image

        t0 = time.perf_counter()
        ex, pics = emoji_set(a.emoji)
        feats = VGGFeatures(size=64)
        real = real_features(ex, pics, feats, Path(a.cache) if a.cache else None)
        print(f"emoji features: {real.shape} in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
        chosen = choose_prompts(ex, a.prompts)
        prompts = [p for p, _ in chosen]
        imgs, secs = generate(prompts, a.model, a.steps, a.guidance, a.threads, a.clip if a.rerank > 1 else "",
                              a.rerank, a.scheduler)
        gen = feats(to_tensor(imgs))
        d = distances(gen, real)  # (P, 3786)
        hits = hits_at_10(d, chosen)
        ranks = [int(min(np.where(np.argsort(d[k]) == j)[0][0] for j in idx)) + 1 for k, (_, idx) in enumerate(chosen)]
        res["quality"] = {
            "prompts": len(prompts), "steps": a.steps, "guidance": a.guidance, "rerank": a.rerank,
            "scheduler": a.scheduler or registry_default("scheduler"),
            "hit_at_10": round(sum(hits) / len(hits), 4), "bar": 0.5, "meets_bar": sum(hits) / len(hits) >= 0.5,
            "chance_at_10": round(10 / len(ex), 4), "median_rank_of_named_emoji": statistics.median(ranks),
            "fid_vgg19_64px": round(fid(gen, real), 4), "features": feats.VERSION.replace("128px", "64px"),
            "hit_at_10_by_category": by_category(ex, chosen, hits), "hits": [p for p, h in zip(prompts, hits) if h]}
        # the ceiling the model's own autoencoder allows: hit@10 of the named emoji themselves,
        # encoded and decoded (a UNet that drew each latent perfectly could do no better)
        ae = autoencoded(a.model, torch.stack([pics[idx[0]] for _, idx in chosen]))
        ae_hits = hits_at_10(distances(feats(ae), real), chosen)
        res["quality"]["hit_at_10_autoencoder_ceiling"] = round(sum(ae_hits) / len(ae_hits), 4)
        # FID of real emoji against the rest, as a floor for the same number of pictures
        rng = np.random.default_rng(0)
        pick = rng.choice(len(ex), size=len(prompts), replace=False)
        res["quality"]["fid_vgg19_64px_real_subset"] = round(fid(real[pick], real), 4)
        try:
            clip = load_clip(a.clip)
            names = sorted({e.phrases[0] for e in ex if not e.suffix})
            name_emb = clip.embed_texts(names)
            name_idx = {n: i for i, n in enumerate(names)}

            def rprec(img_emb, own):
                # own text first, then 99 other emoji names (never the same name)
                g = torch.Generator().manual_seed(0)
                hits_ = 0
                for k, n in enumerate(own):
                    others = [j for j in torch.randperm(len(names), generator=g).tolist() if j != name_idx[n]][:99]
                    cand = torch.cat([name_emb[name_idx[n]][None], name_emb[others]])
                    hits_ += int(int(torch.argmax(cand @ img_emb[k])) == 0)
                return hits_ / len(own)

            own = [ex[idx[0]].phrases[0] for _, idx in chosen]
            res["quality"]["clip_r_precision_generated"] = round(rprec(clip.embed_images(imgs), own), 4)
            res["quality"]["clip_r_precision_real"] = round(
                rprec(clip.embed_images([_pil(pics[idx[0]]) for _, idx in chosen]), own), 4)
            scores = (clip.embed_images(imgs) * clip.embed_texts(prompts)).sum(-1) * 100
            res["quality"]["clip_score_mean"] = round(float(scores.clamp(min=0).mean()), 3)
        except Exception as e:  # no CLIP: the other numbers still stand
            res["quality"]["clip_error"] = f"{type(e).__name__}: {e}"
        out.mkdir(parents=True, exist_ok=True)
        if a.candidates > 1:
            res["quality"]["candidates"] = candidates(a, ex, prompts, chosen, imgs, hits, feats, real)
        sheet = grid_image(to_tensor(imgs[:32]), nrow=8)
        sheet.save(out / "diffusion-samples.png")
        (out / "diffusion-samples.txt").write_text("\n".join(f"{i + 1:2d}. {p}" for i, p in enumerate(prompts[:32])) + "\n")
        print(f"quality: {json.dumps(res['quality'])}", file=sys.stderr)
    if not a.skip_speed:
        res["speed"] = [speed(a.model, t) for t in sorted({1, a.threads, 2})]
    print(json.dumps(res, indent=2))
    return 0


def candidates(a, ex, prompts, chosen, first_imgs, first_hits, feats, real) -> dict:
    """N pictures per prompt, seeds k, k+1, ... (what ``--rerank N`` draws): hit@10 of one picture,
    of any of the N (the best a perfect reranker could do), and of the one our CLIP scores best."""
    from yingshe.diffusion.clip import clip_scores, load_clip

    imgs, hits = [first_imgs], [first_hits]
    for j in range(1, a.candidates):
        more, _ = generate(prompts, a.model, a.steps, a.guidance, a.threads, "", 0, a.scheduler, seed_offset=j)
        imgs.append(more)
        hits.append(hits_at_10(distances(feats(to_tensor(more)), real), chosen))
    h = np.array(hits).T  # (P, N)
    clip = load_clip(a.clip)
    scores = np.stack([clip_scores(clip, imgs[j], prompts).numpy() for j in range(a.candidates)], 1)  # (P, N)
    out = {"n": a.candidates, "hit_at_10_one_picture": round(float(h.mean()), 4),
           "hit_at_10_one_picture_by_category": by_category(ex, chosen, h.mean(1))}
    for n in sorted({2, 4, a.candidates}):
        if n <= a.candidates:
            out[f"hit_at_10_any_of_{n}"] = round(float(h[:, :n].any(1).mean()), 4)
            out[f"hit_at_10_clip_pick_of_{n}"] = round(float(h[np.arange(len(h)), scores[:, :n].argmax(1)].mean()), 4)
    return out


def by_category(ex, chosen, hits) -> dict:
    """{category: [hit@10, prompts]} over the prompts of each emoji category (hits: one number per prompt)."""
    groups: dict[str, list[float]] = {}
    for (_, idx), h in zip(chosen, hits):
        groups.setdefault(ex[idx[0]].group, []).append(float(h))
    return {g: [round(sum(v) / len(v), 3), len(v)] for g, v in sorted(groups.items(), key=lambda kv: -len(kv[1]))}


def _pil(t):
    from PIL import Image

    return Image.fromarray(t.permute(1, 2, 0).numpy())


if __name__ == "__main__":
    raise SystemExit(main())
