"""Algorithmic art: generators, palettes, SVG, animation, captions, datasets and the CLI."""

import json
import xml.etree.ElementTree as ET

import numpy as np
import pytest

from yingshe.core.records import read_record
from PIL import Image

from yingshe.cli import main
from yingshe.core import registry
from yingshe.core.errors import BadInput

SVG = "{http://www.w3.org/2000/svg}"
GENERATORS = ["attractor", "flowfield", "harmonograph", "julia", "lsystem", "mandelbrot", "packing",
              "reaction", "subdivision", "truchet", "voronoi"]
VECTOR = ["flowfield", "harmonograph", "lsystem", "packing", "subdivision", "truchet"]
#: small but real settings per generator (tests must stay fast)
TINY = {"attractor": {"points": 20000}, "flowfield": {"particles": 200, "steps": 30},
        "reaction": {"steps": 300}, "lsystem": {"iterations": 3}, "packing": {"circles": 40},
        "harmonograph": {"points": 2000}, "voronoi": {"cells": 20}, "mandelbrot": {"iterations": 100}}


def render(name, size=32, **kw):
    m = registry.get(name)
    r = m.recipe.from_dict({"size": size, **TINY.get(name, {}), **kw})
    return m.run(r, {}, None)


def test_at_least_ten_registered_generators_with_recipes():
    gens = [m for m in registry.all_mappings() if m.family == "algorithmic"]
    assert sorted(m.name for m in gens) == GENERATORS
    for m in gens:
        specs = {s.name: s for s in m.recipe.params()}
        assert {"seed", "size", "palette"} <= set(specs)
        assert all(s.help for s in specs.values())
        assert "\n" not in m.summary


@pytest.mark.parametrize("name", GENERATORS)
def test_every_generator_renders_tiny_and_deterministically(name):
    a, b = render(name), render(name)
    assert a.image.size == (32, 32)
    arr = np.asarray(a.image, np.float32)
    assert arr.std() > 2, "a blank picture"
    assert a.image.tobytes() == b.image.tobytes()
    c = render(name, seed=12345)
    if name not in ("mandelbrot", "julia"):  # the escape-time sets do not use the seed
        assert c.image.tobytes() != a.image.tobytes(), "the seed changes nothing"


