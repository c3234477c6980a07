"""Shared by the studio benchmarks: start `yingshe studio` in a subprocess and open it in Chromium."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
import urllib.request

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@contextlib.contextmanager
def running_studio(out: str, home: str, *extra: str):
    """The studio's URL while it runs (stopped afterwards). ``extra``: more `yingshe studio` options."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = dict(os.environ, YINGSHE_HOME=str(home), GRADIO_ANALYTICS_ENABLED="False")
    proc = subprocess.Popen([sys.executable, "-m", "yingshe", "studio", "--port", str(port), "--output", str(out),
                             *extra],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/"
    try:
        for _ in range(240):
            try:
                urllib.request.urlopen(url, timeout=2)
                break
            except OSError:
                time.sleep(0.5)
        yield url
    finally:
        proc.terminate()
        proc.wait(10)


@contextlib.contextmanager
def chromium_page(url: str, width: int = 1280, height: int = 1100):
    """A Playwright page in Debian's headless Chromium (never `playwright install`) at ``url``."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path="/usr/bin/chromium", args=FLAGS)
        page = b.new_page(viewport={"width": width, "height": height})
        page.goto(url)
        page.wait_for_selector("#tabs")
        try:
            yield page
        finally:
            b.close()
