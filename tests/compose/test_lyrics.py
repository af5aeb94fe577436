"""Lyrics: syllables, stress, stanzas, the vocal line on the form, and lyrics in MIDI/MusicXML."""

from __future__ import annotations

from functools import cache
from itertools import pairwise

import pytest

from tunecraft.compose import compose
from tunecraft.compose.lyrics import (
    is_strong,
    layout_lyrics,
    load_lyrics,
    lyric_text,
    parse_lyrics,
    syllabify,
    write_vocal_line,
)
from tunecraft.compose.plan import PartSpec, Plan, make_plan
from tunecraft.errors import InputFileError, ParameterError
from tunecraft.score.types import Note
from tunecraft.styles import load_style
from tunecraft.understand import parse

SEED_LYRICS = "We light up the sky tonight, every heart is burning bright"
SONG = """[Verse 1]
The city sleeps beneath the rain
I walk alone and call your name

[Chorus]
We light up the sky tonight
Every heart is burning bright

[Verse 2]
The morning comes and you are near
The shadows fade, the sky is clear

[Chorus]

[Bridge]
Hold on, hold on, we will be fine
"""
VOICE = PartSpec("Voice", "vocal", 53, low=60, high=79)


def _word(word: str, lang: str) -> list[tuple[str, bool]]:
    line = parse_lyrics(word, language=lang).stanzas[0].lines[0]
    return [(s.text, s.stressed) for s in line]


@cache
def _plan(prompt: str = "an upbeat pop song", duration: float = 150.0, seed: int = 4) -> Plan:
    spec = parse(prompt, duration=duration, seed=seed)
    return make_plan(spec, load_style(spec.style), seed=seed)


@cache
def _line(prompt: str = "an upbeat pop song", text: str = SONG, duration: float = 150.0,
          seed: int = 4) -> tuple[Note, ...]:
    return write_vocal_line(_plan(prompt, duration, seed), VOICE, parse_lyrics(text))


def _notes_in(notes, section) -> list[Note]:
    return [n for n in notes if section.start - 1e-6 <= n.start < section.end - 1e-6]


# -- syllables and stress ----------------------------------------------------------------------


@pytest.mark.parametrize(("word", "lang", "count", "stressed"), [
    ("beautiful", "en", 3, 0), ("tonight", "en", 2, 1), ("remember", "en", 3, 1),
    ("burning", "en", 2, 0), ("celebration", "en", 4, 2), ("away", "en", 2, 1),
    ("corazón", "es", 3, 2), ("canción", "es", 2, 1), ("amigo", "es", 3, 1),
    ("ciudad", "es", 2, 1), ("quiero", "es", 2, 0), ("país", "es", 2, 1),
    ("música", "pt", 3, 0), ("canção", "pt", 2, 1), ("saudade", "pt", 3, 1),
    ("amor", "pt", 2, 1), ("alegria", "pt", 4, 2),
])  # fmt: skip
def test_syllable_counts_and_main_stress(word, lang, count, stressed):
    syl = _word(word, lang)
    assert len(syl) == count, syl
    assert syl[stressed][1], syl
    assert "".join(t for t, _ in syl) == word


def test_syllabify_keeps_spelling_and_case():
    assert syllabify("Beautiful", "en") == ["Beau", "ti", "ful"]
    assert syllabify("corazón", "es") == ["co", "ra", "zón"]
    assert syllabify("música", "pt") == ["mú", "si", "ca"]


def test_function_words_unstressed_content_words_stressed():
    line = parse_lyrics("the sky is on fire").stanzas[0].lines[0]
    assert [(s.text, s.stressed) for s in line] == [
        ("the", False), ("sky", True), ("is", False), ("on", False), ("fire", True)]
    es = parse_lyrics("el amor de mi vida", language="es").stanzas[0].lines[0]
    assert [s.stressed for s in es] == [False, False, True, False, False, True, False]


def test_spanish_stress_rules():
    assert _word("cantar", "es") == [("can", False), ("tar", True)]  # consonant: last
    assert _word("canta", "es") == [("can", True), ("ta", False)]  # vowel: penultimate
    assert _word("cantan", "es") == [("can", True), ("tan", False)]  # n: penultimate


