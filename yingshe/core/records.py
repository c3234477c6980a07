"""Reading an artwork's record back: the one reader that ``info``, ``recreate``, the gallery and
the studio use, for every format an artwork can be saved in.

A record in a file is untrusted input: whoever made the file wrote it. So the reader

- opens only regular files (never a FIFO or a device), and reads at most what it needs: the
  record's own chunk, comment or meta-event, never the whole file;
- refuses a record larger than :data:`MAX_RECORD_BYTES` before reading it, and JSON nested
  deeper than :data:`MAX_DEPTH` before parsing it (Python's json would recurse until it crashes);
- checks every field against the schema below (types, known keys, fingerprints that look like
  sha256, the recipe validated exactly as command-line input is, inputs named by the mapping),
  recursively for the records of inputs that were themselves artworks (a chain);
- says what is wrong in one line (:class:`BadInput`, exit 2).

Where the record lives, by format (writers in :mod:`yingshe.core.writers` put it there):
PNG iTXt chunk ``yingshe``; JPEG and WebP XMP (``ys:record``); GIF comment extension; SVG
``<metadata id="yingshe">``; FLAC Vorbis comment ``YINGSHE``; MIDI text meta-event
``yingshe:{...}`` in the first track; ``.json`` files are records (or ``{"yingshe": record}``);
everything else (WAV, MP4, TXT, MD, TIFF...) has a ``NAME.EXT.json`` sidecar.
"""

from __future__ import annotations

import json
import os
import re
import struct
import zlib
from pathlib import Path
from typing import Any

from yingshe.core.errors import BadInput
from yingshe.core.files import check_file

#: Largest record we read (the JSON text). Real records are a few KB; chains of ten, tens of KB.
MAX_RECORD_BYTES = 1 << 20
#: Deepest JSON nesting we parse: a chain of artworks adds four levels per step.
MAX_DEPTH = 96
#: Longest chain of artworks (input records nested in records).
MAX_CHAIN = 16
#: The PNG text key, the FLAC comment field and the MIDI meta-event prefix.
RECORD_KEY = "yingshe"
MIDI_PREFIX = "yingshe:"
XMP_NS = "https://yingshe.dev/ns/1.0/"
#: MIDI files larger than this are not parsed for a record (a song is a few hundred KB at most).
MAX_MIDI_BYTES = 32 << 20

SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
TOP_KEYS = {"format", "version", "mapping", "recipe", "inputs", "weights", "device", "threads", "torch", "python",
            "created", "seconds", "summary", "interrupted"}
INPUT_KEYS = {"source", "sha256", "kind", "record", "text", "name"}
FORMAT = 1


def sidecar_path(path: str | os.PathLike) -> Path:
    path = Path(path)
    return path.with_name(path.name + ".json")


# --------------------------------------------------------------------------- JSON, safely

def parse_json(text: str | bytes, *, what: str = "record") -> Any:
    """``json.loads`` with a size limit, a nesting limit and no NaN/Infinity."""
    if isinstance(text, bytes):
        if len(text) > MAX_RECORD_BYTES:
            raise BadInput(f"{what} is {len(text):,} bytes: more than the {MAX_RECORD_BYTES:,}-byte limit for a record")
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError:
            raise BadInput(f"{what} is not UTF-8 text") from None
    if len(text) > MAX_RECORD_BYTES:
        raise BadInput(f"{what} is {len(text):,} characters: more than the {MAX_RECORD_BYTES:,} limit for a record")
    depth = _max_depth(text)
    if depth > MAX_DEPTH:
        raise BadInput(f"{what} nests {depth} levels deep (more than {MAX_DEPTH}): not a yingshe record")

    def no_constants(name):
        raise ValueError(f"{name} is not allowed")

    try:
        return json.loads(text, parse_constant=no_constants)
    except RecursionError:  # belt and braces: the depth check above should have caught it
        raise BadInput(f"{what} nests too deeply: not a yingshe record") from None
    except ValueError as e:
        raise BadInput(f"{what} is not valid JSON ({str(e).splitlines()[0][:80]})") from None


_STRING_RE = re.compile(r'"(?:[^"\\]|\\.)*"', re.S)


def _max_depth(text: str) -> int:
    """Deepest bracket nesting outside strings (numpy over the characters: fast for 1 MB)."""
    import numpy as np

    stripped = _STRING_RE.sub('""', text)
    b = np.frombuffer(stripped.encode("utf-8", "surrogatepass"), dtype=np.uint8)
    step = (np.isin(b, (ord("["), ord("{"))).astype(np.int32) - np.isin(b, (ord("]"), ord("}"))).astype(np.int32))
    return int(step.cumsum().max(initial=0))


# --------------------------------------------------------------------------- schema

