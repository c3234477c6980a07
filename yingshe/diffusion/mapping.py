"""``diffuse``: text (+ an init picture, + a mask) → picture by latent diffusion.

Two backends behind one mapping, both run by diffusers pipelines:

- our own model (``--model yingshe-emoji-64``, trained here on the Noto emoji with
  ``yingshe train diffusion``): prompts are read by the frozen MiniLM;
- any Stable Diffusion (or other diffusers text→image pipeline) you have weights for: ``--model
  DIR`` (a diffusers folder, offline) or ``--model org/name`` (the hub and its cache, online);
  safetensors only.

Modes follow the inputs: txt2img; img2img with ``--init IMAGE`` (``--strength``: how much is
redrawn); inpainting with ``--init`` and ``--mask`` (white = redraw). Prompts take AUTOMATIC1111's
emphasis (``(golden:1.3)``, ``[dim]``), a negative prompt and a style. Seeds draw noise from a CPU
``torch.Generator``, so a seed gives the same start on every device; ``--batch N`` makes seeds
seed..seed+N-1 (one grid picture), ``--variation-seed``/``--variation-strength`` blend a second
seed's noise in, ``--rerank N`` samples N per picture and keeps the one our CLIP scores best.

Every PNG carries yingshe's record and AUTOMATIC1111's ``parameters`` chunk.
Determinism: bit-exact for the same recipe on the same CPU build; GPUs differ in the last bits.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from yingshe.core.artwork import Artwork
from yingshe.diffusion import prompts
from yingshe.core.errors import BadInput
from yingshe.core.progress import Progress
from yingshe.core.recipe import Recipe, param
from yingshe.core.registry import Example, InputSpec, Mapping, register

SCHEDULER_NAMES = ("dpm++", "dpm++-karras", "ddim", "euler", "euler-a", "heun", "lms", "pndm", "unipc", "ddpm")
STYLE_HELP = "none, emoji, icon, watercolor, ink, oil, pixel-art, sketch, photo, cinematic, or a template with {prompt}"
DEFAULT_MODEL = "yingshe-emoji-64"
_RUN_LOCK = threading.Lock()  # one generation at a time per loaded pipeline (schedulers are swapped in place)

EXAMPLES = """
yingshe diffuse "a slice of pizza" -o pizza.png
yingshe diffuse "a (blue:1.3) heart" --negative-prompt "red" --steps 30 --guidance 6 --batch 4 -o hearts.png
yingshe diffuse "a red heart" --init photo.png --strength 0.6 -o img2img.png
yingshe diffuse "a cat face" --init photo.png --mask mask.png -o inpaint.png
yingshe diffuse "a lighthouse at dusk" --model ~/models/stable-diffusion-v1-5 --width 512 --height 512 --scheduler euler-a
yingshe grid --mapping diffuse --prompt "a red heart" --x steps=10,20,40 --y guidance=2,5,9 -o xy.png
"""


@dataclass
class DiffuseRecipe(Recipe):
    mapping = "diffuse"

    negative_prompt: str = param("", "what to steer away from (classifier-free guidance pushes from it)")
    model: str = param(DEFAULT_MODEL, "our zoo model (yingshe-emoji-64), a model.safetensors or run folder, a "
                                      "diffusers folder, or a hub id (online)", suggest=(DEFAULT_MODEL,))
    steps: int = param(25, "denoising steps", min=1, max=500)
    guidance: float = param(5.0, "classifier-free guidance scale (CFG): 0 = the unconditional model, "
                                 "up to 1 = the prompt without guidance, above 1 = guided", min=0.0, max=50.0)
    width: int = param(0, "width in px, a multiple of 8 (0: the model's size)", min=0, max=4096)
    height: int = param(0, "height in px, a multiple of 8 (0: the model's size)", min=0, max=4096)
    scheduler: str = param("euler-a", "sampler: euler-a (Euler ancestral: fresh noise each step; on our emoji model "
                                      "it draws the named emoji more often than the deterministic ones), dpm++ "
                                      "(DPM-Solver++ 2M), dpm++-karras (with Karras sigmas), ddim, euler, heun, lms, "
                                      "pndm (PLMS), unipc, ddpm", choices=SCHEDULER_NAMES)
    strength: float = param(0.75, "img2img / inpaint: how much of the init picture is redrawn (1: all of it)",
                            min=0.01, max=1.0)
    style: str = param("none", f"prompt style: {STYLE_HELP}", suggest=tuple(prompts.STYLES))
    batch: int = param(1, "pictures, with seeds seed, seed+1, ... (several are saved as one grid)", min=1, max=64)
    rerank: int = param(0, "sample N per picture and keep the one our CLIP scores best (0 or 1: off)",
                        min=0, max=64)
    variation_seed: int = param(0, "a second seed whose noise is blended in (seed variations)", min=0,
                                max=2**32 - 1, advanced=True)
    variation_strength: float = param(0.0, "how much of the variation seed's noise (0: none, 1: all)",
                                      min=0.0, max=1.0, advanced=True)
    clip: str = param("yingshe-clip-emoji", "our CLIP, for the CLIP score and --rerank (empty: no score)",
                      advanced=True, suggest=("yingshe-clip-emoji", ("none (no score)", "")))
    low_memory: bool = param(False, "attention and VAE slicing: less memory for big pictures, a little slower",
                             advanced=True)

    def check(self) -> None:
        from yingshe.diffusion.prompts import check_style

        for name in ("width", "height"):
            v = getattr(self, name)
            if v % 8:
                raise BadInput(f"--{name} must be a multiple of 8 (the autoencoder works in 8-pixel steps); got {v}")
            if 0 < v < 16:
                raise BadInput(f"--{name} must be at least 16 px (or 0 for the model's size); got {v}")
        check_style(self.style)
        if len(self.negative_prompt) > 20_000:
            raise BadInput("--negative-prompt is too long (at most 20,000 characters)")


# --------------------------------------------------------------------------- prompt → embeddings

def _clip_states(pipe, chunks: list[tuple[str, float]], device):
    """(1, 77, d) states of a weighted prompt for a pipeline with one CLIP text encoder
    (Stable Diffusion 1.x/2.x), A1111's way: weights scale the states, the mean is restored."""
    import torch

    from yingshe.diffusion.text import apply_weights

    tok, enc = pipe.tokenizer, pipe.text_encoder
    n = int(tok.model_max_length)
    ids, weights = [tok.bos_token_id], [1.0]
    for text, w in chunks:
        pieces = tok(text, add_special_tokens=False, truncation=False)["input_ids"]
        ids += pieces
        weights += [w] * len(pieces)
    if len(ids) + 1 > n:
        raise BadInput(f"the prompt is {len(ids) - 1} tokens long; this model reads at most {n - 2} (shorten it)")
    ids += [tok.eos_token_id]
    weights += [1.0]
    pad = tok.pad_token_id if tok.pad_token_id is not None else tok.eos_token_id
    ids += [pad] * (n - len(ids))
    weights += [1.0] * (n - len(weights))
    with torch.no_grad():
        h = enc(torch.tensor([ids], device=device))[0]
    return apply_weights(h, torch.tensor([weights], device=device))


