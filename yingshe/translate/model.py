"""Using a trained pix2pix generator: find it (shipped name, run folder or model file), load it
once per process, and translate one picture.

A model file is self-describing (safetensors + JSON): the U-Net's config, the pair transform it
was trained with (``pairs``, ``direction``) and its size, so ``prepare`` can make a photo into
what the model expects. Shipped models are fp16 on disk and run in fp32.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from yingshe.core.errors import BadInput, WeightsError
from yingshe.nets.pix2pix import UNet, UNetConfig, pad_to_multiple

FAMILY = "yingshe-pix2pix"


@dataclass
class Translator:
    net: UNet  # eval mode, no gradients
    config: UNetConfig
    pairs: str  # edges | sketch | colorize | blur | aligned
    direction: str
    size: int  # the size it was trained at
    source: str  # zoo name or resolved file path (what the record keeps)
    path: Path
    sha256: str
    meta: dict = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def weights_record(self) -> dict:
        return {"source": self.source, "family": FAMILY, "sha256": self.sha256}

    @torch.inference_mode()
    def __call__(self, a: np.ndarray, *, noise: bool = False, seed: int = 0) -> np.ndarray:
        """Input picture A (H, W, 3) uint8 → picture B (H, W, 3) uint8 (any H, W: padded inside).

        ``noise``: dropout stays on, as the paper runs the generator at test time, drawn from a
        generator seeded with ``seed`` (same seed, same picture); off: dropout is off and the
        answer is the network's one deterministic translation."""
        dev = next(self.net.parameters()).device
        x = torch.from_numpy(np.array(a, dtype=np.uint8)).to(dev).permute(2, 0, 1)[None].float().div_(127.5).sub_(1)
        x, (h, w) = pad_to_multiple(x, self.config.multiple)  # (1, 3, H', W')
        with self.lock:  # one picture at a time per model (dropout's mode is the module's state)
            if noise:
                drops = [m for m in self.net.modules() if isinstance(m, torch.nn.Dropout)]
                with torch.random.fork_rng(devices=[dev] if dev.type == "cuda" else []):
                    torch.manual_seed(seed)
                    for m in drops:
                        m.train()
                    try:
                        y = self.net(x)
                    finally:
                        for m in drops:
                            m.eval()
            else:
                y = self.net(x)
        y = y[0, :, :h, :w].add(1).mul(127.5).round().clamp(0, 255).to(torch.uint8)
        return y.permute(1, 2, 0).cpu().numpy()


def model_path(spec: str) -> tuple[Path, str]:
    """(file, source-for-the-record) for a run folder, a model file or a shipped model name."""
    from yingshe.core import sources, weights

    p = Path(spec).expanduser()
    if p.is_dir() or sources.redirected(str(p.resolve() / "model.safetensors")):
        path, recorded = sources.readable_path(str(p.resolve() / "model.safetensors"), "model")
        if not path.exists():
            raise BadInput(f"--model {spec!r} is not a training run (no model.safetensors inside)")
        return path, recorded
    if p.is_file() or sources.redirected(str(p.resolve())):
        return sources.readable_path(str(p.resolve()), "model")
    if spec in weights.ZOO and weights.ZOO[spec].family == FAMILY:
        return weights.resolve(spec).path, spec
    shipped = ", ".join(sorted(k for k, e in weights.ZOO.items() if e.family == FAMILY))
    raise BadInput(f"--model {spec!r}: no such run folder or file, and not a shipped pix2pix model "
                   f"({shipped or 'none'})")


_CACHE: OrderedDict = OrderedDict()
_CACHE_LOCK = threading.Lock()
_CACHE_SIZE = 3


def load_translator(spec: str, device: str | torch.device = "cpu") -> Translator:
    """The model named by ``spec`` on ``device``; loaded once per process while the file is
    unchanged (the studio translates every stroke)."""
    from yingshe.core.checkpoint import load_tensors
    from yingshe.core.fingerprint import sha256_file

    path, source = model_path(str(spec))
    device = torch.device(device)
    st = path.stat()
    key = (str(path.resolve()), st.st_mtime_ns, st.st_size, str(device), source)
    with _CACHE_LOCK:
        if key in _CACHE:
            _CACHE.move_to_end(key)
            return _CACHE[key]
    tensors, meta = load_tensors(path)
    if meta.get("kind") != "pix2pix":
        raise WeightsError(f"{path}: a {meta.get('kind') or 'foreign'} model, not a pix2pix generator "
                           "(train one with `yingshe train pix2pix`)")
    try:
        cfg = UNetConfig.from_dict(meta["model"])
        net = UNet(cfg)
        net.load_state_dict({k: v.float() for k, v in tensors.items()})
    except (TypeError, KeyError, RuntimeError, ValueError) as e:
        raise WeightsError(f"{path}: weights do not fit the described model ({str(e).splitlines()[0][:160]})") from None
    net = net.to(device).eval().requires_grad_(False)
    t = Translator(net, cfg, str(meta.get("pairs", "edges")), str(meta.get("direction", "AtoB")),
                   int(meta.get("size", 256)), source, path, sha256_file(path), meta)
    with _CACHE_LOCK:
        _CACHE[key] = t
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    return t


def export(spec: str, dest: str | Path, *, half: bool = True, note: dict | None = None) -> Path:
    """Write a run's generator as a stand-alone model file (fp16 weights when ``half``: half the
    size; it still runs in fp32). ``note`` is merged into the description (e.g. where the data
    came from, for a shipped model)."""
    from yingshe.core.checkpoint import load_tensors, save_tensors

    path, _ = model_path(spec)
    tensors, meta = load_tensors(path)
    if meta.get("kind") != "pix2pix":
        raise WeightsError(f"{path}: not a pix2pix generator")
    if half:
        tensors = {k: v.half() if v.is_floating_point() else v for k, v in tensors.items()}
    return save_tensors(dest, tensors, meta | {"dtype": "float16" if half else "float32"} | (note or {}))


__all__ = ["Translator", "load_translator", "model_path", "export", "FAMILY"]
