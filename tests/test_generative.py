"""GAN/VAE: losses match their formulas, steps lower losses, save/load/sample, resume, DDP,
refusing pickles, and the CLI's error paths."""

import json
import os
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from conftest import run_cli
from yingshe.generative import losses
from yingshe.generative.augment import cutout, diff_augment, translation
from yingshe.generative.trainer import TrainConfig, Trainer, train


def make_images(folder: Path, n: int = 12, size: int = 40, classes=("a", "b")):
    rng = np.random.default_rng(0)
    for i in range(n):
        d = folder / classes[i % len(classes)] if classes else folder
        d.mkdir(parents=True, exist_ok=True)
        a = rng.integers(0, 255, (size, size + 8, 3), dtype=np.uint8)
        a[:, : size // 2] = (i * 20) % 255
        Image.fromarray(a).save(d / f"img{i}.png")
    return folder


@pytest.fixture
def data(tmp_path):
    return make_images(tmp_path / "data")


def tiny(data, out, **kw):
    base = dict(kind="gan", data=str(data), out=str(out), size=32, batch=4, width=8, z_dim=16, max_steps=2,
                ckpt_every=1000, sample_n=4, log_every=1, threads=1)
    return TrainConfig(**(base | kw))


# ------------------------------------------------------------------------------ formulas

def test_gan_losses_match_formulas():
    r = torch.tensor([2.0, -1.0, 0.5])
    f = torch.tensor([-0.5, 1.5, 0.0])
    sig = torch.sigmoid
    bce_d = -(torch.log(sig(r)).mean() + torch.log(1 - sig(f)).mean())
    assert torch.allclose(losses.d_loss("bce", r, f), bce_d)
    assert torch.allclose(losses.g_loss("bce", f), -torch.log(sig(f)).mean())
    hinge = torch.clamp(1 - r, min=0).mean() + torch.clamp(1 + f, min=0).mean()
    assert torch.allclose(losses.d_loss("hinge", r, f), hinge)
    assert torch.allclose(losses.g_loss("hinge", f), -f.mean())
    assert torch.allclose(losses.d_loss("wgan-gp", r, f), f.mean() - r.mean())


def test_gradient_penalty_of_a_linear_critic():
    w = torch.randn(1, 3, 4, 4)
    critic = lambda x: (x * w).flatten(1).sum(1)  # ∇ₓD = w everywhere
    gp = losses.gradient_penalty(critic, torch.randn(5, 3, 4, 4), torch.randn(5, 3, 4, 4))
    assert torch.allclose(gp, (w.norm() - 1) ** 2, rtol=1e-5)


def test_vae_losses_match_formulas():
    mu, logvar = torch.randn(4, 6), torch.randn(4, 6) * 0.3
    q = torch.distributions.Normal(mu, (0.5 * logvar).exp())
    p = torch.distributions.Normal(torch.zeros_like(mu), torch.ones_like(mu))
    kl = torch.distributions.kl_divergence(q, p).sum(1).mean()
    assert torch.allclose(losses.kl_divergence(mu, logvar), kl, rtol=1e-5)
    x, xh = torch.randn(2, 3, 4, 4), torch.randn(2, 3, 4, 4)
    assert torch.allclose(losses.reconstruction(xh, x), ((xh - x) ** 2).sum() / 2)
    assert losses.kl_weight(0, 100, 4.0) == 0 and losses.kl_weight(50, 100, 4.0) == 2.0
    assert losses.kl_weight(500, 100, 4.0) == 4.0


def test_diffaugment():
    torch.manual_seed(0)
    x = torch.ones(8, 3, 16, 16)
    t = translation(x)
    assert t.shape == x.shape and (t == 0).any() and set(t.unique().tolist()) <= {0.0, 1.0}
    c = cutout(x)
    zero = (c[:, 0] == 0).flatten(1).float().mean(1)
    assert ((zero > 0.05) & (zero <= 0.25 + 1e-6)).all()  # a square of at most half the side
    y = diff_augment(torch.rand(2, 3, 8, 8, requires_grad=True), ("color", "translation", "cutout"))
    y.sum().backward()  # differentiable


# ------------------------------------------------------------------------------ training

def test_one_step_lowers_the_losses(data, tmp_path):
    t = Trainer(tiny(data, tmp_path / "r", loss="hinge", spectral_norm=True, lr=1e-3, ema=0))
    torch.manual_seed(1)
    x, y = t._batch(0)
    z = torch.randn(4, 16).to(t.device)  # the trainer picks the GPU where there is one
    with torch.no_grad():
        fake = t.G(z)
    before = losses.d_loss("hinge", t.D(x), t.D(fake)).item()
    for _ in range(3):
        t.opt_d.zero_grad()
        losses.d_loss("hinge", t.D(x), t.D(fake)).backward()
        t.opt_d.step()
    assert losses.d_loss("hinge", t.D(x), t.D(fake)).item() < before
    t.D.eval()
    g_before = losses.g_loss("hinge", t.D(t.G(z))).item()
    t.opt_g.zero_grad()
    losses.g_loss("hinge", t.D(t.G(z))).backward()
    t.opt_g.step()
    assert losses.g_loss("hinge", t.D(t.G(z))).item() < g_before

    v = Trainer(tiny(data, tmp_path / "v", kind="vae", lr=1e-3, kl_warmup=0))
    v.V.eval()  # fixed BatchNorm statistics, so before/after see the same function of the weights
    noise = torch.randn(4, 16).to(v.device)
    xh, mu, lv = v.V(x, noise)
    before = losses.vae_loss(xh, x, mu, lv, 1.0)[0].item()
    v.opt.zero_grad()
    losses.vae_loss(xh, x, mu, lv, 1.0)[0].backward()
    v.opt.step()
    xh, mu, lv = v.V(x, noise)
    assert losses.vae_loss(xh, x, mu, lv, 1.0)[0].item() < before


@pytest.mark.parametrize("kind,extra", [("gan", {"conditional": True, "diffaug": "color,translation,cutout"}),
                                        ("vae", {})])
def test_save_load_sample_is_identical(data, tmp_path, kind, extra):
    from yingshe.generative.sample import class_labels, decode, latents, load_model

    r = train(tiny(data, tmp_path / "run", kind=kind, **extra))
    run = tmp_path / "run"
    for f in ("config.json", "model.safetensors", "checkpoint.safetensors", "samples/epoch-0001.png"):
        assert (run / f).exists(), f
    assert list((run / "tb").iterdir())  # TensorBoard events
    net = r.nets["G_ema"] if kind == "gan" else r.nets["V"]
    net.eval()
    m1, m2 = load_model(run), load_model(run / "model.safetensors")
    z = latents(6, 16, seed=3)
    y = class_labels(m1, 6, None, "cpu")
    if kind == "gan":
        assert m1.classes == ["a", "b"]
    dev = next(net.parameters()).device  # the trainer's net is on the GPU where there is one
    a, b = decode(m1.net, kind, z, y), decode(m2.net, kind, z, y)
    c = decode(net, kind, z.to(dev), y.to(dev) if y is not None else None).cpu()
    assert torch.equal(a, b)
    assert torch.equal(a, c) if dev.type == "cpu" else torch.allclose(a, c, atol=1e-4)
    assert m1.sha256 == m2.sha256


def test_resume_continues_the_same_run(data, tmp_path):
    """Bit for bit on the CPU. (On CUDA some backward kernels accumulate with atomics, so a resumed
    run is the same run statistically, not bit for bit.)"""
    from yingshe.core.checkpoint import load_tensors

    straight = train(tiny(data, tmp_path / "a", max_steps=4, ckpt_every=2, device="cpu"))
    train(tiny(data, tmp_path / "b", max_steps=2, ckpt_every=2, device="cpu"))
    resumed = train(tiny(data, tmp_path / "b", max_steps=4, ckpt_every=2, device="cpu"), resume=True)
    assert straight.step == resumed.step == 4
    ta, _ = load_tensors(tmp_path / "a" / "checkpoint.safetensors")
    tb, mb = load_tensors(tmp_path / "b" / "checkpoint.safetensors")
    assert mb["step"] == 4 and ta.keys() == tb.keys()
    for k in ta:
        assert torch.equal(ta[k], tb[k]), k


DDP_WORKER = """
import os, sys, torch
from safetensors.torch import save_file
from yingshe.generative.trainer import TrainConfig, train
cfg = TrainConfig(kind="gan", data=sys.argv[1], out=sys.argv[2], size=32, batch=2, width=8, z_dim=16,
                  max_steps=3, ckpt_every=1000, sample_n=4, log_every=1, threads=1, loss=sys.argv[3],
                  spectral_norm=sys.argv[3] == "hinge", diffaug="translation", device="cpu")
r = train(cfg)
rank = int(os.environ["RANK"])
state = {f"{n}.{k}": v.contiguous() for n in ("G", "D") for k, v in r.nets[n].state_dict().items()}
save_file(state, os.path.join(sys.argv[2], f"rank{rank}.safetensors"))
# leaving the group must end gloo's threads now, not at C++ teardown (where they can abort the process)
from yingshe.core.trainer import _leave_group
_leave_group()
if os.path.isdir("/proc/self/task"):
    import time
    time.sleep(0.2)
    names = [open(f"/proc/self/task/{t}/comm").read().strip() for t in os.listdir("/proc/self/task")]
    left = [n for n in names if "gloo" in n]
    assert not left, f"rank {rank}: gloo threads outlived the process group: {left}"
"""


@pytest.mark.parametrize("loss", ["hinge", "bce", "wgan-gp"])  # SN D; BatchNorm D (two forwards); gradient penalty
def test_two_process_gloo_ranks_hold_identical_weights(data, tmp_path, loss):
    from safetensors.torch import load_file

    worker = tmp_path / "worker.py"
    worker.write_text(DDP_WORKER)
    out = tmp_path / "ddp"
    env = dict(os.environ, OMP_NUM_THREADS="1", MASTER_ADDR="127.0.0.1")
    p = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
                        str(worker), str(data), str(out), loss], capture_output=True, text=True, env=env, timeout=180)
    assert p.returncode == 0, p.stderr[-3000:]
    a, b = load_file(out / "rank0.safetensors"), load_file(out / "rank1.safetensors")
    assert a.keys() == b.keys()
    for k in a:
        assert torch.equal(a[k], b[k]), k
    init = Trainer(tiny(data, tmp_path / "init", loss="hinge", spectral_norm=True))
    moved = [k for k, v in init.G.state_dict().items() if not torch.equal(v, a[f"G.{k}"])]
    assert moved  # they trained (not just stayed at the shared initialisation)
    cfg = json.loads((out / "config.json").read_text())
    assert cfg["world_size"] == 2