def encode_prompts(loaded, prompt: str, negative: str, device):
    """(prompt_embeds, negative_prompt_embeds, note) for ``loaded``'s pipeline, or (None, None,
    note) when the pipeline must read the plain strings itself (SDXL and other multi-encoder
    pipelines: emphasis is then dropped, and the note says so)."""
    from yingshe.diffusion.prompts import parse_weights

    chunks, neg_chunks = parse_weights(prompt), parse_weights(negative)
    if loaded.kind == "yingshe":
        from yingshe.diffusion.text import load_minilm

        m = load_minilm()
        L = loaded.text_length
        return (m.weighted_states(chunks, L).to(device), m.weighted_states(neg_chunks, L).to(device), "")
    pipe = loaded.pipe
    single = (getattr(pipe, "tokenizer", None) is not None and getattr(pipe, "text_encoder", None) is not None
              and getattr(pipe, "tokenizer_2", None) is None and "prompt_embeds" in _call_args(pipe))
    if single:
        return _clip_states(pipe, chunks, device), _clip_states(pipe, neg_chunks, device), ""
    weighted = any(w != 1.0 for _, w in chunks + neg_chunks)
    return None, None, ("emphasis weights are ignored by this pipeline (several text encoders)" if weighted else "")


def _call_args(pipe) -> set:
    import inspect

    return set(inspect.signature(pipe.__call__).parameters)


