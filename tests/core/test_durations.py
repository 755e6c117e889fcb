"""One duration syntax for schedules, alert windows, --since/--until and task policies."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from mediamon.core.durations import is_duration, parse_duration, parse_when


def test_parse_when_accepts_ages_and_iso_dates():
    now = datetime(2021, 11, 10, tzinfo=UTC)
    assert parse_when("7d", now) == datetime(2021, 11, 3, tzinfo=UTC)
    assert parse_when("90s", now) == now - timedelta(seconds=90)
    assert parse_when("2021-11-08", now) == datetime(2021, 11, 8, tzinfo=UTC)
    assert parse_when("2021-11-08T12:00:00+03:00", now) == datetime(2021, 11, 8, 9, tzinfo=UTC)
    with pytest.raises(ValueError, match="ISO date"):
        parse_when("last tuesday", now)


@pytest.mark.parametrize(("text", "expected"), [("90s", timedelta(seconds=90)), ("30m", timedelta(minutes=30)),
                                                ("6h", timedelta(hours=6)), ("7d", timedelta(days=7)),
                                                ("2w", timedelta(weeks=2)), (45, timedelta(seconds=45))])
def test_every_unit_means_the_same_everywhere(text, expected):
    assert parse_duration(text) == expected


def test_bad_and_huge_durations_are_clear_errors():
    assert not is_duration("*/15 * * * *")
    with pytest.raises(ValueError, match="expected a duration"):
        parse_duration("6 hours")
    with pytest.raises(ValueError, match="too large"):
        parse_duration("99999999999d")
