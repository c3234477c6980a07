"""music2paint: the picture moves on the beat, and a killed render resumes to the same video."""

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from yingshe.core.media import Audio


def click_track(seconds=4.0, rate=22050, bpm=120, offset=0.25):
    t = np.arange(int(rate * seconds)) / rate
    y = 0.12 * np.sin(2 * np.pi * 220 * t)
    beats = np.arange(offset, seconds, 60.0 / bpm)
    for b in beats:
        i = int(b * rate)
        n = min(len(y) - i, 600)
        y[i:i + n] += 0.8 * np.random.default_rng(int(b * 1000)).standard_normal(n) * np.exp(-np.arange(n) / 90.0)
    return Audio(np.clip(y, -1, 1).astype(np.float32), rate), beats


@pytest.mark.parametrize("visual", ["julia", "art-gan"])
def test_the_picture_moves_on_the_beat(visual):
    from yingshe.core.registry import get
    from yingshe.core.sources import Source
    from yingshe.crossmodal.listen import beat_sync

    audio, beats = click_track()
    m = get("music2paint")
    recipe = m.recipe.from_dict({"visual": visual, "size": 48, "fps": 24, "drift": 0.3})
    art = m.run(recipe, {"song": [Source(audio, {"source": "<clicks>", "sha256": "0" * 64, "kind": "audio"}, "audio")]})
    frames = [np.asarray(f, np.float32) for f in art.frames]
    change = np.array([0.0] + [np.abs(frames[i] - frames[i - 1]).mean() for i in range(1, len(frames))])
    clicks = np.zeros(len(frames))
    clicks[np.round(beats * 24).astype(int)] = 1
    ratio = beat_sync(change, clicks)
    assert ratio > 1.5, ratio  # change concentrates on the clicks
    assert len(frames) == 96 and art.audio.duration == pytest.approx(4.0, abs=1 / 24)
    if visual == "art-gan":
        # the clicks' 220 Hz tone is in A, whose class (9 × 7 mod 11) was art-gan-32's collapsed
        # "subdivision": every latent drew the same picture. Classes that do not move are skipped.
        from yingshe.crossmodal.listen import features

        assert np.bincount(features(audio, 24.0).key).argmax() == 9 and art.summary["classes_skipped"] == ["subdivision"]
    art.cleanup()


def test_a_killed_render_resumes_to_the_same_video(tmp_path):
    import soundfile as sf

    audio, _ = click_track(seconds=6.0)
    song = tmp_path / "song.wav"
    sf.write(str(song), audio.samples, audio.rate)
    args = [sys.executable, "-m", "yingshe", "music2paint", str(song), "--size", "64", "--fps", "12", "-q",
            "--no-gallery", "--json"]
    env = dict(os.environ, YINGSHE_HOME=str(tmp_path / "home"))
    # the same render, never interrupted (in another home: no shared work files)
    whole = tmp_path / "whole.mp4"
    ref = subprocess.run(args + ["-o", str(whole)], env=dict(env, YINGSHE_HOME=str(tmp_path / "h2")),
                         capture_output=True, timeout=600)
    assert ref.returncode == 0, ref.stderr
    out = tmp_path / "v.mp4"
    proc = subprocess.Popen(args + ["-o", str(out)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    work = tmp_path / "home" / "work"
    deadline = time.time() + 300
    while time.time() < deadline:
        found = list(work.glob("music2paint-*/frame-*.png")) if work.exists() else []
        if len(found) >= 12 or proc.poll() is not None:
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not out.exists()  # killed mid-render: no half-written video
    kept = len(list(work.glob("music2paint-*/frame-*.png")))
    assert 0 < kept < 72, kept
    r = subprocess.run(args + ["-o", str(out)], env=env, capture_output=True, timeout=600)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["summary"]["resumed_from"] >= kept - 1
    assert out.read_bytes() == whole.read_bytes()
    assert not list(work.glob("music2paint-*"))  # the work files are gone once the video is saved
