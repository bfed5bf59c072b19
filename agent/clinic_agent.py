"""ClinicAgent: the LLM-facing tools. Thin on purpose.

Each tool parses its arguments, checks `CallState` in code, calls a backend and returns one
short sentence for the LLM. A refusal is a `ToolError` with a caller-safe reason, raised
before anything changes. Who may do what is decided here, never by the prompt.

The code tools (`request_otp`, `verify_otp`, keypad entry) are the plugin's `OtpToolset`,
built for the call when the agent starts; `phone_grants.grant_for_proven_phone` is its grant
hook. Everything the model writes passes `speech_filter.SpeechFilter` in `llm_node`, before it
is spoken, shown or kept in the history.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterable, AsyncIterator
from datetime import date
from typing import Any

from livekit.agents import (
    Agent,
    FlushSentinel,
    ModelSettings,
    RunContext,
    StopResponse,
    ToolError,
    function_tool,
    llm,
)

from clinic import Appointment, NotFound, parse_date
from verification import StoreUnavailable, VerificationLevel, mask_phone
from verification.livekit import with_prebuilt_schemas

from . import handoff, identity, replies
from .context import bounded_context
from .failures import FailureWatch
from .instructions import instructions, phrase
from .metrics import measured
from .otp_tools import ClinicOtpTools, caller_turns
from .phone_grants import grant_for_proven_phone
from .quiet_line import QuietLine
from .replies import NEEDS_LEVEL_1, NEEDS_LEVEL_2, NOT_YOURS, STAFF_HINT, records_call
from .speech import say_date, say_time
from .speech_filter import SpeechFilter
from .state import CallState, LimitReached
from .telephony import hang_up

log = logging.getLogger(__name__)

Context = RunContext[CallState]

MAX_SLOTS_LISTED = 6
BOOKINGS = "bookings"


def _proceed_uninterrupted(context: Context) -> None:
    """Before a side effect: stop if the caller already cut us off, else hold the floor
    until the action is done (LiveKit's pattern for tools that change the world)."""
    if context.speech_handle.interrupted:
        raise StopResponse()
    context.disallow_interruptions()


def _parse_day(text: str | None, what: str) -> date | None:
    if text is None or not text.strip():
        return None
    try:
        return parse_date(text)
    except ValueError:
        raise ToolError(f"I couldn't understand the {what} date. Ask for a specific day.") from None


class ClinicAgent(Agent):
    """The clinic's receptionist: identifies callers, texts codes, manages appointments."""

    def __init__(self, *, clinic_name: str) -> None:
        self.clinic_name = clinic_name
        self.base_instructions = instructions(self.clinic_name)
        super().__init__(instructions=self.base_instructions)
        self._tools = with_prebuilt_schemas(self._tools)  # built once, not per request
        self.otp_tools: ClinicOtpTools | None = None
        self.failures: FailureWatch | None = None
        self.quiet_line: QuietLine | None = None

    async def on_enter(self) -> None:
        state: CallState = self.session.userdata
        if self.failures is None:
            self.failures = FailureWatch(self.session, state)
            self.quiet_line = QuietLine(self.session, state)
        if self.otp_tools is None:
            self.otp_tools = ClinicOtpTools(
                state.services.otp,
                session_id=state.session_id,
                caller_phone=state.caller_phone,
                on_verified=self._on_verified,
                staff_hint=STAFF_HINT.strip(),
            )
            toolset = self.otp_tools
            state.pending_phone_source = lambda: toolset.pending_phone
            await toolset.setup()  # in a job: listens to the room's keypad
            await self.update_tools([*self.tools, toolset])
        today = state.services.clinic.now().date()
        context = f"\n\nToday is {say_date(today)}."
        if state.caller_phone:
            context += (
                f" The caller is calling from the number {mask_phone(state.caller_phone)}; "
                'you may offer to text a code to it with request_otp(patient_phone="caller").'
            )
        await self.update_instructions(self.base_instructions + context)
        self.session.say(phrase("greeting", state.language, clinic_name=self.clinic_name))

    async def _on_verified(self, context: RunContext[Any] | None, phone_e164: str) -> str:
        """The OTP toolset's grant hook (spoken and keypad entry alike)."""
        state: CallState = self.session.userdata
        return await grant_for_proven_phone(state, phone_e164)

    # -- what the model writes ----------------------------------------------------------------

    async def llm_node(
        self,
        chat_ctx: llm.ChatContext,
        tools: list[llm.Tool],
        model_settings: ModelSettings,
    ) -> AsyncIterator[llm.ChatChunk | str | FlushSentinel]:
        """The model's reply, with its text through the speech filter; tool calls pass on
        as they are (the tools check their own arguments)."""
        chat_ctx = bounded_context(chat_ctx, self.session.userdata)  # context.py: bounded
        options = self.session.userdata.services.options
        public = (options.front_desk_phone, options.staff_transfer_number)
        speech = SpeechFilter(number for number in public if number)
        stream: AsyncIterable[Any] = Agent.default.llm_node(self, chat_ctx, tools, model_settings)
        async for chunk in stream:
            if isinstance(chunk, str):
                if text := speech.feed(chunk):
                    yield text
            elif isinstance(chunk, llm.ChatChunk) and chunk.delta and chunk.delta.content:
                text = speech.feed(chunk.delta.content)
                delta = chunk.delta.model_copy(update={"content": text or None})
                yield chunk.model_copy(update={"delta": delta})
            else:
                yield chunk
        if rest := speech.finish():
            yield rest

    # -- identity ---------------------------------------------------------------------------

    @function_tool
    @measured
    async def verify_identity(
        self, context: Context, full_name: str, date_of_birth: str, phone: str | None = None
    ) -> str:
        """Check the caller's name and date of birth against our records.

        Args:
            full_name: as the caller said it
            date_of_birth: as the caller said it
            phone: only if the caller said it
        """
        return await identity.verify_identity(
            context.userdata, full_name, date_of_birth, phone, caller_turns(context)
        )

    # -- appointments -----------------------------------------------------------------------

    @function_tool
    @measured
    async def list_appointments(self, context: Context) -> str:
        """List the verified caller's upcoming appointments."""
        state = context.userdata
        patient_ids = state.verified_patients(VerificationLevel.LEVEL_1)
        if not patient_ids:
            raise ToolError(NEEDS_LEVEL_1)
        clinic = state.services.clinic
        lines = []
        async with records_call():
            for patient_id in patient_ids:
                patient = await clinic.get_patient(patient_id)
                for appt in await clinic.appointments_for(patient_id):
                    lines.append(
                        f"{appt.id}: {patient.full_name}, {appt.provider}, "
                        f"{say_time(appt.starts_at)}"
                    )
        return "\n".join(lines) if lines else "No upcoming appointments."

    @function_tool
    @measured
    async def find_open_slots(
        self,
        context: Context,
        start_date: str | None = None,
        end_date: str | None = None,
        provider: str | None = None,
    ) -> str:
        """Find open appointment times.

        Args:
            start_date: first day, YYYY-MM-DD
            end_date: last day, YYYY-MM-DD
            provider: a provider's name, if the caller asked for one
        """
        start = _parse_day(start_date, "start")
        end = _parse_day(end_date, "end")
        async with records_call():
            slots = await context.userdata.services.clinic.open_slots(
                start=start, end=end, provider=provider, limit=MAX_SLOTS_LISTED
            )
        if not slots:
            return "No open times in that range."
        return "\n".join(f"{s.id}: {s.provider}, {say_time(s.starts_at)}" for s in slots)

    @function_tool
    @measured
    async def book_appointment(self, context: Context, slot_id: str) -> str:
        """Book an open time for the verified caller.

        Args:
            slot_id: from find_open_slots
        """
        state = context.userdata
        patient_id = self._active_patient(state)
        services = state.services
        try:
            with state.reserve(BOOKINGS, state.new_bookings, services.options.max_new_bookings):
                _proceed_uninterrupted(context)
                if not await services.bookings.take(patient_id):
                    raise LimitReached(BOOKINGS)
                try:
                    async with records_call():
                        appointment_id = await services.clinic.book(patient_id, slot_id)
                except ToolError:
                    await services.bookings.give_back(patient_id)
                    raise
                state.new_bookings += 1
        except LimitReached:
            raise ToolError(replies.BOOKING_LIMIT) from None
        except StoreUnavailable:
            raise ToolError(replies.RECORDS_UNAVAILABLE) from None
        async with records_call():
            appointment = await services.clinic.get_appointment(appointment_id)
        return (
            f"Booked {appointment.id}: {appointment.provider}, {say_time(appointment.starts_at)}."
        )

    @function_tool
    @measured
    async def cancel_appointment(self, context: Context, appointment_id: str) -> str:
        """Cancel an appointment the caller confirmed.

        Args:
            appointment_id: from list_appointments
        """
        state = context.userdata
        appointment = await self._own_appointment(state, appointment_id)
        _proceed_uninterrupted(context)
        async with records_call():
            cancelled = await state.services.clinic.cancel(appointment.id)
        return f"Cancelled {cancelled.provider}, {say_time(cancelled.starts_at)}."

    @function_tool
    @measured
    async def reschedule_appointment(
        self, context: Context, appointment_id: str, new_slot_id: str
    ) -> str:
        """Move an appointment to an open time the caller confirmed.

        Args:
            appointment_id: from list_appointments
            new_slot_id: from find_open_slots
        """
        state = context.userdata
        appointment = await self._own_appointment(state, appointment_id)
        _proceed_uninterrupted(context)
        async with records_call():
            moved = await state.services.clinic.reschedule(appointment.id, new_slot_id)
        return f"Moved to {moved.provider}, {say_time(moved.starts_at)}."

    # -- people -----------------------------------------------------------------------------

    @function_tool
    @measured
    async def transfer_to_staff(self, context: Context, reason: str) -> str:
        """Hand the call to a person at the front desk.

        Args:
            reason: why, in a few words, for the staff
        """
        state = context.userdata
        log.info("staff requested", extra={"session_id": state.session_id})
        if handoff.can_transfer(state):
            _proceed_uninterrupted(context)
            task = asyncio.create_task(self._transfer_after_reply(context))
            state.background.add(task)
            task.add_done_callback(state.background.discard)
            return "Transferring now: tell the caller in one short sentence."
        desk = handoff.front_desk(state.services.options)
        return f"No live transfer from here. Tell the caller to call the front desk at {desk}."

    @function_tool
    @measured
    async def end_call(self, context: Context) -> str:
        """End the call when the caller is done."""
        state = context.userdata
        log.info("caller ended the call", extra={"session_id": state.session_id})
        task = asyncio.create_task(self._hang_up_after_reply(context))
        state.background.add(task)
        task.add_done_callback(state.background.discard)
        return "Say a short goodbye; the call ends after it."

    async def _hang_up_after_reply(self, context: Context) -> None:
        await context.speech_handle
        await hang_up(self.session, context.userdata)

    async def _transfer_after_reply(self, context: Context) -> None:
        """Transfer once the agent has said it is transferring (the tool's reply)."""
        await context.speech_handle
        await handoff.transfer(context.userdata, self.session)

    # -- gates ------------------------------------------------------------------------------

    @staticmethod
    def _active_patient(state: CallState) -> str:
        """The patient this call is about, at Level 1 or more; refuse if unclear."""
        verified = state.verified_patients(VerificationLevel.LEVEL_1)
        if not verified:
            raise ToolError(NEEDS_LEVEL_1)
        if state.active_patient_id in verified:
            return state.active_patient_id
        if len(verified) == 1:
            return verified[0]
        raise ToolError(replies.SEVERAL_VERIFIED)

    @staticmethod
    async def _own_appointment(state: CallState, appointment_id: str) -> Appointment:
        """The appointment, if the caller holds Level 2 for its own patient; else refuse
        without saying whose it is."""
        if not state.verified_patients(VerificationLevel.LEVEL_2):
            raise ToolError(NEEDS_LEVEL_2)
        async with records_call():
            try:
                appointment = await state.services.clinic.get_appointment(appointment_id)
            except (NotFound, ValueError):
                raise ToolError(NOT_YOURS) from None
        if state.level_for(appointment.patient_id) < VerificationLevel.LEVEL_2:
            raise ToolError(NOT_YOURS)
        return appointment
