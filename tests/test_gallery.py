import json
import sqlite3

import pytest
from PIL import Image

from conftest import run_cli
from yingshe.core import images
from yingshe.core.gallery import MIGRATIONS, SCHEMA_VERSION, Gallery


def _record(seed=1):
    return {"created": "2026-01-01T00:00:00+00:00", "mapping": "style", "recipe": {"seed": seed},
            "inputs": {}, "seconds": 1.0}


def _write(path):
    return lambda: images.save_image(Image.new("RGB", (4, 4)), path, {"mapping": "mandelbrot", "recipe": {}})


def test_wal_and_schema(tmp_path):
    with Gallery(tmp_path / "g.sqlite3") as g:
        assert g.version() == SCHEMA_VERSION
        assert g.con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_migrates_v1_database(tmp_path):
    db = tmp_path / "old.sqlite3"
    con = sqlite3.connect(db)
    con.executescript(MIGRATIONS[0])
    con.execute("INSERT INTO artworks (created, mapping, path, sha256, recipe, record, seconds) "
                "VALUES ('t', 'style', '/x.png', 'abc', '{\"seed\": 42}', '{}', 1.0)")
    con.execute("PRAGMA user_version = 1")
    con.commit()
    con.close()
    with Gallery(db) as g:
        assert g.version() == SCHEMA_VERSION
        assert g.list()[0].seed == 42  # the migration filled the new column


def test_failed_write_leaves_no_row(tmp_path):
    with Gallery(tmp_path / "g.sqlite3") as g:
        def crash():
            raise OSError("disk full")
        with pytest.raises(OSError):
            g.add(_record(), tmp_path / "a.png", crash)
        assert g.count() == 0
        g.add(_record(), tmp_path / "b.png", _write(tmp_path / "b.png"))
        assert g.count() == 1


def test_check_and_repair(tmp_path):
    with Gallery(tmp_path / "g.sqlite3") as g:
        for name in ("a.png", "b.png", "c.png"):
            g.add(_record(), tmp_path / name, _write(tmp_path / name))
        (tmp_path / "a.png").unlink()
        images.save_image(Image.new("RGB", (5, 5)), tmp_path / "b.png", {"mapping": "mandelbrot", "recipe": {}})
        report = g.check()
        assert report["missing"] == [1] and report["changed"] == [2]
        g.check(repair=True)
        assert g.check() == {"rows": 2, "missing": [], "changed": [], "repaired": False}


def test_cli_check_exit_codes(tmp_path, yingshe_home):
    with Gallery.open() as g:
        g.add(_record(), tmp_path / "a.png", _write(tmp_path / "a.png"))
    assert run_cli("gallery", "check").returncode == 0
    (tmp_path / "a.png").unlink()
    r = run_cli("gallery", "check", "--json")
    assert r.returncode == 1 and json.loads(r.stdout)["missing"] == [1]
    assert run_cli("gallery", "check", "--repair").returncode == 0
    assert run_cli("gallery", "show", "99").returncode == 2


def test_search_words_are_literal_not_wildcards(tmp_path):
    with Gallery(tmp_path / "g.sqlite3") as g:
        for name in ("a_b.png", "axb.png", "100%.png"):
            g.add(_record(), tmp_path / name, _write(tmp_path / name))
        assert [str(r.path).split("/")[-1] for r in g.search("a_b")] == ["a_b.png"]  # _ is not "any one character"
        assert [str(r.path).split("/")[-1] for r in g.search("%")] == ["100%.png"]  # % is not "anything"
        assert len(g.search("png")) == 3
        assert g.page(text="a_b")[1] == 1
