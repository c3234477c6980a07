"""Music in and out: corpora for training, MIDI files ↔ :class:`~yingshe.sequence.melody_tokens.Piece`.

Training corpora (``yingshe train melody DATA``):

- ``music21:bach`` — the 371 four-part chorales of J. S. Bach in Riemenschneider's numbering, as
  music21's corpus ships them (soprano, alto, tenor and bass parts; instrumental parts dropped).
- ``music21:folk`` — the single-line folk songs of the Essen Folksong Collection in music21's
  corpus (``essenFolksong/*.abc``, about 8,500 tunes, mostly German).
- a folder of MIDI files (``*.mid``, ``*.midi``, searched recursively): every file becomes a
  piece; with ``voices=4`` the (up to four) melodic tracks are ordered by mean pitch into
  S, A, T, B; with ``voices=1`` the highest note of each onset is kept (the "skyline").

Notes are placed on a sixteenth-note grid; pieces whose notes mostly fall between the grid
points (triplets), whose metre changes or is not in :data:`METERS`, or that are shorter than two
bars are skipped and counted. The key of every piece is found by Krumhansl–Schmuckler key
finding on its notes (:func:`~yingshe.sequence.melody_tokens.estimate_key`).
"""

from __future__ import annotations

import io
import math
import os
from pathlib import Path

from yingshe.core.errors import BadInput
from yingshe.sequence.melody_tokens import (METERS, VOICE_NAMES, Note, Piece, estimate_key)

OFFGRID_LIMIT = 0.05  # skip a piece when more than this share of its notes is off the 16th grid


# --------------------------------------------------------------------------- music21

def need_music21():
    """music21, or a one-line BadInput saying how to install it."""
    try:
        import music21
    except ImportError:
        raise BadInput("the music21 corpora and MusicXML need music21: pip install 'yingshe[melody]'") from None
    return music21


def _grid(x: float) -> tuple[int, bool]:
    """Quarter lengths → sixteenths, and whether it was on the grid."""
    v = float(x) * 4
    r = int(round(v))
    return r, abs(v - r) < 1e-6


def piece_from_parts(parts, meter: str, pickup: float, title: str = "") -> Piece | None:
    """A piece from music21 parts (one voice each), or None when it is off the grid."""
    bar_len = METERS[meter]
    shift, _ = _grid(pickup)
    notes, off = [], 0
    for v, part in enumerate(parts):
        for n in part.stripTies().flatten().notes:
            s, ok1 = _grid(n.offset)
            d, ok2 = _grid(n.quarterLength)
            off += not (ok1 and ok2)
            if d < 1:
                continue
            pitch = max(p.midi for p in n.pitches) if n.isChord else n.pitch.midi
            notes.append(Note(v, int(pitch), s + shift, d))
    if not notes or off > OFFGRID_LIMIT * len(notes):
        return None
    end = max(n.start + n.dur for n in notes)
    bars = math.ceil(end / bar_len)
    return Piece(estimate_key(notes), meter, bars, len(parts), notes, title).normalized()


def _meter_and_pickup(part) -> tuple[str | None, float]:
    tss = part.recurse().getElementsByClass("TimeSignature")
    ratios = {t.ratioString for t in tss}
    if len(ratios) != 1:
        return None, 0.0
    meter = ratios.pop()
    if meter not in METERS:
        return None, 0.0
    measures = part.getElementsByClass("Measure")
    pickup = float(measures[0].paddingLeft) if len(measures) else 0.0
    return meter, pickup


def chorale_piece(score) -> Piece | None:
    """A four-voice piece from a music21 chorale (the parts named Soprano, Alto, Tenor, Bass)."""
    parts = []
    for name in VOICE_NAMES:
        match = [p for p in score.parts if str(p.id or p.partName or "").startswith(name)]
        if not match:
            return None
        parts.append(match[0])
    meter, pickup = _meter_and_pickup(parts[0])
    if meter is None:
        return None
    return piece_from_parts(parts, meter, pickup, str(score.metadata.title if score.metadata else ""))


def melody_piece(score) -> Piece | None:
    """A single-line piece from a music21 score (its first part)."""
    if not score.parts:
        return None
    part = score.parts[0]
    meter, pickup = _meter_and_pickup(part)
    if meter is None:
        return None
    return piece_from_parts([part], meter, pickup, str(score.metadata.title if score.metadata else ""))


def bach_chorales(progress=None) -> tuple[list[Piece], int]:
    """(pieces, skipped) of music21's 371 Bach chorales (Riemenschneider numbering)."""
    need_music21()
    from music21 import corpus

    it = corpus.chorales.Iterator(numberingSystem="riemenschneider", returnType="stream")
    return _read_pieces(it, lambda score: [chorale_piece(score)], progress, 371, "reading the Bach chorales")


def essen_files() -> list[str]:
    """The Essen collection's ABC files in music21's corpus (tests and samples excluded)."""
    music21 = need_music21()

    folder = Path(music21.__file__).parent / "corpus" / "essenFolksong"
    return sorted(str(p) for p in folder.glob("*.abc") if not p.stem.startswith("test"))


