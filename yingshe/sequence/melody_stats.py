"""Music statistics of pieces, measured the same way on Bach's chorales and on generated ones.

- ``in_key``: share of notes whose pitch class belongs to the piece's key (the major scale; for
  minor keys the natural minor plus the raised 6th and 7th). A corpus piece's key is found by
  Krumhansl–Schmuckler key finding; a generated piece's is its key token.
- ``in_range``: share of notes inside their voice's range (SATB: S C4–G5, A G3–D5, T C3–G4,
  B E2–C4; one line: G3–C6).
- ``parallels``: parallel perfect fifths and octaves (unisons included) per 100 beats (quarter
  notes): between two successive onsets of the piece, two voices that both sound at both times,
  both move in the same direction, and form a perfect fifth (or octave/unison, modulo octaves)
  at both times.
- ``final_tonic``: the last note of the top voice (and of the bass, for four voices) is the tonic.
"""

from __future__ import annotations

from yingshe.sequence.melody_tokens import Piece, scale_pitch_classes, voice_range


def sounding(piece: Piece) -> tuple[list[int], list[list[int | None]]]:
    """(onset times, for each onset the pitch each voice sounds then, or None)."""
    onsets = sorted({n.start for n in piece.notes})
    by_voice: list[list] = [[] for _ in range(piece.voices)]
    for n in piece.notes:
        by_voice[n.voice].append(n)
    grid = []
    for t in onsets:
        row = []
        for v in range(piece.voices):
            p = None
            for n in by_voice[v]:
                if n.start <= t < n.start + n.dur:
                    p = n.pitch
                    break
            row.append(p)
        grid.append(row)
    return onsets, grid


def parallels(piece: Piece) -> tuple[int, int]:
    """(parallel fifths, parallel octaves/unisons) between successive onsets."""
    onsets, grid = sounding(piece)
    fifths = octaves = 0
    V = piece.voices
    for a, b in zip(grid, grid[1:]):
        for i in range(V):
            for j in range(i + 1, V):
                if None in (a[i], a[j], b[i], b[j]):
                    continue
                mi, mj = b[i] - a[i], b[j] - a[j]
                if mi == 0 or mj == 0 or (mi > 0) != (mj > 0):
                    continue
                ia, ib = abs(a[i] - a[j]) % 12, abs(b[i] - b[j]) % 12
                if ia == ib == 7:
                    fifths += 1
                elif ia == ib == 0:
                    octaves += 1
    return fifths, octaves


def beats(piece: Piece) -> float:
    """Quarter notes from the first onset to the last note's end."""
    if not piece.notes:
        return 0.0
    return (max(n.start + n.dur for n in piece.notes) - min(n.start for n in piece.notes)) / 4


def stats(pieces: list[Piece]) -> dict:
    """Totals over ``pieces`` (shares of notes, parallels per 100 beats, share of pieces)."""
    notes = in_key = in_range = 0
    fifths = octaves = 0
    total_beats = 0.0
    final_top = final_bass = 0
    for p in pieces:
        pcs = scale_pitch_classes(p.key)
        for n in p.notes:
            notes += 1
            in_key += n.pitch % 12 in pcs
            lo, hi = voice_range(n.voice, p.voices)
            in_range += lo <= n.pitch <= hi
        if p.voices > 1:
            f, o = parallels(p)
            fifths, octaves = fifths + f, octaves + o
        total_beats += beats(p)
        tonic = p.key % 12
        top = [n for n in p.notes if n.voice == 0]
        bass = [n for n in p.notes if n.voice == p.voices - 1]
        final_top += bool(top) and top[-1].pitch % 12 == tonic
        final_bass += bool(bass) and bass[-1].pitch % 12 == tonic
    per100 = 100.0 / total_beats if total_beats else 0.0
    out = {"pieces": len(pieces), "notes": notes, "beats": round(total_beats, 1),
           "in_key": in_key / max(1, notes), "in_range": in_range / max(1, notes),
           "final_top_tonic": final_top / max(1, len(pieces))}
    if pieces and pieces[0].voices > 1:
        out |= {"parallel_fifths_per_100_beats": fifths * per100, "parallel_octaves_per_100_beats": octaves * per100,
                "final_bass_tonic": final_bass / max(1, len(pieces))}
    return out