def test_lyric_text_hyphens_follow_music21():
    syl = parse_lyrics("beautiful sky").stanzas[0].lines[0]
    assert [lyric_text(s) for s in syl] == ["beau-", "-ti-", "-ful", "sky"]


# -- stanzas -----------------------------------------------------------------------------------


def test_headers_name_the_stanzas_and_a_bare_header_repeats_the_chorus():
    lyr = parse_lyrics(SONG)
    assert [s.kind for s in lyr.stanzas] == ["verse", "chorus", "verse", "chorus", "bridge"]
    assert lyr.stanzas[1].lines == lyr.stanzas[3].lines
    assert lyr.language == "en"


def test_repeated_stanza_is_the_chorus():
    text = "one two three four\nfive six\n\nla la la love\nla la la\n\nseven eight nine\nten\n\n" \
           "La la la love!\nla la la"
    assert [s.kind for s in parse_lyrics(text).stanzas] == ["verse", "chorus", "verse", "chorus"]


def test_colon_headers_and_other_languages():
    lyr = parse_lyrics("Estribillo: canta corazón\ncanta\n\nVerso: la noche\n", language="es")
    assert [s.kind for s in lyr.stanzas] == ["chorus", "verse"]
    lyr = parse_lyrics("[Refrão]\na música do mar", language="pt")
    assert lyr.stanzas[0].kind == "chorus"


def test_a_long_line_breathes_at_its_comma_and_one_line_is_one_verse():
    lyr = parse_lyrics(SEED_LYRICS)
    assert len(lyr.stanzas) == 1 and lyr.stanzas[0].kind == "verse"
    lines = lyr.stanzas[0].lines
    assert [len(line) for line in lines] == [7, 7]
    assert all(line[-1].line_end for line in lines)
    assert sum(s.line_end for line in lines for s in line) == 2


@pytest.mark.parametrize("text", ["", "   \n\n  ", "... !!! ,,,", "[Chorus]\n\n[Verse]", "123 456"])
def test_empty_lyrics_are_an_error(text):
    with pytest.raises(ParameterError, match="lyrics are empty"):
        parse_lyrics(text)


def test_unknown_language_is_an_error():
    with pytest.raises(ParameterError, match="not supported"):
        parse_lyrics("hallo welt", language="de")


def test_load_lyrics_reads_files_and_passes_text(tmp_path):
    f = tmp_path / "song.txt"
    f.write_text("la la love\n", encoding="utf-8")
    assert load_lyrics(str(f)) == "la la love\n"
    assert load_lyrics(SEED_LYRICS) == SEED_LYRICS
    with pytest.raises(InputFileError, match="does not exist"):
        load_lyrics(str(tmp_path / "missing.txt"))
    (tmp_path / "empty.txt").write_text("  \n", encoding="utf-8")
    with pytest.raises(InputFileError, match="empty"):
        load_lyrics(str(tmp_path / "empty.txt"))
    (tmp_path / "bin.txt").write_bytes(b"\x00\x01\x02abc")
    with pytest.raises(InputFileError, match="not text"):
        load_lyrics(str(tmp_path / "bin.txt"))


# -- the vocal line ----------------------------------------------------------------------------


def _by_section(plan: Plan, notes) -> dict[str, list[Note]]:
    """Notes per section; an unstressed pickup (up to an eighth early) belongs to the next."""
    out: dict[str, list[Note]] = {s.name: [] for s in plan.sections}
    for n in notes:
        s = next(x for x in plan.sections if x.start - 0.5 - 1e-6 <= n.start < x.end - 0.5 - 1e-6
                 or x is plan.sections[-1])
        out[s.name].append(n)
    return out


