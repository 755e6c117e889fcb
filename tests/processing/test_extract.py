"""Extraction against real saved pages, encodings, dates and the pages that must be quarantined."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from mediamon.core.archive import ManifestRecord
from processing.extract import ExtractionFailed, PageContext, extract
from processing.record import RecordInput, build_document
from tests.support.scoring import ground_truth, read_page, shingle_f1

MARKERS = ["cf-browser-verification", "DDoS-Guard"]
FETCHED = datetime(2025, 8, 1, tzinfo=UTC)


def ctx(sources, source_id: str, url: str, **kw) -> PageContext:
    s = sources[source_id]
    return PageContext(url=url, domain=s.domains[0], selectors=s.selectors.model_dump(),
                       fetched_at=kw.pop("fetched_at", FETCHED), **kw)


def test_kremlin_title_date_and_body_paragraphs(real_fixtures, sources, rules):
    body = read_page(real_fixtures / "kremlin" / "news-77428.html")
    url = "http://kremlin.ru/events/president/news/77428"
    page = extract(body, "text/html; charset=utf-8", ctx(sources, "kremlin-ru", url), MARKERS, 40)
    assert page.title == "Встреча с губернатором Белгородской области Вячеславом Гладковым"
    # metadata names only the day (datetime="2025-07-11"); the dateline under the title adds "13:40" Moscow
    assert page.published_at is not None
    assert page.published_at.isoformat() == "2025-07-11T10:40:00+00:00"
    paragraphs = page.text.split("\n")
    # the lead shown above the article is its first paragraph, then the transcript
    assert paragraphs[0] == page.lead == ("Владимир Путин провёл рабочую встречу с губернатором Белгородской "
                                          "области Вячеславом Гладковым.")
    assert paragraphs[1] == "В.Путин: Как дела, Вячеслав Владимирович?"
    # the hidden person tooltip inside the speaker's name is not article text
    assert paragraphs[2].startswith("В.Гладков: Спасибо большое")
    assert len(paragraphs) > 20


def test_kremlin_time_comes_from_the_feed_when_the_page_only_names_the_day(real_fixtures, sources):
    body = read_page(real_fixtures / "kremlin" / "news-77428.html")
    feed = {"published": "2025-07-11T10:40:00Z"}
    page = extract(body, None, ctx(sources, "kremlin-ru", "http://kremlin.ru/events/president/news/77428",
                                   feed=feed), MARKERS, 40)
    assert page.published_at == datetime(2025, 7, 11, 10, 40, tzinfo=UTC)


@pytest.mark.parametrize(("site", "source_id"), [("rt", "rt-en"), ("sputnik", "sputnik-en")])
def test_body_matches_ground_truth(real_fixtures, sources, rules, site, source_id):
    """Shingle F1 >= 0.9 against the benchmark's ground truth, through the runner's full record path."""
    body, url, truth = ground_truth(real_fixtures, site)
    manifest = ManifestRecord(batch="b", url=url, canonical_url=url, source=source_id, offset=0,
                              fetched_at=datetime(2025, 1, 1, tzinfo=UTC))
    record = RecordInput(manifest, body, "text/html")
    outcome = build_document(record, sources, rules)
    assert outcome.document is not None, outcome.detail
    score = shingle_f1(outcome.document.text, truth)
    assert score >= 0.9, f"{site}: F1 {score:.3f}"
    assert outcome.document.lang == "en"


def test_rt_page_metadata(real_fixtures, sources):
    body, url, _truth = ground_truth(real_fixtures, "rt")
    page = extract(body, None, ctx(sources, "rt-en", url), MARKERS, 40)
    assert page.title.startswith("‘He died in my hands’")
    assert page.published_at is not None and page.published_at.date().isoformat() == "2019-11-20"
    assert page.declared_lang == "en"


RUSSIAN_PAGE = ("<html><head>{meta}<title>Заголовок</title></head><body><article><h1>Заголовок статьи</h1>"
                "<p>Министр иностранных дел Сергей Лавров заявил, что Минск не нарушает международных обязательств."
                "</p><p>Давление на Белоруссию безосновательно, подчеркнул министр в понедельник.</p>"
                "</article></body></html>")


@pytest.mark.parametrize(("encoding", "content_type", "meta"), [
    ("windows-1251", "text/html; charset=windows-1251", ""),
    ("koi8-r", "text/html; charset=koi8-r", ""),
    ("windows-1251", "text/html", '<meta charset="windows-1251">'),
    ("koi8-r", None, '<meta http-equiv="Content-Type" content="text/html; charset=koi8-r">'),
    ("windows-1251", None, ""),  # undeclared: detected
])
def test_cyrillic_encodings_are_decoded(sources, encoding, content_type, meta):
    body = RUSSIAN_PAGE.format(meta=meta).encode(encoding)
    page = extract(body, content_type, PageContext(url="https://tass.ru/politika/1", domain="tass.ru"), MARKERS, 40)
    assert "Минск не нарушает международных обязательств" in page.text


def test_russian_dateline_in_moscow_time():
    html = ("<html><body><div class='date'>8 ноября 2021, 19:51</div><article><p>" + "Текст новости. " * 20
            + "</p></article></body></html>")
    page = extract(html.encode(), "text/html; charset=utf-8",
                   PageContext(url="https://ria.ru/x", domain="ria.ru", selectors={"date": "div.date"},
                               fetched_at=datetime(2021, 11, 9, tzinfo=UTC)), MARKERS, 40)
    assert page.published_at == datetime(2021, 11, 8, 16, 51, tzinfo=UTC)
    assert page.date_origin == "selector"


@pytest.mark.parametrize("bad", ["2031-01-01T10:00:00+03:00", "1970-01-01T00:00:00Z"])
def test_implausible_dates_are_rejected_and_reported(bad):
    html = (f"<html><head><meta property='article:published_time' content='{bad}'></head><body><article><p>"
            + "Текст новости о ситуации на границе. " * 10 + "</p></article></body></html>")
    feed = {"published": "2021-11-08T10:00:00Z"}
    page = extract(html.encode(), None, PageContext(url="https://tass.ru/x", domain="tass.ru", feed=feed,
                                                    fetched_at=datetime(2021, 11, 9, tzinfo=UTC)), MARKERS, 40)
    assert page.published_at == datetime(2021, 11, 8, 10, 0, tzinfo=UTC)  # the feed's date is next in line
    assert len(page.dates_rejected) == 1 and "meta" in page.dates_rejected[0]


@pytest.mark.parametrize(("body", "reason"), [
    (b"<html><head><script src='/cdn-cgi/challenge-platform/h/b/orchestrate'></script></head><body>"
     b"<div id='cf-browser-verification'>Checking your browser before accessing</div></body></html>",
     "js_challenge"),
    (b"<html><body><div class='nav'><a href='/'>Home</a></div></body></html>", "empty_extraction"),
    (b"", "empty_body"),
    (b"\x00\x01\x02\x03" * 400, "empty_extraction"),
])
def test_non_articles_fail_with_a_reason(body, reason):
    with pytest.raises(ExtractionFailed) as info:
        extract(body, "text/html", PageContext(url="https://tass.ru/x", domain="tass.ru"), MARKERS, 40)
    assert info.value.reason == reason


TELEGRAM_POST = """<div class="tgme_widget_message js-widget_message" data-post="MFARussia/12345">
<div class="tgme_widget_message_user"></div>
<div class="tgme_widget_message_bubble">
<div class="tgme_widget_message_author"><a class="tgme_widget_message_owner_name" href="https://t.me/MFARussia">
<span dir="auto">МИД России 🇷🇺</span></a></div>
<div class="tgme_widget_message_text js-message_text" dir="auto">🇷🇺🇧🇾 <b>#Лавров</b>: Минск не нарушает никаких
международных обязательств.<br/><br/>Попытки давления на белорусское руководство беспочвенны.</div>
<div class="tgme_widget_message_footer"><a class="tgme_widget_message_date" href="https://t.me/MFARussia/12345">
<time datetime="2021-11-01T16:20:00+00:00" class="time">16:20</time></a></div></div></div>"""


def test_telegram_post_fragment():
    page = extract(TELEGRAM_POST.encode(), "text/html; charset=utf-8",
                   PageContext(url="https://t.me/MFARussia/12345", domain="t.me", kind="telegram_post",
                               fetched_at=datetime(2021, 11, 2, tzinfo=UTC)), MARKERS, 40)
    assert page.text.split("\n")[0].endswith("Минск не нарушает никаких международных обязательств.")
    assert "Попытки давления" in page.text
    assert page.published_at == datetime(2021, 11, 1, 16, 20, tzinfo=UTC)
    assert page.authors == ["МИД России 🇷🇺"]
