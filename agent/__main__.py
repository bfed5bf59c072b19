"""`python -m agent <command>`: the clinic agent's command line.

For developers without LiveKit's `lk` CLI; `lk agent dev|start|console` and
`python -m livekit.agents start agent/server.py` run the very same `agent.server.server`.

Settings come from the environment, with `.env.local` (then `.env`) loaded first. Before
anything starts, the variables the chosen mode needs are checked (a missing key: one line,
exit 2), then the services are asked whether they take the keys (a rejected key or a service
that does not answer: one line naming it, exit 1), and for the voice console whether this
machine has a microphone and a speaker. `--help` needs none of that.

- `console --text` is our own typed console (`agent/console.py`).
- `console` (voice) is LiveKit's built-in console, through `livekit.agents.cli.run_app`, its
  public entry point. LiveKit 1.8.9 marks that console deprecated in favour of
  `lk agent console` and prints a banner saying so; no supported way hides the banner (it is
  printed by LiveKit's private console object), so we let it say what it says.
- `dev` and `start` go through `python -m livekit.agents start [--dev]`, LiveKit's current
  entry point. `connect` is LiveKit's own command, options and all.
- `download-files` is `python -m livekit.agents download-files`.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from verification import ConfigurationError

SERVER_FILE = Path(__file__).with_name("server.py")

COMMANDS = {
    "console": "talk to the agent in this terminal: by voice, or typed with --text",
    "dev": "run a worker against a LiveKit server, for development (reloads on changes)",
    "start": "run a production worker (needs LIVEKIT_URL, LIVEKIT_API_KEY, LIVEKIT_API_SECRET)",
    "connect": "join one LiveKit room (LiveKit's own options; see `connect --help`)",
    "download-files": "fetch the models the plugins load (VAD, end of turn), once per machine",
}
USAGE = "usage: python -m agent {console [--text],dev,start,connect,download-files} [options]"
HELP = f"""{USAGE}

The clinic's phone agent: answers calls, verifies callers by texted code, manages
appointments. Settings come from the environment, .env.local and .env (see .env.example).

commands:
{chr(10).join(f"  {name:<16}{text}" for name, text in COMMANDS.items())}

options:
  --verbose, -v   show LiveKit's DEBUG logs
  -h, --help      show this help (or `python -m agent <command> --help`)

Without keys: `python -m agent console --text` with OPENAI_BASE_URL pointing at a local
OpenAI-compatible server (README, "No key? A local model")."""
CONSOLE_HELP = """usage: python -m agent console [--text] [--verbose]

Talk to the clinic agent in this terminal, as a caller would: one call, with the same
services, session and agent as a phone call, and no LiveKit server.

  --text          type instead of speaking: needs only an LLM (OPENAI_API_KEY, or
                  OPENAI_BASE_URL at a local OpenAI-compatible server)
  (no --text)     LiveKit's voice console: a microphone, a speaker and PortAudio, plus
                  DEEPGRAM_API_KEY (listening) and OPENAI_API_KEY (speech)
  --verbose, -v   show LiveKit's DEBUG logs

Texted codes are printed in this terminal ([DEV SMS ...]) unless an SMS provider is set.
Ctrl-D ends a typed call. `make reset` forgets the demo records and codes under var/."""
WORKER_HELP = """usage: python -m agent {command} [--verbose] [LiveKit's start options]

{text}.
LiveKit's own options (--url, --api-key, --api-secret, --log-format) pass through. Before
registering, the worker checks that LiveKit, the LLM and speech services answer and accept
their keys (STARTUP_CHECKS=false skips that)."""


def _err(line: str) -> None:
    print(f"agent: {line}", file=sys.stderr, flush=True)


def _wants_help(argv: list[str]) -> bool:
    return any(arg in ("-h", "--help") for arg in argv)


def main(argv: list[str]) -> int:
    if not argv:
        print(HELP, file=sys.stderr)
        return 2
    command, rest = argv[0], argv[1:]
    if command in ("-h", "--help", "help"):
        print(HELP)
        return 0
    if command not in COMMANDS:
        _err(f"unknown command {command!r}")
        print(HELP, file=sys.stderr)
        return 2
    if _wants_help(rest) and command != "connect":
        print(_command_help(command))
        return 0
    if command == "download-files":
        from livekit.agents.__main__ import main as livekit_main

        return livekit_main(["download-files"])
    return _run(command, rest)


def _command_help(command: str) -> str:
    if command == "console":
        return CONSOLE_HELP
    if command == "download-files":
        return f"usage: python -m agent download-files\n\n{_sentence(COMMANDS[command])}."
    return WORKER_HELP.format(command=command, text=_sentence(COMMANDS[command]))


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def _run(command: str, rest: list[str]) -> int:
    from .settings import load_settings

    verbose = "--verbose" in rest or "-v" in rest
    text_only = "--text" in rest
    rest = [a for a in rest if a not in ("--verbose", "-v")]
    try:
        settings = load_settings(command)
        missing = settings.missing_variables(command, text_only)
    except ConfigurationError as exc:
        _err(f"configuration error: {exc}")
        return 2
    if missing:
        hint = (
            "; no microphone or Deepgram key? type instead: python -m agent console --text"
            if command == "console" and not text_only
            else ""
        )
        _err(
            f"cannot start '{' '.join([command, *rest])}': set {', '.join(missing)} "
            "(in .env.local or the environment; see .env.example)"
            f"{hint}; no OpenAI key? point OPENAI_BASE_URL at a local OpenAI-compatible server"
        )
        return 2

    if command == "console":
        from .preflight import audio_device_problem, check_services

        if not text_only and (device := audio_device_problem()) is not None:
            _err(device)
            return 1
        problem = (
            asyncio.run(check_services(settings, audio=not text_only, livekit=False))
            if settings.worker.startup_checks
            else None
        )
        if problem is not None:
            _err(problem.line)
            return 1
        if text_only:
            from .console import text_console

            return text_console(settings, verbose=verbose)
        return _voice_console(rest, verbose=verbose, level=settings.log_level_for(command))

    if command in ("dev", "start"):
        from livekit.agents.__main__ import main as livekit_main

        level = "DEBUG" if verbose else (settings.log_level or "INFO")
        args = ["start", str(SERVER_FILE), "--log-level", level]
        if command == "dev":
            args += ["--dev", "--log-format", "colored"]
        return livekit_main([*args, *rest])

    # connect: LiveKit's own command in its CLI, which says what it takes.
    from livekit.agents import cli

    from .server import build_server

    sys.argv = [sys.argv[0], command, *rest]
    cli.run_app(build_server())
    return 0


def _voice_console(rest: list[str], *, verbose: bool, level: int) -> int:
    """LiveKit's built-in audio console, quiet unless asked."""
    import logging

    from livekit.agents import cli

    from .server import build_server

    if "--log-level" not in rest:
        rest = [*rest, "--log-level", "DEBUG" if verbose else _livekit_level(level)]
    sys.argv = [sys.argv[0], "console", *rest]
    logging.captureWarnings(True)
    server = build_server()
    server.check_services_on_start = False  # _run() has just checked them
    cli.run_app(server)
    return 0


def _livekit_level(level: int) -> str:
    import logging

    name = logging.getLevelName(level)
    return "WARN" if name == "WARNING" else str(name)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
