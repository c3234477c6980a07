"""Pipelines: one diffusers interface for every text→image model yingshe runs.

- **Ours** (a zoo name like ``yingshe-emoji-64``, or a ``model.safetensors`` of ``yingshe train
  diffusion``): the autoencoder and UNet are diffusers models, assembled into diffusers'
  ``StableDiffusionPipeline`` with no CLIP text encoder: prompts reach it as MiniLM token states
  through ``prompt_embeds`` (:mod:`yingshe.diffusion.text`).
- **Stable Diffusion and kin** (a local diffusers folder, or a hub id when online):
  ``AutoPipelineForText2Image.from_pretrained(..., use_safetensors=True)``; a folder is read
  offline, a hub id through the hub's cache.

img2img and inpainting reuse the same components (``AutoPipelineFor*.from_pipe``), so switching
mode loads nothing twice. Schedulers are swapped from the loaded one's config.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from yingshe.core.errors import BadInput, WeightsError

#: name -> (diffusers class, extra config, AUTOMATIC1111's sampler name)
SCHEDULERS: dict[str, tuple[str, dict, str]] = {
    "dpm++": ("DPMSolverMultistepScheduler", {"algorithm_type": "dpmsolver++", "solver_order": 2,
                                              "use_karras_sigmas": False}, "DPM++ 2M"),
    "dpm++-karras": ("DPMSolverMultistepScheduler", {"algorithm_type": "dpmsolver++", "solver_order": 2,
                                                     "use_karras_sigmas": True}, "DPM++ 2M Karras"),
    "ddim": ("DDIMScheduler", {}, "DDIM"),
    "euler": ("EulerDiscreteScheduler", {}, "Euler"),
    "euler-a": ("EulerAncestralDiscreteScheduler", {}, "Euler a"),
    "heun": ("HeunDiscreteScheduler", {}, "Heun"),
    "lms": ("LMSDiscreteScheduler", {}, "LMS"),
    "pndm": ("PNDMScheduler", {"skip_prk_steps": True}, "PLMS"),
    "unipc": ("UniPCMultistepScheduler", {}, "UniPC"),
    "ddpm": ("DDPMScheduler", {}, "DDPM"),
}
A1111_SAMPLERS = {v[2]: k for k, v in SCHEDULERS.items()}

_LOCK = threading.Lock()
_CACHE: dict = {}


def quiet() -> None:
    """No download bars, deprecation notes or 'install accelerate' advice on the user's terminal."""
    for k in ("DIFFUSERS_VERBOSITY", "TRANSFORMERS_VERBOSITY"):
        os.environ.setdefault(k, "error")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    try:
        from diffusers.utils import logging as dlog
        from transformers.utils import logging as tlog

        dlog.set_verbosity_error()
        dlog.disable_progress_bar()
        tlog.set_verbosity_error()
        tlog.disable_progress_bar()
    except Exception:
        pass
    import logging

    logging.getLogger("huggingface_hub").setLevel(logging.ERROR)  # its retry warnings when offline


def make_scheduler(name: str, config: dict):
    """A fresh scheduler ``name`` from another scheduler's config (its noise schedule kept)."""
    quiet()
    import diffusers

    if name not in SCHEDULERS:
        raise BadInput(f"--scheduler must be one of {', '.join(SCHEDULERS)}; got {name!r}")
    cls_name, extra, _ = SCHEDULERS[name]
    cls = getattr(diffusers, cls_name)
    base = {k: v for k, v in dict(config).items() if not k.startswith("_")}
    return cls.from_config(base | extra)


@dataclass
class Loaded:
    """A loaded model: its text→image pipeline, how prompts are encoded, and its record."""

    pipe: Any  # a diffusers text→image pipeline
    kind: str  # "yingshe" (MiniLM prompts) or "diffusers"
    name: str  # what the user named (zoo name, folder, hub id)
    default_size: int
    record: dict  # {"source", "sha256"} or {"source", "revision"}
    text_length: int = 77
    info: dict = field(default_factory=dict)
    modes: dict = field(default_factory=dict)  # mode -> pipeline (built on demand from the same components)

    def for_mode(self, mode: str):
        """The pipeline for ``txt2img``, ``img2img`` or ``inpaint`` (same weights, shared)."""
        if mode == "txt2img":
            return self.pipe
        if mode not in self.modes:
            from diffusers import AutoPipelineForImage2Image, AutoPipelineForInpainting

            cls = AutoPipelineForImage2Image if mode == "img2img" else AutoPipelineForInpainting
            try:
                self.modes[mode] = cls.from_pipe(self.pipe)
            except (ValueError, KeyError) as e:
                raise BadInput(f"{self.name} has no {mode} pipeline in diffusers ({str(e).splitlines()[0][:120]})") from None
            self.modes[mode].set_progress_bar_config(disable=True)
        return self.modes[mode]


# --------------------------------------------------------------------------- ours

def our_pipeline(vae, unet, scheduler: str = "euler-a"):
    """diffusers' StableDiffusionPipeline around our autoencoder and UNet (prompts come as
    MiniLM ``prompt_embeds``; there is no CLIP text encoder, tokenizer or safety checker)."""
    quiet()
    from diffusers import DDPMScheduler, StableDiffusionPipeline

    from yingshe.diffusion.models import NOISE

    sched = make_scheduler(scheduler, DDPMScheduler.from_config(NOISE).config)
    pipe = StableDiffusionPipeline(vae=vae, text_encoder=None, tokenizer=None, unet=unet, scheduler=sched,
                                   safety_checker=None, feature_extractor=None, image_encoder=None,
                                   requires_safety_checker=False)
    pipe.set_progress_bar_config(disable=True)
    return pipe


