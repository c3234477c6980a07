"""Studio without a browser: recipe → controls, the job/upload/gallery handlers, the CLI."""

import threading
from dataclasses import dataclass

import numpy as np
import pytest
from pathlib import Path
from PIL import Image

from yingshe.core.errors import BadInput
from yingshe.core.records import read_record
from yingshe.core.recipe import Recipe, param
from yingshe.studio.controls import controls_for, to_recipe, to_values
from yingshe.studio.service import Studio

from conftest import run_cli


@dataclass
class DemoRecipe(Recipe):
    mapping = "demo-controls"
    size: int = param(256, "side", min=16, max=8192)
    count: int = param(10, "many", min=1, max=2_000_000)
    gain: float = param(0.5, "gain", min=0.0, max=4.0)
    weight: float = param(1e3, "weight", min=0.0, max=1e12)
    mode: str = param("a", "mode", choices=("a", "b"))
    on: bool = param(False, "switch")
    sizes: tuple[int, ...] = param((), "sizes", min=16, max=64, max_len=3)
    lr: float | None = param(None, "step", min=1e-6, max=10.0, advanced=True)
    name: str = param("x", "free text")


def test_recipe_becomes_controls():
    c = {x.name: x for x in controls_for(DemoRecipe)}
    assert c["seed"].widget == "seed" and c["seed"].maximum == 2**32 - 1
    assert (c["size"].widget, c["size"].minimum, c["size"].maximum, c["size"].step) == ("slider", 16, 8192, 1)
    assert c["count"].widget == "number" and c["count"].precision == 0  # a 2M-wide slider is unusable
    assert c["gain"].widget == "slider" and 0 < c["gain"].step <= 0.01
    assert c["weight"].widget == "number"
    assert c["mode"].widget == "dropdown" and c["mode"].choices == ("a", "b")
    assert c["on"].widget == "checkbox"
    assert c["sizes"].widget == "text" and c["sizes"].value == ""
    assert c["lr"].widget == "text" and c["lr"].advanced and "auto" in c["lr"].info
    assert c["name"].widget == "text"


def test_control_values_round_trip_and_validate():
    values = to_values(DemoRecipe(), DemoRecipe)
    assert to_recipe(DemoRecipe, values) == DemoRecipe()
    r = to_recipe(DemoRecipe, {"seed": 3.0, "size": 64.0, "sizes": "16, 32", "lr": "0.5", "on": True})
    assert (r.seed, r.size, r.sizes, r.lr, r.on) == (3, 64, (16, 32), 0.5, True)
    assert to_values(r, DemoRecipe)[[s.name for s in DemoRecipe.params()].index("sizes")] == "16,32"
    with pytest.raises(BadInput, match="--size must be at most 8192"):
        to_recipe(DemoRecipe, {"size": 9000})
    with pytest.raises(BadInput, match="--sizes takes at most 3"):
        to_recipe(DemoRecipe, {"sizes": "16,16,16,16"})


def test_every_registered_mapping_gets_controls():
    from yingshe.core.registry import all_mappings

    for m in all_mappings():
        ctls = controls_for(m.recipe)
        assert [c.name for c in ctls] == [s.name for s in m.recipe.params()]
        assert to_recipe(m.recipe, to_values(m.recipe(), m.recipe)) == m.recipe()


def _png(path, w=40, h=30, seed=0):
    rng = np.random.default_rng(seed)
    Image.fromarray((rng.random((h, w, 3)) * 255).astype(np.uint8), "RGB").save(path)
    return path


FLOW = {"seed": 5, "size": 40, "particles": 200, "steps": 20}


def test_run_saves_under_output_with_record_and_gallery_row(tmp_path):
    studio = Studio(tmp_path / "out")
    ups = list(studio.run("flowfield", FLOW))
    assert [u.kind for u in ups][-1] == "done" and any(u.kind == "progress" and u.total > 0 and 0 < u.fraction <= 1 for u in ups)
    done = ups[-1]
    assert done.path.parent == studio.output and done.path.exists()
    assert read_record(done.path)["recipe"]["particles"] == 200
    rows = studio.gallery()
    assert [r.path for r in rows] == [str(done.path)]
    assert studio.gallery(mapping="style") == [] and studio.gallery(text="nomatch-xyz") == []
    mapping, recipe, _ = studio.settings_from_image(done.path)
    assert mapping.name == "flowfield" and recipe["seed"] == 5 and recipe["size"] == 40


