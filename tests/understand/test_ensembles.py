"""Named ensembles, change words, the one language detector and the vocabulary loader."""

from __future__ import annotations

import itertools

import pytest

from tunecraft.understand import parse
from tunecraft.understand.lexicon import detect_language
from tunecraft.understand.vocabulary import VocabularyError, parse_vocabulary, read_vocabulary

ENSEMBLES = read_vocabulary("ensembles.toml")


def _players(spec):
    return sorted((r.name, r.program, r.role) for r in spec.instruments)


def test_a_string_quartet_is_two_violins_a_viola_and_a_cello():
    spec = parse("a string quartet, slow and sad", seed=1)
    assert spec.ensemble == "string_quartet" and not spec.drums
    assert sorted(r.program for r in spec.instruments) == [40, 40, 41, 42]
    assert all(r.source == "explicit" for r in spec.instruments)
    assert spec.style == "classical"


@pytest.mark.parametrize("eid", sorted(ENSEMBLES))
def test_each_named_ensemble_gets_exactly_its_players(eid):
    entry = ENSEMBLES[eid]
    spec = parse(entry["words"][0], seed=1)
    assert spec.ensemble == eid
    names = [p.get("name", p["instrument"]) for p in entry["players"]]
    assert [r.name for r in spec.instruments] == names
    assert spec.drums == entry.get("drums", False)


@pytest.mark.parametrize("prompt, eid", [("cuarteto de cuerdas triste", "string_quartet"),
                                         ("quarteto de cordas", "string_quartet"),
                                         ("quinteto de metales festivo", "brass_quintet"),
                                         ("coro a quatro vozes", "satb_choir")])
def test_ensembles_in_spanish_and_portuguese(prompt, eid):
    assert parse(prompt, seed=1).ensemble == eid


def test_other_instruments_join_an_ensemble_and_a_singer_leads_it():
    spec = parse("string quartet with piano", seed=1)
    assert [r.name for r in spec.instruments][-1] == "piano"
    assert sum(r.role in ("lead", "vocal") for r in spec.instruments) == 1
    sung = parse("an opera singer with a symphony orchestra", seed=1)
    leads = [r.name for r in sung.instruments if r.role in ("lead", "vocal")]
    assert leads == ["vocals"]


def test_a_genre_inside_an_ensemble_name_is_still_heard():
    assert "jazz orchestra" in parse("a jazz orchestra", seed=1).genres


def test_excluding_drums_from_a_trio_and_explain_says_the_ensemble():
    from tunecraft.understand import explain

    spec = parse("jazz trio without drums", seed=1)
    assert not spec.drums and all(not r.is_drum for r in spec.instruments)
    text = explain(spec)
    assert "ensemble     jazz trio" in text and "acoustic bass (bass)" in text
    assert "ensemble" not in explain(parse("pop song", seed=1))


def test_the_quartet_plays_as_a_chorale_under_the_tune():
    from tunecraft import api

    score = api.generate("a string quartet", seed=2, duration=20, render=False).score
    assert sorted(t.program for t in score.tracks) == [40, 40, 41, 42]
    assert all(not t.is_drum for t in score.tracks)
    lead = score.track("Violin 1")
    for name in ("Violin 2", "Viola"):
        inner = score.track(name).notes
        assert inner
        # One note at a time (humanized by a few ms), by small steps, under the tune.
        assert all(a.end <= b.start + 0.05 for a, b in itertools.pairwise(inner))
        leaps = [abs(a.pitch - b.pitch) for a, b in itertools.pairwise(inner)]
        assert sum(leap <= 5 for leap in leaps) >= 0.8 * len(leaps)
        for n in inner:
            top = [m for m in lead.notes if m.start <= n.start < m.end]
            assert not top or n.pitch <= top[0].pitch


def test_change_words_are_vocabulary():
    spec = parse("faster and louder, with strings", seed=1)
    assert spec.changes == ("faster", "louder")
    assert parse("mas lento y mas suave", seed=1).changes == ("slower", "softer")
    assert parse("pop song", seed=1).changes == ()
    assert "changes" not in parse("pop song", seed=1).to_dict()


def test_a_style_option_beats_the_words():
    spec = parse("a calm piano piece", style="edm", seed=1)
    assert spec.style == "edm" and spec.evidence["style"].source == "explicit"
    from tunecraft.errors import ParameterError

    with pytest.raises(ParameterError, match="style 'polka' is unknown"):
        parse("a song", style="polka")


@pytest.mark.parametrize("text, lang", [
    ("el amor de mi vida, la noche y el cielo", "es"),
    ("meu coração, a noite e o céu", "pt"),
    ("you are my heart tonight", "en"),
    ("¿dónde?", "es"),
    ("ação", "pt"),
    ("", "en"),
])
def test_one_language_detector_for_prompts_and_lyrics(text, lang):
    from tunecraft.compose.lyrics import guess_language

    assert detect_language(text)[0] == lang
    assert guess_language(text) == lang


@pytest.mark.parametrize("name, text, message", [
    ("instruments.toml", '[kazoo]\nprogram = 200\nrole = "lead"\n',
     r"instruments.toml: \[kazoo\].program is 200, not a General MIDI program"),
    ("instruments.toml", '[kazoo]\nprogram = 1\nrole = "singer"\n',
     r"\[kazoo\].role is 'singer', not a role"),
    ("instruments.toml", '[kazoo]\nprogram = 1\nrole = "lead"\ncolour = "red"\n',
     r"\[kazoo\].colour is not a known key"),
    ("genres.toml", '[rock]\nstrong = "rock"\n', r"\[rock\].strong must be a list of words"),
    ("ensembles.toml", '[duo]\nwords = ["duo"]\nplayers = [{ instrument = "kazoo", role = '
                       '"lead" }]\n', r"\[duo\].players\[0\].instrument is 'kazoo'"),
    ("ensembles.toml", '[duo]\nwords = ["duo"]\nplayers = [{ instrument = "violin", role = '
                       '"lead" }, { instrument = "violin", role = "bass" }]\n',
     r"players\[1\].name 'violin' is given to two players"),
    ("ensembles.toml", '[duo]\nwords = ["duo"]\nplayers = [{ instrument = "violin", role = '
                       '"lead", register = [80, 60] }]\n', r"register is \[80, 60\]: low is above"),
    ("words.toml", "[tempo]\n", r"words.toml: \[mood\] is missing"),
    ("genres.toml", "[rock\n", r"genres.toml: is not valid TOML"),
])
def test_the_vocabulary_loader_names_the_file_and_the_key(name, text, message):
    with pytest.raises(VocabularyError, match=message):
        parse_vocabulary(name, text)


def test_every_vocabulary_file_loads():
    from tunecraft.understand.vocabulary import FILES

    for name in FILES:
        assert read_vocabulary(name)