def validate(record: Any, *, where: str = "record", chain: int = 0, check_recipe: bool = True) -> dict:
    """Check a record's shape and values; return it (unchanged). BadInput names the first fault."""
    from yingshe.core import registry

    if chain > MAX_CHAIN:
        raise BadInput(f"{where}: a chain of more than {MAX_CHAIN} artworks")
    if not isinstance(record, dict):
        raise BadInput(f"{where} is not a JSON object")
    if "mapping" not in record or "recipe" not in record:
        raise BadInput(f"{where} is not a yingshe record (no mapping/recipe)")
    unknown = sorted(set(record) - TOP_KEYS)
    if unknown:
        raise BadInput(f"{where} has unknown field(s): {', '.join(map(_short, unknown))}")
    fmt = record.get("format", FORMAT)
    if not isinstance(fmt, int) or isinstance(fmt, bool) or fmt < 1:
        raise BadInput(f"{where}: format must be a positive whole number")
    if fmt > FORMAT:
        raise BadInput(f"{where} was written by a newer yingshe (record format {fmt}); upgrade yingshe to read it")
    for key in ("version", "device", "torch", "python", "created"):
        if key in record and record[key] is not None and not isinstance(record[key], str):
            raise BadInput(f"{where}: {key} must be text")
        if isinstance(record.get(key), str) and len(record[key]) > 200:
            raise BadInput(f"{where}: {key} is too long")
    if not isinstance(record["mapping"], str):
        raise BadInput(f"{where}: mapping must be text")
    for key, tp in (("threads", int), ("seconds", (int, float))):
        v = record.get(key)
        if v is not None and (isinstance(v, bool) or not isinstance(v, tp) or v < 0 or v > 1e9):
            raise BadInput(f"{where}: {key} must be a number between 0 and 1e9")
    if not isinstance(record.get("interrupted", False), bool):
        raise BadInput(f"{where}: interrupted must be true or false")
    if not isinstance(record.get("summary", {}), dict):
        raise BadInput(f"{where}: summary must be a JSON object")
    mapping = registry.get(record["mapping"]) if check_recipe else None
    if not isinstance(record["recipe"], dict):
        raise BadInput(f"{where}: recipe must be a JSON object")
    if mapping is not None:
        mapping.recipe.from_dict(record["recipe"])  # the same checks as command-line input
    specs = mapping.input_specs(record["recipe"]) if mapping is not None else None
    _validate_inputs(record.get("inputs", {}), mapping, specs, where, chain, check_recipe)
    weights = record.get("weights", {})
    if not isinstance(weights, dict):
        raise BadInput(f"{where}: weights must be a JSON object")
    for name, w in weights.items():
        if not isinstance(w, dict):
            raise BadInput(f"{where}: weights {_short(name)} must be a JSON object")
        if len(w) > 32:
            raise BadInput(f"{where}: weights {_short(name)} has too many fields")
        for k, v in w.items():  # source, sha256, family, and what a model adds (tokenizer_sha256...)
            if isinstance(v, bool) or not isinstance(v, (str, int, float)) or (isinstance(v, str) and len(v) > 4096):
                raise BadInput(f"{where}: weights {_short(name)}.{_short(k)} must be text or a number")
        if not isinstance(w.get("source", ""), str):
            raise BadInput(f"{where}: weights {_short(name)} source must be text")
        if "sha256" in w and not SHA256_RE.match(w["sha256"]):
            raise BadInput(f"{where}: weights {_short(name)} sha256 is not a sha256")
    return record


def _validate_inputs(inputs: Any, mapping, specs, where: str, chain: int, check_recipe: bool) -> None:
    from yingshe.core.media import KINDS

    if not isinstance(inputs, dict):
        raise BadInput(f"{where}: inputs must be a JSON object")
    names = {s.name for s in specs} if specs is not None else None
    for name, items in inputs.items():
        if names is not None and name not in names:
            raise BadInput(f"{where}: {mapping.name} takes no input called {_short(name)} "
                           f"(its inputs: {', '.join(sorted(names)) or 'none'})")
        if not isinstance(items, list) or len(items) > 1000:
            raise BadInput(f"{where}: input {_short(name)} must be a list of sources")
        for item in items:
            if not isinstance(item, dict):
                raise BadInput(f"{where}: input {_short(name)} holds something that is not a source")
            bad = sorted(set(item) - INPUT_KEYS)
            if bad:
                raise BadInput(f"{where}: input {_short(name)} has unknown field(s): {', '.join(map(_short, bad))}")
            src = item.get("source")
            if not isinstance(src, str) or not src or len(src) > 4096 or "\x00" in src:
                raise BadInput(f"{where}: input {_short(name)} has no usable source")
            sha = item.get("sha256")
            if not isinstance(sha, str) or not SHA256_RE.match(sha):
                raise BadInput(f"{where}: input {_short(name)} sha256 is not a sha256")
            if "kind" in item and item["kind"] not in KINDS:
                raise BadInput(f"{where}: input {_short(name)} has an unknown kind")
            for key in ("text", "name"):
                if key in item and not isinstance(item[key], str):
                    raise BadInput(f"{where}: input {_short(name)} {key} must be text")
            if "record" in item:
                validate(item["record"], where=f"{where} → {name}", chain=chain + 1, check_recipe=check_recipe)


