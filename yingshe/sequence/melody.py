"""The ``melody`` mapping: a Transformer writes a four-voice chorale or a folk song (MIDI + audio).

A decoder-only Transformer (yingshe.nets.transformer) trained on music events (see
melody_tokens.py for the token scheme) writes the piece one event at a time. Constrained
decoding (melody_tokens.Grammar) guarantees a well-formed piece of exactly ``bars`` bars in the
chosen key and metre, with every note inside its voice's range (SATB: S C4–G5, A G3–D5, T C3–G4,
B E2–C4; a folk line G3–C6), unless ``chromatic`` is on inside the key's scale, and (chorales,
``avoid_parallels``) without parallel perfect fifths or octaves between any two voices; with
``cadence`` it closes on a held tonic chord (a folk tune on its tonic).

- ``style``: ``chorale`` (four voices in Bach's manner: the shipped ``bach-chorale`` model, trained
  on music21's 371 chorales in all twelve keys) or ``folk`` (one line: ``folk-melody``, trained on
  the Essen folk songs in music21's corpus).
- ``start``: an optional MIDI file; its first ``start_bars`` bars are kept (moved to ``key`` when
  one is given) and the model continues from there.
- Output: the score as MIDI (one track per voice, key and time signature included) and its sound,
  rendered by FluidSynth with the TimGM6mb General MIDI soundfont that ships in pretty_midi
  (stereo, 44.1 kHz). Without FluidSynth the MIDI is still made; the audio is left out (say
  ``audio=True`` to make that an error naming what to install). :func:`to_musicxml` turns the
  MIDI into a MusicXML score (music21).

Deterministic for a given recipe, inputs, device and thread count.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from yingshe.core.artwork import Artwork
from yingshe.core.errors import BadInput
from yingshe.core.recipe import Recipe, param
from yingshe.core.registry import Example, InputSpec, Mapping, register
from yingshe.core.writers import Writer, register_writer
from yingshe.sequence.melody_tokens import KEY_ALIASES, KEY_NAMES, METERS

STYLES = ("chorale", "folk")
DEFAULT_MODEL = {"chorale": "bach-chorale", "folk": "folk-melody"}
DEFAULT_INSTRUMENT = {"chorale": "Church Organ", "folk": "Flute"}
DEFAULT_TEMPO = {"chorale": 76.0, "folk": 108.0}
KEY_CHOICES = ("auto",) + KEY_NAMES + tuple(KEY_ALIASES)


@dataclass
class MelodyRecipe(Recipe):
    mapping = "melody"
    style: str = param("chorale", "chorale: four voices (SATB) in Bach's manner; folk: a single-line folk song",
                       choices=STYLES)
    key: str = param("auto", "key: C, F#, Bb... (major) or c, f#, bb... (minor); auto: the model's choice, "
                             "or the start file's key", choices=KEY_CHOICES)
    bars: int = param(8, "length of the piece in bars (a start file's bars included)", min=2, max=64)
    meter: str = param("auto", "time signature; auto: the model's choice (or the start file's)",
                       choices=("auto",) + tuple(METERS))
    tempo: float | None = param(None, "quarter notes per minute; auto: 76 for chorales, 108 for folk songs",
                                min=20, max=300)
    instrument: str = param("auto", "General MIDI instrument, by name ('Church Organ', 'Flute', 'Acoustic Grand "
                                    "Piano', 'Choir Aahs'...) or number 0-127; auto: organ for chorales, flute "
                                    "for folk songs",
                            suggest=("auto", "Church Organ", "Flute", "Acoustic Grand Piano", "Choir Aahs",
                                     "String Ensemble 1", "Violin", "Clarinet", "Harpsichord", "Music Box"))
    temperature: float = param(0.9, "sampling temperature: lower is safer and plainer, higher is wilder",
                               min=0.0, max=2.0)
    top_p: float = param(0.95, "nucleus sampling: draw each event from the likeliest ones holding this much "
                               "probability", min=0.05, max=1.0)
    chromatic: bool = param(False, "allow notes outside the key's scale (passing chromatic notes, secondary "
                                   "dominants); off: every note is in the key")
    avoid_parallels: bool = param(True, "chorales: no parallel perfect fifths or octaves between two voices (the "
                                     "textbook rule of four-part writing)")
    cadence: bool = param(True, "end on the tonic: the last bar is one chord (one note) held to the end, the bass "
                                "(the tune) on the tonic")
    start_bars: int = param(2, "bars of the start MIDI file to keep before the model continues", min=1, max=63)
    model: str = param("auto", "model: bach-chorale, folk-melody, a .safetensors file or a training run folder; "
                               "auto: the style's shipped model", advanced=True,
                       suggest=("auto", "bach-chorale", "folk-melody"))

    def check(self) -> None:
        if self.instrument != "auto":
            from yingshe.sequence.melody_audio import parse_instrument

            parse_instrument(self.instrument)


# --------------------------------------------------------------------------- pieces

_MODELS: dict = {}


def _load(spec: str, device) -> "object":
    """The melody model ``spec``, kept while its file's fingerprint stays the same (the studio
    loads it once)."""
    from yingshe.sequence.melody_model import load_model, resolve

    resolved = resolve(spec)
    key = (resolved.path, resolved.sha256, str(device))
    if key not in _MODELS:
        _MODELS.clear()
        _MODELS[key] = load_model(spec, device=device, resolved=resolved)
    return _MODELS[key]


def start_piece(data: bytes, voices: int, key: int | None, meter: str | None, what: str):
    """The start file as a piece in ``key`` (moved by the smallest interval, then by octaves to
    sit best in the voices' ranges)."""
    from yingshe.sequence.melody_data import read_midi_bytes
    from yingshe.sequence.melody_tokens import KEY_NAMES, voice_range

    piece = read_midi_bytes(data, voices, what=what)
    if not piece.notes:
        raise BadInput(f"{what}: no notes on a sixteenth-note grid")
    if meter is not None and piece.meter != meter:
        raise BadInput(f"{what} is in {piece.meter}; use --meter {piece.meter} or auto")
    shift = 0
    if key is not None:
        if (key >= 12) != (piece.key >= 12):
            mode = "minor" if piece.key >= 12 else "major"
            raise BadInput(f"{what} is in {KEY_NAMES[piece.key]} ({mode}); choose a {mode} --key, or auto")
        shift = ((key - piece.key) % 12 + 6) % 12 - 6

    def outside(s: int) -> int:
        return sum(not (voice_range(n.voice, voices)[0] <= n.pitch + s <= voice_range(n.voice, voices)[1])
                   for n in piece.notes)

    best = min((shift, shift - 12, shift + 12), key=lambda s: (outside(s), abs(s)))
    return piece.transposed(best)


def compose(recipe: MelodyRecipe, mm, start: bytes | None = None, *, start_name: str = "start MIDI",
            progress=None, ranges: bool = True):
    """(piece, token ids, interrupted) for a recipe with a loaded model (``ranges=False`` lifts
    the voice ranges: the benchmark's look at what the network does by itself)."""
    import torch

    from yingshe.sequence.melody_model import generate
    from yingshe.sequence.melody_tokens import Constraints, Grammar, parse_key

    tok = mm.tokenizer
    key = None if recipe.key == "auto" else parse_key(recipe.key)
    meter = None if recipe.meter == "auto" else recipe.meter
    meters = (meter,) if meter else tuple(m for m in mm.meta.get("meters") or METERS if m in METERS)
    prompt = [tok.bos]
    if start is not None:
        piece = start_piece(start, tok.voices, key, meter, start_name)
        keep = min(recipe.start_bars, piece.bars)
        if keep >= recipe.bars:
            raise BadInput(f"--bars ({recipe.bars}) must be more than the {keep} bar(s) kept from {start_name} "
                           f"(--start-bars {recipe.start_bars})")
        prompt = tok.encode(piece.truncated(keep), total_bars=recipe.bars, eos=False)
        key, meters = piece.key, (piece.meter,)
    cons = Constraints(bars=recipe.bars, key=key, in_key=not recipe.chromatic, ranges=ranges, meters=meters,
                       no_parallels=recipe.avoid_parallels, cadence=recipe.cadence)
    grammar = Grammar(tok, cons)
    if progress is not None:
        progress.start(recipe.bars, f"writing a {mm.style}")
    gen = torch.Generator().manual_seed(int(recipe.seed))
    ids, interrupted = generate(mm, grammar, prompt, generator=gen, temperature=recipe.temperature,
                                top_p=recipe.top_p if recipe.top_p < 1 else None, progress=progress)
    return tok.decode(ids), ids, interrupted


def run(recipe: MelodyRecipe, inputs: dict | None = None, progress=None, *, device: str = "auto",
        threads: int | None = None, audio: bool | None = None, **_) -> Artwork:
    """Write the piece; ``audio``: None renders it when FluidSynth is installed, True requires it,
    False skips it."""
    from yingshe.core import midi as core_midi
    from yingshe.core.device import resolve_device, set_threads
    from yingshe.core.media import Midi
    from yingshe.sequence import melody_audio
    from yingshe.sequence.melody_data import piece_to_pretty_midi
    from yingshe.sequence.melody_tokens import KEY_NAMES, scale_pitch_classes, voice_range

    t0 = time.perf_counter()
    recipe.validate()
    threads_used = set_threads(threads)
    dev = resolve_device(device)
    spec = DEFAULT_MODEL[recipe.style] if recipe.model == "auto" else recipe.model
    mm = _load(spec, dev)
    if mm.style != recipe.style:
        what = "four-voice chorales" if mm.style == "chorale" else "single-line melodies"
        raise BadInput(f"model {spec!r} writes {what}: use --style {mm.style}, or another --model")
    start_sources = (inputs or {}).get("start") or []
    start_bytes, records = None, {}
    if start_sources:
        src = start_sources[0]
        value = getattr(src, "value", None)
        start_bytes = value.data if hasattr(value, "data") else value
        if not isinstance(start_bytes, (bytes, bytearray)):
            raise BadInput(f"start {src.record.get('source')!r} is not a MIDI file")
        records["start"] = [src.record]
    name = str(start_sources[0].record.get("source", "start MIDI")) if start_sources else "start MIDI"
    piece, ids, interrupted = compose(recipe, mm, bytes(start_bytes) if start_bytes else None,
                                      start_name=name, progress=progress)
    tempo = recipe.tempo or DEFAULT_TEMPO[recipe.style]
    program = melody_audio.parse_instrument(DEFAULT_INSTRUMENT[recipe.style] if recipe.instrument == "auto"
                                            else recipe.instrument)
    pm = piece_to_pretty_midi(piece, tempo=tempo, program=program)
    midi = Midi.from_pretty_midi(pm)
    weights = {"melody": mm.record}
    sound, note = None, None
    if audio is not False:
        try:
            sound, weights["soundfont"] = core_midi.render(pm)
        except BadInput as e:
            if audio or core_midi.have_fluidsynth():
                raise
            note = str(e)
    pcs = scale_pitch_classes(piece.key)
    notes = piece.notes
    summary = {
        "key": KEY_NAMES[piece.key], "meter": piece.meter, "bars": piece.bars, "notes": len(notes),
        "tokens": len(ids), "tempo": tempo, "instrument": melody_audio.instrument_name(program),
        "program": program, "seconds_of_music": round(pm.get_end_time(), 3),
        "in_key": round(sum(n.pitch % 12 in pcs for n in notes) / max(1, len(notes)), 4),
        "in_range": round(sum(voice_range(n.voice, piece.voices)[0] <= n.pitch <= voice_range(n.voice, piece.voices)[1]
                              for n in notes) / max(1, len(notes)), 4),
    }
    if note:
        summary["audio"] = "not rendered: " + note
    return Artwork(mapping=recipe.mapping, recipe=recipe, midi=midi, audio=sound, inputs=records, weights=weights,
                   device=str(dev), threads=threads_used, seconds=time.perf_counter() - t0, summary=summary,
                   interrupted=interrupted)


def to_musicxml(midi_bytes: bytes) -> bytes:
    """MusicXML bytes of a melody's MIDI (for the ``.musicxml`` writer)."""
    from yingshe.sequence.melody_audio import to_musicxml as convert

    return convert(midi_bytes)


def _write_musicxml(art: Artwork, rec: str) -> bytes:
    """The ``.musicxml`` writer: any artwork's score, engraved by music21 (the record goes in the
    ``.musicxml.json`` sidecar: MusicXML has no field a reader would keep it in)."""
    from yingshe.core.midi import midi_bytes

    return to_musicxml(midi_bytes(art.output("midi")))


register_writer(Writer(".musicxml", "midi", False, _write_musicxml, "MusicXML score"))

MAPPING = register(Mapping(
    "melody", "a Transformer writes a Bach-style chorale or a folk song: MIDI and audio", "self-attention",
    MelodyRecipe, run,
    inputs=(InputSpec("start", "midi", "a MIDI file to continue (its first --start-bars bars are kept)",
                      required=False),),
    outputs=("midi", "audio"),
    rank=20,
    examples=(Example("A chorale in Bach's manner, G major, on the church organ", {"style": "chorale", "key": "G",
                                                                                  "bars": 8, "seed": 1}),
              Example("A folk song in D on the flute", {"style": "folk", "key": "D", "bars": 8,
                                                         "instrument": "Flute", "seed": 2}))))
