"""Canonical article URLs: one key per story however a feed, list or sitemap spells its link.

Tracking parameters, fragments, AMP and print variants are removed so the
seen-store recognises the same article under several URLs. The canonical URL
is a key, never fetched in place of the link actually found.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit, urlunsplit

from courlan import normalize_url
from w3lib.url import canonicalize_url, url_query_cleaner

TRACKING_PARAMS = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content", "utm_referrer", "fbclid",
                   "gclid", "yclid", "ysclid", "_openstat", "from", "ref", "mc_cid", "mc_eid", "amp", "print",
                   "erid", "rss", "at_medium", "at_campaign")
# (pattern, replacement) on the path: AMP and print renditions of an article.
VARIANT_PATHS = ((re.compile(r"^/amp(/.*)$"), r"\1"), (re.compile(r"^(.*)/amp/?$"), r"\1"),
                 (re.compile(r"^(.*)\.amp(\.html)?$"), r"\1\2"), (re.compile(r"^(.*)-print(\.html)$"), r"\1\2"),
                 (re.compile(r"^(.*)/print/?$"), r"\1"))


def canonical_url(url: str) -> str:
    """The key of the article behind ``url``; the host is lower-cased, the scheme kept."""
    cleaned = url_query_cleaner(url, TRACKING_PARAMS, remove=True, keep_fragments=False)
    parts = urlsplit(cleaned)
    query = "&".join(p for p in parts.query.split("&") if p and not p.lower().startswith("utm_"))
    path = parts.path or "/"
    for pattern, replacement in VARIANT_PATHS:
        path = pattern.sub(replacement, path)
    host = (parts.hostname or "").lower()
    host = f"[{host}]" if ":" in host else host  # an IPv6 literal keeps its brackets
    rebuilt = urlunsplit((parts.scheme.lower(), host + (f":{parts.port}" if parts.port else ""), path, query, ""))
    return canonicalize_url(normalize_url(rebuilt, strict=False), keep_fragments=False)
