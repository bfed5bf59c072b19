"""The one set of values the test suites share: the pepper, the demo phones, an SMS body."""

from __future__ import annotations

from typing import Final

PEPPER: Final = b"test-pepper-0123456789abcdef"  # codes' HMAC key in every test service

ON_FILE: Final = "+14155550123"  # Jane Doe's phone in the demo records
ALSO_ON_FILE: Final = "+14155550188"  # John Smith's
NOT_ON_FILE: Final = "+14155550199"  # on no record: gets a decoy challenge
JANE_PHONE: Final = "415 555 0123"  # Jane's phone as a caller says it

CODE: Final = "402991"
BODY: Final = f"Your Example Clinic code is {CODE}. It expires in 5 minutes. Don't share it."
PHONE: Final = ON_FILE
PHONE_DIGITS: Final = "4155550123"  # the number without country code or '+' must not leak either
