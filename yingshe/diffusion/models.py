"""Our own latent text→image model, built from diffusers' parts (no hand-written UNet or
scheduler): a small ``AutoencoderKL`` (64 px ↔ 16×16×4 latents), a ``UNet2DConditionModel``
whose cross-attention reads MiniLM token states (384-d), and DDPM noise for training.

One ``.safetensors`` file holds a whole model: ``vae.*`` and ``unet.*`` tensors, plus a JSON
description (both diffusers configs, the text encoder, its token length, the noise schedule) in
the metadata, so a file alone rebuilds the pipeline (:mod:`yingshe.diffusion.pipeline`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

#: training noise schedule (Stable Diffusion's): DDPM, 1000 steps, scaled-linear betas, ε-prediction
NOISE = {"num_train_timesteps": 1000, "beta_start": 0.00085, "beta_end": 0.012, "beta_schedule": "scaled_linear",
         "prediction_type": "epsilon", "clip_sample": False, "steps_offset": 1, "set_alpha_to_one": False}


@dataclass
class LatentConfig:
    """Sizes of our model (the defaults are ``--width 1``; the CPU-trained yingshe-emoji-64 is ``--width 0.75``)."""

    size: int = 64                     # picture side, px
    vae_channels: tuple = (16, 64, 128)  # AutoencoderKL block widths; 3 blocks = 4× down (64 px → 16×16)
    vae_groups: int = 16               # GroupNorm groups in the autoencoder
    latent_channels: int = 4           # channels of the latent picture
    unet_channels: tuple = (64, 128, 192)  # UNet block widths (16×16, 8×8, 4×4 at 64 px)
    layers_per_block: int = 1          # ResNet layers per UNet block
    head_dim: int = 32                 # attention head width
    top_attention: bool = False        # cross-attention at the UNet's full latent resolution too
    text_length: int = 48              # MiniLM tokens read by cross-attention ([CLS] ... [SEP] + zeros)

    def to_dict(self) -> dict:
        d = asdict(self)
        return {k: list(v) if isinstance(v, tuple) else v for k, v in d.items()}

    @classmethod
    def from_dict(cls, d: dict) -> "LatentConfig":
        known = {k: (tuple(v) if isinstance(v, list) else v) for k, v in d.items() if k in cls.__dataclass_fields__}
        return cls(**known)

    @property
    def factor(self) -> int:
        return 2 ** (len(self.vae_channels) - 1)


def build_vae(cfg: LatentConfig):
    from diffusers import AutoencoderKL

    n = len(cfg.vae_channels)
    return AutoencoderKL(in_channels=3, out_channels=3, down_block_types=("DownEncoderBlock2D",) * n,
                         up_block_types=("UpDecoderBlock2D",) * n, block_out_channels=tuple(cfg.vae_channels),
                         layers_per_block=1, latent_channels=cfg.latent_channels, norm_num_groups=cfg.vae_groups,
                         sample_size=cfg.size)


def build_unet(cfg: LatentConfig):
    from diffusers import UNet2DConditionModel

    from yingshe.diffusion.text import WIDTH

    n = len(cfg.unet_channels)
    attn = [cfg.top_attention or i > 0 for i in range(n)]
    return UNet2DConditionModel(
        sample_size=cfg.size // cfg.factor, in_channels=cfg.latent_channels, out_channels=cfg.latent_channels,
        block_out_channels=tuple(cfg.unet_channels), layers_per_block=cfg.layers_per_block,
        down_block_types=tuple("CrossAttnDownBlock2D" if a else "DownBlock2D" for a in attn),
        up_block_types=tuple("CrossAttnUpBlock2D" if a else "UpBlock2D" for a in reversed(attn)),
        cross_attention_dim=WIDTH, attention_head_dim=cfg.head_dim, norm_num_groups=32)


def jsonable(config) -> dict:
    """A diffusers config as plain JSON (private keys dropped)."""
    import json

    return json.loads(json.dumps({k: v for k, v in dict(config).items() if not k.startswith("_")},
                                 default=lambda o: list(o) if isinstance(o, tuple) else str(o)))


def model_description(cfg: LatentConfig, vae, unet, **extra) -> dict:
    return {"format": 1, "kind": "diffusion", "model": cfg.to_dict(), "vae": jsonable(vae.config),
            "unet": jsonable(unet.config), "noise": dict(NOISE), "text": "minilm-l6"} | extra


def from_description(meta: dict, tensors: dict):
    """(LatentConfig, vae, unet) rebuilt from a model file's description and tensors."""
    import torch
    from diffusers import AutoencoderKL, UNet2DConditionModel

    from yingshe.core import checkpoint as ckpt
    from yingshe.core.errors import WeightsError

    try:
        cfg = LatentConfig.from_dict(meta["model"])
        vae = AutoencoderKL.from_config(meta["vae"])
        unet = UNet2DConditionModel.from_config(meta["unet"])
        for name, net in (("vae", vae), ("unet", unet)):
            state = {k: v.to(torch.float32) for k, v in ckpt.unprefixed(name, tensors).items()}
            net.load_state_dict(state)
    except (KeyError, TypeError, ValueError, RuntimeError) as e:
        raise WeightsError(f"not a yingshe diffusion model ({type(e).__name__}: {str(e).splitlines()[0][:160]})") from None
    return cfg, vae.eval().requires_grad_(False), unet.eval().requires_grad_(False)