# --------------------------------------------------------------------------- noise

def initial_noise(shape, seed: int, variation_seed: int, variation_strength: float):
    """N(0, 1) noise from a CPU generator (the same on every device); a variation blends a second
    seed's noise in by spherical interpolation (AUTOMATIC1111's "variation seed")."""
    import torch

    base = torch.randn(shape, generator=torch.Generator("cpu").manual_seed(seed))
    if variation_strength <= 0:
        return base
    other = torch.randn(shape, generator=torch.Generator("cpu").manual_seed(variation_seed))
    return slerp(base, other, variation_strength)


def slerp(a, b, t: float):
    import torch

    af, bf = a.flatten(), b.flatten()
    dot = torch.clamp((af / af.norm()) @ (bf / bf.norm()), -1.0, 1.0)
    omega = torch.arccos(dot)
    if float(omega) < 1e-4:
        return (1 - t) * a + t * b
    so = torch.sin(omega)
    return (torch.sin((1 - t) * omega) / so) * a + (torch.sin(t * omega) / so) * b


# --------------------------------------------------------------------------- run

def _mode(inputs: dict) -> str:
    if inputs.get("mask"):
        if not inputs.get("init"):
            raise BadInput("--mask needs --init (the picture to inpaint)")
        return "inpaint"
    return "img2img" if inputs.get("init") else "txt2img"


def _size(recipe: DiffuseRecipe, loaded) -> tuple[int, int]:
    w = recipe.width or loaded.default_size
    h = recipe.height or loaded.default_size
    return w, h


