"""``paint2music``: a picture → a melody (MIDI, and its sound through FluidSynth).

How the picture is heard:

- its colour chooses the key and mode: the saturation-weighted mean hue names the tonic around
  the circle of fifths (Scriabin's colours: C red, G orange, D yellow, A green, E sky blue...);
  warm and bright pictures play in major, cool and dark ones in minor, and nearly colourless ones
  (an ink landscape) in the pentatonic scale, on a koto;
- brightness sets the register, saturation the loudness;
- edge density sets how many notes fall on each beat (and the tempo, unless given);
- the skyline, scanned left to right, is the melody's contour: where the picture rises, so does
  the tune; a bass and chords follow the colour of each bar.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np

from yingshe.core.artwork import Artwork
from yingshe.core.errors import BadInput
from yingshe.core.progress import Progress
from yingshe.core.recipe import Recipe, param
from yingshe.core.registry import Example, InputSpec, Mapping, register

SCALES = {
    "major": (0, 2, 4, 5, 7, 9, 11),
    "minor": (0, 2, 3, 5, 7, 8, 10),
    "dorian": (0, 2, 3, 5, 7, 9, 10),
    "pentatonic": (0, 2, 4, 7, 9),
}
#: hue (degrees) → tonic pitch class, around the circle of fifths as Scriabin coloured it
_FIFTHS = (0, 7, 2, 9, 4, 11, 6, 1, 8, 3, 10, 5)  # C G D A E B F# C# G# D# A# F
NOTE_NAMES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")
#: General MIDI programs (0-based) chosen by mode when ``instrument`` is auto
AUTO_INSTRUMENT = {"major": 0, "minor": 46, "dorian": 24, "pentatonic": 107}  # piano, harp, guitar, koto

EXAMPLES = """\
yingshe paint2music landscape.png -o tune.mid                 the score (recipe inside)
yingshe paint2music landscape.png -o tune.wav                 played by FluidSynth
yingshe paint2music 'yingshe:julia?seed=4' -o julia.flac --bars 16 --scale dorian"""


@dataclass
class Paint2MusicRecipe(Recipe):
    mapping = "paint2music"

    bars: int = param(8, "length in bars of four beats", min=1, max=256)
    tempo: float | None = param(None, "beats per minute (auto: from how busy the picture is)", min=30.0, max=240.0)
    scale: str = param("auto", "auto: from the colours (warm/bright major, cool/dark minor, grey pentatonic)",
                       choices=("auto",) + tuple(SCALES))
    key: str = param("auto", "tonic (auto: from the colours)", choices=("auto",) + NOTE_NAMES)
    instrument: int | None = param(None, "General MIDI program 0-127 of the melody (auto: by the mode)",
                                   min=0, max=127)
    accompaniment: bool = param(True, "bass and chords under the melody")
    rate: int = param(44100, "sample rate of the sound", choices=(22050, 32000, 44100, 48000), advanced=True)


@dataclass
class Reading:
    """What the picture says, in musical terms."""

    tonic: int
    mode: str
    register: int  # MIDI note of the melody's lowest tonic
    velocity: int
    notes_per_beat: np.ndarray  # (beats,)
    contour: np.ndarray  # (columns,) 0..1, left to right
    bar_colour: np.ndarray  # (bars,) 0..1: hue position of each bar
    tempo: float
    facts: dict


def read_picture(img, recipe: Paint2MusicRecipe) -> Reading:
    from PIL import Image

    beats = recipe.bars * 4
    cols = beats * 4  # four columns per beat: the finest note is a sixteenth
    small = np.asarray(img.convert("RGB").resize((cols, 64), Image.BILINEAR), np.float32) / 255.0
    hsv = np.asarray(img.convert("RGB").resize((cols, 64), Image.BILINEAR).convert("HSV"), np.float32) / 255.0
    hue, sat, val = hsv[..., 0] * 360.0, hsv[..., 1], hsv[..., 2]
    w = sat * val + 1e-6
    ang = np.deg2rad(hue)
    mean_hue = float(np.rad2deg(math.atan2((np.sin(ang) * w).sum(), (np.cos(ang) * w).sum())) % 360.0)
    colourfulness = float((sat * val).mean())
    brightness = float(val.mean())
    r, g, b = small[..., 0].mean(), small[..., 1].mean(), small[..., 2].mean()
    warmth = float(r - b)
    if colourfulness < 0.06:
        mode = "pentatonic"
    elif warmth + (brightness - 0.5) * 0.5 > 0:
        mode = "major"
    else:
        mode = "minor"
    mode = mode if recipe.scale == "auto" else recipe.scale
    tonic = _FIFTHS[int(round(mean_hue / 30.0)) % 12] if recipe.key == "auto" else NOTE_NAMES.index(recipe.key)
    register = 48 + 12 * int(np.clip(round(brightness * 2), 0, 2)) + tonic  # C3..C5 by brightness
    velocity = int(np.clip(55 + 70 * colourfulness * 2, 45, 115))
    grey = small.mean(-1)
    gy, gx = np.gradient(grey)
    edges = np.hypot(gx, gy)
    per_col = edges.mean(0)
    busy = float(edges.mean())
    per_beat = per_col.reshape(beats, 4).mean(1)
    rel = per_beat / (per_beat.mean() + 1e-9)
    base = np.clip(busy * 40, 0.8, 3.2)  # a calm picture: one note a beat; a busy one: three or four
    notes_per_beat = np.clip(np.round(base * np.sqrt(rel)), 1, 4).astype(int)
    tempo = recipe.tempo if recipe.tempo is not None else float(np.clip(64 + busy * 900, 60, 144))
    contour = _skyline(grey)
    hue_cols = (mean_hue_cols(hue, w).reshape(recipe.bars, -1).mean(1) / 360.0) % 1.0
    facts = {"mean_hue": round(mean_hue, 1), "colourfulness": round(colourfulness, 4), "brightness": round(brightness, 4),
             "warmth": round(warmth, 4), "edge_density": round(busy, 5), "key": f"{NOTE_NAMES[tonic]} {mode}",
             "tempo": round(tempo, 1)}
    return Reading(tonic, mode, register, velocity, notes_per_beat, contour, hue_cols, tempo, facts)


def mean_hue_cols(hue: np.ndarray, w: np.ndarray) -> np.ndarray:
    ang = np.deg2rad(hue)
    return np.rad2deg(np.arctan2((np.sin(ang) * w).sum(0), (np.cos(ang) * w).sum(0))) % 360.0


def _skyline(grey: np.ndarray) -> np.ndarray:
    """Per column, how high the picture's outline stands (0 bottom .. 1 top): the first row, from
    the top, that differs clearly from the sky (the top rows); else the brightness centroid."""
    h, w = grey.shape
    sky = np.median(grey[:3], axis=0)
    diff = np.abs(grey - sky[None, :])
    thresh = max(0.08, float(np.percentile(diff, 75)) * 0.5)
    hit = diff > thresh
    first = np.where(hit.any(0), hit.argmax(0), -1)
    rows = np.arange(h)[:, None]
    centroid = (rows * (1.0 - grey)).sum(0) / ((1.0 - grey).sum(0) + 1e-6)
    y = np.where(first >= 0, first, centroid)
    height = 1.0 - y / (h - 1)
    k = np.ones(3) / 3  # a little smoothing: a melody, not noise
    return np.clip(np.convolve(np.pad(height, 1, mode="edge"), k, mode="valid"), 0, 1)


def compose(reading: Reading, recipe: Paint2MusicRecipe):
    """The score (pretty_midi.PrettyMIDI) for a reading of the picture."""
    import pretty_midi

    scale = SCALES[reading.mode]
    spb = 60.0 / reading.tempo  # seconds per beat
    pm = pretty_midi.PrettyMIDI(initial_tempo=reading.tempo)
    program = recipe.instrument if recipe.instrument is not None else AUTO_INSTRUMENT[reading.mode]
    melody = pretty_midi.Instrument(program=program, name="melody")
    span = len(scale) * 2  # two octaves of scale degrees

    def degree_to_pitch(d: int, base: int) -> int:
        octave, step = divmod(d, len(scale))
        return base + 12 * octave + scale[step]

    cols = len(reading.contour)
    beats = len(reading.notes_per_beat)
    last_pitch = None
    for b in range(beats):
        n = int(reading.notes_per_beat[b])
        for j in range(n):
            t0 = (b + j / n) * spb
            dur = spb / n
            c = reading.contour[min(cols - 1, int((b + (j + 0.5) / n) * cols / beats))]
            pitch = degree_to_pitch(int(round(c * (span - 1))), reading.register)
            accent = 12 if j == 0 and b % 4 == 0 else (6 if j == 0 else 0)
            vel = int(np.clip(reading.velocity + accent, 1, 127))
            if pitch == last_pitch and melody.notes and j > 0:
                melody.notes[-1].end = t0 + dur * 0.95  # same pitch within a beat: hold it
                continue
            melody.notes.append(pretty_midi.Note(vel, pitch, t0, t0 + dur * 0.95))
            last_pitch = pitch
    pm.instruments.append(melody)
    if recipe.accompaniment:
        # I IV V vi (major) or i iv v VI (minor) by the colour of the bar
        degrees = (0, 3, 4, 5) if reading.mode != "pentatonic" else (0, 2, 3, 4)
        bass = pretty_midi.Instrument(program=32 if reading.mode != "pentatonic" else 33, name="bass")
        pad = pretty_midi.Instrument(program=48 if reading.mode != "pentatonic" else 52, name="chords")
        root_base = reading.register - 24 if reading.register - 24 >= 28 else reading.register - 12
        for bar, colour in enumerate(reading.bar_colour):
            deg = degrees[int(colour * len(degrees)) % len(degrees)] if bar % 4 else 0
            t0, t1 = bar * 4 * spb, (bar + 1) * 4 * spb
            root = degree_to_pitch(deg, root_base)
            for beat in (0, 2):
                bass.notes.append(pretty_midi.Note(int(reading.velocity * 0.8), root, t0 + beat * spb,
                                                   t0 + (beat + 2) * spb * 0.95))
            for k in (0, 2, 4):
                pitch = degree_to_pitch(deg + k, root_base + 12)
                pad.notes.append(pretty_midi.Note(int(reading.velocity * 0.45), pitch, t0, t1 - 0.02))
        pm.instruments += [bass, pad]
    return pm


def run(recipe: Paint2MusicRecipe, inputs: dict, progress: Progress | None = None, **_) -> Artwork:
    from yingshe.core import midi as core_midi
    from yingshe.core import weights
    from yingshe.core.media import Midi

    t0 = time.perf_counter()
    progress = progress or Progress()
    pics = inputs.get("picture") or []
    if len(pics) != 1:
        raise BadInput("paint2music takes one picture")
    src = pics[0]
    progress.start(2, "paint2music")
    reading = read_picture(src.image, recipe)
    score = Midi.from_pretty_midi(compose(reading, recipe))
    progress.update(1)
    sf = weights.resolve(core_midi.DEFAULT_SOUNDFONT)  # the sound's soundfont is part of the record
    art = Artwork(mapping=recipe.mapping, recipe=recipe, midi=score, inputs={"picture": [src.record]},
                  weights={"soundfont": sf.record()}, seconds=time.perf_counter() - t0,
                  summary=reading.facts | {"notes": int(sum(len(i.notes) for i in score.to_pretty_midi().instruments)),
                                           "duration": round(recipe.bars * 4 * 60.0 / reading.tempo, 3)})
    art.make["audio"] = lambda: core_midi.render(score, rate=recipe.rate)[0]
    progress.update(1)
    progress.close()
    return art


MAPPING = register(Mapping(
    name="paint2music",
    summary="a picture → a melody: colour picks key and mode, the skyline is the tune (MIDI, WAV, FLAC)",
    family="cross-modal",
    recipe=Paint2MusicRecipe,
    run=run,
    inputs=(InputSpec("picture", "image", "the picture to listen to"),),
    outputs=("midi", "audio"),
    rank=10,
    examples=(Example("The coffee photo, heard", {"bars": 8}, {"picture": "photo:coffee"}),
              Example("A snowy river on a koto", {"bars": 8},
                      {"picture": "yingshe:poem2paint?poem=poem:jiangxue&size=384"})),
))
