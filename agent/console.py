"""`python -m agent console --text`: talk to the clinic agent by typing, in this terminal.

LiveKit's own text console (deprecated with the rest of its Python CLI) shows the greeting
only inside a DEBUG log line and fills the screen with LiveKit's DEBUG records. This one
runs the same services, session and agent as a call (`agent.server`), without a LiveKit
server, and shows what a developer needs:

    agent > Thank you for calling Bayview Clinic. How can I help you today?
    you > please text me a code
      · request_otp → ok: I've texted a 6-digit code to the number ending in 0123.
    agent > ...

One line per tool call with how it ended (ok / refused / error) and what it told the model,
with phone numbers masked (tool outputs never hold a code; arguments are not shown, since a
guessed code is one). The development SMS stand-in prints its `[DEV SMS ...]` block on
stderr, here too. Logs: warnings only, unless `--verbose` or `LOG_LEVEL` asks for more.
Ctrl-D or Ctrl-C ends the call and prints what it used.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import signal
import sys
import uuid
from collections.abc import Callable
from typing import Any, TextIO

import phonenumbers
from livekit.agents import AgentSession, APIError, RunResult, llm

from verification import mask_phone

from .clinic_agent import ClinicAgent
from .settings import AgentSettings
from .state import CallState
from .usage import report_call_usage
from .wiring import build_llm, build_services, build_session, prepare_records, warm_up

log = logging.getLogger(__name__)

AGENT_PROMPT = "agent > "
USER_PROMPT = "you > "
TOOL_MARK = "  · "
# Runs of six or more digits in a tool's output that are not a phone number: masked too.
_LONG_DIGITS = re.compile(r"\d{6,}")


class ShownAsToolLine(logging.Filter):
    """Drops LiveKit's warning for a refused tool: the tool line already says `refused`."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (
            record.name == "livekit.agents"
            and record.levelno == logging.WARNING
            and record.getMessage().startswith("ToolError while executing tool")
        )


class ServiceFailureLogs(logging.Filter):
    """Drops the log records of a failing service (LiveKit's retry warnings, its traceback
    when it gives a reply up, the failure watch's own line): the console prints one line per
    failure itself (`CallTurns`)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name == "agent.failures":
            return False
        if not record.name.startswith("livekit"):
            return True
        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, APIError) or isinstance(getattr(exc, "__cause__", None), APIError):
            return False
        return not record.getMessage().startswith(_SERVICE_RETRY_MESSAGES)


_SERVICE_RETRY_MESSAGES = (
    "failed to generate LLM completion",
    "failed to recognize speech",
    "failed to synthesize speech",
    "AgentSession is closing due to unrecoverable error",
)


def configure_logging(level: int, stream: TextIO) -> None:
    """One plain handler on the root logger at `level` (LiveKit's loggers inherit it)."""
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    if level > logging.DEBUG:
        handler.addFilter(ShownAsToolLine())
        handler.addFilter(ServiceFailureLogs())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    for name in ("livekit", "livekit.agents", "livekit.plugins"):
        logging.getLogger(name).setLevel(logging.NOTSET)


def mask_numbers(text: str, region: str = "US") -> str:
    """Every phone number in `text` as "ending in 0123"; other long digit runs as "[digits]"."""
    masked = text
    for match in reversed(list(phonenumbers.PhoneNumberMatcher(text, region))):
        e164 = phonenumbers.format_number(match.number, phonenumbers.PhoneNumberFormat.E164)
        masked = masked[: match.start] + mask_phone(e164) + masked[match.end :]
    return _LONG_DIGITS.sub("[digits]", masked)


def tool_line(
    call: llm.FunctionCall, output: llm.FunctionCallOutput | None, region: str, *, done: bool
) -> str:
    """`  · request_otp → ok: I've texted a 6-digit code to the number ending in 0123.`"""
    if output is None:
        return f"{TOOL_MARK}{call.name} → no answer"
    said = " ".join(output.output.split())
    if len(said) > 160:
        said = said[:157] + "..."
    return f"{TOOL_MARK}{call.name} → {'ok' if done else 'refused'}: {mask_numbers(said, region)}"


Done = Callable[[llm.FunctionCall, llm.FunctionCallOutput], bool]


def not_an_error(call: llm.FunctionCall, output: llm.FunctionCallOutput) -> bool:
    return not output.is_error


def judged_by(agent: ClinicAgent) -> Done:
    """Did a tool call do what was asked? The agent's own tools say so by refusing (a
    `ToolError`); the code tools answer most outcomes in words (a wrong code, a cooldown),
    so their own record of each outcome decides."""

    def done(call: llm.FunctionCall, output: llm.FunctionCallOutput) -> bool:
        toolset = agent.otp_tools
        outcome = toolset.did_what_was_asked(call.call_id) if toolset is not None else None
        return not output.is_error if outcome is None else outcome

    return done


class TranscriptPrinter:
    """Turns a run's events into the lines the developer reads."""

    def __init__(self, out: TextIO, region: str, done: Done = not_an_error) -> None:
        self.out = out
        self.region = region
        self.done = done

    def write(self, line: str) -> None:
        self.out.write(line + "\n")
        self.out.flush()

    def show(self, run: RunResult[Any]) -> None:
        outputs = {e.item.call_id: e.item for e in run.events if e.type == "function_call_output"}
        for event in run.events:
            if event.type == "function_call":
                output = outputs.get(event.item.call_id)
                done = output is not None and self.done(event.item, output)
                self.write(tool_line(event.item, output, self.region, done=done))
            elif event.type == "message" and event.item.role == "assistant":
                text = event.item.text_content
                if text:
                    self.write(AGENT_PROMPT + text)


class LineReader:
    """Lines typed on stdin, read by the event loop itself (no thread, nothing blocking)."""

    def __init__(self, fd: int, loop: asyncio.AbstractEventLoop) -> None:
        self.fd = fd
        self.loop = loop
        self.lines: asyncio.Queue[str | None] = asyncio.Queue()
        self._buffer = b""
        loop.add_reader(fd, self._readable)

    def _readable(self) -> None:
        try:
            chunk = os.read(self.fd, 4096)
        except OSError:
            chunk = b""
        if not chunk:
            self.close()
            self.lines.put_nowait(None)
            return
        self._buffer += chunk.replace(b"\r", b"\n")
        *complete, self._buffer = self._buffer.split(b"\n")
        for raw in complete:
            self.lines.put_nowait(raw.decode(errors="replace"))

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.loop.remove_reader(self.fd)


async def run_text_console(
    settings: AgentSettings,
    *,
    stdin_fd: int | None = None,
    out: TextIO | None = None,
) -> int:
    """One call, typed. Returns the exit status."""
    out = out if out is not None else sys.stdout
    errors = sys.stderr
    loop = asyncio.get_running_loop()
    # Whatever would block the loop goes to a thread first, as `prewarm` does for a call:
    # SDK imports, the pepper file, the LLM client (its TLS context), LiveKit's end-of-turn
    # model and the imports of the first request.
    services = await asyncio.to_thread(build_services, settings)
    model, _turn_detector = await asyncio.gather(
        asyncio.to_thread(build_llm, settings),
        asyncio.to_thread(warm_up, services.otp.default_region),
    )
    await prepare_records(services, settings)
    region = services.otp.default_region
    state = CallState(services=services, session_id=f"console-{uuid.uuid4().hex[:12]}")
    session = build_session(settings, state, audio=False, model=model)
    printer = TranscriptPrinter(out, region)
    done = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, done.set)
    reader = LineReader(stdin_fd if stdin_fd is not None else sys.stdin.fileno(), loop)
    try:
        printer.write(
            f"Talking to {settings.clinic_name}'s agent ({settings.model.openai_model}). "
            "Type and press Enter; Ctrl-D ends the call."
        )
        agent = ClinicAgent(clinic_name=settings.clinic_name)
        printer.done = judged_by(agent)
        printer.show(await session.start(agent, capture_run=True))
        turns = CallTurns(session, agent, printer, errors)
        while not done.is_set() and not turns.ended:
            out.write(USER_PROMPT)
            out.flush()
            line = await _next_line(reader, done)
            if line is None:
                break
            if line.strip():
                await turns.take(line)
    finally:
        reader.close()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
        usage = report_call_usage(session, state.session_id)
        await session.aclose()
        await services.aclose()
    printer.write(
        f"\ncall ended: {usage.llm_input_tokens} LLM tokens in, {usage.llm_output_tokens} out"
        + (f" (ended by the agent: {turns.ended})" if turns.ended else "")
    )
    return 1 if turns.ended else 0


