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

import logging
from collections.abc import AsyncIterator
from datetime import date
from typing import Any

from livekit.agents import (
    Agent,
    FlushSentinel,
    ModelSettings,
    RunContext,
    ToolError,
    function_tool,
    llm,
)

from clinic import Appointment, NotFound, parse_date
from verification import StoreUnavailable, VerificationLevel, mask_phone
from verification.livekit import (
    OtpToolset,
    SpeechHygiene,
    caller_turns,
    proceed_uninterrupted,
    with_prebuilt_schemas,
)

from . import handoff, identity, replies
from .context import bounded_context
from .failures import FailureWatch
from .instructions import instructions, languages, phrase
from .language import CallLanguage
from .metrics import time_tools
from .phone_grants import grant_for_proven_phone
from .quiet_line import QuietLine
from .replies import NEEDS_LEVEL_1, NEEDS_LEVEL_2, NOT_YOURS, STAFF_HINT, records_call
from .speech import say_date, say_time
from .state import CallState, LimitReached
from .telephony import hang_up

log = logging.getLogger(__name__)

Context = RunContext[CallState]

MAX_SLOTS_LISTED = 6
BOOKINGS = "bookings"


def _questions(language: str) -> tuple[str, ...]:
    """What the caller hears, in turn, when the model's reply was only tool-call text."""
    return tuple(phrase(name, language) for name in ("ask_again", "ask_next", "ask_person"))


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
        self.otp_tools: OtpToolset | None = None
        self.speech = SpeechHygiene(questions=_questions("en"))
        self.failures: FailureWatch | None = None
        self.quiet_line: QuietLine | None = None
        self.call_language: CallLanguage | None = None

    async def on_enter(self) -> None:
        state: CallState = self.session.userdata
        if self.failures is None:  # once per call: what watches the session
            self.failures = FailureWatch(self.session, state)
            self.quiet_line = QuietLine(self.session, state)
            self.call_language = CallLanguage(self.session, state, self._follow_language)
            time_tools(self.session)
        if self.otp_tools is None:
            # the plugin's code tools, as any host has them: every rule is inside
            self.otp_tools = OtpToolset(
                state.services.otp,
                session_id=state.session_id,
                caller_phone=state.caller_phone,
                on_verified=self._on_verified,
                caller_identity=state.sip_participant_identity,
                staff_hint=STAFF_HINT.strip(),
                language=state.language,
            )
            toolset = self.otp_tools
            state.pending_phone_source = lambda: toolset.pending_phone
            await toolset.setup()  # in a job: listens to the room's keypad
            await self.update_tools([*self.tools, toolset])
            options = state.services.options
            public = (options.front_desk_phone, options.staff_transfer_number)
            self.speech = SpeechHygiene(
                allowed_numbers=[number for number in public if number],
                questions=_questions(state.language),
                tool_sentence=self._caller_sentence,
                language=state.language,
            )
        await self.update_instructions(self._call_instructions(state))
        greeting = [phrase("greeting", state.language, clinic_name=self.clinic_name)]
        greeting += [phrase("invite", other) for other in languages() if other != state.language]
        self.session.say(" ".join(greeting))

    def _call_instructions(self, state: CallState) -> str:
        """The instructions in the call's language, with what this call knows: today's date,
        and the caller ID (masked) when there is one."""
        language = state.language
        today = say_date(state.services.clinic.now().date())
        context = phrase("today", language, date=today)
        if state.caller_phone:
            context += " " + phrase("caller_id", language, masked=mask_phone(state.caller_phone))
        return f"{instructions(self.clinic_name, language)}\n\n{context}"

    def _caller_sentence(self, output: llm.FunctionCallOutput) -> str | None:
        """What the caller may hear of one of this agent's refusals (the plugin's toolset
        has its own)."""
        name = replies.CALLER_PHRASES.get(output.output)
        return phrase(name, self.session.userdata.language) if name else None

    def _follow_language(self, language: str) -> None:
        """The caller switched language: the instructions, the code's text (or call), the
        fallback questions and the words a hidden number becomes follow (the agent's own
        sentences read `CallState.language` already)."""
        state: CallState = self.session.userdata
        if self.otp_tools is not None:
            self.otp_tools.language = language
        self.speech.language = language
        self.speech.questions = _questions(language)
        log.info(
            "call language changed", extra={"session_id": state.session_id, "language": language}
        )
        state.in_background(self.update_instructions(self._call_instructions(state)))

    async def _on_verified(self, context: RunContext[Any] | None, phone_e164: str) -> str:
        """The OTP toolset's grant hook (spoken and keypad entry alike)."""
        state: CallState = self.session.userdata
        return await grant_for_proven_phone(state, phone_e164)

    # -- what the model writes ----------------------------------------------------------------

    def llm_node(
        self,
        chat_ctx: llm.ChatContext,
        tools: list[llm.Tool],
        model_settings: ModelSettings,
    ) -> AsyncIterator[llm.ChatChunk | str | FlushSentinel]:
        """The model's reply through the plugin's speech hygiene: no code, full phone number
        or tool-call text is said, shown or kept, and a reply that was only tool-call text
        becomes something useful for the caller."""
        chat_ctx = bounded_context(chat_ctx, self.session.userdata)  # context.py: bounded
        return self.speech.llm_node(self, chat_ctx, tools, model_settings)

    # -- identity ---------------------------------------------------------------------------

    @function_tool
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
            context.userdata, full_name, date_of_birth, phone, caller_turns(context.session)
        )

    # -- appointments -----------------------------------------------------------------------

    @function_tool
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
                proceed_uninterrupted(context)
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
    async def cancel_appointment(self, context: Context, appointment_id: str) -> str:
        """Cancel an appointment the caller confirmed.

        Args:
            appointment_id: from list_appointments
        """
        state = context.userdata
        appointment = await self._own_appointment(state, appointment_id)
        proceed_uninterrupted(context)
        async with records_call():
            cancelled = await state.services.clinic.cancel(appointment.id)
        return f"Cancelled {cancelled.provider}, {say_time(cancelled.starts_at)}."

    @function_tool
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
        proceed_uninterrupted(context)
        async with records_call():
            moved = await state.services.clinic.reschedule(appointment.id, new_slot_id)
        return f"Moved to {moved.provider}, {say_time(moved.starts_at)}."

    # -- people -----------------------------------------------------------------------------

    @function_tool
    async def transfer_to_staff(self, context: Context, reason: str) -> str:
        """Hand the call to a person at the front desk.

        Args:
            reason: why, in a few words, for the staff
        """
        state = context.userdata
        log.info("staff requested", extra={"session_id": state.session_id})
        if handoff.can_warm_transfer(state):
            proceed_uninterrupted(context)
            await self.session.say(
                phrase("hold_for_staff", state.language), allow_interruptions=False
            )
            if await handoff.warm_transfer(
                state, self.session, clinic_name=self.clinic_name, reason=reason
            ):
                await self.session.say(
                    phrase("with_staff", state.language), allow_interruptions=False
                )
                self.session.shutdown()  # staff have the caller: the agent leaves the room
                return "The caller is now with staff."
            # staff could not be reached: the cold transfer, as without a warm one
            await handoff.transfer(state, self.session)
            return "The transfer is under way: say nothing more."
        if handoff.can_transfer(state):
            proceed_uninterrupted(context)
            state.in_background(self._transfer_after_reply(context))
            return "Transferring now: tell the caller in one short sentence."
        desk = handoff.front_desk(state.services.options)
        return f"No live transfer from here. Tell the caller to call the front desk at {desk}."

    @function_tool
    async def end_call(self, context: Context) -> str:
        """End the call when the caller is done."""
        state = context.userdata
        log.info("caller ended the call", extra={"session_id": state.session_id})
        state.in_background(self._hang_up_after_reply(context))
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
