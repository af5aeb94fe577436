"""Voices: intelligibility, SSML effects, singing pitch, conversion accuracy and speed.

Every figure is measured with a tool independent of the code that made the sound:
pocketsphinx for the words, librosa's pYIN for pitch, frame energies for silences.

    .venv/bin/python benchmarks/voice.py [--runs 3]

Targets (issue 11): word error rate <= 0.15; singing: voiced frames within 50 cents of the
note >= 0.9 and note time voiced >= 0.7; convert-voice F0 shift within 0.3 semitones of the
request, length kept.
"""

from __future__ import annotations

import argparse
import re
import statistics
import time

import numpy as np

SENTENCES = [
    "The quick brown fox jumps over the lazy dog.",
    "Music is the art of arranging sounds in time.",
    "Please call me back when you get home tonight.",
    "The concert starts at eight in the evening.",
    "She plays the violin in a small orchestra.",
    "We need more time to finish the project.",
    "The weather was cold and the roads were icy.",
    "He bought a new guitar for his birthday.",
    "Turn the volume down before the baby wakes up.",
    "The children sang a song about the sea.",
    "A good melody is easy to remember.",
    "The drummer kept a steady beat all night.",
    "They walked along the river after dinner.",
    "Can you tell me the way to the station?",
    "The piano needs to be tuned every year.",
    "Our band will record a new album next month.",
    "The teacher asked the students to read aloud.",
    "I would like a cup of coffee with milk.",
    "The city lights were shining on the water.",
    "Every song tells a story of its own.",
]


def _words(text: str) -> list[str]:
    return re.sub(r"[^a-z' ]", " ", text.lower()).split()


def wer(ref: str, hyp: str) -> tuple[int, int]:
    """(edits, reference words): word-level Levenshtein distance."""
    r, h = _words(ref), _words(hyp)
    d = list(range(len(h) + 1))
    for i, rw in enumerate(r, 1):
        prev, d[0] = d[0], i
        for j, hw in enumerate(h, 1):
            prev, d[j] = d[j], min(d[j] + 1, d[j - 1] + 1, prev + (rw != hw))
    return d[len(h)], len(r)


