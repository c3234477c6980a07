"""The media an artwork is made of, besides pictures: sound, MIDI and video.

These are plain values (numpy arrays and bytes), so mappings build them without knowing any
file format; :mod:`yingshe.core.writers` turns them into files and :mod:`yingshe.core.sources`
reads files back into them.

- :class:`Audio`: samples ``(n, channels)`` float32 in [-1, 1] and a sample rate.
- :class:`Midi`: a Standard MIDI File as bytes (build it with mido or pretty_midi and call
  :meth:`Midi.from_pretty_midi` / :meth:`Midi.from_mido`).
- :class:`Video`: frames (PIL images, all one size), a frame rate and an optional :class:`Audio`
  track; ``frames`` may be any sequence, such as :class:`FrameStore` for renders too long to
  hold in memory.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np

#: Inputs and outputs are one of these kinds (InputSpec.kind, Mapping.outputs, gallery rows).
KINDS = ("image", "vector", "video", "audio", "midi", "text")


def duration_text(seconds: float) -> str:
    """A length for a message: '12.5 s' under a minute, '3.2 min' above (a 1 s limit is not '0.0 min')."""
    if seconds >= 60:
        return f"{seconds / 60:.1f} min"
    return f"{seconds:.1f} s" if seconds >= 10 else f"{seconds:.2f} s"


@dataclass
class Audio:
    """Sound: ``samples`` is ``(n, channels)`` float32 in [-1, 1]; ``rate`` in Hz."""

    samples: np.ndarray
    rate: int

    def __post_init__(self) -> None:
        a = np.asarray(self.samples, dtype=np.float32)
        if a.ndim == 1:
            a = a[:, None]  # mono (n,) -> (n, 1)
        if a.ndim != 2 or a.shape[1] < 1:
            raise ValueError(f"audio samples must be (n,) or (n, channels); got {a.shape}")
        self.samples = np.ascontiguousarray(a)
        self.rate = int(self.rate)
        if self.rate <= 0:
            raise ValueError(f"sample rate must be positive; got {self.rate}")

    @property
    def frames(self) -> int:
        return self.samples.shape[0]

    @property
    def channels(self) -> int:
        return self.samples.shape[1]

    @property
    def duration(self) -> float:
        return self.frames / self.rate

    def mono(self) -> np.ndarray:
        """(n,) float32: the channels averaged."""
        return self.samples.mean(axis=1) if self.channels > 1 else self.samples[:, 0]

    def resample(self, rate: int) -> "Audio":
        """The same sound at ``rate`` Hz (polyphase filter; deterministic)."""
        rate = int(rate)
        if rate == self.rate:
            return self
        from math import gcd

        from scipy.signal import resample_poly

        g = gcd(rate, self.rate)
        out = resample_poly(self.samples, rate // g, self.rate // g, axis=0).astype(np.float32)
        return Audio(np.clip(out, -1.0, 1.0), rate)

    def fit(self, frames: int) -> "Audio":
        """Exactly ``frames`` samples: cut, or padded with silence."""
        n = self.frames
        if frames == n:
            return self
        if frames < n:
            return Audio(self.samples[:frames], self.rate)
        pad = np.zeros((frames - n, self.channels), np.float32)
        return Audio(np.concatenate([self.samples, pad]), self.rate)

    def pcm16(self) -> np.ndarray:
        """(n, channels) int16, rounded (what WAV/FLAC files store)."""
        return np.round(np.clip(self.samples, -1.0, 1.0) * 32767.0).astype(np.int16)

    def fingerprint(self) -> str:
        """sha256 of the 16-bit samples and the rate: equal for the same sound, whatever the file."""
        h = hashlib.sha256(f"audio:{self.rate}:{self.channels}:".encode())
        h.update(self.pcm16().tobytes())
        return h.hexdigest()


@dataclass
class Midi:
    """A Standard MIDI File (bytes). The record goes in a text meta-event when it is saved."""

    data: bytes

    @classmethod
    def from_mido(cls, mid) -> "Midi":
        buf = io.BytesIO()
        mid.save(file=buf)
        return cls(buf.getvalue())

    @classmethod
    def from_pretty_midi(cls, pm) -> "Midi":
        buf = io.BytesIO()
        pm.write(buf)
        return cls(buf.getvalue())

    def to_mido(self):
        import mido

        return mido.MidiFile(file=io.BytesIO(self.data))

    def to_pretty_midi(self):
        import pretty_midi

        return pretty_midi.PrettyMIDI(io.BytesIO(self.data))

    @property
    def duration(self) -> float:
        return float(self.to_mido().length)

    def fingerprint(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


@dataclass
class Video:
    """Moving pictures: ``frames`` (PIL RGB images of one size) at ``fps``, with optional sound."""

    frames: Sequence[Any]
    fps: float
    audio: Audio | None = None

    @property
    def duration(self) -> float:
        return len(self.frames) / self.fps

    @property
    def size(self) -> tuple[int, int]:
        return self.frames[0].size


@dataclass
class FrameStore:
    """Frames kept on disk as numbered PNGs (renders too long for memory, resumable jobs).

    Behaves as a read-only sequence of PIL images; ``append`` writes the next frame atomically.
    """

    folder: Path
    _count: int = field(default=-1, repr=False)

    def __post_init__(self) -> None:
        self.folder = Path(self.folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        if self._count < 0:
            self._count = 0
            while (self.folder / self._name(self._count)).is_file():
                self._count += 1

    @staticmethod
    def _name(i: int) -> str:
        return f"frame-{i:06d}.png"

    def __len__(self) -> int:
        return self._count

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(self._count))]
        if i < 0:
            i += self._count
        if not 0 <= i < self._count:
            raise IndexError(i)
        from PIL import Image

        with Image.open(self.folder / self._name(i)) as im:
            return im.convert("RGB")

    def __iter__(self):
        for i in range(self._count):
            yield self[i]

    def append(self, img) -> None:
        from yingshe.core.images import atomic_write

        atomic_write(self.folder / self._name(self._count),
                     lambda f: img.save(f, format="PNG", compress_level=1))
        self._count += 1

    def truncate(self, n: int) -> None:
        """Keep the first ``n`` frames (a resumed render redoes the rest)."""
        for i in range(n, self._count):
            (self.folder / self._name(i)).unlink(missing_ok=True)
        self._count = min(n, self._count)
