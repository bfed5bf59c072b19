# ruff: noqa: RUF001  (look-alike characters are the point of these tests)
"""Every agent tool, called through the real AgentSession with hostile JSON arguments.

The scripted LLM queues a tool call with arbitrary arguments; the real session parses them
(json, pydantic) and runs the real tool against a real demo database. Properties, per call:

* the output is a normal output or a `ToolError` (is_error=True), never the framework's
  "An internal error occurred" (an exception escaped the tool);
* a refused call changes nothing: every row of the clinic tables and the call's verified
  state are the same before and after;
* an accepted call changes only what its caller may change: no tool writes patients, slots or
  providers; a new appointment belongs to a patient held at Level 1 before the call, a changed
  one to a patient held at Level 2; only verify_identity and verify_otp touch grants; nothing
  is written at all for a caller who holds no grant; texts go only to numbers on file.

Each example builds its own call (database, OTP store, session), starting unverified, at
Level 1, at Level 2 (name + DOB + phone, or a texted code), or with a code pending.
"""

from __future__ import annotations

import asyncio
import re
import tempfile
from collections import Counter
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clinic import demo
from tests.support.hostile_harness import (
    INTERNAL_ERROR,
    LEVELS,
    Call,
    StateSnapshot,
    open_call,
    reach,
    run_tool,
    snapshot_db,
    snapshot_state,
)
from tests.support.hostile_strategies import (
    FUZZ_EXAMPLES,
    QUICK_EXAMPLES,
    VALID_CODES,
    VALID_DATES,
    VALID_NAMES,
    VALID_PHONES,
    non_strings,
    strings,
    weighted,
)
from verification import VerificationLevel

COUNTS = [
    pytest.param(2 * QUICK_EXAMPLES, id="quick"),  # over five starting levels: 20 each
    pytest.param(FUZZ_EXAMPLES, id="fuzz", marks=pytest.mark.fuzz),
]
DEMO_PHONES = {p.phone for p in demo.DEMO_PATIENTS}
LEVEL_1, LEVEL_2 = VerificationLevel.LEVEL_1, VerificationLevel.LEVEL_2
PHONES = [*VALID_PHONES, "caller", "this number"]
PROVIDERS = ["Dr. Patel", "patel", "Dr.", "doctor", "Nguyen", "dr okafor", "Pat"]
EDGE_DATES = ["9999-12-31", "December 31 9999", "0001-01-01", "1/1/0001", "2/29/2000"]
KEEP_ARGUMENT = st.sampled_from([True] * 15 + [False])
CONFUSE_TYPE = st.sampled_from([False] * 7 + [True])
OUTCOMES: Counter[str] = Counter()  # what the property exercised; printed with `pytest -s`


# -- argument strategies --------------------------------------------------------------------


def _mangle_id(raw: str, how: str) -> str:
    """Ways an LLM or attacker might write a real id: case, separators, look-alikes, junk."""
    fullwidth = str.maketrans(
        "0123456789ABCDEFGHJKMNPQRSTVWXYZ",
        "０１２３４５６７８９ＡＢＣＤＥＦＧＨＪＫＭＮＰＱＲＳＴＶＷＸＹＺ",
    )
    return {
        "plain": raw,
        "lower": raw.lower(),
        "dashed": "-".join(raw),
        "spaced": " ".join(raw),
        "fullwidth": raw.translate(fullwidth),
        "bidi": "\u202e" + raw + "\u202c",
        "nul": raw[:3] + "\x00" + raw[3:],
        "sql": raw + "' OR '1'='1",
        "sql2": f"{raw}'; UPDATE appointments SET status='cancelled'; --",  # noqa: S608
        "doubled": raw + raw,
        "emoji": raw + "😀",
        "zero_width": "\u200b".join(raw),
    }[how]


def id_values(call: Call) -> st.SearchStrategy[Any]:
    """Real ids of this example's records (own and other patients'), mangled, or hostile."""
    ids = call.ids
    real = weighted(
        (st.sampled_from(ids.jane_appointments), 3),
        (st.sampled_from(ids.open_slots), 3),
        (st.sampled_from(ids.other_appointments), 2),
        (st.sampled_from([ids.jane_patient, *ids.patients]), 1),
    )
    mangles = st.sampled_from(
        [
            *("plain", "plain", "plain", "lower", "dashed", "spaced", "fullwidth", "bidi"),
            *("nul", "sql", "sql2", "doubled", "emoji", "zero_width"),
        ]
    )
    return weighted((st.builds(_mangle_id, real, mangles), 3), (strings(), 1))


