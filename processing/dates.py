"""Publication dates: parse what pages and feeds say, make it timezone-aware, reject the absurd.

Why here and not in trafilatura: the sources print dates as "8 ноября 2021, 19:51"
or "Publication date: December 12, 2012, 16:30" (month names, local time without
an offset). A naive time is read in the source's IANA zone, so history is right:
Moscow was UTC+3/+4 with daylight saving until 2011, UTC+4 in 2011-2014 and UTC+3
since. A date in the future or before 1990 is a parsing accident, never a
publication date: it is rejected and the caller counts it.

Which candidate wins (``choose_date``): the page's own times before a feed's (the
real en.kremlin.ru feed labels Moscow times +04:00 years after 2014), a time of day
before a bare day, structured metadata before printed text; a feed time that
disagrees with the page's is reported.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
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


_EN_MONTH = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?"
# finds "December 12, 2012, 16:30" (kremlin.ru), "1 Apr, 2016 15:17" (RT) in page text; dateutil reads them
ENGLISH_DATE_RE = re.compile(
    rf"\b(?:(?P<month>{_EN_MONTH})\s+(?P<day>\d{{1,2}})|(?P<day2>\d{{1,2}})\s+(?P<month2>{_EN_MONTH}))\b,?\s+"
    r"(?P<year>\d{4})(?:\s*,?\s*(?:at\s+)?(?P<hour>\d{1,2}):(?P<minute>\d{2})(?!\d))?",
    re.IGNORECASE)
NUMERIC_DATE_RE = re.compile(
    r"(?<!\d)(?P<day>\d{1,2})\.(?P<month>\d{1,2})\.(?P<year>\d{4})(?:[\s,|в-]*(?P<hour>\d{1,2}):(?P<minute>\d{2}))?")


@dataclass(frozen=True)
class ParsedDate:
    value: datetime  # always aware
    has_time: bool
    explicit_zone: bool  # the text carried an offset; otherwise the site's zone was assumed


@dataclass
class ChosenDate:
    """The publication time chosen among a page's candidates, and what the choice set aside."""

    value: datetime | None = None  # UTC
    origin: str | None = None  # which candidate: selector, jsonld, meta, time, printed, dateline, feed, ...
    precision: str | None = None  # "minute" or "day"
    rejected: list[str] = field(default_factory=list)  # implausible candidates
    disagreements: list[str] = field(default_factory=list)  # feed times the page contradicts


FEED_ORIGIN = "feed"


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
    for regex in (LOCAL_DATE_RE, ENGLISH_DATE_RE, NUMERIC_DATE_RE):
        for match in regex.finditer(text):
            if match["hour"] is not None and parse_date(match.group(0), zone):
                return match.group(0)
    return None


def find_labelled_date(text: str, labels: Iterable[str], zone: ZoneInfo) -> str | None:
    """The most precise date printed after a publication label ("Publication date: December 12, 2012, 16:30",
    "Дата публикации: 30 июня 2025 года, 17:25"): a date with a time before a bare day.

    Plain substring search (a regex alternation over a whole transcript costs milliseconds per page).
    """
    lowered = text.lower()
    found: list[str] = []
    for label in (label.lower() for label in labels):
        at = lowered.find(label)
        while at >= 0:
            window = text[at + len(label):at + len(label) + 70].lstrip(" :")
            for regex in (LOCAL_DATE_RE, ENGLISH_DATE_RE, NUMERIC_DATE_RE):
                date = regex.match(window)
                if date and parse_date(date.group(0), zone):
                    found.append(date.group(0))
                    break
            at = lowered.find(label, at + 1)
    return next((d for d in found if (p := parse_date(d, zone)) and p.has_time), found[0] if found else None)


def choose_date(candidates: list[tuple[str, str]], zone: ZoneInfo, now: datetime | None = None) -> ChosenDate:
    """The most precise plausible candidate; the page's own before the feed's (see the module docstring).

    ``candidates`` are (origin, raw text) in order of trust among the page's sources; origin
    ``feed`` marks the feed's. A time from another calendar day than the page's own first-named
    day is not used; a date-only value never replaces a time of day.
    """
    chosen = ChosenDate()
    parsed: list[tuple[str, ParsedDate]] = []
    for origin, raw in candidates:
        found = parse_date(raw, zone)
        if found is None:
            continue
        try:
            check_plausible(found.value, now)
        except DateRejected as exc:
            chosen.rejected.append(f"{origin}: {exc}")
            continue
        parsed.append((origin, found))
    if not parsed:
        return chosen
    page = [(o, p) for o, p in parsed if o != FEED_ORIGIN]
    feed = [(o, p) for o, p in parsed if o == FEED_ORIGIN]
    page_timed, feed_timed = ([(o, p) for o, p in group if p.has_time] for group in (page, feed))
    if page and not page[0][1].has_time:  # the page names a day: a time is only taken from that day
        day = page[0][1].value.astimezone(zone).date()
        page_timed, feed_timed = ([(o, p) for o, p in group if p.value.astimezone(zone).date() == day]
                                  for group in (page_timed, feed_timed))
    page_explicit = [(o, p) for o, p in page_timed if p.explicit_zone]
    feed_explicit = [(o, p) for o, p in feed_timed if p.explicit_zone]
    origin, best = (page_explicit or page_timed or feed_explicit or feed_timed or page or feed)[0]
    chosen.value, chosen.origin = best.value.astimezone(UTC), origin
    chosen.precision = "minute" if best.has_time else "day"
    if origin != FEED_ORIGIN and best.has_time:
        chosen.disagreements = [f"feed {p.value.astimezone(UTC).isoformat()} vs page ({origin}) "
                                f"{chosen.value.isoformat()}" for _o, p in feed_timed
                                if abs(p.value - best.value) >= timedelta(minutes=1)]
    return chosen


def check_plausible(value: datetime, now: datetime | None = None) -> datetime:
    """Return ``value`` in UTC, or raise DateRejected when it cannot be a publication date."""
    now = now or datetime.now(UTC)
    try:
        value = value.astimezone(UTC)
    except OverflowError as exc:  # "1 января 0001" in Moscow time is before the first representable instant
        raise DateRejected(f"date {value.date().isoformat()} is out of range") from exc
    if value > now + FUTURE_TOLERANCE:
        raise DateRejected(f"date {value.isoformat()} is in the future")
    if value < EARLIEST:
        raise DateRejected(f"date {value.isoformat()} is before 1990")
    return value


def from_day(day: date, zone: ZoneInfo) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=zone)
