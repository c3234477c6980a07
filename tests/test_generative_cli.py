"""GAN/VAE from the outside: shipped models, the latent API, and the CLI end to end."""

import json

import numpy as np
import pytest
import torch
from PIL import Image

from conftest import run_cli
from test_generative import make_images


def test_shipped_models_and_latent_api():
    from yingshe.generative import latent

    assert {"art-gan-32", "art-vae-32"} <= set(latent.available())
    g = latent.load("art-gan-32", device="cpu")
    assert g.latent_dim == 64 and len(g.classes) >= 2 and g.size == 32
    z = g.sample_z(3, seed=1)
    a = g.decode(z, cls=g.classes[0])
    assert a.shape == (3, 3, 32, 32) and 0 <= a.min() and a.max() <= 1
    assert torch.equal(a, g.decode(z, cls=0))
    d = g.directions(4)
    assert d.shape == (4, 64) and torch.allclose(d.norm(dim=1), torch.ones(4), atol=1e-4)
    moved = g.decode(z + 3 * d[0], cls=0)
    assert (moved - a).abs().mean() > 1e-3
    v = latent.load("art-vae-32", device="cpu")
    assert v.classes == [] and v.decode(torch.zeros(2, v.latent_dim)).shape == (2, 3, 32, 32)
    assert v.directions(3).shape == (3, v.latent_dim)


def test_cli_train_sample_recreate_walk_encode_eval(tmp_path):
    data = make_images(tmp_path / "data", n=8, classes=())
    run = tmp_path / "run"
    p = run_cli("train", "vae", data, "-o", run, "--size", "32", "--batch", "4", "--width", "8", "--z-dim", "8",
                "--epochs", "2", "--threads", "1", "-q", "--json")
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["step"] == 4
    assert sorted(f.name for f in (run / "samples").iterdir()) == ["epoch-0001.png", "epoch-0002.png"]
    p = run_cli("train", "vae", data, "-o", run, "-q")  # refuses to overwrite a run
    assert p.returncode == 2 and "--resume" in p.stderr.decode()
    p = run_cli("train", "vae", data, "-o", run, "--resume", "--epochs", "3", "-q", "--json")
    assert p.returncode == 0 and json.loads(p.stdout)["step"] == 6, p.stderr

    out = tmp_path / "grid.png"
    assert run_cli("sample", run, "--n", "4", "--seed", "5", "-o", out).returncode == 0
    again = tmp_path / "again.png"
    p = run_cli("recreate", out, "-o", again)
    assert p.returncode == 0, p.stderr
    assert np.array_equal(np.asarray(Image.open(out)), np.asarray(Image.open(again)))

    enc = tmp_path / "enc.png"
    p = run_cli("encode", run, next((data).glob("*.png")), "-o", enc)
    assert p.returncode == 0, p.stderr
    p = run_cli("recreate", enc, "-o", tmp_path / "enc2.png")  # the source picture's record is kept too
    assert p.returncode == 0, p.stderr
    assert (tmp_path / "enc2.png").read_bytes() == enc.read_bytes()
    mix = tmp_path / "mix.png"
    p = run_cli("sample", run, "--z-from", enc, "--z-from", out, "--z-weights", "1,-1", "-o", mix)
    assert p.returncode == 2  # a 4-image grid holds no single latent: one-line refusal
    p = run_cli("sample", run, "--z-from", enc, "--z-from", enc, "--z-weights", "0.5,0.5", "-o", mix)
    assert p.returncode == 0, p.stderr
    assert np.array_equal(np.asarray(Image.open(mix)), np.asarray(Image.open(enc)))

    gif = tmp_path / "walk.gif"
    p = run_cli("interpolate", run, "--steps", "5", "--loop", "-o", gif)
    assert p.returncode == 0, p.stderr
    assert Image.open(gif).n_frames == 5
    rec = json.loads(run_cli("info", gif).stdout)  # the walk is an artwork: a latent-walk record in the GIF
    assert rec["mapping"] == "latent-walk" and rec["recipe"]["loop"] and rec["recipe"]["steps"] == 5
    again = tmp_path / "again.gif"
    assert run_cli("recreate", gif, "-o", again).returncode == 0 and again.read_bytes() == gif.read_bytes()

    p = run_cli("eval", run, "--data", data, "--n", "8", "--json")
    assert p.returncode == 0, p.stderr
    r = json.loads(p.stdout)
    assert r["metric"] == "FID-VGG19" and r["samples"] == 8 and r["fid"] >= 0