def tool_calls(call: Call) -> st.SearchStrategy[tuple[str, dict[str, Any]]]:
    ids = id_values(call)
    names = strings(VALID_NAMES)
    dates = strings(VALID_DATES)
    phones = strings(PHONES)
    codes = strings(VALID_CODES)
    text = strings()
    providers = strings(PROVIDERS)
    edge_dates = st.sampled_from(EDGE_DATES)
    optional_dates = weighted(
        (st.none(), 2), (st.sampled_from(["", " "]), 1), (edge_dates, 1), (dates, 2)
    )
    catalogue: dict[str, dict[str, st.SearchStrategy[Any]]] = {
        "verify_identity": {"full_name": names, "date_of_birth": dates, "phone": phones},
        "request_otp": {"patient_phone": phones},
        "verify_otp": {"code": codes},
        "list_appointments": {},
        "find_open_slots": {
            "start_date": optional_dates,
            "end_date": optional_dates,
            "provider": weighted((st.none(), 2), (providers, 1)),
        },
        "book_appointment": {"slot_id": ids},
        "cancel_appointment": {"appointment_id": ids},
        "reschedule_appointment": {"appointment_id": ids, "new_slot_id": ids},
        "transfer_to_staff": {"reason": text},
    }

    @st.composite
    def one(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
        tool = draw(st.sampled_from(sorted(catalogue)))
        arguments: dict[str, Any] = {}
        for name, values in catalogue[tool].items():
            if draw(KEEP_ARGUMENT):  # now and then leave one out
                arguments[name] = draw(values)
        confuse: bool = draw(CONFUSE_TYPE) if arguments else False
        if confuse:  # a number, null, list or object for a string
            arguments[draw(st.sampled_from(sorted(arguments)))] = draw(non_strings())
        keep_as_is: bool = draw(KEEP_ARGUMENT)
        if not keep_as_is:  # and now and then add one the tool doesn't have
            arguments[draw(st.sampled_from(["user_id", "level", "__proto__", "{}"]))] = draw(text)
        return tool, arguments

    return one()


# -- the property ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Observed:
    """One tool call and everything around it that the properties judge."""

    tool: str
    arguments: dict[str, Any]
    output: str
    is_error: bool
    db_before: dict[str, list[tuple[Any, ...]]]
    db_after: dict[str, list[tuple[Any, ...]]]
    state_before: StateSnapshot
    state_after: StateSnapshot
    held_before: dict[str, VerificationLevel]
    held_after: dict[str, VerificationLevel]
    texts_before: int
    texted: list[str]


def judge(seen: Observed, *, own_patient: str, others: set[str]) -> None:
    """The properties of one call (raises AssertionError naming the one that broke)."""
    call = f"{seen.tool}({seen.arguments!r})"
    assert seen.output != INTERNAL_ERROR, f"an exception escaped {call}"
    assert "invalid output" not in seen.output
    if seen.is_error:
        assert seen.db_after == seen.db_before, f"refused {call} changed the records"
        assert seen.state_after == seen.state_before, f"refused {call} changed the call state"
        assert len(seen.texted) == seen.texts_before, f"refused {call} sent a text"
        return

    for table in ("patients", "providers", "slots"):
        assert seen.db_after[table] == seen.db_before[table], f"{call} wrote {table}"
    before = {row[0]: row for row in seen.db_before["appointments"]}
    for row in seen.db_after["appointments"]:
        appointment_id, patient_id = row[0], row[1]
        if row == before.get(appointment_id):
            continue
        needed = LEVEL_1 if appointment_id not in before else LEVEL_2
        assert seen.held_before.get(patient_id, 0) >= needed, (
            f"{call} changed appointment {appointment_id} of {patient_id} "
            f"while the caller held {seen.held_before}"
        )
    if not any(seen.held_before.values()):
        assert seen.db_after == seen.db_before, f"{call} wrote records for an unverified caller"
    if seen.tool not in ("verify_identity", "verify_otp"):
        assert seen.state_after.grants == seen.state_before.grants, f"{call} changed the grants"
    assert all(to in DEMO_PHONES for to in seen.texted), "texted a number not on file"
    visible = {pid for pid, level in seen.held_after.items() if level >= LEVEL_1}
    if not visible - {own_patient}:
        leaked = others & set(re.findall(r"A[0-9A-Z]{5}", seen.output))
        assert not leaked, f"{call} showed another patient's appointment {leaked}"


def _held(call: Call) -> dict[str, VerificationLevel]:
    return {pid: call.state.level_for(pid) for pid in call.state.grants}


async def observe(call: Call, tool: str, arguments: dict[str, Any]) -> Observed:
    db_before, state_before = snapshot_db(call.db_path), snapshot_state(call.state)
    held_before, texts_before = _held(call), len(call.sms.sent)
    # the caller says what the arguments hold, so a hostile phone or code counts as "said"
    # and the property reaches the checks behind the "did the caller say it" gate
    said = " ".join(["please", tool, *(v for v in arguments.values() if isinstance(v, str))])
    output, is_error = await run_tool(call, tool, arguments, said=said[:2000])
    return Observed(
        tool=tool,
        arguments=arguments,
        output=output,
        is_error=is_error,
        db_before=db_before,
        db_after=snapshot_db(call.db_path),
        state_before=state_before,
        state_after=snapshot_state(call.state),
        held_before=held_before,
        held_after=_held(call),
        texts_before=texts_before,
        texted=[to for to, _ in call.sms.sent],
    )


async def check_call(call: Call, tool: str, arguments: dict[str, Any]) -> Observed:
    seen = await observe(call, tool, arguments)
    kind = "refused" if seen.is_error else "done"
    if seen.is_error and seen.output.startswith("Error parsing arguments"):
        kind = "refused by argument validation"
    OUTCOMES[f"{tool}: {kind}"] += 1
    if tool == "find_open_slots" and arguments.get("end_date") in EDGE_DATES:
        OUTCOMES[f"find_open_slots: end_date={arguments['end_date']}"] += 1
    judge(seen, own_patient=call.ids.jane_patient, others=set(call.ids.other_appointments))
    return seen


async def hostile_session(root: Path, level: str, data: st.DataObject, calls: int) -> None:
    caller_phone = data.draw(st.sampled_from([None, demo.JANE.phone]), label="caller_phone")
    async with open_call(root, caller_phone=caller_phone) as call:
        await reach(call, level)
        for _ in range(calls):
            tool, arguments = data.draw(tool_calls(call), label="tool call")
            await check_call(call, tool, arguments)


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("examples", COUNTS)
def test_tools_refuse_hostile_arguments_without_side_effects(
    examples: int, level: str, tmp_path: Path
) -> None:
    """Parametrised by starting level so each gets its share (Hypothesis would favour the
    first); `examples` is the property's total over the five levels."""
    with asyncio.Runner() as runner:

        @settings(
            max_examples=max(1, examples // len(LEVELS)),
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        )
        @given(st.integers(1, 4), st.data())
        def prop(calls: int, data: st.DataObject) -> None:
            with tempfile.TemporaryDirectory(dir=tmp_path) as root:
                runner.run(hostile_session(Path(root), level, data, calls))

        OUTCOMES.clear()
        prop()
        print(f"\n{level}:", *(f"{n:6d}  {k}" for k, n in sorted(OUTCOMES.items())), sep="\n")


# -- targeted: other patients' ids at every level ---------------------------------------------


@pytest.mark.parametrize("level", LEVELS)
async def test_other_patients_appointments_are_never_touched(level: str, tmp_path: Path) -> None:
    """Deterministic companion to the property: every way of writing John's and Lucas's
    appointment ids, at every level Jane's caller can reach, is refused and changes nothing."""
    async with open_call(tmp_path) as call:
        await reach(call, level)
        for target in call.ids.other_appointments:
            for how in ("plain", "lower", "dashed", "spaced", "bidi", "zero_width", "sql"):
                mangled = _mangle_id(target, how)
                for tool, arguments in (
                    ("cancel_appointment", {"appointment_id": mangled}),
                    (
                        "reschedule_appointment",
                        {"appointment_id": mangled, "new_slot_id": call.ids.open_slots[0]},
                    ),
                ):
                    db_before = snapshot_db(call.db_path)
                    output, is_error = await run_tool(call, tool, arguments)
                    assert is_error, (tool, arguments, output)
                    assert "John" not in output and "Lucas" not in output
                    assert snapshot_db(call.db_path) == db_before


async def test_judge_can_fail(tmp_path: Path) -> None:
    """The checks are not vacuous: a permitted cancel passes `judge`, and the same observation
    fails it once the caller is pretended not to have held Level 2, or once it is pretended to
    have been refused (a refused call must change nothing)."""
    async with open_call(tmp_path) as call:
        await reach(call, "level2_phone")
        target = call.ids.jane_appointments[0]
        seen = await check_call(call, "cancel_appointment", {"appointment_id": target})
        assert not seen.is_error and seen.output.startswith("Cancelled"), seen.output
        judge_ = partial(judge, own_patient=call.ids.jane_patient, others=set())
        with pytest.raises(AssertionError, match="while the caller held"):
            judge_(replace(seen, held_before={call.ids.jane_patient: LEVEL_1}))
        with pytest.raises(AssertionError, match=r"unverified caller|while the caller held"):
            judge_(replace(seen, held_before={}))
        with pytest.raises(AssertionError, match=r"refused .* changed the records"):
            judge_(replace(seen, is_error=True))
        with pytest.raises(AssertionError, match="an exception escaped"):
            judge_(replace(seen, output=INTERNAL_ERROR, is_error=True))


# -- a bug these properties found (fixed in ClinicDB.open_slots) ---------------------------


@pytest.mark.parametrize("end_date", ["9999-12-31", "December 31 9999", "12/31/9999"])
async def test_find_open_slots_with_the_last_representable_day(
    end_date: str, tmp_path: Path
) -> None:
    async with open_call(tmp_path) as call:
        output, _ = await run_tool(call, "find_open_slots", {"end_date": end_date})
        assert output != INTERNAL_ERROR
