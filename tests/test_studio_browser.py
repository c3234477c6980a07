"""End to end: `yingshe studio` in a subprocess, driven by a real headless Chromium (Playwright).

Screenshots of each step go to test-artifacts/studio/. Needs Debian's chromium (.ci/run installs
it) and the `playwright` Python package; never `playwright install`.
"""

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

pytest.importorskip("gradio")
sync_api = pytest.importorskip("playwright.sync_api")

ROOT = Path(__file__).resolve().parents[1]
SHOTS = ROOT / "test-artifacts" / "studio"
CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]

if not os.path.exists(CHROMIUM):
    pytest.skip("Debian's chromium is not installed (apt-get install chromium chromium-driver)",
                allow_module_level=True)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


@pytest.fixture(scope="module")
def studio(tmp_path_factory):
    base = tmp_path_factory.mktemp("studio")
    home, out = base / "home", base / "out"
    port = _free_port()
    env = dict(os.environ, YINGSHE_HOME=str(home), YINGSHE_OFFLINE="1", GRADIO_ANALYTICS_ENABLED="False")
    log = open(base / "studio.log", "w")
    proc = subprocess.Popen([sys.executable, "-m", "yingshe", "studio", "--port", str(port), "--output", str(out),
                             "--threads", "1"], env=env, stdout=log, stderr=subprocess.STDOUT, cwd=str(ROOT))
    url = f"http://127.0.0.1:{port}/"
    deadline = time.time() + 90
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("studio exited: " + (base / "studio.log").read_text())
        try:
            if _get(url) == 200:
                break
        except OSError:
            pass
        time.sleep(0.5)
    else:
        proc.kill()
        raise RuntimeError("studio did not start: " + (base / "studio.log").read_text())
    yield {"url": url, "out": out, "home": home, "base": base, "proc": proc}
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


@pytest.fixture(scope="module")
def browser():
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_api.sync_playwright() as p:
        # Playwright gives each launch a fresh temporary profile (--user-data-dir).
        b = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield b
        b.close()


def _page(browser, url):
    ctx = browser.new_context(viewport={"width": 1280, "height": 1100})
    page = ctx.new_page()
    page.goto(url)
    page.wait_for_selector("#tabs", timeout=60_000)
    page.wait_for_selector("#home-algorithmic", timeout=30_000)  # the home page opens first
    return page


def _open(page, name):
    """Open a mapping's tab: first its section (what it makes), then the mapping."""
    from yingshe.core.registry import SECTIONS, get

    section = "nothing" if name == "latent explorer" else get(name).where
    page.get_by_role("tab", name=SECTIONS[section], exact=True).click()
    page.get_by_role("tab", name=name, exact=True).click()
    # A tab's controls mount when it first opens, and Gradio sets their values once more a few
    # frames later: text typed in that moment (~50 ms; no person is that quick) is put back.
    page.wait_for_timeout(300)


def _shot(page, name):
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def _set(page, elem_id, value):
    """Type into a slider's number box, a number box or a text box, and commit it."""
    box = page.locator(f"#{elem_id} input[type=number], #{elem_id} textarea, #{elem_id} input[type=text]").first
    for _ in range(3):
        box.fill(str(value))
        box.press("Tab")
        try:  # it stays: see _open (a value typed as a tab mounts can be put back)
            page.wait_for_function("([e, v]) => { const b = document.querySelector(e); return b && (b.value === v || "
                                   "(b.value !== '' && Number(b.value) === Number(v))); }",
                                   arg=[f"#{elem_id} input[type=number], #{elem_id} textarea, #{elem_id} input[type=text]",
                                        str(value)], timeout=2_000)
            page.wait_for_timeout(50)
            if box.input_value() == str(value) or _same_number(box.input_value(), value):
                return
        except sync_api.TimeoutError:
            pass
    raise AssertionError(f"#{elem_id} would not keep {value!r}: it shows {box.input_value()!r}")


def _same_number(shown: str, value) -> bool:
    try:
        return float(shown) == float(value)
    except ValueError:
        return False


def _wait_text(page, elem_id, text, timeout=120_000):
    try:
        page.wait_for_function(
            "([id, t]) => { const e = document.getElementById(id); return e && e.innerText.includes(t); }",
            arg=[elem_id, text], timeout=timeout)
    except Exception:
        _shot(page, f"failed-waiting-for-{elem_id}")
        raise


def _small_flowfield(page, seed):
    _open(page, "flowfield")
    _set(page, "flowfield-seed", seed)
    _set(page, "flowfield-size", 48)
    _set(page, "flowfield-particles", 300)
    _set(page, "flowfield-steps", 30)


