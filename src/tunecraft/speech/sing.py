"""Singing: lyrics on a melody, one syllable per note, by the method UTAU resamplers use.

Each word is spoken once by the voice for the language (:mod:`.engines`) and taken apart by
WORLD (:mod:`.world`). The word is cut into its syllables at the energy valleys between its
voiced nuclei. For each note, the syllable's consonants keep their own length (the onset
consonants start just before the note, so the vowel lands on the beat; the final consonants
end the note), its vowel is stretched to fill the note, and its pitch is set to the note's:
a glide from the note before (or a scoop from below after a rest), vibrato on notes longer
than about a third of a second, and the spoken pitch's own small wiggle kept. Phrases
(notes with no rest between) are synthesised in one piece, so syllables join smoothly.
"""

from __future__ import annotations

import itertools
import logging
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from ..audio import Audio
from ..errors import ParameterError
from .engines import LANGUAGE_NAMES, SAMPLE_RATE, Voice, say, voice_for
from .world import FRAME_MS, Analysis, analyse

log = logging.getLogger(__name__)

FPS = 1000.0 / FRAME_MS  # WORLD frames a second
VOICE_RANGE = {"joe": (45, 67), "en-us": (45, 67), "en-gb": (45, 67), "es": (45, 67),
               "es-419": (45, 67), "pt-br": (45, 67), "pt": (45, 67)}  # MIDI, low-high
MAX_NOTES = 5000
MAX_SECONDS = 20 * 60.0
PRE_ONSET_S = 0.12  # the longest onset consonant placed before the beat
PHRASE_REST_S = 0.3  # a rest this long between notes ends a phrase
GLIDE_S = 0.06
VIBRATO_HZ = 5.5
VIBRATO_ST = 0.35  # half the swing, semitones
VIBRATO_AFTER_S = 0.3
_SILENT_SP = 1e-12


@dataclass(frozen=True, slots=True)
class SungNote:
    """A note to sing: times in seconds, MIDI pitch, and its syllable (None: not sung)."""

    start: float
    end: float
    pitch: int
    syllable: str | None = None
    word: int = -1  # index of the word the syllable belongs to
    part: int = 0  # which syllable of the word
    parts: int = 1  # how many syllables the word has


@dataclass(frozen=True, eq=False)
class Singing:
    """A sung stem and what was sung: the notes with their syllables, the octaves the melody
    was moved by to fit the voice, and warnings (syllables and notes that did not match)."""

    audio: Audio
    voice: str
    notes: tuple[SungNote, ...]
    transposed: int = 0
    warnings: tuple[str, ...] = field(default_factory=tuple)

    def summary(self) -> dict:
        return {"voice": self.voice, "seconds": round(self.audio.duration, 3),
                "sample_rate": self.audio.sample_rate, "transposed_semitones": self.transposed,
                "notes": len(self.notes),
                "sung_notes": sum(1 for n in self.notes if n.syllable),
                "warnings": list(self.warnings)}


# ----------------------------------------------------------------------------------------------
# Which syllable on which note


def _words_of(syllables: Sequence[tuple[str, bool, bool]]) -> list[tuple[str, int, int]]:
    """(word text, index of its first syllable, number of syllables) from (text, word_start,
    word_end) triples."""
    words: list[tuple[str, int, int]] = []
    i = 0
    while i < len(syllables):
        j = i
        while j < len(syllables) - 1 and not syllables[j][2] and not syllables[j + 1][1]:
            j += 1
        words.append(("".join(s[0] for s in syllables[i:j + 1]), i, j - i + 1))
        i = j + 1
    return words


def lyric_syllables(text: str, lang: str) -> list[tuple[str, bool, bool]]:
    """(syllable, word_start, word_end) for lyrics text, in order (stanza headers dropped)."""
    from ..compose.lyrics import parse_lyrics

    lyrics = parse_lyrics(text, language=lang)
    return [(s.text, s.word_start, s.word_end) for st in lyrics.stanzas for line in st.lines
            for s in line]


