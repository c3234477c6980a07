"""Text in: a string given on the command line, or a file named with ``@poem.txt``.

Refused in one line: missing or non-regular files, files over :data:`MAX_BYTES`, binary files
(NUL bytes, or not UTF-8/UTF-16 text), and text with nothing in it. A UTF-8 or UTF-16 byte
order mark is honoured; line endings become ``\\n``.
"""

from __future__ import annotations

import os

from yingshe.core.errors import BadInput

#: Largest text input (a long poem is a few KB; a novel is not an input).
MAX_BYTES = int(os.environ.get("YINGSHE_MAX_TEXT_BYTES", 256 * 1024))


def load_text_file(path: str | os.PathLike, *, what: str = "text") -> str:
    from yingshe.core.files import check_file

    p = check_file(path, what)
    if p.stat().st_size > MAX_BYTES:
        raise BadInput(f"{what} {str(p)!r} is {p.stat().st_size:,} bytes: more than the {MAX_BYTES:,}-byte "
                       "limit for text")
    return decode_text(p.read_bytes(), name=str(p), what=what)


def decode_text(data: bytes, *, name: str = "<text>", what: str = "text") -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError:
            raise BadInput(f"{what} {name!r} is damaged UTF-16 text") from None
    else:
        if b"\x00" in data:
            raise BadInput(f"{what} {name!r} is a binary file, not text")
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise BadInput(f"{what} {name!r} is not UTF-8 text (a binary file, or another encoding: "
                           "save it as UTF-8)") from None
    return clean_text(text, name=name, what=what)


def clean_text(text: str, *, name: str = "<text>", what: str = "text") -> str:
    if len(text.encode("utf-8")) > MAX_BYTES:
        raise BadInput(f"{what} {name!r} is longer than the {MAX_BYTES:,}-byte limit for text")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    bad = sum(1 for ch in text if ord(ch) < 32 and ch not in "\n\t")
    if bad:
        raise BadInput(f"{what} {name!r} holds {bad} control character(s): a binary file, not text")
    if not text.strip():
        raise BadInput(f"{what} {name!r} is empty")
    return text
