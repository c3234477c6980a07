"""The ffmpeg that ships in the imageio-ffmpeg wheel (``pip install 'yingshe[video]'``): probing
media files, decoding compressed audio and video tracks, encoding MP4.

Everything runs ffmpeg as a subprocess with ``-nostdin`` and a time limit, reads at most what
the caller's limits allow, and turns failures into one-line :class:`BadInput` errors.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass

from yingshe.core.errors import BadInput


def exe(purpose: str = "video") -> str:
    try:
        import imageio_ffmpeg
    except ImportError:
        raise BadInput(f"{purpose} needs ffmpeg: pip install 'yingshe[video]' (imageio-ffmpeg ships it)") from None
    return imageio_ffmpeg.get_ffmpeg_exe()


@dataclass
class Probe:
    duration: float | None  # seconds, from the container (None when it does not say)
    width: int = 0
    height: int = 0
    fps: float = 0.0
    video_codec: str = ""
    audio_codec: str = ""
    rate: int = 0
    channels: int = 0

    @property
    def has_video(self) -> bool:
        return bool(self.video_codec) and self.width > 0 and self.height > 0

    @property
    def has_audio(self) -> bool:
        return bool(self.audio_codec) and self.rate > 0


_DUR = re.compile(r"Duration: (\d+):(\d\d):(\d\d(?:\.\d+)?)")
_VID = re.compile(r"Stream #\d+:\d+[^:]*: Video: (\w+)[^\n]*?, (\d{1,5})x(\d{1,5})")
_FPS = re.compile(r"([\d.]+) (?:fps|tbr)")
_AUD = re.compile(r"Stream #\d+:\d+[^:]*: Audio: (\w+)[^\n]*?, (\d+) Hz, ([^,\n]+)")
_LAYOUTS = {"mono": 1, "stereo": 2, "2.1": 3, "quad": 4, "4.0": 4, "5.0": 5, "5.1": 6, "6.1": 7, "7.1": 8}


def probe(path: str, *, what: str) -> Probe:
    """Streams and duration of a media file, from ffmpeg's own reading of its header."""
    try:
        p = subprocess.run([exe(), "-hide_banner", "-nostdin", "-i", str(path)], capture_output=True, timeout=60)
    except subprocess.TimeoutExpired:
        raise BadInput(f"{what} {str(path)!r}: ffmpeg took too long to read its header") from None
    text = p.stderr.decode("utf-8", "replace")
    if "Invalid data found" in text or "Error opening input" in text:
        raise BadInput(f"{what} {str(path)!r} is not a media file ffmpeg can read")
    m = _DUR.search(text)
    duration = int(m.group(1)) * 3600 + int(m.group(2)) * 60 + float(m.group(3)) if m else None
    info = Probe(duration)
    v = _VID.search(text)
    if v:
        info.video_codec, info.width, info.height = v.group(1), int(v.group(2)), int(v.group(3))
        line = text[v.start():text.find("\n", v.start())]
        f = _FPS.search(line)
        info.fps = float(f.group(1)) if f else 0.0
    a = _AUD.search(text)
    if a:
        info.audio_codec, info.rate = a.group(1), int(a.group(2))
        layout = a.group(3).strip()
        ch = re.match(r"(\d+) channels", layout)
        info.channels = int(ch.group(1)) if ch else _LAYOUTS.get(layout.split("(")[0], 2)
    return info


def decode_audio(path: str, info: Probe, *, max_seconds: float, what: str):
    """The first audio track as (n, channels) float32 at its own rate, at most ``max_seconds``."""
    import numpy as np

    ch = max(1, min(info.channels, 8))
    limit = int((max_seconds + 1) * info.rate) * ch * 4  # bytes of float32
    cmd = [exe(), "-hide_banner", "-nostdin", "-v", "error", "-i", str(path), "-map", "0:a:0", "-vn",
           "-t", f"{max_seconds + 0.5:.3f}", "-f", "f32le", "-acodec", "pcm_f32le", "-ac", str(ch),
           "-ar", str(info.rate), "pipe:1"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    chunks, total = [], 0
    try:
        while True:
            b = proc.stdout.read(1 << 20)
            if not b:
                break
            total += len(b)
            if total > limit:
                break
            chunks.append(b)
    finally:
        proc.stdout.close()
        try:
            err = proc.stderr.read().decode("utf-8", "replace")
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            err = ""
    data = b"".join(chunks)
    if proc.returncode not in (0, None) and not data:
        first = err.strip().splitlines()[0] if err.strip() else f"ffmpeg exit {proc.returncode}"
        raise BadInput(f"{what} {str(path)!r} could not be decoded ({first[:100]})")
    n = len(data) // (4 * ch)
    return np.frombuffer(data[:n * 4 * ch], dtype="<f4").reshape(n, ch).astype(np.float32)
