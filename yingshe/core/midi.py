"""MIDI in and out. A score is kept as Standard MIDI File bytes (:class:`yingshe.core.media.Midi`);
the record rides in a text meta-event (``yingshe:{...}``) at the start of the first track.

Loading refuses files that are not MIDI, are damaged, hold absurdly many events or last longer
than the limit, in one line; the file is size-checked before mido parses it.
"""

from __future__ import annotations

import io
import os

from yingshe.core.errors import BadInput
from yingshe.core.media import Midi, duration_text

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
        raise BadInput(f"{what} {str(p)!r} lasts {duration_text(length)}: more than the {duration_text(limit)} limit "
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
#: seconds after the last note ends (release and reverb)
TAIL = 1.5
#: the rendered sound is scaled to this peak (-1 dBFS): FluidSynth's level depends on the polyphony
PEAK = 0.891

INSTALL_HINT = ("rendering sound from a score needs FluidSynth: pip install pyfluidsynth, and the library "
                "(Debian/Ubuntu: apt-get install libfluidsynth3; macOS: brew install fluid-synth); "
                "or save the score as .mid")


def _fluidsynth():
    try:
        import fluidsynth  # pyfluidsynth; ImportError/OSError when libfluidsynth is absent
    except (ImportError, OSError):
        raise BadInput(INSTALL_HINT) from None
    if not hasattr(fluidsynth, "Synth"):
        raise BadInput(INSTALL_HINT + " (the 'fluidsynth' module found is not pyfluidsynth)")
    return fluidsynth


def have_fluidsynth() -> bool:
    try:
        _fluidsynth()
        return True
    except BadInput:
        return False


def render(score, *, rate: int = 44100, soundfont: str = DEFAULT_SOUNDFONT, tail: float = TAIL):
    """(stereo Audio, weights record of the soundfont): a score (:class:`Midi` or a
    pretty_midi.PrettyMIDI) played by FluidSynth. Length: the end of the last note plus ``tail``
    seconds. Each track gets its own MIDI channel (drums on channel 10) with its program.

    Deterministic: one fresh synthesizer per score, events fed at exact sample positions,
    FluidSynth's float output (no dither noise), then one fixed gain to a -1 dBFS peak, so the
    same score always gives the same samples. A clear BadInput when FluidSynth is not installed
    (the .mid output never needs it)."""
    import ctypes

    import numpy as np

    from yingshe.core import weights
    from yingshe.core.media import Audio

    fs_mod = _fluidsynth()
    sf = weights.resolve(soundfont, family_for_paths="soundfont")
    pm = score.to_pretty_midi() if isinstance(score, Midi) else score
    write_float = fs_mod.cfunc("fluid_synth_write_float", ctypes.c_int,
                               ("synth", ctypes.c_void_p, 1), ("len", ctypes.c_int, 1),
                               ("lout", ctypes.c_void_p, 1), ("loff", ctypes.c_int, 1), ("lincr", ctypes.c_int, 1),
                               ("rout", ctypes.c_void_p, 1), ("roff", ctypes.c_int, 1), ("rincr", ctypes.c_int, 1))
    # (time in samples, 0 = off / 1 = on, channel, pitch, velocity): note-offs sort before note-ons
    events, programs, melodic = [], {}, 0
    for ins in pm.instruments:
        if ins.is_drum:
            ch = 9
        else:  # channels 0-8, 10-15 (9 is the drums'); more tracks than that share channel 15
            ch = min(15, melodic if melodic < 9 else melodic + 1)
            melodic += 1
        programs[ch] = (ins.program, ins.is_drum)
        for n in ins.notes:
            events.append((int(round(n.start * rate)), 1, ch, n.pitch, n.velocity))
            events.append((int(round(n.end * rate)), 0, ch, n.pitch, 0))
    if not events:
        raise BadInput("the score has no notes to play")
    events.sort()
    total = events[-1][0] + int(round(tail * rate))
    left = np.zeros(total, dtype=np.float32)
    right = np.zeros(total, dtype=np.float32)
    synth = fs_mod.Synth(samplerate=float(rate), gain=0.2)
    try:
        sfid = synth.sfload(str(sf.path))
        if sfid == -1:
            raise BadInput(f"FluidSynth could not load the soundfont {sf.path}")
        for ch, (prog, drum) in sorted(programs.items()):
            synth.program_select(ch, sfid, 128 if drum else 0, prog)

        def play(a: int, b: int) -> None:  # synthesise samples [a, b)
            if b > a:
                write_float(synth.synth, b - a, left[a:].ctypes.data, 0, 1, right[a:].ctypes.data, 0, 1)

        t = 0
        for when, on, ch, pitch, vel in events:
            play(t, when)
            t = max(t, when)
            if on:
                synth.noteon(ch, pitch, vel)
            else:
                synth.noteoff(ch, pitch)
        play(t, total)
    finally:
        synth.delete()
    out = np.stack([left, right], axis=1)
    peak = float(np.abs(out).max())
    if peak > 0:
        out *= PEAK / peak
    return Audio(out, int(rate)), sf.record()
