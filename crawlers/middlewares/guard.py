"""SSRF guard: never fetch loopback, private, link-local or cloud-metadata addresses by accident.

A feed or a redirect can point anywhere; on a server inside a network that
would let a hostile site make the crawler read internal services. Checked on
the resolved address before the request and on the peer address of the
response (DNS rebinding, redirects re-enter the check). Exempt: URLs that
MEDIAMON_URL_REWRITE sends elsewhere (the operator's own mirror or proxy) and
sources with ``politeness.allow_private_addresses``. The requests a rendered
page makes by itself, in the browser, get the same rule (crawlers/subresources.py).
"""

from __future__ import annotations

import ipaddress

from scrapy.http import Request, Response
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached

from crawlers.middlewares import Dropped
from crawlers.rewrite import parse_rules, rewrite

METADATA_HOSTS = frozenset({"169.254.169.254", "fd00:ec2::254", "metadata.google.internal", "100.100.100.200"})


def forbidden_address(ip: str) -> bool:
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return False
    # not is_global also covers carrier-grade NAT 100.64/10 (cloud-internal, Tailscale), which is_private misses
    return (address.is_private or address.is_loopback or address.is_link_local or address.is_reserved
            or address.is_multicast or address.is_unspecified or not address.is_global
            or str(address) in METADATA_HOSTS)


def refused_name(host: str) -> bool:
    """A name that is internal whatever it resolves to (metadata services, localhost)."""
    return host in METADATA_HOSTS or host == "localhost" or host.endswith(".localhost")


async def forbidden_host(host: str) -> str | None:
    """The forbidden address (or name) ``host`` stands for, or None when it may be fetched.

    A name that does not resolve is let through: the download itself then fails and reports it, with its reason.
    """
    host = host.lower()
    if refused_name(host):
        return host
    try:
        ipaddress.ip_address(host)
        ip = host
    except ValueError:
        from twisted.internet import reactor  # lazy: importing it installs a reactor; the crawl picks one

        try:
            ip = await maybe_deferred_to_future(reactor.resolve(host))
        except Exception:
            return None
    return ip if forbidden_address(ip) else None


class SSRFGuardMiddleware:
    @classmethod
    def from_crawler(cls, crawler):
        mw = cls()
        mw.crawler = crawler
        mw.rules = parse_rules(crawler.settings.get("MEDIAMON_URL_REWRITE"))
        return mw

    def _exempt(self, request: Request) -> bool:
        source = getattr(self.crawler.spider, "source", None)
        if source is not None and source.politeness.allow_private_addresses:
            return True
        return rewrite(request.url, self.rules) is not None

    async def process_request(self, request: Request) -> None:
        if self._exempt(request):
            return
        forbidden = await forbidden_host(urlparse_cached(request).hostname or "")
        if forbidden is not None:
            raise Dropped("ssrf_blocked", f"{request.url} resolves to {forbidden}")

    def process_response(self, request: Request, response: Response) -> Response:
        if not self._exempt(request) and response.ip_address is not None \
                and forbidden_address(str(response.ip_address)):
            raise Dropped("ssrf_blocked", f"{request.url} answered from {response.ip_address}")
        return response
