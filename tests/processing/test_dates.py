"""Publication times: historical offsets of the sources' zones, printed forms, and which candidate wins."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from processing.dates import MINSK, MOSCOW, choose_date, find_labelled_date, parse_date
from processing.extract import PageContext, extract

LABELS = ["Publication date", "Published time", "Published", "Дата публикации", "Дата публікацыі"]


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


@pytest.mark.parametrize(("printed", "zone", "expected"), [
    # Moscow before 2011: UTC+3 in winter, UTC+4 with daylight saving in summer
    ("15 января 2010 года, 12:00", MOSCOW, utc(2010, 1, 15, 9, 0)),
    ("15 июля 2010 года, 12:00", MOSCOW, utc(2010, 7, 15, 8, 0)),
    # March 2011 - October 2014: UTC+4 all year
    ("December 12, 2012, 16:30", MOSCOW, utc(2012, 12, 12, 12, 30)),
    ("15 июля 2013, 12:00", MOSCOW, utc(2013, 7, 15, 8, 0)),
    # from 26 October 2014: UTC+3
    ("25 октября 2014, 12:00", MOSCOW, utc(2014, 10, 25, 8, 0)),
    ("27 октября 2014, 12:00", MOSCOW, utc(2014, 10, 27, 9, 0)),
    ("12 ноября 2021 года, 16:30", MOSCOW, utc(2021, 11, 12, 13, 30)),
    # Minsk: UTC+2/+3 with daylight saving until 2011, UTC+3 since
    ("15 студзеня 2010, 12:00", MINSK, utc(2010, 1, 15, 10, 0)),
    ("15 ліпеня 2010, 12:00", MINSK, utc(2010, 7, 15, 9, 0)),
    ("12 лістапада 2021, 16:30", MINSK, utc(2021, 11, 12, 13, 30)),
    # RT and Sputnik print GMT
    ("1 Apr, 2016 15:17", ZoneInfo("UTC"), utc(2016, 4, 1, 15, 17)),
])
def test_printed_local_times_resolve_with_the_zone_of_that_day(printed, zone, expected):
    found = parse_date(printed, zone)
    assert found is not None and found.has_time and found.value.astimezone(UTC) == expected


def test_a_belarusian_day_without_a_time_is_a_day():
    found = parse_date("12 лістапада 2021", MINSK)
    assert found is not None and not found.has_time and found.value.astimezone(UTC) == utc(2021, 11, 11, 21, 0)


@pytest.mark.parametrize(("text", "expected"), [
    ("Published in sections: News, Transcripts Publication date: December 12, 2012, 16:30 Direct link",
     "December 12, 2012, 16:30"),
    ("Опубликован в разделах: Новости Дата публикации: 30 июня 2025 года, 17:25 Ссылка на материал",
     "30 июня 2025 года, 17:25"),
    ("Published time: 1 Apr, 2016 15:17 Edited time: 1 Apr, 2016 16:40", "1 Apr, 2016 15:17"),
    ("Дата публікацыі: 12 лістапада 2021", "12 лістапада 2021"),
    ("Published in sections: News", None),
])
def test_a_time_printed_after_a_publication_label(text, expected):
    assert find_labelled_date(text, LABELS, MOSCOW) == expected


def test_a_date_only_value_never_overrides_a_date_time():
    chosen = choose_date([("jsonld", "2021-11-12"), ("meta", "2021-11-12"),
                          ("printed", "12 ноября 2021 года, 16:30")], MOSCOW)
    assert (chosen.value, chosen.origin, chosen.precision) == (utc(2021, 11, 12, 13, 30), "printed", "minute")


def test_structured_time_beats_printed_time():
    chosen = choose_date([("jsonld", "2021-11-12T16:31:00+03:00"), ("printed", "12 ноября 2021 года, 16:30")],
                         MOSCOW)
    assert chosen.origin == "jsonld" and chosen.value == utc(2021, 11, 12, 13, 31)


def test_the_feed_offset_is_used_only_when_the_page_has_no_time():
    feed = ("feed", "2020-08-27T15:20:00+04:00")
    alone = choose_date([feed], MOSCOW)
    assert (alone.value, alone.origin, alone.precision) == (utc(2020, 8, 27, 11, 20), "feed", "minute")
    day_only = choose_date([("selector", "2020-08-27"), feed], MOSCOW)
    assert day_only.origin == "feed" and day_only.precision == "minute"
    printed = choose_date([("selector", "2020-08-27"), ("printed", "August 27, 2020, 15:20"), feed], MOSCOW)
    assert printed.value == utc(2020, 8, 27, 12, 20) and printed.origin == "printed"
    assert len(printed.disagreements) == 1 and not alone.disagreements


def test_a_date_at_the_edge_of_the_calendar_is_rejected_not_raised():
    chosen = choose_date([("printed", "1 января 0001"), ("feed", "2021-11-12T10:00:00Z")], MOSCOW)
    assert chosen.origin == "feed" and len(chosen.rejected) == 1


def test_a_day_is_a_day_precision():
    chosen = choose_date([("selector", "2020-08-27")], MOSCOW)
    assert chosen.precision == "day" and chosen.value == utc(2020, 8, 26, 21, 0)


def test_the_source_zone_decides_over_the_domain_guess():
    html = ("<html><body><div class='date_full'>12 лістапада 2010, 16:30</div><div itemprop='articleBody'><p>"
            + "Тэкст навіны пра сустрэчу. " * 10 + "</p></div></body></html>")
    ctx = PageContext(url="https://blr.belta.by/x", domain="blr.belta.by", selectors={"date": ".date_full"},
                      zone="Europe/Minsk", fetched_at=utc(2026, 1, 1))
    page = extract(html.encode(), "text/html; charset=utf-8", ctx, [], 40)
    assert page.published_at == utc(2010, 11, 12, 14, 30)  # Minsk winter 2010: UTC+2
