"""Whether a revisit's answer says the article is gone, and the evidence for it.

Gone is: 404 or 410; a redirect to the section or home page (a redirect to
another article is a move, not a deletion); a "page not found" page served with
status 200 (a soft-404: config/changes.yaml ``soft_404`` markers in the title or
first heading, and little text); or a young article that dropped out of the
discovery page it was listed on while the page still lists older ones
(``vanished_from_feed``, ``vanished_from_sitemap``, ``vanished_from_list``,
flagged by the crawler: the page may still answer). The evidence — how, the status, the redirect
target — goes into the versions index with the last good version.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import lxml.html
from lxml.etree import ParserError

from mediamon.core.archive import ArchivedRecord, ManifestRecord
from mediamon.core.sources import Source
from processing.changes.config import ChangeRules

GONE = {404: "http_404", 410: "http_410"}


@dataclass(frozen=True)
class Deletion:
    how: str  # http_404, http_410, redirect_to_home, redirect_to_section, moved, soft_404, vanished_from_<via>
    status: int
    location: str | None = None  # the redirect target; for vanished_from_*, the feed, sitemap or list page
    marker: str | None = None  # the soft-404 text found

    @property
    def deleted(self) -> bool:
        return self.how != "moved"

    def as_json(self) -> dict[str, object]:
        return {k: v for k, v in (("how", self.how), ("status", self.status), ("location", self.location),
                                  ("marker", self.marker)) if v is not None}


def deletion_of(record: ArchivedRecord, source: Source | None, rules: ChangeRules) -> Deletion | None:
    """The deletion a revisit's answer shows, or None when it is a page to compare (or not a revisit)."""
    m = record.manifest
    if not m.revisit:
        return None
    if m.warc_type == "revisit":  # 304 / same bytes: gone only from its discovery page, if at all
        return _vanished(m)
    if m.status in GONE:
        return Deletion(GONE[m.status], m.status)
    if 300 <= m.status < 400:
        location = next((v for k, v in record.http_headers if k.lower() == "location"), None)
        return _redirect(m.url, m.status, location, source)
    if 200 <= m.status < 300:
        marker = soft_404_marker(record.body, rules)
        if marker:
            return Deletion("soft_404", m.status, marker=marker)
        return _vanished(m)
    return None


def _vanished(m: ManifestRecord) -> Deletion | None:
    """The crawler's flag: dropped from its feed, sitemap or list page (records before the kind: a feed)."""
    return Deletion(f"vanished_from_{m.vanished_via or 'feed'}", m.status, m.vanished_from) if m.vanished_from \
        else None


def _redirect(url: str, status: int, location: str | None, source: Source | None) -> Deletion:
    target = urljoin(url, location) if location else None
    if target is None:
        return Deletion("redirect_to_home", status)
    path = urlsplit(target).path.strip("/")
    if not path:
        return Deletion("redirect_to_home", status, target)
    if source is not None and source.is_article(target) and target != url:
        return Deletion("moved", status, target)
    return Deletion("redirect_to_section", status, target)


def soft_404_marker(body: bytes, rules: ChangeRules) -> str | None:
    """The not-found marker of a short page's title or first heading, if it has one."""
    markers = rules.file.soft_404.markers
    if not markers or not body.strip():
        return None
    try:
        tree = lxml.html.document_fromstring(body)
    except (ParserError, ValueError):
        return None
    for bad in tree.xpath("//script|//style"):
        bad.drop_tree()
    text = " ".join(tree.text_content().split())
    if len(text) > rules.file.soft_404.max_text_chars:
        return None
    heads = " ".join(" ".join(e.text_content().split()) for e in tree.xpath("//title|//h1")[:3]).lower()
    return next((marker for marker in markers if marker.lower() in heads), None)
