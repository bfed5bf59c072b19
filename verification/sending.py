"""Codes on their way: texts and calls sent in the background, every outcome recorded.

What the caller hears never depends on delivery (rule 13): `request_code` answers once the
challenge is stored, and the text or call goes out in a task `Deliveries` keeps until it
ends (`drain()` waits for them). A failure is audited and metered and keeps the cooldown and
the send it used: giving them back would make the limits answer differently for patients
than for decoys, whose sends never fail.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from .audit import audit
from .messages import Channel
from .metrics import count_code_sent, count_delivery
from .sms.base import SmsDeliveryError, SmsReceipt, SmsSender, VoiceSender

log = logging.getLogger("verification.service")


@dataclass(frozen=True, slots=True)
class Delivery:
    """One code on its way, and how the logs and metrics may name it (never the number)."""

    channel: Channel
    to: str
    body: str
    language: str
    masked: str
    phone_ref: str
    session_id: str
    calling_code: str


class Deliveries:
    """The texts and calls a service has started and not yet seen end."""

    def __init__(self, sender: SmsSender, voice_sender: VoiceSender | None = None) -> None:
        self.sender = sender
        self.voice_sender = voice_sender
        self._tasks: set[asyncio.Task[None]] = set()

    def start(self, delivery: Delivery) -> None:
        """Send in a task kept until it ends (never lost, never awaited by the caller)."""
        task = asyncio.get_running_loop().create_task(
            self._deliver(delivery), name=f"otp-{delivery.channel}-{delivery.phone_ref}"
        )
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def drain(self) -> None:
        """Wait for every send started so far (tests, shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def _send(self, d: Delivery) -> SmsReceipt:
        if d.channel == "call":
            assert self.voice_sender is not None  # the service checked before issuing
            return await self.voice_sender.send(d.to, d.body, language=d.language)
        return await self.sender.send(d.to, d.body)

    async def _deliver(self, d: Delivery) -> None:
        """Send one text or call; every outcome ends in the audit log and metrics, none raises."""
        where = {"phone": d.masked, "phone_ref": d.phone_ref, "session_id": d.session_id}
        try:
            receipt = await self._send(d)
        except SmsDeliveryError as exc:
            count_delivery("failed")
            audit("otp.delivery_failed", **where, channel=d.channel, provider=exc.provider,
                  error_code=exc.code, retryable=exc.retryable)  # fmt: skip
            return
        except Exception as exc:  # a sender that broke its protocol must not go unnoticed
            count_delivery("failed")
            log.exception(
                "sender raised outside its protocol",
                extra={"phone": d.masked, "session_id": d.session_id},
            )
            sender = self.voice_sender if d.channel == "call" else self.sender
            provider = str(getattr(sender, "provider", type(sender).__name__))
            audit("otp.delivery_failed", **where, channel=d.channel, provider=provider,
                  error_code=type(exc).__name__, retryable=True)  # fmt: skip
            return
        count_delivery("sent")
        count_code_sent(d.calling_code, d.channel)
        audit("otp.sent", **where, channel=d.channel, provider=receipt.provider,
              message_id=receipt.message_id)  # fmt: skip
