"""Every medium is an artwork: writers and readers for each format, inputs of every kind refused
cleanly when bad, mappings that chain and recreate from their deep record."""

import json
import os
import struct
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from yingshe.cli import main
from yingshe.core import sources
from yingshe.core.errors import BadInput
from yingshe.core.media import Audio
from yingshe.core.records import read_record


def _tone(path, seconds=1.0, rate=22050, clicks=True):
    import soundfile as sf

    t = np.arange(int(rate * seconds)) / rate
    y = 0.2 * np.sin(2 * np.pi * 330 * t)
    if clicks:
        for b in np.arange(0.125, seconds, 0.25):
            i = int(b * rate)
            y[i:i + 200] += 0.7 * np.exp(-np.arange(len(y[i:i + 200])) / 40.0)
    sf.write(str(path), np.clip(y, -1, 1).astype(np.float32), rate)
    return path


def _pic(path, seed=0, size=48):
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size] / size
    a = np.stack([xx, 1 - yy, (xx * yy + rng.random((size, size)) * 0.1) % 1], -1)
    a[: size // 3] = (0.6, 0.8, 1.0)  # a sky over a skyline
    Image.fromarray((a * 255).astype(np.uint8)).save(path)
    return path


# --------------------------------------------------------------------------- round trips

@pytest.mark.parametrize("ext", [".png", ".jpg", ".webp", ".tif", ".svg", ".json"])
def test_picture_formats_round_trip(tmp_path, ext, capsys):
    out = tmp_path / f"f{ext}"
    assert main(["art", "flowfield", "-o", str(out), "--size", "40", "--set", "particles=60", "-q"]) == 0
    rec = read_record(out)
    assert rec["mapping"] == "flowfield"
    assert (tmp_path / f"f{ext}.json").exists() == (ext == ".tif")  # only TIFF needs a sidecar
    capsys.readouterr()
    assert main(["info", str(out), "--recipe-only"]) == 0
    assert json.loads(capsys.readouterr().out)["particles"] == 60
    again = tmp_path / f"again{ext}"
    assert main(["recreate", str(out), "-o", str(again), "-q"]) == 0
    assert again.read_bytes() == out.read_bytes()


def test_sound_and_score_formats_round_trip(tmp_path, capsys):
    pic = _pic(tmp_path / "p.png")
    for ext in (".mid", ".wav", ".flac"):
        out = tmp_path / f"tune{ext}"
        assert main(["paint2music", str(pic), "-o", str(out), "--bars", "2", "-q"]) == 0
        rec = read_record(out)
        assert rec["mapping"] == "paint2music" and rec["inputs"]["picture"][0]["source"] == str(pic)
        assert (tmp_path / f"tune{ext}.json").exists() == (ext == ".wav")  # FLAC and MIDI embed it
        again = tmp_path / f"again{ext}"
        assert main(["recreate", str(out), "-o", str(again), "-q"]) == 0
        assert again.read_bytes() == out.read_bytes(), ext
    from yingshe.core.audio import load_audio

    wav, flac = load_audio(tmp_path / "tune.wav"), load_audio(tmp_path / "tune.flac")
    assert np.array_equal(wav.samples, flac.samples) and wav.duration > 1.0 and np.abs(wav.samples).max() > 0.5
    capsys.readouterr()
    assert main(["gallery", "list", "--kind", "audio"]) == 0
    listed = capsys.readouterr().out
    assert "tune.wav" in listed and "tune.flac" in listed and "tune.mid" not in listed


def test_text_artworks_and_text_inputs(tmp_path):
    from yingshe.core.artwork import Artwork
    from yingshe.core.registry import get

    # a text artwork saved as .txt (sidecar), .md and .json (embedded), read back by `info`
    m = get("paint2music")
    art = Artwork(mapping="paint2music", recipe=m.recipe(), text="床前明月光\n疑是地上霜\n")
    for ext in (".txt", ".md", ".json"):
        p = art.save(tmp_path / f"poem{ext}", gallery=False)
        assert read_record(p)["mapping"] == "paint2music"
    assert (tmp_path / "poem.txt").read_text(encoding="utf-8") == "床前明月光\n疑是地上霜\n"
    assert json.loads((tmp_path / "poem.json").read_text())["text"].startswith("床前")
    # inputs: the text itself, or @FILE (its bytes fingerprinted, the text kept in the record)
    (tmp_path / "p.txt").write_bytes("\ufeff春眠不觉晓\r\n处处闻啼鸟".encode("utf-8"))
    src = sources.load("@" + str(tmp_path / "p.txt"), kind="text")
    assert src.value == "春眠不觉晓\n处处闻啼鸟" and src.record["text"] == src.value and src.record["kind"] == "text"
    assert sources.load("a: literal text, not a scheme", kind="text").value.startswith("a: literal")


@pytest.mark.parametrize("ext,codec", [(".mp4", "aac"), (".webm", "opus")])
def test_video_with_sound_matches_duration_and_recreates(tmp_path, ext, codec):
    import imageio_ffmpeg

    song = _tone(tmp_path / "song.wav", seconds=1.5)
    out = tmp_path / f"v{ext}"
    assert main(["music2paint", str(song), "-o", str(out), "--size", "32", "--fps", "12", "-q"]) == 0
    gen = imageio_ffmpeg.read_frames(str(out))
    meta = next(gen)
    frames = sum(1 for _ in gen)
    assert meta["audio_codec"].rstrip(",") == codec and frames == 18
    assert abs(frames / 12 - 1.5) <= 1 / 12  # video and sound last the same, within a frame
    from yingshe.core.audio import load_audio

    sound = load_audio(out)  # the muxed track, decoded by ffmpeg
    assert abs(sound.duration - 1.5) <= 1 / 12 and np.abs(sound.samples).max() > 0.1
    assert read_record(out)["inputs"]["song"][0]["kind"] == "audio"
    again = tmp_path / f"again{ext}"
    assert main(["recreate", str(out), "-o", str(again), "-q"]) == 0
    assert again.read_bytes() == out.read_bytes()  # single-threaded encoders, bitexact flags


def test_three_step_chain_recreates_from_its_deep_record(tmp_path, capsys, monkeypatch):
    # julia (made on the fly) → paint2music → music2paint: one provenance tree
    work = tmp_path / "work"
    work.mkdir()
    pic = work / "julia.png"
    assert main(["art", "julia", "-o", str(pic), "--size", "48", "-q"]) == 0
    tune = work / "tune.wav"
    assert main(["paint2music", str(pic), "-o", str(tune), "--bars", "1", "--tempo", "200", "-q"]) == 0
    video = tmp_path / "video.mp4"
    assert main(["music2paint", str(tune), "-o", str(video), "--size", "32", "--fps", "12", "-q"]) == 0
    rec = read_record(video)
    nested = rec["inputs"]["song"][0]["record"]
    assert nested["mapping"] == "paint2music" and nested["inputs"]["picture"][0]["record"]["mapping"] == "julia"
    capsys.readouterr()
    assert main(["info", str(video), "--tree"]) == 0
    tree = capsys.readouterr().out
    assert "music2paint" in tree and "paint2music" in tree and "julia" in tree
    # the first steps' files are gone; --deep makes them again from the records, byte for byte
    import shutil

    shutil.rmtree(work)
    assert main(["recreate", str(video), "-o", str(tmp_path / "x.mp4"), "-q"]) == 2
    assert "--deep" in capsys.readouterr().err
    again = tmp_path / "again.mp4"
    assert main(["recreate", str(video), "-o", str(again), "--deep", "-q"]) == 0
    assert again.read_bytes() == video.read_bytes()


def test_yingshe_spec_makes_inputs_on_the_fly(tmp_path):
    out = tmp_path / "t.mid"
    spec = "yingshe:julia?size=48&seed=2"
    assert main(["paint2music", spec, "-o", str(out), "--bars", "1", "-q"]) == 0
    item = read_record(out)["inputs"]["picture"][0]
    assert item["source"] == spec and item["record"]["mapping"] == "julia" and item["record"]["recipe"]["seed"] == 2
    again = tmp_path / "again.mid"
    assert main(["recreate", str(out), "-o", str(again), "-q"]) == 0
    assert again.read_bytes() == out.read_bytes()
    with pytest.raises(BadInput, match="makes image"):
        sources.load("yingshe:julia?size=32", kind="audio")


# --------------------------------------------------------------------------- bad inputs

def _wav_header(rate, channels, data_bytes):
    fmt = struct.pack("<HHIIHH", 1, channels, rate, rate * channels * 2, channels * 2, 16)
    return (b"RIFF" + struct.pack("<I", 36 + data_bytes) + b"WAVE" + b"fmt " + struct.pack("<I", 16) + fmt
            + b"data" + struct.pack("<I", data_bytes))


def test_bad_audio_is_refused_in_one_line(tmp_path):
    from yingshe.core.audio import load_audio

    cases = {}
    (tmp_path / "empty.wav").write_bytes(b"")
    cases["empty.wav"] = "empty"
    (tmp_path / "text.wav").write_text("not a sound at all\n" * 20)
    cases["text.wav"] = "not a sound|could not|not a media|not WAV|damaged"
    # a header promising 3 hours, 4,000 bytes of data: refused before anything is allocated, and
    # called what it is (not "too long")
    (tmp_path / "lies.wav").write_bytes(_wav_header(44100, 2, 44100 * 2 * 2 * 3600 * 3) + b"\x00" * 4000)
    cases["lies.wav"] = r"truncated: its header promises 180.0 min but the file holds at most 0.02 s"
    # a header promising 2 s, holding 0.1 s: truncated
    (tmp_path / "cut.wav").write_bytes(_wav_header(22050, 1, 22050 * 2 * 2) + b"\x01\x00" * 2205)
    cases["cut.wav"] = "truncated"
    good = _tone(tmp_path / "good.flac", seconds=1.0)
    (tmp_path / "cut.flac").write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    cases["cut.flac"] = "truncated|corrupt"
    os.mkfifo(tmp_path / "fifo.wav")
    cases["fifo.wav"] = "not a regular file"
    for name, pattern in cases.items():
        with pytest.raises(BadInput, match=pattern):
            load_audio(tmp_path / name)
    with pytest.raises(BadInput, match="limit"):
        load_audio(_tone(tmp_path / "long.wav", seconds=3.0, clicks=False), max_seconds=2.0)
    a = load_audio(good)
    assert isinstance(a, Audio) and abs(a.duration - 1.0) < 1e-3


def test_bad_inputs_of_each_kind_exit_2_with_one_line(tmp_path):
    from conftest import run_cli

    (tmp_path / "bin.txt").write_bytes(b"\x00\x01\x02binary")
    (tmp_path / "fake.mp4").write_text("hello")
    (tmp_path / "fake.mid").write_bytes(b"MThd\x00\x00\x00\x06\x00\x01\x00\x01\x01")
    os.mkfifo(tmp_path / "pipe.wav")
    for args, pattern in [
        (["music2paint", tmp_path / "pipe.wav"], "not a regular file"),
        (["music2paint", tmp_path / "fake.mp4"], "not a media file|not a sound"),
        (["music2paint", tmp_path / "missing.wav"], "does not exist"),
        (["paint2music", tmp_path / "bin.txt"], "not an image"),
    ]:
        r = run_cli(*args, "-o", tmp_path / "out.mp4", "--no-gallery")
        err = r.stderr.decode()
        assert r.returncode == 2 and len(err.strip().splitlines()) == 1 and "Traceback" not in err, (args, err)
        assert __import__("re").search(pattern, err), (args, err)
    assert not (tmp_path / "out.mp4").exists()
    with pytest.raises(BadInput, match="binary"):
        sources.load("@" + str(tmp_path / "bin.txt"), kind="text")
    with pytest.raises(BadInput, match="empty"):
        sources.load("   \n ", kind="text")
    with pytest.raises(BadInput, match="damaged MIDI|no notes"):
        sources.load(tmp_path / "fake.mid", kind="midi")
    with pytest.raises(BadInput, match="not a media file|not a video"):
        sources.load(tmp_path / "fake.mp4", kind="video")


def test_list_shows_kinds(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert "paint2music" in out and "image(picture) → midi, audio" in out
    assert "audio(song) → video" in out


def test_every_example_is_a_valid_recipe_with_builtin_inputs():
    """The studio's home page runs these: each recipe parses, each input is a built-in source of
    the right kind (nothing of the user's), and each section has a flagship."""
    from yingshe.core import registry

    ranked = {}
    for m in registry.all_mappings():
        assert m.where in registry.SECTIONS
        ranked.setdefault(m.where, []).append(m.rank)
        specs = {s.name: s for s in m.inputs}
        for ex in m.examples:
            m.recipe.from_dict(ex.recipe)
            assert set(ex.inputs) <= set(specs), (m.name, ex.title)
            missing = [s.name for s in m.inputs if s.required and not s.from_recipe and s.name not in ex.inputs]
            assert not missing, (m.name, ex.title, missing)
            for name, srcs in ex.inputs.items():
                for src in (srcs if isinstance(srcs, tuple) else (srcs,)):
                    if specs[name].kind == "text":
                        continue  # a text input's example is the text itself (or poem:NAME)
                    assert not Path(src).exists() and (sources.is_spec(src) or src.startswith("yingshe:")), src
    for section, ranks in ranked.items():
        assert ranks.count(min(ranks)) == 1, section  # one flagship per section


def test_builtin_samples_load_offline():
    photo = sources.load("photo:astronaut")
    assert photo.image.size == (512, 512) and photo.record["source"] == "photo:astronaut"
    clicks = sources.load("sound:clicks", kind="audio")
    assert clicks.value.duration == pytest.approx(8.0) and clicks.record["kind"] == "audio"
    poem = sources.load("poem:jingyesi", kind="text")
    assert "床前明月光" in poem.value and poem.record["text"] == poem.value
    assert sources.load("poem: not a name", kind="text").value == "poem: not a name"  # still plain text
    with pytest.raises(BadInput, match="no such built-in"):
        sources.load("photo:nope")
