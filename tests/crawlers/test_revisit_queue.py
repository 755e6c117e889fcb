"""The revisit queue's "vanished while young" decision: which dropped articles a discovery page's reading marks.

The crawl-level behaviour (feed, sitemap, list page on the mirror's changing pages) is in test_revisits.py;
here the guards, one by one: a young article only, the page still listing older ones (by its dates, or by
when we archived what it lists), nothing marked twice, and an empty or truncated page marking nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from crawlers.crawl_state import SourceRun
from crawlers.revisit import VANISH_WINDOW, RevisitQueue
from crawlers.spiders.base import listed_time
from mediamon.core.sources import Revisits, load_sources
from tests.support.paths import REPO

PAGE = "https://tass.ru/sitemap_news.xml"
T0 = datetime(2021, 11, 12, 9, 0, tzinfo=UTC)


def _queue(tmp_path: Path, *articles: tuple[str, datetime, str | None], page: str = PAGE) -> RevisitQueue:
    queue = RevisitQueue(tmp_path, Revisits())
    for url, first_seen, published in articles:
        queue.enqueue(url, url, first_seen, "0" * 64, None, None, listed_on=page, published=published)
    return queue


def _vanished(queue: RevisitQueue) -> dict[str, tuple[str | None, str | None]]:
    return {e.url: (e.vanished_from, e.vanished_via) for e in queue.entries.values() if e.vanish_pending}


def test_a_young_article_newer_than_one_still_listed_vanishes(tmp_path: Path) -> None:
    queue = _queue(tmp_path, ("a/1", T0, "2021-11-12T08:00:00Z"), ("a/2", T0, "2021-11-12T08:30:00Z"),
                   ("a/3", T0, "2021-11-12T07:00:00Z"))
    # a/2 dropped while a/1 (older) is still listed; a/3 dropped too, but it is older than all listed: pushed off
    queue.listing_read(PAGE, "sitemap", {"a/1": "2021-11-12T08:00:00Z", "a/9": "2021-11-12T09:00:00Z"},
                       T0 + timedelta(hours=1))
    assert _vanished(queue) == {"a/2": (PAGE, "sitemap")}
    assert queue.counts["vanished"] == 1
    # read again: marked once, not twice
    queue.listing_read(PAGE, "sitemap", {"a/1": "2021-11-12T08:00:00Z"}, T0 + timedelta(hours=2))
    assert queue.counts["vanished"] == 1


def test_old_articles_other_pages_and_empty_pages_mark_nothing(tmp_path: Path) -> None:
    queue = _queue(tmp_path, ("a/1", T0, "2021-11-12T08:00:00Z"), ("a/2", T0, "2021-11-12T08:30:00Z"))
    queue.enqueue("b/1", "b/1", T0, "0" * 64, None, None, listed_on="https://tass.ru/other",
                  published="2021-11-12T08:45:00Z")
    queue.listing_read(PAGE, "sitemap", {}, T0 + timedelta(hours=1))  # failed to list anything: no mass deletion
    queue.listing_read(PAGE, "sitemap", {"a/1": "2021-11-12T08:00:00Z"}, T0 + VANISH_WINDOW + timedelta(hours=1))
    assert _vanished(queue) == {}  # a/2 is past the window: leaving a page is ordinary then; b/1 is not from PAGE


def test_a_page_without_dates_is_compared_by_when_we_archived_what_it_lists(tmp_path: Path) -> None:
    later = T0 + timedelta(minutes=30)
    queue = _queue(tmp_path, ("a/1", T0, None), ("a/2", later, None), ("a/3", later, None), page="https://l/")
    queue.listing_read("https://l/", "list", {"a/1": None, "a/3": None}, T0 + timedelta(hours=1))
    assert _vanished(queue) == {"a/2": ("https://l/", "list")}
    # only articles archived in the same crawl still listed: none of them is older, nothing is marked
    (tmp_path / "same").mkdir()
    same = _queue(tmp_path / "same", ("a/1", T0, None), ("a/2", T0, None), page="https://l/")
    same.listing_read("https://l/", "list", {"a/1": None}, T0 + timedelta(hours=1))
    assert _vanished(same) == {}


def test_listed_time_orders_a_page_s_dates() -> None:
    assert listed_time({"published": "2021-11-12T09:00:00Z"}) == "2021-11-12T09:00:00Z"  # a feed's, unchanged
    assert listed_time({"published_raw": "2021-11-12T12:00:00+03:00"}) == "2021-11-12T09:00:00Z"
    assert listed_time({"published_raw": "2021-11-12"}) == "2021-11-12T00:00:00Z"
    assert listed_time({"published_raw": "12.11.2021"}) == "2021-11-12T00:00:00Z"
    assert listed_time({"published_raw": "19:51"}) is None  # a time of day alone is no date
    assert listed_time({}) is None


def test_a_page_listing_an_article_in_another_form_still_lists_it(tmp_path: Path) -> None:
    """The crawl compares canonical forms only when an article is missing as archived: a tracking parameter
    added to a link is still the same article, never a vanishing."""
    tass = next(s for s in load_sources(REPO / "config" / "sources.yaml") if s.id == "tass-ru")
    run = SourceRun(tass, tmp_path / "state", tmp_path / "archive", 10, clock=T0 + timedelta(hours=1))
    for n, published in ((1, "2021-11-12T08:00:00Z"), (2, "2021-11-12T08:30:00Z")):
        url = f"https://tass.ru/politika/{n}"
        run.revisits.enqueue(url, url, T0, "0" * 64, None, None, listed_on=PAGE, published=published)
    run.listing_read(PAGE, "sitemap", [("https://tass.ru/politika/1", "2021-11-12T08:00:00Z"),
                                       ("https://tass.ru/politika/2?utm_source=rss", "2021-11-12T08:30:00Z")])
    assert _vanished(run.revisits) == {}
    run.listing_read(PAGE, "sitemap", [("https://tass.ru/politika/1", "2021-11-12T08:00:00Z")])
    assert _vanished(run.revisits) == {"https://tass.ru/politika/2": (PAGE, "sitemap")}