def _pattern(path, seed):
    rng = np.random.default_rng(seed)
    a = (rng.random((40, 40, 3)) * 255).astype(np.uint8)
    Image.fromarray(a, "RGB").resize((64, 48)).save(path)
    return path


def test_studio_in_a_real_browser(studio, browser, tmp_path):
    url, out = studio["url"], studio["out"]
    page = _page(browser, url)
    _shot(page, "01-start")
    tabs = page.get_by_role("tab").all_inner_texts()
    assert tabs[0] == "home" and "Algorithmic" in tabs and "Pictures from photos" in tabs and "gallery" in tabs

    # --- a small algorithmic artwork through the page
    _small_flowfield(page, 7)
    page.click("#flowfield-run")
    _wait_text(page, "flowfield-status", "saved")
    page.wait_for_selector("#flowfield-output img")
    recipe_text = page.locator("#flowfield-recipe").inner_text()
    assert '"size": 48' in recipe_text and '"seed": 7' in recipe_text
    _shot(page, "02-flowfield-result")
    made = sorted(out.glob("flowfield-*.png"))
    assert len(made) == 1
    from yingshe.core.records import read_record

    assert read_record(made[0])["recipe"]["particles"] == 300

    # --- live play: a slider release re-renders at once (nothing saved)
    slider = page.locator("#flowfield-turbulence input[type=range]")
    box = slider.bounding_box()
    page.mouse.click(box["x"] + box["width"] * 0.7, box["y"] + box["height"] / 2)
    _wait_text(page, "flowfield-status", "live preview", timeout=30_000)
    _shot(page, "03-flowfield-live")
    assert len(list(out.glob("flowfield-*.png"))) == 1

    # --- a tiny style transfer with previews, then one stopped with Stop
    _open(page, "style")
    page.locator("#style-input-content input[type=file]").set_input_files(str(_pattern(tmp_path / "c.png", 1)))
    page.locator("#style-input-style input[type=file]").set_input_files(str(_pattern(tmp_path / "s.png", 2)))
    _set(page, "style-size", 48)
    _set(page, "style-iterations", 20)
    page.click("#style-run")
    _wait_text(page, "style-status", "step", timeout=120_000)
    _shot(page, "04-style-running")
    _wait_text(page, "style-status", "saved", timeout=180_000)
    page.wait_for_selector("#style-output img")
    assert '"mapping": "style"' in page.locator("#style-recipe").inner_text()
    _shot(page, "05-style-result")

    _set(page, "style-iterations", 5000)
    _set(page, "style-converge", 0)  # run until stopped (the default ends a level once it has converged)
    page.click("#style-run")
    _wait_text(page, "style-status", "step", timeout=120_000)
    page.click("#style-stop")
    _wait_text(page, "style-status", "stopped early", timeout=120_000)
    _shot(page, "06-style-stopped")
    stopped = [p for p in out.glob("style-*.png") if read_record(p)["interrupted"]]
    assert len(stopped) == 1 and read_record(stopped[0])["summary"]["iterations"] < 5000

    # --- the gallery shows the works and their recipes
    page.get_by_role("tab", name="gallery", exact=True).click()
    page.wait_for_function("document.querySelectorAll('#gallery-grid img').length >= 3", timeout=30_000)
    page.locator("#gallery-mapping input").fill("flowfield")
    page.locator("#gallery-mapping input").press("Enter")
    page.click("#gallery-refresh")
    page.wait_for_function("document.querySelectorAll('#gallery-grid img').length == 1", timeout=30_000)
    page.locator("#gallery-grid img").first.click()
    _wait_text(page, "gallery-recipe", '"mapping": "flowfield"', timeout=30_000)
    _shot(page, "07-gallery-recipe")

    # --- load settings back from that image (change the seed first, then restore it)
    _open(page, "flowfield")
    _set(page, "flowfield-seed", 999)
    _set(page, "flowfield-size", 500)
    page.get_by_role("tab", name="home", exact=True).click()
    page.locator("#load-settings input[type=file]").set_input_files(str(made[0]))
    _wait_text(page, "load-status", "loaded the flowfield settings", timeout=30_000)
    assert page.locator("#flowfield-seed input").input_value() == "7"
    assert page.locator("#flowfield-size input[type=number]").input_value() == "48"
    assert page.locator("#flowfield-particles input").input_value() == "300"
    _shot(page, "08-settings-loaded")

    # --- a corrupt upload shows an error and the studio keeps working
    bad = tmp_path / "corrupt.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n" + b"this is not really a png" * 10)
    page.locator("#load-settings input[type=file]").set_input_files(str(bad))
    _wait_text(page, "load-status", "⚠️", timeout=30_000)
    assert "corrupt" in page.locator("#load-status").inner_text() or "not an image" in page.locator("#load-status").inner_text()
    _shot(page, "09-corrupt-settings-file")
    page.context.close()
    page = _page(browser, url)  # a fresh page: its content input is empty
    _open(page, "style")
    page.locator("#style-input-content input[type=file]").set_input_files(str(bad))
    page.locator("#style-input-style input[type=file]").set_input_files(str(tmp_path / "s.png"))
    _set(page, "style-iterations", 5)
    page.click("#style-run")
    _wait_text(page, "style-status", "⚠️", timeout=60_000)
    assert "content image" in page.locator("#style-status").inner_text()
    _shot(page, "10-corrupt-content")
    _open(page, "flowfield")
    _set(page, "flowfield-seed", 8)
    page.click("#flowfield-run")
    page.wait_for_function("document.getElementById('flowfield-recipe').innerText.includes('\"seed\": 8')",
                           timeout=60_000)
    assert len(list(out.glob("flowfield-*.png"))) == 2
    _shot(page, "11-still-working")
    page.context.close()


