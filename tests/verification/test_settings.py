"""`VerificationSettings`: the environment parsed once, at start, into data; the service built
from it says where it keeps its files; `import verification` needs no optional SDK."""

from __future__ import annotations

import ast
import logging
import subprocess
import sys
from pathlib import Path

import pytest

import verification
from tests.support.settings import embedded_env
from tests.support.sms import StaticDirectory
from verification import (
    ConfigurationError,
    OtpService,
    SqliteOtpStore,
    StoreSettings,
    VerificationSettings,
)

ROOT = Path(__file__).resolve().parents[2]


def test_from_env_without_a_mapping_reads_the_process_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("OTP_TTL_SECONDS", "120")
    monkeypatch.setenv("OTP_BRAND_NAME", "Harbour Pharmacy")
    monkeypatch.setenv("OTP_SQLITE_PATH", str(tmp_path / "codes.sqlite3"))
    settings = VerificationSettings.from_env()
    assert settings.policy.ttl_seconds == 120
    assert settings.brand_name == "Harbour Pharmacy"
    assert settings.store.sqlite_path == tmp_path / "codes.sqlite3"


def test_settings_are_data_parsing_creates_no_file(tmp_path: Path) -> None:
    settings = VerificationSettings.from_env(embedded_env(tmp_path))
    assert list(tmp_path.iterdir()) == []  # no pepper file, no database yet
    assert settings.pepper is None and settings.pepper_file == tmp_path / "pepper"


async def test_the_service_says_where_it_keeps_its_files(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 16.5: no quiet var/ in the working directory. Relative paths are resolved when
    the settings are read, and one log line names each file, absolutely, with its variable."""
    monkeypatch.chdir(tmp_path)
    caplog.set_level(logging.INFO, logger="verification")
    env = {"OTP_SQLITE_PATH": "state/otp.sqlite3", "OTP_PEPPER_FILE": "state/pepper"}
    settings = VerificationSettings.from_env(env)
    service = OtpService.from_settings(StaticDirectory(set()), settings)
    await service.request_code("+14155550123", session_id="c")  # the store opens its file
    await service.aclose()

    (line,) = [r.getMessage() for r in caplog.records if "keeps its files" in r.getMessage()]
    assert f"{tmp_path / 'state' / 'otp.sqlite3'} (OTP_SQLITE_PATH)" in line
    assert f"{tmp_path / 'state' / 'pepper'} (OTP_PEPPER_FILE)" in line
    assert {p.name for p in (tmp_path / "state").iterdir()} >= {"otp.sqlite3", "pepper"}
    assert not (tmp_path / "var").exists()


def test_nothing_is_said_about_files_that_are_not_kept(tmp_path: Path) -> None:
    env = embedded_env(tmp_path, REDIS_URL="redis://127.0.0.1:6399/0", OTP_PEPPER="p" * 32)
    assert VerificationSettings.from_env(env).files == []


@pytest.mark.parametrize(
    ("extra", "brand"),
    [
        ({}, "the clinic"),
        ({"OTP_BRAND_NAME": "Harbour Pharmacy"}, "Harbour Pharmacy"),
        # the clinic app's own variable is the app's to read (it feeds OTP_BRAND_NAME)
        ({"CLINIC_NAME": "Bayview Clinic"}, "the clinic"),
    ],
)  # fmt: skip
async def test_the_text_names_the_host(tmp_path: Path, extra: dict[str, str], brand: str) -> None:
    """Issue 16.3: the host's own name (OTP_BRAND_NAME); the app's CLINIC_NAME feeds it
    through the app's settings (tests/agent/test_console.py)."""
    service = OtpService.from_env(StaticDirectory(set()), embedded_env(tmp_path, **extra))
    assert service.sms_body("402991").startswith(f"{brand}: your verification code is 402991.")
    await service.aclose()


def test_secrets_stay_out_of_the_settings_repr(tmp_path: Path) -> None:
    env = embedded_env(
        tmp_path,
        OTP_PEPPER="pepper-" + "s" * 32,
        REDIS_URL="redis://:hunter2-password@127.0.0.1:6399/0",
        TWILIO_ACCOUNT_SID="AC" + "0" * 32,
        TWILIO_AUTH_TOKEN="twilio-token-secret",
        TWILIO_PHONE_NUMBER="+14155550100",
        OPENAI_API_KEY="sk-unrelated",
    )
    settings = VerificationSettings.from_env(env)
    text = repr(settings)
    for secret in ("s" * 32, "hunter2", "twilio-token-secret", "sk-unrelated"):
        assert secret not in text
    assert settings.sms.twilio is not None
    assert settings.sms.twilio.auth_token == "twilio-token-secret"


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("DEFAULT_PHONE_REGION", "USA"),
        ("REDIS_MAX_CONNECTIONS", "0"),
        ("OTP_SQLITE_BUSY_TIMEOUT_SECONDS", "-1"),
        ("REDIS_CLUSTER", "maybe"),
    ],
)
def test_a_bad_value_is_one_line_naming_its_variable(
    tmp_path: Path, variable: str, value: str
) -> None:
    with pytest.raises(ConfigurationError, match=variable) as raised:
        VerificationSettings.from_env(embedded_env(tmp_path, **{variable: value}))
    assert "\n" not in str(raised.value)