def test_list_shows_every_generator_on_one_line(capsys):
    assert main(["art", "--list"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert [ln.split()[0] for ln in lines] == GENERATORS
    assert all(len(ln.split()) > 3 for ln in lines)


def test_cli_png_twice_gives_same_bytes_and_recipe_inside(tmp_path, capsys):
    a, b = tmp_path / "a.png", tmp_path / "b.png"
    for out in (a, b):
        assert main(["art", "julia", "-o", str(out), "--size", "40", "--seed", "3", "--set", "zoom=2",
                     "--palette", "ember", "-q"]) == 0
    # same bytes: the embedded record holds no wall-clock fields (the gallery row keeps them)
    assert a.read_bytes() == b.read_bytes()
    assert main(["info", str(a), "--recipe-only"]) == 0
    rec = json.loads(capsys.readouterr().out)
    assert rec["zoom"] == 2.0 and rec["palette"] == "ember" and rec["size"] == 40
    c = tmp_path / "c.png"
    assert main(["recreate", str(a), "-o", str(c), "-q"]) == 0
    assert c.read_bytes() == a.read_bytes()
    from yingshe.core.gallery import Gallery

    with Gallery.open() as g:
        assert {r.mapping for r in g.list()} == {"julia"}


def _svg(path):
    root = ET.parse(path).getroot()
    assert root.tag == SVG + "svg"
    assert not root.findall(f".//{SVG}image"), "no raster inside a plotter SVG"
    return root


@pytest.mark.parametrize("name,kw,tag,expected", [
    ("truchet", {"tiles": 3, "style": "arcs"}, "polyline", 18),
    ("truchet", {"tiles": 4, "style": "triangles"}, "polygon", 16),
    ("harmonograph", {"segments": 7}, "polyline", 7),
    ("packing", {"circles": 25, "min_radius": 0.01}, "circle", None),
    ("subdivision", {}, "polygon", None),
    ("lsystem", {"preset": "koch", "iterations": 2}, "polyline", 1),
    ("flowfield", {"particles": 50, "steps": 20}, "polyline", None),
])
def test_svg_parses_with_expected_elements(tmp_path, name, kw, tag, expected):
    out = tmp_path / f"{name}.svg"
    args = ["art", name, "-o", str(out), "--size", "64", "-q", "--no-gallery"]
    for k, v in {**TINY.get(name, {}), **kw}.items():
        args += ["--set", f"{k}={v}"]
    assert main(args) == 0
    root = _svg(out)
    found = root.findall(f"{SVG}{tag}")
    art = render(name, 64, **{**kw})
    summary = art.summary
    if expected is None:
        expected = {"packing": summary.get("circles"), "subdivision": summary.get("cells")}.get(name)
    if name == "flowfield":
        assert 0 < len(found) <= 50
    else:
        assert len(found) == expected
    for el in found:
        if tag in ("polyline", "polygon"):
            pts = el.get("points").split()
            assert len(pts) >= 2 and all(len(p.split(",")) == 2 for p in pts)
    rec = read_record(out)  # the record sits in the SVG's <metadata>
    assert rec["mapping"] == name and not (tmp_path / f"{name}.svg.json").exists()
    again = tmp_path / "again.svg"
    assert main(["recreate", str(out), "-o", str(again), "-q", "--no-gallery"]) == 0
    assert again.read_bytes() == out.read_bytes()


def test_raster_generator_refuses_svg(tmp_path, capsys):
    out = tmp_path / "m.svg"
    assert main(["art", "mandelbrot", "-o", str(out), "--size", "32"]) == 2
    assert "raster" in capsys.readouterr().err and not out.exists()


@pytest.mark.parametrize("args,needle", [
    (["art", "nosuch"], "unknown generator"),
    (["art", "mandelbrot", "--zoom", "0"], "at least"),
    (["art", "mandelbrot", "--iterations", "lots"], "whole number"),
    (["art", "julia", "--set", "colour=red"], "unknown julia parameter"),
    (["art", "julia", "--set", "iterations=99999999"], "at most"),
    (["art", "attractor", "--kind", "lorenz"], "one of"),
    (["art", "truchet", "--palette", "nosuchpalette"], "unknown palette"),
    (["art", "truchet", "--palette", "harmony:weird:#ff0000"], "unknown harmony"),
    (["art", "truchet", "--palette", "image:/no/such.png"], "does not exist"),
    (["art", "lsystem", "--rules", "FF=F"], "SYMBOL=REPLACEMENT"),
    (["art", "mandelbrot", "--animate", "zoom=1", "--frames", "3"], "PARAM=A:B"),
    (["art", "mandelbrot", "--animate", "palette=1:2", "--frames", "3"], "not a number"),
    (["art", "mandelbrot", "--animate", "zoom=1:2", "--frames", "1"], "at least 2"),
])
def test_bad_parameters_one_line_exit_2_no_file(tmp_path, capsys, args, needle):
    out = tmp_path / ("x.gif" if "--animate" in args else "x.png")
    assert main(args + ["-o", str(out), "--size", "32"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and needle in err, err
    assert not out.exists() and not list(tmp_path.glob("x*"))


def test_bad_parameters_through_the_real_console_script(tmp_path):
    from conftest import run_cli

    out = tmp_path / "x.png"
    p = run_cli("art", "mandelbrot", "-o", out, "--set", "zoom=-1")
    assert p.returncode == 2 and len(p.stderr.decode().strip().splitlines()) == 1 and not out.exists()


# ------------------------------------------------------------------ colour

def _three_colour_image(path):
    a = np.zeros((60, 90, 3), np.uint8)
    a[:, :30] = (200, 30, 30)
    a[:, 30:60] = (20, 160, 40)
    a[:, 60:] = (30, 40, 190)
    a[:10, :10] = (250, 250, 250)
    Image.fromarray(a).save(path)


def test_palette_extraction_finds_the_image_colours(tmp_path):
    from yingshe.algorithmic.palettes import extract

    p = tmp_path / "three.png"
    _three_colour_image(p)
    pal = extract(Image.open(p), 4) * 255
    for want in [(200, 30, 30), (20, 160, 40), (30, 40, 190), (250, 250, 250)]:
        assert np.abs(pal - np.array(want)).max(1).min() < 12, (want, pal.round())


def test_harmonies_have_the_right_hues():
    from yingshe.algorithmic.palettes import harmony, hex_to_rgb, oklch

    base = hex_to_rgb("#ff8800")
    def hue(c):
        return oklch(c)[2]
    comp = harmony("complementary", base)
    assert abs(((hue(comp[2]) - hue(base)) % 360) - 180) < 12
    tri = harmony("triadic", base)
    diffs = sorted(((hue(c) - hue(base)) % 360) for c in tri[1:4])
    assert abs(diffs[1] - 120) < 15 and abs(diffs[2] - 240) < 15
    ana = harmony("analogous", base)
    assert all(min(d, 360 - d) <= 40 for d in (((hue(c) - hue(base)) % 360) for c in ana[1:4]))
    assert oklch(comp[0])[0] < 0.3  # a deep background


def test_image_palette_is_recorded_and_checked_by_recreate(tmp_path, capsys):
    from yingshe.core.fingerprint import sha256_file

    img = tmp_path / "three.png"
    _three_colour_image(img)
    out = tmp_path / "t.png"
    assert main(["art", "truchet", "-o", str(out), "--size", "48", "--palette", f"image:{img}:4", "--set", "tiles=3", "-q"]) == 0
    from yingshe.core.records import read_record

    rec = read_record(out)
    assert rec["inputs"]["palette"][0]["sha256"] == sha256_file(img)
    px = np.asarray(Image.open(out)).reshape(-1, 3).astype(int)
    assert np.abs(px - np.array([200, 30, 30])).max(1).min() < 20  # the image's red is used
    again = tmp_path / "again.png"
    assert main(["recreate", str(out), "-o", str(again), "-q"]) == 0
    assert Image.open(again).tobytes() == Image.open(out).tobytes()
    Image.new("RGB", (8, 8), (0, 0, 0)).save(img)
    assert main(["recreate", str(out), "-o", str(tmp_path / "x.png"), "-q"]) == 2
    assert "changed" in capsys.readouterr().err


def test_colour_names_and_captions():
    from yingshe.algorithmic.captions import caption, colour_name
    from yingshe.algorithmic.palettes import hex_to_rgb

    assert colour_name(hex_to_rgb("#0b1d3a")) == "deep blue"
    assert colour_name(hex_to_rgb("#f2c14e")) == "golden"
    assert colour_name(hex_to_rgb("#ffffff")) == "white"
    assert "red" in colour_name(hex_to_rgb("#d00000"))
    assert "green" in colour_name(hex_to_rgb("#52b788"))
    a = np.zeros((64, 64, 3), np.uint8)
    a[:] = (11, 29, 58)
    a[20:40, 10:50] = (242, 193, 78)
    assert caption("attractor swirls", Image.fromarray(a)) == "golden attractor swirls on a deep blue background"
    a[20:40, 10:50] = (20, 40, 75)  # only shades of one colour: no "blue on a blue background"
    assert caption("attractor swirls", Image.fromarray(a)) == "attractor swirls in deep blue tones"


# ------------------------------------------------------------------ fractals, noise, tiles

def test_deep_zoom_perturbation_matches_high_precision_iteration():
    from decimal import Decimal, localcontext

    from yingshe.algorithmic.fractal import escape_field

    cx, cy, zoom, it, w = -0.743643887037151, 0.131825904205330, 1e12, 4000, 24
    nu = escape_field(w, w, cx, cy, zoom, it)
    assert (nu > 0).mean() > 0.5
    step = 3.0 / zoom / w
    picks = [tuple(p) for p in np.argwhere(nu > 0)[:: max(1, int((nu > 0).sum()) // 4)][:4]]
    with localcontext() as ctx:
        ctx.prec = 50
        for (j, i) in picks:
            cr = Decimal(cx) + (Decimal(int(i)) - Decimal(w - 1) / 2) * Decimal(step)
            ci = Decimal(cy) - (Decimal(int(j)) - Decimal(w - 1) / 2) * Decimal(step)
            zr = zi = Decimal(0)
            n = 0
            while n < it and zr * zr + zi * zi <= 65536:
                zr, zi = zr * zr - zi * zi + cr, 2 * zr * zi + ci
                n += 1
            assert n < it
            assert int(np.floor(nu[j, i] + np.log2(0.5 * np.log(float(zr * zr + zi * zi))) - 1 + 1e-9)) == n
    # no banding: smooth values vary from pixel to pixel
    assert len(np.unique(np.round(nu, 6))) > 0.9 * w * w


def test_curl_field_is_smooth_without_seams():
    from yingshe.algorithmic.noise import noise_and_gradient

    n, gy, gx = noise_and_gradient(256, 256, scale=64, octaves=3, rng=np.random.default_rng(0))
    vx, vy = gy, -gx
    div = np.gradient(vx, axis=1) + np.gradient(vy, axis=0)
    assert np.abs(div).max() < 0.02 * np.abs(gx).max()  # divergence-free
    for axis in (0, 1):
        kinks = np.abs(np.diff(vx, 2, axis=axis)).mean(axis=1 - axis)
        assert kinks.max() < 3 * np.median(kinks), "straight seams in the flow"


def test_canvas_strips_match_a_single_pass():
    art = render("truchet", 96, tiles=5)
    canvas_img = art.image
    from yingshe.algorithmic import truchet
    r = truchet.TruchetRecipe(size=96, tiles=5)
    r.validate()
    # rebuild the canvas and rasterise it in many thin strips
    import yingshe.algorithmic.common as common
    shapes = []
    orig = common.Canvas.render

    def spy(self, supersample=None, budget=12_000_000):
        shapes.append(self)
        return orig(self, supersample, budget)
    common.Canvas.render = spy
    try:
        truchet.run(r, {})
    finally:
        common.Canvas.render = orig
    strips = orig(shapes[0], 4, budget=96 * 16 * 7)
    diff = np.abs(np.asarray(strips, int) - np.asarray(canvas_img, int))
    assert diff.max() <= 2


# ------------------------------------------------------------------ animation and composition

def test_gif_and_mp4_animations(tmp_path):
    gif = tmp_path / "z.gif"
    assert main(["art", "mandelbrot", "-o", str(gif), "--size", "32", "--animate", "zoom=1:50:log",
                 "--frames", "5", "--set", "iterations=80", "-q"]) == 0
    with Image.open(gif) as im:
        assert im.n_frames == 5
        im.seek(0)
        f0 = np.asarray(im.convert("RGB"))
        im.seek(4)
        f4 = np.asarray(im.convert("RGB"))
    assert np.abs(f0.astype(int) - f4).mean() > 5  # the zoom moves
    rec = read_record(gif)  # in the GIF's comment extension
    assert rec["mapping"] == "animation" and rec["recipe"]["frames"] == 5
    again = tmp_path / "again.gif"
    assert main(["recreate", str(gif), "-o", str(again), "-q"]) == 0
    assert again.read_bytes() == gif.read_bytes()

    import imageio_ffmpeg

    mp4 = tmp_path / "r.mp4"
    args = ["art", "harmonograph", "-o", str(mp4), "--size", "33", "--animate", "ratio=1:2", "--frames", "4",
            "--set", "points=500", "-q", "--no-gallery"]
    assert main(args) == 0
    mp4b = tmp_path / "r2.mp4"
    assert main(args[:3] + [str(mp4b)] + args[4:]) == 0
    assert mp4.read_bytes() == mp4b.read_bytes()
    reader = imageio_ffmpeg.read_frames(str(mp4))
    meta = next(reader)
    assert tuple(meta["size"]) == (34, 34)
    assert sum(1 for _ in reader) == 4


def test_still_formats_refuse_animation_and_vice_versa(tmp_path, capsys):
    assert main(["art", "julia", "-o", str(tmp_path / "x.gif"), "--size", "32"]) == 2
    assert main(["art", "julia", "-o", str(tmp_path / "x.png"), "--size", "32", "--animate", "zoom=1:2"]) == 2
    assert not list(tmp_path.iterdir())


def test_art_scheme_takes_palettes(tmp_path):
    from yingshe.core import sources

    a = sources.load("art:truchet?seed=2&palette=harmony:triadic:%23ff8800&size=40")
    b = sources.load("art:truchet?seed=2&palette=ink&size=40")
    assert a.image.size == (40, 40) and a.record["sha256"] != b.record["sha256"]


# ------------------------------------------------------------------ datasets

def test_dataset_art_layout_captions_and_recipes(tmp_path):
    from yingshe.algorithmic.dataset import noun_for, recipe_for

    out = tmp_path / "ds"
    gens = ["attractor", "truchet", "reaction"]
    assert main(["dataset", "art", "--generators", ",".join(gens), "--n", "12", "--size", "24", "-o", str(out),
                 "-q", "--workers", "2"]) == 0
    rows = [json.loads(ln) for ln in (out / "captions.jsonl").read_text().splitlines()]
    assert len(rows) == 12
    assert [r["class"] for r in rows] == [gens[i % 3] for i in range(12)]
    for i, row in enumerate(rows):
        assert row["file"] == f"{row['class']}/{i:05d}.png"
        img = Image.open(out / row["file"])
        assert img.size == (24, 24)
        _, recipe = recipe_for(row["class"], i, 24, 0)
        assert row["recipe"] == recipe.to_dict()
        assert noun_for(row["class"], recipe) in row["caption"]
        assert row["caption"].endswith(" background") or row["caption"].endswith(" tones")
    # the same seed makes the same dataset
    out2 = tmp_path / "ds2"
    assert main(["dataset", "art", "--generators", ",".join(gens), "--n", "12", "--size", "24", "-o", str(out2),
                 "-q", "--workers", "1"]) == 0
    assert (out2 / "captions.jsonl").read_text() == (out / "captions.jsonl").read_text()
    assert (out2 / rows[4]["file"]).read_bytes() == (out / rows[4]["file"]).read_bytes()


def test_dataset_rejects_unknown_generators(tmp_path, capsys):
    assert main(["dataset", "art", "--generators", "flowfield,bogus", "--n", "2", "-o", str(tmp_path / "d")]) == 2
    assert "bogus" in capsys.readouterr().err


def test_recipe_validation_errors_are_badinput():
    m = registry.get("reaction")
    with pytest.raises(BadInput):
        m.recipe.from_dict({"preset": "zebra"})
    with pytest.raises(BadInput):
        m.recipe.from_dict({"feed": "x"})


def test_a_preview_frame_is_quicker_but_never_leaks_into_saved_artworks():
    """Inside registry.preview() (the studio's coarse live frame) the line generators supersample
    less: a slightly different picture of the same layout. Outside it, the same bytes as ever."""
    from yingshe.core import registry

    m = registry.get("truchet")
    rec = m.recipe().replace(size=96, seed=4)
    before = np.asarray(m.run(rec, {}, None).image, dtype=np.float64)
    with registry.preview():
        assert registry.PREVIEW.get()
        quick = np.asarray(m.run(rec, {}, None).image, dtype=np.float64)
    after = np.asarray(m.run(rec, {}, None).image, dtype=np.float64)
    assert not registry.PREVIEW.get()
    assert np.array_equal(before, after) and not np.array_equal(before, quick)
    # the same tiles (another seed's correlate ~0.6), edges antialiased less
    assert np.corrcoef(before.mean(2).ravel(), quick.mean(2).ravel())[0, 1] > 0.85
