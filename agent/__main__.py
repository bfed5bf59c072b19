"""`python -m agent {console [--text],dev,start,connect,download-files}`: the clinic agent's CLI.

For developers without LiveKit's `lk` CLI; `lk agent dev|start|console` and
`python -m livekit.agents start agent/server.py` run the very same `agent.server.server`.

Settings come from the environment, with `.env.local` (then `.env`) loaded first. Before
anything starts, the variables the chosen mode needs are checked (a missing key: one line,
exit 2), then the services are asked whether they take the keys (a rejected key or a service
that does not answer: one line naming it, exit 1), and for the voice console whether this
machine has a microphone and a speaker.

- `console --text` is our own typed console (`agent/console.py`): the greeting, the
  conversation, one line per tool call; no LiveKit server, no PortAudio.
- `console` (voice) is LiveKit's built-in console. LiveKit marks it deprecated in favour of
  `lk agent console`; its banner is replaced by one calm note (README, "Console").
- `dev` and `start` go through `python -m livekit.agents start [--dev]`, LiveKit's current
  entry point (no deprecation notice).
- `download-files` is `python -m livekit.agents download-files`.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from dotenv import load_dotenv

from verification import ConfigurationError

USAGE = (
    "usage: python -m agent {console [--text],dev,start,connect,download-files} [--verbose] "
    "[options]"
)
SERVER_FILE = Path(__file__).with_name("server.py")
DEPRECATION_NOTE = (
    "LiveKit's built-in console is deprecated in favour of `lk agent console` (it runs this "
    "same agent/server.py); `python -m agent console` keeps working meanwhile."
)


def _err(line: str) -> None:
    print(f"agent: {line}", file=sys.stderr, flush=True)


def main(argv: list[str]) -> int:
    load_dotenv(".env.local")
    load_dotenv(".env")
    if not argv or (argv[0] in ("-h", "--help") and len(argv) == 1):
        print(USAGE)
        return 0 if argv else 2
    command = argv[0]
    verbose = "--verbose" in argv or "-v" in argv
    text_only = "--text" in argv
    rest = [a for a in argv[1:] if a not in ("--verbose", "-v")]

    if command == "download-files":
        from livekit.agents.__main__ import main as livekit_main

        return livekit_main(["download-files"])

    import os

    from verification.config import validate_env

    from .settings import AgentSettings

    try:
        settings = AgentSettings.from_env(os.environ, command=command)
        missing = settings.missing_variables(command, text_only)
        if not missing:
            validate_env(os.environ)
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

    # connect, and anything else: LiveKit's built-in CLI says what it takes.
    from livekit.agents import cli

    from .server import build_server

    sys.argv = [sys.argv[0], command, *rest]
    cli.run_app(build_server())
    return 0


def _voice_console(rest: list[str], *, verbose: bool, level: int) -> int:
    """LiveKit's built-in audio console, quiet unless asked, with one calm note instead of
    its deprecation banner."""
    import logging

    from livekit.agents import cli

    from .server import build_server

    _replace_deprecation_banner()
    if "--log-level" not in rest:
        rest = [*rest, "--log-level", "DEBUG" if verbose else _livekit_level(level)]
    sys.argv = [sys.argv[0], "console", *rest]
    logging.captureWarnings(True)
    server = build_server()
    server.check_services_on_start = False  # main() has just checked them
    cli.run_app(server)
    return 0


def _livekit_level(level: int) -> str:
    import logging

    name = logging.getLevelName(level)
    return "WARN" if name == "WARNING" else str(name)


def _replace_deprecation_banner() -> None:
    """LiveKit 1.8.9 prints a yellow "Deprecated" banner when its console starts; show our
    note instead (the private module is LiveKit's, so any change there just keeps theirs)."""
    try:
        from livekit.agents.cli import _legacy
    except ImportError:
        return
    console = _legacy.AgentsConsole.get_instance()
    original = console.print

    def calm_print(message: str, *args: object, **kwargs: object) -> None:
        if kwargs.get("tag") == "Deprecated":
            original(DEPRECATION_NOTE, tag="Note")
            return
        original(message, *args, **kwargs)  # type: ignore[arg-type]

    console.print = calm_print  # type: ignore[method-assign,assignment]


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
