"""One CLI: the same options mean the same everywhere and exist wherever they make sense."""

from __future__ import annotations

import json

import click
import pytest

from test_cli import run
from tunecraft.cli.main import cli

BUNDLE_WRITERS = ("render", "generate", "demo", "story", "arrange", "continue", "sample")


def _options(name: str) -> set[str]:
    cmd = cli.commands[name]
    return {o for p in cmd.params if isinstance(p, click.Option) for o in p.opts}


@pytest.mark.parametrize("name", BUNDLE_WRITERS)
def test_every_bundle_writer_has_the_same_audio_options(name):
    opts = _options(name)
    for flag in ("--stems", "--backend", "--soundfont", "--force", "-q", "--quiet", "-v",
                 "-o", "--output"):
        assert flag in opts, (name, flag)
    if name != "demo":
        assert cli.commands[name].params[[p.name for p in cli.commands[name].params].index(
            "output")].required is False  # every -o has a default
    help_text = " ".join(p.help or "" for p in cli.commands[name].params
                         if isinstance(p, click.Option) and "--seed" in p.opts)
    if name not in ("demo", "render"):
        assert "random" in help_text and "recorded" in help_text, name


@pytest.mark.parametrize("name", sorted(cli.commands))
def test_every_command_takes_verbose(name):
    assert "-v" in _options(name), name


def test_styles_and_instruments_list_what_is_understood():
    r = run("styles", "--json")
    assert r.returncode == 0, r.stderr
    styles = {s["id"]: s for s in json.loads(r.stdout)}
    assert len(styles) >= 35 and "celtic" in styles
    assert "jig" in styles["celtic"]["words"] and "6/8" in styles["celtic"]["meters"]
    assert all(s["description"] and "\n" not in s["description"] for s in styles.values())
    text = run("styles").stdout
    assert "celtic" in text and "bpm" in text
    r = run("instruments", "--json")
    inst = {i["name"]: i for i in json.loads(r.stdout)}
    assert inst["piano"]["program"] == 0 and "teclado" in inst["piano"]["words"]
    assert inst["violin"]["sound"] == "Violin"


def test_sample_writes_an_everyday_meter_and_records_its_seed(tmp_path):
    out = tmp_path / "s.wav"
    r = run("sample", "--bars", "4", "--backend", "sine", "-o", str(out))
    assert r.returncode == 0, r.stderr
    data = json.loads(out.with_suffix(".json").read_text())
    assert data["summary"]["meter"] in ("4/4", "3/4", "2/4", "6/8")
    assert isinstance(data["request"]["seed"], int)
    assert f"seed {data['request']['seed']}" in r.stdout


def test_default_outputs_go_to_out(tmp_path):
    from builders import melody_score
    from tunecraft.io.midi import write_midi

    src = write_midi(melody_score(), tmp_path / "tune.mid")
    r = run("render", str(src), "--backend", "sine", "-q", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "out" / "tune.wav").exists() and r.stdout == ""
