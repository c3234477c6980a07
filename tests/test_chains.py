"""Mappings compose across media: a poem → its painting → that painting's music → a video that
moves with the music. Each artwork nests the record of the one it came from, and `recreate
--deep` rebuilds the whole chain from the last file alone, byte for byte."""

import json
import shutil

from conftest import run_cli


def test_poem_painting_music_video_chain_recreates_deep(tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    steps = [
        ("poem", "--form", "wuyan-jueju", "--seed", "4", "--candidates", "2", "-o", "p.txt"),
        ("poem2paint", "@p.txt", "--size", "128", "-o", "p.png"),
        ("paint2music", "p.png", "--bars", "2", "-o", "m.wav"),
        ("music2paint", "m.wav", "--size", "48", "--preview", "2", "-o", "v.mp4"),
    ]
    for args in steps:
        r = run_cli(*args, "--quiet", cwd=work)
        assert r.returncode == 0, (args, r.stderr.decode()[-2000:])

    tree = run_cli("info", "v.mp4", "--tree", cwd=work)
    assert tree.returncode == 0, tree.stderr.decode()
    names = [line.split("(")[0].strip("└─ │") for line in tree.stdout.decode().splitlines()]
    assert names == ["music2paint", "paint2music", "poem2paint", "poem"], tree.stdout.decode()

    # only the video is kept: every link before it is made again from the nested records
    keep = tmp_path / "keep"
    keep.mkdir()
    for name in ("v.mp4", "v.mp4.json"):
        shutil.copy(work / name, keep / name)
    shutil.rmtree(work)
    r = run_cli("recreate", keep / "v.mp4", "--deep", "-o", tmp_path / "again.mp4", "--quiet", cwd=tmp_path)
    assert r.returncode == 0, r.stderr.decode()[-2000:]
    assert (tmp_path / "again.mp4").read_bytes() == (keep / "v.mp4").read_bytes()
    again = json.loads((tmp_path / "again.mp4.json").read_text())
    poem = again["inputs"]["song"][0]["record"]["inputs"]["picture"][0]["record"]["inputs"]["poem"][0]["record"]
    assert poem["mapping"] == "poem" and poem["recipe"]["form"] == "wuyan-jueju"
