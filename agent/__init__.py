"""The LiveKit side of the clinic phone line: the agent, its per-call state, the entrypoint.

The names below load on first use (PEP 562): `python -m agent --help`, the settings and the
start-up checks run without importing LiveKit's agent framework and the model plugins, which
take seconds on a small machine.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .clinic_agent import ClinicAgent
    from .state import CallOptions, CallState, Grant, Services

_HOMES = {
    "CallOptions": ".state",
    "CallState": ".state",
    "ClinicAgent": ".clinic_agent",
    "Grant": ".state",
    "Services": ".state",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(home, __name__), name)
    globals()[name] = value
    return value


__all__ = ["CallOptions", "CallState", "ClinicAgent", "Grant", "Services"]