def note_syllables(lyrics: Sequence[str]) -> list[tuple[str, bool, bool]]:
    """(syllable, word_start, word_end) from notes' lyric texts ("beau-", "-ti-", "-ful")."""
    out = []
    for text in lyrics:
        t = text.strip()
        out.append((t.strip("-"), not t.startswith("-"), not t.endswith("-")))
    return out


def assign(notes: Sequence[tuple[float, float, int]],
           syllables: Sequence[tuple[str, bool, bool]]) -> tuple[list[SungNote], list[str]]:
    """One syllable per note in order. Extra syllables split the last notes (each split into
    equal parts of its length); notes left over are not sung. Both are said in warnings."""
    warnings: list[str] = []
    notes = list(notes)
    syl = [s for s in syllables if re.search(r"\w", s[0])]
    if not syl:
        raise ParameterError("there are no words to sing")
    extra = len(syl) - len(notes)
    if extra > 0:
        # The last notes each take more syllables, so every syllable is sung.
        take = min(len(notes), extra)
        per = [1] * len(notes)
        for k in range(extra):
            per[len(notes) - take + k % take] += 1
        split: list[tuple[float, float, int]] = []
        for (a, b, p), n in zip(notes, per, strict=True):
            step = (b - a) / n
            split.extend((a + i * step, a + (i + 1) * step, p) for i in range(n))
        which = "the last note is" if take == 1 else f"the last {take} notes are"
        warnings.append(f"{len(syl)} syllables for {len(notes)} notes: {which} split to carry "
                        "the rest")
        notes = split
    elif extra < 0:
        which = "the last note is" if extra == -1 else f"the last {-extra} notes are"
        warnings.append(f"{len(syl)} syllables for {len(notes)} notes: {which} not sung")
    words = _words_of(syl)
    owner: dict[int, tuple[int, int, int]] = {}
    for w, (_, first, count) in enumerate(words):
        for k in range(count):
            owner[first + k] = (w, k, count)
    out = []
    for i, (a, b, p) in enumerate(notes):
        if i < len(syl):
            w, k, count = owner[i]
            out.append(SungNote(a, b, p, syl[i][0], w, k, count))
        else:
            out.append(SungNote(a, b, p))
    return out, warnings


def fit_range(notes: Sequence[SungNote], voice: str) -> int:
    """Octaves (in semitones) that bring the melody into the voice's range best."""
    low, high = VOICE_RANGE.get(voice, (45, 67))
    pitches = np.array([n.pitch for n in notes if n.syllable], dtype=float)
    if pitches.size == 0:
        return 0

    def outside(k: int) -> float:
        p = pitches + 12 * k
        return float(np.sum(np.maximum(low - p, 0) + np.maximum(p - high, 0)))

    best = min(range(-4, 5), key=lambda k: (outside(k), abs(k)))
    return 12 * best


# ----------------------------------------------------------------------------------------------
# Words taken apart into syllables


@dataclass(frozen=True, eq=False)
class _Piece:
    """A syllable's frames: onset consonants, a vowel (voiced) and final consonants."""

    f0: np.ndarray
    sp: np.ndarray
    ap: np.ndarray
    vowel: tuple[int, int]  # [a, b) of the voiced nucleus within the piece
    voiced_ap: np.ndarray  # the word's median aperiodicity over its voiced frames


def _energy(a: Analysis) -> np.ndarray:
    e = 10 * np.log10(np.sum(a.sp, axis=1) + 1e-20)
    k = np.ones(5) / 5
    return np.convolve(e, k, mode="same")


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    runs, start = [], None
    for i, m in enumerate(mask):
        if m and start is None:
            start = i
        elif not m and start is not None:
            runs.append((start, i))
            start = None
    if start is not None:
        runs.append((start, len(mask)))
    return runs


