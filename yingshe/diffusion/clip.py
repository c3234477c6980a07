"""Our small CLIP: a convolutional image tower trained to land on the frozen MiniLM sentence
embedding of its captions (LiT-style: the text tower is locked, only the image side learns).

It serves three things:

- :func:`clip_scores`: the CLIP score of pictures against prompts (100 × cosine, floored at 0,
  as torchmetrics' CLIPScore), kept in every text→image artwork's summary;
- ``--rerank N`` of ``diffuse`` (sample N, keep the one the CLIP likes best, as DALL·E did);
- :func:`r_precision`: how often a picture's own caption ranks first among it and 99 others;
- semantic search over pictures (:mod:`yingshe.diffusion.search`).
"""

from __future__ import annotations

import math
import threading
from dataclasses import asdict, dataclass

import torch
from torch import nn
from torch.nn import functional as F

from yingshe.core.errors import BadInput, WeightsError

_LOCK = threading.Lock()
_CACHE: dict = {}


@dataclass
class ClipConfig:
    size: int = 64                 # picture side the tower reads, px
    width: int = 32                # channels of the first stage (doubled at each of the 4 stages)
    blocks: int = 1                # residual blocks per stage
    embed: int = 384               # MiniLM's sentence embedding size

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "ClipConfig":
        return cls(**{k: v for k, v in d.items() if k in cls.__dataclass_fields__})


class ResBlock(nn.Module):
    def __init__(self, c_in: int, c_out: int, stride: int):
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out)
        self.skip = (nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride, bias=False), nn.BatchNorm2d(c_out))
                     if stride != 1 or c_in != c_out else nn.Identity())

    def forward(self, x):
        h = F.relu(self.bn1(self.conv1(x)))
        return F.relu(self.bn2(self.conv2(h)) + self.skip(x))


class ImageTower(nn.Module):
    """A small ResNet: (B, 3, S, S) in [-1, 1] → (B, embed) unit vectors."""

    def __init__(self, cfg: ClipConfig):
        super().__init__()
        w = cfg.width
        self.stem = nn.Sequential(nn.Conv2d(3, w, 3, 1, 1, bias=False), nn.BatchNorm2d(w), nn.ReLU())
        layers, c = [], w
        for i in range(4):  # 64 → 32 → 16 → 8 → 4 px
            c_out = w * 2 ** i
            for j in range(cfg.blocks):
                layers.append(ResBlock(c, c_out, 2 if j == 0 else 1))
                c = c_out
        self.stages = nn.Sequential(*layers)
        self.head = nn.Linear(c, cfg.embed)

    def forward(self, x):
        h = self.stages(self.stem(x))  # (B, 8w, S/16, S/16)
        return F.normalize(self.head(h.mean((2, 3))), dim=-1)


class CLIP(nn.Module):
    def __init__(self, cfg: ClipConfig):
        super().__init__()
        self.cfg = cfg
        self.image = ImageTower(cfg)
        self.logit_scale = nn.Parameter(torch.tensor(math.log(1 / 0.07)))

    def loss(self, img_emb, txt_emb):
        """Symmetric InfoNCE over the batch (each picture's caption is its positive)."""
        logits = self.logit_scale.exp().clamp(max=100) * img_emb @ txt_emb.T  # (B, B)
        target = torch.arange(len(logits), device=logits.device)
        return (F.cross_entropy(logits, target) + F.cross_entropy(logits.T, target)) / 2


# --------------------------------------------------------------------------- serving

@dataclass
class ClipModel:
    net: CLIP
    record: dict
    name: str

    def to_pixels(self, images) -> torch.Tensor:
        import numpy as np
        from PIL import Image

        s = self.net.cfg.size
        xs = []
        for im in images:
            im = im.convert("RGB")
            if im.size != (s, s):
                im = im.resize((s, s), Image.BICUBIC)
            xs.append(torch.from_numpy(np.asarray(im, np.float32).copy()).permute(2, 0, 1) / 127.5 - 1)
        return torch.stack(xs)

    @torch.no_grad()
    def embed_images(self, images, batch: int = 64) -> torch.Tensor:
        outs = [self.net.image(self.to_pixels(images[i:i + batch])) for i in range(0, len(images), batch)]
        return torch.cat(outs) if outs else torch.zeros(0, self.net.cfg.embed)

    @torch.no_grad()
    def embed_texts(self, texts: list[str]) -> torch.Tensor:
        from yingshe.diffusion.text import load_minilm

        return load_minilm().sentence(texts)


def load_clip(spec: str = "yingshe-clip-emoji") -> ClipModel:
    """A trained CLIP by zoo name or file (cached per process)."""
    from yingshe.core import checkpoint as ckpt
    from yingshe.core.weights import ZOO, resolve

    with _LOCK:
        if spec in _CACHE:
            return _CACHE[spec]
    w = resolve(spec, family_for_paths="yingshe-clip")
    tensors, meta = ckpt.load_tensors(w.path)
    if meta.get("kind") != "clip":
        raise WeightsError(f"{spec}: a yingshe {meta.get('kind')} model, not a CLIP")
    net = CLIP(ClipConfig.from_dict(meta["model"]))
    try:
        net.load_state_dict({k: v.float() for k, v in tensors.items()})
    except RuntimeError as e:
        raise WeightsError(f"{spec}: damaged CLIP ({str(e).splitlines()[0][:120]})") from None
    model = ClipModel(net.eval(), w.record() if spec not in ZOO else {"source": spec, "sha256": w.sha256}, spec)
    with _LOCK:
        _CACHE[spec] = model
    return model


def clip_available(spec: str = "yingshe-clip-emoji") -> bool:
    try:
        from yingshe.core.weights import resolve

        resolve(spec, family_for_paths="yingshe-clip")
        from yingshe.diffusion.text import minilm_folder

        minilm_folder()
        return True
    except Exception:
        return False


def clip_scores(model: ClipModel, images, texts: list[str]) -> torch.Tensor:
    """CLIP score of each picture with its text: 100 × max(cosine, 0)."""
    if len(images) != len(texts):
        raise BadInput("clip_scores: one text per picture")
    return scores_of(cosines(model.embed_images(images), model.embed_texts(texts)))


def cosines(img_emb: torch.Tensor, txt_emb: torch.Tensor) -> torch.Tensor:
    """Row-wise cosine of unit embeddings: (N, D), (N, D) → (N,)."""
    return (img_emb * txt_emb).sum(-1)


def scores_of(cos: torch.Tensor) -> torch.Tensor:
    """CLIP scores from cosines: 100 × max(cosine, 0), as torchmetrics' CLIPScore."""
    return 100 * cos.clamp(min=0)


def r_precision(img_emb: torch.Tensor, txt_emb: torch.Tensor, *, distractors: int = 99, seed: int = 0,
                groups: list | None = None) -> float:
    """Fraction of pictures whose own text (row i of ``txt_emb``) scores above ``distractors``
    others drawn at random (AttnGAN's R-precision, R = 1). Texts of the same ``groups`` entry
    (the same emoji in another skin tone) are not drawn as distractors."""
    n = len(img_emb)
    if n < 2:
        raise BadInput("R-precision needs at least 2 pictures")
    g = torch.Generator().manual_seed(seed)
    hits = 0
    for i in range(n):
        pool = torch.randperm(n, generator=g)
        pool = [int(j) for j in pool if j != i and (groups is None or groups[j] != groups[i])][:distractors]
        cand = torch.cat([txt_emb[i:i + 1], txt_emb[pool]])
        s = cand @ img_emb[i]
        hits += int(int(torch.argmax(s)) == 0)
    return hits / n
