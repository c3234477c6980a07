"""Sound in and out: WAV, FLAC, OGG and MP3 through soundfile (libsndfile), anything else with an
audio track (M4A, AAC, Opus, the sound of a video) through ffmpeg; WAV and FLAC written.

Loading refuses, in one line, what would hurt: missing, empty, non-regular and non-audio files,
files whose header promises more sound than they hold (truncated, or lying), absurd lengths
(:data:`MAX_SECONDS`, 20 minutes unless raised) — and never allocates what a header claims: the
samples are read in blocks and counted against the limit as they come.
"""

from __future__ import annotations

import io
import os
import struct
from pathlib import Path

import numpy as np

from yingshe.core.errors import BadInput
from yingshe.core.files import check_file
from yingshe.core.media import Audio, duration_text

#: Longest sound accepted by default; ``$YINGSHE_MAX_AUDIO_SECONDS`` or a caller's limit raises it.
MAX_SECONDS = float(os.environ.get("YINGSHE_MAX_AUDIO_SECONDS", 20 * 60))
MAX_CHANNELS = 8
AUDIO_EXTS = (".wav", ".flac", ".ogg", ".oga", ".mp3", ".m4a", ".aac", ".opus", ".aif", ".aiff", ".wma")
_BLOCK = 1 << 16


