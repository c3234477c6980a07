"""Bad or odd command lines found by fuzzing the CLI: each is a one-line error (exit 2) that
writes nothing, or it works; no traceback, and nothing of the user's is overwritten."""

from __future__ import annotations

import json

from PIL import Image, PngImagePlugin

from conftest import run_cli


def _one_line_error(r) -> str:
    err = r.stderr.decode()
    assert r.returncode == 2, err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    return err


def test_output_names_folders_and_sidecars(tmp_path):
    o = tmp_path / "o"
    o.mkdir()
    art = ("art", "truchet", "--size", "32", "--no-gallery", "-q")
    # -o without an extension: the .png the writer adds is what must not be overwritten
    assert run_cli(*art, "-o", o / "x").returncode == 0
    first = (o / "x.png").read_bytes()
    assert run_cli(*art, "--seed", "3", "-o", o / "x").returncode == 0
    assert (o / "x.png").read_bytes() == first and (o / "x-1.png").exists()
    # -o folder/ (or an existing folder): a name of its own inside, never a file beside it
    assert run_cli(*art, "-o", f"{o}/").returncode == 0
    assert run_cli(*art, "-o", o).returncode == 0
    assert (o / "truchet-0.png").exists() and (o / "truchet-0-1.png").exists() and not (tmp_path / "o.png").exists()
    r = run_cli("recreate", o / "x.png", "-o", f"{tmp_path / 'again'}/", "--no-gallery", "-q")
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "again" / "x.png").read_bytes() == first
    # someone's own .json beside the name: kept, the artwork goes to q-1.jpg
    (tmp_path / "q.jpg.json").write_text('{"mine": true}')
    assert run_cli(*art, "-o", tmp_path / "q.jpg").returncode == 0
    assert json.loads((tmp_path / "q.jpg.json").read_text()) == {"mine": True}
    assert (tmp_path / "q-1.jpg").exists() and not (tmp_path / "q.jpg").exists()


def test_unwritable_outputs_are_one_line_errors(tmp_path):
    a = tmp_path / "a.png"
    a.write_bytes(b"not a folder")
    art = ("art", "truchet", "--size", "32", "--no-gallery", "-q")
    assert "empty" in _one_line_error(run_cli(*art, "-o", ""))
    assert "keep one" in _one_line_error(run_cli(*art, "--size", "32", "--set", "size=abc", "-o", tmp_path / "s.png"))
    assert "empty" in _one_line_error(run_cli("train", "gan", tmp_path, "-o", ""))
    assert "folder" in _one_line_error(run_cli(*art, "-o", a / "x.png"))
    assert a.read_bytes() == b"not a folder"
    assert "/proc/x.png" in _one_line_error(run_cli(*art, "-o", "/proc/x.png"))


def test_bad_numbers_and_records_are_one_line_errors(tmp_path):
    assert "--seed" in _one_line_error(run_cli("dataset", "art", "--n", "2", "--size", "32", "--seed", "-5",
                                               "-o", tmp_path / "ds"))
    assert not (tmp_path / "ds").exists()
    pics = tmp_path / "pics"
    pics.mkdir()
    for i in range(2):
        Image.new("RGB", (32, 32), (40 * i, 90, 30)).save(pics / f"{i}.png")
    assert "--z-dim" in _one_line_error(run_cli("train", "gan", pics, "-o", tmp_path / "run", "--z-dim", "-1"))
    assert not (tmp_path / "run").exists()
    # a record whose latent is not numbers (hand-made or damaged)
    record = {"format": 1, "version": "0.1.0", "mapping": "latent-sample", "recipe": {},
              "inputs": {}, "weights": {}, "device": "cpu", "threads": None, "summary": {"z": ["a"] * 64},
              "interrupted": False}
    info = PngImagePlugin.PngInfo()
    info.add_itxt("yingshe", json.dumps(record))
    bad = tmp_path / "z.png"
    Image.new("RGB", (8, 8)).save(bad, pnginfo=info)
    assert "latent" in _one_line_error(run_cli("sample", "art-vae-32", "--z-from", bad, "-o", tmp_path / "s.png",
                                               "--no-gallery", "-q"))
    enc = tmp_path / "enc.png"  # a VAE's latent, given to the GAN (both have 64 values)
    assert run_cli("encode", "art-vae-32", pics / "0.png", "-o", enc, "--no-gallery", "-q").returncode == 0
    assert "VAE's latent" in _one_line_error(run_cli("sample", "art-gan-32", "--z-from", enc, "-o",
                                                     tmp_path / "g.png", "--no-gallery", "-q"))
    (tmp_path / "empty.pth").write_bytes(b"")
    assert "empty" in _one_line_error(run_cli("style", pics / "0.png", "--style", pics / "1.png", "--vgg-weights",
                                              tmp_path / "empty.pth", "--size", "32", "-o", tmp_path / "st.png",
                                              "--no-gallery", "-q"))
    assert "--through" in _one_line_error(run_cli("interpolate", "art-vae-32", "--through", ",", "-o",
                                                  tmp_path / "w.gif", "--no-gallery", "-q"))
    assert not (tmp_path / "w.gif").exists()


