"""Scripted conversations through the conductor, checked on the files themselves with tools
other than the conductor: mido for tempo, programs and drums; music21's key analysis for the
key; the loudness meter for "louder"; the call arguments for which file was used."""

from __future__ import annotations

import json
from pathlib import Path

import mido
import numpy as np
import pytest
import soundfile as sf

from tunecraft.agent import Conductor


def talk(folder: Path, *messages: str, seed: int = 11):
    c = Conductor(folder, seed=seed)
    return c, [c.turn(m) for m in messages]


def midi_of(turn, index: int = -1) -> Path:
    outputs = turn.calls[index].outputs
    return Path(next(p for p in outputs if p.endswith(".mid")))


def wav_of(turn, index: int = -1) -> Path:
    return Path(next(p for p in turn.calls[index].outputs
                     if p.endswith((".wav", ".mp3", ".flac"))))


def tempo(path: Path) -> float:
    for msg in mido.MidiFile(path).tracks[0]:
        if msg.type == "set_tempo":
            return round(mido.tempo2bpm(msg.tempo), 1)
    raise AssertionError("no tempo")


def programs(path: Path) -> set[int]:
    return {m.program for t in mido.MidiFile(path).tracks for m in t
            if m.type == "program_change" and m.channel != 9}


def drum_notes(path: Path) -> int:
    return sum(1 for t in mido.MidiFile(path).tracks for m in t
               if m.type == "note_on" and m.velocity and m.channel == 9)


def notes(path: Path) -> int:
    return sum(1 for t in mido.MidiFile(path).tracks for m in t
               if m.type == "note_on" and m.velocity)


def heard_key(path: Path):
    import music21

    k = music21.converter.parse(str(path)).analyze("key")
    return k.tonic.pitchClass, k.mode


def ok(turn) -> bool:
    return bool(turn.calls) and all(c.ok for c in turn.calls)


# ----------------------------------------------------------------------------------------------
# Tempo, key, instruments, drums, length, loudness, style


def test_faster_then_slower_by_then_to_a_tempo(tmp_path):
    _, t = talk(tmp_path, "compose a calm piano piece, 10 seconds", "make it faster",
                "slower by 20 bpm", "speed it up to 140 bpm")
    assert all(ok(x) for x in t)
    b0, b1, b2, b3 = (tempo(midi_of(x)) for x in t)
    assert b1 == pytest.approx(round(b0 * 1.2), abs=0.6)
    assert b2 == pytest.approx(b1 - 20, abs=0.6)
    assert b3 == pytest.approx(140, abs=0.6)
    assert notes(midi_of(t[1])) == notes(midi_of(t[0]))  # the same notes, played again
    assert t[1].calls[0].args["source"] == str(wav_of(t[0]))  # the previous piece was used
    assert "tempo" in t[1].reply and "same notes" in t[1].reply


def test_another_key_in_the_same_mode_is_heard(tmp_path):
    _, t = talk(tmp_path, "a cheerful folk tune in C major with fiddle, 12 seconds",
                "now in E major")
    assert ok(t[1])
    assert heard_key(midi_of(t[0])) == (0, "major")
    assert heard_key(midi_of(t[1])) == (4, "major")


def test_minor_recomposes_and_is_heard_minor(tmp_path):
    _, t = talk(tmp_path, "a happy pop song in G major, 12 seconds", "make it minor")
    assert ok(t[1]) and "composed again" in t[1].reply
    assert heard_key(midi_of(t[1]))[1] == "minor"


def test_a_swapped_instrument_is_really_there(tmp_path):
    _, t = talk(tmp_path, "a calm piano piece, 8 seconds", "swap the piano for a violin")
    assert ok(t[1])
    assert 0 in programs(midi_of(t[0])) and 0 not in programs(midi_of(t[1]))
    assert 40 in programs(midi_of(t[1]))  # General MIDI violin


def test_drums_come_out_and_go_in(tmp_path):
    _, t = talk(tmp_path, "an energetic rock song, 8 seconds", "without drums")
    assert drum_notes(midi_of(t[0])) > 0 and drum_notes(midi_of(t[1])) == 0
    _, t = talk(tmp_path / "b", "a calm solo piano piece, 8 seconds", "add drums")
    assert drum_notes(midi_of(t[0])) == 0 and drum_notes(midi_of(t[1])) > 0


