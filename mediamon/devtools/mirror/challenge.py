"""A JavaScript challenge that only a browser passes, in front of mid.ru's and rt.com's articles (``challenges=True``).

Modelled on DDoS-Guard's interstitial: status 200, "Checking your browser",
and a script that computes a token, stores it in the ``__ddg2_`` cookie and
reloads the page (``document.cookie = ...; document.location.reload(true)``).
The article is served only to a request carrying that cookie, so a plain HTTP
client (cookies or not) never gets past it, and a browser does after one reload.
"""

from __future__ import annotations

import hashlib
from http.cookies import CookieError, SimpleCookie
from urllib.parse import urlsplit

from mediamon.devtools.mirror.catalog import Catalog

CHALLENGED_HOSTS = frozenset({"mid.ru", "www.rt.com"})
COOKIE = "__ddg2_"


def _factors(host: str) -> tuple[int, int]:
    digest = hashlib.sha256(host.encode()).digest()
    return int.from_bytes(digest[:3]) + 1000, int.from_bytes(digest[3:6]) + 1000


def _base36(number: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while number:
        number, rest = divmod(number, 36)
        out = digits[rest] + out
    return out or "0"


class JsChallenge:
    """Which mirrored article pages are behind the challenge, whether a request passed it, and the page itself."""

    def __init__(self, catalog: Catalog) -> None:
        pages = (urlsplit(e.url) for e in catalog.expected if e.outcome == "archived" and e.kind == "article")
        self.pages = {(p.hostname, p.path) for p in pages if p.hostname in CHALLENGED_HOSTS}

    def applies(self, host: str, path: str) -> bool:
        return (host, path) in self.pages

    def passed(self, host: str, cookie_header: str | None) -> bool:
        cookies = SimpleCookie()
        try:
            cookies.load(cookie_header or "")
        except CookieError:
            return False
        a, b = _factors(host)
        return COOKIE in cookies and cookies[COOKIE].value == _base36(a * b)

    @staticmethod
    def page(host: str) -> bytes:
        a, b = _factors(host)
        return ("<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>DDoS-Guard</title></head><body>"
                "<div id=\"ddg-challenge\"><h1>Checking your browser before accessing the website.</h1>"
                "<noscript>Please enable JavaScript and cookies to continue</noscript></div>"
                f"<script>(function(){{var t=({a}*{b}).toString(36);"
                f"document.cookie=\"{COOKIE}=\"+t+\"; path=/; max-age=3600\";"
                "setTimeout(function(){document.location.reload(true)},200);})();</script>"
                "</body></html>").encode()
