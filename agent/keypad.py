"""Keypad (DTMF) code entry now lives in the plugin: `verification.livekit.OtpToolset`.

`ClinicAgent` builds its `OtpToolset` when the call starts, and the toolset listens to the
job's room itself (`OtpToolset.setup`), so digits go to `verify_code` while a code is pending
and never reach the model. `KeypadCodeEntry` is kept only so `agent.server` can go on calling
it until that call is removed; it attaches nothing.
"""

from __future__ import annotations

from livekit import rtc
from livekit.agents import AgentSession

from .state import CallState


class KeypadCodeEntry:
    """Transitional: the agent's `OtpToolset` already routes this call's keypad digits."""

    def __init__(self, session: AgentSession[CallState], state: CallState) -> None:
        self.session = session
        self.state = state

    def attach(self, room: rtc.Room) -> None:
        """Nothing to do: `OtpToolset.setup` attaches to the job's room when the agent starts."""