def test_bad_values_and_uploads_are_errors_not_crashes(tmp_path):
    studio = Studio(tmp_path / "out", max_upload_bytes=200_000, max_upload_pixels=100 * 100)
    [u] = list(studio.run("flowfield", {**FLOW, "size": 1}))
    assert u.kind == "error" and "--size must be at least 16" in u.message
    [u] = list(studio.run("style", {"size": 32}, {}))
    assert u.kind == "error" and "needs a content image" in u.message
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n" + b"garbage" * 20)
    with pytest.raises(BadInput, match="corrupt|not an image"):
        studio.check_upload(bad)
    big = _png(tmp_path / "big.png", 120, 100)  # 12,000 px > 10,000
    with pytest.raises(BadInput, match="pixel upload limit"):
        studio.check_upload(big)
    noisy = _png(tmp_path / "noisy.png", 90, 90)  # random pixels: > 5000 bytes
    with pytest.raises(BadInput, match=r"is \d+(\.\d+)? KB: more than the studio's 4.88 KB upload limit"):
        Studio(tmp_path / "out", max_upload_bytes=5000).check_upload(noisy)
    with pytest.raises(BadInput, match="corrupt|not an image"):
        studio.settings_from_image(bad)
    plain = _png(tmp_path / "plain.png", 8, 8)
    with pytest.raises(BadInput, match="carries no yingshe recipe"):
        studio.settings_from_image(plain)
    assert list(studio.run("flowfield", FLOW))[-1].kind == "done"  # still working


def test_stop_ends_a_style_job_cleanly_with_best_so_far(tmp_path, content_png, style_png):
    studio = Studio(tmp_path / "out", threads=1, save_every=2)
    values = {"size": 32, "iterations": 3000, "converge": 0.0}  # runs until stopped
    seen = []
    stopper = None
    for u in studio.run("style", values, {"content": str(content_png), "style": [str(style_png)]}, key="k"):
        seen.append(u)
        if u.preview is not None and stopper is None:
            assert studio.busy("k")
            stopper = threading.Timer(0.0, studio.stop, args=("k",))
            stopper.start()
    done = seen[-1]
    assert done.kind == "done" and done.artwork.interrupted
    assert any(u.preview is not None for u in seen)  # intermediate previews
    rec = read_record(done.path)
    assert rec["interrupted"] and rec["summary"]["iterations"] < 3000
    # inputs were kept under the output folder, so the record points at files recreate can load
    src = rec["inputs"]["content"][0]["source"]
    assert studio.under_output(src)
    assert not studio.busy("k") and studio.stop("k") is False


def test_recreate_from_gallery(tmp_path):
    studio = Studio(tmp_path / "out")
    first = list(studio.run("flowfield", FLOW))[-1]
    row = studio.gallery()[0]
    again = list(studio.recreate(row.id))[-1]
    assert again.kind == "done" and again.path != first.path
    assert np.array_equal(np.asarray(Image.open(again.path)), np.asarray(Image.open(first.path)))


def test_live_render_is_small_and_saves_nothing(tmp_path):
    studio = Studio(tmp_path / "out")
    img = studio.live_render("flowfield", {**FLOW, "size": 1024})
    assert max(img.size) == 512
    # progressive: a coarse render (scaled to the same size) comes first, then the real one
    (coarse, done1), (final, done2) = list(studio.live_renders("mandelbrot", {"size": 1024}))
    assert (done1, done2) == (False, True) and coarse.size == final.size == (512, 512)
    assert studio.gallery() == [] and not list(studio.output.glob("*.png"))
    with pytest.raises(BadInput, match="not fast enough"):
        studio.live_render("style", {})


