"""The melody mapping: music events, constrained decoding, MIDI/audio/MusicXML, training, errors."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from yingshe.core.errors import BadInput, WeightsError
from yingshe.core.media import Midi
from yingshe.sequence.melody_data import piece_from_midi, piece_to_pretty_midi, read_midi_bytes
from yingshe.sequence.melody_tokens import (SATB_RANGES, Constraints, Grammar, MusicTokenizer, Note, Piece,
                                            parse_key, scale_pitch_classes, voice_range)


def chorale_piece() -> Piece:
    """Two bars and a half of four voices in G major, 3/4, with an upbeat, a tie over the bar
    line, rests and an eighth-note passing note."""
    S = [(67, 8, 4), (67, 12, 8), (69, 20, 4), (71, 24, 6), (72, 30, 2), (74, 32, 12)]
    A = [(62, 8, 4), (62, 12, 4), (64, 16, 8), (66, 24, 8), (67, 32, 12)]
    T = [(59, 8, 4), (59, 12, 4), (60, 16, 4), (62, 24, 4), (62, 28, 4), (59, 32, 12)]
    B = [(43, 8, 4), (55, 12, 4), (52, 16, 4), (50, 24, 8), (43, 32, 12)]
    notes = [Note(v, p, s, d) for v, part in enumerate((S, A, T, B)) for p, s, d in part]
    return Piece(parse_key("G"), "3/4", 4, 4, notes).normalized()


def folk_piece() -> Piece:
    line = [(67, 0, 4), (71, 4, 4), (74, 8, 6), (72, 14, 2), (71, 16, 4), (69, 20, 4), (67, 24, 8)]
    return Piece(parse_key("G"), "2/4", 4, 1, [Note(0, p, s, d) for p, s, d in line]).normalized()


def midi_bytes_of(piece: Piece, **kw) -> bytes:
    return Midi.from_pretty_midi(piece_to_pretty_midi(piece, **kw)).data


# --------------------------------------------------------------------------- tokens

@pytest.mark.parametrize("make", [chorale_piece, folk_piece])
def test_events_midi_events_round_trip(make):
    piece = make()
    tok = MusicTokenizer(piece.voices)
    ids = tok.encode(piece)
    assert tok.tokens[ids[0]] == "<bos>" and tok.tokens[ids[-1]] == "<eos>"
    assert Grammar(tok, Constraints(bars=piece.bars, ranges=False, in_key=False, downbeat_start=False)).accepts(ids)
    back = tok.decode(ids)
    assert back == piece
    data = midi_bytes_of(back, tempo=100, program=0)
    again = read_midi_bytes(data, piece.voices)
    assert tok.encode(again) == ids


def test_a_bach_chorale_round_trips_and_obeys_the_grammar():
    from music21 import corpus

    from yingshe.sequence.melody_data import chorale_piece as from_score

    piece = from_score(corpus.parse("bach/bwv66.6"))
    assert piece.voices == 4 and piece.meter == "4/4" and len(piece.notes) > 100
    tok = MusicTokenizer(4)
    ids = tok.encode(piece)
    assert Grammar(tok, Constraints(bars=piece.bars, ranges=False, in_key=False, downbeat_start=False)).accepts(ids)
    assert tok.encode(read_midi_bytes(midi_bytes_of(tok.decode(ids)), 4)) == ids
    assert tok.describe(ids[:3]) == "<bos> key:f# meter:4/4"  # Krumhansl–Schmuckler agrees with music21
    # the grammar's rule against parallels sees exactly what the statistics count
    from yingshe.sequence.melody_stats import parallels

    strict = Grammar(tok, Constraints(bars=piece.bars, ranges=False, in_key=False, downbeat_start=False,
                                      no_parallels=True))
    assert strict.accepts(ids) == (sum(parallels(piece)) == 0)


def test_no_parallel_fifths_or_octaves_when_asked():
    tok = MusicTokenizer(4)
    # onset 0: S G4, A C4 (a fifth); onset 4: S moves up to A4; A may not go up to D4 (parallel
    # fifths) but may go down to B3 or up to E4
    ids = tok.header(0, "4/4") + [tok.bar_id(4), tok.pos_id(0), tok.voice_id(0), tok.pitch_id(67), tok.dur_id(4),
                                  tok.voice_id(1), tok.pitch_id(60), tok.dur_id(4), tok.pos_id(4),
                                  tok.voice_id(0), tok.pitch_id(69), tok.dur_id(4), tok.voice_id(1)]
    for strict in (True, False):
        g = Grammar(tok, Constraints(bars=4, key=0, no_parallels=strict))
        for i in ids:
            g.advance(i)
        allowed = g.allowed()
        assert allowed[tok.pitch_id(62)] != strict and allowed[tok.pitch_id(64)] and allowed[tok.pitch_id(59)]


def test_closing_chord_looks_ahead_to_the_bass_it_forces():
    # D major, two bars. Bar 1: S B4 over B E3 (a twelfth, a compound fifth). The closing chord
    # forces the bass onto D3, its only D in range (E2-C4), so it moves down; the soprano written
    # before it may then not move down to A4 (B4->A4 over E3->D3: parallel fifths the bass could
    # no longer avoid). F#4 stays allowed. Without the rule, A4 is allowed.
    tok = MusicTokenizer(4)
    ids = tok.header(2, "4/4") + [tok.bar_id(2), tok.pos_id(0)]
    for v, p in enumerate((71, 66, 62, 52)):
        ids += [tok.voice_id(v), tok.pitch_id(p), tok.dur_id(16)]
    ids += [tok.bar_id(1), tok.pos_id(0), tok.voice_id(0)]
    for strict in (True, False):
        g = Grammar(tok, Constraints(bars=2, key=2, no_parallels=strict, cadence=True))
        for i in ids:
            g.advance(i)
        allowed = g.allowed()
        assert allowed[tok.pitch_id(69)] != strict and allowed[tok.pitch_id(66)]


def test_transposed_tokens_move_pitches_and_key():
    from yingshe.sequence.melody_train import EventData

    piece = chorale_piece()
    tok = MusicTokenizer(4)
    data = EventData(tok, [piece])
    assert data.transpose(data.seqs[0], 3).tolist() == tok.encode(piece.transposed(3))
    assert tok.describe(data.transpose(data.seqs[0], -5)[:2]) == "<bos> key:D"


# --------------------------------------------------------------------------- tiny models

def tiny_model(path, voices: int, block: int = 64):
    import torch

    from yingshe.nets.transformer import GPT, GPTConfig
    from yingshe.sequence.melody_model import save_model

    torch.manual_seed(voices)
    tok = MusicTokenizer(voices)
    model = GPT(GPTConfig(vocab_size=len(tok), block_size=block, n_layer=1, n_head=2, n_embd=16))
    return str(save_model(path, model, tok, "chorale" if voices == 4 else "folk"))


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    d = tmp_path_factory.mktemp("melody-models")
    return {"chorale": tiny_model(d / "chorale.safetensors", 4), "folk": tiny_model(d / "folk.safetensors", 1)}


def make(models, **kw):
    from yingshe.sequence.melody import MelodyRecipe, run

    style = kw.get("style", "chorale")
    recipe = MelodyRecipe.from_dict({"model": models[style], **kw})
    return run(recipe, {}, None, threads=1)


@pytest.mark.parametrize("key,meter,chromatic", [("Bb", "3/4", False), ("c#", "4/4", False), ("E", "4/4", True)])
def test_tiny_chorale_model_writes_in_key_and_in_range(models, key, meter, chromatic):
    # 8 bars of four voices are far longer than the 64-token context: the sampler slides
    art = make(models, key=key, meter=meter, bars=8, seed=1, chromatic=chromatic)
    pm = art.midi.to_pretty_midi()
    piece = piece_from_midi(pm, 4)
    assert piece.key == parse_key(key) and piece.meter == meter
    assert [i.name for i in pm.instruments] == ["Soprano", "Alto", "Tenor", "Bass"]
    assert piece.notes and piece.bars <= 8
    for n in piece.notes:
        lo, hi = SATB_RANGES[n.voice]
        assert lo <= n.pitch <= hi
    in_key = [n.pitch % 12 in scale_pitch_classes(piece.key) for n in piece.notes]
    assert all(in_key) or chromatic
    assert art.summary["in_range"] == 1.0 and art.summary["bars"] == 8
    assert max(n.start + n.dur for n in piece.notes) <= 8 * piece.bar_len
    # the closing chord: all four voices on the last downbeat, held to the end, the bass on the tonic
    last = [n for n in piece.notes if n.start >= 7 * piece.bar_len]
    assert [(n.voice, n.start, n.dur) for n in last] == [(v, 7 * piece.bar_len, piece.bar_len) for v in range(4)]
    assert last[3].pitch % 12 == piece.key % 12
    assert all((n.pitch - piece.key) % 12 in ((0, 3, 7) if piece.key >= 12 else (0, 4, 7)) or chromatic for n in last)


def test_tiny_folk_model_writes_one_line_in_key(models):
    art = make(models, style="folk", key="e", bars=6, seed=2)
    piece = piece_from_midi(art.midi.to_pretty_midi(), 1)
    lo, hi = voice_range(0, 1)
    assert piece.key == parse_key("e") and piece.notes
    assert all(lo <= n.pitch <= hi and n.pitch % 12 in scale_pitch_classes(piece.key) for n in piece.notes)
    starts = [n.start for n in piece.notes]
    assert len(starts) == len(set(starts))  # one line: never two notes at once
    assert piece.notes[-1].pitch % 12 == 4 and piece.notes[-1].start == 5 * piece.bar_len  # ends on E, held
    assert all(a.start + a.dur <= b.start for a, b in zip(piece.notes, piece.notes[1:]))


def test_same_seed_same_piece_and_sound_other_seed_other_piece(models):
    a = make(models, key="G", bars=4, seed=5)
    b = make(models, key="G", bars=4, seed=5)
    c = make(models, key="G", bars=4, seed=6)
    assert a.midi.data == b.midi.data
    assert a.audio.fingerprint() == b.audio.fingerprint()
    assert np.array_equal(a.audio.samples, b.audio.samples)
    assert a.midi.data != c.midi.data


def test_audio_is_rendered_with_the_right_length_and_is_not_silent(models):
    art = make(models, key="D", bars=4, seed=0, tempo=120, instrument="Acoustic Grand Piano")
    pm = art.midi.to_pretty_midi()
    assert all(i.program == 0 for i in pm.instruments)
    a = art.audio
    assert a.rate == 44100 and a.channels == 2
    assert abs(a.duration - (pm.get_end_time() + 1.5)) < 2 / a.rate
    rms = float(np.sqrt(np.mean(a.samples ** 2)))
    assert rms > 0.01 and np.abs(a.samples).max() == pytest.approx(0.891, abs=1e-3)
    assert a.samples[-100:].std() < a.samples.std()  # it fades out in the tail
    assert art.weights["soundfont"]["source"] == "gm-soundfont"  # TimGM6mb.sf2 inside pretty_midi
    assert len(art.weights["soundfont"]["sha256"]) == 64 and art.weights["melody"]["sha256"]


def test_start_midi_is_kept_moved_to_the_key_and_continued(models, tmp_path):
    from yingshe.core import sources

    start = tmp_path / "start.mid"
    start.write_bytes(midi_bytes_of(folk_piece(), tempo=90, program=73))  # G major, 2/4
    from yingshe.sequence.melody import MelodyRecipe, run

    src = sources.load(str(start), kind="midi")
    recipe = MelodyRecipe.from_dict({"model": models["folk"], "style": "folk", "key": "D", "bars": 6,
                                     "start_bars": 2})
    art = run(recipe, {"start": [src]}, None, threads=1)
    out = piece_from_midi(art.midi.to_pretty_midi(), 1)
    assert out.meter == "2/4" and out.key == parse_key("D")
    kept = [n for n in out.notes if n.start < 16]
    shifts = {o.pitch - n.pitch for o, n in zip(kept, folk_piece().notes)}
    assert len(kept) == 4 and len(shifts) == 1 and shifts.pop() % 12 == 7  # G → D, two bars of 2/4
    assert [(n.start, n.dur) for n in kept] == [(n.start, n.dur) for n in folk_piece().notes][:4]
    assert any(n.start >= 16 for n in out.notes)  # continued
    assert art.inputs["start"][0]["sha256"] == src.record["sha256"]


# --------------------------------------------------------------------------- errors

@pytest.mark.parametrize("bad,needle", [
    ({"key": "H"}, "--key"),
    ({"bars": 1}, "--bars"),
    ({"instrument": "kazooo"}, "kazooo"),
    ({"instrument": "200"}, "0..127"),
    ({"style": "jazz"}, "--style"),
    ({"meter": "7/8"}, "--meter"),
])
def test_bad_options_are_clear_errors(bad, needle):
    from yingshe.sequence.melody import MelodyRecipe

    with pytest.raises(BadInput, match=needle):
        MelodyRecipe.from_dict(bad)


def test_model_of_the_other_style_is_a_clear_error(models):
    with pytest.raises(BadInput, match="--style chorale"):
        make(models, style="folk", model=models["chorale"])


def test_a_model_file_that_is_not_a_melody_model_is_refused(tmp_path):
    from yingshe.sequence.melody_model import load_model

    junk = tmp_path / "junk.safetensors"
    junk.write_bytes(b"\x00" * 64)
    with pytest.raises(WeightsError):
        load_model(str(junk))


def bad_start(tmp_path, data: bytes, models, **kw):
    from yingshe.sequence.melody import MelodyRecipe, run

    f = tmp_path / "bad.mid"
    f.write_bytes(data)
    from yingshe.core import sources

    src = sources.load(str(f), kind="midi")
    recipe = MelodyRecipe.from_dict({"model": models[kw.get("style", "chorale")], **kw})
    return run(recipe, {"start": [src]}, None, threads=1)


def test_bad_start_files_are_clear_errors(models, tmp_path):
    import pretty_midi

    with pytest.raises(BadInput):
        bad_start(tmp_path, b"MThd\x00\x00\x00\x06garbage", models)
    drums = pretty_midi.PrettyMIDI()
    kit = pretty_midi.Instrument(0, is_drum=True)
    kit.notes.append(pretty_midi.Note(100, 36, 0.0, 0.5))
    drums.instruments.append(kit)
    with pytest.raises(BadInput, match="drums"):
        bad_start(tmp_path, Midi.from_pretty_midi(drums).data, models)
    with pytest.raises(BadInput, match="major"):  # a G major start cannot become a minor piece
        bad_start(tmp_path, midi_bytes_of(folk_piece()), models, style="folk", key="a")
    with pytest.raises(BadInput, match="--bars"):  # nothing left to write
        bad_start(tmp_path, midi_bytes_of(folk_piece()), models, style="folk", bars=2, start_bars=2)
    odd = piece_to_pretty_midi(folk_piece())
    odd.time_signature_changes[0] = pretty_midi.TimeSignature(7, 8, 0)
    with pytest.raises(BadInput, match="7/8"):
        bad_start(tmp_path, Midi.from_pretty_midi(odd).data, models, style="folk")
    with pytest.raises(BadInput, match="MThd"):
        read_midi_bytes(b"RIFF....WAVEfmt ", 4)


def test_without_fluidsynth_midi_still_works_and_audio_names_what_to_install(models, monkeypatch):
    from yingshe.core import midi as core_midi

    monkeypatch.setitem(sys.modules, "fluidsynth", None)  # as if pyfluidsynth were not installed
    with pytest.raises(BadInput, match="FluidSynth.*libfluidsynth"):
        core_midi.render(piece_to_pretty_midi(folk_piece()))
    art = make(models, key="C", bars=2)
    assert art.midi is not None and art.audio is None and "FluidSynth" in art.summary["audio"]
    from yingshe.sequence.melody import MelodyRecipe, run

    with pytest.raises(BadInput, match="FluidSynth"):
        run(MelodyRecipe.from_dict({"model": models["chorale"], "bars": 2}), {}, None, threads=1, audio=True)


# --------------------------------------------------------------------------- MusicXML

def test_musicxml_export_is_deterministic_and_readable():
    from music21 import converter

    from yingshe.sequence.melody import to_musicxml

    piece = chorale_piece().transposed(-2)  # F major: B flat spelt as a flat
    data = midi_bytes_of(piece)
    xml = to_musicxml(data)
    assert xml == to_musicxml(data)
    assert b"<alter>-1</alter>" in xml and b"<alter>1</alter>" not in xml
    score = converter.parseData(xml.decode(), format="musicxml")
    assert [p.partName for p in score.parts] == ["Soprano", "Alto", "Tenor", "Bass"]
    notes = [(n.pitch.midi, round(float(n.offset) * 4), round(float(n.quarterLength) * 4))
             for p in score.parts for n in p.stripTies().flatten().notes]  # notes over bar lines are tied
    assert sorted(notes) == sorted((n.pitch, n.start, n.dur) for n in piece.notes)
    with pytest.raises(BadInput):
        to_musicxml(b"not midi")


def test_a_melody_saves_as_musicxml_with_its_recipe_beside_it(models, tmp_path):
    from music21 import converter

    from yingshe.core.records import read_record

    art = make(models, key="G", bars=2, seed=3)
    out = art.save(tmp_path / "tune.musicxml", gallery=False)
    assert out.read_bytes().startswith(b"<?xml") and out.with_name("tune.musicxml.json").exists()
    assert read_record(out)["recipe"]["seed"] == 3  # found in the sidecar
    score = converter.parse(str(out))
    notes = sum(len(i.notes) for i in art.midi.to_pretty_midi().instruments)
    assert len(score.parts) == 4 and sum(len(p.stripTies().flatten().notes) for p in score.parts) == notes


# --------------------------------------------------------------------------- training

def test_train_melody_on_a_midi_folder_then_resume_and_use(tmp_path, monkeypatch):
    from yingshe.cli import main
    from yingshe.sequence.melody_model import load_model

    monkeypatch.setenv("YINGSHE_HOME", str(tmp_path / "home"))
    data = tmp_path / "midis"
    data.mkdir()
    for k in range(8):
        (data / f"tune{k}.mid").write_bytes(midi_bytes_of(folk_piece().transposed(k - 3)))
    (data / "broken.mid").write_bytes(b"MThd broken")
    run = tmp_path / "run"
    args = ["train", "melody", str(data), "-o", str(run), "--voices", "1", "--n-layer", "1", "--n-embd", "16",
            "--n-head", "2", "--block-size", "32", "--batch", "2", "--threads", "1", "--warmup", "1", "-q"]
    assert main(args + ["--max-steps", "3"]) == 0
    mm = load_model(str(run))
    assert mm.style == "folk" and mm.meta["pieces"]["skipped"] == 1 and mm.meta["meters"] == ["2/4"]
    assert main(args + ["--resume", "--max-steps", "5"]) == 0
    assert load_model(str(run)).meta["step"] in (4, 5)  # the best by validation loss is kept
    import json

    assert json.loads((run / "config.json").read_text())["train"]["max_steps"] == 5
    assert make({"folk": str(run)}, style="folk", bars=3).midi is not None
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["train", "melody", str(empty), "-o", str(tmp_path / "r2"), "-q"]) == 2
    assert not (tmp_path / "r2").exists()