def test_two_browser_sessions_at_once(studio, browser):
    url, out = studio["url"], studio["out"]
    before = len(list(out.glob("flowfield-*.png")))
    a, b = _page(browser, url), _page(browser, url)
    for page, seed in ((a, 101), (b, 202)):
        _small_flowfield(page, seed)
        _set(page, "flowfield-particles", 20000)
        _set(page, "flowfield-steps", 200)
    a.click("#flowfield-run")
    b.click("#flowfield-run")  # queued behind a's job (one job at a time by default)
    for page, seed in ((a, 101), (b, 202)):
        page.wait_for_function(f"document.getElementById('flowfield-recipe').innerText.includes('\"seed\": {seed}')",
                               timeout=120_000)
    _shot(a, "12-session-a")
    # the latent explorer (when a trained GAN/VAE ships): a direction slider re-renders the picture
    if a.locator("#tab-latent-button, [role=tab]:has-text('latent explorer')").count():
        _open(a, "latent explorer")
        s = a.locator("#latent-d1 input[type=range]").bounding_box()
        a.mouse.click(s["x"] + s["width"] * 0.8, s["y"] + s["height"] / 2)
        _wait_text(a, "latent-status", "seed 0", timeout=60_000)
        a.wait_for_selector("#latent-output img")
        _shot(a, "14-latent-explorer")
    _shot(b, "13-session-b")
    from yingshe.core.records import read_record

    seeds = [read_record(p)["recipe"]["seed"] for p in out.glob("flowfield-*.png")]
    assert len(seeds) == before + 2 and {101, 202} <= set(seeds)
    a.context.close()
    b.context.close()


def test_only_the_output_folder_is_served(studio):
    url, out = studio["url"], studio["out"]
    made = sorted(out.glob("*.png"))
    assert made, "run the browser test first (module order)"
    assert _get(f"{url}gradio_api/file={made[0]}") == 200
    assert _get(f"{url}gradio_api/file=/etc/passwd") in (403, 404)
    assert _get(f"{url}gradio_api/file={ROOT / 'pyproject.toml'}") in (403, 404)
    home_db = studio["home"] / "gallery.sqlite3"
    assert home_db.exists() and _get(f"{url}gradio_api/file={home_db}") in (403, 404)


def _click_tone(path, seconds=1.5, rate=22050):
    import soundfile as sf

    t = np.arange(int(rate * seconds)) / rate
    y = 0.2 * np.sin(2 * np.pi * 262 * t)
    for b in np.arange(0.1, seconds, 0.375):
        i = int(b * rate)
        y[i:i + 300] += 0.6 * np.exp(-np.arange(len(y[i:i + 300])) / 50.0)
    sf.write(str(path), np.clip(y, -1, 1).astype(np.float32), rate)
    return path


