# syntax=docker/dockerfile:1
#
# The clinic agent worker: `python -m agent start`.
#
#   docker build -t clinic-agent .
#   docker run --env-file prod.env clinic-agent
#
# Settings come from the environment at run time (see .env.example and docs/operations.md);
# no secret is read or written at build time. LiveKit Cloud builds this same file on
# `lk agent create` / `lk agent deploy`.

ARG PYTHON_VERSION=3.11

# --- build: resolve the locked dependencies into /app/.venv -----------------------------------
FROM python:${PYTHON_VERSION}-slim AS build

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
    uv sync --frozen --no-dev --no-install-project

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
COPY prompts/ prompts/

# var/ holds the embedded SQLite files and the Prometheus multiprocess directory; it must be
# writable by the app user. Mount a volume here if the SQLite clinic records must persist.
RUN mkdir -p /app/var && chown app:app /app/var

ENV PATH="/app/.venv/bin:${PATH}" \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    APP_ENV=production

USER 10001:10001

# Model files the plugins need, fetched once into the image as the user that will read them.
# The pepper here only lets the settings check pass for this one command; it is not kept in
# the image and never keys a real code. (With APP_ENV=production and no OTP_PEPPER the agent
# refuses to start, which is what a real container without its secrets must do.)
RUN OTP_PEPPER=build-only-not-a-secret-0000 SMS_PROVIDERS=console APP_ENV=development \
    python -m agent download-files

# 8081: LiveKit's health check (GET / -> 200 "OK"). 9464: Prometheus /metrics (METRICS_PORT).
# Neither needs to be public: the worker dials out to LiveKit over a WebSocket.
EXPOSE 8081 9464

CMD ["python", "-m", "agent", "start"]
