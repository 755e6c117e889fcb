"""Recognise anti-bot JavaScript challenge pages served with status 200 (DDoS-Guard, StormWall, Cloudflare).

Such a page is counted as blocked and never archived as if it were the article.
"""

from __future__ import annotations

from scrapy.http import Request, Response

from crawlers.middlewares import Dropped

# Markers as data: lower-case byte strings found in challenge pages and not in articles.
CHALLENGE_MARKERS = (b"ddos-guard", b"checking your browser", b"stormwall", b"cf-browser-verification",
                     b"challenge-platform", b"__jschl", b"enable javascript and cookies to continue")
MAX_CHALLENGE_BYTES = 64 * 1024


def is_challenge(body: bytes) -> bool:
    if len(body) > MAX_CHALLENGE_BYTES:
        return False
    lowered = body.lower()
    return any(marker in lowered for marker in CHALLENGE_MARKERS)


class ChallengeMiddleware:
    def process_response(self, request: Request, response: Response) -> Response:
        if response.status == 200 and not request.url.endswith("/robots.txt") and is_challenge(response.body):
            raise Dropped("js_challenge", request.url)
        return response
