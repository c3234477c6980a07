"""What a song does, frame by frame, for the mappings that move pictures with music.

:func:`features` analyses a sound with librosa at a sample rate chosen so that one analysis hop
is exactly one video frame (``rate = hop * fps``): frames and sound cannot drift apart, however
long the song. Everything is an array with one value per video frame:

- ``pulse``: a kick on every percussive onset (from the harmonic/percussive split), decaying
  over ``decay`` seconds — the beat you see;
- ``beat``: 1 on the frames librosa's beat tracker marks;
- ``energy``: RMS of the harmonic part, 0..1 — what drifts the picture along;
- ``chroma``: (frames, 12) pitch-class energy, and ``key``: the strongest pitch class, smoothed
  over about a second — what chooses colours or classes;
- ``brightness``: spectral centroid, 0..1.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np

from yingshe.core.errors import BadInput
from yingshe.core.media import Audio

#: analysis rate before rounding to a whole number of samples per frame
BASE_RATE = 22050


@dataclass
class Features:
    fps: float
    frames: int  # video frames: ceil(duration * fps)
    duration: float
    rate: int  # analysis sample rate = hop * fps
    hop: int
    pulse: np.ndarray
    beat: np.ndarray
    energy: np.ndarray
    chroma: np.ndarray  # (frames, 12)
    key: np.ndarray  # int pitch class per frame
    brightness: np.ndarray
    tempo: float

    def summary(self) -> dict:
        return {"frames": self.frames, "duration": round(self.duration, 3), "tempo_bpm": round(self.tempo, 2),
                "beats": int(self.beat.sum()), "analysis_rate": self.rate, "hop": self.hop}


def analysis_rate(fps: float) -> tuple[int, int]:
    """(rate, hop) with rate == hop * fps exactly (fps must make a whole hop: 24, 25, 30, 12.5...)."""
    hop = max(64, int(round(BASE_RATE / fps)))
    rate = hop * fps
    if abs(rate - round(rate)) > 1e-9:
        raise BadInput(f"--fps {fps:g}: choose a frame rate that divides the analysis rate into whole samples "
                       "(e.g. 12, 15, 24, 25, 30, 60)")
    return int(round(rate)), hop


def features(audio: Audio, fps: float, *, decay: float = 0.25) -> Features:
    try:
        import librosa
    except ImportError:
        raise BadInput("music → picture mappings need librosa: pip install 'yingshe[audio]'") from None
    rate, hop = analysis_rate(fps)
    y = audio.resample(rate).mono().astype(np.float32)
    n = max(1, math.ceil(audio.duration * fps - 1e-9))
    if np.abs(y).max(initial=0) < 1e-4:
        raise BadInput("the song is silent: nothing to move the pictures")
    harmonic, percussive = librosa.effects.hpss(y)
    kw = dict(sr=rate, hop_length=hop)

    def fit(a: np.ndarray) -> np.ndarray:  # librosa's centred frames: n or n+1 of them
        a = np.asarray(a, np.float64)
        return a[:n] if len(a) >= n else np.pad(a, (0, n - len(a)), mode="edge")

    onset_env = librosa.onset.onset_strength(y=percussive, **kw)
    onsets = librosa.onset.onset_detect(onset_envelope=onset_env, backtrack=False, **kw)
    env = fit(onset_env)
    scale = np.percentile(env, 99) or 1.0
    kicks = np.zeros(n)
    for f in onsets[onsets < n]:
        kicks[f] = min(1.0, env[f] / scale)
    pulse = np.zeros(n)
    k = math.exp(-1.0 / max(1e-6, decay * fps))
    level = 0.0
    for t in range(n):
        level = max(kicks[t], level * k)
        pulse[t] = level
    tempo, beats = librosa.beat.beat_track(onset_envelope=onset_env, **kw)
    beat = np.zeros(n)
    beat[beats[beats < n]] = 1.0
    rms = fit(librosa.feature.rms(y=harmonic, hop_length=hop)[0])
    energy = rms / (np.percentile(rms, 98) or 1.0)
    with warnings.catch_warnings():  # a drum-only song has no pitch to tune to: that is fine here
        warnings.simplefilter("ignore", UserWarning)
        chroma = librosa.feature.chroma_stft(y=harmonic, **kw).T
    chroma = np.stack([fit(chroma[:, i]) for i in range(12)], 1)
    window = max(1, int(fps))  # a second of chroma decides the key colour: no flicker on every note
    smooth = np.cumsum(np.vstack([np.zeros((1, 12)), chroma]), 0)
    lo = np.clip(np.arange(n) - window // 2, 0, n)
    hi = np.clip(np.arange(n) + window // 2 + 1, 0, n)
    key = np.argmax(smooth[hi] - smooth[lo], 1)
    centroid = fit(librosa.feature.spectral_centroid(y=y, **kw)[0])
    brightness = np.clip(centroid / (rate / 2), 0, 1)
    return Features(fps, n, audio.duration, rate, hop, pulse, beat, np.clip(energy, 0, 1.5), chroma, key,
                    brightness, float(np.atleast_1d(tempo)[0]))


def beat_sync(frames_change: np.ndarray, beat_frames: np.ndarray, *, width: int = 1) -> float:
    """Mean frame-to-frame change within ``width`` frames of a beat, over the mean elsewhere."""
    near = np.zeros(len(frames_change), bool)
    for b in np.flatnonzero(beat_frames):
        near[max(0, b - width):b + width + 1] = True
    if not near.any() or near.all():
        return float("nan")
    return float(frames_change[near].mean() / max(1e-9, frames_change[~near].mean()))
