"""Small statistics the benches share: percentiles, paired ratios, the order sides run in.

Only the standard library: a bench that measures the collector's pauses or memory must not
load LiveKit or the agent just to print its figures.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from typing import TypeVar

Side = TypeVar("Side")


def percentile(values: Sequence[float], q: int) -> float:
    """The `q`th percentile (inclusive method); of one value, that value; of none, 0.0."""
    if len(values) < 2:
        return values[0] if values else 0.0
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def p50_p99(seconds: list[float]) -> str:
    """Median and 99th percentile, in milliseconds, for a bench's line."""
    if len(seconds) < 2:
        return "n/a"
    p99 = percentile(seconds, 99)
    return f"p50 {statistics.median(seconds) * 1000:7.1f} ms   p99 {p99 * 1000:7.1f} ms"


def paired_ratio(ours: Sequence[float], baseline: Sequence[float]) -> float:
    """The median of each round's ratio: a host's speed drifts over a run, and a round's two
    sides were measured next to each other."""
    return statistics.median(a / b for a, b in zip(ours, baseline, strict=True))


def round_order(sides: Sequence[Side], round_index: int) -> list[Side]:
    """The sides in the order round `round_index` runs them: each round led by the next side,
    so whoever runs after another (and pays the collector's or the disk's debt) changes."""
    lead = round_index % len(sides)
    return [*sides[lead:], *sides[:lead]]
