"""Publication dates: parse what pages and feeds say, make it timezone-aware, reject the absurd.

Why here and not in trafilatura: the sources print dates as "8 ноября 2021, 19:51"
(Russian/Belarusian month names, local time without an offset), and a naive
time on a Moscow or Minsk page means UTC+3, not UTC. A date in the future or
before 1990 is a parsing accident, never a publication date: it is rejected and
the caller counts it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from dateutil import parser as dateutil_parser

from mediamon.core.errors import MediamonError

MOSCOW = ZoneInfo("Europe/Moscow")
MINSK = ZoneInfo("Europe/Minsk")
EARLIEST = datetime(1990, 1, 1, tzinfo=UTC)
# A page's clock may run a little ahead of ours; more than this is an error, not skew.
FUTURE_TOLERANCE = timedelta(days=1)

MONTHS = {
    # Russian (genitive and nominative stems), Belarusian, English
    "январ": 1, "феврал": 2, "март": 3, "апрел": 4, "ма": 5, "июн": 6, "июл": 7, "август": 8,
    "сентябр": 9, "октябр": 10, "ноябр": 11, "декабр": 12,
    "студзен": 1, "лют": 2, "сакавік": 3, "красавік": 4, "травен": 5, "травн": 5, "чэрвен": 6,
    "ліпен": 7, "ліпн": 7, "жнів": 8, "верас": 9, "кастрычнік": 10, "лістапад": 11,
    "снеж": 12,
}
_MONTH_WORD = r"[а-яёіў]+"
LOCAL_DATE_RE = re.compile(
    rf"(?P<day>\d{{1,2}})\s+(?P<month>{_MONTH_WORD})\.?\s+(?P<year>\d{{4}})(?:\s*(?:г\.|года|г)\b)?"
    r"(?:[\s,|в-]*(?P<hour>\d{1,2}):(?P<minute>\d{2})(?!\d))?",
    re.IGNORECASE)


NUMERIC_DATE_RE = re.compile(
    r"(?<!\d)(?P<day>\d{1,2})\.(?P<month>\d{1,2})\.(?P<year>\d{4})(?:[\s,|в-]*(?P<hour>\d{1,2}):(?P<minute>\d{2}))?")


@dataclass(frozen=True)
class ParsedDate:
    value: datetime  # always aware
    has_time: bool
    explicit_zone: bool  # the text carried an offset; otherwise the site's zone was assumed


# Longer than any date dateutil could read without fuzzy matching (RFC 2822 and ISO 8601 are ~30 characters).
MAX_FREEFORM_CHARS = 120


class DateRejected(MediamonError, ValueError):
    """A date was found but is impossible for a publication (future, before 1990)."""


def local_zone(domain: str) -> ZoneInfo:
    """The wall clock the site prints: Minsk for .by sites, Moscow for the others we watch."""
    return MINSK if domain.endswith(".by") else MOSCOW


def _month(word: str) -> int | None:
    word = word.lower()
    # longest stem first so "март" is not taken for "ма(й)"
    for stem in sorted(MONTHS, key=len, reverse=True):
        if word.startswith(stem):
            return MONTHS[stem]
    return None


def parse_date(text: str, zone: ZoneInfo) -> ParsedDate | None:
    """A date string -> ParsedDate, or None when there is none.

    Handles ISO 8601, RFC 2822 (feeds), "DD.MM.YYYY HH:MM", and Russian/Belarusian
    month names with an optional time. Naive values are read in ``zone``.
    """
    text = " ".join(text.split())
    if not text:
        return None
    match = LOCAL_DATE_RE.search(text)
    month = _month(match["month"]) if match else None
    numeric = NUMERIC_DATE_RE.fullmatch(text.strip()) or (None if match else NUMERIC_DATE_RE.search(text))
    if numeric and not month:
        match, month = numeric, int(numeric["month"])
    if match and month:
        try:
            value = datetime(int(match["year"]), month, int(match["day"]),
                             int(match["hour"] or 0), int(match["minute"] or 0))
        except ValueError:
            return None
        return ParsedDate(value.replace(tzinfo=zone), match["hour"] is not None, False)
    if len(text) > MAX_FREEFORM_CHARS:  # dateutil is quadratic: a 1 MB "date" from a hostile page takes minutes
        return None
    try:
        value = dateutil_parser.parse(text, fuzzy=False)
        value.utcoffset()  # an offset beyond ±24h ("+9999") parses, then fails on first use
    except (ValueError, OverflowError):
        return None
    has_time = bool(re.search(r"\d:\d{2}|T\d{2}", text))
    if value.tzinfo is None:
        return ParsedDate(value.replace(tzinfo=zone), has_time, False)
    return ParsedDate(value, has_time, True)


def find_date_in_text(text: str, zone: ZoneInfo) -> str | None:
    """The first date *with a time of day* printed in a stretch of page text (a dateline), as printed."""
    for regex in (LOCAL_DATE_RE, NUMERIC_DATE_RE):
        for match in regex.finditer(text):
            if match["hour"] is not None and parse_date(match.group(0), zone):
                return match.group(0)
    return None


def check_plausible(value: datetime, now: datetime | None = None) -> datetime:
    """Return ``value`` in UTC, or raise DateRejected when it cannot be a publication date."""
    now = now or datetime.now(UTC)
    value = value.astimezone(UTC)
    if value > now + FUTURE_TOLERANCE:
        raise DateRejected(f"date {value.isoformat()} is in the future")
    if value < EARLIEST:
        raise DateRejected(f"date {value.isoformat()} is before 1990")
    return value


def from_day(day: date, zone: ZoneInfo) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=zone)