def _short(x: Any) -> str:
    s = str(x)
    return repr(s if len(s) <= 40 else s[:37] + "...")


# --------------------------------------------------------------------------- files

def read_record(path: str | os.PathLike, *, check: bool = True) -> dict:
    """The validated record of an artwork file, wherever its format keeps it."""
    p = Path(path)
    raw = read_raw(p)
    if raw is None:
        raise BadInput(f"{str(p)!r} carries no yingshe recipe (was it made by yingshe, or re-saved by another program?)")
    record = parse_json(raw, what=f"the recipe in {str(p)!r}")
    if isinstance(record, dict) and set(record) == {"yingshe"} | (set(record) - TOP_KEYS) and "yingshe" in record \
            and "mapping" not in record:
        record = record["yingshe"]  # a .json artwork: {"yingshe": record, "text": ...}
    return validate(record, where=f"the recipe in {str(p)!r}", check_recipe=check)


def read_raw(p: Path) -> bytes | None:
    """The record's JSON bytes from ``p`` (embedded, or the sidecar), or None if there is none."""
    check_file(p, "", kind="artwork")
    ext = p.suffix.lower()
    embedded = None
    with open(p, "rb") as f:
        if ext == ".json":
            return _read_limited(f, p)
        head = f.read(16)
        f.seek(0)
        try:
            if head.startswith(b"\x89PNG\r\n\x1a\n"):
                embedded = _png(f)
            elif head.startswith(b"\xff\xd8"):
                embedded = _jpeg(f)
            elif head[:4] == b"RIFF" and head[8:12] == b"WEBP":
                embedded = _webp(f)
            elif head[:6] in (b"GIF87a", b"GIF89a"):
                embedded = _gif(f)
            elif head[:4] == b"fLaC":
                embedded = _flac(p)
            elif head[:4] == b"MThd":
                embedded = _midi(f, p)
            elif ext == ".svg" or head.lstrip().startswith((b"<?xml", b"<svg")):
                embedded = _svg(f)
        except (struct.error, zlib.error, EOFError, ValueError) as e:
            if isinstance(e, BadInput):
                raise
            raise BadInput(f"{str(p)!r} is damaged where its recipe should be ({type(e).__name__})") from None
    if embedded is not None:
        return embedded
    side = sidecar_path(p)
    if side.exists():
        check_file(side, "sidecar")
        with open(side, "rb") as f:
            return _read_limited(f, side)
    return None


def _read_limited(f, p: Path) -> bytes:
    data = f.read(MAX_RECORD_BYTES + 1)
    if len(data) > MAX_RECORD_BYTES:
        raise BadInput(f"{str(p)!r} is larger than the {MAX_RECORD_BYTES:,}-byte limit for a record")
    return data


def _need(f, n: int) -> bytes:
    b = f.read(n)
    if len(b) < n:
        raise EOFError
    return b


def _png(f) -> bytes | None:
    f.seek(8)
    while True:
        head = f.read(8)
        if len(head) < 8:
            return None
        length, ctype = struct.unpack(">I4s", head)
        if ctype in (b"IDAT", b"IEND"):
            return None  # our record is written before the pixels
        if ctype in (b"tEXt", b"iTXt", b"zTXt"):
            if length > MAX_RECORD_BYTES + 1024:
                # Peek at the keyword: only our own chunk's size matters.
                key = f.read(min(length, 80)).split(b"\x00", 1)[0]
                if key == RECORD_KEY.encode():
                    raise BadInput(f"its recipe chunk is {length:,} bytes: more than the "
                                   f"{MAX_RECORD_BYTES:,}-byte limit for a record")
                f.seek(length - min(length, 80) + 4, 1)
                continue
            data = _need(f, length)
            f.seek(4, 1)  # CRC
            key, _, rest = data.partition(b"\x00")
            if key != RECORD_KEY.encode():
                continue
            if ctype == b"tEXt":
                return rest
            if ctype == b"zTXt":
                return _inflate(rest[1:])
            comp_flag, comp_method = rest[0], rest[1]
            rest = rest[2:]
            _lang, _, rest = rest.partition(b"\x00")
            _tkey, _, text = rest.partition(b"\x00")
            return _inflate(text) if comp_flag else text
        f.seek(length + 4, 1)


