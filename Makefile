# The two commands a newcomer needs work with nothing but Python 3.11+, pip and make:
# where uv is missing it is installed with pip on first use (and run as `python3 -m uv`),
# then uv installs everything else, exactly as pinned in uv.lock.
UV := $(shell command -v uv >/dev/null 2>&1 && echo uv || echo python3 -m uv)

.PHONY: console console-text test lint bench uv

console: uv
	$(UV) run --frozen python -m agent console

console-text: uv
	$(UV) run --frozen python -m agent console --text

test: uv
	$(UV) run --frozen pytest

lint: uv
	$(UV) run --frozen ruff check .
	$(UV) run --frozen ruff format --check .
	$(UV) run --frozen mypy

bench: uv
	$(UV) run --frozen python bench/otp_store.py
	$(UV) run --frozen python bench/sms_send.py
	$(UV) run --frozen python bench/prompt_budget.py
	$(UV) run --frozen python bench/seed_compare.py
	$(UV) run --frozen python bench/enumeration.py
	$(UV) run --frozen python bench/calls.py
	$(UV) run --frozen python bench/call_memory.py

uv:
	@$(UV) --version >/dev/null 2>&1 || python3 -m pip install --quiet --user uv \
		|| python3 -m pip install --quiet uv
