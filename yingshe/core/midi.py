"""MIDI in and out. A score is kept as Standard MIDI File bytes (:class:`yingshe.core.media.Midi`);
the record rides in a text meta-event (``yingshe:{...}``) at the start of the first track.

Loading refuses files that are not MIDI, are damaged, hold absurdly many events or last longer
than the limit, in one line; the file is size-checked before mido parses it.
"""

from __future__ import annotations

import io
import os

from yingshe.core.errors import BadInput
from yingshe.core.media import Midi

#: Longest score accepted by default (``$YINGSHE_MAX_AUDIO_SECONDS`` applies here too).
MAX_SECONDS = float(os.environ.get("YINGSHE_MAX_AUDIO_SECONDS", 20 * 60))
MAX_BYTES = 32 << 20
MAX_EVENTS = 2_000_000
MIDI_EXTS = (".mid", ".midi", ".smf", ".kar")


def load_midi(path: str | os.PathLike, *, what: str = "MIDI", max_seconds: float | None = None) -> Midi:
    import mido

    from yingshe.core.files import check_file

    limit = MAX_SECONDS if max_seconds is None else float(max_seconds)
    p = check_file(path, what)
    if p.stat().st_size > MAX_BYTES:
        raise BadInput(f"{what} {str(p)!r} is larger than the {MAX_BYTES >> 20} MB limit for a MIDI file")
    data = p.read_bytes()
    if not data.startswith(b"MThd"):
        raise BadInput(f"{what} {str(p)!r} is not a MIDI file (no MThd header)")
    try:
        mid = mido.MidiFile(file=io.BytesIO(data))
        events = sum(len(t) for t in mid.tracks)
        if events > MAX_EVENTS:
            raise BadInput(f"{what} {str(p)!r} holds {events:,} events: more than the {MAX_EVENTS:,} limit")
        length = mid.length if mid.type != 2 else 0.0
    except BadInput:
        raise
    except Exception as e:  # mido raises OSError, EOFError, ValueError, KeyError... on damaged bytes
        text = str(e).strip().splitlines()[0][:80] if str(e).strip() else type(e).__name__
        raise BadInput(f"{what} {str(p)!r} is a damaged MIDI file ({text})") from None
    if length > limit:
        raise BadInput(f"{what} {str(p)!r} lasts {length / 60:.1f} min: more than the {limit / 60:.1f} min limit "
                       "(raise it with --max-seconds)")
    if not any(m.type == "note_on" and m.velocity > 0 for t in mid.tracks for m in t):
        raise BadInput(f"{what} {str(p)!r} holds no notes")
    return Midi(data)


def midi_bytes(midi: Midi, record_json: str | None = None) -> bytes:
    """The score with the record as a text meta-event at time 0 of the first track (an earlier
    yingshe record there is replaced, so a re-saved score carries only its own)."""
    if record_json is None:
        return midi.data
    import mido

    from yingshe.core.records import MIDI_PREFIX

    mid = mido.MidiFile(file=io.BytesIO(midi.data))
    if not mid.tracks:
        mid.tracks.append(mido.MidiTrack())
    track = mid.tracks[0]
    kept = [m for m in track if not (m.is_meta and m.type == "text" and m.text.startswith(MIDI_PREFIX))]
    # ASCII JSON: MIDI text is bytes (mido writes latin-1), and any byte value survives readers
    first = mido.MetaMessage("text", text=MIDI_PREFIX + record_json, time=0)
    if kept:  # keep the first event's timing: the meta-event takes no time
        track[:] = [first] + kept
    else:
        track[:] = [first, mido.MetaMessage("end_of_track", time=0)]
    buf = io.BytesIO()
    mid.save(file=buf)
    return buf.getvalue()


# --------------------------------------------------------------------------- sound from a score

#: the General MIDI soundfont that pretty_midi ships (TimGM6mb, GPL-2, 6 MB), through core.weights
DEFAULT_SOUNDFONT = "gm-soundfont"


def render(midi: Midi, *, rate: int = 44100, soundfont: str = DEFAULT_SOUNDFONT):
    """(Audio, weights record of the soundfont): the score played by FluidSynth, deterministic
    for the same score, soundfont and rate. A clear BadInput when FluidSynth is not installed
    (the .mid output never needs it)."""
    import numpy as np

    from yingshe.core import weights
    from yingshe.core.media import Audio

    sf = weights.resolve(soundfont, family_for_paths="soundfont")
    try:
        import fluidsynth  # noqa: F401  (pyfluidsynth; needs the libfluidsynth shared library)
    except (ImportError, OSError):
        raise BadInput("rendering sound from a score needs FluidSynth: pip install pyfluidsynth, and the library "
                       "(Debian/Ubuntu: apt-get install libfluidsynth3; macOS: brew install fluid-synth); "
                       "or save the score as .mid") from None
    pm = midi.to_pretty_midi()
    if not any(inst.notes for inst in pm.instruments):
        raise BadInput("the score has no notes to play")
    samples = pm.fluidsynth(fs=int(rate), synthesizer=str(sf.path))
    peak = float(np.abs(samples).max()) if samples.size else 0.0
    if peak > 0:
        samples = samples / peak * 0.89  # -1 dBFS: FluidSynth's level depends on the polyphony
    tail = int(rate * 0.5)  # let the last notes ring for half a second, then stop
    end = min(len(samples), int(round(pm.get_end_time() * rate)) + tail)
    return Audio(samples[:end].astype(np.float32), int(rate)), sf.record()
