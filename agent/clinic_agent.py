"""ClinicAgent: the LLM-facing tools. Thin on purpose.

Each tool parses its arguments, checks `CallState` in code, calls a backend and returns one
short sentence for the LLM. A refusal is a `ToolError` with a caller-safe reason, raised
before anything changes. Who may do what is decided here, never by the prompt.
"""

from __future__ import annotations

import asyncio
import logging
import os
from datetime import date

from livekit import api
from livekit.agents import (
    Agent,
    RunContext,
    StopResponse,
    ToolError,
    function_tool,
    get_job_context,
)

from clinic import Appointment, ClinicError, NotFound, parse_date
from verification import VerificationLevel, normalize_phone

from .metrics import measured
from .otp_flow import STAFF_HINT, check_code, for_the_llm
from .prompts import instructions
from .speech import say_date, say_time
from .state import MAX_CODE_REQUESTS_PER_CALL, MAX_IDENTITY_ATTEMPTS, CallState

log = logging.getLogger(__name__)

Context = RunContext[CallState]

CALLER_ID_WORDS = frozenset({"caller", "caller id", "this number", "this phone"})
NOT_YOURS = "I can't find that appointment among this caller's appointments."
NEEDS_LEVEL_1 = "The caller isn't verified yet. Ask for their full name and date of birth first."
NEEDS_LEVEL_2 = (
    "Cancelling or rescheduling needs a code texted to the phone number on file. "
    "Offer to text one (request_otp)."
)
MAX_SLOTS_LISTED = 6


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

    def __init__(self, *, clinic_name: str | None = None) -> None:
        self.clinic_name = clinic_name or os.environ.get("CLINIC_NAME", "").strip() or "the clinic"
        self.base_instructions = instructions(self.clinic_name)
        super().__init__(instructions=self.base_instructions)

    async def on_enter(self) -> None:
        state: CallState = self.session.userdata
        today = state.services.clinic.now().date()
        context = f"\n\nToday is {say_date(today)}."
        if state.caller_phone:
            context += (
                f" The caller is calling from a number ending in {state.caller_phone[-4:]}; "
                'you may offer to text a code to it with request_otp(patient_phone="caller").'
            )
        await self.update_instructions(self.base_instructions + context)
        self.session.say(f"Thank you for calling {self.clinic_name}. How can I help you today?")

    # -- identity ---------------------------------------------------------------------------

    @function_tool
    @measured
    async def verify_identity(
        self, context: Context, full_name: str, date_of_birth: str, phone: str | None = None
    ) -> str:
        """Check the caller's name and date of birth against our records.

        Args:
            full_name: patient's full name
            date_of_birth: as said, e.g. "April 12 1985"
            phone: patient's phone, only if given
        """
        state = context.userdata
        if state.identity_failures >= MAX_IDENTITY_ATTEMPTS:
            raise ToolError("Too many unmatched attempts on this call." + STAFF_HINT)
        clinic = state.services.clinic
        try:
            patient = await clinic.find_patient(full_name, date_of_birth)
        except ValueError:
            raise ToolError(
                "I couldn't understand that date of birth. Ask for month, day and year."
            ) from None
        except ClinicError as exc:
            raise ToolError(exc.message) from None
        if patient is None:
            state.identity_failures += 1
            return "No patient record matches that name and date of birth. Ask them to check both."

        level = VerificationLevel.LEVEL_1
        phone_note = ""
        if phone and phone.strip():
            if self._phone_matches(state, phone, patient.phone):
                if state.services.options.allow_phone_match_level2:
                    level = VerificationLevel.LEVEL_2
            else:
                phone_note = " The phone number given is not the one on file."
        state.grant([patient.id], level)
        state.active_patient_id = patient.id
        log.info(
            "caller identified",
            extra={"session_id": state.session_id, "level": int(state.level_for(patient.id))},
        )
        if state.level_for(patient.id) >= VerificationLevel.LEVEL_2:
            return f"Verified {patient.full_name}: may hear, book, cancel and reschedule."
        return (
            f"Verified {patient.full_name} by name and date of birth: may hear and book."
            f"{phone_note} Cancel or reschedule needs a texted code."
        )

    @staticmethod
    def _phone_matches(state: CallState, said: str, on_file: str) -> bool:
        try:
            return normalize_phone(said, state.services.otp.default_region) == on_file
        except ValueError:
            return False

    @function_tool
    @measured
    async def request_otp(self, context: Context, patient_phone: str) -> str:
        """Text a verification code. Ask the caller first.

        Args:
            patient_phone: number given, or "caller" for the caller's own
        """
        state = context.userdata
        if patient_phone.strip().lower() in CALLER_ID_WORDS:
            if not state.caller_phone:
                raise ToolError("The caller's own number isn't known. Ask for the phone on file.")
            patient_phone = state.caller_phone
        if state.otp_send_lock.locked():
            return "A code is being sent right now. Wait for it before asking again."
        if state.code_requests >= MAX_CODE_REQUESTS_PER_CALL:
            raise ToolError("No more codes can be sent on this call." + STAFF_HINT)
        _proceed_uninterrupted(context)
        state.code_requests += 1
        async with state.otp_send_lock:
            outcome = await state.services.otp.request_code(
                patient_phone, session_id=state.session_id
            )
        if outcome.status in ("sent", "cooldown"):
            state.otp_phone = normalize_phone(patient_phone, state.services.otp.default_region)
        return for_the_llm(outcome.status, outcome.message)

    @function_tool
    @measured
    async def verify_otp(self, context: Context, code: str) -> str:
        """Check the code the caller read back or typed.

        Args:
            code: the digits as said, e.g. "402991" or "four oh two nine nine one"
        """
        state = context.userdata
        if state.otp_phone is None:
            raise ToolError("No code is pending on this call. Offer to text one (request_otp).")
        _, sentence = await check_code(state, code)
        return sentence

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
        for patient_id in patient_ids:
            patient = await clinic.get_patient(patient_id)
            for appt in await clinic.appointments_for(patient_id):
                lines.append(
                    f"{appt.id}: {patient.full_name}, {appt.provider}, {say_time(appt.starts_at)}"
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
            start_date: first day, e.g. "2026-12-01"
            end_date: last day
            provider: e.g. "Dr. Patel"
        """
        start = _parse_day(start_date, "start")
        end = _parse_day(end_date, "end")
        try:
            slots = await context.userdata.services.clinic.open_slots(
                start=start, end=end, provider=provider, limit=MAX_SLOTS_LISTED
            )
        except ClinicError as exc:
            raise ToolError(exc.message) from None
        if not slots:
            return "No open times in that range."
        return "\n".join(f"{s.id}: {s.provider}, {say_time(s.starts_at)}" for s in slots)

    @function_tool
    @measured
    async def book_appointment(self, context: Context, slot_id: str) -> str:
        """Book an open time for the verified caller.

        Args:
            slot_id: id from find_open_slots
        """
        state = context.userdata
        patient_id = self._active_patient(state)
        _proceed_uninterrupted(context)
        clinic = state.services.clinic
        try:
            appointment = await clinic.get_appointment(await clinic.book(patient_id, slot_id))
        except ClinicError as exc:
            raise ToolError(exc.message) from None
        return (
            f"Booked {appointment.id}: {appointment.provider}, {say_time(appointment.starts_at)}."
        )

    @function_tool
    @measured
    async def cancel_appointment(self, context: Context, appointment_id: str) -> str:
        """Cancel an appointment. Confirm with the caller first.

        Args:
            appointment_id: id from list_appointments
        """
        state = context.userdata
        appointment = await self._own_appointment(state, appointment_id)
        _proceed_uninterrupted(context)
        try:
            cancelled = await state.services.clinic.cancel(appointment.id)
        except ClinicError as exc:
            raise ToolError(exc.message) from None
        return f"Cancelled {cancelled.provider}, {say_time(cancelled.starts_at)}."

    @function_tool
    @measured
    async def reschedule_appointment(
        self, context: Context, appointment_id: str, new_slot_id: str
    ) -> str:
        """Move an appointment to an open time. Confirm with the caller first.

        Args:
            appointment_id: id from list_appointments
            new_slot_id: id from find_open_slots
        """
        state = context.userdata
        appointment = await self._own_appointment(state, appointment_id)
        _proceed_uninterrupted(context)
        try:
            moved = await state.services.clinic.reschedule(appointment.id, new_slot_id)
        except ClinicError as exc:
            raise ToolError(exc.message) from None
        return f"Moved to {moved.provider}, {say_time(moved.starts_at)}."

    # -- people -----------------------------------------------------------------------------

    @function_tool
    @measured
    async def transfer_to_staff(self, context: Context, reason: str) -> str:
        """Hand the call to a person at the front desk.

        Args:
            reason: a few words on why, for the staff
        """
        state = context.userdata
        options = state.services.options
        job = get_job_context(required=False)
        log.info("staff requested", extra={"session_id": state.session_id})
        if options.staff_transfer_number and state.sip_participant_identity and job is not None:
            _proceed_uninterrupted(context)
            task = asyncio.create_task(
                self._transfer_after_reply(context, options.staff_transfer_number)
            )
            state.background.add(task)
            task.add_done_callback(state.background.discard)
            return "Transferring now: tell the caller in one short sentence."
        desk = options.front_desk_phone or "the number on our website"
        hours = f", {options.front_desk_hours}" if options.front_desk_hours else ""
        return (
            f"No live transfer from here. Tell the caller to call the front desk at {desk}{hours}."
        )

    async def _transfer_after_reply(self, context: Context, number: str) -> None:
        """Transfer once the agent has said it is transferring (the tool's reply). A failed
        transfer comes back as a status, not an exception: both end in the same apology."""
        state = context.userdata
        job = get_job_context()
        await context.speech_handle
        try:
            result = await job.api.sip.transfer_sip_participant(
                api.TransferSIPParticipantRequest(
                    room_name=job.room.name,
                    participant_identity=state.sip_participant_identity or "",
                    transfer_to=f"tel:{number}",
                    play_dialtone=False,
                )
            )
            failed = result.status == api.SIPTransferStatus.STS_TRANSFER_FAILED
        except Exception:
            log.exception("staff transfer failed", extra={"session_id": state.session_id})
            failed = True
        if failed:
            log.warning("staff transfer not completed", extra={"session_id": state.session_id})
            desk = state.services.options.front_desk_phone or "the number on our website"
            await self.session.say(
                f"I'm sorry, I couldn't transfer you. Please call our front desk at {desk}."
            )

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
        raise ToolError(
            "Several patients are verified on this call. Ask which one, then verify_identity."
        )

    @staticmethod
    async def _own_appointment(state: CallState, appointment_id: str) -> Appointment:
        """The appointment, if the caller holds Level 2 for its own patient; else refuse
        without saying whose it is."""
        if not state.verified_patients(VerificationLevel.LEVEL_2):
            raise ToolError(NEEDS_LEVEL_2)
        try:
            appointment = await state.services.clinic.get_appointment(appointment_id)
        except (NotFound, ValueError):
            raise ToolError(NOT_YOURS) from None
        except ClinicError as exc:
            raise ToolError(exc.message) from None
        if state.level_for(appointment.patient_id) < VerificationLevel.LEVEL_2:
            raise ToolError(NOT_YOURS)
        return appointment
