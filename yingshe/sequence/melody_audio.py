"""General MIDI instruments and MusicXML for melodies.

Sound is rendered by :func:`yingshe.core.midi.render` (FluidSynth with the TimGM6mb General MIDI
soundfont that ships inside the ``pretty_midi`` wheel), the one renderer every score uses.
"""

from __future__ import annotations

import io
from pathlib import Path

from yingshe.core.errors import BadInput


# --------------------------------------------------------------------------- instruments

def parse_instrument(value: str) -> int:
    """A General MIDI program (0..127) from a number (``"19"``) or a name (``"church organ"``,
    ``"Acoustic Grand Piano"``; case, spaces and hyphens do not matter; a unique prefix will do)."""
    import pretty_midi

    text = str(value).strip()
    if text.isdigit():
        n = int(text)
        if not 0 <= n <= 127:
            raise BadInput(f"--instrument {n}: General MIDI programs are 0..127")
        return n

    def norm(s: str) -> str:
        return "".join(ch for ch in s.lower() if ch.isalnum())

    names = {norm(n): i for i, n in enumerate(pretty_midi.constants.INSTRUMENT_MAP)}
    key = norm(text)
    if key in names:
        return names[key]
    matches = sorted({i for n, i in names.items() if n.startswith(key)}) if key else []
    if len(matches) == 1:
        return matches[0]
    hint = (", ".join(pretty_midi.program_to_instrument_name(i) for i in matches[:6]) if matches
            else "e.g. 'Church Organ', 'Acoustic Grand Piano', 'Flute', 'Choir Aahs', or 0..127")
    raise BadInput(f"--instrument {value!r} is not one General MIDI instrument ({hint})")


def instrument_name(program: int) -> str:
    import pretty_midi

    return pretty_midi.program_to_instrument_name(int(program))


# --------------------------------------------------------------------------- MusicXML

def to_musicxml(midi_bytes: bytes) -> bytes:
    """A MusicXML score (bytes) of a Standard MIDI File through music21: one part per voice
    (Soprano/Alto/Tenor/Bass tracks as yingshe writes them, else one melody line), with the key,
    time signature and tempo of the file, flats spelt as flats in flat keys. The same MIDI gives
    the same bytes (music21's date stamp and random ids are fixed)."""
    import re

    from yingshe.sequence.melody_data import read_midi_bytes

    try:
        import pretty_midi

        pm = pretty_midi.PrettyMIDI(io.BytesIO(midi_bytes)) if midi_bytes.startswith(b"MThd") else None
    except Exception:
        pm = None
    if pm is None:
        raise BadInput("MusicXML: not a readable Standard MIDI File")
    tracks = [i for i in pm.instruments if not i.is_drum and i.notes]
    voices = 4 if len(tracks) > 1 else 1
    piece = read_midi_bytes(midi_bytes, voices, what="MusicXML")
    tempo = float(pm.get_tempo_changes()[1][0]) if len(pm.get_tempo_changes()[1]) else 120.0
    program = tracks[0].program if tracks else 0
    data = piece_to_musicxml(piece, tempo=tempo, program=program)
    # music21 stamps today's date and random ids into the file: make them fixed
    data = re.sub(rb"<encoding-date>[^<]*</encoding-date>", b"<encoding-date>2000-01-01</encoding-date>", data)
    ids: dict = {}
    for m in re.finditer(rb'id="([PI])([0-9a-f]{16,})"', data):
        n = sum(1 for old in ids if old[:1] == m.group(1))
        ids.setdefault(m.group(1) + m.group(2), m.group(1) + f"{n + 1}".encode())
    for old, new in ids.items():
        data = data.replace(b'"' + old + b'"', b'"' + new + b'"')
    return data


def _m21_key(k: int):
    from music21 import key as m21key

    from yingshe.sequence.melody_tokens import KEY_NAMES

    name = KEY_NAMES[k]
    tonic = name[0].upper() + name[1:].replace("b", "-")
    return m21key.Key(tonic, "minor" if k >= 12 else "major")


def piece_to_musicxml(piece, *, tempo: float = 90.0, program: int = 19) -> bytes:
    """MusicXML bytes of a :class:`~yingshe.sequence.melody_tokens.Piece` (music21 writes it)."""
    from yingshe.sequence.melody_data import need_music21

    need_music21()
    from music21 import clef, instrument, metadata, meter, note, stream
    from music21 import tempo as m21tempo
    from music21.musicxml.m21ToXml import GeneralObjectExporter

    from yingshe.sequence.melody_tokens import KEY_NAMES, VOICE_NAMES

    k = _m21_key(piece.key)
    flats = k.sharps < 0
    names = VOICE_NAMES if piece.voices == 4 else ("Melody",)
    clefs = (clef.TrebleClef, clef.TrebleClef, clef.Treble8vbClef, clef.BassClef)
    score = stream.Score()
    # music21 would call it "Music21 Fragment" by "Music21"
    score.metadata = metadata.Metadata()
    score.metadata.title = f"{'Chorale' if piece.voices == 4 else 'Melody'} in {KEY_NAMES[piece.key]}"
    score.metadata.composer = "yingshe"
    for v in range(piece.voices):
        part = stream.Part()
        part.id = names[v]
        part.partName = names[v]
        ins = instrument.Instrument()
        ins.partName = names[v]
        ins.instrumentName = instrument_name(program)
        ins.midiProgram = int(program)
        ins.instrumentId = f"I{v + 1}"
        part.insert(0, ins)
        part.insert(0, clefs[v]() if piece.voices == 4 else clef.TrebleClef())
        part.insert(0, _m21_key(piece.key))
        part.insert(0, meter.TimeSignature(piece.meter))
        if v == 0:
            part.insert(0, m21tempo.MetronomeMark(number=round(float(tempo), 2)))
        for n in piece.notes:
            if n.voice != v:
                continue
            m = note.Note(n.pitch, quarterLength=n.dur / 4)
            if flats and m.pitch.accidental is not None and m.pitch.accidental.name == "sharp":
                m.pitch = m.pitch.getEnharmonic()
            part.insert(n.start / 4, m)
        # rests up to the end of the last bar, so every part fills its bars
        part.makeRests(fillGaps=True, inPlace=True, timeRangeFromBarDuration=False)
        end = piece.length / 4
        if part.highestTime < end:
            part.insert(part.highestTime, note.Rest(quarterLength=end - part.highestTime))
        score.insert(0, part)
    return GeneralObjectExporter(score).parse()


def musicxml_from_file(path: str | Path) -> bytes:
    return to_musicxml(Path(path).read_bytes())


def write_wav_bytes(audio) -> bytes:
    """16-bit WAV bytes (for quick listening in tests and benchmarks)."""
    import soundfile as sf

    buf = io.BytesIO()
    sf.write(buf, audio.pcm16(), audio.rate, format="WAV", subtype="PCM_16")
    return buf.getvalue()
