"""Each source's domains and article patterns against real URLs of that source, old forms included (issue 12).

The URLs are real: the saved pages' own, and links published in public repositories
(archive lists, scrapers' test data) for the forms the saved pages do not show.
"""

from __future__ import annotations

import pytest
from parsel import Selector

from mediamon.core.sources import load_sources, source_for_url, sources_by_id
from tests.support.paths import CONFIG

SOURCES = sources_by_id(load_sources(CONFIG / "sources.yaml"))

REAL_ARTICLES = [
    ("kremlin-ru", "http://kremlin.ru/events/president/news/77428"),
    ("kremlin-ru", "http://www.kremlin.ru/events/president/news/75918"),
    ("kremlin-ru", "http://www.kremlin.ru/events/president/news/42294"),
    ("kremlin-ru", "http://kremlin.ru/events/president/transcripts/24187"),
    ("kremlin-en", "http://en.kremlin.ru/events/president/news/17119"),
    ("kremlin-en", "http://en.kremlin.ru/events/president/news/63770"),
    ("mid-ru", "https://mid.ru/ru/foreign_policy/news/2002637"),
    ("mid-ru", "https://mid.ru/ru/foreign_policy/news/2050001/"),
    ("mid-en", "http://www.mid.ru/en/foreign_policy/news/-/asset_publisher/cKNonkJE02Bw/content/id/2581641"),
    ("mid-en", "https://archive.mid.ru/en/foreign_policy/news/-/asset_publisher/cKNonkJE02Bw/content/id/2717182"),
    ("ria-ru", "https://ria.ru/20210409/filipp-1727580052.html"),
    ("sputnik-en", "https://sputniknews.com/columnists/201911181077343476-royal-self-indicting-arrogance/"),
    ("sputnik-en", "https://sputniknews.com/business/201906241076031589-feds-deutsche-bank-plans-us/"),
    ("sputnik-en", "https://sputniknews.com/world/202003191078619990-live-updates-nations-remain-on-lockdown-as-"
                   "coronavirus-spreads/"),
    ("rt-en", "https://www.rt.com/news/473849-3-morales-supporters-killed-bolivia/"),
    ("rt-ru", "https://russian.rt.com/world/news/851137-suprug-elizavety-ii-filipp"),
    ("rt-ru", "https://russian.rt.com/world/news/389212-britanec-ostanovil-sluchaino-virus"),
]

NOT_ARTICLES = [
    "http://kremlin.ru/events/president/news",
    "http://www.kremlin.ru/events/president/news/feed",
    "http://en.kremlin.ru/events/president/news/page/10",
    "https://mid.ru/ru/foreign_policy/news/?PAGEN_1=2",
    "https://sputniknews.com/export/rss2/archive/index.xml",
    "https://www.rt.com/rss/",
    "https://russian.rt.com/rss",
]


@pytest.mark.parametrize(("source_id", "url"), REAL_ARTICLES)
def test_real_article_urls_belong_to_their_source(source_id, url):
    source = source_for_url(url, SOURCES)
    assert source is not None and source.id == source_id
    assert source.is_article(url)


@pytest.mark.parametrize("url", NOT_ARTICLES)
def test_lists_and_feeds_are_not_articles(url):
    source = source_for_url(url, SOURCES)
    assert source is not None and not source.is_article(url)


def test_an_archived_http_spelling_of_an_https_article_is_that_article():
    mid, article = SOURCES["mid-ru"], "mid.ru/ru/foreign_policy/news/2002637"
    assert not mid.is_article(f"http://{article}")  # the live site's patterns name https
    assert mid.article_url(f"http://{article}") == mid.article_url(f"https://{article}") == f"https://{article}"
    assert SOURCES["kremlin-ru"].article_url("http://kremlin.ru/events/president/news/77428").startswith("http://")
    assert mid.article_url("http://mid.ru/ru/foreign_policy/news/?PAGEN_1=2") is None  # not an article either way
    assert mid.article_url(f"ftp://{article}") is None


def test_www_variants_and_old_domains_are_the_same_source():
    assert SOURCES["rt-en"].allows("https://rt.com/news/1-x/") and SOURCES["rt-en"].allows("https://www.rt.com/")
    assert not SOURCES["rt-en"].allows("https://russian.rt.com/world/news/1-x")
    assert SOURCES["sputnik-en"].allows("https://www.sputniknews.com/")
    # the most specific domain decides for pages that are not articles
    assert source_for_url("http://en.kremlin.ru/events/president/news", SOURCES).id == "kremlin-en"


def test_kremlin_list_selectors_read_the_real_list_page(real_fixtures):
    listing = SOURCES["kremlin-ru"].discovery.lists[0]
    page = Selector(text=(real_fixtures / "kremlin-en" / "president-news-page-10.html").read_text(encoding="utf-8"))
    items = page.css(listing.item_selector)
    assert len(items) == 20
    # as the listing spider reads them: every text node of the title selector, joined
    titles = [" ".join(" ".join(i.css(listing.title_selector).getall()).split()) for i in items]
    assert titles[0] == "Winners of 2019 Russian Federation National Awards announced"
    assert all(titles) and all(i.css(listing.link_selector).get() for i in items)
