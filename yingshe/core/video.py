"""Video in and out through the ffmpeg of imageio-ffmpeg: any file ffmpeg reads becomes frames
(read lazily, one at a time), a frame rate and its sound; frames and sound become an MP4
(H.264 + AAC), deterministically (single-threaded, bit-exact flags: same frames and samples →
same bytes on the same machine and ffmpeg).
"""

from __future__ import annotations

import io
import os
import tempfile
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np
from PIL import Image

from yingshe.core.errors import BadInput
from yingshe.core.media import Audio, Video, duration_text

#: Longest video accepted by default (``$YINGSHE_MAX_VIDEO_SECONDS`` or a caller's limit).
MAX_SECONDS = float(os.environ.get("YINGSHE_MAX_VIDEO_SECONDS", 20 * 60))
#: Largest frame accepted (8K UHD).
MAX_FRAME_PIXELS = 7680 * 4320
VIDEO_EXTS = (".mp4", ".mov", ".m4v", ".mkv", ".webm", ".avi", ".mpg", ".mpeg", ".ogv", ".gif")


class FrameReader(Sequence):
    """The frames of a video file, decoded as they are iterated (``len`` is the container's
    estimate until the frames have been read once)."""

    def __init__(self, path: Path, size: tuple[int, int], fps: float, estimate: int, max_seconds: float):
        self.path, self.size, self.fps = path, size, fps
        self._len = max(1, estimate)
        self.max_seconds = max_seconds

    def __len__(self) -> int:
        return self._len

    def __iter__(self) -> Iterator[Image.Image]:
        import imageio_ffmpeg

        gen = imageio_ffmpeg.read_frames(str(self.path), pix_fmt="rgb24",
                                         output_params=["-t", f"{self.max_seconds:.3f}"])
        try:
            meta = next(gen)
            w, h = meta["size"]
            n = 0
            for buf in gen:
                n += 1
                yield Image.frombuffer("RGB", (w, h), bytes(buf), "raw", "RGB", 0, 1)
            self._len = n
        except (RuntimeError, OSError) as e:
            raise BadInput(f"video {str(self.path)!r} could not be decoded ({str(e).strip().splitlines()[0][:100]})") from None
        finally:
            gen.close()

    def __getitem__(self, i):
        if isinstance(i, slice):
            return list(self)[i]
        if i < 0:
            i += len(self)
        for j, frame in enumerate(self):
            if j == i:
                return frame
        raise IndexError(i)


def load_video(path: str | os.PathLike, *, what: str = "video", max_seconds: float | None = None,
               with_audio: bool = True) -> Video:
    """A video file as :class:`Video` (frames read lazily; its sound, if any, decoded now)."""
    from yingshe.core import ffmpeg
    from yingshe.core.files import check_file

    limit = MAX_SECONDS if max_seconds is None else float(max_seconds)
    p = check_file(path, what)
    ffmpeg.exe("reading video")
    info = ffmpeg.probe(str(p), what=what)
    if not info.has_video:
        raise BadInput(f"{what} {str(p)!r} is not a video (no picture track)")
    if info.width * info.height > MAX_FRAME_PIXELS:
        raise BadInput(f"{what} {str(p)!r} is {info.width}x{info.height}: larger than 8K")
    if info.duration is not None and info.duration > limit:
        raise BadInput(f"{what} {str(p)!r} is {duration_text(info.duration)} long: more than the "
                       f"{duration_text(limit)} limit (raise it with --max-seconds)")
    fps = info.fps if 0 < info.fps <= 240 else 25.0
    estimate = int(round((info.duration or 0) * fps))
    frames = FrameReader(p, (info.width, info.height), fps, estimate, limit)
    try:
        first = next(iter(frames))  # decodes one frame: a broken stream fails here, not mid-job
    except StopIteration:
        raise BadInput(f"{what} {str(p)!r} holds no frames") from None
    del first
    audio = None
    if with_audio and info.has_audio:
        samples = ffmpeg.decode_audio(str(p), info, max_seconds=limit, what=what)
        if len(samples):
            audio = Audio(np.clip(np.nan_to_num(samples), -1, 1), info.rate)
    return Video(frames, fps, audio)


