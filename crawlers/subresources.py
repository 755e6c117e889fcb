"""What a rendered page may fetch by itself: the SSRF guard's rule, and no audio or video.

A page loaded in the browser fetches its scripts, styles, images and XHR through
Chromium, not through Scrapy's middlewares. Without this check a hostile page
(or a hostile ad on a real one) could make the browser read 127.0.0.1, the
internal network or a cloud metadata address: the very requests the SSRF guard
refuses for plain ones (crawlers/middlewares/guard.py). So every request of a
rendered page, its navigation included, is checked by the same rule with the
same exemptions: URLs that are MEDIAMON_URL_REWRITE targets (the operator's
mirror or proxy; the test mirror on 127.0.0.1) and sources with
``allow_private_addresses``. Audio and video are never fetched: neither the
text nor the screenshot needs them, and a stream would keep the page (and a
third-party host) busy for nothing.

scrapy-playwright asks :func:`abort_reason` through its ``PLAYWRIGHT_ABORT_REQUEST``
hook (crawlers/rendering.py wires it with the crawler's rules and counts).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from crawlers.middlewares.guard import forbidden_host
from crawlers.rewrite import Rules, original

# Playwright's resource types that are never fetched, with the reason they are counted under.
SKIPPED_TYPES = {"media": "media"}


async def abort_reason(url: str, resource_type: str, rules: Rules, allow_private: bool,
                       known: dict[str, str | None]) -> str | None:
    """Why the browser must not send this request (a crawl-stats reason), or None to let it go.

    ``known`` caches each host's verdict for the crawler: a page asks for dozens of resources from a few hosts.
    """
    if resource_type in SKIPPED_TYPES:
        return SKIPPED_TYPES[resource_type]
    if allow_private or original(url, rules) is not None:
        return None
    host = (urlsplit(url).hostname or "").lower()
    if host not in known:
        known[host] = await forbidden_host(host)
    return "ssrf_blocked" if known[host] is not None else None
