"""The date range of a backfill, and the dates discovery pages and archives give for an article.

A date found before fetching is either the publication date itself (a Google
News ``publication_date``, a sitemap ``lastmod`` standing in for it, a list page's
date, a date in the URL such as RIA's ``/20211108/``) or only an upper bound on it
(a capture time: an archive captures a page after it is published). A bound before
the range rules the article out; otherwise the fetched page's own date decides
(``htmldate``, which reads the metadata and markup news sites use). Days are
counted in the source's time zone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from htmldate import find_date

from crawlers.moments import parse_moment
from mediamon.core.errors import ConfigError

_URL_DAY = re.compile(r"/((?:19|20)\d{2})-?(\d{2})-?(\d{2})/")


class BackfillRangeError(ConfigError):
    """``since`` after ``until``, or an unknown discovery path."""


def check_request(since: date, until: date, paths: list[str] | None, known: tuple[str, ...]) -> None:
    """Refuse a range that ends before it starts, or paths that do not exist, before anything starts."""
    if since > until:
        raise BackfillRangeError(f"--since {since} is after --until {until}")
    unknown = sorted(set(paths or ()) - set(known))
    if unknown:
        raise BackfillRangeError(f"unknown backfill path(s) {', '.join(unknown)}; known: {', '.join(known)}")


@dataclass(frozen=True)
class DateWindow:
    """``since`` to ``until``, both days included, in the source's zone."""

    since: date
    until: date
    zone: ZoneInfo

    def contains(self, day: date) -> bool:
        return self.since <= day <= self.until

    def day_of(self, moment: datetime) -> date:
        """The day ``moment`` falls on in the source's zone (a naive time is the source's own)."""
        return (moment if moment.tzinfo is None else moment.astimezone(self.zone)).date()

    def overlaps(self, first: date, last: date) -> bool:
        return first <= self.until and last >= self.since


def day_of(window: DateWindow, text: str | None) -> date | None:
    """The day ``text`` names, in the source's zone; None when it names none."""
    moment = parse_moment(text)
    if isinstance(moment, datetime):
        return window.day_of(moment)
    return moment


def capture_day(timestamp: str) -> date:
    """The UTC day of a CDX timestamp (``20211108153000``): archives record captures in UTC."""
    moment = parse_moment(timestamp)
    if isinstance(moment, datetime):
        return moment.replace(tzinfo=UTC).date()
    if isinstance(moment, date):
        return moment
    raise ValueError(f"not a CDX timestamp: {timestamp!r}")


def url_day(url: str) -> date | None:
    """The publication day some sites put in their article URLs (``ria.ru/20211108/slug-123.html``)."""
    found = _URL_DAY.search(url)
    if not found:
        return None
    try:
        return date(int(found[1]), int(found[2]), int(found[3]))
    except ValueError:
        return None


def page_day(body: bytes, encoding: str | None) -> date | None:
    """The publication day a fetched page states (structured metadata first), or None."""
    text = body.decode(encoding or "utf-8", errors="replace")
    # Structured metadata first; then dates printed in the text ("08 ноября 2021, 19:51", "11.11.2021 12:00")
    found = (find_date(text, original_date=True, extensive_search=False, outputformat="%Y-%m-%d")
             or find_date(text, original_date=True, extensive_search=True, outputformat="%Y-%m-%d"))
    return date.fromisoformat(found) if found else None


def capture_window(window: DateWindow, lag_days: int) -> tuple[date, date]:
    """Capture days that can hold an article of the range: from its first day to ``lag_days`` after its last."""
    return window.since, window.until + timedelta(days=lag_days)
