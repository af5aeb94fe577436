"""The router on the labelled requests (tool accuracy, slot accuracy) and on the cases the
conductor must get right whatever the phrasing: chains, references, unsupported tasks."""

from __future__ import annotations

import pytest

from tunecraft.agent.router import Ref, route

from .labelled import HELDOUT, HELDOUT2, load, slots_ok, tool_ok


def test_the_labelled_requests_are_routed_to_the_right_tools():
    cases = load()
    assert len(cases) >= 200
    assert {c.lang for c in cases} == {"en", "es", "pt"}
    wrong = [(c.text, c.expected) for c in cases if not tool_ok(c, route(c.text, lang=c.lang))]
    accuracy = 1 - len(wrong) / len(cases)
    assert accuracy >= 0.95, wrong


@pytest.mark.parametrize("path", [HELDOUT, HELDOUT2], ids=["heldout", "heldout2"])
def test_the_held_out_requests_stay_routed(path):
    """Both sets were measured once before their misses were fixed (89.4% and 91.7%, in the
    README); they stay here so those fixes hold."""
    cases = load(path)
    wrong = [(c.text, c.expected) for c in cases if not tool_ok(c, route(c.text, lang=c.lang))]
    assert 1 - len(wrong) / len(cases) >= 0.95, wrong


def test_the_settings_named_are_filled():
    checked = [ok for c in load() for ok in slots_ok(c, route(c.text, lang=c.lang)).values()]
    assert len(checked) >= 60
    assert sum(checked) / len(checked) >= 0.95


def test_a_chain_passes_each_output_to_the_next_step():
    plan = route("compose a calm piano piece, put birdsong under it and give me an mp3")
    assert [s.tool for s in plan.steps] == ["generate", "sound", "mix", "convert"]
    sound, mix, convert = plan.steps[1:]
    assert sound.args["duration"] == Ref("seconds")  # as long as the piece
    assert mix.args["files"] == [Ref("prev_audio"), Ref("prev")]
    assert convert.args == {"source": Ref("prev"), "to": "mp3"}


def test_quoted_words_and_files_are_never_read_as_requests():
    plan = route('say "make it rain with drums" please')
    assert [s.tool for s in plan.steps] == ["speak"]
    assert plan.steps[0].args["text"] == "make it rain with drums"
    plan = route("denoise rain_and_thunder.wav")
    assert [s.tool for s in plan.steps] == ["denoise"]
    assert plan.steps[0].args["source"] == "rain_and_thunder.wav"


@pytest.mark.parametrize(("message", "topic"), [
    ("make a video of my dog", "video"), ("edita mi vídeo", "video"),
    ("desenhe um gato", "image"), ("translate 'hello' into German", "translation"),
    ("va a llover mañana", "weather"), ("tell me the news", "news"),
])
def test_unsupported_tasks_call_no_tool(message, topic):
    plan = route(message)
    assert plan.kind == "unsupported" and plan.topic == topic and not plan.steps


def test_music_for_a_video_is_music():
    plan = route("background music for my travel video, 20 seconds")
    assert [s.tool for s in plan.steps] == ["generate"]
    assert plan.steps[0].args["duration"] == 20


def test_the_language_of_the_message_is_the_reply_language_and_short_messages_keep_it():
    assert route("hazlo más rápido").lang == "es"
    assert route("mais devagar").lang == "pt"
    assert route("ok", lang="pt").lang == "pt"
