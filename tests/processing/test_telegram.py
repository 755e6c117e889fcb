"""Telegram posts on a page built to the real t.me/s markup, from the spider's items to the index.

Every shape of the page (reply, forward, one-line post, photo caption, blockquote, links, emoji,
media only) is checked: own text only, no post lost, no private-use marker, permalink, time, views.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from mediamon.devtools.mirror import render
from mediamon.devtools.mirror.corpus import PostShape, load_corpus
from processing.extract import ExtractionFailed, PageContext, extract
from processing.runner import process_pending
from tests.support.batches import write_batch
from tests.support.parsers import run_telegram
from tests.support.paths import CONFIG
from tests.support.telegram_page import CHANNEL, POSTS, channel_page

TEXT_POSTS = [p for p in POSTS if p.text is not None]


def archived_items() -> list[dict]:
    return [o for o in run_telegram(channel_page()) if isinstance(o, dict)]


def extracted(item: dict):
    ctx = PageContext(url=item["url"], domain="t.me", kind="telegram_post", feed=item["feed"],
                      fetched_at=datetime(2021, 11, 12, tzinfo=UTC))
    return extract(item["body"], "text/html; charset=utf-8", ctx, [], 40)


def test_each_shape_extracts_its_own_text_time_and_post_fields() -> None:
    for item, post in zip(archived_items(), POSTS, strict=True):
        if post.text is None:
            with pytest.raises(ExtractionFailed, match="media only") as info:
                extracted(item)
            assert info.value.reason == "empty_extraction"
            continue
        page = extracted(item)
        assert page.text == post.text, post.post_id
        assert "\ue000" not in page.text and "\ue000" not in (page.title or "")
        assert page.title == post.text.split("\n")[0]
        assert page.published_at == datetime.fromisoformat(post.published), post.post_id
        assert page.authors == ["МИД России 🇷🇺"]
        assert page.fields.get("reply_to") == (post.reply_to and f"https://t.me/{CHANNEL}/{post.reply_to}")
        assert page.fields.get("forwarded_from") == post.forwarded_from
        assert page.fields.get("views") == post.views_count


@pytest.fixture
def settings(es_settings):
    return es_settings.model_copy(update={"config_dir": CONFIG})


def test_runner_indexes_every_post_with_text_and_counts_the_rest(settings, es_admin) -> None:
    items = archived_items()
    write_batch(settings, "telegram-mfarussia", [
        {"url": i["url"], "body": i["body"], "kind": i["kind"], "feed": i["feed"],
         "fetched_at": datetime(2021, 11, 12, tzinfo=UTC)} for i in items])
    report = process_pending(settings, es_admin, workers=1, progress=False)
    assert report.adds_up() and report.records_in == len(POSTS)
    assert (report.created, dict(report.quarantined)) == (len(TEXT_POSTS), {"empty_extraction": 1})
    es_admin.indices.refresh(index=settings.docs_alias)
    hits = es_admin.search(index=settings.docs_alias, size=100)["hits"]["hits"]
    docs = {h["_source"]["url"]: h["_source"] for h in hits}
    assert set(docs) == {f"https://t.me/{CHANNEL}/{p.post_id}" for p in TEXT_POSTS}
    for post in TEXT_POSTS:
        doc = docs[f"https://t.me/{CHANNEL}/{post.post_id}"]
        assert doc["text"] == post.text and "\ue000" not in doc["text"], post.post_id
        assert doc["published_at"] == post.published.replace("+00:00", "Z")
        assert doc.get("reply_to") == (post.reply_to and f"https://t.me/{CHANNEL}/{post.reply_to}")
        assert doc.get("forwarded_from") == post.forwarded_from and doc.get("views") == post.views_count
    # a one-line post is found by its words: its only line is its text, not just its title
    found = es_admin.search(index=settings.docs_alias, query={"match_phrase": {"text": "телефонный разговор"}})
    assert [h["_source"]["url"] for h in found["hits"]["hits"]] == [f"https://t.me/{CHANNEL}/13002"]


def test_mirror_posts_in_real_markup_extract_to_their_corpus_text_and_shape() -> None:
    """The sample site's Telegram page (replies, forwards, captions, quotes, emoji, links) reads back exactly."""
    posts = sorted(load_corpus()["telegram-mfarussia"], key=lambda i: i.article_id)
    items = [o for o in run_telegram(render.telegram_page(CHANNEL, "https://t.me", posts, None).encode())
             if isinstance(o, dict)]
    assert [i["url"] for i in items] == [f"https://t.me/{CHANNEL}/{p.article_id}" for p in posts]
    for item, post in zip(items, posts, strict=True):
        page, shape = extracted(item), post.telegram or PostShape()
        assert page.text == "\n".join(post.body) and page.published_at == post.published, post.id
        assert page.fields.get("reply_to") == (shape.reply_to and f"https://t.me/{CHANNEL}/{shape.reply_to}")
        assert page.fields.get("forwarded_from") == shape.forwarded_from
        assert (page.fields.get("views") is None) == (shape.views is None), post.id


@pytest.mark.parametrize(("views", "reply_href", "forward", "expected"), [
    ("1.5M", "https://t.me/MFARussia/13001?single", '<a class="tgme_widget_message_forwarded_from_name" '
     'href="https://t.me/MID_Russia">MID</a>', {"views": 1_500_000, "reply_to": "https://t.me/MFARussia/13001",
                                                "forwarded_from": "MID_Russia"}),
    # what an index field cannot hold or must not claim is left out, never a bulk rejection
    ("9" * 30 + "K", "https://evil.example/MFARussia/13001", '<span class="tgme_widget_message_forwarded_from_name">'
     + "Имя " * 500 + "</span>", {"forwarded_from": ("Имя " * 50).strip()}),
    ("n/a", "https://t.me/" + "x" * 5000 + "/1", "", {}),
])
def test_post_fields_are_bounded(views, reply_href, forward, expected) -> None:
    body = (f'<div class="tgme_widget_message js-widget_message" data-post="{CHANNEL}/13050">'
            f'<div class="tgme_widget_message_forwarded_from">Forwarded from {forward}</div>'
            f'<a class="tgme_widget_message_reply" href="{reply_href}"><div class="tgme_widget_message_text '
            f'js-message_reply_text">quoted</div></a><div class="tgme_widget_message_text js-message_text">own</div>'
            f'<span class="tgme_widget_message_views">{views}</span></div>')
    page = extracted({"url": f"https://t.me/{CHANNEL}/13050", "feed": {}, "body": body.encode()})
    assert page.text == "own" and page.fields == expected