def test_live_route_answers_jpeg_and_reads_only_the_studios_files(tmp_path):
    """The page's fast path for live previews (POST yingshe/live/NAME): a JPEG of the live size,
    one-line 400s for bad values, and no file outside the output folder is ever read."""
    import io

    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    from yingshe.core.registry import get
    from yingshe.studio.app import add_routes

    studio = Studio(tmp_path / "out")
    app = FastAPI()
    add_routes(app, studio)
    client = TestClient(app)
    values = to_values(get("mandelbrot").recipe(), get("mandelbrot").recipe)
    for coarse, side in ((1, 128), (0, 512)):  # the coarse one comes small: the page scales it up
        r = client.post(f"/yingshe/live/mandelbrot?coarse={coarse}", json={"values": values, "files": {}})
        assert r.status_code == 200 and r.headers["content-type"] == "image/jpeg"
        assert Image.open(io.BytesIO(r.content)).size == (side, side) and r.headers["x-yingshe-size"] == f"{side}x{side}"
        assert r.headers["x-yingshe-final"] == ("0" if coarse else "1")  # the page asks again for the full one
    assert studio.gallery() == [] and not list(studio.output.glob("*.png"))

    def bad(name, body):
        r = client.post(f"/yingshe/live/{name}?coarse=1", json=body)
        assert r.status_code == 400 and "\n" not in r.text and "Traceback" not in r.text, r.text
        return r.text

    assert "values" in bad("mandelbrot", {"values": values[:-1]})
    assert "not fast enough" in bad("style", {"values": [], "files": {}})
    assert "unknown mapping" in bad("nope", {"values": [], "files": {}})
    assert "values must be a list" in bad("mandelbrot", {"values": "x"})
    # a drawing on the translate tab: read when it lies under the output folder, refused elsewhere
    drawing = studio.output / ".studio-cache" / "composite.png"
    drawing.parent.mkdir(parents=True)
    img = Image.new("RGB", (256, 256), "white")
    from PIL import ImageDraw

    ImageDraw.Draw(img).line([(20, 200), (230, 60)], fill="black", width=3)
    img.save(drawing)
    tvalues = to_values(get("translate").recipe(), get("translate").recipe)
    page_value = {"background": None, "layers": [], "composite": {"path": str(drawing), "meta": {"_type": "gradio.FileData"}}}
    r = client.post("/yingshe/live/translate?coarse=0", json={"values": tvalues, "files": {"image": page_value}})
    assert r.status_code == 200, r.text
    outside = tmp_path / "secret.png"
    img.save(outside)
    for item in (str(outside), {"path": "/etc/passwd"},
                 {"composite": {"path": str(studio.output / ".." / "secret.png")}}):
        assert "not a file of this studio" in bad("translate", {"values": tvalues, "files": {"image": item}})
    # the sketch pad sends its drawing inline, as a PNG data URL: translated, nothing saved
    import base64

    buf = io.BytesIO()
    img.save(buf, "PNG")
    url = "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()
    r = client.post("/yingshe/live/translate?coarse=0", json={"values": tvalues, "files": {"image": url}})
    assert r.status_code == 200 and Image.open(io.BytesIO(r.content)).size == (256, 256), r.text
    # a coarse request where the coarse picture would be the picture itself (64 px here, or a small
    # model at its own size): the answer says it is final, so the page asks no second time
    small = to_values(get("translate").recipe(size=64), get("translate").recipe)
    r = client.post("/yingshe/live/translate?coarse=1", json={"values": small, "files": {"image": url}})
    assert r.status_code == 200 and r.headers["x-yingshe-final"] == "1" and r.headers["x-yingshe-size"] == "64x64"
    assert studio.gallery() == [] and not (studio.output / "inputs").exists()
    # ...and bad ones are one-line refusals, checked before anything is decoded
    huge = io.BytesIO()
    Image.new("1", (8000, 8000)).save(huge, "PNG")  # a small file of 64 M pixels
    for item, why in (("data:text/html;base64,PGI+", "PNG, JPEG or WebP"),
                      ("data:image/png;base64,@@@", "not valid base64"),
                      ("data:image/png;base64," + base64.b64encode(b"not a png").decode(), "not an image"),
                      ("data:image/png;base64," + base64.b64encode(huge.getvalue()).decode(), "pixel limit"),
                      ("data:image/png;base64," + "A" * (studio.max_upload_bytes * 2), "upload limit")):
        assert why in bad("translate", {"values": tvalues, "files": {"image": item}}), why