def test_longer_and_shorter(tmp_path):
    _, t = talk(tmp_path, "a bossa nova, 10 seconds", "make it longer", "shorter")
    lengths = [sf.info(wav_of(x)).duration for x in t]
    assert lengths[1] > 1.3 * lengths[0]
    assert lengths[2] < 0.8 * lengths[1]


def test_louder_is_measured_louder(tmp_path):
    from tunecraft.audio import Audio
    from tunecraft.synth.mastering import measure_loudness

    _, t = talk(tmp_path, "a jazz tune with piano, 8 seconds", "louder")
    assert ok(t[1])
    levels = []
    for x in t:
        data, sr = sf.read(wav_of(x), always_2d=True)
        levels.append(measure_loudness(Audio(data.T.astype(np.float32), sr)))
    assert levels[1] - levels[0] == pytest.approx(4, abs=1)


def test_another_style(tmp_path):
    _, t = talk(tmp_path, "a calm piano piece, 8 seconds", "make it reggae")
    assert ok(t[1])
    doc = json.loads(Path(t[1].calls[0].outputs[3]).read_text())
    assert doc["spec"]["style"] == "reggae"


# ----------------------------------------------------------------------------------------------
# Chains and references


def test_a_chain_uses_each_output(tmp_path):
    _, t = talk(tmp_path, "compose a calm piano piece, 8 seconds, put birdsong under it and "
                          "give me an mp3")
    turn = t[0]
    assert [c.tool for c in turn.calls] == ["generate", "sound", "mix", "convert"]
    assert ok(turn)
    piece, sound, mixed, mp3 = (wav_of(turn, i) for i in range(4))
    assert turn.calls[2].args["files"] == [str(piece), str(sound)]
    assert turn.calls[3].args["source"] == str(mixed)
    assert mp3.suffix == ".mp3" and mp3.stat().st_size > 10_000
    assert sf.info(sound).duration == pytest.approx(sf.info(piece).duration, abs=0.1)


def test_rain_under_the_last_piece(tmp_path):
    _, t = talk(tmp_path, "a gentle guitar piece, 8 seconds", "put rain under it")
    assert [c.tool for c in t[1].calls] == ["sound", "mix"]
    assert t[1].calls[1].args["files"][0] == str(wav_of(t[0]))


def test_a_long_chain_of_changes(tmp_path):
    _, t = talk(tmp_path, "compose a short jingle, 6 seconds, then make it faster, then "
                          "convert it to flac")
    turn = t[0]
    assert [c.tool for c in turn.calls] == ["generate", "modify", "convert"]
    assert turn.calls[1].args["source"] == str(wav_of(turn, 0))
    assert turn.calls[2].args["source"] == str(wav_of(turn, 1))
    assert tempo(midi_of(turn, 1)) > tempo(midi_of(turn, 0))


def test_the_sound_then_its_mp3(tmp_path):
    _, t = talk(tmp_path, "rain for 5 seconds", "convert it to mp3")
    assert t[1].calls[0].args["source"] == str(wav_of(t[0]))
    assert wav_of(t[1]).suffix == ".mp3"


# ----------------------------------------------------------------------------------------------
# Robustness: context breaks, errors, nothing to change, unsupported, greetings


def test_an_unrelated_question_in_the_middle(tmp_path):
    _, t = talk(tmp_path, "a calm piano piece, 8 seconds", "what's the weather tomorrow?",
                "make it faster")
    assert not t[1].calls and "weather" in t[1].reply
    assert t[2].calls[0].args["source"] == str(wav_of(t[0]))


def test_a_change_with_no_piece_says_so_and_the_conversation_goes_on(tmp_path):
    _, t = talk(tmp_path, "make it faster", "a calm piano piece, 6 seconds")
    assert not t[0].calls[0].ok and "no piece" in t[0].reply
    assert ok(t[1])


def test_a_tool_error_is_reported_and_the_next_turn_works(tmp_path):
    _, t = talk(tmp_path, "separate the drums from missing.wav", "rain for 3 seconds",
                "remove the drums")  # no piece with drums: said, not crashed
    assert not t[0].calls[0].ok and "missing.wav" in t[0].calls[0].error
    assert "missing.wav" in t[0].reply
    assert ok(t[1])
    assert not t[2].calls[0].ok


