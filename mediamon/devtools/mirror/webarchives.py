"""The web archives as the mirror serves them: the Wayback Machine and Common Crawl, in their real formats.

Hosts and what they answer (the formats ``crawlers.backfill.archives`` documents):

- ``web.archive.org/cdx/search/cdx``: the Wayback CDX server — ``output=json`` (array of
  arrays, header row first) or plain text, ``matchType=domain``, ``from``/``to``,
  ``filter=[!]field:regex``, ``collapse=urlkey``, ``limit`` with ``showResumeKey``/``resumeKey``;
- ``web.archive.org/web/<timestamp>id_/<url>``: a capture's original bytes;
- ``index.commoncrawl.org/collinfo.json`` and ``/<crawl>-index``: pywb's CDX API, JSON
  lines, ``showNumPages`` and ``page``, filters with ``=`` (exact) and ``!`` modifiers;
- ``data.commoncrawl.org/crawl-data/.../*.warc.gz``: real WARC files (warcio, one gzip
  member per record, ``X-Crawler-Content-Encoding`` as Common Crawl writes) served by
  HTTP byte range (206).

What is captured: every corpus article gets a Wayback capture (a day after it
appeared; every third one a second, later capture too; some https articles
recorded as ``http://``, as old captures often are) or a Common Crawl record
(in the crawl running then), some both; front pages are captured too (not
articles). "Gone" articles exist only in the archives — the live sites answer 404
— a few of them published outside November 2021 but captured inside the capture
window, so only their page's date (or URL's) rules them out. ``expected_backfill``
is the test oracle: what a backfill of a range must archive, derived from what is served.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from urllib.parse import parse_qs, quote_plus, unquote_plus, urlsplit

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from mediamon.devtools.mirror import render
from mediamon.devtools.mirror.catalog import DEFAULT_ROBOTS, Catalog, Resource, clone
from mediamon.devtools.mirror.corpus import CorpusItem

WAYBACK_HOST, CC_INDEX_HOST, CC_DATA_HOST = "web.archive.org", "index.commoncrawl.org", "data.commoncrawl.org"
CDX_FIELDS = ("urlkey", "timestamp", "original", "mimetype", "statuscode", "digest", "length")
CC_PAGE_SIZE = 3  # index lines per page: small, so tests exercise paging (the real index pages hold thousands)
# (id, first day, last day) of the real crawls around the crisis; the third is past any capture window of 2021
CC_CRAWLS = (("CC-MAIN-2021-43", date(2021, 10, 15), date(2021, 10, 28)),
             ("CC-MAIN-2021-49", date(2021, 11, 26), date(2021, 12, 9)),
             ("CC-MAIN-2022-05", date(2022, 1, 16), date(2022, 1, 29)))
# Sources with articles only the archives still hold, and where their site is
GONE = {"ria-ru": ("https", "ria.ru"), "tass-en": ("https", "tass.com"), "rt-en": ("https", "www.rt.com")}


@dataclass(frozen=True)
class ArchivedCapture:
    source: str
    original: str
    captured_at: datetime  # UTC
    body: bytes
    content_type: str
    crawl: str | None = None  # Common Crawl's crawl id; None: a Wayback capture
    article_day: date | None = None  # the article's publication day; None: not an article
    # The live article's URL when the archive recorded it under another scheme (``original`` is http://)
    article_url: str | None = None

    @property
    def timestamp(self) -> str:
        return f"{self.captured_at:%Y%m%d%H%M%S}"


@dataclass
class WebArchives:
    captures: list[ArchivedCapture] = field(default_factory=list)
    warc_files: dict[str, bytes] = field(default_factory=dict)  # path on data.commoncrawl.org -> bytes
    cc_records: dict[int, tuple[str, int, int]] = field(default_factory=dict)  # id(capture) -> file, offset, len
    cc_page_size: int = CC_PAGE_SIZE

    # --- what is served ----------------------------------------------------------------

    def answer(self, host: str, path: str, range_header: str | None) -> Resource | None:
        """The mirror's answer for an archive URL (``path`` with its query), or None when it is no archive URL."""
        parts = urlsplit(path)
        query = parse_qs(parts.query)
        if host == WAYBACK_HOST and parts.path == "/cdx/search/cdx":
            return self._wayback_cdx(query)
        if host == WAYBACK_HOST and parts.path.startswith("/web/"):
            return self._wayback_capture(path[len("/web/"):])
        if host == CC_INDEX_HOST and parts.path == "/collinfo.json":
            return Resource(json.dumps([self._collinfo(c) for c in reversed(CC_CRAWLS)]).encode(), "application/json")
        if host == CC_INDEX_HOST and parts.path.endswith("-index"):
            return self._cc_index(parts.path[1:-len("-index")], query)
        if host == CC_DATA_HOST and parts.path.lstrip("/") in self.warc_files:
            return _byte_range(self.warc_files[parts.path.lstrip("/")], range_header)
        if host in (WAYBACK_HOST, CC_INDEX_HOST, CC_DATA_HOST) and parts.path == "/robots.txt":
            return Resource(DEFAULT_ROBOTS.encode(), "text/plain; charset=utf-8")
        return None

    def _wayback_cdx(self, query: dict[str, list[str]]) -> Resource:
        rows = [c for c in self._matching(query, crawl=None)]
        rows.sort(key=lambda c: (surt(c.original), c.timestamp))
        for spec in query.get("filter", []):
            rows = [c for c in rows if _filter(spec, self._wayback_fields(c), exact_prefix=False)]
        if "urlkey" in query.get("collapse", []):
            rows = [c for n, c in enumerate(rows) if n == 0 or surt(c.original) != surt(rows[n - 1].original)]
        if query.get("resumeKey"):
            after = unquote_plus(query["resumeKey"][0]).rstrip("!").split(" ")
            rows = [c for c in rows if (surt(c.original), c.timestamp) > (after[0], after[1])]
        limit = int(query.get("limit", ["150000"])[0])
        page, more = rows[:limit], len(rows) > limit
        fields = query.get("fl", [",".join(CDX_FIELDS)])[0].split(",")
        table = [[self._wayback_fields(c)[f] for f in fields] for c in page]
        key = quote_plus(f"{surt(page[-1].original)} {page[-1].timestamp}!") if more and page else None
        show_key = query.get("showResumeKey", ["false"])[0] == "true"
        if query.get("output", [""])[0] == "json":
            out = [fields, *table] + ([[], [key]] if key and show_key else [])
            return Resource(json.dumps(out).encode() if table or key else b"[]", "application/json")
        text = "".join(" ".join(r) + "\n" for r in table) + (f"\n{key}\n" if key and show_key else "")
        return Resource(text.encode(), "text/plain")

    def _wayback_fields(self, c: ArchivedCapture) -> dict[str, str]:
        return {"urlkey": surt(c.original), "timestamp": c.timestamp, "original": c.original,
                "mimetype": c.content_type.split(";")[0], "statuscode": "200", "digest": _digest(c.body),
                "length": str(len(c.body))}

    def _wayback_capture(self, rest: str) -> Resource:
        found = re.match(r"(\d{14})id_/(.+)$", rest)
        if found:
            for c in self.captures:
                if c.crawl is None and c.timestamp == found[1] and c.original == found[2]:
                    return Resource(c.body, c.content_type, headers={
                        "Memento-Datetime": c.captured_at.strftime("%a, %d %b %Y %H:%M:%S GMT"),
                        "X-Archive-Src": f"mirror-{c.timestamp[:8]}.warc.gz"})
        return Resource(b"<html><body>Wayback Machine doesn't have that page archived.</body></html>",
                        status=404)

    @staticmethod
    def _collinfo(crawl: tuple[str, date, date]) -> dict[str, str]:
        crawl_id, first, last = crawl
        return {"id": crawl_id, "name": f"{first:%B %Y} Index", "timegate": f"https://{CC_INDEX_HOST}/{crawl_id}/",
                "cdx-api": f"https://{CC_INDEX_HOST}/{crawl_id}-index", "from": f"{first}T00:00:00",
                "to": f"{last}T23:59:59"}

    def _cc_index(self, crawl: str, query: dict[str, list[str]]) -> Resource:
        rows = sorted(self._matching(query, crawl=crawl), key=lambda c: (surt(c.original), c.timestamp))
        lines = []
        for c in rows:
            filename, offset, length = self.cc_records[id(c)]
            fields = {"urlkey": surt(c.original), "timestamp": c.timestamp, "url": c.original, "mime": "text/html",
                      "mime-detected": "text/html", "status": "200", "digest": _digest(c.body),
                      "length": str(length), "offset": str(offset), "filename": filename, "languages": "rus",
                      "encoding": "UTF-8"}
            if all(_filter(spec, fields, exact_prefix=True) for spec in query.get("filter", [])):
                lines.append(json.dumps(fields))
        size = self.cc_page_size
        pages = [lines[i:i + size] for i in range(0, len(lines), size)]
        if query.get("showNumPages", ["false"])[0] == "true":
            return Resource(json.dumps({"pages": len(pages), "pageSize": size, "blocks": len(pages)}).encode(),
                            "text/x-ndjson")
        page = int(query.get("page", ["0"])[0])
        if page >= len(pages):
            return Resource(b'{"error": "No Captures found for: the query"}', "text/x-ndjson", status=404)
        return Resource("".join(line + "\n" for line in pages[page]).encode(), "text/x-ndjson")

    def _matching(self, query: dict[str, list[str]], crawl: str | None) -> list[ArchivedCapture]:
        domain = query.get("url", [""])[0].lower().removeprefix("*.").split("/")[0]
        first = query.get("from", ["0"])[0].ljust(14, "0")
        last = query.get("to", ["9"])[0].ljust(14, "9")
        out = []
        for c in self.captures:
            host = urlsplit(c.original).hostname or ""
            if c.crawl == crawl and (host == domain or host.endswith("." + domain)) and first <= c.timestamp <= last:
                out.append(c)
        return out

    # --- the test oracle ---------------------------------------------------------------

    def expected_backfill(self, sources: list[str], since: date, until: date) -> set[str]:
        """The article URLs a backfill of ``sources`` for ``since``..``until`` must archive, each once."""
        return {c.article_url or c.original for c in self.captures
                if c.source in sources and c.article_day is not None and since <= c.article_day <= until}