def test_one_note_per_syllable_in_order():
    plan = _plan()
    lyrics = parse_lyrics(SONG)
    notes = _line()
    assert all(n.lyric for n in notes)
    assert all(b.start >= a.end - 1e-6 for a, b in pairwise(notes))
    layout = layout_lyrics(plan, lyrics)
    sections = _by_section(plan, notes)
    sung_stanzas = set()
    for s in plan.sections:
        idx = layout.stanza_for(s.name)
        got = [n.lyric for n in sections[s.name]]
        if idx is None:
            assert not got, s.name
            continue
        sung_stanzas.add(idx)
        words = [lyric_text(x) for x in lyrics.stanzas[idx].syllables]
        # The stanza, in order, once or (a chorus filling a long section) several times.
        assert got and len(got) % len(words) == 0, (s.name, got)
        assert got == words * (len(got) // len(words)), s.name
    assert sung_stanzas == {0, 1, 2, 4}  # verse 1, the chorus, verse 2, the bridge


@pytest.mark.parametrize(("prompt", "text"), [
    ("an upbeat pop song", SONG), ("an upbeat pop song", SEED_LYRICS),
    ("a waltz", SONG), ("a celtic jig in 6/8", SONG), ("a rock song", SEED_LYRICS),
])  # fmt: skip
def test_stressed_syllables_fall_on_strong_beats(prompt, text):
    plan = _plan(prompt)
    lyrics = parse_lyrics(text)
    notes = write_vocal_line(plan, VOICE, lyrics)
    stressed = {lyric_text(s) for st in lyrics.stanzas for s in st.syllables if s.stressed}
    unstressed = {lyric_text(s) for st in lyrics.stanzas for s in st.syllables if not s.stressed}
    on = [is_strong(plan, n.start) for n in notes if n.lyric in stressed - unstressed]
    assert on and sum(on) / len(on) >= 0.8, (prompt, sum(on), len(on))


def test_notes_are_in_the_voice_range_and_follow_the_harmony():
    plan = _plan()
    notes = _line()
    assert all(VOICE.low <= n.pitch <= VOICE.high for n in notes)
    strong = [n for n in notes if is_strong(plan, n.start)]
    in_chord = [n.pitch % 12 in plan.chord_at(n.start).pitch_classes for n in strong]
    assert sum(in_chord) / len(in_chord) >= 0.9
    scale = set(plan.key.scale)
    assert sum(n.pitch % 12 in scale for n in notes) / len(notes) >= 0.9


def test_every_chorus_has_the_same_words_and_pitches():
    plan = _plan()
    notes = _line()
    choruses = [s for s in plan.sections if s.kind == "chorus"]
    assert len(choruses) >= 2
    words = set()
    by_length: dict[int, list] = {}
    sections = _by_section(plan, notes)
    for s in choruses:
        inside = sections[s.name]
        assert inside
        words.add(tuple(n.lyric for n in inside[:14]))
        by_length.setdefault(s.bars, []).append(
            [(round(n.start - s.start, 3), n.pitch, n.lyric) for n in inside])
    assert len(words) == 1  # the same words every time
    assert any(len(v) >= 2 for v in by_length.values())
    for shapes in by_length.values():  # the same tune in choruses of the same length
        for shape in shapes[1:]:
            assert shape == shapes[0]


def test_no_lyrics_in_intro_or_outro_and_verses_in_order():
    plan = _plan()
    notes = _line()
    for s in plan.sections:
        if s.kind in ("intro", "outro"):
            # An unstressed pickup into the next section may start an eighth early.
            inside = [n for n in _notes_in(notes, s) if n.start < s.end - 0.5 - 1e-6]
            assert not inside, s.name
    verses = [s for s in plan.sections if s.kind == "verse"]
    assert len(verses) >= 2
    first_words = [next(n.lyric for n in notes if n.start >= v.start - 0.5 - 1e-6)
                   for v in verses[:2]]
    assert first_words == ["The", "The"]
    v1 = [n.lyric for n in _notes_in(notes, verses[0])]
    v2 = [n.lyric for n in _notes_in(notes, verses[1])]
    assert "ci-" in v1 and "morn-" in v2


def test_lines_breathe():
    plan = _plan()
    notes = _line()
    ends = [i for i, n in enumerate(notes[:-1]) if notes[i + 1].start - n.end >= 0.5 - 1e-6]
    # Every line ends with a rest (the breath) before the next line.
    assert len(ends) >= 10
    assert plan  # (uses the cached plan)


def test_melisma_adds_notes_without_lyrics():
    plan = _plan()
    lyrics = parse_lyrics(SONG)
    plain = write_vocal_line(plan, VOICE, lyrics)
    rich = write_vocal_line(plan, VOICE, lyrics, melisma=True)
    assert [n.lyric for n in rich if n.lyric] == [n.lyric for n in plain]
    if len(rich) > len(plain):
        assert any(n.lyric is None for n in rich)


def test_deterministic():
    plan = _plan()
    a = write_vocal_line(plan, VOICE, parse_lyrics(SONG))
    b = write_vocal_line(plan, VOICE, parse_lyrics(SONG))
    assert a == b
    spec = parse("an upbeat pop song", duration=30, seed=9)
    s1 = compose(spec, seed=9, lyrics=parse_lyrics(SEED_LYRICS)).score
    s2 = compose(spec, seed=9, lyrics=parse_lyrics(SEED_LYRICS)).score
    assert s1 == s2


def test_too_many_syllables_for_a_section_is_a_clear_error():
    plan = _plan(duration=20.0)
    words = " ".join(["beautiful"] * 80)
    with pytest.raises(ParameterError, match=r"syllables do not fit in \d+ bars.*--duration"):
        write_vocal_line(plan, VOICE, parse_lyrics(f"[Chorus]\n{words}"))


def test_stanzas_without_room_are_reported_not_dropped_silently(caplog):
    plan = _plan(duration=30.0)
    text = "\n\n".join(f"verse number {i} goes here\nand then it ends" for i in range(6))
    with caplog.at_level("WARNING"):
        layout = layout_lyrics(plan, parse_lyrics(text))
    assert layout.unsung and layout.notes
    assert "not sung" in layout.notes[0] and "--duration" in layout.notes[0]
    assert "not sung" in caplog.text


# -- the score, MIDI and MusicXML --------------------------------------------------------------


@cache
def _song_score():
    spec = parse("an upbeat pop song", duration=45, seed=5)
    return compose(spec, seed=5, lyrics=parse_lyrics(SONG)).score


def test_compose_with_lyrics_sings_on_a_voice():
    score = _song_score()
    vocal = [t for t in score.tracks if t.role == "vocal"]
    assert len(vocal) == 1
    assert vocal[0].program in (52, 53)
    assert sum(1 for n in vocal[0].notes if n.lyric) == len(vocal[0].notes) > 10
    assert not any(n.lyric for t in score.tracks if t.role != "vocal" for n in t.notes)


def test_a_named_lead_instrument_still_plays():
    spec = parse("a pop song with a violin melody", duration=30, seed=2)
    score = compose(spec, seed=2, lyrics=parse_lyrics(SEED_LYRICS)).score
    assert any(t.program == 40 and t.notes for t in score.tracks)
    assert any(t.role == "vocal" and t.program == 53 for t in score.tracks)


def test_midi_round_trip_keeps_every_lyric_on_its_note(tmp_path):
    from tunecraft.io.midi import read_midi, write_midi

    score = _song_score()
    back = read_midi(write_midi(score, tmp_path / "song.mid"))
    vocal = next(t for t in score.tracks if t.role == "vocal")
    read = next(t for t in back.tracks if t.role == "vocal")
    assert [(n.pitch, n.start, n.lyric) for n in read.notes] == \
        [(n.pitch, n.start, n.lyric) for n in vocal.notes]


def test_musicxml_carries_the_lyrics(tmp_path):
    import music21

    from tunecraft.io.musicxml import write_musicxml

    score = _song_score()
    vocal = next(t for t in score.tracks if t.role == "vocal")
    path = write_musicxml(score, tmp_path / "song.musicxml")
    m21 = music21.converter.parse(str(path))
    part = next(p for p in m21.parts if any(n.lyric for n in p.recurse().notes))
    lyr = [n.lyrics[0] for n in part.recurse().notes if n.lyrics]
    assert [x.text for x in lyr] == [n.lyric.strip("-") for n in vocal.notes]
    assert [x.rawText for x in lyr] == [n.lyric for n in vocal.notes]
    kinds = {x.syllabic for x in lyr}
    assert {"begin", "end", "single"} <= kinds
