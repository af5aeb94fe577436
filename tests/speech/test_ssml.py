"""SSML and plain text read into segments a voice speaks; numbers read as words (en/es/pt)."""

from __future__ import annotations

import pytest

from tunecraft.speech import SSMLError, number_words, ordinal_words, parse_ssml


@pytest.mark.parametrize(("n", "en", "es", "pt"), [
    (21, "twenty-one", "veintiuno", "vinte e um"),
    (100, "one hundred", "cien", "cem"),
    (1999, "one thousand nine hundred ninety-nine", "mil novecientos noventa y nueve",
     "mil novecentos e noventa e nove"),
    (21000, "twenty-one thousand", "veintiún mil", "vinte e um mil"),
    (2500000, "two million five hundred thousand", "dos millones quinientos mil",
     "dois milhões quinhentos mil"),
    (-3, "minus three", "menos tres", "menos três"),
])
def test_numbers_read_as_words_in_each_language(n, en, es, pt):
    assert (number_words(n, "en"), number_words(n, "es"), number_words(n, "pt")) == (en, es, pt)


def test_ordinals_and_limits():
    assert [ordinal_words(n) for n in (1, 2, 3, 12, 21, 40)] == [
        "first", "second", "third", "twelfth", "twenty-first", "fortieth"]
    assert ordinal_words(21, "es") == "vigésimo primero"
    with pytest.raises(Exception, match="too large"):
        number_words(10**13)


def test_plain_text_is_one_segment_per_sentence_with_numbers_read():
    segs = parse_ssml("I have 3 cats. You have 12,000!")
    assert [s.text for s in segs] == ["I have three cats.", "You have twelve thousand!"]
    assert all(s.pause > 0 for s in segs)
    assert parse_ssml("Tengo 3 gatos.", lang="es")[0].text == "Tengo tres gatos."


def test_each_tag_shapes_its_segment():
    segs = parse_ssml(
        '<speak>Hello<break time="500ms"/><prosody rate="slow" pitch="+2st" volume="-6dB">'
        'world</prosody><s>Now</s><emphasis level="strong">yes</emphasis>'
        '<lang xml:lang="pt-BR">Tenho 2 gatos</lang><voice name="joe">hi</voice>'
        '<sub alias="World Wide Web">WWW</sub><mark name="end"/></speak>')
    by_text = {s.text: s for s in segs}
    assert by_text["Hello"].pause == pytest.approx(0.5)
    world = by_text["world"]
    assert (world.rate, world.pitch, world.volume) == (0.8, 2.0, -6.0)
    assert by_text["Now"].pause > 0
    assert by_text["yes"].volume > 0 and by_text["yes"].rate < 1
    assert by_text["Tenho dois gatos"].lang == "pt"
    assert by_text["hi"].voice == "joe"
    assert "World Wide Web" in by_text
    assert segs[-1].mark == "end"


def test_nested_prosody_multiplies_rates_and_adds_pitches():
    segs = parse_ssml('<speak><prosody rate="50%" pitch="-10%"><prosody rate="x-fast" '
                      'pitch="+1st">inner</prosody></prosody></speak>')
    assert segs[0].rate == pytest.approx(0.5 * 1.6)
    assert segs[0].pitch == pytest.approx(12 * __import__("math").log2(0.9) + 1.0)


@pytest.mark.parametrize(("markup", "said"), [
    ('<say-as interpret-as="characters">abc</say-as>', "a b c"),
    ('<say-as interpret-as="ordinal">3</say-as>', "third"),
    ('<say-as interpret-as="digits">42</say-as>', "four two"),
    ('<say-as interpret-as="date" format="dmy">05/12/2026</say-as>',
     "December fifth, twenty twenty-six"),
    ('<say-as interpret-as="time">9:05</say-as>', "nine oh five"),
])
def test_say_as(markup, said):
    assert parse_ssml(f"<speak>{markup}</speak>")[0].text == said


def test_say_as_in_spanish_and_portuguese():
    es = parse_ssml('<speak xml:lang="es"><say-as interpret-as="date">2026-12-01</say-as>'
                    '</speak>')
    assert es[0].text == "primero de diciembre de dos mil veintiséis"
    pt = parse_ssml('<speak xml:lang="pt"><say-as interpret-as="time">14:30</say-as></speak>')
    assert pt[0].text == "catorze e trinta"


@pytest.mark.parametrize(("text", "message"), [
    ("", "no text"),
    ("<speak>unclosed", "<speak> is never closed"),
    ("<speak><prosody rate='slow'>hi</speak>", "<prosody> is not closed before </speak>"),
    ("<speak>a <break time=1s/></speak>", "inside <speak>: not well-formed"),
    ("<speak><audio src='x.wav'/></speak>", "<audio> is not supported"),
    ('<speak><break time="fast"/></speak>', "not a time"),
    ('<speak><prosody rate="warp">x</prosody></speak>', "not a rate"),
    ('<speak><prosody pitch="+30st">x</prosody></speak>', "two octaves"),
    ('<speak><say-as interpret-as="cardinal">many</say-as></speak>', "not a number"),
    ('<speak><lang xml:lang="de">Hallo</lang></speak>', "language 'de'"),
    ('<!DOCTYPE x [<!ENTITY a "b">]><speak>&a;</speak>', "DOCTYPE or ENTITY"),
    ("<p>no speak</p>", "starts with <speak>"),
    ('<speak><break/></speak>', "no text to speak"),
    ("x" * 30_001, "at most 30,000"),
])
def test_bad_input_is_one_clear_message(text, message):
    with pytest.raises(SSMLError, match=message):
        parse_ssml(text)


def test_a_doctype_inside_speak_is_refused():
    with pytest.raises(SSMLError, match="DOCTYPE"):
        parse_ssml('<speak><!DOCTYPE x></speak>')


@pytest.mark.parametrize(("lang", "text", "said"), [
    ("en", "On the 5th, 3.5 km at 120 bpm cost $20, 10% of 1,000.",
     "On the fifth, three point five kilometres at one hundred twenty beats per minute cost "
     "twenty dollars, ten percent of one thousand."),
    ("en", "Meet me at 7:05 or 19:00.", "Meet me at seven oh five or nineteen o'clock."),
    ("es", "El 2º día, a las 10:30, 1 hora, 1 kg y 3,5 km por 20 €.",
     "El segundo día, a las diez y treinta, una hora, un kilo y tres coma cinco kilómetros "
     "por veinte euros."),
    ("es", "1 canción, 1 día y 2 personas.", "una canción, un día y dos personas."),
    ("pt", "Tenho 42 anos, 1 hora e 2 canções; 25 °C.",
     "Tenho quarenta e dois anos, uma hora e duas canções; vinte e cinco graus."),
])
def test_plain_text_reads_times_units_decimals_and_agreement(lang, text, said):
    assert " ".join(s.text for s in parse_ssml(text, lang=lang)) == said