def run(recipe: DiffuseRecipe, inputs: dict, progress: Progress | None = None, *, device: str = "auto",
        threads: int | None = None, **_) -> Artwork:
    from yingshe.core.device import resolve_device, set_threads
    from yingshe.diffusion import pipeline as P
    from yingshe.diffusion.prompts import apply_style, check_prompt, infotext, plain

    t0 = time.perf_counter()
    progress = progress or Progress()
    recipe.validate()
    given = inputs.get("prompt") or []
    if len(given) != 1:
        raise BadInput(f"diffuse takes one prompt; got {len(given)}")
    user_prompt = check_prompt(given[0].text)
    prompt, negative = apply_style(recipe.style, user_prompt, recipe.negative_prompt)
    mode = _mode(inputs)
    threads = set_threads(threads)
    dev = resolve_device(device)

    import torch

    loaded = P.load(recipe.model)
    width, height = _size(recipe, loaded)
    if width * height > 4096 * 4096:
        raise BadInput(f"{width}x{height} is too large (at most 16 megapixels)")
    f = int(getattr(loaded.pipe, "vae_scale_factor", 8))
    if width % f or height % f:
        raise BadInput(f"{loaded.name} works in steps of {f} px: --width and --height must be multiples of {f}")
    pipe = loaded.for_mode(mode)
    pipe.to(dev)
    if recipe.low_memory:
        pipe.enable_attention_slicing()
        if hasattr(pipe, "enable_vae_slicing"):
            pipe.enable_vae_slicing()
    scheduler = P.make_scheduler(recipe.scheduler, pipe.scheduler.config)

    embeds, neg_embeds, note = encode_prompts(loaded, prompt, negative, dev)
    guidance = recipe.guidance
    if guidance == 0:  # the unconditional model: the negative prompt's states alone, no guidance
        if embeds is not None:
            embeds, guidance = neg_embeds, 1.0
        else:
            prompt, guidance = negative, 1.0
    kw: dict = dict(num_inference_steps=recipe.steps, guidance_scale=guidance, output_type="pil")
    if embeds is not None:
        kw |= dict(prompt_embeds=embeds, negative_prompt_embeds=neg_embeds)
    else:
        kw |= dict(prompt=plain(prompt), negative_prompt=plain(negative) or None)
    extra: dict = {}
    if mode != "txt2img":
        init = inputs["init"][0].image.convert("RGB").resize((width, height))
        extra |= dict(image=init, strength=recipe.strength)
        if mode == "inpaint":
            extra["mask_image"] = inputs["mask"][0].image.convert("L").resize((width, height))
    extra |= dict(height=height, width=width)
    if mode == "img2img" and "height" not in _call_args(pipe):
        extra.pop("height"), extra.pop("width")

    candidates = max(1, recipe.rerank)
    total = recipe.batch * candidates
    steps_run = recipe.steps if mode == "txt2img" else max(1, int(recipe.steps * recipe.strength))
    progress.start(total * steps_run, f"diffuse ({loaded.name}, {mode})")
    state = {"stopped": False}
    preview_every = max(1, recipe.steps // 5)
    # decoding a preview costs a VAE pass: only when someone shows them (the studio's progress)
    wants_preview = type(progress).preview is not Progress.preview

    def on_step(p, i, t, kwargs):
        progress.update(1)
        if wants_preview and (i + 1) % preview_every == 0 and mode == "txt2img" and hasattr(p, "vae"):
            try:
                lat = kwargs["latents"][:1]
                with torch.no_grad():
                    img = p.vae.decode(lat / p.vae.config.scaling_factor).sample
                progress.preview(_to_pil(img[0]), step=i + 1)
            except Exception:
                pass
        if progress.stopped():
            state["stopped"] = True
            p._interrupt = True
        return kwargs

    lat_c = int(getattr(getattr(pipe, "unet", None), "config", {}).get("in_channels", 4)) if hasattr(pipe, "unet") else 4
    if hasattr(pipe, "unet") and lat_c == 9:
        lat_c = 4  # an inpainting UNet reads 4 latent + 5 mask channels, makes 4
    pictures, seeds, scores = [], [], []
    clip_model = _clip(recipe)
    with _RUN_LOCK:
        pipe.scheduler = scheduler
        for i in range(recipe.batch):
            best = None
            for j in range(candidates):
                s = (recipe.seed + i + j * recipe.batch) % 2**32
                # the generator also draws the fresh noise of stochastic samplers (euler-a, ddpm) at
                # every step: without it they drew from torch's global state and a seed did not
                # give the same picture twice
                call = dict(kw) | extra | {"callback_on_step_end": on_step,
                                           "generator": torch.Generator("cpu").manual_seed(s)}
                if mode == "txt2img" and hasattr(pipe, "unet"):
                    noise = initial_noise((1, lat_c, height // f, width // f), s, recipe.variation_seed,
                                          recipe.variation_strength)
                    call["latents"] = noise.to(dev, dtype=pipe.unet.dtype)
                # else (img2img, inpaint, pipelines whose latents are not a UNet's): the pipeline
                # draws its starting noise from the generator
                img = pipe(**call).images[0]
                score = None
                if clip_model is not None:
                    from yingshe.diffusion.clip import clip_scores

                    score = float(clip_scores(clip_model, [img], [plain(user_prompt)])[0])
                if best is None or (score is not None and score > best[2]):
                    best = (img, s, score if score is not None else float("-inf"))
                if state["stopped"]:
                    break
            pictures.append(best[0])
            seeds.append(best[1])
            scores.append(None if best[2] == float("-inf") else round(best[2], 3))
            if state["stopped"]:
                break
    progress.close()
    if recipe.rerank > 1 and clip_model is None:
        raise BadInput("--rerank needs our CLIP (the yingshe-clip-emoji model, or --clip FILE) and MiniLM")
    image = pictures[0] if len(pictures) == 1 else _grid(pictures)
    sampler = P.SCHEDULERS[recipe.scheduler][2]
    params = {"Steps": recipe.steps, "Sampler": sampler, "CFG scale": recipe.guidance, "Seed": seeds[0],
              "Size": f"{width}x{height}", "Model": loaded.name,
              "Denoising strength": recipe.strength if mode != "txt2img" else None,
              "Variation seed": recipe.variation_seed if recipe.variation_strength > 0 else None,
              "Variation seed strength": recipe.variation_strength if recipe.variation_strength > 0 else None,
              "Batch size": recipe.batch if recipe.batch > 1 else None,
              "Style": recipe.style if recipe.style != "none" else None,
              "Version": "yingshe"}
    used_inputs = {name: [s.record for s in srcs] for name, srcs in inputs.items() if srcs}
    weights = {"model": loaded.record}
    if loaded.kind == "yingshe":
        from yingshe.diffusion.text import load_minilm

        weights["text"] = load_minilm().weights.record()
    if clip_model is not None:
        weights["clip"] = clip_model.record
    summary = {"mode": mode, "prompt": prompt, "negative_prompt": negative, "seeds": seeds, "size": [width, height],
               "backend": loaded.kind, "clip_score": scores if len(scores) > 1 else scores[0]}
    if note:
        summary["note"] = note
    return Artwork(mapping=recipe.mapping, recipe=recipe, image=image, inputs=used_inputs, weights=weights,
                   device=str(dev), threads=threads, seconds=time.perf_counter() - t0, summary=summary,
                   interrupted=state["stopped"], png_text={"parameters": infotext(prompt, negative, params)})


def _clip(recipe: DiffuseRecipe):
    """Our CLIP when it and MiniLM are at hand (the score is a bonus, not a requirement)."""
    if not recipe.clip:
        return None
    from yingshe.diffusion.clip import clip_available, load_clip

    if not clip_available(recipe.clip):
        if recipe.rerank > 1:
            raise BadInput(f"--rerank needs our CLIP: {recipe.clip!r} is not available")
        return None
    return load_clip(recipe.clip)


def _to_pil(x):
    import numpy as np
    from PIL import Image

    a = ((x.float().clamp(-1, 1) + 1) * 127.5).round().byte().permute(1, 2, 0).cpu().numpy()
    return Image.fromarray(np.ascontiguousarray(a))


def _grid(pictures):
    """A1111-style batch grid: about square, no labels."""
    import math

    from PIL import Image

    n = len(pictures)
    cols = math.ceil(math.sqrt(n))
    rows = math.ceil(n / cols)
    w, h = pictures[0].size
    sheet = Image.new("RGB", (cols * w, rows * h), (255, 255, 255))
    for k, p in enumerate(pictures):
        sheet.paste(p, ((k % cols) * w, (k // cols) * h))
    return sheet


MAPPING = register(Mapping(
    name="diffuse",
    summary="text (+ picture, + mask) → picture by latent diffusion: our emoji model or any Stable Diffusion",
    family="diffusion",
    recipe=DiffuseRecipe,
    run=run,
    inputs=(InputSpec("prompt", "text", "what to draw; (word:1.3) and [word] weigh words, as in AUTOMATIC1111"),
            InputSpec("init", "image", "img2img: the picture to start from", required=False),
            InputSpec("mask", "image", "inpainting: white where to redraw (needs --init)", required=False,
                      sketch=True, mask=True)),
    outputs=("image",),
    section="words",
    rank=5,
    # our small CPU-trained model: shapes follow the prompt, colours do not yet (see its recipe)
    examples=(Example("A smiling face, by our small emoji model", {"seed": 1}, {"prompt": "a smiling face"}),
              Example("A heart, four seeds", {"seed": 2, "batch": 4}, {"prompt": "a blue heart"})),
))
