"""The typed console's tool lines say `ok` only for a tool call that did what was asked, and
`refused` for every other answer (issue 17 item 7): the label follows the outcome, whatever
the wording, for the code tools (which answer most outcomes in words) and the agent's own."""

from __future__ import annotations

import io

from livekit.agents import RunResult

from agent.console import TranscriptPrinter, judged_by
from clinic import demo
from tests.support.clinic_calls import Call
from tests.support.constants import JANE_PHONE

# what each outcome means for the line: did the tool do what the model asked?
LABEL = {
    "sent": "ok",  # also for a number not on file: the decoy sounds the same
    "invalid_phone": "refused",
    "cooldown": "refused",
    "wrong_code": "refused",
    "verified": "ok",
    "tool_error": "refused",
}


async def line_for(call: Call, said: str, tool: str, **arguments: object) -> str:
    """The one tool line the console prints for this turn."""
    out = io.StringIO()
    call.llm.call(tool, **arguments)
    result: RunResult[None] = await call.session.run(user_input=said)
    await call.state.services.otp.drain()
    TranscriptPrinter(out, "US", judged_by(call.agent)).show(result)
    [line] = [line for line in out.getvalue().splitlines() if line.startswith("  · ")]
    return line


def label(line: str) -> str:
    return line.split("→ ", 1)[1].split(":", 1)[0]


async def test_each_outcome_gets_its_label(call: Call) -> None:
    outcomes = [
        ("sent", await line_for(call, f"Text {JANE_PHONE}", "request_otp",
                                patient_phone=JANE_PHONE)),
        ("cooldown", await line_for(call, f"Again to {JANE_PHONE}", "request_otp",
                                    patient_phone=JANE_PHONE)),
        ("invalid_phone", await line_for(call, "Text 12", "request_otp", patient_phone="12")),
    ]  # fmt: skip
    code = call.sms.last_code()
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    outcomes.append(("wrong_code", await line_for(call, wrong, "verify_otp", code=wrong)))
    outcomes.append(("verified", await line_for(call, code, "verify_otp", code=code)))
    decoy = demo.NOT_ON_FILE_PHONE
    outcomes.append(("tool_error", await line_for(call, "Cancel it", "cancel_appointment",
                                                  appointment_id="A1")))  # fmt: skip
    outcomes.append(
        ("sent", await line_for(call, f"Text {decoy}", "request_otp", patient_phone=decoy))
    )
    for outcome, line in outcomes:
        assert label(line) == LABEL[outcome], (outcome, line)