def test_odd_but_valid_inputs_work(tmp_path):
    one = tmp_path / "one.png"
    Image.new("RGB", (1, 1), (200, 30, 30)).save(one)  # a palette from a one-pixel picture
    r = run_cli("art", "mandelbrot", "--size", "32", "--palette", f"image:{one}", "-o", tmp_path / "m.png",
                "--no-gallery", "-q")
    assert r.returncode == 0, r.stderr
    # a text input that names a file reads the file; a folder is a batch of its .txt files
    poems = tmp_path / "poems"
    poems.mkdir()
    (poems / "a.txt").write_text("床前明月光，疑是地上霜。\n举头望明月，低头思故乡。\n", encoding="utf-8")
    (poems / "b.txt").write_text("白日依山尽，黄河入海流。\n欲穷千里目，更上一层楼。\n", encoding="utf-8")
    r = run_cli("poem2paint", poems / "a.txt", "--size", "96", "-o", tmp_path / "p.png", "--no-gallery", "-q")
    assert r.returncode == 0, r.stderr
    rec = json.loads(run_cli("info", tmp_path / "p.png").stdout)
    assert rec["inputs"]["poem"][0]["text"].startswith("床前明月光")
    r = run_cli("poem2paint", poems, "--size", "96", "-o", f"{tmp_path / 'batch'}/", "--no-gallery", "-q")
    assert r.returncode == 0, r.stderr
    assert sorted(p.name for p in (tmp_path / "batch").glob("*.png")) == ["a--poem2paint.png", "b--poem2paint.png"]


def test_the_grid_help_example_runs(tmp_path):
    help_text = run_cli("grid", "--help").stdout.decode()
    line = next(x.strip() for x in help_text.splitlines() if x.strip().startswith("yingshe grid") and "julia" in x)
    args = line.split()[2:]
    args[args.index("-o") + 1] = str(tmp_path / "g.png")
    r = run_cli("grid", *args, "--cell", "32", "--no-gallery", "-q")
    assert r.returncode == 0, r.stderr
    assert Image.open(tmp_path / "g.png").size[0] > 3 * 32


def test_a_batch_of_a_video_and_a_picture_keeps_each_kind(tmp_path):
    import imageio.v2 as iio
    import numpy as np

    video, pic = tmp_path / "v.mp4", tmp_path / "p.png"
    w = iio.get_writer(video, fps=4)
    for _ in range(3):
        w.append_data((np.random.default_rng(0).random((32, 48, 3)) * 255).astype(np.uint8))
    w.close()
    Image.new("RGB", (48, 32), (90, 120, 200)).save(pic)
    r = run_cli("fast-style", video, pic, "--style", "builtin:great-wave", "--size", "48", "-o", f"{tmp_path / 'out'}/",
                "--no-gallery", "-q")
    assert r.returncode == 0, r.stderr
    assert sorted(p.name for p in (tmp_path / "out").iterdir() if p.suffix != ".json") == [
        "p--fast-style.png", "v--fast-style.mp4"]
