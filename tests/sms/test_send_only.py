"""The published protocol holds (issue 16.5): a sender with only `send` works everywhere.

`aclose` is optional, httpx-style: a host's sender written to `SmsSender` as documented (one
`send` method) must pass through `FailoverSmsSender` and be closed without `AttributeError`.
"""

from __future__ import annotations

from typing import cast

import pytest

from tests.support.constants import BODY, PHONE
from verification.sms import FailoverSmsSender, SmsReceipt, SmsSender, close_sender


class SendOnlySender:
    """What a host writes from the protocol's documentation: `send`, nothing else."""

    provider = "host"

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    async def send(self, to: str, body: str) -> SmsReceipt:
        self.sent.append((to, body))
        return SmsReceipt(provider=self.provider, message_id=f"host-{len(self.sent)}")


class ClosingSender(SendOnlySender):
    """A sender that holds something, and whose close may fail."""

    def __init__(self, fail: bool = False) -> None:
        super().__init__()
        self.closed = 0
        self.fail = fail

    async def aclose(self) -> None:
        self.closed += 1
        if self.fail:
            raise OSError("socket already gone")


def as_sender(sender: object) -> SmsSender:
    """For the type checker only: `SmsSender` still declares `aclose` until every caller (the
    service too) closes senders through `close_sender`; at run time nothing asks for it."""
    return cast(SmsSender, sender)


async def test_close_sender_is_a_no_op_for_a_send_only_sender() -> None:
    await close_sender(SendOnlySender())


async def test_close_sender_awaits_aclose_when_there_is_one() -> None:
    sender = ClosingSender()
    await close_sender(sender)
    assert sender.closed == 1


async def test_a_send_only_sender_sends_through_failover_and_closes() -> None:
    host = SendOnlySender()
    failover = FailoverSmsSender([as_sender(host)])
    receipt = await failover.send(PHONE, BODY)
    await failover.aclose()
    await close_sender(failover)
    assert receipt == SmsReceipt(provider="host", message_id="host-1")
    assert host.sent == [(PHONE, BODY)]


async def test_failover_closes_every_sender_even_when_one_close_fails() -> None:
    first, second = ClosingSender(fail=True), ClosingSender()
    failover = FailoverSmsSender([as_sender(first), as_sender(SendOnlySender()), second])
    with pytest.raises(OSError, match="socket already gone"):
        await failover.aclose()
    assert (first.closed, second.closed) == (1, 1)