def surt(url: str) -> str:
    """The CDX ``urlkey``: host reversed, comma-separated, without ``www.``; then ``)`` and the path."""
    parts = urlsplit(url)
    host = (parts.hostname or "").removeprefix("www.")
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    return ",".join(reversed(host.split("."))) + ")" + path.lower()


def _digest(body: bytes) -> str:
    return base64.b32encode(hashlib.sha1(body).digest()).decode()


def _filter(spec: str, fields: dict[str, str], exact_prefix: bool) -> bool:
    """One CDX ``filter``: ``[!]field:regex`` (Wayback); pywb adds ``=`` for an exact match."""
    negate = spec.startswith("!")
    spec = spec.lstrip("!")
    exact = exact_prefix and spec.startswith("=")
    name, _, pattern = spec.lstrip("=").partition(":")
    value = fields.get(name, "")
    matched = value == pattern if exact else re.fullmatch(pattern, value) is not None
    return matched != negate


def _byte_range(data: bytes, header: str | None) -> Resource:
    found = re.fullmatch(r"bytes=(\d+)-(\d+)", (header or "").strip())
    if not found:
        return Resource(data, "application/octet-stream")
    first, last = int(found[1]), min(int(found[2]), len(data) - 1)
    if first > last:
        return Resource(b"", "application/octet-stream", status=416)
    return Resource(data[first:last + 1], "application/octet-stream", status=206,
                    headers={"Content-Range": f"bytes {first}-{last}/{len(data)}", "Accept-Ranges": "bytes"})