def test_region_is_read_as_iso(tmp_path: Path) -> None:
    settings = VerificationSettings.from_env(embedded_env(tmp_path, DEFAULT_PHONE_REGION="gb"))
    assert settings.default_region == "GB"
    assert StoreSettings().sqlite_path == Path("var/otp.sqlite3")  # the embedded default


def test_only_the_settings_module_reads_the_environment() -> None:
    """Issue 18.3 for the verification core (the SMS senders and the plugin are checked by
    their own suites): `os.environ` / `os.getenv` appear in `verification/settings.py` only."""
    readers = []
    for source in sorted((ROOT / "verification").rglob("*.py")):
        relative = source.relative_to(ROOT).as_posix()
        if relative.startswith(("verification/sms/", "verification/livekit/")):
            continue
        for node in ast.walk(ast.parse(source.read_text())):
            if isinstance(node, ast.Attribute) and node.attr in ("environ", "getenv"):
                readers.append(relative)
    assert sorted(set(readers)) == ["verification/settings.py"]


BLOCK_SDKS = """
import importlib.abc, sys
class Blocker(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {"redis", "twilio", "boto3", "botocore", "vonage",
                                  "prometheus_client", "livekit"}:
            raise ImportError(f"{name} is not installed here")
        return None
sys.meta_path.insert(0, Blocker())
"""


def test_import_verification_needs_no_optional_sdk(tmp_path: Path) -> None:
    """Only phonenumbers is required: redis, twilio, boto3, vonage and prometheus-client are
    the plugin's extras, loaded on first use of a name that needs one."""
    probe = BLOCK_SDKS + (
        "import verification\n"
        "from verification import OtpService, SqliteOtpStore, ConsoleSmsSender\n"
        "try:\n"
        "    verification.RedisOtpStore\n"
        "except ImportError as exc:\n"
        "    print('redis:', exc)\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in\n"
        "             ('redis', 'twilio', 'boto3', 'vonage', 'prometheus_client')))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert "redis: verification.RedisOtpStore needs the 'redis' extra" in done.stdout
    assert done.stdout.strip().endswith("[]")


def test_public_names_are_what_a_host_uses_and_internals_stay_private() -> None:
    for name in verification.__all__:
        assert getattr(verification, name) is not None, name
    for internal in ("generate_code", "code_digest", "load_pepper", "is_production"):
        assert internal not in verification.__all__
        assert not hasattr(verification, internal), internal
    assert {"OtpService", "VerificationSettings", "E164", "CounterStore", "KeyedCounters"} <= set(
        dir(verification)
    )


async def test_from_env_builds_the_embedded_store_from_settings(tmp_path: Path) -> None:
    settings = VerificationSettings.from_env(embedded_env(tmp_path))
    service = OtpService.from_settings(StaticDirectory(set()), settings)
    assert isinstance(service.store, SqliteOtpStore)
    assert service.store.path == settings.store.sqlite_path
    await service.aclose()


def test_the_spending_limits_come_from_the_environment(tmp_path: Path) -> None:
    env = embedded_env(tmp_path, OTP_DAILY_SEND_BUDGET="500", OTP_ALLOWED_COUNTRIES="us, ca")
    policy = VerificationSettings.from_env(env).policy
    assert policy.daily_send_budget == 500
    assert policy.allowed_countries == frozenset({"US", "CA"})
    unset = VerificationSettings.from_env(embedded_env(tmp_path)).policy
    assert (unset.daily_send_budget, unset.allowed_countries) == (None, None)
    off = VerificationSettings.from_env(embedded_env(tmp_path, OTP_DAILY_SEND_BUDGET="0"))
    assert off.policy.daily_send_budget == 0  # the kill switch
    for variable, value in [("OTP_DAILY_SEND_BUDGET", "-1"), ("OTP_ALLOWED_COUNTRIES", "US,XX")]:
        with pytest.raises(ConfigurationError, match=variable):
            VerificationSettings.from_env(embedded_env(tmp_path, **{variable: value}))


async def test_calls_are_offered_when_the_environment_says_so(tmp_path: Path) -> None:
    without = OtpService.from_env(StaticDirectory(set()), embedded_env(tmp_path))
    assert without.voice_sender is None
    await without.aclose()
    env = embedded_env(tmp_path, VOICE_CALLS="true", VOICE_PROVIDER="console")
    service = OtpService.from_env(StaticDirectory(set()), env)
    assert service.voice_sender is not None
    assert (await service.request_code("+14155550123", session_id="c", channel="call")).sent
    await service.aclose()