def test_sketch_pad_value_runs_and_keeps_the_drawing(tmp_path):
    """Run with the pad's value: a data URL (kept under output/inputs, named by its sha256, so
    recreate finds it), a picture path under the output folder, never a path outside it."""
    import base64
    import io

    from PIL import ImageDraw

    from yingshe.core.registry import get

    studio = Studio(tmp_path / "out")
    img = Image.new("RGBA", (256, 200), (0, 0, 0, 0))  # the pad: transparent, black strokes
    ImageDraw.Draw(img).line([(20, 150), (230, 40)], fill="black", width=3)
    buf = io.BytesIO()
    img.save(buf, "PNG")
    url = "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()
    values = to_values(get("translate").recipe(size=64), get("translate").recipe)
    done = list(studio.run("translate", values, {"image": url}))[-1]
    assert done.kind == "done", done.status()
    source = read_record(done.path)["inputs"]["image"][0]["source"]
    kept = np.asarray(Image.open(source))
    assert Path(source).parent == studio.output / "inputs" and kept.shape == (200, 256, 3)
    assert kept[0, 0].tolist() == [255, 255, 255] and kept.min() == 0  # flattened on white
    inside = studio.output / "inputs" / "again.png"
    Image.fromarray(kept).save(inside)
    assert list(studio.run("translate", values, {"image": str(inside)}))[-1].kind == "done"
    outside = tmp_path / "secret.png"
    Image.fromarray(kept).save(outside)
    last = list(studio.run("translate", values, {"image": str(outside)}))[-1]
    assert last.kind == "error" and "not a file of this studio" in last.status()


def test_gallery_route_pages_with_thumbnails_inline(tmp_path):
    """GET yingshe/gallery: one answer per page, thumbnails as data: URLs (no request per
    picture), paging clamped; and the home page's thumbnails are served from the output folder."""
    import base64
    import io

    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    from yingshe.core.registry import SECTIONS
    from yingshe.studio.app import add_routes

    studio = Studio(tmp_path / "out")
    studio.page_size = 2
    for seed in range(3):
        list(studio.run("flowfield", {**FLOW, "seed": seed}))
    app = FastAPI()
    add_routes(app, studio)
    client = TestClient(app)
    got = client.get("/yingshe/gallery", params={"mapping": "flowfield"}).json()
    assert got["info"] == "3 artwork(s)" and got["pageinfo"] == "page 1 of 2" and len(got["rows"]) == 2
    url = got["items"][0]["image"]["url"]
    assert url.startswith("data:image/jpeg;base64,") and got["items"][0]["image"]["path"] == ""
    Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1]))).verify()
    last = client.get("/yingshe/gallery", params={"page": 1, "step": 5}).json()
    assert last["page"] == 1 and len(last["rows"]) == 1 and not set(last["rows"]) & set(got["rows"])
    assert client.get("/yingshe/gallery", params={"kind": "audio"}).json()["info"] == "no artworks yet"
    for section in SECTIONS:
        for card in studio.example_cards(section):
            assert studio.under_output(card.thumbnail) and Path(card.thumbnail).is_file()


def test_latent_explorer_when_available():
    from yingshe.studio import latent

    if not latent.available():
        pytest.skip("no yingshe.generative.latent models")
    ex = latent.Explorer(k=3)
    name = ex.names()[0]
    a = np.asarray(ex.render(name, 0, [0, 0, 0]))
    b = np.asarray(ex.render(name, 0, [3, 0, 0]))
    assert a.shape[0] == 256 and a.shape == b.shape and not np.array_equal(a, b)
    assert np.array_equal(a, np.asarray(ex.render(name, 0, [0, 0, 0])))
    for other in ex.names():  # every model offered is a GAN or VAE (the zoo holds other kinds too)
        assert np.asarray(ex.render(other, 0, [0, 0, 0])).shape[0] == 256


