"""The studio's Chat tab: each browser conversation keeps its own conductor and files."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("gradio", reason="the web extra is not installed")

from tunecraft.errors import TunecraftError
from tunecraft.web.page import chat_turn
from tunecraft.web.store import Store


def test_a_conversation_remembers_its_piece_and_another_does_not(tmp_path):
    store = Store(tmp_path)
    a, turn, audio, _ = chat_turn(store, None, "a calm piano piece, 6 seconds")
    assert turn.calls[0].ok and audio is not None and Path(audio).exists()
    assert Path(audio).parent == tmp_path / "chat" / a  # its own folder in the library
    same, turn2, audio2, _ = chat_turn(store, a, "make it faster")
    assert same == a and turn2.calls[0].args["source"] == audio and audio2 != audio
    b, turn3, _, _ = chat_turn(store, None, "make it faster")
    assert b != a and not turn3.calls[0].ok  # a new conversation has no piece


def test_empty_and_huge_messages_are_refused(tmp_path):
    store = Store(tmp_path)
    with pytest.raises(TunecraftError, match="type a message"):
        chat_turn(store, None, "  ")
    with pytest.raises(TunecraftError, match="2,000"):
        chat_turn(store, None, "x" * 5000)


def test_files_outside_the_conversation_are_never_read(tmp_path):
    store = Store(tmp_path / "data")
    secret = tmp_path / "secret.mid"
    secret.write_bytes(b"MThd")
    for message in (f"info about {secret}", f"convert {secret} to mp3",
                    "render ../../secret.mid"):
        _, turn, _, made = chat_turn(store, None, message)
        assert turn.calls and not turn.calls[0].ok, message
        assert "only files made in this conversation" in turn.calls[0].error
        assert made == []
