"""The provider SDKs are extras: `import verification.sms` works with none of them installed.

A fresh interpreter is run with twilio, boto3/botocore and vonage made unimportable (a `None`
in `sys.modules` is how Python spells "not installed" for an import), and the other extras
(redis, prometheus-client) with them. The package imports,
the console sender sends, and a provider asked for is refused with the extra to install,
at start and when built.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import asyncio, io, sys
SDKS = ("twilio", "boto3", "botocore", "vonage", "redis", "prometheus_client")
for name in SDKS:
    sys.modules[name] = None

import verification.sms
from verification.env import ConfigurationError
from verification.sms.settings import SmsSettings
from verification.sms.twilio import TwilioSmsSender
from verification.sms.twilio_voice import TwilioVoiceSender

assert type(SmsSettings.from_env({}).build_sms_sender()).__name__ == "ConsoleSmsSender"
console = verification.sms.ConsoleSmsSender(io.StringIO())
failover = verification.sms.FailoverSmsSender([console])
receipt = asyncio.run(failover.send("+14155550123", "hi"))
print("console", receipt.provider)

def attempt(label, build):
    try:
        build()
    except ConfigurationError as exc:
        print(label, exc)

env = {"TWILIO_ACCOUNT_SID": "AC1", "TWILIO_AUTH_TOKEN": "t", "TWILIO_PHONE_NUMBER": "+15005550006",
       "AWS_REGION": "us-east-1", "VONAGE_API_KEY": "k", "VONAGE_API_SECRET": "s",
       "VONAGE_FROM_NUMBER": "C"}
for providers in ("twilio", "sns", "vonage"):
    attempt("refused", lambda: SmsSettings.from_env({**env, "SMS_PROVIDERS": providers}))
attempt("built", lambda: TwilioSmsSender("AC1", "t", "+15005550006"))
calls = {**env, "VOICE_CALLS": "true", "SMS_PROVIDERS": "console"}
attempt("refused", lambda: SmsSettings.from_env(calls))
attempt("built", lambda: TwilioVoiceSender("AC1", "t", "+15005550006"))
loaded = sorted(m for m in sys.modules if m.split(".")[0] in SDKS and sys.modules[m] is not None)
print("loaded", loaded)
"""


def test_the_sms_package_works_without_any_provider_sdk() -> None:
    done = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "console console"
    assert lines[1:4] == [
        "refused SMS provider 'twilio' needs the 'twilio' extra: uv sync --extra twilio",
        "refused SMS provider 'sns' needs the 'aws' extra: uv sync --extra aws",
        "refused SMS provider 'vonage' needs the 'vonage' extra: uv sync --extra vonage",
    ]
    assert lines[4] == "built " + lines[1].removeprefix("refused ")
    assert lines[5] == lines[1].replace("refused SMS provider", "refused voice provider")
    assert lines[6] == lines[4]
    assert lines[7] == "loaded []"
