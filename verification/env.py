"""Reading settings from the environment: the one set of rules every layer uses.

A leaf module (it imports nothing of ours), so `verification`, `clinic` and `agent` can all
read their variables the same way: surrounding space ignored, an empty value means unset,
a value that is not what the variable takes is a `ConfigurationError` naming the variable.
Every variable read anywhere is listed in `.env.example`.
"""

from __future__ import annotations

from collections.abc import Mapping

_TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
_FALSE_WORDS = frozenset({"0", "false", "no", "off"})


class ConfigurationError(RuntimeError):
    """The environment asks for something unsafe or incomplete; the process must not start."""


def is_production(env: Mapping[str, str]) -> bool:
    """`APP_ENV=production`: where a default that is safe on a laptop must be refused."""
    return env.get("APP_ENV", "development").strip().lower() == "production"


def env_text(env: Mapping[str, str], name: str, default: str = "") -> str:
    """`env[name]` without surrounding space, or `default` when unset or blank."""
    return env.get(name, "").strip() or default


def env_number(
    env: Mapping[str, str], name: str, default: float, *, minimum: float | None = None
) -> float:
    """A number from `env[name]`, or `default` when unset; a clear error when it is not a
    number or is below `minimum`."""
    raw = env_text(env, name)
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigurationError(f"{name} must be a number, got {raw!r}") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise ConfigurationError(f"{name} must be a finite number, got {raw!r}")
    if minimum is not None and value < minimum:
        raise ConfigurationError(f"{name} must be at least {minimum:g}, got {raw!r}")
    return value


def env_int(env: Mapping[str, str], name: str, default: int, *, minimum: int | None = None) -> int:
    """A whole number from `env[name]` (same rules as `env_number`)."""
    value = env_number(env, name, default, minimum=minimum)
    if value != int(value):
        raise ConfigurationError(f"{name} must be a whole number, got {value!r}")
    return int(value)


def env_flag(env: Mapping[str, str], name: str, default: bool) -> bool:
    """true/false (also 1/0, yes/no, on/off) from `env[name]`, or `default` when unset."""
    raw = env_text(env, name).lower()
    if not raw:
        return default
    if raw in _TRUE_WORDS:
        return True
    if raw in _FALSE_WORDS:
        return False
    raise ConfigurationError(f"{name} must be true or false, got {raw!r}")
