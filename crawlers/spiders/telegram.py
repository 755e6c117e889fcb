"""Public Telegram channels through the web preview ``https://t.me/s/<channel>``, paged with ``?before=<id>``.

Each post is archived as its own item (kind ``telegram_post``): the post's
HTML fragment is the body, its permalink ``https://t.me/<channel>/<id>`` the URL.
A reply's header (``a.tgme_widget_message_reply``) quotes another post inside this
post's fragment; it is part of the body, never a post of its own.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from scrapy.http import Request, Response

from crawlers.canonical import canonical_url
from crawlers.spiders.base import SourceSpider

# The post's own text: a reply also carries the replied-to post's text div (js-message_reply_text) inside
# a.tgme_widget_message_reply, and that is not this post's words.
OWN_TEXT = (".//div[contains(concat(' ', normalize-space(@class), ' '), ' tgme_widget_message_text ')]"
            "[not(contains(@class, 'js-message_reply_text'))]"
            "[not(ancestor::a[contains(@class, 'tgme_widget_message_reply')])]")


class TelegramSpider(SourceSpider):
    method = "telegram"

    @property
    def channel_url(self) -> str:
        tg = self.source.discovery.telegram
        assert tg is not None
        return f"{tg.base_url.rstrip('/')}/s/{tg.channel}"

    async def start(self) -> Iterator[Request]:
        for request in self.page_request(self.channel_url, self.parse_channel, page=1):
            yield request

    def parse_channel(self, response: Response) -> Iterator[Any]:
        if not self.html_page_ok(response):
            return
        tg = self.source.discovery.telegram
        assert tg is not None
        base = tg.base_url.rstrip("/")
        new = 0
        for post in response.css("div.tgme_widget_message[data-post]"):
            channel, _, post_id = (post.xpath("@data-post").get() or "").partition("/")
            if not post_id.isdigit() or channel.lower() != tg.channel.lower():
                self.run.stats.skipped_links += 1
                continue
            permalink = f"{base}/{tg.channel}/{post_id}"
            if self.run.claim(permalink) is None:
                continue
            new += 1
            own = post.xpath(OWN_TEXT)
            text = "\n".join(t.strip() for t in own[0].xpath(".//text()").getall() if t.strip()) if own else ""
            yield self.item(response, kind="telegram_post", url=permalink, body=post.get().encode("utf-8"),
                            canonical=canonical_url(permalink), encoding="utf-8",
                            feed={"published": post.css("a.tgme_widget_message_date time::attr(datetime)").get(),
                                  "channel": tg.channel, "post_id": int(post_id), "text": text},
                            headers=[("Content-Type", "text/html; charset=utf-8")])
        before = response.css("a.tme_messages_more::attr(data-before)").get()
        if new and before and before.isdigit() and response.meta["page"] < tg.max_pages:
            yield from self.page_request(f"{self.channel_url}?before={before}", self.parse_channel,
                                         page=response.meta["page"] + 1)