# --- building the archives from the catalogue -------------------------------------------


def build(catalog: Catalog, corpus: dict[str, list[CorpusItem]]) -> WebArchives:
    archives = WebArchives()
    for host in (WAYBACK_HOST, CC_INDEX_HOST, CC_DATA_HOST):
        catalog.hosts.add(host)
    for source, items in sorted(corpus.items()):
        if source.startswith("telegram") or not items:
            continue
        by_id = {i.article_id: i for i in items}
        listed = sorted((e for e in catalog.expected if e.source == source and e.kind == "article"),
                        key=lambda e: e.url)
        for n, expected in enumerate(listed):
            item = _item_for(expected.url, by_id, items[0])
            if item is None:
                continue
            if expected.outcome == "archived":
                resource = catalog.resources[_key(expected.url)]
                body, ctype = resource.body, resource.content_type
            elif expected.outcome == "blocked:js_challenge":  # archived before the site put up its challenge
                body, ctype = _render(source, item, expected.url).encode(), "text/html; charset=utf-8"
            else:
                continue
            _capture(archives, source, expected.url, item, body, ctype, n)
        root = f"{urlsplit(listed[0].url).scheme}://{urlsplit(listed[0].url).hostname}/" if listed else None
        if root:  # a front page: captured, but no article
            archives.captures.append(ArchivedCapture(source, root, datetime(2021, 11, 15, 6, tzinfo=UTC),
                                                     b"<html><body>front page</body></html>", "text/html"))
    for source in GONE:
        _gone(archives, source, corpus.get(source, []))
    _write_warcs(archives)
    return archives


def _item_for(url: str, by_id: dict[int, CorpusItem], newest: CorpusItem) -> CorpusItem | None:
    """The corpus item an article URL shows, by the id in the URL; the catalogue's fault articles (99xxxx) are
    clones of the source's newest item."""
    for digits in re.findall(r"\d+", url):
        if int(digits) in by_id:
            return by_id[int(digits)]
        if re.fullmatch(r"99\d{4}", digits):
            return clone(newest, int(digits))
    return None


