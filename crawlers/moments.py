"""Dates and times as discovery pages and web archives print them, read without a date library.

Shared by the live spiders (the order of a feed's, sitemap's or list's items:
``crawlers.spiders.base.listed_time``) and the backfill (its date window and the
archives' capture times), so it sits below both.
"""

from __future__ import annotations

import re
from datetime import date, datetime

_NUMERIC_DAY = re.compile(r"^\s*(\d{1,2})\.(\d{1,2})\.(\d{4})\b")
_COMPACT = re.compile(r"^\s*(\d{4})(\d{2})(\d{2})(?:T?(\d{2})(\d{2})(\d{2})?)?\s*$")


def parse_moment(text: str | None) -> datetime | date | None:
    """A date or time as discovery pages and archives print it: ISO 8601 / W3C (``2021-11-08``,
    ``2021-11-08T15:30:00+03:00``), ``dd.mm.yyyy`` (list pages), ``yyyymmdd[hhmm[ss]]`` (CDX
    timestamps, RIA). A time of day alone ("19:51") is no date: None."""
    if not text:
        return None
    value = text.strip()
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        return parsed if ("T" in value or " " in value) else parsed.date()
    except ValueError:
        pass
    try:
        if found := _NUMERIC_DAY.match(value):
            return date(int(found[3]), int(found[2]), int(found[1]))
        if found := _COMPACT.match(value):
            year, month, day, hour, minute, second = (int(g) if g else 0 for g in found.groups())
            if found[4] is None:
                return date(year, month, day)
            return datetime(year, month, day, hour, minute, second)
    except ValueError:  # 31.02.2021: a malformed date is no date
        return None
    return None
