"""Tiny random-initialised text→image models built from configs, as diffusers' own fast tests
build them (a UNet with channels (4, 8) at 8×8 latents, a 2-block autoencoder, a 5-layer CLIP
text model of width 32 with a character-level tokenizer). For tests and checks that must run
offline in a second; their pictures are noise, but every code path is the real one.
"""

from __future__ import annotations

import json
from pathlib import Path


def _bytes_to_unicode() -> dict[int, str]:
    """CLIP's byte → printable character table (GPT-2's)."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, map(chr, cs)))


def tiny_tokenizer(folder: Path):
    """A CLIPTokenizer whose vocabulary is single characters (no merges): every word is spelt."""
    from transformers import CLIPTokenizer

    folder.mkdir(parents=True, exist_ok=True)
    chars = list(_bytes_to_unicode().values())
    vocab = {"<|startoftext|>": 0, "<|endoftext|>": 1}
    for c in chars:
        vocab.setdefault(c, len(vocab))
        vocab.setdefault(c + "</w>", len(vocab))
    (folder / "vocab.json").write_text(json.dumps(vocab))
    (folder / "merges.txt").write_text("#version: 0.2\n")
    return CLIPTokenizer(str(folder / "vocab.json"), str(folder / "merges.txt"), model_max_length=77,
                         bos_token="<|startoftext|>", eos_token="<|endoftext|>", pad_token="<|endoftext|>",
                         unk_token="<|endoftext|>")


def tiny_unet(cross_attention_dim: int, sample_size: int = 8, in_channels: int = 4):
    import torch
    from diffusers import UNet2DConditionModel

    torch.manual_seed(0)
    return UNet2DConditionModel(block_out_channels=(4, 8), layers_per_block=1, sample_size=sample_size,
                                in_channels=in_channels, out_channels=4,
                                down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
                                up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
                                cross_attention_dim=cross_attention_dim, norm_num_groups=2)


def tiny_vae():
    import torch
    from diffusers import AutoencoderKL

    torch.manual_seed(0)
    return AutoencoderKL(block_out_channels=(4, 8), in_channels=3, out_channels=3,
                         down_block_types=("DownEncoderBlock2D",) * 2, up_block_types=("UpDecoderBlock2D",) * 2,
                         latent_channels=4, norm_num_groups=2, sample_size=16)


def tiny_sd_folder(folder) -> Path:
    """A Stable-Diffusion-shaped diffusers pipeline folder (safetensors) of tiny random models."""
    import torch

    from yingshe.diffusion.pipeline import quiet

    quiet()
    from diffusers import DDIMScheduler, StableDiffusionPipeline
    from transformers import CLIPTextConfig, CLIPTextModel

    folder = Path(folder)
    tok = tiny_tokenizer(folder / "_tok")
    torch.manual_seed(0)
    text = CLIPTextModel(CLIPTextConfig(bos_token_id=0, eos_token_id=1, pad_token_id=1, hidden_size=32,
                                        intermediate_size=37, layer_norm_eps=1e-5, num_attention_heads=4,
                                        num_hidden_layers=5, vocab_size=len(tok), max_position_embeddings=77))
    sched = DDIMScheduler(beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear", clip_sample=False,
                          set_alpha_to_one=False, steps_offset=1)
    pipe = StableDiffusionPipeline(vae=tiny_vae(), text_encoder=text.eval(), tokenizer=tok, unet=tiny_unet(32),
                                   scheduler=sched, safety_checker=None, feature_extractor=None,
                                   image_encoder=None, requires_safety_checker=False)
    pipe.save_pretrained(str(folder), safe_serialization=True)
    return folder


def tiny_yingshe_model(path, *, size: int = 32) -> Path:
    """A yingshe diffusion model file (our format: MiniLM text, fp16) of tiny random models."""
    import torch

    from yingshe.core import checkpoint as ckpt
    from yingshe.diffusion.models import LatentConfig, model_description
    from yingshe.diffusion.text import WIDTH

    cfg = LatentConfig(size=size, vae_channels=(4, 8), vae_groups=2, unet_channels=(4, 8), text_length=16)
    vae, unet = tiny_vae(), tiny_unet(WIDTH, sample_size=size // 2)
    tensors = ckpt.prefixed("vae", {k: v.half() for k, v in vae.state_dict().items()})
    tensors |= ckpt.prefixed("unet", {k: v.half() for k, v in unet.state_dict().items()})
    return ckpt.save_tensors(path, tensors, model_description(cfg, vae, unet, step=0))
