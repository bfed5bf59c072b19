"""What every load run checks afterwards, whatever ran the calls (one process or several) and
whatever holds the records (no pytest imports: plain asserts).

`rows(query)` reads the records database directly - SQLite or PostgreSQL - bypassing the
records, so the checks see what is really stored.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from clinic import ClinicRecords
from tests.support.load_scenario import NOT_YOURS, SLOT_TAKEN, WRONG_ONCE, Caller, CallResult

Rows = Callable[[str], list[tuple[Any, ...]]]


def check_call(result: CallResult) -> None:
    """The scripted conversation went the way a real caller's would, step by step."""
    caller = result.caller
    (identified,) = result.outputs("verify_identity")
    assert identified == (
        f"Verified {caller.full_name} by name and date of birth: may hear and book. "
        "Cancel or reschedule needs a texted code.",
        False,
    )
    ((sent, sent_error),) = result.outputs("request_otp")
    assert not sent_error and sent.startswith("I've texted a 6-digit code")
    assert sent.count(caller.phone[-4:]) == 1
    wrong, right = result.outputs("verify_otp")
    assert wrong == (WRONG_ONCE, False)
    assert not right[1] and "You're verified" in right[0]
    assert right[0].endswith(f"Verified for {caller.full_name}.")
    # After verifying: only this call's own patient, at Level 2, and nobody else.
    assert result.grants == {caller.patient_id: 2}

    cancels = result.outputs("cancel_appointment")
    assert cancels[0] == (NOT_YOURS, True)  # the neighbour's appointment
    if caller.action == "cancel":
        assert len(cancels) == 2
        assert not cancels[1][1] and cancels[1][0].startswith("Cancelled")
        assert result.outputs("reschedule_appointment") == []
    else:
        assert len(cancels) == 1
        moves = result.outputs("reschedule_appointment")
        assert not moves[-1][1] and moves[-1][0].startswith("Moved to")
        if result.won_shared_slot:
            assert len(moves) == 1
        else:
            assert moves[:-1] == [(SLOT_TAKEN, True)]


async def final_slot(clinic: ClinicRecords, caller: Caller, result: CallResult) -> str | None:
    appointment = await clinic.get_appointment(caller.appointment_id)
    assert appointment.patient_id == caller.patient_id
    if caller.action == "cancel":
        assert (appointment.status, appointment.slot_id) == ("cancelled", caller.slot_id)
        return None
    assert appointment.status == "booked"
    expected = caller.shared_slot_id if result.won_shared_slot else caller.spare_slot_id
    assert appointment.slot_id == expected
    return appointment.slot_id


def booked_slots_with_more_than_one(rows: Rows) -> list[tuple[str, int]]:
    found = rows(
        "SELECT slot_id, COUNT(*) FROM appointments WHERE status = 'booked' "
        "GROUP BY slot_id HAVING COUNT(*) > 1"
    )
    return [(str(slot), int(count)) for slot, count in found]


def events_by_appointment(rows: Rows) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for appointment_id, action in rows(
        "SELECT appointment_id, action FROM appointment_events ORDER BY id"
    ):
        out.setdefault(str(appointment_id), []).append(str(action))
    return out


async def check_run(
    clinic: ClinicRecords,
    rows: Rows,
    callers: Sequence[Caller],
    results: Sequence[CallResult],
    texted: Iterable[str],
    *,
    shared_slots: int,
) -> None:
    """Every call ended in its own right state, and the records show nothing else happened."""
    rescheduling = [c for c in callers if c.action == "reschedule"]
    assert len(rescheduling) > shared_slots  # so the shared slots really are raced for
    assert sorted(r.caller.index for r in results) == sorted(c.index for c in callers)
    for result in results:
        check_call(result)

    # Each call ended in its own right state; the neighbour's attempt changed nothing
    # (every appointment's history is its booking plus exactly its own call's one action).
    finals = [await final_slot(clinic, r.caller, r) for r in results]
    history = events_by_appointment(rows)
    for caller in callers:
        own = "cancelled" if caller.action == "cancel" else "rescheduled"
        assert history[caller.appointment_id] == ["booked", own]

    # The race for shared slots: each shared slot won exactly once, every loser was told.
    winners = Counter(r.caller.shared_slot_id for r in results if r.won_shared_slot)
    assert winners == Counter({s: 1 for s in {c.shared_slot_id for c in rescheduling}})
    told = sum(
        1 for r in results if r.outputs("reschedule_appointment")[:1] == [(SLOT_TAKEN, True)]
    )
    assert told == len(rescheduling) - shared_slots
    moved_to = [slot for slot in finals if slot is not None]
    assert len(moved_to) == len(set(moved_to)) == len(rescheduling)
    assert booked_slots_with_more_than_one(rows) == []

    # Exactly one text per call, to that call's phone, and nothing else.
    assert Counter(texted) == Counter({c.phone: 1 for c in callers})


def ended_right(result: CallResult) -> bool:
    """The call's last tool step did what the caller came for (cancelled or moved)."""
    last = result.steps[-1]
    want = "Cancelled" if result.caller.action == "cancel" else "Moved to"
    return not last.is_error and last.output.startswith(want)
