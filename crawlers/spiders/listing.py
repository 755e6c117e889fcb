"""List pages (sites without reliable feeds): article links by CSS, pagination by next link or URL template."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from scrapy.http import Request, Response

from crawlers.spiders.base import SourceSpider, absolute_url


class ListingSpider(SourceSpider):
    method = "list"

    async def start(self) -> Iterator[Request]:
        for listing in self.source.discovery.lists:
            for request in self.page_request(listing.url, self.parse_list, listing=listing.model_dump(), page=1,
                                             render=self.renders(listing.render)):
                yield request

    def parse_list(self, response: Response) -> Iterator[Request]:
        if not self.html_page_ok(response):
            return
        listing, page = response.meta["listing"], response.meta["page"]
        items = response.css(listing["item_selector"])
        if not items:
            self.run.stats.page_warnings["list_empty"] += 1

        def links() -> Iterator[tuple[str, dict[str, Any]]]:
            for item in items:
                href = item.css(listing["link_selector"]).get()
                if not href:
                    continue
                meta = {"title": " ".join(item.css(listing["title_selector"]).getall()).strip()
                        if listing.get("title_selector") else None,
                        "published_raw": item.css(listing["date_selector"]).get()
                        if listing.get("date_selector") else None}
                yield href, meta  # article_request resolves it (absolute_url copes with hostile hrefs)

        found = list(links())
        if page == 1:  # the newest items: a young article dropped from them may have been removed
            self.listing_read(response.meta["page_url"], "list", found)
        requests = self.article_requests(found, response.meta["page_url"])
        yield from requests
        if not requests or page >= listing["max_pages"]:
            return
        next_url = None
        if listing.get("next_selector"):
            href = response.css(listing["next_selector"]).get()
            next_url = absolute_url(response.url, href) if href else None
        elif listing.get("page_url"):
            next_url = listing["page_url"].replace("{n}", str(page + 1))
        if next_url and self.source.allows(next_url):
            yield from self.page_request(next_url, self.parse_list, listing=listing, page=page + 1,
                                         render=self.renders(listing["render"]))

    def renders(self, list_render: str) -> bool:
        """Whether a list page is loaded in the browser: the list's ``render:``, else the source's."""
        return list_render == "browser" or self.source.render == "browser"
