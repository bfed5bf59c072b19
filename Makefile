# Every command the README names is a target here, and works with nothing but Python 3.11+,
# pip and make: where uv is missing it is installed with pip on first use. pip puts it in
# ~/.local/bin, which is often not on PATH, so it is looked for there too, and as a last resort
# run as `python3 -m uv`; then uv installs everything else, exactly as pinned in uv.lock.
UV := $(shell command -v uv 2>/dev/null || { test -x "$(HOME)/.local/bin/uv" && echo "$(HOME)/.local/bin/uv"; } || echo python3 -m uv)
RUN := $(UV) run --frozen

.PHONY: console console-text test test-fast fuzz load live lint bench demo reset \
	download-files uv

console: uv
	$(RUN) python -m agent console

console-text: uv
	$(RUN) python -m agent console --text

# The whole default suite (no API key, offline; see README for how long it takes).
test: uv
	$(RUN) pytest

# While working: the unit and scripted-agent tests, stopping at the first failure; no Redis
# Cluster, no cross-process races, no subprocess consoles, no wheel build.
test-fast: uv
	$(RUN) pytest -q -x -p no:cacheprovider tests/verification tests/agent tests/plugin \
		tests/test_env_example.py tests/test_layering.py \
		--ignore=tests/agent/test_console.py --ignore=tests/verification/test_concurrency.py \
		--ignore=tests/plugin/test_wheel.py -k "not several_processes"

# The marked suites the default run leaves out.
fuzz: uv
	$(RUN) pytest -m fuzz

load: uv
	$(RUN) pytest -m load

live: uv
	$(RUN) pytest -m live

lint: uv
	$(RUN) ruff check .
	$(RUN) ruff format --check .
	$(RUN) mypy

bench: uv
	$(RUN) python bench/otp_store.py
	$(RUN) python bench/sms_send.py
	$(RUN) python bench/prompt_budget.py
	$(RUN) python bench/seed_compare.py
	$(RUN) python bench/enumeration.py
	$(RUN) python bench/calls.py
	$(RUN) python bench/records.py
	$(RUN) python bench/call_memory.py

# A terminal demo of the verification library alone (no LiveKit, no LLM).
demo: uv
	$(RUN) python -m verification

# Start the demo afresh: forget the embedded records and codes under var/ (the development
# pepper stays). Records on PostgreSQL are not touched.
reset:
	rm -f var/clinic.sqlite3 var/clinic.sqlite3-wal var/clinic.sqlite3-shm \
		var/otp.sqlite3 var/otp.sqlite3-wal var/otp.sqlite3-shm
	@echo "var/ reset: the next console run loads the demo data again"

# Model files the plugins need (VAD, turn detector), once per machine or image.
download-files: uv
	$(RUN) python -m livekit.agents download-files

uv:
	@$(UV) --version >/dev/null 2>&1 || python3 -m pip install --quiet --user uv \
		|| python3 -m pip install --quiet uv
