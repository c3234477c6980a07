"""An Artwork: a mapping's outputs, by kind, plus the full record needed to recreate it.

Outputs: ``image`` (PIL RGB), ``svg`` (vector drawing), ``frames`` + ``fps`` (+ ``audio``: a
video), ``audio`` (:class:`~yingshe.core.media.Audio`), ``midi`` (:class:`~yingshe.core.media.Midi`)
and ``text``. An output that costs time to make (an SVG of a million segments, the sound of a
score) can be given as a function in ``make`` and is made only if a file asks for it.

The record (recipe, input and weight fingerprints, version, device) is embedded in the saved
file, or in a sidecar where the format has no room (:mod:`yingshe.core.writers`), and copied into
the gallery. Saving is atomic, and the gallery row commits only after the file is in place, so
the gallery never points at a file that was not written.
"""

from __future__ import annotations

import datetime as _dt
import os
import platform
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from PIL import Image

import yingshe
from yingshe.core.errors import BadInput
from yingshe.core.media import Audio, Midi, Video
from yingshe.core.recipe import Recipe

#: the order in which an artwork's outputs are listed: its main kind first
_KIND_ORDER = ("video", "midi", "audio", "text", "image", "vector")


@dataclass
class Artwork:
    mapping: str
    recipe: Recipe
    image: Image.Image | None = None
    svg: str | None = None
    text: str | None = None
    #: animation / video frames (saved as .gif or .mp4) and their rate; ``audio`` is their sound
    frames: Any = None  # a sequence of PIL images (a list, or a FrameStore on disk)
    fps: float = 12.0
    #: sound (saved as .wav or .flac, or muxed into .mp4 with the frames)
    audio: Audio | None = None
    #: a MIDI score (saved as .mid)
    midi: Midi | None = None
    #: input name -> list of {"source": path or spec, "sha256": hex, ["record": the input's own record]}
    inputs: dict[str, list[dict]] = field(default_factory=dict)
    #: weights name -> {"source": where it came from, "sha256": hex}
    weights: dict[str, dict] = field(default_factory=dict)
    device: str = "cpu"
    threads: int | None = None
    seconds: float = 0.0
    #: mapping-specific numbers worth keeping (final losses, iterations done...)
    summary: dict[str, Any] = field(default_factory=dict)
    #: True when the user stopped the job early; the outputs are the best so far
    interrupted: bool = False
    created: str = field(default_factory=lambda: _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"))
    #: kind -> function making that output on demand (e.g. {"vector": canvas.to_svg})
    make: dict[str, Callable[[], Any]] = field(default_factory=dict, repr=False)
    #: extra PNG text chunks (key -> text), e.g. AUTOMATIC1111's "parameters"
    png_text: dict[str, str] = field(default_factory=dict, repr=False)
    #: work files to remove once the artwork is saved (frames of a long render kept for resuming)
    cleanups: list[Callable[[], None]] = field(default_factory=list, repr=False)

    def cleanup(self) -> None:
        """Remove the work files behind this artwork (call after saving it)."""
        for fn in self.cleanups:
            fn()
        self.cleanups.clear()

    # ------------------------------------------------------------------ outputs
    def kinds(self) -> list[str]:
        """The kinds of output this artwork has, main one first."""
        have = {"image": self.image is not None, "vector": self.svg is not None, "text": self.text is not None,
                "video": bool(self.frames), "audio": self.audio is not None, "midi": self.midi is not None}
        for k in self.make:
            have[k] = True
        return [k for k in _KIND_ORDER if have.get(k)]

    @property
    def kind(self) -> str:
        kinds = self.kinds()
        return kinds[0] if kinds else "image"

    def output(self, kind: str):
        """The output of ``kind`` (made now if it is made on demand)."""
        if kind == "video":
            if not self.frames:
                raise BadInput(f"{self.mapping} made a still picture, not a video (animate it, or save as .png)")
            audio = self.audio if self.audio is not None or "audio" not in self.make else self.output("audio")
            return Video(self.frames, self.fps, audio)
        value = {"image": self.image, "vector": self.svg, "text": self.text, "audio": self.audio,
                 "midi": self.midi}.get(kind)
        if value is None and kind == "image" and self.frames:
            value = self.frames[0]
        if value is None and kind in self.make:
            value = self.make[kind]()
            setattr(self, {"vector": "svg"}.get(kind, kind), value)
        if value is None:
            raise BadInput(f"{self.mapping} made no {kind} ({', '.join(self.kinds()) or 'nothing'} instead)")
        return value

    # ------------------------------------------------------------------ the record
    def record(self, *, timings: bool = True) -> dict:
        """The artwork's record. ``timings=False`` leaves out when it was made and how long it
        took: that is the version embedded in files, so the same recipe gives the same bytes
        (the gallery row keeps the timings)."""
        record = {
            "format": 1,
            "version": yingshe.__version__,
            "mapping": self.mapping,
            "recipe": self.recipe.to_dict(),
            "inputs": self.inputs,
            "weights": self.weights,
            "device": self.device,
            "threads": self.threads,
            "torch": _torch_version(),
            "python": platform.python_version(),
            "created": self.created,
            "seconds": round(self.seconds, 3),
            "summary": self.summary,
            "interrupted": self.interrupted,
        }
        if not timings:
            del record["created"], record["seconds"]
        return record

    # ------------------------------------------------------------------ saving
    def default_ext(self) -> str:
        from yingshe.core.writers import DEFAULT_EXT

        return DEFAULT_EXT.get(self.kind, ".png")

    def encode(self, path: str | os.PathLike):
        """The file bytes (and sidecar) of this artwork saved at ``path``; nothing is written."""
        from yingshe.core.writers import encode

        return encode(self, path, self.record(timings=False))

    def save(self, path: str | os.PathLike, *, gallery: bool = True) -> Path:
        """Write the artwork (record embedded, or in a ``.json`` sidecar) atomically, and add its
        gallery row in the same transaction. The extension picks the format; none: the main
        kind's (.png, .mp4, .wav, .mid, .txt). ``-`` writes that format to stdout."""
        from yingshe.core.images import atomic_write
        from yingshe.core.records import sidecar_path

        if str(path) == "-":
            enc = self.encode("out" + self.default_ext())
            sys.stdout.buffer.write(enc.data)
            sys.stdout.buffer.flush()
            return Path("-")
        path = Path(path)
        if path.suffix == "":
            path = path.with_suffix(self.default_ext())
        enc = self.encode(path)  # before the gallery transaction: encoding a video takes a while

        def write() -> Path:
            if enc.sidecar is not None:
                atomic_write(sidecar_path(path), lambda f: f.write(enc.sidecar))
            return atomic_write(path, lambda f: f.write(enc.data))

        if not gallery:
            return write()
        from yingshe.core.gallery import Gallery

        with Gallery.open() as g:
            return g.add(self.record(), path, write, kind=enc.kind, width=enc.width, height=enc.height,
                         duration=enc.duration)


def _torch_version() -> str | None:
    """torch's version without importing it (mappings that never touch torch stay fast)."""
    mod = sys.modules.get("torch")
    if mod is not None:
        return mod.__version__.split("+")[0]
    try:
        from importlib.metadata import version

        return version("torch").split("+")[0]
    except Exception:
        return None


def unique_path(path: str | os.PathLike) -> Path:
    """``path`` if free, else ``stem-1.ext``, ``stem-2.ext``... (so batch runs never overwrite);
    a name whose ``.json`` sidecar exists is not free either."""
    path = Path(path)

    def taken(p: Path) -> bool:  # a sidecar of the same name belongs to someone: keep it too
        return p.exists() or p.with_name(p.name + ".json").exists()

    if not taken(path):
        return path
    i = 1
    while True:
        candidate = path.with_name(f"{path.stem}-{i}{path.suffix}")
        if not taken(candidate):
            return candidate
        i += 1
