"""The Telegram spider on a page built to the real t.me/s markup: one item per post, replies stay inside."""

from __future__ import annotations

from scrapy.http import Request

from tests.support.parsers import run_telegram
from tests.support.telegram_page import BEFORE, CHANNEL, POSTS, channel_page


def test_every_post_is_one_item_and_reply_headers_are_not_posts() -> None:
    out = run_telegram(channel_page())
    items = [o for o in out if isinstance(o, dict)]
    assert [i["url"] for i in items] == [f"https://t.me/{CHANNEL}/{p.post_id}" for p in POSTS]
    assert all(i["kind"] == "telegram_post" for i in items)
    for item, post in zip(items, POSTS, strict=True):
        body = item["body"].decode("utf-8")
        assert body.count("data-post=") == 1 and f'data-post="{CHANNEL}/{post.post_id}"' in body
        assert item["feed"]["post_id"] == post.post_id and item["feed"]["published"] == post.published
    [next_page] = [o for o in out if isinstance(o, Request)]
    assert next_page.url.endswith(f"/s/{CHANNEL}?before={BEFORE}")


def test_feed_text_is_the_posts_own_text_not_the_quoted_one() -> None:
    items = {i["feed"]["post_id"]: i for i in run_telegram(channel_page()) if isinstance(i, dict)}
    reply = items[13003]
    assert "Минск" in reply["body"].decode("utf-8")  # the quote is archived with the reply, but is not its text
    assert reply["feed"]["text"] == "Полный текст интервью опубликован на сайте Министерства."
    assert "mid.ru/ru/foreign_policy" in items[13007]["feed"]["text"]
    assert "Текст на сайте министерства" not in items[13007]["feed"]["text"]  # the link preview card
    assert items[13010]["feed"]["text"] == ""  # a photo without caption
