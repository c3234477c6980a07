"""Typesetting a poem into a picture.

Chinese: vertical columns read top to bottom, right to left, the title in the first (rightmost)
column and a red seal at the end, on paper-coloured ground; punctuation sits in the upper right
of its cell as vertical text has it. English: lines set flush left under a centred title, in a
serif face.

Fonts: a CJK font is needed for Chinese. ``$YINGSHE_CJK_FONT`` (a .ttf/.otf/.ttc file) wins;
else fontconfig is asked for a font covering Chinese; else well-known system paths are tried
(WenQuanYi, Noto CJK, Droid, AR PL). No pip package that ships a CJK font is a dependency (the
ones on PyPI are tens of MB and not maintained by the font's authors), so a machine without one
gets a one-line error naming what to install.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from functools import lru_cache
from pathlib import Path

from yingshe.core.errors import BadInput

PAPER = (246, 239, 222)
INK = (38, 34, 30)
SEAL = (178, 34, 34)

_CJK_PATHS = (
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSerifCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
    "/usr/share/fonts/truetype/arphic/uming.ttc",
    "/System/Library/Fonts/PingFang.ttc",
    "/System/Library/Fonts/STHeiti Medium.ttc",
    "C:/Windows/Fonts/msyh.ttc",
    "C:/Windows/Fonts/simsun.ttc",
)
_SERIF_PATHS = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSerif-Regular.ttf",
    "/Library/Fonts/Georgia.ttf",
    "C:/Windows/Fonts/georgia.ttf",
)


@lru_cache(maxsize=1)
def find_cjk_font() -> str:
    env = os.environ.get("YINGSHE_CJK_FONT")
    if env:
        if not Path(env).is_file():
            raise BadInput(f"YINGSHE_CJK_FONT={env!r} is not a font file")
        return env
    fc = shutil.which("fc-match")
    if fc:
        try:
            out = subprocess.run([fc, "-f", "%{file}", ":lang=zh-cn"], capture_output=True, text=True, timeout=10)
            path = out.stdout.strip()
            if out.returncode == 0 and path and Path(path).is_file() and _has_han(path):
                return path
        except (OSError, subprocess.SubprocessError):
            pass
    for p in _CJK_PATHS:
        if Path(p).is_file():
            return p
    raise BadInput("no Chinese (CJK) font found to typeset the poem: install one (Debian/Ubuntu: "
                   "apt install fonts-wqy-zenhei or fonts-noto-cjk) or set YINGSHE_CJK_FONT to a .ttf/.ttc file")


def _has_han(path: str) -> bool:
    """Does the font draw 永 (fc-match falls back to any font when nothing covers Chinese)?"""
    try:
        from PIL import ImageFont

        font = ImageFont.truetype(path, 32)
        return font.getmask("永").getbbox() is not None and font.getlength("永") > 20
    except OSError:
        return False


def _serif_font(size: int):
    from PIL import ImageFont

    for p in _SERIF_PATHS:
        if Path(p).is_file():
            return ImageFont.truetype(p, size)
    try:
        import matplotlib

        p = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSerif.ttf"
        if p.is_file():
            return ImageFont.truetype(str(p), size)
    except ImportError:
        pass
    return ImageFont.load_default(size)


def typeset_chinese(title: str, lines: list[str], *, cell: int = 64, font_path: str | None = None):
    """Vertical columns, right to left: the title, then one column per line with its punctuation."""
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.truetype(font_path or find_cjk_font(), int(cell * 0.78))
    small = ImageFont.truetype(font_path or find_cjk_font(), int(cell * 0.5))
    n = max(len(x) for x in lines)
    rows = max(n + 1, len(title) + 1)  # a cell of room for the punctuation under each line
    margin = cell
    cols = len(lines) + (2 if title else 0)
    W = margin * 2 + cols * cell + (cell // 2) * (len(lines) // 2)  # a little air between couplets
    H = margin * 2 + rows * cell + cell  # and room for the seal
    img = Image.new("RGB", (W, H), PAPER)
    d = ImageDraw.Draw(img)
    x = W - margin - cell

    def glyph(ch, cx, cy, f, fill=INK):
        box = d.textbbox((0, 0), ch, font=f)
        d.text((cx - (box[0] + box[2]) / 2, cy - (box[1] + box[3]) / 2), ch, font=f, fill=fill)

    if title:
        for j, ch in enumerate(title):
            glyph(ch, x + cell / 2, margin + (j + 0.5) * cell, font)
        x -= 2 * cell
    for i, line in enumerate(lines):
        for j, ch in enumerate(line):
            glyph(ch, x + cell / 2, margin + (j + 0.5) * cell, font)
        mark = "，" if i % 2 == 0 else "。"
        # vertical punctuation: the upper right quarter of the cell below the last character
        glyph(mark, x + cell * 0.78, margin + len(line) * cell + cell * 0.22, small)
        x -= cell + (cell // 2 if i % 2 == 1 else 0)
    # the seal: 映射, white on red, bottom left
    s = int(cell * 1.1)
    sx, sy = margin // 2, H - margin - s
    d.rectangle([sx, sy, sx + s, sy + s], fill=SEAL)
    seal = ImageFont.truetype(font_path or find_cjk_font(), int(s * 0.42))
    for k, ch in enumerate("映射"):
        glyph(ch, sx + s / 2, sy + s * (0.28 + 0.44 * k), seal, fill=PAPER)
    return img


def typeset_english(title: str, lines: list[str], *, size: int = 28):
    """Lines flush left on paper; the title centred above in a larger size."""
    from PIL import Image, ImageDraw

    font = _serif_font(size)
    head = _serif_font(int(size * 1.3))
    lh = int(size * 1.6)
    d0 = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    width = max([d0.textlength(x, font=font) for x in lines] + [d0.textlength(title, font=head) if title else 0])
    margin = size * 2
    W = int(width + 2 * margin)
    H = int(2 * margin + lh * (len(lines) + (2 if title else 0) + (1 if len(lines) > 4 else 0)))
    img = Image.new("RGB", (W, H), PAPER)
    d = ImageDraw.Draw(img)
    y = margin
    if title:
        d.text((W / 2, y), title, font=head, fill=INK, anchor="ma")
        y += 2 * lh
    for i, line in enumerate(lines):
        if len(lines) == 14 and i == 12:
            y += lh // 2  # the couplet stands apart
        d.text((margin, y), line, font=font, fill=INK)
        y += lh
    return img
