"""The health verdicts (processing.reports.health), from gathered numbers: no cluster needed for the rules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from processing.reports.health import ArchivedItem, SourceActivity, account, assess_freshness

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
WINDOW = timedelta(days=14)


def activity(count: int, first_ago: timedelta, last_ago: timedelta) -> SourceActivity:
    return SourceActivity(count, NOW - first_ago, NOW - last_ago)


def verdict(seen: SourceActivity | None, **kwargs) -> object:
    rows = assess_freshness(["tass-ru"], {"tass-ru": seen} if seen else {}, NOW, WINDOW, **kwargs)
    return rows[0]


def test_a_source_silent_for_many_usual_gaps_is_stale() -> None:
    row = verdict(activity(168, WINDOW, timedelta(days=3)))  # usually every 2 h, silent for 3 days
    assert row.stale and row.usual_gap_s == 7200.0
    assert "silent for 3.0d" in row.reason and "every 2.0h" in row.reason


def test_a_source_publishing_at_its_usual_rate_is_fresh() -> None:
    row = verdict(activity(168, WINDOW, timedelta(hours=3)))
    assert not row.stale and row.reason == "fresh"


def test_the_floor_absorbs_the_crawl_schedule_of_busy_sources() -> None:
    busy = activity(20_160, WINDOW, timedelta(minutes=30))  # a new article every minute, last one 30 min ago
    assert not verdict(busy, min_silence=timedelta(hours=6)).stale
    assert verdict(busy, min_silence=timedelta(minutes=10)).stale


def test_a_new_source_is_measured_from_its_first_document_not_the_window() -> None:
    row = verdict(activity(12, timedelta(days=1), timedelta(hours=1)))
    assert row.usual_gap_s == 7200.0 and not row.stale


def test_a_source_with_nothing_in_the_window_is_stale_even_with_old_documents() -> None:
    row = verdict(SourceActivity(0, None, NOW - timedelta(days=40)))
    assert row.stale and row.reason == "no new document in the last 14.0d"
    assert row.last_new == (NOW - timedelta(days=40)).isoformat()
    assert verdict(None).stale  # never seen at all


def test_the_stale_factor_sets_the_tolerance() -> None:
    seen = activity(168, WINDOW, timedelta(hours=7))  # 3.5 usual gaps
    assert verdict(seen, stale_factor=3.0, min_silence=timedelta(0)).stale
    assert not verdict(seen, stale_factor=4.0, min_silence=timedelta(0)).stale


def test_archive_accounting_adds_up_and_names_examples() -> None:
    items = [ArchivedItem("tass-ru", f"id{i}", f"sha{i}", f"https://tass.ru/{i}") for i in range(6)]
    indexed = set(items[:3])
    rows = account(items, indexed, quarantined={"https://tass.ru/3"})
    assert len(rows) == 1
    row = rows[0]
    assert (row.archived, row.indexed, row.quarantined, row.missing) == (6, 3, 1, 2)
    assert row.archived == row.indexed + row.quarantined + row.missing
    assert row.examples == ["https://tass.ru/4", "https://tass.ru/5"]
