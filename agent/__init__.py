"""The LiveKit side of the clinic phone line: the agent, its per-call state, the entrypoint."""

from .clinic_agent import ClinicAgent
from .state import CallOptions, CallState, Grant, Services

__all__ = ["CallOptions", "CallState", "ClinicAgent", "Grant", "Services"]