def _key(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.hostname or "", parts.path + (f"?{parts.query}" if parts.query else "")


def _capture(archives: WebArchives, source: str, url: str, item: CorpusItem, body: bytes, ctype: str, n: int,
             late: int = 0) -> None:
    """Wayback (even n), Common Crawl (n divisible by 3), both or neither — never neither: odd n not divisible by
    3 goes to Wayback as well."""
    published = item.published.astimezone(UTC)
    day = item.published.date()
    if n % 2 == 0 or n % 3 != 0:
        # as the Wayback Machine often has it: an https article captured as http:// (the link a crawler followed)
        recorded = "http://" + url.removeprefix("https://") if n % 4 == 2 and url.startswith("https://") else url
        archives.captures.append(ArchivedCapture(source, recorded, published + timedelta(days=1 + late), body, ctype,
                                                 article_day=day, article_url=url if recorded != url else None))
        if n % 3 == 1:  # a second, later capture of the same page: collapsed by the query
            archives.captures.append(ArchivedCapture(source, url, published + timedelta(days=5 + late), body, ctype,
                                                     article_day=day))
    if n % 3 == 0:
        crawl = next((c for c in CC_CRAWLS if (published + timedelta(days=1)).date() <= c[2]), CC_CRAWLS[-1])
        at = max(published + timedelta(days=1), datetime.combine(crawl[1], datetime.min.time(), UTC))
        archives.captures.append(ArchivedCapture(source, url, at + timedelta(minutes=n % 1440), body, ctype, crawl[0],
                                                 article_day=day))


def _gone(archives: WebArchives, source: str, items: list[CorpusItem]) -> None:
    """Articles the live site no longer has: two in the range, one just before and one just after it
    (captured inside the capture window, so the page's own date has to rule them out)."""
    if not items:
        return
    scheme, host = GONE[source]
    base = items[0]
    shifts = {1: datetime(2021, 11, 20, 10, 0), 2: datetime(2021, 11, 30, 21, 30),
              3: datetime(2021, 10, 30, 12, 0), 4: datetime(2021, 12, 3, 9, 0)}
    for n, when in shifts.items():
        item = clone(base, 980000 + n).model_copy(update={"published": when.replace(tzinfo=base.published.tzinfo)})
        url = _gone_url(source, scheme, host, item)
        late = 2 if n == 3 else 0  # captured three days late: on 2 November
        _capture(archives, source, url, item, _render(source, item, url).encode(), "text/html; charset=utf-8", 4,
                 late)


def _gone_url(source: str, scheme: str, host: str, item: CorpusItem) -> str:
    if source == "ria-ru":
        return f"{scheme}://{host}/{item.published:%Y%m%d}/{item.slug}-{item.article_id}.html"
    if source == "tass-en":
        return f"{scheme}://{host}/{item.section}/{item.article_id}"
    return f"{scheme}://{host}/{item.section}/{item.article_id}-{item.slug}/"


def _render(source: str, item: CorpusItem, url: str) -> str:
    """An article page as its site renders it (for pages the live mirror does not serve)."""
    site = source.split("-")[0]
    if site == "ria":
        return render.ria_article(item, url, "РИА Новости")
    if site == "tass":
        return render.tass_article(item, url)
    if site == "mid":
        return render.mid_article(item, url)
    return render.rt_article(item, url)


def _write_warcs(archives: WebArchives) -> None:
    """One WARC file per crawl, written as Common Crawl writes them, each record's offset and length noted."""
    for crawl, first, _ in CC_CRAWLS:
        records = [c for c in archives.captures if c.crawl == crawl]
        if not records:
            continue
        stamp = f"{first:%Y%m%d}000000"
        filename = (f"crawl-data/{crawl}/segments/1637964358000.{first:%d}/warc/"
                    f"CC-MAIN-{stamp}-{first:%Y%m%d}030000-00000.warc.gz")
        buffer = io.BytesIO()
        writer = WARCWriter(buffer, gzip=True)
        for c in records:
            http = StatusAndHeaders("200 OK", [("Content-Type", c.content_type), ("X-Crawler-Content-Encoding", "gzip"),
                                               ("X-Crawler-Content-Length", str(len(c.body) // 3))],
                                    protocol="HTTP/1.1")
            offset = buffer.tell()
            writer.write_record(writer.create_warc_record(
                c.original, "response", payload=io.BytesIO(c.body), http_headers=http,
                warc_headers_dict={"WARC-Date": c.captured_at.strftime("%Y-%m-%dT%H:%M:%SZ")}))
            archives.cc_records[id(c)] = (filename, offset, buffer.tell() - offset)
        archives.warc_files[filename] = buffer.getvalue()
