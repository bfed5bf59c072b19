"""Phone normalisation, masking, code generation and the digest."""

from __future__ import annotations

import os
import stat
from collections import Counter
from pathlib import Path

import pytest

from verification import ConfigurationError, VerificationSettings, mask_phone, normalize_phone
from verification.codes import code_digest, generate_code, phone_reference
from verification.pepper import development_pepper


@pytest.mark.parametrize(
    "raw",
    [
        "+1 415 555 0123",
        "(415) 555-0123",
        "415.555.0123",
        "4155550123",
        "+14155550123",
        " 415 555 0123 ",
    ],
)
def test_normalize_phone_to_e164(raw: str) -> None:
    assert normalize_phone(raw) == "+14155550123"


def test_normalize_phone_uses_the_default_region() -> None:
    assert normalize_phone("020 7946 0958", default_region="GB") == "+442079460958"


@pytest.mark.parametrize("raw", ["", "12", "hello", "+1 415 555", "+999 1234 5678", "1" * 200])
def test_normalize_phone_rejects_invalid_numbers(raw: str) -> None:
    with pytest.raises(ValueError):
        normalize_phone(raw)


def test_mask_phone_keeps_only_the_last_four_digits() -> None:
    assert mask_phone("+14155550123") == "ending in 0123"
    assert "415555" not in mask_phone("+14155550123")


def test_codes_are_six_digits_and_spread_over_every_position() -> None:
    codes = [generate_code() for _ in range(2000)]
    assert all(len(c) == 6 and c.isdigit() for c in codes)
    first_digits = Counter(c[0] for c in codes)
    assert set(first_digits) == set("0123456789")  # leading zeros happen: not randbelow(9e5)+1e5


def test_digest_binds_phone_session_and_pepper() -> None:
    base = code_digest(b"p" * 32, "+14155550123", "call-1", "123456")
    assert base == code_digest(b"p" * 32, "+14155550123", "call-1", "123456")
    assert base != code_digest(b"q" * 32, "+14155550123", "call-1", "123456")
    assert base != code_digest(b"p" * 32, "+14155550124", "call-1", "123456")
    assert base != code_digest(b"p" * 32, "+14155550123", "call-2", "123456")
    assert base != code_digest(b"p" * 32, "+14155550123", "call-1", "123457")
    assert b"123456" not in base


def test_phone_reference_is_stable_and_not_the_number() -> None:
    ref = phone_reference(b"p" * 32, "+14155550123")
    assert ref == phone_reference(b"p" * 32, "+14155550123")
    assert "0123" not in ref and len(ref) == 12


def test_pepper_from_environment() -> None:
    assert VerificationSettings.from_env({"OTP_PEPPER": "x" * 32}).pepper == b"x" * 32
    with pytest.raises(ConfigurationError, match="at least 16"):
        VerificationSettings.from_env({"OTP_PEPPER": "short"})


def test_production_refuses_to_start_without_a_pepper(tmp_path: Path) -> None:
    env = {"APP_ENV": "production", "OTP_PEPPER_FILE": str(tmp_path / "pepper")}
    with pytest.raises(ConfigurationError, match="OTP_PEPPER"):
        VerificationSettings.from_env(env)
    assert not (tmp_path / "pepper").exists()


def test_development_pepper_is_generated_once_with_0600(tmp_path: Path) -> None:
    path = tmp_path / "var" / "otp-pepper"
    first = development_pepper(path)
    second = development_pepper(path)
    assert first == second and len(first) == 64
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_the_keyed_digester_gives_the_same_digest_as_code_digest() -> None:
    """The service keys its HMAC once (`CodeDigester`); stored digests must not change."""
    from verification.codes import CodeDigester

    digester = CodeDigester(b"p" * 32)
    for phone, session, code in [
        ("+14155550123", "call-1", "123456"),
        ("+442079460000", "é", "000000"),
    ]:
        assert digester(phone, session, code) == code_digest(b"p" * 32, phone, session, code)