def folk_songs(progress=None, files: list[str] | None = None) -> tuple[list[Piece], int]:
    """(pieces, skipped) of the Essen folk songs (music21's ABC files; a few minutes to parse)."""
    need_music21()
    from music21 import converter

    def tunes(f: str) -> list[Piece | None]:
        opus = converter.parse(f, format="abc")
        return [_melody_or_none(score) for score in (list(opus.scores) if hasattr(opus, "scores") else [opus])]

    files = files or essen_files()
    return _read_pieces(files, tunes, progress, len(files), "reading the Essen folk songs")


def _melody_or_none(score) -> Piece | None:
    try:
        return melody_piece(score)
    except Exception:  # a tune music21 reads oddly is skipped, not fatal
        return None


def _read_pieces(items, read, progress, total: int, what: str) -> tuple[list[Piece], int]:
    """(pieces, skipped) of every piece ``read(item)`` gives for each of ``items`` (``total`` of
    them, counted by ``progress``); one unread (None) or shorter than two bars is skipped."""
    pieces, skipped = [], 0
    if progress:
        progress.start(total, what)
    for item in items:
        for p in read(item):
            if p is None or p.bars < 2:
                skipped += 1
            else:
                pieces.append(p)
        if progress:
            progress.update(1)
    return pieces, skipped


# --------------------------------------------------------------------------- MIDI

def piece_from_midi(pm, voices: int, *, what: str = "MIDI file") -> Piece:
    """A piece from a pretty_midi.PrettyMIDI: times in beats from the file's ticks, on a 16th grid.

    Tracks named Soprano/Alto/Tenor/Bass (as yingshe writes them) keep their voices; otherwise
    the melodic tracks are ordered by mean pitch (voices=4), or the top line is kept (voices=1).
    The key comes from the file's key signature when it has one, else from the notes."""
    res = pm.resolution
    tracks = [ins for ins in pm.instruments if not ins.is_drum and ins.notes]
    if not tracks:
        raise BadInput(f"{what}: no notes (or only drums)")

    def grid(t: float) -> int:
        return int(round(pm.time_to_tick(t) / res * 4))

    named = [ins.name.strip().capitalize() for ins in tracks]
    raw: list[Note] = []
    if voices == 4 and all(n in VOICE_NAMES for n in named):
        for ins, n in zip(tracks, named):
            v = VOICE_NAMES.index(n)
            raw += [Note(v, nt.pitch, grid(nt.start), max(1, grid(nt.end) - grid(nt.start))) for nt in ins.notes]
    elif voices == 4 and len(tracks) > 1:
        order = sorted(tracks, key=lambda ins: -sum(n.pitch for n in ins.notes) / len(ins.notes))[:4]
        for v, ins in enumerate(order):
            raw += [Note(v, nt.pitch, grid(nt.start), max(1, grid(nt.end) - grid(nt.start))) for nt in ins.notes]
    else:  # one track (or one line wanted): split chords top-down into voices (voices=4) or keep the top
        allnotes = [nt for ins in tracks for nt in ins.notes]
        onsets: dict[int, list] = {}
        for nt in allnotes:
            onsets.setdefault(grid(nt.start), []).append(nt)
        for s, group in onsets.items():
            group.sort(key=lambda n: -n.pitch)
            for v, nt in enumerate(group[:voices]):
                raw.append(Note(v, nt.pitch, s, max(1, grid(nt.end) - s)))
    meter = "4/4"
    if pm.time_signature_changes:
        ts = pm.time_signature_changes[0]
        meter = f"{ts.numerator}/{ts.denominator}"
        if meter not in METERS:
            raise BadInput(f"{what}: time signature {meter} is not supported (use one of {', '.join(METERS)})")
    if pm.key_signature_changes:
        key = int(pm.key_signature_changes[0].key_number)
    else:
        key = estimate_key(raw)
    end = max(n.start + n.dur for n in raw)
    bars = max(1, math.ceil(end / METERS[meter]))
    return Piece(key, meter, bars, voices, raw).normalized()


def read_midi_bytes(data: bytes, voices: int, *, what: str = "MIDI file") -> Piece:
    """A piece from Standard MIDI File bytes; anything unreadable is a one-line BadInput."""
    import pretty_midi

    if len(data) < 14 or not data.startswith(b"MThd"):
        raise BadInput(f"{what}: not a Standard MIDI File (no MThd header)")
    try:
        pm = pretty_midi.PrettyMIDI(io.BytesIO(data))
    except Exception as e:  # mido/pretty_midi raise many kinds of error on damaged files
        why = str(e).splitlines()[0][:100] if str(e).strip() else type(e).__name__
        raise BadInput(f"{what}: unreadable MIDI file ({why})") from None
    return piece_from_midi(pm, voices, what=what)