def split_word(a: Analysis, parts: int) -> list[_Piece]:
    """The word's analysis cut into ``parts`` syllables."""
    e = _energy(a)
    active = e > e.max() - 40  # the word, not the silence around it
    idx = np.flatnonzero(active)
    lo, hi = (int(idx[0]), int(idx[-1]) + 1) if idx.size else (0, a.frames)
    voiced = (a.f0 > 0) & (e > e.max() - 30)
    nuclei = [r for r in _runs(voiced[lo:hi]) if r[1] - r[0] >= 3]
    nuclei = [(r[0] + lo, r[1] + lo) for r in nuclei]
    if not nuclei:  # nothing voiced: the middle third stands in for a vowel
        third = max(1, (hi - lo) // 3)
        nuclei = [(lo + third, hi - third if hi - third > lo + third else lo + third + 1)]
    # Merge or split nuclei until there is one per syllable.
    while len(nuclei) > parts:  # join the two closest
        gaps = [nuclei[i + 1][0] - nuclei[i][1] for i in range(len(nuclei) - 1)]
        i = int(np.argmin(gaps))
        nuclei[i:i + 2] = [(nuclei[i][0], nuclei[i + 1][1])]
    while len(nuclei) < parts:  # split the longest at its deepest energy valley
        i = max(range(len(nuclei)), key=lambda k: nuclei[k][1] - nuclei[k][0])
        a0, b0 = nuclei[i]
        if b0 - a0 < 4:
            mid = a0 + 1
        else:
            inner = e[a0 + 2:b0 - 2]
            mid = a0 + 2 + int(np.argmin(inner)) if inner.size else (a0 + b0) // 2
        nuclei[i:i + 1] = [(a0, max(a0 + 1, mid)), (max(a0 + 1, mid), b0)]
    # Boundaries between syllables: the energy minimum in each gap (consonants between two
    # vowels mostly open the next syllable: the cut sits a third of the way into the gap).
    cuts = [lo]
    for (_, b1), (a2, _) in itertools.pairwise(nuclei):
        if a2 > b1:
            cuts.append(b1 + (a2 - b1) // 3)
        else:
            cuts.append(b1)
    cuts.append(hi)
    voiced_frames = a.ap[(a.f0 > 0) & active]
    if voiced_frames.shape[0] >= 3:
        voiced_ap = np.median(voiced_frames, axis=0)
    else:  # a clean voice: periodic low, noisy high
        voiced_ap = np.clip(np.linspace(0.001, 0.5, a.ap.shape[1]) ** 2 * 4, 0.001, 0.9)
    pieces = []
    for (va, vb), (ca, cb) in zip(nuclei, itertools.pairwise(cuts), strict=True):
        ca, cb = min(ca, va), max(cb, vb)
        pieces.append(_Piece(a.f0[ca:cb], a.sp[ca:cb], a.ap[ca:cb], (va - ca, vb - ca),
                             voiced_ap))
    return pieces


# ----------------------------------------------------------------------------------------------
# The sung line


def _hz(pitch: float) -> float:
    return 440.0 * 2.0 ** ((pitch - 69.0) / 12.0)


def _wiggle(f0: np.ndarray, length: int) -> np.ndarray:
    """The spoken pitch's small movement around its own trend, in semitones, looped or cut
    to ``length`` frames (a sung note is never a flat line)."""
    v = f0[f0 > 0]
    if v.size < 5:
        return np.zeros(length)
    st = 12 * np.log2(v / np.median(v))
    trend = np.convolve(st, np.ones(5) / 5, mode="same")
    w = np.clip(st - trend, -0.25, 0.25) * 0.6
    reps = math.ceil(length / w.size)
    looped = np.concatenate([w if r % 2 == 0 else w[::-1] for r in range(reps)])
    return looped[:length]


def _note_frames(piece: _Piece, length: int, pitch: float, before: float | None,
                 formant: float, breath: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """The frames of one sung note (the onset consonants first, then ``length`` frames from
    the beat), and how many onset frames lie before the beat."""
    from .world import warp_envelope

    va, vb = piece.vowel
    n = piece.f0.size
    onset = va
    coda = n - vb
    pre = min(onset, int(PRE_ONSET_S * FPS))
    onset_keep = onset  # the onset frames before the vowel, those past `pre` eat into the note
    body = length - (onset - pre) - coda
    min_vowel = max(2, length // 3)
    if body < min_vowel:  # a short note: consonants shrink with it
        squeeze = max(0.2, (length - min_vowel) / max(onset - pre + coda, 1))
        onset_keep = pre + int((onset - pre) * squeeze)
        coda = int(coda * squeeze)
        body = max(1, length - (onset_keep - pre) - coda)
    src = np.concatenate([
        np.linspace(0, va - 1, onset_keep) if onset_keep else np.zeros(0),
        np.linspace(va, max(va, vb - 1), body),
        np.linspace(vb, n - 1, coda) if coda else np.zeros(0)]).round().astype(int)
    src = np.clip(src, 0, n - 1)
    f0 = piece.f0[src].copy()
    sp = piece.sp[src]
    ap = piece.ap[src].copy()
    vowel = slice(onset_keep, onset_keep + body)
    # Pitch: glide in from the note before, vibrato on long notes, the voice's own wiggle.
    t = np.arange(body) / FPS
    target = np.full(body, float(pitch))
    start = before if before is not None else pitch - 1.0
    glide = max(1, int(GLIDE_S * FPS))
    g = min(glide, body)
    target[:g] = start + (pitch - start) * (1 - np.cos(np.pi * np.arange(g) / glide)) / 2
    if body / FPS > VIBRATO_AFTER_S + 0.1:
        ramp = np.clip((t - VIBRATO_AFTER_S) / 0.25, 0, 1)
        target += VIBRATO_ST * ramp * np.sin(2 * np.pi * VIBRATO_HZ * np.maximum(
            t - VIBRATO_AFTER_S, 0))
    target += _wiggle(piece.f0[va:vb], body)
    f0[vowel] = [_hz(p) for p in target]
    voiced_cons = f0 > 0  # voiced consonants (m, n, l, v...) follow the note's pitch
    voiced_cons[vowel] = False
    f0[voiced_cons] = _hz(pitch)
    # A vowel is sung voiced even where the spoken word was breathy or creaky there: its
    # aperiodicity is held to the word's own voiced frames (or a clean voice's).
    ap[vowel] = np.minimum(ap[vowel], piece.voiced_ap[np.newaxis, :])
    if breath > 0:
        ap[vowel] = np.clip(ap[vowel] + breath * (1 - ap[vowel]), 0, 1)
    if abs(formant - 1.0) > 1e-6:
        sp = warp_envelope(sp, formant)
    return f0, np.ascontiguousarray(sp), ap, pre


def _phrases(sung: Sequence[SungNote]) -> list[list[SungNote]]:
    """Notes joined into phrases: a rest of :data:`PHRASE_REST_S` or more starts a new one."""
    out: list[list[SungNote]] = []
    for n in sung:
        if out and n.start - out[-1][-1].end < PHRASE_REST_S:
            out[-1].append(n)
        else:
            out.append([n])
    return out


def sing_notes(notes: Sequence[SungNote], *, voice: Voice, formant: float = 1.0,
               breath: float = 0.0, progress: Callable[[int, int], None] | None = None
               ) -> np.ndarray:
    """Mono samples at :data:`SAMPLE_RATE` of ``notes`` sung by ``voice``; note times are in
    seconds from 0. Each phrase is built as WORLD frames and synthesised in one piece (its
    memory is the phrase's, not the song's)."""
    from .world import synthesize

    sung = [n for n in notes if n.syllable]
    if not sung:
        raise ParameterError("there is nothing to sing: no note carries a syllable")
    out = np.zeros(math.ceil((max(n.end for n in notes) + 0.5) * SAMPLE_RATE), np.float32)
    parts: dict[int, dict[int, str]] = {}
    for n in sung:
        parts.setdefault(n.word, {})[n.part] = n.syllable or ""
    word_text = {w: "".join(p[k] for k in sorted(p)) for w, p in parts.items()}
    cache: dict[tuple[str, int], list[_Piece]] = {}
    done = 0
    for phrase in _phrases(sung):
        t0 = max(0.0, phrase[0].start - 2 * PRE_ONSET_S)
        total = math.ceil((phrase[-1].end - t0 + 0.3) * FPS) + 1
        f0 = np.zeros(total)
        sp: np.ndarray | None = None
        ap: np.ndarray | None = None
        prev: SungNote | None = None
        for n in phrase:
            word = word_text[n.word]
            key = (word.lower(), n.parts)
            if key not in cache:
                y = say(word, voice, rate=0.9)
                if y.size < 256:
                    y = np.pad(y, (0, 256 - y.size))
                cache[key] = split_word(analyse(y, SAMPLE_RATE, precise=True), n.parts)
            piece = cache[key][min(n.part, len(cache[key]) - 1)]
            if sp is None or ap is None:
                sp = np.full((total, piece.sp.shape[1]), _SILENT_SP)
                ap = np.ones((total, piece.sp.shape[1]))
            legato = prev is not None and n.start - prev.end < 0.05
            before = float(prev.pitch) if legato and prev is not None else None
            length = max(2, round((n.end - n.start) * FPS))
            nf0, nsp, nap, pre = _note_frames(piece, length, float(n.pitch), before,
                                              formant, breath)
            at = max(0, round((n.start - t0) * FPS) - pre)
            stop = min(total, at + nf0.size)
            k = stop - at
            # Crossfade into what the previous note left in these frames (its coda).
            overlap = np.flatnonzero(f0[at:stop] > 0) if legato else np.zeros(0, int)
            w = np.ones(k)
            if overlap.size:
                w[:overlap[-1] + 1] = np.linspace(0.3, 1.0, overlap[-1] + 1)
            sp[at:stop] = np.exp(np.log(nsp[:k]) * w[:, None]
                                 + np.log(sp[at:stop]) * (1 - w[:, None]))
            ap[at:stop] = nap[:k] * w[:, None] + ap[at:stop] * (1 - w[:, None])
            f0[at:stop] = nf0[:k]
            prev = n
            done += 1
            if progress is not None:
                progress(done, len(sung))
        seg = synthesize(Analysis(f0, sp, ap, SAMPLE_RATE))
        fade = min(64, seg.size // 2)
        if fade:
            seg[:fade] *= np.linspace(0, 1, fade, dtype=np.float32)
            seg[-fade:] *= np.linspace(1, 0, fade, dtype=np.float32)
        s0 = round(t0 * SAMPLE_RATE)
        s1 = min(out.size, s0 + seg.size)
        out[s0:s1] += seg[:s1 - s0]
    return out


def melody_notes(score, *, prefer_lyrics: bool = True) -> tuple[list[tuple[float, float, int]],
                                                                 list[str] | None]:
    """The melody's notes in seconds (start, end, pitch): the track with lyrics when there is
    one (and its lyrics), else the top line of all pitched tracks (the highest note at each
    onset, cut where the next begins)."""
    pitched = [t for t in score.tracks if not t.is_drum and t.notes]
    with_lyrics = [t for t in pitched if any(n.lyric for n in t.notes)]
    if prefer_lyrics and with_lyrics:
        track = max(with_lyrics, key=lambda t: sum(1 for n in t.notes if n.lyric))
        notes = sorted((n for n in track.notes if n.lyric), key=lambda n: (n.start, -n.pitch))
        lyrics = [n.lyric or "" for n in notes]
    else:
        melodic = [t for t in pitched if t.role in ("vocal", "lead", "melody")] or pitched
        notes = sorted((n for t in melodic for n in t.notes), key=lambda n: (n.start, -n.pitch))
        lyrics = None
    top = []
    for n in notes:
        if top and abs(top[-1].start - n.start) < 1e-6:
            continue  # a lower note of the same onset
        top.append(n)
    if not top:
        raise ParameterError("the melody has no notes to sing")
    if len(top) > MAX_NOTES:
        raise ParameterError(f"the melody has {len(top):,} notes; at most {MAX_NOTES:,} are "
                             "sung at once")
    out = []
    for i, n in enumerate(top):
        end = n.end if i + 1 == len(top) else min(n.end, top[i + 1].start)
        a, b = score.seconds_at(n.start), score.seconds_at(end)
        if b - a > 1e-3:
            out.append((a, b, n.pitch))
    if out[-1][1] > MAX_SECONDS:
        raise ParameterError(f"the melody lasts {out[-1][1] / 60:.0f} min; at most "
                             f"{MAX_SECONDS / 60:.0f} min are sung at once")
    if lyrics is not None and len(lyrics) != len(out):
        lyrics = None  # notes merged or dropped: the lyrics no longer line up
    return out, lyrics


def check_options(*, formant: float, breath: float, sample_rate: int) -> int:
    """Refuse impossible singing options before any work; the sample rate back."""
    from .speak import check_sample_rate

    if not (isinstance(formant, int | float) and 0.5 <= formant <= 2.0):
        raise ParameterError(f"formant ratio {formant!r} is outside 0.5-2")
    if not (isinstance(breath, int | float) and 0.0 <= breath <= 1.0):
        raise ParameterError(f"breathiness {breath!r} is outside 0-1")
    return check_sample_rate(sample_rate)


def sing(score, lyrics: str | None = None, *, lang: str | None = None,
         voice: str | None = None, formant: float = 1.0, breath: float = 0.0,
         sample_rate: int = SAMPLE_RATE, master: bool = True,
         progress: Callable[[int, int], None] | None = None) -> Singing:
    """Sing ``lyrics`` (or the melody's own lyrics when ``lyrics`` is None) on the melody of
    ``score``. ``lang`` defaults to the language the lyrics are written in."""
    from .speak import SPEECH_LUFS

    sample_rate = check_options(formant=formant, breath=breath, sample_rate=sample_rate)
    notes, own = melody_notes(score, prefer_lyrics=lyrics is None)
    if lyrics is None and own is None:
        raise ParameterError("the melody carries no lyrics: give the words to sing")
    if lyrics is not None:
        from ..compose.lyrics import guess_language, load_lyrics

        text = load_lyrics(lyrics)
        lang = lang or guess_language(text)
        syllables = lyric_syllables(text, lang)
    else:
        lang = lang or _guess_from_syllables(own or [])
        syllables = note_syllables(own or [])
    if lang not in LANGUAGE_NAMES:
        raise ParameterError(f"language {lang!r} is not one tunecraft sings "
                             f"({', '.join(LANGUAGE_NAMES)})")
    v = voice_for(lang, voice)
    sung, warnings = assign(notes, syllables)
    shift = fit_range(sung, v.name)
    if shift:
        sung = [SungNote(n.start, n.end, n.pitch + shift, n.syllable, n.word, n.part, n.parts)
                for n in sung]
        warnings = [*warnings, f"the melody is sung {abs(shift) // 12} octave"
                               f"{'s' if abs(shift) > 12 else ''} {'up' if shift > 0 else 'down'} "
                               f"to fit the voice {v.name!r}"]
    for w in warnings:
        log.warning("sing: %s", w)
    y = sing_notes(sung, voice=v, formant=formant, breath=breath, progress=progress)
    audio = Audio(y[np.newaxis, :], SAMPLE_RATE)
    if sample_rate != SAMPLE_RATE:
        from ..io.audio import resample

        audio = resample(audio, sample_rate)
    if master:
        from ..synth.mastering import master as _master

        audio = _master(audio, target_lufs=SPEECH_LUFS, ceiling_dbtp=-1.0)
    return Singing(audio, v.name, tuple(sung), shift, tuple(warnings))


def _guess_from_syllables(lyrics: Sequence[str]) -> str:
    from ..compose.lyrics import guess_language

    return guess_language(" ".join(s.strip("-") for s in lyrics))