def pyin(y: np.ndarray, sr: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    import librosa

    f0, voiced, _ = librosa.pyin(y.astype(np.float64), fmin=60, fmax=800, sr=sr,
                                 frame_length=2048, hop_length=256)
    return f0, voiced, librosa.times_like(f0, sr=sr, hop_length=256)


def intelligibility(voice: str) -> tuple[float, float, float]:
    """(WER, seconds of speech, wall seconds to speak) over the 20 sentences."""
    from tunecraft import api

    edits = total = 0
    speech_s = wall = 0.0
    for s in SENTENCES:
        t = time.perf_counter()
        spoken = api.speak(s, voice=voice)
        wall += time.perf_counter() - t
        speech_s += spoken.audio.duration
        try:
            heard = api.listen(spoken.audio, align=False).text
        except api.ParameterError:  # nothing recognised: every word is missed
            heard = ""
        e, n = wer(s, heard)
        edits, total = edits + e, total + n
    return edits / total, speech_s, wall


def ssml_effects() -> dict[str, float]:
    from tunecraft import api
    from tunecraft.speech.speak import trim

    def span(audio) -> float:  # the words, without the silence around them
        return trim(audio.samples[0], keep_s=0.0).size / audio.sample_rate

    out = {}
    words = "one two three four five six seven eight"
    for voice in ("joe", "es"):
        text = words if voice == "joe" else "uno dos tres cuatro cinco seis siete ocho"
        lang = "en" if voice == "joe" else "es"
        plain = span(api.speak(f'<speak><prosody rate="100%">{text}</prosody></speak>',
                               voice=voice, lang=lang).audio)
        for rate, want in (("50%", 2.0), ("x-slow", 1 / 0.6), ("x-fast", 1 / 1.6),
                           ("200%", 0.5)):
            got = span(api.speak(f'<speak><prosody rate="{rate}">{text}</prosody></speak>',
                                 voice=voice, lang=lang).audio)
            out[f"{voice}: rate {rate} length ratio (want {want:.3f})"] = got / plain
    for voice, lang, text in (("joe", "en", "one two three"), ("es", "es", "uno dos tres")):
        said = api.speak(f'<speak><prosody volume="x-soft">{text}</prosody><break time="1s"/>'
                         f'<prosody volume="x-loud">{text}</prosody></speak>', lang=lang,
                         voice=voice)
        x, sr = said.audio.samples[0].astype(np.float64), said.audio.sample_rate
        rms = [float(np.sqrt(np.mean(x[int(g["start"] * sr):int((g["start"] + g["seconds"])
                                                                  * sr)] ** 2)))
               for g in said.segments]
        out[f"{voice}: volume x-loud over x-soft, dB (want 20)"] = 20 * np.log10(rms[1] / rms[0])
    for ms in (500, 1500):
        a = api.speak(f'<speak>hello <break time="{ms}ms"/> world</speak>').audio
        x = a.samples[0]
        frame = int(0.01 * a.sample_rate)
        e = np.array([np.sqrt(np.mean(x[i:i + frame] ** 2)) for i in range(0, x.size - frame,
                                                                             frame)])
        quiet = e < e.max() * 10 ** (-40 / 20)
        runs, run = [], 0
        for q in quiet:
            run = run + 1 if q else 0
            runs.append(run)
        out[f"break {ms} ms: longest silence (ms)"] = max(runs) * 10.0
    up = api.speak('<speak><prosody pitch="+4st">music is the art of sound</prosody>'
                   '</speak>', voice="en-us").audio
    ref = api.speak("music is the art of sound", voice="en-us").audio
    f_ref, v_ref, _ = pyin(ref.samples[0], ref.sample_rate)
    f_up, v_up, _ = pyin(up.samples[0], up.sample_rate)
    n = min(f_ref.size, f_up.size)
    both = v_ref[:n] & v_up[:n]
    out["pitch +4st: median shift, semitones (en-us)"] = float(
        np.median(12 * np.log2(f_up[:n][both] / f_ref[:n][both])))
    return out


def singing(lang: str, lyrics: str) -> tuple[float, float, float]:
    """(share of voiced frames within 50 cents, share of note time voiced, real-time factor)
    for 'Ode to Joy' (the examples' tune) sung."""
    from tunecraft import api

    score = api.load(_tune_path())
    t = time.perf_counter()
    sung = api.sing(score, lyrics, lang=lang)
    wall = time.perf_counter() - t
    f0, voiced, times = pyin(sung.audio.samples[0], sung.audio.sample_rate)
    within = heard = covered = total = 0
    for n in sung.notes:
        if not n.syllable:
            continue
        m = (times >= n.start + 0.04) & (times < n.end - 0.02)
        v = m & voiced
        total, covered = total + m.sum(), covered + v.sum()
        cents = 1200 * np.log2(f0[v] / (440 * 2 ** ((n.pitch - 69) / 12)))
        heard, within = heard + v.sum(), within + int((np.abs(cents) < 50).sum())
    return within / max(heard, 1), covered / max(total, 1), wall / sung.audio.duration


_TUNE: list[str] = []


def _tune_path() -> str:
    if not _TUNE:
        import tempfile

        from tunecraft import api

        folder = tempfile.mkdtemp(prefix="tunecraft-voice-")
        _TUNE.append(str(next(p for p in api.write_examples(folder) if p.name == "tune.mid")))
    return _TUNE[0]


def conversion(voice: str) -> tuple[dict[float, float], bool, float]:
    """pYIN median F0 shift for requests of -5, +3, +7 semitones, whether the length is kept,
    and the real-time factor. The reference is the voice through WORLD unchanged (pitch 0):
    what pYIN hears of the joe voice before any WORLD stage is an octave low (its rough,
    alternating glottal pulses), after one it is the voice's pitch."""
    from tunecraft import api

    text = {"joe": "Music is the art of arranging sounds in time through melody, harmony and "
                   "rhythm.",
            "es": "La música es el arte de organizar los sonidos en el tiempo."}[voice]
    spoken = api.speak(text, voice=voice, lang="en" if voice == "joe" else "es").audio
    ref = api.convert_voice(spoken, pitch=0.0).audio
    f_ref, v_ref, _ = pyin(ref.samples[0], ref.sample_rate)
    shifts, kept, walls = {}, True, []
    for st in (-5.0, 3.0, 7.0):
        t = time.perf_counter()
        out = api.convert_voice(spoken, pitch=st).audio
        walls.append(time.perf_counter() - t)
        kept = kept and out.frames == spoken.frames
        f, v, _ = pyin(out.samples[0], out.sample_rate)
        both = v & v_ref
        shifts[st] = float(np.median(12 * np.log2(f[both] / f_ref[both])))
    return shifts, kept, statistics.median(walls) / spoken.duration


def listen_speed(runs: int) -> float:
    from tunecraft import api

    audio = api.speak(" ".join(SENTENCES[:6])).audio
    walls = []
    for _ in range(runs):
        t = time.perf_counter()
        api.listen(audio)
        walls.append(time.perf_counter() - t)
    return statistics.median(walls) / audio.duration


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    from tunecraft import api

    names = [v["name"] for v in api.voices()]
    print(f"voices: {', '.join(names)}")
    api.speak("warm up")
    print("\nIntelligibility (20 English sentences, pocketsphinx)")
    for voice in [v for v in ("joe", "en-us") if v in names]:
        rates = [intelligibility(voice) for _ in range(args.runs if voice == "joe" else 1)]
        w, speech_s, _wall = rates[0]
        rtf = statistics.median(r[2] / r[1] for r in rates)
        print(f"  {voice:<6} WER {w:.3f}   speak real-time factor {rtf:.3f} "
              f"({speech_s:.0f} s of speech)")
    print("\nSSML, measured")
    for k, v in ssml_effects().items():
        print(f"  {k:<48} {v:.3f}")
    print("\nSinging 'Ode to Joy' (pYIN against the notes)")
    for lang, words in (("en", "Joyful joyful we adore thee God of glory Lord of love hearts "
                               "unfold like flowers before thee we hail thee sun above"),
                        ("es", "Escucha hermano la canción de la alegría el canto alegre del "
                               "que espera un nuevo día")):
        runs = [singing(lang, words) for _ in range(args.runs)]
        within, covered, _ = runs[0]
        rtf = statistics.median(r[2] for r in runs)
        print(f"  {lang}: within 50 cents {within:.3f}   note time voiced {covered:.3f}   "
              f"real-time factor {rtf:.3f}")
    print("\nconvert-voice (pYIN median shift against the request)")
    for voice in [v for v in ("joe", "es") if v in names]:
        shifts, kept, rtf = conversion(voice)
        errs = ", ".join(f"{k:+g} -> {v:+.2f}" for k, v in shifts.items())
        print(f"  {voice:<4} {errs}   length kept: {kept}   real-time factor {rtf:.3f}")
    print(f"\nlisten real-time factor: {listen_speed(args.runs):.3f}")


if __name__ == "__main__":
    main()
