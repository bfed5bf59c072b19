"""Types the service suites share."""

from __future__ import annotations

from collections.abc import Callable

from verification import OtpService

ServiceFactory = Callable[..., OtpService]
"""`make_service(policy=None, **service_kwargs)`: an OtpService on the test's store."""
