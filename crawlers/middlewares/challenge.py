"""Recognise anti-bot JavaScript challenge pages (DDoS-Guard, StormWall: status 200; Cloudflare: 403 or 503).

Such a page is never archived as if it were the article. On a source with
``render: on_challenge`` the request is tried once more in the browser
(crawlers/rendering.py), which runs the challenge's script; a page still a
challenge after that, or on any other source, is counted as blocked.
"""

from __future__ import annotations

from scrapy.http import Request, Response

from crawlers.middlewares import Dropped

# Markers as data: lower-case byte strings found in challenge pages and not in articles.
CHALLENGE_MARKERS = (b"ddos-guard", b"checking your browser", b"stormwall", b"cf-browser-verification",
                     b"challenge-platform", b"__jschl", b"enable javascript and cookies to continue")
MAX_CHALLENGE_BYTES = 64 * 1024
CHALLENGE_STATUSES = (200, 403, 503)  # Cloudflare's managed challenge is a 403, its older "under attack" a 503


def is_challenge(body: bytes) -> bool:
    if len(body) > MAX_CHALLENGE_BYTES:
        return False
    lowered = body.lower()
    return any(marker in lowered for marker in CHALLENGE_MARKERS)


class ChallengeMiddleware:
    def __init__(self, retry_in_browser: bool) -> None:
        self.retry_in_browser = retry_in_browser

    @classmethod
    def from_crawler(cls, crawler) -> ChallengeMiddleware:
        return cls(crawler.settings.get("MEDIAMON_RENDER") == "on_challenge")

    def process_response(self, request: Request, response: Response) -> Request | Response:
        if (response.status in CHALLENGE_STATUSES and not request.url.endswith("/robots.txt")
                and is_challenge(response.body)):
            if self.retry_in_browser and not request.meta.get("render"):
                # once: the browser's answer comes back through here with meta["render"] set
                return request.replace(meta={**request.meta, "render": True, "challenge_retry": True,
                                             "screenshot": "canonical" in request.meta}, dont_filter=True)
            raise Dropped("js_challenge", request.url)
        return response
