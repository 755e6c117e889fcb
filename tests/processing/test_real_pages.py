"""Regression on every real saved page: title, body bounds, no furniture, the time to the minute in UTC, language.

The truths (tests/support/realpages.py) are read off the pages; the pages go through the
runner's record path with the real config, as a crawl would archive them.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from mediamon.core.archive import ManifestRecord
from processing.extract import PageContext, extract
from processing.record import RecordInput, build_document
from tests.support.realpages import FURNITURE, REAL_PAGES, RealPage, process
from tests.support.scoring import read_page


@pytest.mark.parametrize("page", REAL_PAGES, ids=lambda p: p.path.split("/")[0] + "-" + p.url.rstrip("/")[-6:])
def test_real_page(real_fixtures, sources, rules, page: RealPage):
    outcome = process(page, real_fixtures, sources, rules)
    doc = outcome.document
    assert doc is not None, outcome.detail
    lines = doc.text.split("\n")
    assert doc.title is not None and doc.title.startswith(page.title)
    assert lines[0].startswith(page.first), lines[0]
    assert lines[-1].endswith(page.last), lines[-1]
    leaked = [line for line in lines if any(f.casefold() in line.casefold() for f in FURNITURE)]
    assert not leaked
    assert doc.published_at is not None
    assert doc.published_at.replace(second=0) == page.published, doc.published_source
    assert doc.published_precision == "minute"
    assert doc.lang == page.lang


def test_kremlin_footer_is_excluded_by_the_source_selector_and_counted(real_fixtures, sources):
    page = REAL_PAGES[2]  # en.kremlin.ru, 2012
    ctx = PageContext(url=page.url, domain="en.kremlin.ru", selectors=sources["kremlin-en"].selectors.model_dump())
    extracted = extract(read_page(page.file(real_fixtures)), None, ctx, [], 40)
    assert extracted.excluded == {"exclude div.read__bottommeta": 1}
    assert "Direct link" not in extracted.text and "Publication date" not in extracted.text
    # the footer's time was read before the footer went: the printed minute, not the bare day
    assert extracted.published_at is not None and extracted.published_at.hour == 12


def test_the_feeds_wrong_offset_loses_to_the_page_and_is_counted(real_fixtures, sources, rules):
    """The real en.kremlin.ru feed writes Moscow wall-clock times with +04:00 (years after Moscow went to UTC+3)."""
    page = next(p for p in REAL_PAGES if p.url.endswith("/63770"))
    outcome = process(page, real_fixtures, sources, rules, feed={"published": "2020-07-30T15:10:00+04:00"})
    doc = outcome.document
    assert doc is not None and doc.published_at == page.published == datetime(2020, 7, 30, 12, 10, tzinfo=UTC)
    assert doc.published_source == "printed" and doc.published_precision == "minute"
    assert len(outcome.date_disagreements) == 1 and "published_feed_disagrees" in doc.tags


def test_a_feed_that_agrees_is_not_counted(real_fixtures, sources, rules):
    page = next(p for p in REAL_PAGES if p.url.endswith("/63770"))
    outcome = process(page, real_fixtures, sources, rules, feed={"published": "2020-07-30T15:10:00+03:00"})
    assert outcome.document is not None and not outcome.date_disagreements
    assert "published_feed_disagrees" not in outcome.document.tags


def test_the_real_feed_entries_carry_the_offset_the_pages_contradict(real_fixtures):
    """The premise above, on the real feed: every entry says +04:00 in 2020."""
    feed = (real_fixtures / "kremlin-en" / "president-news-feed.atom.xml").read_text(encoding="utf-8")
    assert feed.count("<published>") == 20 and feed.count("+04:00</published>") == 20


RT_2016 = """<html lang="en"><head><title>Kremlin comments on report | RT News</title></head><body>
<div class="header"><span class="date">09:00 GMT, Apr 02, 2016</span></div>
<div class="article article_article"><h1 class="article__heading">Kremlin comments on offshore report</h1>
<div class="article__date"><span class="date date_article-header">Published time: 1 Apr, 2016 15:17</span>
<span class="date date_article-header">Edited time: 1 Apr, 2016 16:40</span></div>
<div class="article__summary">The Kremlin has commented on a report about offshore companies.</div>
<div class="article__text"><p>Presidential spokesman Dmitry Peskov said the report was aimed at Russia.</p>
<p><strong>READ MORE: <a href="/news/338112-peskov-report/">Peskov calls report an attack</a></strong></p>
<p>He added that the Kremlin would study the documents once they are published in full.</p></div>
</div></body></html>"""


def test_rt_2016_template_prints_its_time_in_gmt(sources, rules):
    """No machine-readable date on RT's 2016 template: the printed "Published time" (GMT) is the minute."""
    url = "https://www.rt.com/news/338110-kremlin-offshore-report/"
    manifest = ManifestRecord(batch="b", url=url, canonical_url=url, source="rt-en", offset=0,
                              fetched_at=datetime(2026, 1, 1, tzinfo=UTC))
    outcome = build_document(RecordInput(manifest, RT_2016.encode(), "text/html"), sources, rules)
    doc = outcome.document
    assert doc is not None and doc.published_at == datetime(2016, 4, 1, 15, 17, tzinfo=UTC)
    assert doc.published_source == "printed" and doc.published_precision == "minute"
    assert doc.text.split("\n") == ["The Kremlin has commented on a report about offshore companies.",
                                    "Presidential spokesman Dmitry Peskov said the report was aimed at Russia.",
                                    "He added that the Kremlin would study the documents once they are published "
                                    "in full."]
    assert outcome.removed_lines == 1  # the READ MORE insert
