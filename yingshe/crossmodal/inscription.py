"""The poem written on the painting (题画诗): vertical columns right to left, and a red seal.

A Chinese poem is written the old way: no punctuation, one column per line of verse (a long
line wraps), columns from right to left, in the emptiest upper corner of the picture; the seal
(印) is stamped below the last column, white characters cut into red. English poems are written
in horizontal lines in the same corner.

Fonts: a Kai (楷) hand when one is installed (LXGW WenKai, AR PL UKai), else any CJK font
(Noto Serif/Sans CJK, WenQuanYi Zen Hei...), found by path and by ``fc-match``;
``$YINGSHE_CJK_FONT`` names one explicitly. With none, writing a poem is a one-line BadInput that
says what to install (or: ``--no-text``).
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from yingshe.core.errors import BadInput

#: CJK fonts by preference: calligraphic Kai hands first, then serif, then sans.
CJK_FONTS = [
    "/usr/share/fonts/truetype/lxgw-wenkai/LXGWWenKai-Regular.ttf",
    "/usr/share/fonts/truetype/arphic/ukai.ttc",
    "/usr/share/fonts/truetype/arphic-gkai00mp/gkai00mp.ttf",
    "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSerifCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/arphic/uming.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/wenquanyi/wqy-zenhei/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
    "/Library/Fonts/Kaiti.ttc",
    "/System/Library/Fonts/Supplemental/Kaiti.ttc",
    "/System/Library/Fonts/Supplemental/Songti.ttc",
    "/System/Library/Fonts/STHeiti Medium.ttc",
    "/System/Library/Fonts/PingFang.ttc",
    "C:/Windows/Fonts/simkai.ttf",
    "C:/Windows/Fonts/simsun.ttc",
    "C:/Windows/Fonts/msyh.ttc",
]
LATIN_FONTS = [
    "/usr/share/fonts/truetype/dejavu/DejaVuSerif-Italic.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSerif-Italic.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf",
]
INSTALL_HINT = ("install a CJK font (Debian/Ubuntu: apt install fonts-lxgw-wenkai or fonts-wqy-zenhei), name one "
                "with YINGSHE_CJK_FONT=/path/to/font.ttf, or pass --no-text")
SEAL_RED = (182, 38, 34)
PUNCT = re.compile(r"[，。！？；：、,.!?;:\"'“”‘’（）()《》〈〉「」『』【】\-—…·\s]+")


def _has_cjk(path: str) -> bool:
    """True when the font draws Han characters (not the same 'missing glyph' box for each)."""
    try:
        f = ImageFont.truetype(path, 32)
        a, b = f.getmask("月"), f.getmask("山")
    except OSError:
        return False
    return a.getbbox() is not None and bytes(a) != bytes(b)


@functools.lru_cache(maxsize=None)
def find_cjk_font() -> str | None:
    """Path of the best CJK font on this machine, or None."""
    env = os.environ.get("YINGSHE_CJK_FONT")
    if env:
        if not Path(env).is_file() or not _has_cjk(env):
            raise BadInput(f"YINGSHE_CJK_FONT={env!r} is not a font file that has Chinese characters")
        return env
    for path in CJK_FONTS:
        if Path(path).is_file() and _has_cjk(path):
            return path
    if shutil.which("fc-match"):
        try:
            out = subprocess.run(["fc-match", "-f", "%{file}", ":lang=zh-cn"], capture_output=True, text=True,
                                 timeout=10).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            out = ""
        if out and Path(out).is_file() and _has_cjk(out):
            return out
    return None


@functools.lru_cache(maxsize=None)
def find_latin_font() -> str | None:
    for path in LATIN_FONTS:
        if Path(path).is_file():
            return path
    return None


def font_name(path: str | None) -> str:
    if path is None:
        return "Pillow's built-in font"
    try:
        fam, style = ImageFont.truetype(path, 12).getname()
        return f"{fam} {style}".strip()
    except OSError:
        return Path(path).name


def _lines_zh(poem: str) -> list[str]:
    out = []
    for raw in poem.splitlines():
        for part in re.split(r"[，。！？；：,.!?;:]+", raw):
            part = PUNCT.sub("", part)
            if part:
                out.append(part)
    return out


def _lines_en(poem: str) -> list[str]:
    return [ln.strip() for ln in poem.splitlines() if ln.strip()]


def _busy_map(img: Image.Image) -> np.ndarray:
    """How much is going on at each pixel (strokes, edges) at a quarter of the size: 0 = an even
    wash or bare paper (a dark night sky is as empty as paper), up to 1."""
    from PIL import ImageFilter

    small = img.convert("L").reduce(4)
    a = np.asarray(small, np.float32)
    smooth = np.asarray(small.filter(ImageFilter.GaussianBlur(1.5)), np.float32)
    edges = Image.fromarray(np.clip(np.abs(a - smooth) * 20, 0, 255).astype(np.uint8), "L")
    edges = edges.filter(ImageFilter.GaussianBlur(3))
    return np.clip(np.asarray(edges, np.float32) / 120.0, 0, 1)


def _best_corner(img, occupied, bw: float, bh: float, margin_x: float, margin_y: float) -> tuple[float, float]:
    """Top-left of the emptiest place for a bw×bh block: top right (the classical place) or top left."""
    W, H = img.size
    ink = _busy_map(img)
    k = 4
    cands = [(W - margin_x - bw, margin_y, 0.0), (margin_x, margin_y, 0.02),
             (W * 0.62 - bw / 2, margin_y, 0.05), (W * 0.38 - bw / 2, margin_y, 0.06)]
    best, best_score = None, 1e9
    for x, y, bias in cands:
        x = max(0.0, min(W - bw, x))
        region = ink[int(y / k):int((y + bh) / k) + 1, int(x / k):int((x + bw) / k) + 1]
        score = float(region.mean()) if region.size else 1.0
        for ox0, oy0, ox1, oy1, _ in occupied:  # bright things (moon, sun, birds...) are not empty space
            ix = max(0.0, min(x + bw, ox1) - max(x, ox0))
            iy = max(0.0, min(y + bh, oy1) - max(y, oy0))
            score += 2.0 * ix * iy / max(1.0, bw * bh)
        score += bias
        if score < best_score:
            best, best_score = (x, y), score
    return best


def write_poem(img: Image.Image, poem: str, language: str, occupied, *, seal: str, scale: float = 1.0) -> dict:
    """Write ``poem`` on ``img`` (in place). ``occupied``: boxes (x0, y0, x1, y1, what) to keep clear.
    Returns what was written, for the record."""
    W, H = img.size
    draw = ImageDraw.Draw(img, "RGBA")
    ink = (34, 30, 28, 235)
    if language == "zh":
        path = find_cjk_font()
        if path is None:
            raise BadInput("no Chinese font found to write the poem with: " + INSTALL_HINT)
        lines = _lines_zh(poem)
        if not lines:
            return {"text": "nothing to write"}
        gap = 1.3  # column pitch, in character sizes
        longest = max(len(ln) for ln in lines)
        cap = min(H * 0.06, W * 0.06) * scale
        best = None
        # one column per line of verse, or two or three lines run together when that fits better
        for per_col in sorted({min(longest * k, 24) for k in (1, 2, 3)}):
            if per_col == longest:
                cols = [ln[i:i + per_col] for ln in lines for i in range(0, len(ln), per_col)]
            else:
                run = "".join(lines)
                cols = [run[i:i + per_col] for i in range(0, len(run), per_col)]
            size = min(cap, H * 0.5 / (per_col * 1.05), W * 0.27 / (len(cols) * gap))
            if best is None or size > best[0] * 1.15:
                best = (size, per_col, cols)
        size, per_col, cols = best
        written = cols
        if size < H * 0.022:  # too long to write whole: the first columns at a legible size
            size = H * 0.022
            written = cols[:max(1, int(W * 0.3 / (size * gap)))]
        font = ImageFont.truetype(path, max(8, int(size)))
        bw = len(written) * size * gap
        bh = per_col * size * 1.05 + size * 1.3
        x0, y0 = _best_corner(img, occupied, bw, bh, W * 0.05, H * 0.06)
        for c, col in enumerate(written):
            x = x0 + bw - (c + 0.5) * size * gap
            for j, ch in enumerate(col):
                y = y0 + j * size * 1.05
                draw.text((x, y), ch, font=font, fill=ink, anchor="mt")
        last_x = x0 + size * gap * 0.5
        last_y = y0 + len(written[-1]) * size * 1.05 + size * 0.35
        seal_box = _seal(img, seal, last_x, last_y, size * 0.95, path) if seal else None
        out = {"text": "written", "columns": len(written), "font": font_name(path)}
        if len(written) < len(cols):
            out["text"] = f"first {len(written)} of {len(cols)} columns written (the poem is longer than the picture holds)"
        out["box"] = [round(v) for v in (x0, y0, x0 + bw, y0 + bh)]
        if seal_box:
            out["seal"] = seal
        return out
    path = find_latin_font() or find_cjk_font()
    lines = _lines_en(poem)
    if not lines:
        return {"text": "nothing to write"}
    size = H * 0.042 * scale
    font = _font(path, size)
    widest = max(draw.textlength(ln, font=font) for ln in lines)
    while (widest > W * 0.45 or len(lines) * size * 1.35 > H * 0.55) and size > H * 0.02:
        size *= 0.92
        font = _font(path, size)
        widest = max(draw.textlength(ln, font=font) for ln in lines)
    fit = max(1, int(H * 0.55 / (size * 1.35)))
    written = lines[:fit]
    bw, bh = min(widest, W * 0.6), len(written) * size * 1.35 + size * 1.4
    x0, y0 = _best_corner(img, occupied, bw, bh, W * 0.05, H * 0.06)
    for i, ln in enumerate(written):
        draw.text((x0, y0 + i * size * 1.35), ln, font=font, fill=ink)
    cjk = find_cjk_font()
    if seal and (cjk or all(ord(ch) < 128 for ch in seal)):
        _seal(img, seal, x0 + bw - size * 0.5, y0 + len(written) * size * 1.35 + size * 0.2, size * 1.1, cjk or path)
    out = {"text": "written", "lines": len(written), "font": font_name(path)}
    if len(written) < len(lines):
        out["text"] = f"first {len(written)} of {len(lines)} lines written (the poem is longer than the picture holds)"
    if seal and not (cjk or all(ord(ch) < 128 for ch in seal)):
        out["seal"] = "left off: no CJK font for its characters"
    elif seal:
        out["seal"] = seal
    return out


def _font(path, size):
    if path is None:
        return ImageFont.load_default(size=max(8, int(size)))
    return ImageFont.truetype(path, max(8, int(size)))


def _seal(img: Image.Image, text: str, cx: float, top: float, size: float, font_path: str | None):
    """A red seal with the characters cut out in white (白文), a little worn at the edges: one
    character square, two stacked in a tall seal, three or four in two columns read right first."""
    chars = list(text)[:4]
    n = len(chars)
    side = size * (1.0 if n == 1 else 1.3)
    sw, sh = (side * 0.62, side) if n == 2 else (side, side)
    W, H = img.size
    x0 = min(W - sw - 4, max(4, cx - sw / 2))
    y0 = min(H - sh - 4, top)
    m = Image.new("L", (int(sw) + 1, int(sh) + 1), 0)
    d = ImageDraw.Draw(m)
    d.rectangle((0, 0, sw, sh), fill=255)
    font = _font(font_path, sh * (0.78 if n == 1 else 0.4))
    if n == 1:
        cells = [(sw / 2, sh / 2)]
    elif n == 2:
        cells = [(sw / 2, sh * 0.27), (sw / 2, sh * 0.73)]
    else:
        cells = [(sw * 0.73, sh * 0.27), (sw * 0.73, sh * 0.73), (sw * 0.27, sh * 0.27), (sw * 0.27, sh * 0.73)][:n]
    for ch, (x, y) in zip(chars, cells):
        d.text((x, y), ch, font=font, fill=0, anchor="mm")
    a = np.asarray(m, np.float32) / 255
    rng = np.random.default_rng([ord(c) for c in text])
    a = a * (rng.random(a.shape) > 0.05) * 0.9  # worn: specks where the paste did not take
    edge = max(1, int(sw * 0.04))
    a[:, :edge] *= rng.random((a.shape[0], 1)) > 0.35
    a[-edge:, :] *= rng.random((1, a.shape[1])) > 0.35
    alpha = Image.fromarray((a * 255).astype(np.uint8), "L")
    img.paste(Image.new("RGB", alpha.size, SEAL_RED), (int(x0), int(y0)), alpha)
    return (x0, y0, x0 + sw, y0 + sh)
