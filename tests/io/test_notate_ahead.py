"""The MusicXML made in a forked process while the audio renders is the MusicXML made after."""

from __future__ import annotations

import multiprocessing

import pytest

from builders import band_score
from tunecraft.io.musicxml import musicxml_bytes, notate_ahead, write_musicxml

pytestmark = pytest.mark.skipif("fork" not in multiprocessing.get_all_start_methods(),
                                reason="no fork here: notation is made when written")


def test_notated_ahead_is_byte_for_byte_what_is_notated_after(tmp_path):
    score = band_score(4)
    serial = musicxml_bytes(score)
    assert notate_ahead(score)
    write_musicxml(score, tmp_path / "ahead.musicxml")
    assert (tmp_path / "ahead.musicxml").read_bytes() == serial
    assert not multiprocessing.active_children()  # the notation process was reaped


def test_a_score_notated_ahead_but_never_written_does_not_block_the_next():
    first, second = band_score(2), band_score(3)
    assert notate_ahead(first)
    assert notate_ahead(second)  # the first one's process is ended
    assert musicxml_bytes(second) == musicxml_bytes(band_score(3))
    assert not multiprocessing.active_children()