def load_audio(path: str | os.PathLike, *, what: str = "audio", max_seconds: float | None = None) -> Audio:
    """Decode a sound file to :class:`Audio` at its own sample rate."""
    limit = MAX_SECONDS if max_seconds is None else float(max_seconds)
    p = check_file(path, what)
    import soundfile as sf

    try:
        info = sf.info(str(p))
    except Exception:  # not a format libsndfile knows: let ffmpeg try (M4A, AAC, Opus, video files...)
        return _load_with_ffmpeg(p, what, limit)
    if info.samplerate <= 0 or info.samplerate > 768_000 or info.channels < 1:
        raise BadInput(f"{what} {str(p)!r} has a damaged header ({info.samplerate} Hz, {info.channels} channels)")
    if info.channels > MAX_CHANNELS:
        raise BadInput(f"{what} {str(p)!r} has {info.channels} channels; yingshe takes at most {MAX_CHANNELS}")
    claimed, held = _claimed_frames(p, info)
    if claimed is not None and held is not None and claimed - held > max(2048, claimed // 200):
        # said before the length limit: a header promising hours in a small file is damage, not length
        raise BadInput(f"{what} {str(p)!r} is truncated: its header promises {duration_text(claimed / info.samplerate)} "
                       f"but the file holds at most {duration_text(held / info.samplerate)}")
    if claimed is not None and claimed / info.samplerate > limit:
        raise BadInput(f"{what} {str(p)!r} is {duration_text(claimed / info.samplerate)} long: more than the "
                       f"{duration_text(limit)} limit (raise it with --max-seconds)")
    cap = int(limit * info.samplerate) + 1
    blocks, n = [], 0
    try:
        with sf.SoundFile(str(p)) as f:
            while True:  # blocks, not f.read(): a header that lies must not size our buffer
                b = f.read(_BLOCK, dtype="float32", always_2d=True)
                if len(b):
                    blocks.append(b)
                    n += len(b)
                if n > cap:
                    raise BadInput(f"{what} {str(p)!r} is longer than the {duration_text(limit)} limit "
                                   "(raise it with --max-seconds)")
                if len(b) < _BLOCK:
                    break
    except BadInput:
        raise
    except Exception as e:  # libsndfile's decoder errors: truncated or corrupt data
        raise BadInput(f"{what} {str(p)!r} is truncated or corrupt ({_first_line(e)})") from None
    if n == 0:
        raise BadInput(f"{what} {str(p)!r} holds no sound (0 samples)")
    if claimed is not None and claimed - n > max(2048, claimed // 200):
        raise BadInput(f"{what} {str(p)!r} is truncated: its header promises {claimed / info.samplerate:.2f} s "
                       f"but it holds {n / info.samplerate:.2f} s")
    samples = np.concatenate(blocks) if len(blocks) > 1 else blocks[0]
    return Audio(_clean(samples, p, what), info.samplerate)


def _claimed_frames(p: Path, info) -> tuple[int | None, int | None]:
    """(the length the header says, the most frames the file's bytes can hold), in frames; None
    where unknown. libsndfile clamps a WAV's data size to the file, so for WAV the RIFF header is
    read here (a streamed WAV's 0 / 0xFFFFFFFF size means 'unknown')."""
    if info.format in ("WAV", "WAVEX"):
        found = _wav_data(p)
        if found is None or found[1] in (0, 0xFFFFFFFF):
            return None, None
        offset, size = found
        width = {"PCM_U8": 1, "PCM_S8": 1, "PCM_16": 2, "PCM_24": 3, "PCM_32": 4, "FLOAT": 4, "DOUBLE": 8,
                 "ULAW": 1, "ALAW": 1}.get(info.subtype)
        if not width:
            return None, None
        frame = width * info.channels
        return size // frame, max(0, p.stat().st_size - offset) // frame
    return (int(info.frames) if info.frames > 0 else None), None


def _wav_data(p: Path) -> tuple[int, int] | None:
    """(where the data chunk's samples start, the size its header gives) of a WAV file."""
    with open(p, "rb") as f:
        head = f.read(12)
        if len(head) < 12 or head[:4] not in (b"RIFF", b"RIFX") or head[8:12] != b"WAVE":
            return None
        fmt = "<I" if head[:4] == b"RIFF" else ">I"
        for _ in range(64):  # a WAV has a handful of chunks before its data
            ch = f.read(8)
            if len(ch) < 8:
                return None
            size = struct.unpack(fmt, ch[4:])[0]
            if ch[:4] == b"data":
                return f.tell(), size
            f.seek(size + (size & 1), 1)
    return None


def _load_with_ffmpeg(p: Path, what: str, limit: float) -> Audio:
    from yingshe.core import ffmpeg

    try:
        ffmpeg.exe("reading this kind of audio file")
    except BadInput:
        raise BadInput(f"{what} {str(p)!r} is not WAV, FLAC, OGG or MP3; other formats need ffmpeg: "
                       "pip install 'yingshe[video]'") from None
    info = ffmpeg.probe(str(p), what=what)
    if not info.has_audio:
        raise BadInput(f"{what} {str(p)!r} is not a sound file (no audio track)")
    if info.duration is not None and info.duration > limit:
        raise BadInput(f"{what} {str(p)!r} is {duration_text(info.duration)} long: more than the {duration_text(limit)} limit "
                       "(raise it with --max-seconds)")
    samples = ffmpeg.decode_audio(str(p), info, max_seconds=limit, what=what)
    if len(samples) == 0:
        raise BadInput(f"{what} {str(p)!r} holds no sound (0 samples decoded)")
    if len(samples) > int(limit * info.rate) + info.rate // 10:
        raise BadInput(f"{what} {str(p)!r} is longer than the {duration_text(limit)} limit (raise it with --max-seconds)")
    if info.duration and info.duration - len(samples) / info.rate > max(0.1, info.duration * 0.02):
        raise BadInput(f"{what} {str(p)!r} is truncated: its header promises {info.duration:.2f} s but it holds "
                       f"{len(samples) / info.rate:.2f} s")
    return Audio(_clean(samples, p, what), info.rate)


def _clean(a: np.ndarray, p: Path, what: str) -> np.ndarray:
    if not np.isfinite(a).all():
        raise BadInput(f"{what} {str(p)!r} holds NaN or infinite samples (a damaged float file)")
    return np.clip(a, -1.0, 1.0, out=a)


def _first_line(e: Exception) -> str:
    text = str(e).strip()
    return text.splitlines()[0][:100] if text else type(e).__name__


# --------------------------------------------------------------------------- writing

def wav_bytes(audio: Audio) -> bytes:
    """16-bit PCM WAV (deterministic: same samples, same bytes)."""
    import soundfile as sf

    buf = io.BytesIO()
    sf.write(buf, audio.pcm16(), audio.rate, format="WAV", subtype="PCM_16")
    return buf.getvalue()


def flac_bytes(audio: Audio, record_json: str | None = None) -> bytes:
    """16-bit FLAC with the record in a Vorbis comment (``YINGSHE=...``), written by mutagen."""
    import soundfile as sf

    buf = io.BytesIO()
    sf.write(buf, audio.pcm16(), audio.rate, format="FLAC", subtype="PCM_16")
    if record_json is None:
        return buf.getvalue()
    import mutagen.flac

    from yingshe.core.records import RECORD_KEY

    buf.seek(0)
    f = mutagen.flac.FLAC(buf)
    if f.tags is None:
        f.add_tags()
    f.tags[RECORD_KEY.upper()] = record_json
    f.tags["ENCODER"] = "yingshe"
    buf.seek(0)
    f.save(buf)
    return buf.getvalue()
