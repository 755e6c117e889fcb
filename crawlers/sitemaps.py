"""Reading one sitemap body: an index (child sitemaps) or a url set (pages), Google News tags included.

Parsed with lxml without entity resolution or network access; gzip bodies
are decompressed with Scrapy's ``gunzip`` under a size cap (a zip bomb is
counted, not expanded). Shared by the crawl's sitemap spider and the backfill,
which also reads the dates (``lastmod``, ``news:publication_date``) to keep a
date range. Knows nothing about requests or counts: the caller turns an
``error`` into its counted reason.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass, field
from typing import Any

from lxml import etree
from scrapy.utils.gz import gunzip

from mediamon.core.archive import is_gzip

PARSER = etree.XMLParser(resolve_entities=False, no_network=True, recover=True, remove_comments=True)


@dataclass(frozen=True)
class SitemapEntry:
    loc: str
    lastmod: str | None = None
    title: str | None = None  # news:title
    published: str | None = None  # news:publication_date


@dataclass
class Sitemap:
    kind: str = ""  # "sitemapindex" or "urlset"; empty when ``error`` is set
    entries: list[SitemapEntry] = field(default_factory=list)
    error: str | None = None  # sitemap_oversize, sitemap_bad_gzip, sitemap_unparsable, sitemap_unknown_type


def _text(element: Any, path: str) -> str | None:
    value = element.findtext(path)
    return value.strip() if value else None


def read_sitemap(body: bytes, max_size: int) -> Sitemap:
    """The entries of a sitemap body (plain or gzip), or the reason it cannot be read."""
    if is_gzip(body):
        try:
            body = gunzip(body, max_size=max_size)
        except ValueError:  # Scrapy's decompression cap was hit
            return Sitemap(error="sitemap_oversize")
        except (OSError, EOFError, zlib.error, struct.error):  # truncated or corrupt gzip
            return Sitemap(error="sitemap_bad_gzip")
    try:
        root = etree.fromstring(body, parser=PARSER) if body.strip() else None
    except etree.XMLSyntaxError:  # even recover=True gives up on some bytes ("Document is empty")
        root = None
    if root is None:
        return Sitemap(error="sitemap_unparsable")
    try:
        kind = etree.QName(root).localname
    except ValueError:  # recover mode keeps tag names QName refuses ("<a:>"): not a sitemap
        kind = ""
    if kind == "sitemapindex":
        return Sitemap(kind, [SitemapEntry(loc.text, _text(loc.getparent(), "{*}lastmod"))
                              for loc in root.iterfind("{*}sitemap/{*}loc") if loc.text])
    if kind != "urlset":
        return Sitemap(error="sitemap_unknown_type")
    entries = []
    for url in root.iterfind("{*}url"):
        loc = _text(url, "{*}loc")
        if loc:
            entries.append(SitemapEntry(loc, _text(url, "{*}lastmod"), _text(url, "{*}news/{*}title"),
                                        _text(url, "{*}news/{*}publication_date")))
    return Sitemap(kind, entries)