# ------------------------------------------------------------------------------ safety and errors

class _Evil:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_malicious_pickle_checkpoint_is_refused_unexecuted(data, tmp_path):
    marker = tmp_path / "pwned"
    payload = pickle.dumps({"G": _Evil(marker)})
    run = tmp_path / "run"
    run.mkdir()
    (run / "model.safetensors").write_bytes(payload)
    (tmp_path / "evil.pt").write_bytes(payload)
    for target in (run, tmp_path / "evil.pt"):
        p = run_cli("sample", target, "--n", "1", "-o", tmp_path / "x.png")
        assert p.returncode == 2, p.stderr
        assert p.stderr.decode().count("\n") == 1 and "safetensors" in p.stderr.decode()
    train(tiny(data, tmp_path / "r2"))
    (tmp_path / "r2" / "checkpoint.safetensors").write_bytes(payload)
    p = run_cli("train", "gan", data, "-o", tmp_path / "r2", "--resume", "-q")
    assert p.returncode == 2 and p.stderr.decode().count("\n") == 1, p.stderr
    assert not marker.exists()


def test_empty_or_unreadable_data_is_a_one_line_error(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "a.png").write_bytes(b"not a png at all")
    (bad / "b.jpg").write_bytes(b"")
    for folder, words in ((empty, "holds no pictures"), (bad, "could be read"), (tmp_path / "nope", "does not exist")):
        p = run_cli("train", "gan", folder, "-o", tmp_path / "run", "-q")
        err = p.stderr.decode()
        assert p.returncode == 2 and err.count("\n") == 1 and words in err, err
        assert not (tmp_path / "run").exists()  # no empty run folder left behind


