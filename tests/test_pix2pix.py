"""pix2pix: U-Net shapes and skips, resize-convolution, the 70×70 PatchGAN, pair transforms,
the loss falling, exact resume, translate's determinism and recreate, and bad data."""

import json
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from yingshe.cli import main as cli
from yingshe.core.errors import BadInput
from yingshe.nets.pix2pix import (PatchGAN, PatchGANConfig, UNet, UNetConfig, UpConv, fold_resize_kernel,
                                  pad_to_multiple, receptive_field)
from yingshe.translate import data as D
from yingshe.translate import pairs as P
from yingshe.translate.trainer import TrainConfig, Trainer, train


def picture(seed: int, size: int = 48) -> Image.Image:
    """A painting-like test picture: soft colour fields with a few hard-edged shapes."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size] / size
    a = np.stack([np.sin(xx * 4 + seed), np.cos(yy * 3 - seed), np.sin((xx + yy) * 2)], -1) * 0.3 + 0.5
    for _ in range(3):
        x0, y0 = rng.integers(0, max(1, size - 12), 2)
        a[y0:y0 + 12, x0:x0 + 12] = rng.random(3)
    return Image.fromarray((a.clip(0, 1) * 255).astype(np.uint8), "RGB")


def make_folder(folder: Path, n: int = 6, size: int = 48) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        picture(i, size).save(folder / f"p{i}.png")
    return folder


def tiny(data, out, **kw) -> TrainConfig:
    base = dict(data=str(data), out=str(out), size=32, crop=0, width=8, pairs="colorize", batch=2, max_steps=2,
                ckpt_every=1000, log_every=1, threads=1, device="cpu", val_fraction=0.2, sample_n=2)
    return TrainConfig(**(base | kw))


# ------------------------------------------------------------------------------ networks

def test_unet_shapes_and_skip_connections():
    cfg = UNetConfig(width=4, n_down=4, max_mult=4)
    g = UNet(cfg).eval()
    seen = {}
    g.downs[0].register_forward_hook(lambda m, i, o: seen.__setitem__("enc0", o))
    g.downs[1].register_forward_hook(lambda m, i, o: seen.__setitem__("enc1", o))
    g.ups[-1].register_forward_pre_hook(lambda m, i: seen.__setitem__("dec_last", i[0]))
    g.ups[-2].register_forward_pre_hook(lambda m, i: seen.__setitem__("dec_2nd", i[0]))
    g.ups[0].register_forward_pre_hook(lambda m, i: seen.__setitem__("dec0", i[0]))
    x = torch.randn(2, 3, 32, 48)
    y = g(x)
    assert y.shape == (2, 3, 32, 48) and y.abs().max() <= 1
    # encoder: 32×48 → 16×24 (4) → 8×12 (8) → 4×6 (16) → 2×3 (16: capped at width × max_mult)
    assert seen["enc0"].shape == (2, 4, 16, 24) and seen["enc1"].shape == (2, 8, 8, 12)
    assert seen["dec0"].shape == (2, 16, 2, 3)  # the innermost decoder layer takes the bottleneck alone
    # every other decoder layer takes [the layer below ; its mirror encoder layer]
    assert seen["dec_last"].shape == (2, 8, 16, 24) and torch.equal(seen["dec_last"][:, 4:], seen["enc0"])
    assert seen["dec_2nd"].shape == (2, 16, 8, 12) and torch.equal(seen["dec_2nd"][:, 8:], seen["enc1"])
    # dropout sits in the (up to n_dropout) layers after the innermost, never in the last
    drops = lambda net: [j for j, up in enumerate(net.ups) if isinstance(up.drop, torch.nn.Dropout)]  # noqa: E731
    assert drops(g) == [1, 2] and drops(UNet(UNetConfig(width=2))) == [1, 2, 3]
    with pytest.raises(AssertionError, match="multiple of 16"):
        g(torch.randn(1, 3, 40, 40))
    padded, (h, w) = pad_to_multiple(torch.randn(1, 3, 40, 37), 16)
    assert padded.shape[-2:] == (48, 48) and (h, w) == (40, 37)


def test_resize_convolution_is_upsample_then_conv_without_checkerboard():
    torch.manual_seed(0)
    w, b = torch.randn(5, 4, 3, 3), torch.randn(5)
    x = torch.randn(2, 4, 7, 9)
    ref = F.conv2d(F.interpolate(x, scale_factor=2, mode="nearest"), w, b, padding=1)
    out = F.conv_transpose2d(x, fold_resize_kernel(w), b, stride=2, padding=1)
    assert out.shape == ref.shape == (2, 5, 14, 18)
    assert torch.allclose(out, ref, atol=1e-5)
    flat = torch.ones(1, 4, 8, 8)
    inner = lambda t: t[..., 2:-2, 2:-2]  # noqa: E731  (away from the zero border)
    up = UpConv(4, 5, "resize")
    assert torch.allclose(inner(up(flat)), inner(up(flat))[..., :1, :1].expand_as(inner(up(flat))), atol=1e-5)
    de = UpConv(4, 5, "deconv")  # the paper's layer: even and odd pixels differ on a flat input
    y = inner(de(flat))
    assert (y[..., 0::2, 0::2] - y[..., 1::2, 1::2]).abs().max() > 1e-3
    up.eval()
    with torch.no_grad():  # the folded kernel is cached for inference, refreshed when weights change
        k1 = up.kernel()
        up.weight.add_(1.0)
        assert not torch.equal(k1, up.kernel())


def test_patchgan_sees_70_by_70():
    d = PatchGAN(PatchGANConfig())
    assert receptive_field(d) == 70  # 1 + 3·(1 + 2 + 4 + 8 + 8) from the layers' kernels and strides
    assert d(torch.randn(1, 6, 256, 256)).shape == (1, 1, 30, 30)
    assert receptive_field(PatchGAN(PatchGANConfig(n_layers=1))) == 16
    # and measured: the input gradient of one logit (no normalisation, so nothing global)
    torch.manual_seed(0)
    d = PatchGAN(PatchGANConfig(width=4, norm="none"))
    x = torch.randn(1, 6, 160, 160, requires_grad=True)
    out = d(x)
    out[0, 0, out.shape[2] // 2, out.shape[3] // 2].backward()
    rows = torch.nonzero(x.grad.abs().sum((0, 1, 3)))
    cols = torch.nonzero(x.grad.abs().sum((0, 1, 2)))
    assert int(rows.max() - rows.min() + 1) == 70 and int(cols.max() - cols.min() + 1) == 70


# ------------------------------------------------------------------------------ pairs and data

def test_pair_transforms():
    rgb = np.asarray(picture(1, 64))
    for kind in ("edges", "sketch", "colorize", "blur"):
        a = P.make_input(kind, rgb)
        assert a.shape == rgb.shape and a.dtype == np.uint8
        assert np.array_equal(a, P.make_input(kind, rgb)), kind  # deterministic
    e = P.edges(rgb)
    assert P.is_line_drawing(e) and not P.is_line_drawing(rgb)
    assert (e < 128).any() and np.mean(e > 128) > 0.7  # dark lines on a white ground
    assert (P.edges(rgb, 3) < 128).sum() > (e < 128).sum()
    g = P.colorize(rgb)
    assert np.array_equal(g[..., 0], g[..., 2]) and not P.is_line_drawing(g)
    # prepare: auto keeps a drawing, inverts a white-on-black one, makes lines of a photo
    assert P.prepare("edges", e, "auto") == (e, "none (already a line drawing)")
    inv, what = P.prepare("edges", 255 - e, "auto")
    assert np.array_equal(inv, e) and what.startswith("inverted")
    assert np.array_equal(P.prepare("edges", rgb, "auto")[0], e)
    assert P.prepare("edges", rgb, "off")[0] is rgb
    assert P.prepare("blur", rgb, "auto")[0] is rgb
    assert P.prepare("aligned", np.zeros((4, 8, 3), np.uint8), "on")[0].shape == (4, 4, 3)


def test_a_drawing_made_smaller_keeps_its_lines():
    from PIL import Image, ImageDraw

    img = Image.new("RGB", (256, 256), "white")
    d = ImageDraw.Draw(img)
    d.line([(10, 101), (245, 101)], fill="black", width=3)  # a 3 px pen, as on the canvas
    d.ellipse([60, 140, 200, 240], outline="black", width=3)
    rgb = np.asarray(img)
    small = P.shrink_drawing(rgb, (64, 64))
    assert small.shape == (64, 64, 3) and set(np.unique(small)) == {0, 255}  # black lines on white
    assert (small[25, 3:61] == 0).all()  # the line is still whole, one pixel per 4 of the original
    assert 1 <= int((small[:, 32, 0] == 0).sum()) <= 6  # a column crosses the line and the ring: thin lines
    assert np.array_equal(P.shrink_drawing(255 - rgb, (64, 64)), small)  # white on black: the same lines
    plain = np.asarray(img.resize((64, 64), Image.LANCZOS))
    assert plain[25, 3:61, 0].min() > 60  # what plain resampling leaves: grey, not a line


def test_folder_split_and_jitter(tmp_path):
    data = D.load_pairs(make_folder(tmp_path / "d", n=10), "colorize", 32, val_fraction=0.2)
    assert len(data.train) == 8 and len(data.val) == 2 and not data.skipped
    assert data.train.b.shape[1:] == (3, 36, 36) and data.val.b.shape[1:] == (3, 32, 32)  # 286/256 room
    again = D.load_pairs(tmp_path / "d", "colorize", 32, val_fraction=0.2)
    assert data.val.names == again.val.names  # held out by file name, not by seed
    torch.manual_seed(1)
    a, b = D.jittered_batch(data.train, torch.arange(8), 16, flip=True, thicken=False)
    assert a.shape == b.shape == (8, 3, 16, 16) and a.min() >= -1 and b.max() <= 1
    # the input is the grey of the target, so A and B were cut and mirrored together
    grey = (b[:, 0] * 0.299 + b[:, 1] * 0.587 + b[:, 2] * 0.114)
    assert (a[:, 0] - grey).abs().max() < 0.02
    ink = torch.full((3, 9, 9), 255, dtype=torch.uint8)
    ink[:, 4, 4] = 0
    assert int((D.thicken_lines(ink, 3)[0] == 0).sum()) == 9 and int((D.thicken_lines(ink, 2)[0] == 0).sum()) == 4


def test_aligned_pairs(tmp_path):
    d = tmp_path / "ab"
    d.mkdir()
    for i in range(3):
        ab = np.concatenate([np.full((32, 32, 3), 10 * i, np.uint8), np.full((32, 32, 3), 200, np.uint8)], 1)
        Image.fromarray(ab).save(d / f"{i}.png")
    data = D.load_pairs(d, "aligned", 32, val_fraction=0, jitter=False)
    assert data.train.a.float().mean() < 30 and data.train.b.float().mean() == 200
    swapped = D.load_pairs(d, "aligned", 32, val_fraction=0, jitter=False, direction="BtoA")
    assert torch.equal(swapped.train.a, data.train.b)


# ------------------------------------------------------------------------------ training

def test_loss_falls_on_a_tiny_set(tmp_path):
    cfg = tiny(make_folder(tmp_path / "d", n=4), tmp_path / "r", val_fraction=0, batch=4, lr=2e-3, width=4,
               max_steps=40, pairs="blur")
    t = Trainer(cfg)
    t.after_resume()
    l1 = []
    for step in range(40):
        torch.manual_seed(step)
        l1.append(float(t.train_step(step)["loss_l1"]))
    assert np.mean(l1[-10:]) < 0.6 * np.mean(l1[:5]), l1


def test_run_folder_and_exact_resume(tmp_path):
    from yingshe.core.checkpoint import load_tensors

    data = make_folder(tmp_path / "d")
    straight = train(tiny(data, tmp_path / "a", max_steps=4, ckpt_every=2))
    train(tiny(data, tmp_path / "b", max_steps=2, ckpt_every=2))
    resumed = train(tiny(data, tmp_path / "b", max_steps=4, ckpt_every=2), resume=True)
    assert straight.step == resumed.step == 4
    ta, _ = load_tensors(tmp_path / "a" / "checkpoint.safetensors")
    tb, meta = load_tensors(tmp_path / "b" / "checkpoint.safetensors")
    assert meta["step"] == 4 and ta.keys() == tb.keys() and any(k.startswith("opt_d.") for k in ta)
    for k in ta:
        assert torch.equal(ta[k], tb[k]), k
    run = tmp_path / "a"
    cfg = json.loads((run / "config.json").read_text())
    assert cfg["train"]["kind"] == "pix2pix" and len(cfg["data"]["held_out"]) == 1
    sample = Image.open(next((run / "samples").glob("*.png")))
    assert sample.size == (3 * 32, 1 * 32)  # input | output | target for the one held-out picture
    _, m = load_tensors(run / "model.safetensors")
    assert m["kind"] == "pix2pix" and m["pairs"] == "colorize" and m["model"]["n_down"] == 5
    assert "val_l1" in straight.last or straight.best == {}  # validation never picks the model


def test_init_fine_tunes_a_trained_generator(tmp_path, capsys):
    """--init starts G from a trained model (its shape wins over --width/--n-down), D afresh and as
    wide; the model file records where training began; a model that cannot fit is a clear error."""
    from yingshe.core.checkpoint import load_tensors

    data = make_folder(tmp_path / "d")
    train(tiny(data, tmp_path / "a", max_steps=2, width=6, n_down=4))
    start, meta_a = load_tensors(tmp_path / "a" / "model.safetensors")
    t = Trainer(tiny(data, tmp_path / "b", max_steps=1, width=16, init=str(tmp_path / "a")))
    assert t.g_cfg.width == 6 and t.g_cfg.n_down == 4 and t.d_cfg.width == 6
    for k, v in t.G.state_dict().items():
        assert torch.equal(v, start[k]), k
    assert t.G.training and all(p.requires_grad for p in t.G.parameters())
    r = train(tiny(data, tmp_path / "c", max_steps=2, init=str(tmp_path / "a")))
    tuned, meta = load_tensors(tmp_path / "c" / "model.safetensors")
    assert r.step == 2 and meta["model"] == meta_a["model"]
    assert meta["init"]["sha256"] and meta["init"]["step"] == 2
    assert meta["train"]["width"] == 6 and meta["train"]["n_down"] == 4  # what it trained, not --width's default
    assert any(not torch.equal(tuned[k], start[k]) for k in start)  # it trained
    # the resumed run rebuilds the same shapes from --init and continues exactly
    train(tiny(data, tmp_path / "c", max_steps=3, init=str(tmp_path / "a")), resume=True)
    # its U-Net halves pictures 4 times: 36 px (fine for a 2-level one) does not fit
    with pytest.raises(BadInput, match="multiples of 16"):
        Trainer(tiny(data, tmp_path / "f", size=36, n_down=2, init=str(tmp_path / "a")))
    with pytest.raises(BadInput, match="^--init .*nothing"):  # before the data is read
        Trainer(tiny(tmp_path / "no-data", tmp_path / "g", init=str(tmp_path / "nothing")))
    assert cli(["train", "pix2pix", str(data), "-o", str(tmp_path / "h"), "--init", str(tmp_path / "d" / "p0.png"),
                "--size", "32", "--width", "4", "--max-steps", "1", "--threads", "1"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "p0.png" in err[0], err


# ------------------------------------------------------------------------------ translate

@pytest.fixture
def model_file(tmp_path):
    from yingshe.core.checkpoint import save_tensors

    torch.manual_seed(0)
    cfg = UNetConfig(width=4, n_down=4)
    g = UNet(cfg)
    path = tmp_path / "tiny.safetensors"
    save_tensors(path, g.state_dict(), {"format": 1, "kind": "pix2pix", "model": cfg.to_dict(), "pairs": "edges",
                                        "direction": "AtoB", "size": 32, "step": 0})
    return path


def test_translate_is_deterministic_and_recreates_identical_bytes(tmp_path, model_file):
    from yingshe.core import registry, sources

    m = registry.get("translate")
    spec = next(s for s in m.inputs if s.name == "image")
    assert spec.sketch and m.realtime
    src = sources.from_image(picture(3, 60).resize((60, 40)))
    r = m.recipe.from_dict({"model": str(model_file), "size": 48})
    a1, a2 = m.run(r, {"image": [src]}, threads=1), m.run(r, {"image": [src]}, threads=1)
    assert a1.image.size == (48, 32) and a1.image.tobytes() == a2.image.tobytes()
    assert a1.weights["model"]["family"] == "yingshe-pix2pix" and a1.summary["prepared"] == "edges"
    # size 0 (the default): the picture is brought to the size the model was trained at (32 here)
    at_own = m.run(m.recipe.from_dict({"model": str(model_file)}), {"image": [src]}, threads=1)
    assert m.recipe().size == 0 and at_own.image.size == (32, 21) and at_own.summary["size"] == 32
    drawing = sources.from_image(Image.fromarray(P.edges(np.asarray(picture(6, 128)), 3)))
    drawn = m.run(m.recipe.from_dict({"model": str(model_file)}), {"image": [drawing]}, threads=1)
    assert drawn.image.size == (32, 32) and "keeping its lines" in drawn.summary["prepared"]
    with pytest.raises(BadInput, match="at least 32"):
        m.recipe.from_dict({"model": str(model_file), "size": 8})
    noisy = [m.run(r.replace(noise=True, seed=s), {"image": [src]}, threads=1).image.tobytes() for s in (1, 1, 2)]
    assert noisy[0] == noisy[1] != noisy[2]  # the paper's dropout noise, seeded
    # the command line, and recreate: the same bytes
    photo = tmp_path / "photo.png"
    picture(4, 50).save(photo)
    out, again = tmp_path / "out.png", tmp_path / "again.png"
    assert cli(["translate", str(photo), "-o", str(out), "--model", str(model_file), "--size", "32", "-q"]) == 0
    assert cli(["recreate", str(out), "-o", str(again)]) == 0
    assert out.read_bytes() == again.read_bytes()


def test_shipped_model_translates():
    from yingshe.core import weights
    from yingshe.translate.model import load_translator

    try:
        t = load_translator("edges2monet")
    except Exception as e:  # noqa: BLE001
        pytest.skip(f"edges2monet not shipped yet ({e})")
    assert weights.ZOO["edges2monet"].family == "yingshe-pix2pix" and t.pairs == "edges"
    assert t.path.stat().st_size < 40e6 and next(t.net.parameters()).dtype == torch.float32
    lines = P.edges(np.asarray(picture(5, 64)))
    out = t(lines)
    assert out.shape == (64, 64, 3) and out.std() > 5  # a picture, not a flat field


def test_shipped_emoji_model_colours_drawings_as_emoji():
    """edges2emoji, through the mapping as a person runs it (a 256 px pen drawing, the model's own
    64 px): the drawn smiley becomes a yellow face and the drawn heart a red heart, on white."""
    from yingshe.core import registry, sources
    from yingshe.translate.model import load_translator

    try:
        load_translator("edges2emoji")
    except Exception as e:  # noqa: BLE001
        pytest.skip(f"edges2emoji not shipped yet ({e})")
    m = registry.get("translate")
    r = m.recipe.from_dict({"model": "edges2emoji"})
    for name, colour in (("smiley", "yellow"), ("heart", "red")):
        art = m.run(r, {"image": [sources.load(f"sketch:{name}")]}, threads=1)
        a = np.asarray(art.image).astype(int)
        assert art.image.size == (64, 64) and a[:4, :4].min() > 240, name  # a white ground, as emoji are drawn
        R, G, B = (a[24:40, 20:44, k] for k in range(3))  # inside the face / the heart
        share = ((R > 170) & (G > 100) & (B < 110)) if colour == "yellow" else ((R > 120) & (G < 110) & (B < 110))
        assert share.mean() > 0.6, (name, float(share.mean()))


# ------------------------------------------------------------------------------ bad data

def test_bad_data_is_a_one_line_error(tmp_path, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(BadInput, match="holds no pictures"):
        D.load_pairs(empty, "edges", 32)
    texts = tmp_path / "texts"
    texts.mkdir()
    (texts / "a.txt").write_text("not a picture")
    (texts / "b.png").write_bytes(b"not a png either")
    with pytest.raises(BadInput, match="no usable pictures.*unreadable"):
        D.load_pairs(texts, "edges", 32)
    small = make_folder(tmp_path / "small", n=3, size=12)
    with pytest.raises(BadInput, match="too small"):
        D.load_pairs(small, "edges", 64)
    with pytest.raises(BadInput, match="not an A|B pair"):
        D.load_pairs(make_folder(tmp_path / "sq", n=2), "aligned", 32)
    with pytest.raises(BadInput, match="--pairs must be one of"):
        D.load_pairs(small, "cartoon", 32)
    with pytest.raises(BadInput, match="multiples of"):
        tiny(small, tmp_path / "x", size=48).check()
    with pytest.raises(BadInput, match="too small for a 3-layer PatchGAN"):
        tiny(small, tmp_path / "x", crop=16).check()
    # the command line: one line, exit 2, and no run folder
    for args, needle in (((empty,), "holds no pictures"), ((small, "--size", "64"), "too small"),
                         ((small, "--pairs", "cartoon"), "invalid choice")):
        try:
            code = cli(["train", "pix2pix", *map(str, args), "-o", str(tmp_path / "run"), "-q"])
        except SystemExit as e:  # argparse's own errors
            code = e.code
        err = capsys.readouterr().err
        assert code == 2 and needle in err and "Traceback" not in err, err
        assert len(err.strip().splitlines()) <= 2
    assert not (tmp_path / "run").exists()


def test_studio_sketch_canvas_translates_live_and_keeps_the_drawing(tmp_path, model_file):
    """The studio's canvas value (Gradio ImageEditor: background, layers, composite) → a live
    translation in memory, and on Run a saved artwork whose input is the drawing as a PNG."""
    from PIL import ImageDraw

    from yingshe.core.records import read_record
    from yingshe.core.recreate import recreate
    from yingshe.studio.controls import controls_for
    from yingshe.studio.service import Studio, drawn_image

    from yingshe.core import registry

    ctl = controls_for(registry.get("translate").recipe)
    values = [{"model": str(model_file), "size": 64}.get(c.name, c.value) for c in ctl]
    bg = Image.new("RGB", (64, 64), "white")
    ink = Image.new("RGBA", (64, 64), (0, 0, 0, 0))
    ImageDraw.Draw(ink).line([(0, 40), (64, 30)], fill=(0, 0, 0, 255), width=3)
    canvas = {"background": bg, "layers": [ink], "composite": None}
    drawing = drawn_image(canvas)
    assert drawing.mode == "RGB" and drawing.getpixel((0, 40)) == (0, 0, 0) and drawing.getpixel((5, 5)) == (255,) * 3
    assert drawn_image(None) is None and drawn_image({"background": None, "layers": [], "composite": None}) is None
    studio = Studio(tmp_path / "out", threads=1)
    frames = list(studio.live_renders("translate", values, {"image": canvas}))
    assert frames[-1][1] and frames[-1][0].size == (64, 64)
    assert len(frames) == 1  # at 64 px a coarse preview would be the same picture: rendered once
    assert not (tmp_path / "out" / "inputs").exists()  # live previews write nothing
    done = list(studio.run("translate", values, {"image": canvas}))[-1]
    assert done.kind == "done", done.message
    assert done.artwork.image.tobytes() == frames[-1][0].tobytes()  # what you saw is what is saved
    record = read_record(done.path)
    kept = Path(record["inputs"]["image"][0]["source"])
    assert kept.parent == (tmp_path / "out" / "inputs").resolve() and kept.suffix == ".png"
    assert recreate(record).image.tobytes() == done.artwork.image.tobytes()
    with pytest.raises(BadInput, match="translate needs"):
        studio.load_inputs(registry.get("translate"), {"image": None})


def test_builtin_drawings_are_line_drawings_and_unknown_ones_are_refused():
    import numpy as np

    from yingshe.core import sources
    from yingshe.core.errors import BadInput

    src = sources.load("sketch:poplars", what="drawing")
    a = np.asarray(src.image.convert("L"))
    assert src.image.size == (256, 256) and src.record["source"] == "sketch:poplars"
    ink = (a < 128).mean()
    assert 0.01 < ink < 0.2 and set(np.unique(a[a >= 128])) <= set(range(128, 256))  # black pen on white
    with pytest.raises(BadInput, match="known: bridge"):
        sources.load("sketch:unicorn", what="drawing")
