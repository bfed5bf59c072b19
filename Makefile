# Every command the README names is a target here, and works with nothing but Python 3.11+,
# pip and make: where uv is missing it is installed with pip on first use. pip puts it in
# ~/.local/bin, which is often not on PATH, so it is looked for there too, and as a last resort
# run as `python3 -m uv`; then uv installs everything else, exactly as pinned in uv.lock.
UV := $(shell command -v uv 2>/dev/null || { test -x "$(HOME)/.local/bin/uv" && echo "$(HOME)/.local/bin/uv"; } || echo python3 -m uv)
RUN := $(UV) run --frozen

.PHONY: help console console-text voice-call test test-fast fuzz load live lint bench demo reset \
	download-files uv

# `make` alone, or `make help`: every target with what it does (the `##` line above each).
## this list
help:
	@echo "make <target>:"
	@awk '/^## / { text = substr($$0, 4); next } /^[a-z-]+:/ && text { split($$0, t, ":"); \
		printf "  %-15s %s\n", t[1], text; text = "" } { if ($$0 !~ /^## /) text = "" }' \
		$(firstword $(MAKEFILE_LIST))

## talk to the agent by voice (microphone, speaker; OPENAI_API_KEY and DEEPGRAM_API_KEY)
console: uv
	$(RUN) python -m agent console

## type to the agent in this terminal (an LLM only: OPENAI_API_KEY or OPENAI_BASE_URL)
console-text: uv
	$(RUN) python -m agent console --text

## the voice console with no keys and no hardware: Jane calls it on virtual audio devices
voice-call: uv
	$(RUN) python -m tests.support.voice_call

## the whole default test suite, offline, no keys (a few minutes)
test: uv
	$(RUN) pytest

# While working: the unit and scripted-agent tests, stopping at the first failure; no Redis
# Cluster, no cross-process races, no subprocess consoles, no wheel build.
## unit, plugin and scripted-agent tests, stopping at the first failure (while working)
test-fast: uv
	$(RUN) pytest -q -x -p no:cacheprovider tests/verification tests/agent tests/plugin \
		tests/test_env_example.py tests/test_layering.py \
		--ignore=tests/agent/test_console.py --ignore=tests/verification/test_concurrency.py \
		--ignore=tests/plugin/test_wheel.py -k "not several_processes"

# The marked suites the default run leaves out.
## hostile-input properties at 10,000 examples each (long)
fuzz: uv
	$(RUN) pytest -m fuzz

## 200 concurrent scripted calls on Redis (heavy)
load: uv
	$(RUN) pytest -m load

## live evals with a real LLM as agent and judge (OPENAI_API_KEY, or OPENAI_BASE_URL)
live: uv
	$(RUN) pytest -m live

## ruff check, ruff format --check, mypy --strict
lint: uv
	$(RUN) ruff check .
	$(RUN) ruff format --check .
	$(RUN) mypy

## every benchmark; figures go to docs/benchmarks.md
bench: uv
	$(RUN) python bench/otp_store.py
	$(RUN) python bench/sms_send.py
	$(RUN) python bench/prompt_budget.py
	$(RUN) python bench/seed_compare.py
	$(RUN) python bench/enumeration.py
	$(RUN) python bench/calls.py
	$(RUN) python bench/records.py
	$(RUN) python bench/call_memory.py
	$(RUN) python bench/tool_schemas.py
	$(RUN) python bench/turn_overhead.py
	$(RUN) python bench/startup.py

# A terminal demo of the verification library alone (no LiveKit, no LLM).
## the verification library alone in the terminal: no LiveKit, no LLM
demo: uv
	$(RUN) python -m verification

# Start the demo afresh: forget the embedded records and codes under var/ (the development
# pepper stays). Records on PostgreSQL are not touched.
## start the demo afresh: forget the records and codes under var/
reset:
	rm -f var/clinic.sqlite3 var/clinic.sqlite3-wal var/clinic.sqlite3-shm \
		var/otp.sqlite3 var/otp.sqlite3-wal var/otp.sqlite3-shm
	@echo "var/ reset: the next console run loads the demo data again"

# Model files the plugins need (VAD, turn detector), once per machine or image.
## fetch the models the plugins load (VAD, end of turn), once per machine
download-files: uv
	$(RUN) python -m livekit.agents download-files

## install uv with pip if it is missing (every target does this first)
uv:
	@$(UV) --version >/dev/null 2>&1 || python3 -m pip install --quiet --user uv \
		|| python3 -m pip install --quiet uv
