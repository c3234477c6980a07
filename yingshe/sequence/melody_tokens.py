"""Music as tokens: the event vocabulary the ``melody`` models read and write.

A piece (:class:`Piece`: a key, a metre, a number of bars and its notes on a sixteenth-note grid)
becomes one sequence of *events*, in the manner of REMI (Huang & Yang, "Pop Music Transformer",
2020) with one *voice* token per note, like MidiTok's REMI with programs::

    <bos> key:G meter:3/4
    bar:8 pos:0  voice:S pitch:67 dur:4  voice:A pitch:62 dur:4  voice:T pitch:59 dur:4  voice:B pitch:43 dur:4
          pos:4  voice:S pitch:69 dur:2  ...
    bar:7 pos:0  ...
    ...
    bar:1 pos:0  voice:S pitch:67 dur:12 ... <eos>

- ``key:X`` — the key of the piece: ``C Db D Eb E F F# G Ab A Bb B`` (major) or ``c c# d eb e f
  f# g g# a bb b`` (minor). It conditions the whole piece; the training data is transposed into
  all twelve keys, so every key token is seen.
- ``meter:N/D`` — the time signature (:data:`METERS`); it fixes the bar length in sixteenths.
- ``bar:K`` — a new bar; K counts the bars left *including this one*, capped at 8 (``bar:8``
  means "8 or more to go"), so the model knows when the final cadence is due.
- ``pos:P`` — where the following notes start, in sixteenths from the bar line (0..23).
- ``voice:V`` — which voice sings the next note: S, A, T, B (four-voice chorales only; single-line
  melodies leave it out). At one position the voices come in the order S, A, T, B.
- ``pitch:N`` — the MIDI note number (21..108); ``dur:D`` — the length in sixteenths (1..32).

Rests are the gaps between notes; a note tied over a bar line is one long note. The vocabulary
is fixed (:func:`vocabulary`, 214 tokens) and stored inside every model file, with its
fingerprint, so a model can never be sampled with another vocabulary.

:class:`Grammar` follows a sequence token by token and says which tokens may come next: the
events above in their order, a bar count, each voice silent before its next note starts, and
(when asked) only notes of the key's scale and of each voice's range, and no parallel perfect
fifths or octaves between two voices. Sampling with it
(constrained decoding) can only produce a well-formed piece, whatever the network says.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, replace
from typing import Iterable, Sequence

import numpy as np

# --------------------------------------------------------------------------- musical constants

MAJOR_NAMES = ("C", "Db", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")
MINOR_NAMES = ("c", "c#", "d", "eb", "e", "f", "f#", "g", "g#", "a", "bb", "b")
#: key index k: tonic pitch class k % 12, minor when k >= 12 (pretty_midi's key_number too)
KEY_NAMES = MAJOR_NAMES + MINOR_NAMES
#: other spellings accepted for --key
KEY_ALIASES = {"C#": "Db", "D#": "Eb", "Gb": "F#", "G#": "Ab", "A#": "Bb", "Cb": "B",
               "db": "c#", "d#": "eb", "gb": "f#", "ab": "g#", "a#": "bb"}

#: scale degrees (semitones above the tonic) counted as "in the key": the major scale; for
#: minor the natural minor plus the raised 6th and 7th (melodic and harmonic minor)
MAJOR_SCALE = (0, 2, 4, 5, 7, 9, 11)
MINOR_SCALE = (0, 2, 3, 5, 7, 8, 9, 10, 11)

#: time signatures and their bar lengths in sixteenths
METERS = {"4/4": 16, "3/4": 12, "2/4": 8, "2/2": 16, "3/2": 24, "6/4": 24, "5/4": 20,
          "3/8": 6, "6/8": 12, "9/8": 18, "12/8": 24}

VOICES = ("S", "A", "T", "B")
VOICE_NAMES = ("Soprano", "Alto", "Tenor", "Bass")
#: textbook SATB ranges (MIDI numbers, inclusive): S C4–G5, A G3–D5, T C3–G4, B E2–C4
SATB_RANGES = ((60, 79), (55, 74), (48, 67), (40, 60))
#: the range of a single-line melody (G3–C6)
MELODY_RANGE = (55, 84)

MAX_BARS_LEFT = 8  # bar:8 = eight or more bars to go
MAX_POS = 24  # positions 0..23 (the longest bar is 24 sixteenths)
MIN_PITCH, MAX_PITCH = 21, 108  # the piano's keys
MAX_DUR = 32  # two bars of 4/4

PAD, BOS, EOS = "<pad>", "<bos>", "<eos>"


def key_name(k: int) -> str:
    return KEY_NAMES[k]


def parse_key(name: str) -> int:
    """Key index of a name (``"F#"``, ``"bb"``, ``"Eb"``, or an alias such as ``"A#"``)."""
    name = KEY_ALIASES.get(name, name)
    if name not in KEY_NAMES:
        raise ValueError(f"unknown key {name!r}")
    return KEY_NAMES.index(name)


def scale_pitch_classes(key: int) -> frozenset[int]:
    """Pitch classes in the key (see :data:`MAJOR_SCALE`, :data:`MINOR_SCALE`)."""
    tonic, minor = key % 12, key >= 12
    return frozenset((tonic + d) % 12 for d in (MINOR_SCALE if minor else MAJOR_SCALE))


def voice_range(voice: int, voices: int) -> tuple[int, int]:
    return SATB_RANGES[voice] if voices == 4 else MELODY_RANGE


# --------------------------------------------------------------------------- pieces

@dataclass(frozen=True)
class Note:
    voice: int  # 0..3 = S, A, T, B (0 for a single line)
    pitch: int  # MIDI note number
    start: int  # sixteenths from the first bar line
    dur: int  # sixteenths


@dataclass
class Piece:
    """Notes on a sixteenth grid, in ``bars`` bars of ``meter``, in ``key`` (index into KEY_NAMES)."""

    key: int
    meter: str
    bars: int
    voices: int  # 4 (SATB) or 1 (a single line)
    notes: list[Note] = field(default_factory=list)
    title: str = ""

    @property
    def bar_len(self) -> int:
        return METERS[self.meter]

    @property
    def length(self) -> int:
        """Sixteenths in the whole piece."""
        return self.bars * self.bar_len

    def normalized(self) -> "Piece":
        """The canonical form the tokens describe: notes inside the piece and the token ranges,
        at most one note per voice and onset (the highest), each voice silent before its next
        note starts (a longer note is cut), sorted by (start, voice)."""
        end = self.length
        by_voice: dict[int, dict[int, Note]] = {}
        for n in self.notes:
            if not 0 <= n.voice < self.voices or n.dur < 1 or not 0 <= n.start < end:
                continue
            p = n.pitch
            while p < MIN_PITCH:
                p += 12
            while p > MAX_PITCH:
                p -= 12
            n = Note(n.voice, p, n.start, min(n.dur, MAX_DUR, end - n.start))
            slot = by_voice.setdefault(n.voice, {})
            if n.start not in slot or n.pitch > slot[n.start].pitch:
                slot[n.start] = n
        out = []
        for v, slot in by_voice.items():
            ns = sorted(slot.values(), key=lambda n: n.start)
            for a, b in zip(ns, ns[1:] + [None]):
                if b is not None and a.start + a.dur > b.start:
                    a = replace(a, dur=b.start - a.start)
                out.append(a)
        out.sort(key=lambda n: (n.start, n.voice))
        return replace(self, notes=out)

    def transposed(self, semitones: int) -> "Piece":
        k = (self.key % 12 + semitones) % 12 + (12 if self.key >= 12 else 0)
        return replace(self, key=k, notes=[replace(n, pitch=n.pitch + semitones) for n in self.notes])

    def truncated(self, bars: int) -> "Piece":
        """The first ``bars`` bars (notes cut at the new end)."""
        end = bars * self.bar_len
        notes = [replace(n, dur=min(n.dur, end - n.start)) for n in self.notes if n.start < end]
        return replace(self, bars=bars, notes=notes)


def estimate_key(notes: Sequence[Note]) -> int:
    """Krumhansl–Schmuckler key finding: correlate the piece's pitch-class counts with the
    Krumhansl–Kessler major and minor profiles in all 12 transpositions (counting notes rather
    than weighting them by length agrees with music21's ``analyze('key')`` more often on the
    chorales: long held dominants pull a duration-weighted profile a fifth up)."""
    major = np.array([6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88])
    minor = np.array([6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17])
    hist = np.zeros(12)
    for n in notes:
        hist[n.pitch % 12] += 1
    if hist.sum() == 0:
        return 0
    scores = [np.corrcoef(hist, np.roll(prof, t))[0, 1] for prof in (major, minor) for t in range(12)]
    scores = np.nan_to_num(np.array(scores), nan=-2.0)
    return int(np.argmax(scores))


# --------------------------------------------------------------------------- vocabulary

def vocabulary() -> list[str]:
    toks = [PAD, BOS, EOS]
    toks += [f"key:{k}" for k in KEY_NAMES]
    toks += [f"meter:{m}" for m in METERS]
    toks += [f"bar:{k}" for k in range(1, MAX_BARS_LEFT + 1)]
    toks += [f"pos:{p}" for p in range(MAX_POS)]
    toks += [f"voice:{v}" for v in VOICES]
    toks += [f"pitch:{p}" for p in range(MIN_PITCH, MAX_PITCH + 1)]
    toks += [f"dur:{d}" for d in range(1, MAX_DUR + 1)]
    return toks


class MusicTokenizer:
    """Pieces ↔ token ids (see the module docstring). ``voices`` is 4 (SATB) or 1 (one line)."""

    kind = "music-events"

    def __init__(self, voices: int = 4, tokens: list[str] | None = None):
        if voices not in (1, 4):
            raise ValueError("voices must be 1 or 4")
        self.voices = voices
        self.tokens = list(tokens) if tokens is not None else vocabulary()
        self.index = {t: i for i, t in enumerate(self.tokens)}
        self.pad, self.bos, self.eos = self.index[PAD], self.index[BOS], self.index[EOS]
        ix = self.index
        self.key0 = ix["key:C"]
        self.meter_ids = {m: ix[f"meter:{m}"] for m in METERS}
        self.bar0 = ix["bar:1"]  # bar:k = bar0 + k - 1
        self.pos0 = ix["pos:0"]
        self.voice0 = ix["voice:S"]
        self.pitch0 = ix[f"pitch:{MIN_PITCH}"]
        self.dur0 = ix["dur:1"]

    def __len__(self) -> int:
        return len(self.tokens)

    # ids of each event
    def key_id(self, k: int) -> int:
        return self.key0 + k

    def bar_id(self, left: int) -> int:
        return self.bar0 + min(left, MAX_BARS_LEFT) - 1

    def pos_id(self, p: int) -> int:
        return self.pos0 + p

    def voice_id(self, v: int) -> int:
        return self.voice0 + v

    def pitch_id(self, p: int) -> int:
        return self.pitch0 + p - MIN_PITCH

    def dur_id(self, d: int) -> int:
        return self.dur0 + d - 1

    def kind_of(self, i: int) -> str:
        t = self.tokens[i]
        return t.split(":", 1)[0] if ":" in t else t

    # ------------------------------------------------------------------ pieces <-> ids
    def header(self, key: int, meter: str) -> list[int]:
        return [self.bos, self.key_id(key), self.meter_ids[meter]]

    def encode(self, piece: Piece, *, bars: int | None = None, total_bars: int | None = None,
               eos: bool = True) -> list[int]:
        """Token ids of ``piece``. ``bars`` encodes only the first bars (a prompt) and
        ``total_bars`` counts bars left as if the piece were that long."""
        if piece.voices != self.voices:
            raise ValueError(f"a {piece.voices}-voice piece for a {self.voices}-voice tokenizer")
        piece = piece.normalized()
        total = total_bars or piece.bars
        upto = piece.bars if bars is None else bars
        ids = self.header(piece.key, piece.meter)
        bl = piece.bar_len
        notes = piece.notes
        i = 0
        for b in range(upto):
            ids.append(self.bar_id(total - b))
            while i < len(notes) and notes[i].start < (b + 1) * bl:
                pos = notes[i].start - b * bl
                ids.append(self.pos_id(pos))
                while i < len(notes) and notes[i].start == b * bl + pos:
                    n = notes[i]
                    if self.voices > 1:
                        ids.append(self.voice_id(n.voice))
                    ids += [self.pitch_id(n.pitch), self.dur_id(n.dur)]
                    i += 1
        if eos and upto >= total:
            ids.append(self.eos)
        return ids

    def decode(self, ids: Iterable[int]) -> Piece:
        """The piece a token sequence describes (tokens out of place are skipped)."""
        key, meter, bars = 0, "4/4", 0
        notes: list[Note] = []
        pos = voice = pitch = None
        for i in ids:
            i = int(i)
            if not 0 <= i < len(self.tokens):
                continue
            t = self.tokens[i]
            kind, _, val = t.partition(":")
            if t == EOS:
                break
            if kind == "key":
                key = parse_key(val)
            elif kind == "meter":
                meter = val
            elif kind == "bar":
                bars += 1
                pos = voice = pitch = None
            elif kind == "pos" and bars:
                pos, voice, pitch = int(val), (0 if self.voices == 1 else None), None
            elif kind == "voice" and pos is not None:
                voice, pitch = VOICES.index(val), None
            elif kind == "pitch" and voice is not None:
                pitch = int(val)
            elif kind == "dur" and pitch is not None:
                notes.append(Note(voice, pitch, (bars - 1) * METERS[meter] + pos, int(val)))
                pitch = None
                if self.voices == 1:
                    voice = None
        return Piece(key, meter, bars, self.voices, notes).normalized()

    def describe(self, ids: Iterable[int]) -> str:
        return " ".join(self.tokens[int(i)] for i in ids)

    # ------------------------------------------------------------------ storage (inside model files)
    def to_meta(self) -> dict:
        return {"kind": self.kind, "voices": self.voices, "tokens": self.tokens, "sha256": self.fingerprint()}

    @classmethod
    def from_meta(cls, meta: dict) -> "MusicTokenizer":
        from yingshe.core.errors import WeightsError

        if not isinstance(meta, dict) or meta.get("kind") != cls.kind or not isinstance(meta.get("tokens"), list):
            raise WeightsError("the model file has no music tokenizer inside (not a yingshe melody model?)")
        if meta["tokens"] != vocabulary():
            raise WeightsError("the model's music vocabulary differs from this version of yingshe's")
        tok = cls(int(meta.get("voices", 4)), meta["tokens"])
        if meta.get("sha256") != tok.fingerprint():
            raise WeightsError("the tokenizer stored in the model file is damaged (fingerprint mismatch)")
        return tok

    def fingerprint(self) -> str:
        return hashlib.sha256(json.dumps(self.tokens).encode()).hexdigest()


# --------------------------------------------------------------------------- the grammar

@dataclass
class Constraints:
    """What constrained decoding enforces besides the event grammar."""

    bars: int  # the piece has exactly this many bars
    key: int | None = None  # the piece's key (None: the model chooses the key token)
    in_key: bool = True  # only notes of the piece's key's scale (whichever key it is)
    ranges: bool = True  # each voice inside its range (SATB_RANGES / MELODY_RANGE)
    downbeat_start: bool = True  # the first notes start on the first bar line (no upbeat)
    no_parallels: bool = False  # no parallel perfect fifths or octaves between two voices
    #: end on the tonic: the last bar is one chord (one note) from its downbeat to the end, the
    #: lowest voice on the tonic and the others on notes of the tonic triad
    cadence: bool = False
    meters: tuple[str, ...] = tuple(METERS)  # the metres the piece may have


class Grammar:
    """Follows a token sequence and says which tokens may come next (:meth:`allowed`).

    Build it with the tokenizer and :class:`Constraints`, then :meth:`advance` it with every
    token of the prompt and of the output. Tokens given to :meth:`advance` are not checked
    against the constraints (a prompt from a user's file may leave the key); only what
    :meth:`allowed` offers is. ``done`` is True after ``<eos>``.
    """

    START, HEAD_KEY, HEAD_METER, BODY, AFTER_POS, AFTER_VOICE, AFTER_PITCH, DONE = range(8)

    def __init__(self, tok: MusicTokenizer, cons: Constraints):
        self.tok, self.cons = tok, cons
        self.state = self.START
        self.meter = None
        self.bars_done = 0
        self.pos = -1  # position in the current bar (-1: none yet)
        self.last_voice = -1  # the last voice written at this position
        self.voice = 0
        self.pitch = 0
        self.voice_end = [0] * tok.voices  # where each voice's last note ends (sixteenths)
        self.history: list[list[tuple[int, int, int]]] = [[] for _ in range(tok.voices)]  # (start, end, pitch)
        self.onset = self.prev_onset = None  # the current and the previous onset times
        self.tokens: list[int] = []
        # token masks, built once
        self.m_keys = self._mask(range(tok.key0, tok.key0 + 24))
        self.m_meters = self._mask(tok.meter_ids[m] for m in cons.meters)
        self.m_eos = self._mask([tok.eos])
        self.key = cons.key
        self._pitch_masks()

    def _pitch_masks(self) -> None:
        """Per voice: the pitches its range and (once the key is known) the key's scale allow."""
        tok, cons = self.tok, self.cons
        pcs = (scale_pitch_classes(self.key) if cons.in_key and self.key is not None
               else frozenset(range(12)))
        self.m_pitch = []
        for v in range(tok.voices):
            lo, hi = voice_range(v, tok.voices) if cons.ranges else (MIN_PITCH, MAX_PITCH)
            self.m_pitch.append(self._mask(tok.pitch_id(p) for p in range(lo, hi + 1) if p % 12 in pcs))

    def _mask(self, ids) -> np.ndarray:
        m = np.zeros(len(self.tok), dtype=bool)
        m[list(ids)] = True
        return m

    # ------------------------------------------------------------------ queries
    @property
    def done(self) -> bool:
        return self.state == self.DONE

    @property
    def bar_len(self) -> int:
        return METERS[self.meter] if self.meter else 16

    @property
    def now(self) -> int:
        """The current onset, in sixteenths from the start."""
        return (self.bars_done - 1) * self.bar_len + self.pos

    def _free_voices(self, t: int, after: int) -> list[int]:
        return [v for v in range(after + 1, self.tok.voices) if self.voice_end[v] <= t]

    def _next_bar(self, m: np.ndarray) -> None:
        left = self.cons.bars - self.bars_done
        if left > 0:
            m[self.tok.bar_id(left)] = True
        else:
            m[self.tok.eos] = True

    def allowed(self) -> np.ndarray:
        """Boolean mask over the vocabulary: the tokens that may come next."""
        tok, s = self.tok, self.state
        if s == self.START:
            return self._mask([tok.bos])
        if s == self.HEAD_KEY:
            m = self.m_keys.copy()
            if self.cons.key is not None:
                m[:] = False
                m[tok.key_id(self.cons.key)] = True
            return m
        if s == self.HEAD_METER:
            return self.m_meters.copy()
        m = np.zeros(len(tok), dtype=bool)
        if s == self.DONE:
            m[tok.eos] = True
            return m
        if s == self.BODY:
            if self.bars_done == 0:
                self._next_bar(m)
                return m
            if self.final_bar:  # the closing chord: every voice at the downbeat, in order, then the end
                if self.pos < 0:
                    m[tok.pos_id(0)] = True
                    return m
                free = self._free_voices(self.now, self.last_voice) if tok.voices > 1 else []
                if free:
                    m[tok.voice_id(free[0])] = True
                else:
                    m[tok.eos] = True
                return m
            if self.last_voice >= 0 and tok.voices > 1:  # more voices at this onset
                for v in self._free_voices(self.now, self.last_voice):
                    m[tok.voice_id(v)] = True
            start = (self.bars_done - 1) * self.bar_len
            first_onset = self.bars_done == 1 and self.pos < 0 and self.cons.downbeat_start
            for p in range(self.pos + 1, self.bar_len if not first_onset else 1):
                if self._free_voices(start + p, -1):
                    m[tok.pos_id(p)] = True
            if not (first_onset and m.any()):
                self._next_bar(m)
            return m
        if s == self.AFTER_POS:  # a voice (SATB), or the pitch of the single line
            if tok.voices == 1:
                return self.m_pitch[0].copy()
            free = self._free_voices(self.now, self.last_voice)
            for v in free[:1] if self.final_bar else free:
                m[tok.voice_id(v)] = True
            return m
        if s == self.AFTER_VOICE:
            m = self.m_pitch[self.voice].copy()
            if self.final_bar and self.key is not None:
                c = m & self._cadence_mask(self.voice == tok.voices - 1)
                if c.any():
                    m = c
            if self.cons.no_parallels and tok.voices > 1:
                ok = m & ~self._parallel_pitches()
                if ok.any():
                    m = ok
            return m
        if s == self.AFTER_PITCH:
            left = self.cons.bars * self.bar_len - self.now
            if self.final_bar:  # the closing chord lasts to the end
                m[tok.dur_id(max(1, min(MAX_DUR, left)))] = True
                return m
            if self.cons.cadence:  # every voice is free at the last downbeat
                left = min(left, (self.cons.bars - 1) * self.bar_len - self.now)
            for d in range(1, max(1, min(MAX_DUR, left)) + 1):
                m[tok.dur_id(d)] = True
            return m
        raise AssertionError(s)

    @property
    def final_bar(self) -> bool:
        """True inside the last bar when the piece must close with a held tonic chord."""
        return self.cons.cadence and self.bars_done == self.cons.bars

    def _cadence_mask(self, lowest: bool) -> np.ndarray:
        """Pitches of the closing chord: the tonic for the lowest voice (or a single line); the
        tonic triad for the others (in minor with ``in_key`` off, the major third too: Bach's
        Picardy third)."""
        tonic, minor = self.key % 12, self.key >= 12
        pcs = {tonic} if lowest else {tonic, (tonic + (3 if minor else 4)) % 12, (tonic + 7) % 12}
        if minor and not lowest and not self.cons.in_key:
            pcs.add((tonic + 4) % 12)
        return self._mask(self.tok.pitch_id(p) for p in range(MIN_PITCH, MAX_PITCH + 1) if p % 12 in pcs)

    def _sounding(self, v: int, t: int | None, back: int) -> int | None:
        """The pitch voice ``v`` sounds at time ``t``, looking at its notes before the last ``back``."""
        h = self.history[v]
        if t is None or len(h) <= back:
            return None
        start, end, pitch = h[-1 - back]
        return pitch if start <= t < end else None

    def _parallel_pitches(self) -> np.ndarray:
        """Pitches that would make parallel fifths or octaves with a voice already placed at this
        onset: both voices move the same way from the previous onset, a perfect fifth (or octave,
        unison) apart before and after (modulo octaves). In the closing chord the lowest voice is
        not free (it must take the tonic), so a voice above it also avoids the pitches that would
        make parallels with every tonic the lowest voice can still take."""
        banned = np.zeros(len(self.tok), dtype=bool)
        v, t, t0 = self.voice, self.onset, self.prev_onset
        p0 = self._sounding(v, t0, 0)
        if p0 is None:
            return banned
        moves = []  # (the other voice's pitch at t0, its pitches at t) for each voice to respect
        for u in range(v):
            h = self.history[u]
            if h and h[-1][0] == t:  # u moved to this onset (else it holds or rests: no motion)
                moves.append((self._sounding(u, t0, 1), [h[-1][2]]))
        low = self.tok.voices - 1
        if self.final_bar and self.key is not None and v < low:
            tonics = self.m_pitch[low] & self._cadence_mask(True)
            moves.append((self._sounding(low, t0, 0),
                          [q for q in range(MIN_PITCH, MAX_PITCH + 1) if tonics[self.tok.pitch_id(q)]]))
        for q0, qs in moves:
            if q0 is None or not qs or abs(p0 - q0) % 12 not in (0, 7):
                continue
            ic = abs(p0 - q0) % 12
            for p in range(MIN_PITCH, MAX_PITCH + 1):
                # p is banned when every pitch the other voice can have makes a parallel with it
                if p != p0 and all(q != q0 and (p > p0) == (q > q0) and abs(p - q) % 12 == ic for q in qs):
                    banned[self.tok.pitch_id(p)] = True
        return banned

    # ------------------------------------------------------------------ consuming tokens
    def advance(self, i: int) -> None:
        tok = self.tok
        t = tok.tokens[int(i)]
        kind, _, val = t.partition(":")
        self.tokens.append(int(i))
        s = self.state
        if t == BOS:
            self.state = self.HEAD_KEY
            return
        if t == EOS:
            self.state = self.DONE
        elif kind == "key":
            self.key = parse_key(val)
            self._pitch_masks()
            self.state = self.HEAD_METER
        elif kind == "meter":
            self.meter = val
            self.state = self.BODY
        elif kind == "bar":
            self.bars_done += 1
            self.pos, self.last_voice = -1, -1
            self.state = self.BODY
        elif kind == "pos":
            self.pos, self.last_voice = int(val), -1
            if self.now != self.onset:
                self.prev_onset, self.onset = self.onset, self.now
            self.state = self.AFTER_POS
            if tok.voices == 1:
                self.voice = 0
                self.state = self.AFTER_VOICE
        elif kind == "voice":
            self.voice = VOICES.index(val)
            self.state = self.AFTER_VOICE
        elif kind == "pitch":
            self.pitch = int(val)
            self.state = self.AFTER_PITCH
        elif kind == "dur":
            self.voice_end[self.voice] = self.now + int(val)
            self.history[self.voice].append((self.now, self.now + int(val), self.pitch))
            self.last_voice = self.voice
            self.state = self.BODY
        else:
            raise ValueError(f"token {t!r} cannot appear in a piece (state {s})")

    def accepts(self, ids: Iterable[int]) -> bool:
        """True when every token of ``ids`` is one :meth:`allowed` offers (a validity check)."""
        for i in ids:
            if not self.allowed()[int(i)]:
                return False
            self.advance(int(i))
        return True