def test_an_impossible_value_is_reported(tmp_path):
    _, t = talk(tmp_path, "a calm piano piece at 900 bpm")
    assert not t[0].calls[0].ok and "bpm" in t[0].calls[0].error


@pytest.mark.parametrize(("message", "words"), [
    ("hello", "Hello"), ("hola", "Hola"), ("olá", "Olá"),
    ("what can you do?", "sound"), ("¿qué puedes hacer?", "sonido"),
    ("o que você pode fazer?", "efeitos sonoros"),
])
def test_greetings_and_help_in_three_languages(tmp_path, message, words):
    _, t = talk(tmp_path, message)
    assert not t[0].calls and words in t[0].reply


@pytest.mark.parametrize("message", ["make a video of my cat", "haz un vídeo de mi perro",
                                     "desenhe um cachorro"])
def test_unsupported_requests_say_what_is_possible(tmp_path, message):
    _, t = talk(tmp_path, message)
    assert not t[0].calls
    assert any(w in t[0].reply for w in ("compose", "componer", "compor"))
    assert not list(tmp_path.glob("*"))


# ----------------------------------------------------------------------------------------------
# Spanish and Portuguese follow-ups


def test_spanish_slower_and_a_swap_and_no_drums(tmp_path):
    _, t = talk(tmp_path, "una bossa nova con flauta de 8 segundos", "hazlo más lento",
                "cambia la flauta por un violín", "sin batería")
    assert all(ok(x) for x in t)
    assert tempo(midi_of(t[1])) < tempo(midi_of(t[0]))
    assert "Cambiado" in t[1].reply
    assert 73 in programs(midi_of(t[1])) and 73 not in programs(midi_of(t[2]))  # flute
    assert 40 in programs(midi_of(t[2]))
    assert drum_notes(midi_of(t[2])) > 0 and drum_notes(midi_of(t[3])) == 0


def test_portuguese_faster_and_another_key(tmp_path):
    _, t = talk(tmp_path, "um samba em dó maior de 8 segundos", "mais rápido",
                "agora em ré maior")
    assert all(ok(x) for x in t)
    assert tempo(midi_of(t[1])) > tempo(midi_of(t[0]))
    assert "Mudado" in t[1].reply
    assert heard_key(midi_of(t[2])) == (2, "major")


def test_portuguese_more_energy_recomposes(tmp_path):
    _, t = talk(tmp_path, "uma peça calma de piano de 8 segundos", "dá mais energia")
    assert ok(t[1]) and "composta de novo" in t[1].reply


# ----------------------------------------------------------------------------------------------
# Voices (need the voice extra and espeak-ng)


def _voices_or_skip():
    from tunecraft import api

    if not api.voices():
        pytest.skip("no voice installed (apt install espeak-ng; the voice extra)")


def test_speak_then_a_deeper_voice_from_the_same_file(tmp_path):
    _voices_or_skip()
    _, t = talk(tmp_path, 'di "hola a todos"', "haz la voz más grave")
    assert ok(t[0]) and t[0].calls[0].args["lang"] == "es"
    assert t[1].calls[0].tool == "convert_voice"
    assert t[1].calls[0].args["source"] == str(wav_of(t[0]))
    assert sf.info(wav_of(t[1])).duration == pytest.approx(sf.info(wav_of(t[0])).duration,
                                                          abs=0.05)


def test_sing_over_the_piece(tmp_path):
    _voices_or_skip()
    _, t = talk(tmp_path, "a calm piano piece, 8 seconds", 'now sing "la la la la" over it')
    assert [c.tool for c in t[1].calls] == ["sing", "mix"]
    assert t[1].calls[0].args["melody"].endswith(".json")
    assert t[1].calls[1].args["files"] == [str(wav_of(t[1], 0)), str(wav_of(t[0]))]


# ----------------------------------------------------------------------------------------------
# Repeatable


def test_the_same_script_and_seed_make_the_same_files(tmp_path):
    script = ("a calm piano piece, 6 seconds", "make it faster", "put rain under it")
    _, a = talk(tmp_path / "a", *script, seed=5)
    _, b = talk(tmp_path / "b", *script, seed=5)
    for x, y in zip(a, b, strict=True):
        for p, q in zip(x.calls, y.calls, strict=True):
            for f, g in zip(p.outputs, q.outputs, strict=True):
                if f.endswith((".wav", ".mid")):
                    assert Path(f).read_bytes() == Path(g).read_bytes(), f