def midi_folder(folder: str, voices: int, progress=None) -> tuple[list[Piece], int]:
    root = Path(folder)
    files = sorted(p for p in root.rglob("*") if p.suffix.lower() in (".mid", ".midi") and p.is_file())
    if not files:
        raise BadInput(f"{folder!r} holds no MIDI files (*.mid, *.midi)")
    pieces, skipped = [], 0
    if progress:
        progress.start(len(files), f"reading {len(files)} MIDI files")
    for f in files:
        try:
            p = read_midi_bytes(f.read_bytes(), voices, what=str(f))
            if p.bars < 2:
                raise BadInput("too short")
            pieces.append(p)
        except (BadInput, OSError):
            skipped += 1
        if progress:
            progress.update(1)
    return pieces, skipped


def load_corpus(spec: str, voices: int | None = None, progress=None) -> tuple[list[Piece], int, int]:
    """(pieces, skipped, voices) of ``music21:bach``, ``music21:folk`` or a MIDI folder."""
    if spec == "music21:bach":
        if voices not in (None, 4):
            raise BadInput("music21:bach is four-voice: --voices must be 4")
        pieces, skipped = bach_chorales(progress)
        return pieces, skipped, 4
    if spec == "music21:folk":
        if voices not in (None, 1):
            raise BadInput("music21:folk is single-line: --voices must be 1")
        pieces, skipped = folk_songs(progress)
        return pieces, skipped, 1
    if spec.startswith("music21:"):
        raise BadInput(f"unknown corpus {spec!r} (known: music21:bach, music21:folk, or a folder of MIDI files)")
    if not os.path.isdir(spec):
        raise BadInput(f"{spec!r}: not a folder of MIDI files, nor music21:bach / music21:folk")
    v = voices or 4
    pieces, skipped = midi_folder(spec, v, progress)
    return pieces, skipped, v


# --------------------------------------------------------------------------- writing

def piece_to_pretty_midi(piece: Piece, *, tempo: float = 90.0, program: int = 19, velocity: int = 80):
    """A pretty_midi.PrettyMIDI of the piece: one track per voice (named Soprano…Bass, or
    Melody), the key and time signature as meta events, quarter note = ``tempo`` BPM."""
    import pretty_midi

    pm = pretty_midi.PrettyMIDI(resolution=480, initial_tempo=float(tempo))
    num, den = (int(x) for x in piece.meter.split("/"))
    pm.time_signature_changes.append(pretty_midi.TimeSignature(num, den, 0.0))
    pm.key_signature_changes.append(pretty_midi.KeySignature(piece.key, 0.0))
    sixteenth = 60.0 / float(tempo) / 4.0
    names = VOICE_NAMES if piece.voices == 4 else ("Melody",)
    tracks = [pretty_midi.Instrument(program=int(program), name=names[v]) for v in range(piece.voices)]
    for n in piece.notes:
        tracks[n.voice].notes.append(pretty_midi.Note(velocity=velocity, pitch=n.pitch,
                                                      start=n.start * sixteenth, end=(n.start + n.dur) * sixteenth))
    pm.instruments.extend(t for t in tracks)
    return pm


# --------------------------------------------------------------------------- cache

CACHE_FORMAT = 1


def pieces_to_json(pieces: list[Piece]) -> list:
    return [{"key": p.key, "meter": p.meter, "bars": p.bars, "voices": p.voices, "title": p.title,
             "notes": [[n.voice, n.pitch, n.start, n.dur] for n in p.notes]} for p in pieces]


def pieces_from_json(items: list) -> list[Piece]:
    return [Piece(d["key"], d["meter"], d["bars"], d["voices"], [Note(*n) for n in d["notes"]], d.get("title", ""))
            for d in items]


def cached_corpus(spec: str, voices: int | None = None, progress=None) -> tuple[list[Piece], int, int]:
    """:func:`load_corpus`, with the two music21 corpora kept in yingshe's cache folder once
    read (the Essen songs take minutes to parse)."""
    if spec not in ("music21:bach", "music21:folk"):
        return load_corpus(spec, voices, progress)
    import gzip
    import json

    music21 = need_music21()

    from yingshe.core import paths
    from yingshe.core.images import atomic_write

    name = f"melody-{spec.split(':')[1]}-m21-{music21.__version__}-v{CACHE_FORMAT}.json.gz"
    path = paths.cache_dir() / name
    if path.is_file():
        try:
            d = json.loads(gzip.decompress(path.read_bytes()))
            pieces = pieces_from_json(d["pieces"])
            if voices not in (None, d["voices"]):
                raise BadInput(f"{spec} has {d['voices']} voice(s): --voices must be {d['voices']}")
            return pieces, int(d["skipped"]), int(d["voices"])
        except (OSError, ValueError, KeyError, TypeError):
            pass  # a damaged cache is rebuilt
    pieces, skipped, v = load_corpus(spec, voices, progress)
    data = gzip.compress(json.dumps({"pieces": pieces_to_json(pieces), "skipped": skipped, "voices": v}).encode(),
                         mtime=0)
    atomic_write(path, lambda f: f.write(data))
    return pieces, skipped, v