def test_cli_studio_help_and_bad_options():
    r = run_cli("studio", "--help")
    assert r.returncode == 0 and b"127.0.0.1" in r.stdout and b"--auth" in r.stdout
    r = run_cli("studio", "--auth", "nopassword")
    assert r.returncode == 2 and r.stderr.count(b"\n") == 1 and b"USER:PASS" in r.stderr
    r = run_cli("studio", "--concurrency", "0")
    assert r.returncode == 2 and b"--concurrency" in r.stderr


def test_cli_studio_without_gradio_says_so(tmp_path):
    blocker = tmp_path / "block"
    blocker.mkdir()
    (blocker / "gradio.py").write_text("raise ImportError('blocked for the test')\n")
    r = run_cli("studio", env={"PYTHONPATH": str(blocker)})
    assert r.returncode == 2 and b'pip install "yingshe[studio]"' in r.stderr and r.stderr.count(b"\n") == 1


def test_yingshe_help_does_not_import_gradio():
    import subprocess
    import sys

    code = "import sys, yingshe.cli as c; c.build_parser(); print('gradio' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.stdout.strip() == "False"


def test_builtin_samples_send_to_and_grids(tmp_path):
    """The studio's own chain: a built-in photo is recorded as such; a result sent to another
    mapping nests its record there; a grid of any picture mapping is one artwork."""
    from yingshe.core.registry import get

    studio = Studio(tmp_path / "out")
    p2m = get("paint2music")
    picked = studio.sample_value("photo:coffee", p2m, "picture")
    done = list(studio.run("paint2music", {"bars": 1}, {"picture": picked}))[-1]
    assert done.kind == "done", done.message
    assert read_record(done.path)["inputs"]["picture"][0]["source"] == "photo:coffee"

    julia = list(studio.run("julia", {"size": 48, "seed": 3}))[-1]
    sent = studio.send_value(str(julia.path), p2m, "picture")
    again = list(studio.run("paint2music", {"bars": 1}, {"picture": sent}))[-1]
    nested = read_record(again.path)["inputs"]["picture"][0]
    assert nested["source"] == str(julia.path) and nested["record"]["mapping"] == "julia"
    with pytest.raises(BadInput, match="own artworks"):
        studio.send_value(str(tmp_path / "elsewhere.png"), p2m, "picture")

    grid = list(studio.run_grid("julia", {"size": 48}, {}, "c_re=-0.8,-0.4", "density=1,2"))[-1]
    assert grid.kind == "done", grid.message
    rec = read_record(grid.path)
    assert rec["mapping"] == "grid" and len(rec["summary"]["cells"]) == 4
    assert rec["summary"]["cells"][3]["recipe"]["c_re"] == -0.4 and rec["summary"]["cells"][3]["recipe"]["density"] == 2


def test_gallery_pages_and_compare(tmp_path):
    studio = Studio(tmp_path / "out")
    studio.page_size = 2
    for seed in (1, 2, 3):
        assert list(studio.run("julia", {"size": 32, "seed": seed}))[-1].kind == "done"
    rows, total = studio.gallery_page()
    assert total == 3 and [r.seed for r in rows] == [3, 2]
    rows2, _ = studio.gallery_page(page=1)
    assert [r.seed for r in rows2] == [1]
    assert all(Path(studio.thumbnail(r)).is_file() for r in rows + rows2)  # made when saved
    a, b, diff = studio.compare(rows[0].id, rows2[0].id)
    assert "seed" in diff and "| 3 |" not in diff and "`3`" in diff and "`1`" in diff


