"""Odd-but-valid inputs are converted sensibly; bad inputs give a one-line BadInput."""

import io

import numpy as np
import pytest
from PIL import Image

from yingshe.core import images, records
from yingshe.core.records import read_record
from yingshe.core.errors import BadInput


def _save(tmp_path, img, name, **kw):
    p = tmp_path / name
    img.save(p, **kw)
    return p


def test_cmyk(tmp_path):
    p = _save(tmp_path, Image.new("CMYK", (8, 6), (0, 255, 255, 0)), "c.jpg")
    img = images.open_image(p)
    assert img.mode == "RGB" and img.size == (8, 6)
    r, g, b = img.getpixel((4, 3))
    assert r > 200 and g < 60 and b < 60  # cyan=0, magenta+yellow = red


def test_16bit_keeps_its_range(tmp_path):
    a = np.full((4, 4), 32768, np.uint16)
    a[0, 0] = 65535
    p = _save(tmp_path, Image.fromarray(a), "g16.png")
    assert Image.open(p).mode.startswith("I")
    img = images.open_image(p)
    assert img.mode == "RGB"
    assert img.getpixel((1, 1))[0] in (127, 128)  # mid-grey, not clipped to white
    assert img.getpixel((0, 0))[0] == 255


def test_palette_with_transparency_composited_on_white(tmp_path):
    pal = Image.new("P", (4, 4), 0)
    pal.putpalette([255, 0, 0, 0, 0, 255] + [0] * 762)
    pal.putpixel((0, 0), 1)
    pal.info["transparency"] = 0
    p = _save(tmp_path, pal, "p.png", transparency=0)
    img = images.open_image(p)
    assert img.getpixel((1, 1)) == (255, 255, 255)  # transparent red → white
    assert img.getpixel((0, 0)) == (0, 0, 255)


def test_alpha_and_grey_alpha(tmp_path):
    rgba = Image.new("RGBA", (4, 4), (0, 0, 0, 0))
    rgba.putpixel((0, 0), (10, 20, 30, 255))
    img = images.open_image(_save(tmp_path, rgba, "a.png"))
    assert img.getpixel((0, 0)) == (10, 20, 30) and img.getpixel((3, 3)) == (255, 255, 255)
    la = Image.new("LA", (4, 4), (0, 128))
    img = images.open_image(_save(tmp_path, la, "la.png"))
    assert img.mode == "RGB" and 120 <= img.getpixel((0, 0))[0] <= 135


def test_greyscale_and_1bit(tmp_path):
    assert images.open_image(_save(tmp_path, Image.new("L", (3, 3), 77), "l.png")).getpixel((1, 1)) == (77, 77, 77)
    assert images.open_image(_save(tmp_path, Image.new("1", (3, 3), 1), "b.png")).getpixel((1, 1)) == (255, 255, 255)


def test_exif_rotation_applied(tmp_path):
    img = Image.new("RGB", (20, 10), (255, 0, 0))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise on display
    p = _save(tmp_path, img, "rot.jpg", exif=exif)
    assert images.open_image(p).size == (10, 20)


def test_animated_gif_first_frame(tmp_path):
    frames = [Image.new("RGB", (6, 6), c) for c in ((255, 0, 0), (0, 255, 0))]
    p = tmp_path / "anim.gif"
    frames[0].save(p, save_all=True, append_images=frames[1:], duration=100, loop=0)
    r, g, b = images.open_image(p).getpixel((2, 2))
    assert r > 200 and g < 50


def test_float_tiff(tmp_path):
    a = np.linspace(-1, 3, 16, dtype=np.float32).reshape(4, 4)
    img = images.open_image(_save(tmp_path, Image.fromarray(a, "F"), "f.tif"))
    assert img.getpixel((0, 0))[0] == 0 and img.getpixel((3, 3))[0] == 255


def _file(path, data):
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("maker,needle", [
    (lambda d: d / "missing.png", "does not exist"),
    (lambda d: d, "is a folder"),
    (lambda d: _file(d / "empty.png", b""), "empty"),
    (lambda d: _file(d / "text.png", b"hello, not an image"), "not an image"),
])
def test_bad_paths(tmp_path, maker, needle):
    with pytest.raises(BadInput) as e:
        images.open_image(maker(tmp_path))
    assert needle in str(e.value) and "\n" not in str(e.value)


def test_truncated_and_corrupt(tmp_path):
    buf = io.BytesIO()
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (64, 64, 3), np.uint8)).save(buf, "PNG")
    data = buf.getvalue()
    (tmp_path / "trunc.png").write_bytes(data[: len(data) // 2])
    with pytest.raises(BadInput, match="truncated or corrupt"):
        images.open_image(tmp_path / "trunc.png")
    corrupt = bytearray(data)
    corrupt[100:140] = b"\x00" * 40
    (tmp_path / "corrupt.png").write_bytes(bytes(corrupt))
    with pytest.raises(BadInput):
        images.open_image(tmp_path / "corrupt.png")


def test_decompression_bomb(tmp_path, monkeypatch):
    # A tiny file that claims 100k x 100k pixels (10 gigapixels): refused before decoding.
    import struct
    import zlib

    def chunk(tag, data):
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)

    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 100_000, 100_000, 8, 2, 0, 0, 0)) + \
        chunk(b"IDAT", zlib.compress(b"\x00" * 100)) + chunk(b"IEND", b"")
    (tmp_path / "bomb.png").write_bytes(png)
    with pytest.raises(BadInput, match="pixel limit|decompression bomb"):
        images.open_image(tmp_path / "bomb.png")


def _raw(p):
    """The JSON inside a snapshot PNG (or its sidecar), unvalidated: snapshots are not artworks."""
    return records.parse_json(records.read_raw(p))


def test_save_is_atomic_and_carries_record(tmp_path):
    img = Image.new("RGB", (4, 4), (1, 2, 3))
    p = images.save_image(img, tmp_path / "x.png", {"mapping": "t", "text": "诗 ✓"})
    assert _raw(p) == {"mapping": "t", "text": "诗 ✓"}
    assert not list(tmp_path.glob("*.part"))

    class Boom(Exception):
        pass

    def failing(f):
        f.write(b"half")
        raise Boom

    with pytest.raises(Boom):
        images.atomic_write(tmp_path / "x.png", failing)
    assert _raw(p)["mapping"] == "t"  # old file intact
    assert not list(tmp_path.glob(".*.part"))


def test_sidecar_for_jpeg(tmp_path):
    p = images.save_image(Image.new("RGB", (4, 4)), tmp_path / "x.jpg", {"mapping": "t"})
    assert (tmp_path / "x.jpg.json").exists() and _raw(p) == {"mapping": "t"}


def test_record_missing(tmp_path):
    Image.new("RGB", (4, 4)).save(tmp_path / "plain.png")
    with pytest.raises(BadInput, match="no yingshe recipe"):
        read_record(tmp_path / "plain.png")
