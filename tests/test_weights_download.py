"""The online path (URL + sha256 into the cache), exercised against a loopback HTTP server."""

import hashlib
import http.server
import threading
from functools import partial

import pytest

from yingshe.core.errors import WeightsError
from yingshe.core.weights import fetch


@pytest.fixture
def server(tmp_path):
    (tmp_path / "srv").mkdir()
    (tmp_path / "srv" / "w.bin").write_bytes(b"weights" * 1000)
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path / "srv"))
    handler.log_message = lambda *a, **k: None
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    t = threading.Thread(target=httpd.serve_forever, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def test_fetch_checks_sha256(server, tmp_path):
    digest = hashlib.sha256(b"weights" * 1000).hexdigest()
    dest = tmp_path / "cache" / "w.bin"
    assert fetch(f"{server}/w.bin", digest, dest).read_bytes() == b"weights" * 1000
    prefix_dest = tmp_path / "cache" / "w2.bin"
    assert fetch(f"{server}/w.bin", digest[:8], prefix_dest).exists()  # torchvision-style prefix


def test_fetch_wrong_hash_leaves_nothing(server, tmp_path):
    dest = tmp_path / "cache" / "bad.bin"
    with pytest.raises(WeightsError, match="does not match"):
        fetch(f"{server}/w.bin", "0" * 64, dest)
    assert not dest.exists() and not list(dest.parent.glob("*.part"))


def test_fetch_unreachable(tmp_path):
    with pytest.raises(WeightsError, match="could not download"):
        fetch("http://127.0.0.1:9/none.bin", None, tmp_path / "x.bin", timeout=2)