def _plays(page, selector, timeout=30_000):
    """Press play on the player under ``selector`` and see its clock move. A <video> plays itself
    (muted); Gradio's sound player draws a waveform and plays through Web Audio, showing the time."""
    root = page.locator(selector)
    page.wait_for_function(
        "(s) => { const r = document.querySelector(s); return r && (r.querySelector('video[src], video source')"
        " || r.querySelector('button[aria-label=\"Play\"]')); }", arg=selector, timeout=timeout)
    video = root.locator("video").first
    if video.count():
        page.wait_for_function("(e) => e.currentSrc && e.readyState >= 1", arg=video.element_handle(), timeout=timeout)
        video.evaluate("e => { e.muted = true; return e.play(); }")
        page.wait_for_function("(e) => e.currentTime > 0.05", arg=video.element_handle(), timeout=timeout)
        return video.evaluate("e => e.duration")
    clock = root.locator("#time")
    assert clock.inner_text().strip() in ("0:00", "0:00:00")
    page.wait_for_function("(s) => { const d = document.querySelector(s + ' #duration'); return d && d.innerText !== '0:00'; }",
                           arg=selector, timeout=timeout)
    root.locator("button[aria-label='Play']").first.click()
    page.wait_for_function("(s) => document.querySelector(s + ' #time').innerText.trim() !== '0:00'", arg=selector,
                           timeout=timeout)
    m, sec = root.locator("#duration").inner_text().strip().split(":")[-2:]
    return int(m) * 60 + int(sec)


def _grid_shows(page, kind, timeout=30_000):
    """Wait until every thumbnail in the gallery grid is of ``kind`` (its caption says so): the
    page before a filter changes may still be showing, with as many items."""
    page.wait_for_function(
        "(k) => { const c = Array.from(document.querySelectorAll('#gallery-grid .caption-label'));"
        " return c.length > 0 && c.every(e => e.innerText.endsWith('· ' + k)); }", arg=kind, timeout=timeout)


def test_sound_and_video_outputs_play_in_the_page(studio, browser, tmp_path):
    """paint2music's sound and music2paint's video (with its song) play in the tab and in the gallery."""
    url, out = studio["url"], studio["out"]
    page = _page(browser, url)
    _open(page, "paint2music")
    page.locator("#paint2music-input-picture input[type=file]").set_input_files(str(_pattern(tmp_path / "p.png", 3)))
    _set(page, "paint2music-bars", 2)
    page.click("#paint2music-run")
    _wait_text(page, "paint2music-status", "saved")
    assert _plays(page, "#paint2music-audio") >= 2  # 2 bars of sound, played
    _shot(page, "20-paint2music-sound")
    made = sorted(out.glob("paint2music-*.mid"))
    assert len(made) == 1  # the score is the artwork; its sound a preview beside it

    _open(page, "music2paint")
    page.locator("#music2paint-input-song input[type=file]").set_input_files(str(_click_tone(tmp_path / "t.wav")))
    _set(page, "music2paint-size", 48)
    _set(page, "music2paint-fps", 12)
    page.click("#music2paint-run")
    _wait_text(page, "music2paint-status", "saved", timeout=240_000)
    assert abs(_plays(page, "#music2paint-video") - 1.5) < 0.2
    _shot(page, "21-music2paint-video")

    # the gallery plays them too
    page.get_by_role("tab", name="gallery", exact=True).click()
    page.locator("#gallery-kind input").fill("video")
    page.locator("#gallery-kind input").press("Enter")
    _grid_shows(page, "video")
    page.locator("#gallery-grid .thumbnail-item").first.click()  # the newest: music2paint's MP4
    _wait_text(page, "gallery-info", "music2paint")
    _plays(page, "#gallery-video")
    page.locator("#gallery-kind input").fill("midi")
    page.locator("#gallery-kind input").press("Enter")
    _grid_shows(page, "midi")
    page.locator("#gallery-grid .thumbnail-item").first.click()
    _wait_text(page, "gallery-info", "paint2music")
    _plays(page, "#gallery-audio")
    _shot(page, "22-gallery-plays-a-score")


def test_studio_refuses_a_crafted_uploads_server_paths(studio, browser, tmp_path):
    """An uploaded artwork whose record names a file on the server is not allowed to read it."""
    import json as _json

    from PIL import PngImagePlugin

    secret = tmp_path / "secret.png"
    Image.new("RGB", (40, 40), (200, 10, 10)).save(secret)
    from yingshe.core.fingerprint import sha256_file

    rec = {"format": 1, "version": "0.1.0", "mapping": "paint2music", "recipe": {"bars": 1, "seed": 0},
           "inputs": {"picture": [{"source": str(secret), "sha256": sha256_file(secret)}]}, "weights": {},
           "device": "cpu", "threads": None, "summary": {}, "interrupted": False}
    info = PngImagePlugin.PngInfo()
    info.add_itxt("yingshe", _json.dumps(rec))
    crafted = tmp_path / "crafted.png"
    Image.new("RGB", (8, 8)).save(crafted, pnginfo=info)
    page = _page(browser, studio["url"])
    before = set(studio["out"].glob("paint2music-*"))
    page.locator("#recreate-upload input[type=file]").set_input_files(str(crafted))
    _wait_text(page, "load-status", "upload")
    text = page.locator("#load-status").inner_text()
    assert "secret.png" in text and sha256_file(secret)[:12] in text
    _shot(page, "23-crafted-upload-refused")
    page.wait_for_timeout(1000)
    assert set(studio["out"].glob("paint2music-*")) == before  # nothing made from the server's file