def load_ours(path: Path, name: str, record: dict) -> Loaded:
    from yingshe.core import checkpoint as ckpt
    from yingshe.diffusion.models import from_description

    tensors, meta = ckpt.load_tensors(path)
    if meta.get("kind") != "diffusion":
        raise WeightsError(f"{name}: a yingshe {meta.get('kind')} model, not a text→image diffusion model")
    cfg, vae, unet = from_description(meta, tensors)
    pipe = our_pipeline(vae, unet)
    return Loaded(pipe, "yingshe", name, cfg.size, record, cfg.text_length,
                  info={"steps_trained": meta.get("step"), "model": meta.get("model")})


# --------------------------------------------------------------------------- diffusers models

def load_diffusers(spec: str) -> Loaded:
    """A diffusers text→image pipeline from a local folder (offline) or a hub id (its cache;
    the hub only when online and YINGSHE_OFFLINE is unset). safetensors weights only."""
    quiet()
    from diffusers import AutoPipelineForText2Image

    folder = Path(spec).expanduser()
    local = folder.is_dir()
    if not local and (spec.startswith((".", "/", "~")) or os.sep in spec and spec.count("/") > 1):
        raise BadInput(f"--model {spec!r}: no such folder (and not a hub id like org/name)")
    if not local and spec.count("/") != 1:  # a typo, not a hub id: say so now, not after the hub's retries
        from yingshe.core.weights import ZOO

        ours = ", ".join(sorted(k for k, w in ZOO.items() if w.family == "yingshe-diffusion"))
        raise BadInput(f"--model {spec!r}: not one of ours ({ours}), a folder, or a hub id like org/name")
    if local and not (folder / "model_index.json").is_file():
        raise BadInput(f"--model {spec!r}: not a diffusers pipeline folder (no model_index.json)")
    offline = local or bool(os.environ.get("YINGSHE_OFFLINE") or os.environ.get("HF_HUB_OFFLINE"))

    def from_pretrained(local_only: bool):
        import warnings

        with warnings.catch_warnings():  # the hub's deprecation notices are not the user's business
            warnings.simplefilter("ignore", UserWarning)
            warnings.simplefilter("ignore", FutureWarning)
            return AutoPipelineForText2Image.from_pretrained(str(folder) if local else spec, use_safetensors=True,
                                                             local_files_only=local_only, safety_checker=None,
                                                             requires_safety_checker=False)

    try:
        try:  # the hub's cache first: no network call for a model already downloaded
            pipe = from_pretrained(True)
        except OSError:
            if offline:
                raise
            pipe = from_pretrained(False)
    except OSError as e:
        first = str(e).splitlines()[0][:200]
        if "safetensors" in str(e).lower():
            raise WeightsError(f"--model {spec}: no safetensors weights (yingshe never loads pickled .bin/.ckpt "
                               f"files): {first}") from None
        raise WeightsError(f"--model {spec}: cannot load it{' offline' if offline else ''} ({first})") from None
    except (ValueError, TypeError) as e:
        raise WeightsError(f"--model {spec}: not a text→image pipeline ({str(e).splitlines()[0][:200]})") from None
    pipe.set_progress_bar_config(disable=True)
    if getattr(pipe, "safety_checker", None) is not None:  # diffusers' NSFW filter blacks images out; off, as A1111
        pipe.safety_checker = None
    unet = getattr(pipe, "unet", None) or getattr(pipe, "transformer", None)
    size = int(getattr(unet.config, "sample_size", 64) or 64) * int(getattr(pipe, "vae_scale_factor", 8))
    record = {"source": spec, "sha256": _folder_fingerprint(folder) if local else None}
    if not local:
        record["hub"] = True
    tok = getattr(pipe, "tokenizer", None)
    return Loaded(pipe, "diffusers", spec, size, record, int(getattr(tok, "model_max_length", 77) or 77))


def _folder_fingerprint(folder: Path) -> str:
    """sha256 over a pipeline folder's safetensors and JSON files (names and contents)."""
    import hashlib

    from yingshe.core.fingerprint import sha256_file

    h = hashlib.sha256()
    for p in sorted(folder.rglob("*")):
        if p.is_file() and p.suffix in (".safetensors", ".json", ".txt", ".model"):
            h.update(str(p.relative_to(folder)).encode())
            h.update(sha256_file(p).encode())
    return h.hexdigest()


# --------------------------------------------------------------------------- resolve

def load(spec: str) -> Loaded:
    """A zoo name, a yingshe ``.safetensors`` model (or a run folder holding one), a diffusers
    folder or a hub id → :class:`Loaded` (cached per process)."""
    from yingshe.core.weights import ZOO, resolve

    quiet()
    with _LOCK:
        if spec in _CACHE:
            return _CACHE[spec]
    p = Path(spec).expanduser()
    if spec in ZOO:
        if ZOO[spec].family != "yingshe-diffusion":
            raise BadInput(f"--model {spec}: a {ZOO[spec].family} model, not a text→image one")
        w = resolve(spec)
        loaded = load_ours(w.path, spec, {"source": spec, "sha256": w.sha256})
    elif p.is_file() or (p.is_dir() and (p / "model.safetensors").is_file() and not (p / "model_index.json").exists()):
        w = resolve(str(p / "model.safetensors" if p.is_dir() else p), family_for_paths="yingshe-diffusion")
        loaded = load_ours(w.path, spec, {"source": w.source, "sha256": w.sha256})
    else:
        loaded = load_diffusers(spec)
    with _LOCK:
        _CACHE[spec] = loaded
    return loaded