def test_unreadable_files_are_skipped_and_counted(data, tmp_path):
    (data / "a" / "broken.png").write_bytes(b"\x89PNG garbage")
    r = train(tiny(data, tmp_path / "run", max_steps=1))
    assert r.skipped == 1
    assert json.loads((tmp_path / "run" / "config.json").read_text())["data"]["skipped"] == 1


# --------------------------------------------------------------------------- evaluation

def test_fid_matches_the_naive_formula_and_handles_fewer_samples_than_dimensions():
    from scipy import linalg

    from yingshe.generative.evaluate import fid

    def naive(a, b):
        s1, s2 = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
        return (((a.mean(0) - b.mean(0)) ** 2).sum() + np.trace(s1) + np.trace(s2)
                - 2 * np.trace(np.real(linalg.sqrtm(s1 @ s2))))

    rng = np.random.default_rng(0)
    a = rng.normal(size=(80, 6))
    b = rng.normal(size=(70, 6)) @ rng.normal(size=(6, 6)) + 1
    assert fid(a, b) == pytest.approx(naive(a, b), rel=1e-9)  # the d × d route (n > d)
    assert fid(a[:5], b[:4]) == pytest.approx(naive(a[:5], b[:4]), rel=1e-6)  # the n × n route (n ≤ d)
    assert fid(a, a) == pytest.approx(0, abs=1e-9)
    # 40 samples in 300 dimensions: singular covariances, still exact and symmetric
    x, y = rng.normal(size=(40, 300)), rng.normal(size=(40, 300)) * 1.5
    assert fid(x, y) == pytest.approx(fid(y, x), rel=1e-9) and fid(x, y) > fid(x, rng.normal(size=(40, 300)))


