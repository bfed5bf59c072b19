"""A small interactive demo of the verification core, with the embedded defaults.

    uv run python -m verification        (make demo)

The demo's directory holds one number, +1 415 555 0123 (the demo patient's); any other
valid number gets the decoy treatment: "sent", but no message appears.

The demo keeps its codes and limits in a store of its own, a temporary SQLite file removed
when it ends, with a pepper of its own: a voice-console call made just before (which uses
`var/otp.sqlite3`, or Redis) can never have locked or rate-limited the number, and the demo
leaves nothing behind for the console either. Its SMS sender is the one the environment
names (the console stand-in by default).
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import sys
import tempfile
import uuid
from pathlib import Path

from .env import ConfigurationError
from .service import OtpService
from .settings import VerificationSettings
from .stores.sqlite import SqliteOtpStore

DEMO_NUMBER = "+14155550123"


class _DemoDirectory:
    async def is_on_file(self, phone_e164: str) -> bool:
        return phone_e164 == DEMO_NUMBER


async def _demo(settings: VerificationSettings, folder: Path) -> int:
    store = SqliteOtpStore(folder / "otp-demo.sqlite3")
    sender = settings.sms.build_sms_sender(validity_seconds=settings.policy.ttl_seconds)
    service = OtpService(
        store,
        sender,
        _DemoDirectory(),
        settings.policy,
        pepper=secrets.token_bytes(32),
        clinic_name=settings.brand_name,
        default_region=settings.default_region,
    )
    session_id = f"demo-{uuid.uuid4().hex[:8]}"
    print(f"Verification demo (session {session_id}). The number on file is {DEMO_NUMBER}.")
    print("(A store of its own, removed at the end: no earlier call's limits apply here.)")
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
        settings = VerificationSettings.from_env()
        with tempfile.TemporaryDirectory(prefix="verification-demo-") as folder:
            return asyncio.run(_demo(settings, Path(folder)))
    except ConfigurationError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
