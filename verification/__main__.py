"""A small interactive demo of the verification core, with the embedded defaults.

    uv run python -m verification

The demo's directory holds one number, +1 415 555 0123 (the demo patient's); any other
valid number gets the decoy treatment: "sent", but no message appears.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import uuid

from .config import service_kwargs_from_env
from .env import ConfigurationError
from .service import OtpService

DEMO_NUMBER = "+14155550123"


class _DemoDirectory:
    async def is_on_file(self, phone_e164: str) -> bool:
        return phone_e164 == DEMO_NUMBER


async def _demo() -> int:
    import os

    service = OtpService(directory=_DemoDirectory(), **service_kwargs_from_env(os.environ))
    session_id = f"demo-{uuid.uuid4().hex[:8]}"
    print(f"Verification demo (session {session_id}). The number on file is {DEMO_NUMBER}.")
    try:
        phone = await asyncio.to_thread(input, "Phone number to text a code to: ")
        requested = await service.request_code(phone, session_id=session_id)
        print(f"[{requested.status}] {requested.message}")
        await service.drain()  # the text goes out in the background; show it before asking
        while requested.code_pending:
            guess = await asyncio.to_thread(input, "Code (digits or words, empty to quit): ")
            if not guess.strip():
                break
            outcome = await service.verify_code(phone, guess, session_id=session_id)
            print(f"[{outcome.status}] {outcome.message}")
            if outcome.code_spent or outcome.status == "unavailable":
                break
    except (EOFError, KeyboardInterrupt):
        print()
    finally:
        await service.aclose()
    return 0


def main() -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        return asyncio.run(_demo())
    except ConfigurationError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