# --------------------------------------------------------------------------- writing

def gif_bytes(frames: Sequence[Image.Image], fps: float, comment: bytes | None = None) -> bytes:
    """An animated GIF (median-cut palette per frame, no dithering: deterministic)."""
    buf = io.BytesIO()
    pal = [f.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
           for f in frames]
    kw = {"comment": comment} if comment else {}
    pal[0].save(buf, format="GIF", save_all=True, append_images=pal[1:], loop=0,
                duration=max(20, int(round(1000 / fps))), optimize=False, disposal=1, **kw)
    return buf.getvalue()


#: container → (video codec, its options, audio codec, its options). Both encoders run
#: single-threaded with ffmpeg's bitexact flags, so the same frames and sound give the same bytes.
CODECS = {
    "mp4": ("libx264", ["-crf", "18"], "aac", ["-b:a", "192k"]),
    # VP9 in constant quality (-b:v 0), one pass; Opus, the web's sound codec (48 kHz inside)
    "webm": ("libvpx-vp9", ["-crf", "31", "-b:v", "0", "-row-mt", "0", "-deadline", "good", "-cpu-used", "4"],
             "libopus", ["-b:a", "160k"]),
}


def mp4_bytes(frames: Sequence[Image.Image], fps: float, audio: Audio | None = None, *, progress=None) -> bytes:
    """H.264 (+ AAC when there is sound) in MP4. The sound is cut or padded with silence to the
    frames' duration, so the two never differ by more than a sample."""
    return video_bytes(frames, fps, audio, container="mp4", progress=progress)


def webm_bytes(frames: Sequence[Image.Image], fps: float, audio: Audio | None = None, *, progress=None) -> bytes:
    """VP9 (+ Opus when there is sound) in WebM, for browsers and the web; otherwise as MP4."""
    return video_bytes(frames, fps, audio, container="webm", progress=progress)


def video_bytes(frames: Sequence[Image.Image], fps: float, audio: Audio | None = None, *, container: str = "mp4",
                progress=None) -> bytes:
    """Frames (+ sound) encoded by imageio-ffmpeg's ffmpeg into ``container`` (a key of CODECS)."""
    from yingshe.core import ffmpeg

    ffmpeg.exe(container.upper())
    import imageio_ffmpeg

    if len(frames) == 0:
        raise ValueError("a video needs at least one frame")
    vcodec, vopts, acodec, aopts = CODECS[container]
    it = iter(frames)
    first = next(it).convert("RGB")
    w, h = first.size
    w2, h2 = w + (w % 2), h + (h % 2)  # yuv420p wants even sizes
    params = [*vopts, "-fflags", "+bitexact", "-flags:v", "+bitexact", "-map_metadata", "-1", "-threads", "1"]
    with tempfile.TemporaryDirectory(prefix="yingshe-video-") as tmp:
        out = os.path.join(tmp, "out." + container)
        kw = {}
        if audio is not None:
            n = int(round(len(frames) / fps * audio.rate))
            wav = os.path.join(tmp, "sound.wav")
            from yingshe.core.audio import wav_bytes

            with open(wav, "wb") as f:
                f.write(wav_bytes(audio.fit(n)))
            kw = dict(audio_path=wav, audio_codec=acodec)
            params += ["-flags:a", "+bitexact", *aopts]
        writer = imageio_ffmpeg.write_frames(
            out, (w2, h2), fps=fps, codec=vcodec, pix_fmt_out="yuv420p", quality=None, bitrate=None,
            macro_block_size=1, ffmpeg_log_level="error", output_params=params, **kw)
        writer.send(None)

        def send(img: Image.Image) -> None:
            a = np.asarray(img.convert("RGB"))
            if a.shape[:2] != (h, w):
                raise ValueError(f"frame of {a.shape[1]}x{a.shape[0]} in a {w}x{h} video")
            if (w2, h2) != (w, h):
                a = np.pad(a, ((0, h2 - h), (0, w2 - w), (0, 0)), mode="edge")
            writer.send(np.ascontiguousarray(a))
            if progress is not None:
                progress.update(1)

        send(first)
        for f in it:
            send(f)
        writer.close()
        return Path(out).read_bytes()