def test_project_finds_a_closer_latent(tmp_path):
    from yingshe.generative.project import project
    from yingshe.generative.sample import load_model, to_pil

    m = load_model("art-gan-32")
    target = to_pil(((m.net(torch.randn(1, 64, generator=torch.Generator().manual_seed(9)),
                            torch.zeros(1, dtype=torch.long)) + 1) / 2)[0])
    z, img, loss = project(m, target, steps=15, starts=4)
    assert z.shape == (1, 64) and img.shape == (1, 3, 32, 32)
    z0, img0, loss0 = project(m, target, steps=1, starts=4)
    assert loss < loss0


def test_inception_fid_features_with_weights_on_disk_and_a_clear_error_without(tmp_path):
    """The published FID's network loads a torchvision-named state dict (here random weights of the
    right shapes, since the real file is not available offline), gives 2048-d features, refuses
    files of the wrong shape and pickles, and offline without the file fails in one line."""
    from yingshe.core.errors import WeightsError
    from yingshe.generative.evaluate import extractor
    from yingshe.nets.inception import FIDInceptionV3

    torch.manual_seed(0)
    state = FIDInceptionV3().state_dict()
    for k in [k for k in state if k.endswith("num_batches_tracked")]:
        del state[k]  # the ported file predates this buffer
    for k in ("Conv2d_1a_3x3.conv.weight", "Mixed_5b.branch_pool.conv.weight", "Mixed_7c.branch3x3dbl_3b.conv.weight"):
        assert k in state  # torchvision's parameter names, which the ported weights use
    assert state["Mixed_7c.branch3x3dbl_3b.conv.weight"].shape == (384, 384, 3, 1)
    state["fc.weight"], state["fc.bias"] = torch.zeros(1008, 2048), torch.zeros(1008)  # skipped
    good = tmp_path / "pt_inception.pth"
    torch.save(state, good)
    ext = extractor("inception", "cpu", str(good))
    f = ext(torch.rand(3, 3, 40, 56))
    assert f.shape == (3, 2048) and np.isfinite(f).all() and (f >= 0).all()  # means of ReLU outputs
    assert not np.allclose(f[0], f[1])

    bad = dict(state)
    bad["Mixed_6b.branch1x1.conv.weight"] = torch.zeros(3, 3, 1, 1)
    torch.save(bad, tmp_path / "bad.pth")
    with pytest.raises(WeightsError, match="misshapen"):
        extractor("inception", "cpu", str(tmp_path / "bad.pth"))

    data = tmp_path / "data"
    data.mkdir()
    for i in range(3):
        Image.fromarray(np.random.default_rng(i).integers(0, 255, (32, 32, 3), dtype=np.uint8)).save(data / f"{i}.png")
    p = run_cli("eval", "art-vae-32", "--data", data, "--n", "3", "--features", "inception")
    err = p.stderr.decode() if isinstance(p.stderr, bytes) else p.stderr
    assert p.returncode != 0 and "inception-fid is not in the cache" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1, err
    p = run_cli("eval", "art-vae-32", "--data", data, "--n", "3", "--features", "inception",
                "--features-weights", good, "--json")
    assert p.returncode == 0, p.stderr
    r = json.loads(p.stdout)
    assert r["metric"] == "FID-Inception" and r["features"] == "inception-v3-2015-12-05-pool3" and r["samples"] == 3


@pytest.mark.parametrize("argv, says", [
    (["eval", "runs/x", "--bogus", "1"], "unrecognized arguments: --bogus 1 (see `yingshe eval --help`)"),
    (["gallery", "list", "--limit", "-3"], "'-3' is not a count"),
    (["eval", "runs/x", "--threads", "0"], "--threads must be between 1 and 1024"),
])
def test_option_errors_name_the_command(argv, says, capsys):
    from yingshe.cli import main

    try:
        rc = main(argv)
    except SystemExit as e:  # argparse's own errors exit from inside the parser
        rc = e.code
    assert rc == 2
    err = capsys.readouterr().err.strip()
    assert says in err and len(err.splitlines()) == 1, err
