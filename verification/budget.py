"""What the clinic spends on codes: a daily send budget, the same for every caller (rule 18).

Codes go only to numbers on file, which already blocks most SMS pumping; a bad records
import, or someone cycling through patients, can still run up a bill. `SendBudget` charges
every request that would issue a code to one sliding 24-hour counter in the code store,
decoys included, so a spent budget tells no one who is a patient; a request that issues no
code after all (cooldown, rate limit, lockout) gives its place back. When the budget is
spent, every caller hears the same sentence offering staff, and staff get a metric
(`clinic_otp_sending_paused_total`) and an ERROR log line. A budget of 0 switches sending off.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from .audit import audit
from .metrics import count_sending_paused
from .stores.base import CounterStore, StoreUnavailable

log = logging.getLogger("verification.service")

SUBJECT = "budget:daily-sends"  # one counter for the whole clinic (every phone, every caller)
WINDOW_SECONDS = 86400


class SendBudget:
    """`daily_send_budget` codes (texts and calls) in any 24 hours; None: no cap."""

    def __init__(self, store: CounterStore, daily_send_budget: int | None) -> None:
        self.store = store
        self.limit = daily_send_budget

    async def charge(self) -> bool:
        """Charge one request; True when the budget is spent (nothing is charged then).
        Raises `StoreUnavailable`."""
        if self.limit is None:
            return False
        if self.limit == 0:
            return True  # the kill switch
        return await self.store.take([(SUBJECT, self.limit)], WINDOW_SECONDS) is not None

    async def refund(self) -> None:
        """No code was issued after all: give its place back (best effort)."""
        if not self.limit:
            return
        try:
            await self.store.give_back([SUBJECT])
        except StoreUnavailable:
            log.warning("could not give back a place of the daily send budget")

    def spent(self, where: Mapping[str, str]) -> None:
        """The alarm: every caller hears the same sentence; staff see this."""
        count_sending_paused()
        audit("otp.sending_paused", **where)
        log.error(
            "daily send budget spent: no code goes out until it has room "
            "(OTP_DAILY_SEND_BUDGET=%s codes in any 24 hours)",
            self.limit,
            extra={"phone": where["phone"], "session_id": where["session_id"]},
        )