def test_home_example_then_send_to_another_mapping(studio, browser):
    """A person who has never opened us: the home page's examples, one click to open one, Run,
    then "send to" another mapping, Run again: the second artwork's record nests the first."""
    from yingshe.core.records import read_record
    from yingshe.core.registry import SECTIONS

    page = _page(browser, studio["url"])
    # every example shows its picture (the grid loads lazily: ask for all of them, as a scroll would)
    page.wait_for_function("document.querySelectorAll('.ys-home img').length >= 20", timeout=30_000)
    page.evaluate("document.querySelectorAll('.ys-home img').forEach(i => { i.loading = 'eager'; })")
    page.wait_for_function("Array.from(document.querySelectorAll('.ys-home img')).every(i => i.complete && i.naturalWidth > 0)",
                           timeout=30_000)
    _shot(page, "30-home")
    for key in ("algorithmic", "words", "sound", "video", "photos"):
        assert page.locator(f"#home-{key} .thumbnail-item").count() >= 1, key
    # the poem example of "From words": opens poem2paint with the poem filled in
    page.locator("#home-words .thumbnail-item").first.click()
    _wait_text(page, "load-status", "opened the example")
    page.wait_for_function("document.querySelector('#poem2paint-input-poem textarea').value.includes('明月')",
                           timeout=30_000)
    _set(page, "poem2paint-size", 256)
    page.click("#poem2paint-run")
    _wait_text(page, "poem2paint-status", "saved", timeout=120_000)
    _shot(page, "31-words-poem2paint")
    # send the painting to paint2music, run it there
    page.locator("#poem2paint-send-to input").fill("paint2music · picture")
    page.locator("#poem2paint-send-to input").press("Enter")
    page.click("#poem2paint-send")
    page.wait_for_selector("#paint2music-run", state="visible", timeout=30_000)
    _set(page, "paint2music-bars", 2)
    page.click("#paint2music-run")
    _wait_text(page, "paint2music-status", "saved", timeout=120_000)
    _shot(page, "32-sound-paint2music-from-the-painting")
    made = sorted(studio["out"].glob("paint2music-*.mid"), key=lambda p: p.stat().st_mtime)[-1]
    rec = read_record(made)
    first = rec["inputs"]["picture"][0]["record"]
    assert first["mapping"] == "poem2paint" and first["inputs"]["poem"][0]["source"] == "poem:jingyesi"
    # one screenshot per section, and the gallery
    for key, label in SECTIONS.items():
        page.get_by_role("tab", name=label, exact=True).click()
        page.wait_for_timeout(300)
        _shot(page, f"33-section-{key}")
    page.get_by_role("tab", name="gallery", exact=True).click()
    page.wait_for_selector("#gallery-grid .thumbnail-item", timeout=30_000)
    _shot(page, "34-gallery")


def _pad_ink(page, elem_id) -> int:
    """Dark pixels on a sketch pad's canvas (what the page shows)."""
    return page.evaluate(
        "(id) => { const c = document.querySelector('[data-ys-pad=\"' + id + '\"] canvas');"
        " const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; let n = 0;"
        " for (let i = 0; i < d.length; i += 4) if (d[i + 3] > 128 && d[i] < 100) n++; return n; }", elem_id)


def _pad_value(page) -> str:
    return page.locator("#translate-input-image :is(input, textarea)").first.input_value()