class CallTurns:
    """Runs the caller's typed turns. A service that fails is one line on `errors` naming it
    (LiveKit's retry warnings and tracebacks stay out of the way: `ServiceFailureLogs`); the
    agent's apology is shown like any reply, and the next turn retries. When the agent ends
    the call (it handed the caller to a person), `ended` says why."""

    def __init__(
        self, session: AgentSession[CallState], agent: ClinicAgent, printer: TranscriptPrinter,
        errors: TextIO,
    ) -> None:  # fmt: skip
        self.session = session
        self.agent = agent
        self.printer = printer
        self.errors = errors
        self.ended: str | None = None
        self._reported = 0

    async def take(self, line: str) -> None:
        seen = len(self.session.history.items)
        try:
            self.printer.show(await self.session.run(user_input=line))
        except APIError:
            # LiveKit handed the service's error to the run too: what the agent said
            # instead is in the history; the failure itself is reported below
            for item in self.session.history.items[seen:]:
                if item.type == "message" and item.role == "assistant" and item.text_content:
                    self.printer.write(AGENT_PROMPT + item.text_content)
        watch = self.agent.failures
        if watch is None:
            return
        await watch.settled()
        for failure in watch.failures[self._reported :]:
            self.errors.write(f"agent: {failure.line}\n")
            self.errors.flush()
        self._reported = len(watch.failures)
        if watch.handed_off:
            last = watch.last
            self.ended = last.line if last is not None else "a service failed"


async def _next_line(reader: LineReader, done: asyncio.Event) -> str | None:
    """The next typed line, or None at end of input or on Ctrl-C."""
    line_task = asyncio.ensure_future(reader.lines.get())
    stop_task = asyncio.ensure_future(done.wait())
    finished, _ = await asyncio.wait({line_task, stop_task}, return_when=asyncio.FIRST_COMPLETED)
    for task in (line_task, stop_task):
        if task not in finished:
            task.cancel()
    return line_task.result() if line_task in finished else None


def text_console(settings: AgentSettings, *, verbose: bool) -> int:
    configure_logging(settings.log_level_for("console", verbose=verbose), sys.stderr)
    return asyncio.run(run_text_console(settings))


__all__ = ["TranscriptPrinter", "mask_numbers", "run_text_console", "text_console", "tool_line"]