def test_load_settings_from_an_automatic1111_picture(tmp_path):
    """A PNG from AUTOMATIC1111 carries its prompt and settings in a `parameters` chunk: the
    studio's "load settings from image" opens diffuse with them."""
    pytest.importorskip("diffusers")
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("parameters", "a blue heart, (shiny:1.2)\nNegative prompt: red\n"
                                "Steps: 30, Sampler: DPM++ 2M, CFG scale: 6.5, Seed: 1234, Size: 64x64, Model: x")
    p = tmp_path / "a1111.png"
    Image.new("RGB", (64, 64), (0, 0, 200)).save(p, pnginfo=info)
    studio = Studio(tmp_path / "out")
    mapping, recipe, record = studio.settings_from_image(p)
    assert mapping.name == "diffuse" and recipe["steps"] == 30 and recipe["seed"] == 1234
    assert recipe["guidance"] == 6.5 and recipe["negative_prompt"] == "red"
    assert record["texts"]["prompt"] == "a blue heart, (shiny:1.2)"
    plain = tmp_path / "plain.png"
    Image.new("RGB", (8, 8)).save(plain)
    with pytest.raises(BadInput, match="no yingshe recipe"):
        studio.settings_from_image(plain)


def test_webcam_frames_are_painted_live_and_nothing_is_saved(tmp_path):
    """A mapping that declares `webcam` paints each streamed frame with the tab's controls and
    other inputs (loaded once); the picture equals the mapping's own run on that frame."""
    from yingshe.core import registry, sources

    studio = Studio(tmp_path / "out")
    fast = registry.get("fast-style")
    assert fast.webcam == "content"
    style = studio.sample_value("builtin:great-wave", fast, "style")
    frame = Image.fromarray(np.random.default_rng(0).integers(0, 255, (480, 640, 3), dtype=np.uint8))
    values = {"size": 1024, "strength": 0.8}
    painted = studio.webcam_frame("fast-style", values, {"style": style}, frame)
    assert painted.size == (320, 240)  # frames are scaled down to the webcam size, whatever --size says
    again = studio.webcam_frame("fast-style", values, {"style": style}, frame)
    assert np.array_equal(np.asarray(painted), np.asarray(again))
    small = frame.resize((320, 240), Image.BILINEAR)
    direct = fast.run(fast.recipe(size=320, strength=0.8),
                      {"content": [sources.from_image(small)], "style": [sources.load("builtin:great-wave")]}, None)
    assert np.abs(np.asarray(direct.image, float) - np.asarray(painted, float)).mean() < 2.0
    assert studio.gallery() == [] and not list(studio.output.glob("*.png"))  # (.examples holds the picked painting)
    with pytest.raises(BadInput, match="webcam"):
        studio.webcam_frame("julia", {}, {}, frame)


def test_the_studios_own_routes_ask_for_the_same_login(tmp_path, monkeypatch):
    """With --auth, yingshe/live and yingshe/gallery answer 401 until the person has logged in
    through Gradio's own form (its cookie), then work."""
    import http.cookiejar
    import json
    import urllib.error
    import urllib.parse
    import urllib.request

    from yingshe.core.registry import get
    from yingshe.studio.app import launch
    from yingshe.studio.service import free_port

    monkeypatch.setenv("GRADIO_TEMP_DIR", str(tmp_path / "gradio"))  # launch() sets it: put it back afterwards
    demo, url = launch(tmp_path / "out", port=free_port(), auth=("ann", "secret"), block=False, quiet=True)
    base = url.rstrip("/")
    values = to_values(get("mandelbrot").recipe(), get("mandelbrot").recipe)
    body = json.dumps({"values": values, "files": {}}).encode()

    def status(opener, path, data=None):
        req = urllib.request.Request(base + path, data=data, headers={"Content-Type": "application/json"})
        try:
            with opener.open(req, timeout=60) as r:
                return r.status
        except urllib.error.HTTPError as e:
            return e.code

    try:
        anyone = urllib.request.build_opener()
        assert status(anyone, "/yingshe/live/mandelbrot?coarse=1", body) == 401
        assert status(anyone, "/yingshe/gallery") == 401
        ann = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        form = urllib.parse.urlencode({"username": "ann", "password": "secret"}).encode()
        with ann.open(urllib.request.Request(base + "/login", data=form), timeout=60) as r:
            assert r.status == 200
        assert status(ann, "/yingshe/live/mandelbrot?coarse=1", body) == 200
        assert status(ann, "/yingshe/gallery") == 200
    finally:
        demo.close()
