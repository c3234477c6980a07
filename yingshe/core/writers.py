"""One table of writers: a file's extension picks the encoder, the artwork output it needs and
where the record goes.

=========  ========  =============================================
extension  output    the record
=========  ========  =============================================
.png       image     iTXt chunk ``yingshe``
.jpg .webp image     XMP packet (``ys:record``)
.tif .bmp  image     ``NAME.EXT.json`` sidecar
.svg       vector    ``<metadata id="yingshe">`` (CDATA)
.gif       video     comment extension (frames only; no sound)
.mp4       video     sidecar (H.264 + AAC with the sound)
.webm      video     sidecar (VP9 + Opus with the sound)
.wav       audio     sidecar
.flac      audio     Vorbis comment ``YINGSHE``
.mid       midi      text meta-event ``yingshe:{...}``
.musicxml  midi      sidecar (registered by :mod:`yingshe.sequence.melody`; music21 engraves it)
.txt .md   text      sidecar
.json      record    the file is ``{"yingshe": record, ...outputs}``
=========  ========  =============================================

Every writer returns bytes (deterministic for the same artwork), so saving can encode before the
gallery transaction and write atomically; :func:`encode` also tells the gallery the kind, size
and duration of what it wrote. :mod:`yingshe.core.records` reads each placement back.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

import yingshe
from yingshe.core.errors import BadInput

if TYPE_CHECKING:
    from yingshe.core.artwork import Artwork


@dataclass(frozen=True)
class Writer:
    ext: str
    kind: str  # the artwork output it writes (yingshe.core.media.KINDS), or "record"
    embeds: bool  # record inside the file; False: a NAME.EXT.json sidecar
    encode: Callable[["Artwork", str], bytes]  # (artwork, record JSON) -> file bytes
    what: str  # for error messages and --help


def record_json(record: dict, *, ascii_only: bool = False) -> str:
    return json.dumps(record, ensure_ascii=ascii_only, sort_keys=True)


# --------------------------------------------------------------------------- encoders

def _png(art: "Artwork", rec: str) -> bytes:
    from PIL import PngImagePlugin

    from yingshe.core.records import RECORD_KEY

    info = PngImagePlugin.PngInfo()
    info.add_itxt(RECORD_KEY, rec)  # iTXt (UTF-8): recipes with poems and paths survive
    info.add_text("Software", f"yingshe {yingshe.__version__}")
    for key, text in getattr(art, "png_text", {}).items():  # e.g. an AUTOMATIC1111 "parameters" chunk
        info.add_itxt(key, text)
    buf = io.BytesIO()
    art.output("image").save(buf, format="PNG", pnginfo=info, compress_level=6)
    return buf.getvalue()


def xmp_packet(rec: str) -> bytes:
    from xml.sax.saxutils import escape

    from yingshe.core.records import XMP_NS

    return ('<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>'
            '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
            f'<rdf:Description rdf:about="" xmlns:ys="{XMP_NS}"><ys:record>{escape(rec)}</ys:record>'
            '</rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end="w"?>').encode("utf-8")


def _pil(fmt: str, **kw) -> Callable:
    def encode(art: "Artwork", rec: str) -> bytes:
        buf = io.BytesIO()
        extra = dict(kw)
        if fmt in ("JPEG", "WEBP"):
            packet = xmp_packet(rec)
            if fmt == "JPEG" and len(packet) > 65000:  # one JPEG segment holds 64 KB
                raise BadInput("this artwork's recipe is too long for a JPEG; save it as .png")
            extra["xmp"] = packet
        art.output("image").save(buf, format=fmt, **extra)
        return buf.getvalue()
    return encode


def _svg(art: "Artwork", rec: str) -> bytes:
    import re

    svg = art.output("vector")
    payload = rec.replace("]]>", "]]\\u003e")  # a JSON string escape: CDATA cannot hold "]]>"
    meta = f'<metadata id="yingshe"><![CDATA[{payload}]]></metadata>'
    m = re.search(r"<svg\b[^>]*>", svg)
    if not m:
        raise ValueError("not an SVG document")
    return (svg[:m.end()] + meta + svg[m.end():]).encode("utf-8")


def _gif(art: "Artwork", rec: str) -> bytes:
    from yingshe.core.video import gif_bytes

    video = art.output("video")
    return gif_bytes(video.frames, video.fps, rec.encode("utf-8"))


def _video(container: str):
    def write(art: "Artwork", rec: str) -> bytes:
        from yingshe.core.video import video_bytes

        video = art.output("video")
        return video_bytes(video.frames, video.fps, video.audio, container=container)

    return write


def _wav(art: "Artwork", rec: str) -> bytes:
    from yingshe.core.audio import wav_bytes

    return wav_bytes(art.output("audio"))


def _flac(art: "Artwork", rec: str) -> bytes:
    from yingshe.core.audio import flac_bytes

    return flac_bytes(art.output("audio"), rec)


def _mid(art: "Artwork", rec: str) -> bytes:
    from yingshe.core.midi import midi_bytes

    return midi_bytes(art.output("midi"), json.dumps(json.loads(rec), ensure_ascii=True, sort_keys=True))


def _txt(art: "Artwork", rec: str) -> bytes:
    text = art.output("text")
    return (text if text.endswith("\n") else text + "\n").encode("utf-8")


def _json(art: "Artwork", rec: str) -> bytes:
    out = {"yingshe": json.loads(rec)}
    if art.text is not None:
        out["text"] = art.text
    return (json.dumps(out, ensure_ascii=False, indent=2, sort_keys=True) + "\n").encode("utf-8")


WRITERS: dict[str, Writer] = {w.ext: w for w in [
    Writer(".png", "image", True, _png, "PNG picture"),
    Writer(".jpg", "image", True, _pil("JPEG", quality=95), "JPEG picture"),
    Writer(".jpeg", "image", True, _pil("JPEG", quality=95), "JPEG picture"),
    Writer(".webp", "image", True, _pil("WEBP", quality=95), "WebP picture"),
    Writer(".tif", "image", False, _pil("TIFF"), "TIFF picture"),
    Writer(".tiff", "image", False, _pil("TIFF"), "TIFF picture"),
    Writer(".bmp", "image", False, _pil("BMP"), "BMP picture"),
    Writer(".svg", "vector", True, _svg, "SVG drawing"),
    Writer(".gif", "video", True, _gif, "GIF animation"),
    Writer(".mp4", "video", False, _video("mp4"), "MP4 video (with its sound)"),
    Writer(".webm", "video", False, _video("webm"), "WebM video (VP9, with its sound in Opus)"),
    Writer(".wav", "audio", False, _wav, "WAV sound"),
    Writer(".flac", "audio", True, _flac, "FLAC sound"),
    Writer(".mid", "midi", True, _mid, "MIDI score"),
    Writer(".midi", "midi", True, _mid, "MIDI score"),
    Writer(".txt", "text", False, _txt, "text"),
    Writer(".md", "text", False, _txt, "Markdown text"),
    Writer(".json", "record", True, _json, "JSON record"),
]}

#: extension a kind is saved with when the user names none
DEFAULT_EXT = {"image": ".png", "vector": ".svg", "video": ".mp4", "audio": ".wav", "midi": ".mid", "text": ".txt"}


def register_writer(writer: Writer) -> None:
    """Mapping packages add formats of their own (e.g. ``.musicxml`` for scores)."""
    WRITERS[writer.ext] = writer


def writer_for(path) -> Writer:
    from pathlib import Path

    ext = Path(str(path)).suffix.lower()
    if ext not in WRITERS:
        raise BadInput(f"cannot write {ext or 'files without an extension'!r}; yingshe writes "
                       + ", ".join(sorted(WRITERS)))
    return WRITERS[ext]


@dataclass
class Encoded:
    data: bytes
    sidecar: bytes | None  # the record as JSON when the format has no room for it
    kind: str
    width: int | None = None
    height: int | None = None
    duration: float | None = None


def encode(art: "Artwork", path, record: dict) -> Encoded:
    """The bytes of ``art`` saved at ``path`` (its extension picks the writer) with ``record``."""
    w = writer_for(path)
    if w.kind != "record" and w.kind not in art.kinds():
        raise BadInput(f"{art.mapping} makes {', '.join(art.kinds()) or 'nothing'}; "
                       f"{w.ext} is a {w.what} ({w.kind}); save it as "
                       + " or ".join(DEFAULT_EXT[k] for k in art.kinds() if k in DEFAULT_EXT))
    rec = record_json(record)
    data = w.encode(art, rec)
    side = None if w.embeds else (json.dumps(record, ensure_ascii=False, indent=2, sort_keys=True)).encode("utf-8")
    kind = w.kind if w.kind != "record" else art.kinds()[0] if art.kinds() else "record"
    width = height = duration = None
    if w.kind in ("image", "vector") and art.image is not None:
        width, height = art.image.size
    elif w.kind == "video":
        v = art.output("video")
        width, height = v.size
        duration = v.duration
    elif w.kind == "audio":
        duration = art.output("audio").duration
    elif w.kind == "midi":
        duration = art.output("midi").duration
    return Encoded(data, side, kind, width, height, duration)
