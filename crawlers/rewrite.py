"""MEDIAMON_URL_REWRITE: fetch a real URL from a mirror, replay or proxy, while everything else sees the real URL.

Rules are whitespace-separated ``PREFIX=REPLACEMENT`` pairs, first match wins.
A prefix matches only at a URL boundary, so ``http://kremlin.ru`` never
captures ``http://kremlin.ru.example.net``. The rewrite happens in the
download handler, below every middleware: robots.txt, redirects, offsite
checks and the archive all work on the real URL; the URL actually fetched is
kept in ``request.meta["fetched_url"]`` for the archive manifest.
"""

from __future__ import annotations

from scrapy.core.downloader.handlers.http11 import HTTP11DownloadHandler
from scrapy.http import Request, Response

from mediamon.core.errors import ConfigError

Rules = list[tuple[str, str]]


class RewriteRulesError(ConfigError):
    """MEDIAMON_URL_REWRITE is malformed."""


def parse_rules(text: str | None) -> Rules:
    rules: Rules = []
    for token in (text or "").split():
        prefix, sep, replacement = token.partition("=")
        if not sep or "://" not in prefix or "://" not in replacement:
            raise RewriteRulesError(f"MEDIAMON_URL_REWRITE: expected PREFIX=REPLACEMENT with absolute URLs, "
                                    f"got {token!r}")
        rules.append((prefix.rstrip("/"), replacement.rstrip("/")))
    return rules


def rewrite(url: str, rules: Rules) -> str | None:
    """The URL to fetch instead of ``url``, or None when no rule applies."""
    for prefix, replacement in rules:
        if url.startswith(prefix) and (len(url) == len(prefix) or url[len(prefix)] in "/?#:"):
            return replacement + url[len(prefix):]
    return None


def original(url: str, rules: Rules) -> str | None:
    """The real URL a rewritten ``url`` stands for (a capture of the mirror or replay), or None.

    Several prefixes may share a replacement (``https://`` and ``http://`` of one host): the first rule wins.
    """
    for prefix, replacement in rules:
        if url.startswith(replacement) and (len(url) == len(replacement) or url[len(replacement)] in "/?#"):
            return prefix + url[len(replacement):]
    return None


class RewritingDownloadHandler(HTTP11DownloadHandler):
    """Scrapy's HTTP/1.1 handler, fetching rewritten URLs and answering with the real one."""

    def __init__(self, crawler) -> None:
        super().__init__(crawler)
        self.rules = parse_rules(crawler.settings.get("MEDIAMON_URL_REWRITE"))

    async def download_request(self, request: Request) -> Response:
        target = rewrite(request.url, self.rules)
        if target is None:
            return await super().download_request(request)
        request.meta["fetched_url"] = target
        response = await super().download_request(request.replace(url=target))
        return response.replace(url=request.url)
