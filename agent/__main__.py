"""`python -m agent {console,dev,start,connect,download-files}`: the clinic agent's CLI.

Settings come from the environment, with `.env.local` (then `.env`) loaded first. Before
LiveKit's CLI starts, the variables the chosen mode needs are checked, so a missing key is
one clear line and exit status 2, not a traceback from inside a job process.
"""

from __future__ import annotations

import os
import sys

from dotenv import load_dotenv

from verification import ConfigurationError

USAGE = "usage: python -m agent {console [--text],dev,start,connect,download-files} [options]"


def main(argv: list[str]) -> int:
    load_dotenv(".env.local")
    load_dotenv(".env")
    if not argv or (argv[0] in ("-h", "--help") and len(argv) == 1):
        print(USAGE)
        return 0 if argv else 2

    from verification.config import validate_env

    from .settings import AgentSettings, metrics_port, missing_variables

    command, text_only = argv[0], "--text" in argv
    missing = missing_variables(command, text_only, os.environ)
    if missing:
        print(
            f"agent: cannot start '{command}': set {', '.join(missing)} "
            "(in .env.local or the environment; see .env.example)",
            file=sys.stderr,
        )
        return 2
    try:
        AgentSettings.from_env(os.environ)
        validate_env(os.environ)
        port = metrics_port(command, os.environ)
    except ConfigurationError as exc:
        print(f"agent: configuration error: {exc}", file=sys.stderr)
        return 2

    from livekit.agents import cli

    from .server import build_server

    server = build_server(
        metrics_port=port,
        metrics_dir=os.environ.get("PROMETHEUS_MULTIPROC_DIR", "").strip() or "var/prometheus",
    )
    sys.argv = [sys.argv[0], *argv]
    cli.run_app(server)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
