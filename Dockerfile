# syntax=docker/dockerfile:1
#
# The clinic agent worker: `python -m livekit.agents start agent/server.py`, LiveKit's current
# entry point (the same server `lk agent start` and `python -m agent start` run).
#
#   docker build -t clinic-agent .
#   docker build --build-arg SMS_EXTRAS="aws vonage" -t clinic-agent .   # SNS and/or Vonage
#   docker run --env-file prod.env clinic-agent
#
# Settings come from the environment at run time (see .env.example and docs/operations.md);
# no secret is read or written at build time. LiveKit Cloud builds this same file on
# `lk agent create` / `lk agent deploy`.

ARG PYTHON_VERSION=3.11

# --- build: resolve the locked dependencies into /app/.venv -----------------------------------
FROM python:${PYTHON_VERSION}-slim AS build

# Optional SMS providers to install: "aws" (SNS), "vonage", both ("aws vonage"), or none.
ARG SMS_EXTRAS=""

# uv, pinned, copied from its official image (no installer script, no pip).
COPY --from=ghcr.io/astral-sh/uv:0.13.9 /uv /uvx /bin/

# Compile bytecode now (faster first start); copy, not hard-link, out of the cache mount;
# use the image's Python, never a downloaded one.
ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/app/.venv

WORKDIR /app

# Dependencies first, from the lock file alone, so code changes reuse this layer.
# Every locked package ships a manylinux wheel: no compiler is needed.
COPY pyproject.toml uv.lock ./
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-install-project \
        $(for extra in ${SMS_EXTRAS}; do printf -- '--extra %s ' "$extra"; done)

# --- runtime: the venv, the code, a non-root user ---------------------------------------------
FROM python:${PYTHON_VERSION}-slim AS runtime

# No extra system libraries: `start` mode handles audio through LiveKit's own native library
# (in the wheel). PortAudio (libportaudio2) is only for `console` mode, which a server never runs.

RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --home-dir /home/app --create-home app

WORKDIR /app

COPY --from=build /app/.venv /app/.venv
COPY agent/ agent/
COPY verification/ verification/
COPY clinic/ clinic/
# the agent's instructions, one folder per language (agent/instructions.py reads them)
COPY prompts/ prompts/
# main.py: where `lk agent` and `python -m livekit.agents start` look for the server first.
COPY main.py main.py
# Our own modules as bytecode too (the dependencies were compiled by uv), before the switch to
# the app user, who cannot write here: a call process starts without compiling anything.
RUN python -m compileall -q agent verification clinic main.py

# var/ holds the embedded SQLite files and the Prometheus multiprocess directory; it must be
# writable by the app user. Mount a volume here if the SQLite clinic records must persist.
RUN mkdir -p /app/var && chown app:app /app/var

ENV PATH="/app/.venv/bin:${PATH}" \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    APP_ENV=production

USER 10001:10001

# Model files the plugins need (VAD, turn detector), fetched once into the image as the user
# that will read them. LiveKit's own command: it imports the plugins, not our settings, so no
# secret is needed at build time. (With APP_ENV=production and no OTP_PEPPER the worker
# refuses to start, which is what a real container without its secrets must do.)
RUN python -m livekit.agents download-files

# 8081: LiveKit's health check (GET / -> 200 "OK", 503 once the worker lost LiveKit).
# 9464: Prometheus /metrics (METRICS_PORT), on 127.0.0.1 unless METRICS_HOST says otherwise
# (e.g. METRICS_HOST=0.0.0.0 for a scraper on the container's private network).
# Neither needs to be public: the worker dials out to LiveKit over a WebSocket.
EXPOSE 8081 9464

# The health check without curl: the image's own Python asks the worker's health port.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8081/', timeout=4).status == 200 else 1)"]

# Worker settings for a phone line (WORKER_*, docs/operations.md). On `docker stop` the worker
# drains: no new calls, up to WORKER_DRAIN_TIMEOUT_SECONDS (900) for calls in progress; give
# the container that long (docker stop -t 900, Kubernetes terminationGracePeriodSeconds).
STOPSIGNAL SIGTERM
CMD ["python", "-m", "livekit.agents", "start", "agent/server.py"]
