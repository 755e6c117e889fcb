"""Durations and points in time as operators write them: ``90s``, ``30m``, ``6h``, ``7d``, ``2w``, ISO dates.

Why one module: sources.yaml schedules, alert rule windows, `--since`/`--until`
options and task policies all take durations; one parser means one set of units
(s, m, h, d, w) and one error message everywhere.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
_DURATION = re.compile(r"\s*(\d+)\s*([smhdw])\s*")


def is_duration(value: str) -> bool:
    """Whether ``value`` is written as a duration (``15m``, ``1h``, ...)."""
    return _DURATION.fullmatch(value) is not None


def parse_duration(value: object) -> timedelta:
    """``6h`` -> 6 hours; a timedelta passes through, a number is seconds."""
    if isinstance(value, timedelta):
        return value
    try:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return timedelta(seconds=value)
        match = _DURATION.fullmatch(str(value))
        if match:
            return timedelta(**{UNITS[match.group(2)]: int(match.group(1))})
    except OverflowError:  # "99999999999d" must be a clear error, not a crash
        raise ValueError(f"duration {value!r} is too large") from None
    raise ValueError(f"expected a duration such as 90s, 30m, 6h, 7d or 2w, got {value!r}")


def parse_when(value: str, now: datetime | None = None) -> datetime:
    """An ISO date/time (UTC when it has no offset) or an age such as ``7d`` / ``12h`` before ``now``."""
    if is_duration(value):
        return (now or datetime.now(UTC)) - parse_duration(value)
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise ValueError(f"expected an ISO date/time or an age such as 7d, 12h, got {value!r}") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
