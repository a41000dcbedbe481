# The two commands a newcomer needs: `make app` runs the app, `make test` passes the tests.
# Both set up everything on a fresh Debian machine (system packages, .venv, torch CPU wheel).
SHELL := /bin/bash
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SYS_PACKAGES := libpulse0 libpulse-mainloop-glib0 libxcb-icccm4 libxcb-keysyms1 libxcb-image0 \
	libxcb-render-util0 libxcb-randr0 libxcb-xkb1 libxcb-shape0 libxcb-cursor0 libxkbcommon-x11-0 \
	libegl1 libgl1 libfontconfig1 libdbus-1-3 xvfb xauth abcmidi abcm2ps pulseaudio pulseaudio-utils fluidsynth timgm6mb-soundfont \
	gcc libc6-dev
SYS_STAMP := $(VENV)/.system-packages
# The engines' compiled step (musicgen/engine/native.c): built here for this CPU, rebuilt when its
# source changes; without a compiler the build says so and the engines step with NumPy.
NATIVE := musicgen/engine/_native.so

.PHONY: app test test-fast sysdeps venv bench screenshots clean fuzz

app: $(STAMP) $(NATIVE)
	$(BIN)/musicgen-gui

test: $(STAMP) $(SYS_STAMP) $(NATIVE)
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest -q

test-fast: $(STAMP) $(NATIVE)
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest -q -m "not slow"

venv: $(STAMP) $(NATIVE)

$(NATIVE): musicgen/engine/native.c musicgen/engine/native.py | $(STAMP)
	$(BIN)/python -m musicgen.engine.build --optional

# System packages: only the missing ones, only when we are root (or have sudo).
$(SYS_STAMP): Makefile
	@mkdir -p $(VENV)
	@missing=""; for p in $(SYS_PACKAGES); do \
		dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
		echo "installing system packages:$$missing"; \
		if [ "$$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi; \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing; \
	fi
	@touch $@

$(STAMP): pyproject.toml | $(SYS_STAMP)
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e '.[test]'
	@touch $@

sysdeps: $(SYS_STAMP)

# The long fuzz run: FUZZ_INPUTS hostile inputs per format (MIDI, ABC, MusicXML, .mxl, checkpoints),
# each read in a bounded child process; counts per outcome as JSON lines, and every input that
# fails kept in tests/fuzz/regressions (replayed by `make test`). Exit status 1 if any failed.
FUZZ_INPUTS ?= 10000
fuzz: $(STAMP)
	$(BIN)/python -m tests.fuzz.run --inputs $(FUZZ_INPUTS)

bench: $(STAMP) $(NATIVE)
	for b in benchmarks/bench_*.py; do $(BIN)/python $$b; done

clean:
	rm -rf $(VENV) build *.egg-info $(NATIVE)

# Screenshots of the real window into docs/ (empty state, a generated tune, the export dialog), at
# the size of a small laptop screen, under a virtual X server. Uses the shipped checkpoints.
screenshots: $(STAMP) $(SYS_STAMP)
	xvfb-run -a -s "-screen 0 1366x768x24" $(BIN)/python scripts/screenshots.py
	xvfb-run -a -s "-screen 0 1366x768x24" $(BIN)/python scripts/screenshots_sizes.py