@pytest.mark.skipif(not (SHARED_MONET := Path(__file__).resolve().parents[2] / "shared" / "data" / "datasets"
                         / "monet_paintings_256").is_dir(), reason="needs ../shared/data")
def test_fid_vgg19_ranks_degradations():
    """FID-VGG19 must put held-out Monets nearest, blurred/noisy Monets next, and grey noise far:
    the first version (relu5_4 means) put grey noise nearer than noisy Monets."""
    import torch.nn.functional as F

    from yingshe.generative.evaluate import VGGFeatures, fid, real_images

    x = real_images(str(SHARED_MONET), 64)
    perm = torch.randperm(len(x), generator=torch.Generator().manual_seed(0))
    a, b = x[perm[:80]], x[perm[80:160]]
    g = torch.Generator().manual_seed(1)
    k = torch.ones(3, 1, 5, 5) / 25
    sets = {"held-out": b,
            "blurred": F.conv2d(F.pad(b, [2] * 4, mode="replicate"), k, groups=3),
            "noisy": (b + 0.2 * torch.randn(b.shape, generator=g)).clamp(0, 1),
            "grey noise": (0.5 + 0.1 * torch.randn(b.shape, generator=g)).clamp(0, 1)}
    ext = VGGFeatures()
    fa = ext(a)
    d = {name: fid(fa, ext(s)) for name, s in sets.items()}
    assert d["held-out"] < d["blurred"] < d["grey noise"], d
    assert d["held-out"] < d["noisy"] < d["grey noise"], d


def test_short_epochs_save_grids_at_most_every_epoch_save_seconds(data, tmp_path):
    """On a GPU an epoch of a small folder lasts milliseconds: grids/checkpoints are throttled,
    but the first epoch and the last step always save."""
    train(tiny(data, tmp_path / "slow", epochs=4, max_steps=0, epoch_save_seconds=1e9))
    assert sorted(f.name for f in (tmp_path / "slow" / "samples").iterdir()) == ["epoch-0001.png", "epoch-0004.png"]
    train(tiny(data, tmp_path / "every", epochs=4, max_steps=0, epoch_save_seconds=0))
    assert len(list((tmp_path / "every" / "samples").iterdir())) == 4


def test_adam_betas_default_per_loss_and_are_checked():
    from yingshe.core.errors import BadInput

    assert (TrainConfig(loss="bce").beta1, TrainConfig(loss="bce").beta2) == (0.5, 0.999)  # DCGAN
    assert (TrainConfig(loss="hinge").beta1, TrainConfig(loss="hinge").beta2) == (0.0, 0.99)  # SAGAN/BigGAN
    assert (TrainConfig(loss="wgan-gp").beta1, TrainConfig(loss="wgan-gp").beta2) == (0.0, 0.9)
    assert TrainConfig(kind="vae").beta1 == 0.9
    assert TrainConfig(loss="hinge", beta1=0.5).beta1 == 0.5  # what the user gives wins
    with pytest.raises(BadInput, match="beta1"):
        TrainConfig(beta1=1.5).check()