def test_sketch_pad_translates_strokes_live_and_run_saves_the_drawing(studio, browser):
    """The translate tab's pad: a stroke is translated live (nothing saved), Run saves the drawing
    as the input, undo works, a built-in drawing or one's own picture put on the pad shows there;
    a mask's pad draws white on black."""
    import base64
    import io

    from yingshe.core.records import read_record

    out = studio["out"]
    page = _page(browser, studio["url"])
    _open(page, "translate")
    canvas = page.locator("#translate-input-image-pad canvas")
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    assert _pad_ink(page, "translate-input-image") == 0
    before = set(out.glob("translate-*"))
    page.mouse.move(box["x"] + box["width"] * 0.2, box["y"] + box["height"] * 0.7)
    page.mouse.down()
    for k in range(1, 9):
        page.mouse.move(box["x"] + box["width"] * (0.2 + 0.6 * k / 8), box["y"] + box["height"] * (0.7 - 0.4 * k / 8))
    page.mouse.up()
    _wait_text(page, "translate-status", "press Run", timeout=60_000)  # the full live translation
    ink = _pad_ink(page, "translate-input-image")
    assert ink > 100
    assert set(out.glob("translate-*")) == before  # a live preview saves nothing
    value = _pad_value(page)
    assert value.startswith("data:image/png;base64,")
    _shot(page, "40-sketch-pad-live")
    page.click("#translate-run")
    _wait_text(page, "translate-status", "saved", timeout=120_000)
    made = [p for p in set(out.glob("translate-*.png")) - before]
    assert len(made) == 1
    drawn = read_record(made[0])["inputs"]["image"][0]
    kept = out / "inputs" / Path(drawn["source"]).name
    assert kept.is_file()  # the drawing itself is kept, so recreate finds it
    shown = Image.open(io.BytesIO(base64.b64decode(value.split(",", 1)[1]))).convert("RGBA")
    flat = Image.new("RGBA", shown.size, "white")
    flat.alpha_composite(shown)
    drawing = np.asarray(Image.open(kept).convert("RGB"))
    assert drawing.shape == (256, 256, 3) and (drawing < 100).any()
    assert np.array_equal(drawing, np.asarray(flat.convert("RGB")))  # exactly what the pad showed
    # undo takes the stroke away, and the empty pad is sent on
    page.get_by_role("button", name="↶ undo").click()
    page.wait_for_function("(v) => document.querySelector('#translate-input-image :is(input, textarea)').value !== v",
                           arg=value)
    assert _pad_ink(page, "translate-input-image") == 0
    # a built-in drawing put on the pad shows there
    page.locator("#translate-pick-image input").fill("drawing: ")
    page.get_by_role("option").filter(has_text="drawing:").first.click()
    page.wait_for_function("(id) => { const c = document.querySelector('[data-ys-pad=\"' + id + '\"] canvas');"
                           " const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;"
                           " for (let i = 0; i < d.length; i += 4) if (d[i + 3] > 128 && d[i] < 100) return true;"
                           " return false; }", arg="translate-input-image", timeout=30_000)
    assert ".examples" in _pad_value(page)
    _shot(page, "41-sketch-pad-built-in")
    # a picture of one's own, opened onto the pad (an upload under the output folder): shown, translated
    mine = studio["base"] / "mine.png"
    Image.new("RGB", (300, 150), "white").save(mine)
    from PIL import ImageDraw

    im = Image.open(mine)
    ImageDraw.Draw(im).rectangle([40, 30, 260, 120], outline="black", width=4)
    im.save(mine)
    with page.expect_file_chooser() as chooser:
        page.click("#translate-input-image-upload")
    chooser.value.set_files(str(mine))
    page.wait_for_function("(id) => { const c = document.querySelector('[data-ys-pad=\"' + id + '\"] canvas');"
                           " return c.width === 256 && c.height === 128; }", arg="translate-input-image", timeout=30_000)
    assert ".studio-cache" in _pad_value(page) and _pad_ink(page, "translate-input-image") > 100
    # a mask's pad (diffuse: white where to redraw) draws white on black
    _open(page, "diffuse")
    mask = page.locator("#diffuse-input-mask-pad canvas")
    mask.scroll_into_view_if_needed()
    m = mask.bounding_box()
    page.mouse.move(m["x"] + m["width"] * 0.3, m["y"] + m["height"] * 0.5)
    page.mouse.down()
    page.mouse.move(m["x"] + m["width"] * 0.7, m["y"] + m["height"] * 0.5, steps=5)
    page.mouse.up()
    page.wait_for_function("document.querySelector('#diffuse-input-mask :is(input, textarea)').value.startsWith('data:')")
    url = page.locator("#diffuse-input-mask :is(input, textarea)").first.input_value()
    drawn = np.asarray(Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1]))).convert("L"))
    assert drawn[0, 0] == 0 and drawn[128, 128] == 255 and (drawn == 255).mean() < 0.2
    page.context.close()
