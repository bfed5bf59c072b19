"""Tool latency for Prometheus, labelled by tool name and how the call ended."""

from __future__ import annotations

import functools
import time
from collections.abc import Awaitable, Callable
from typing import ParamSpec, TypeVar

from livekit.agents import StopResponse, ToolError
from prometheus_client import Histogram

P = ParamSpec("P")
R = TypeVar("R")

TOOL_SECONDS = Histogram(
    "clinic_tool_seconds",
    "Time an agent tool took, by tool and result (ok, refused, stopped, error).",
    ["tool", "result"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)


def measured(tool: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
    """Time every call of an async tool method (keeps its signature for the schema)."""
    name = tool.__name__

    @functools.wraps(tool)
    async def timed(*args: P.args, **kwargs: P.kwargs) -> R:
        started = time.perf_counter()
        result = "error"
        try:
            value = await tool(*args, **kwargs)
            result = "ok"
            return value
        except ToolError:
            result = "refused"
            raise
        except StopResponse:
            result = "stopped"
            raise
        finally:
            TOOL_SECONDS.labels(tool=name, result=result).observe(time.perf_counter() - started)

    return timed