def _inflate(data: bytes) -> bytes:
    d = zlib.decompressobj()
    out = d.decompress(data, MAX_RECORD_BYTES + 1)
    if len(out) > MAX_RECORD_BYTES or d.unconsumed_tail:
        raise BadInput(f"its compressed recipe inflates to more than the {MAX_RECORD_BYTES:,}-byte limit")
    return out


_XMP_RE = re.compile(rb"<ys:record>(.*?)</ys:record>", re.S)


def _from_xmp(xmp: bytes) -> bytes | None:
    m = _XMP_RE.search(xmp)
    if not m:
        return None
    from xml.sax.saxutils import unescape

    return unescape(m.group(1).decode("utf-8")).encode("utf-8")


def _jpeg(f) -> bytes | None:
    f.seek(2)
    while True:
        marker = f.read(2)
        if len(marker) < 2 or marker[0] != 0xFF or marker[1] in (0xDA, 0xD9):
            return None  # start of scan / end of image: no more metadata
        length = struct.unpack(">H", _need(f, 2))[0]
        if length < 2:
            return None
        if marker[1] == 0xE1:
            data = _need(f, length - 2)  # a JPEG segment is at most 64 KB
            if data.startswith(b"http://ns.adobe.com/xap/1.0/\x00"):
                rec = _from_xmp(data)
                if rec is not None:
                    return rec
        else:
            f.seek(length - 2, 1)


def _webp(f) -> bytes | None:
    size = struct.unpack("<I", _need(f, 12)[4:8])[0]
    pos = 12
    while pos + 8 <= size + 8:
        head = f.read(8)
        if len(head) < 8:
            return None
        ctype, length = head[:4], struct.unpack("<I", head[4:])[0]
        if ctype == b"XMP ":
            if length > MAX_RECORD_BYTES * 2:
                raise BadInput(f"its XMP block is {length:,} bytes: more than the limit for a record")
            return _from_xmp(_need(f, length))
        f.seek(length + (length & 1), 1)
        pos += 8 + length + (length & 1)
    return None


def _gif(f) -> bytes | None:
    head = _need(f, 13)
    flags = head[10]
    if flags & 0x80:
        f.seek(3 * (2 << (flags & 7)), 1)  # global colour table
    while True:
        b = f.read(1)
        if not b or b in (b"\x2c", b"\x3b"):
            return None  # first image (our comment precedes it) or the trailer
        if b != b"\x21":
            return None
        label = _need(f, 1)[0]
        parts, total = [], 0
        while True:
            n = _need(f, 1)[0]
            if n == 0:
                break
            if label == 0xFE:
                total += n
                if total > MAX_RECORD_BYTES:
                    raise BadInput(f"its comment is more than the {MAX_RECORD_BYTES:,}-byte limit for a record")
                parts.append(_need(f, n))
            else:
                f.seek(n, 1)
        if label == 0xFE:
            text = b"".join(parts)
            if text.startswith(b"{"):
                return text


_SVG_RE = re.compile(rb'<metadata id="yingshe">\s*<!\[CDATA\[(.*?)\]\]>\s*</metadata>', re.S)


def _svg(f) -> bytes | None:
    head = f.read(MAX_RECORD_BYTES + 4096)  # our metadata sits right after the <svg> tag
    m = _SVG_RE.search(head)
    return m.group(1) if m else None


def _flac(p: Path) -> bytes | None:
    import mutagen.flac

    try:
        tags = mutagen.flac.FLAC(p).tags
    except Exception as e:  # mutagen's own error types for damaged files
        raise BadInput(f"{str(p)!r} is a damaged FLAC file ({type(e).__name__})") from None
    if not tags:
        return None
    values = tags.get(RECORD_KEY.upper()) or tags.get(RECORD_KEY)
    return values[0].encode("utf-8") if values else None


def _midi(f, p: Path) -> bytes | None:
    import mido

    data = f.read(MAX_MIDI_BYTES + 1)
    if len(data) > MAX_MIDI_BYTES:
        raise BadInput(f"{str(p)!r} is larger than the {MAX_MIDI_BYTES >> 20} MB limit for a MIDI file")
    import io

    try:
        mid = mido.MidiFile(file=io.BytesIO(data))
    except Exception as e:  # mido raises OSError, EOFError, ValueError, KeyError... on bad bytes
        raise BadInput(f"{str(p)!r} is a damaged MIDI file ({str(e).splitlines()[0][:60] if str(e) else type(e).__name__})") from None
    for track in mid.tracks[:1]:
        for msg in track:
            if msg.is_meta and msg.type == "text" and msg.text.startswith(MIDI_PREFIX):
                return msg.text[len(MIDI_PREFIX):].encode("latin-1")
    return None
