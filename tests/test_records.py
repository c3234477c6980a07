"""A record in someone else's file is untrusted input: parsed with limits, checked field by
field, and never a reason to read files outside the artwork's folder and the current folder."""

import json
import os
import shutil
import struct
import zlib

import numpy as np
import pytest
from PIL import Image, PngImagePlugin

from conftest import run_cli

GOOD = {"format": 1, "version": "0.1.0", "mapping": "paint2music", "recipe": {"bars": 1, "seed": 0},
        "inputs": {}, "weights": {}, "device": "cpu", "threads": None, "summary": {}, "interrupted": False}


def _png_with(path, text: str | None = None, raw_chunk: bytes | None = None):
    img = Image.new("RGB", (8, 8), (10, 20, 30))
    info = PngImagePlugin.PngInfo()
    if text is not None:
        info.add_itxt("yingshe", text)
    img.save(path, pnginfo=info)
    if raw_chunk is not None:  # splice a chunk in before IDAT
        data = path.read_bytes()
        i = data.index(b"IDAT") - 4
        path.write_bytes(data[:i] + raw_chunk + data[i:])
    return path


def _chunk(ctype: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + ctype + body + struct.pack(">I", zlib.crc32(ctype + body) & 0xFFFFFFFF)


def _one_line_exit_2(r):
    err = r.stderr.decode()
    assert r.returncode == 2, err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    return err


def test_crafted_records_are_one_line_errors(tmp_path):
    deep = "[" * 100_000 + "]" * 100_000
    cases = {
        "deep.png": (_png_with(tmp_path / "deep.png", deep), "nests"),
        "big.png": (_png_with(tmp_path / "big.png", raw_chunk=_chunk(b"iTXt", b"yingshe\x00\x00\x00\x00\x00" +
                                                                           b"x" * (50 << 20))), "limit"),
        "zbomb.png": (_png_with(tmp_path / "zbomb.png", raw_chunk=_chunk(
            b"iTXt", b"yingshe\x00\x01\x00\x00\x00" + zlib.compress(b"[" * (20 << 20), 9))), "limit"),
        "types.png": (_png_with(tmp_path / "types.png", json.dumps(GOOD | {"recipe": [1, 2]})), "recipe must be"),
        "sha.png": (_png_with(tmp_path / "sha.png", json.dumps(GOOD | {"inputs": {"picture": [
            {"source": "x.png", "sha256": 5}]}})), "sha256"),
        "seed.png": (_png_with(tmp_path / "seed.png", json.dumps(GOOD | {"recipe": {"seed": "many"}})), "whole number"),
        "nan.png": (_png_with(tmp_path / "nan.png", json.dumps(GOOD).replace('"bars": 1', '"bars": NaN')), "JSON"),
        "unknown.png": (_png_with(tmp_path / "unknown.png", json.dumps(GOOD | {"mapping": "rm -rf"})), "unknown mapping"),
        "field.png": (_png_with(tmp_path / "field.png", json.dumps(GOOD | {"exec": "x"})), "unknown field"),
        "input.png": (_png_with(tmp_path / "input.png", json.dumps(GOOD | {"inputs": {"passwd": [
            {"source": "/etc/passwd", "sha256": "0" * 64}]}})), "no input called"),
        "future.png": (_png_with(tmp_path / "future.png", json.dumps(GOOD | {"format": 99})), "newer yingshe"),
    }
    for name, (path, pattern) in cases.items():
        for cmd in (["info", path], ["recreate", path, "-o", tmp_path / f"out-{name}.mid"]):
            err = _one_line_exit_2(run_cli(*cmd))
            assert __import__("re").search(pattern, err), (name, err)
    assert not list(tmp_path.glob("out-*"))


def test_device_files_fifos_and_folders_are_never_opened(tmp_path):
    os.mkfifo(tmp_path / "fifo.png")
    for target in ("/dev/zero", str(tmp_path / "fifo.png"), str(tmp_path)):
        _one_line_exit_2(run_cli("info", target))
    # a foreign record naming /dev/zero and a FIFO (in the artwork's own folder) as its inputs
    for src in ("/dev/zero", str(tmp_path / "fifo.png"), "../../../../etc/passwd"):
        rec = GOOD | {"inputs": {"picture": [{"source": src, "sha256": "a" * 64}]}}
        art = _png_with(tmp_path / "crafted.png", json.dumps(rec))
        err = _one_line_exit_2(run_cli("recreate", art, "-o", tmp_path / "o.mid", cwd=tmp_path))
        assert "--input picture=FILE" in err or "not a regular file" in err, err
    assert not (tmp_path / "o.mid").exists()


@pytest.fixture
def foreign_artwork(tmp_path):
    """An artwork made by someone else: its input lives in their folder, its record in our hands."""
    theirs, mine = tmp_path / "their-home", tmp_path / "me"
    elsewhere = tmp_path / "private"
    elsewhere.mkdir()
    mine.mkdir()
    a = np.zeros((48, 48, 3), np.uint8)
    a[:, :, 0] = np.linspace(0, 255, 48)[None, :]
    a[:16] = (150, 200, 250)
    pic = elsewhere / "photo.png"
    Image.fromarray(a).save(pic)
    out = tmp_path / "shared" / "tune.mid"
    out.parent.mkdir()
    r = run_cli("paint2music", pic, "-o", out, "--bars", "2", env={"YINGSHE_HOME": str(theirs)})
    assert r.returncode == 0, r.stderr
    return {"art": out, "pic": pic, "mine": mine, "elsewhere": elsewhere}


def test_foreign_record_reads_nothing_outside_unless_named(foreign_artwork, tmp_path):
    f = foreign_artwork
    out = f["mine"] / "again.mid"
    # our gallery never saw this file: its path to the private picture is shown, not followed
    err = _one_line_exit_2(run_cli("recreate", f["art"], "-o", out, cwd=f["mine"]))
    assert str(f["pic"]) in err and "--input picture=FILE" in err and "--search DIR" in err
    assert not out.exists()
    # --input names the file: the same bytes as the original
    r = run_cli("recreate", f["art"], "-o", out, "--input", f"picture={f['pic']}", cwd=f["mine"])
    assert r.returncode == 0, r.stderr
    assert out.read_bytes() == f["art"].read_bytes()
    # --search finds it by sha256 (under another name)
    found = tmp_path / "found"
    found.mkdir()
    shutil.copy(f["pic"], found / "renamed.png")
    out2 = f["mine"] / "again2.mid"
    r = run_cli("recreate", f["art"], "-o", out2, "--search", found, cwd=f["mine"])
    assert r.returncode == 0, r.stderr
    assert out2.read_bytes() == f["art"].read_bytes()
    # a different file given as the input is refused by its fingerprint
    other = tmp_path / "other.png"
    Image.new("RGB", (48, 48), (1, 2, 3)).save(other)
    err = _one_line_exit_2(run_cli("recreate", f["art"], "-o", f["mine"] / "x.mid", "--input", f"picture={other}",
                                   cwd=f["mine"]))
    assert "changed" in err and "picture" in err


def test_inputs_in_the_artworks_own_folder_are_read(foreign_artwork):
    f = foreign_artwork
    rec = json.loads(run_cli("info", f["art"]).stdout)
    assert rec["inputs"]["picture"][0]["source"] == str(f["pic"])
    # the person who sent it put the picture beside it: recorded path outside, so still not read...
    shutil.copy(f["pic"], f["art"].parent / "photo.png")
    _one_line_exit_2(run_cli("recreate", f["art"], "-o", f["mine"] / "x.mid", cwd=f["mine"]))
    # ...but --search . finds it there
    r = run_cli("recreate", f["art"], "-o", f["mine"] / "y.mid", "--search", f["art"].parent, cwd=f["mine"])
    assert r.returncode == 0, r.stderr


def test_own_artworks_still_recreate_from_anywhere(tmp_path):
    pic = tmp_path / "pics" / "p.png"
    pic.parent.mkdir()
    Image.new("RGB", (40, 40), (200, 100, 50)).save(pic)
    out = tmp_path / "art" / "t.mid"
    out.parent.mkdir()
    assert run_cli("paint2music", pic, "-o", out, "--bars", "1").returncode == 0
    elsewhere = tmp_path / "cwd"
    elsewhere.mkdir()
    r = run_cli("recreate", out, "-o", elsewhere / "t2.mid", cwd=elsewhere)  # in our gallery: trusted
    assert r.returncode == 0, r.stderr
    assert (elsewhere / "t2.mid").read_bytes() == out.read_bytes()


def test_an_existing_output_is_never_overwritten_unless_asked(tmp_path):
    a = tmp_path / "a.png"
    assert run_cli("art", "truchet", "--size", "48", "--seed", "1", "-o", a, "-q", "--no-gallery").returncode == 0
    first = a.read_bytes()
    r = run_cli("art", "truchet", "--size", "48", "--seed", "2", "-o", a, "-q", "--no-gallery")
    assert r.returncode == 0 and b"a-1.png" in r.stderr and b"--overwrite" in r.stderr
    assert a.read_bytes() == first and (tmp_path / "a-1.png").read_bytes() != first
    # recreate onto its own file keeps the original and writes the same bytes beside it
    r = run_cli("recreate", a, "-o", a, "--no-gallery", "-q")
    assert r.returncode == 0, r.stderr
    assert a.read_bytes() == first == (tmp_path / "a-2.png").read_bytes()
    # --overwrite is the one way to replace it
    r = run_cli("art", "truchet", "--size", "48", "--seed", "2", "-o", a, "-q", "--no-gallery", "--overwrite")
    assert r.returncode == 0 and a.read_bytes() == (tmp_path / "a-1.png").read_bytes()
    # the generic mappings and the GAN sampler do the same
    pic = tmp_path / "p.png"
    Image.new("RGB", (40, 40), (200, 100, 50)).save(pic)
    for args, name in ((("paint2music", pic, "--bars", "1"), "t.mid"), (("sample", "art-gan-32", "--n", "1"), "s.png")):
        out = tmp_path / name
        for _ in range(2):
            r = run_cli(*args, "-o", out, "--no-gallery", "-q")
            assert r.returncode == 0, r.stderr
        assert out.exists() and out.with_name(out.stem + "-1" + out.suffix).exists()
