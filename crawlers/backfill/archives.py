"""The web archives' documented HTTP APIs: the Wayback Machine's CDX server and Common Crawl's index.

Why not ``cdx-toolkit``: it fetches with blocking ``requests`` calls of its own,
outside Scrapy's downloader, so its queries would escape the per-host delay,
robots.txt, AutoThrottle, retries and MEDIAMON_URL_REWRITE that every other
request of a crawl goes through (and its Wayback endpoint is fixed, so a test
could not point it at the local mirror). The formats are small and documented:

- Wayback CDX (https://github.com/internetarchive/wayback/tree/master/wayback-cdx-server):
  ``output=json`` is an array of arrays, the first row naming the fields; the
  plain-text form is one space-separated line per capture. With
  ``showResumeKey=true`` a query cut by ``limit`` ends with the key to resume
  from: ``[]`` then ``["<key>"]`` in JSON, a blank line then the key in text.
  A capture's original bytes are at ``/web/<timestamp>id_/<original url>``.
- Common Crawl (pywb's CDX server, https://index.commoncrawl.org): ``collinfo.json``
  lists the crawls; ``<crawl>-index?...&output=json`` answers one JSON object per
  line (``url, timestamp, status, mime, filename, offset, length``);
  ``showNumPages=true`` answers ``{"pages": N}``, then ``page=0..N-1``. The record
  is the byte range ``offset .. offset+length-1`` of ``https://data.commoncrawl.org/<filename>``:
  one gzip member holding one WARC response record.

This module builds the query URLs and reads the answers; it does no I/O.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from urllib.parse import quote, urlencode

from warcio.archiveiterator import ArchiveIterator

WAYBACK = "https://web.archive.org"
CC_INDEX = "https://index.commoncrawl.org"
CC_DATA = "https://data.commoncrawl.org"
ARCHIVE_HOSTS = frozenset({"web.archive.org", "index.commoncrawl.org", "data.commoncrawl.org"})
WAYBACK_FIELDS = ("urlkey", "timestamp", "original", "mimetype", "statuscode", "digest", "length")
_CRAWL_WEEK = re.compile(r"^CC-MAIN-(\d{4})-(\d{2})$")


class ArchiveFormatError(ValueError):
    """An archive's answer is not in the documented format (the message says what was expected)."""


@dataclass(frozen=True)
class Capture:
    """One archived capture of an original URL, and how to fetch its bytes."""

    provenance: str  # wayback | commoncrawl
    original: str
    captured_at: datetime  # UTC
    archive_url: str  # where the bytes are: a Wayback id_ URL, or a Common Crawl WARC file
    byte_range: tuple[int, int] | None = None  # first and last byte in ``archive_url`` (Common Crawl)

    def as_json(self) -> dict[str, object]:
        return {"provenance": self.provenance, "original": self.original, "captured_at": self.captured_at.isoformat(),
                "archive_url": self.archive_url, "byte_range": list(self.byte_range) if self.byte_range else None}

    @classmethod
    def from_json(cls, data: dict) -> Capture:
        byte_range = data.get("byte_range")
        return cls(data["provenance"], data["original"], datetime.fromisoformat(data["captured_at"]),
                   data["archive_url"], (int(byte_range[0]), int(byte_range[1])) if byte_range else None)


def cdx_time(timestamp: str) -> datetime:
    """A CDX timestamp (``yyyyMMddhhmmss``, UTC) as an aware datetime."""
    digits = timestamp.strip()
    if not re.fullmatch(r"\d{14}", digits):
        raise ArchiveFormatError(f"not a 14-digit CDX timestamp: {timestamp!r}")
    return datetime.strptime(digits, "%Y%m%d%H%M%S").replace(tzinfo=UTC)


# --- Wayback Machine ------------------------------------------------------------------


def wayback_query(domain: str, first: date, last: date, limit: int, resume_key: str | None = None) -> str:
    """The CDX query for the first capture of each HTML page of ``domain`` (and its subdomains) between two days."""
    params = [("url", domain), ("matchType", "domain"), ("from", f"{first:%Y%m%d}"), ("to", f"{last:%Y%m%d}"),
              ("output", "json"), ("fl", ",".join(WAYBACK_FIELDS)), ("filter", "statuscode:200"),
              ("filter", "mimetype:text/html"), ("collapse", "urlkey"), ("limit", str(limit)),
              ("showResumeKey", "true")]
    if resume_key:
        params.append(("resumeKey", resume_key))
    return f"{WAYBACK}/cdx/search/cdx?{urlencode(params)}"


def wayback_capture_url(timestamp: str, original: str) -> str:
    """The capture's original bytes, without the Wayback banner or rewritten links (the ``id_`` mode)."""
    return f"{WAYBACK}/web/{timestamp}id_/{original}"


def read_wayback_cdx(body: bytes) -> tuple[list[Capture], str | None]:
    """The captures of one CDX answer (JSON or plain text) and its resume key, if the answer was cut."""
    text = body.decode("utf-8", errors="replace").strip()
    if not text:
        return [], None
    if text.startswith("["):
        return _wayback_json(text)
    return _wayback_text(text)


def _wayback_capture(row: dict[str, str]) -> Capture | None:
    if not row.get("original") or not row.get("timestamp"):
        raise ArchiveFormatError(f"a CDX row without original or timestamp: {row}")
    if row.get("statuscode", "200") != "200":  # redirects and errors are not the article (the filter asks so)
        return None
    return Capture("wayback", row["original"], cdx_time(row["timestamp"]),
                   wayback_capture_url(row["timestamp"], row["original"]))


def _wayback_json(text: str) -> tuple[list[Capture], str | None]:
    try:
        rows = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ArchiveFormatError(f"CDX JSON unreadable: {exc}") from exc
    if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
        raise ArchiveFormatError("CDX JSON is not an array of arrays")
    if not rows:  # nothing captured: ``[]``, without even the header row
        return [], None
    header, rows = rows[0], rows[1:]
    resume = None
    if len(rows) >= 2 and rows[-2] == [] and len(rows[-1]) == 1:
        resume, rows = rows[-1][0], rows[:-2]
    captures = [_wayback_capture(dict(zip(header, r, strict=False))) for r in rows if r]
    return [c for c in captures if c], resume


def _wayback_text(text: str) -> tuple[list[Capture], str | None]:
    body, _, resume = text.partition("\n\n")
    captures = []
    for line in body.splitlines():
        fields = line.split(" ")
        if len(fields) < len(WAYBACK_FIELDS):
            raise ArchiveFormatError(f"CDX line with {len(fields)} fields, expected {len(WAYBACK_FIELDS)}: {line!r}")
        capture = _wayback_capture(dict(zip(WAYBACK_FIELDS, fields, strict=False)))
        if capture:
            captures.append(capture)
    return captures, resume.strip() or None


# --- Common Crawl ---------------------------------------------------------------------


def crawls_covering(collinfo: bytes, first: date, last: date) -> list[str]:
    """The index API URLs of the crawls that ran between two days (``collinfo.json``).

    Newer entries carry ``from``/``to``; for older ones the week in the crawl id
    (``CC-MAIN-2021-49``: ISO week 49 of 2021, when it ended) is taken as its end,
    and a crawl lasts about two weeks.
    """
    try:
        crawls = json.loads(collinfo)
    except json.JSONDecodeError as exc:
        raise ArchiveFormatError(f"collinfo.json unreadable: {exc}") from exc
    if not isinstance(crawls, list):
        raise ArchiveFormatError("collinfo.json is not a list of crawls")
    chosen = []
    for crawl in crawls:
        if not isinstance(crawl, dict) or not crawl.get("cdx-api") or not crawl.get("id"):
            raise ArchiveFormatError(f"collinfo.json entry without id or cdx-api: {crawl}")
        span = _crawl_span(crawl)
        if span and span[0] <= last and span[1] >= first:
            chosen.append(crawl["cdx-api"])
    return chosen


def _crawl_span(crawl: dict) -> tuple[date, date] | None:
    if crawl.get("from") and crawl.get("to"):
        return (datetime.fromisoformat(crawl["from"].replace("Z", "+00:00")).date(),
                datetime.fromisoformat(crawl["to"].replace("Z", "+00:00")).date())
    found = _CRAWL_WEEK.match(crawl["id"])
    if not found:
        return None  # pre-2013 crawls (CC-MAIN-2012 ...): no index API, nothing from our years
    end = date.fromisocalendar(int(found[1]), min(int(found[2]), 52), 7)
    return end - timedelta(days=14), end


def commoncrawl_query(cdx_api: str, domain: str, first: date, last: date, page: int | None) -> str:
    """One page of a crawl's index for ``domain``'s HTML pages; ``page=None`` asks how many pages there are."""
    params = [("url", domain), ("matchType", "domain"), ("from", f"{first:%Y%m%d}"), ("to", f"{last:%Y%m%d}"),
              ("output", "json"), ("filter", "=status:200"), ("filter", "=mime:text/html")]
    params.append(("showNumPages", "true") if page is None else ("page", str(page)))
    return f"{cdx_api}?{urlencode(params)}"


def read_num_pages(body: bytes) -> int:
    try:
        answer = json.loads(body)
        return int(answer["pages"]) if isinstance(answer, dict) else int(answer)
    except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
        raise ArchiveFormatError(f"showNumPages answer is not {{\"pages\": N}}: {body[:200]!r}") from exc


def read_commoncrawl_index(body: bytes) -> Iterator[Capture]:
    """The captures of one page of a Common Crawl index answer (JSON lines)."""
    for line in body.decode("utf-8", errors="replace").splitlines():
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            if str(row.get("status", "200")) != "200":
                continue
            offset, length = int(row["offset"]), int(row["length"])
            yield Capture("commoncrawl", row["url"], cdx_time(row["timestamp"]),
                          f"{CC_DATA}/{quote(row['filename'])}", (offset, offset + length - 1))
        except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
            raise ArchiveFormatError(f"Common Crawl index line unreadable ({exc}): {line[:200]!r}") from exc


@dataclass(frozen=True)
class WarcResponse:
    status: int
    headers: list[tuple[str, str]]
    body: bytes
    target_uri: str


def read_warc_member(data: bytes) -> WarcResponse:
    """The HTTP response inside one gzip member of a WARC file (a Common Crawl byte range)."""
    try:
        for record in ArchiveIterator(io.BytesIO(data)):
            if record.rec_type == "response":
                status = int(record.http_headers.get_statuscode() or "0")
                headers = list(record.http_headers.headers) if record.http_headers else []
                return WarcResponse(status, headers, record.content_stream().read(),
                                    record.rec_headers.get_header("WARC-Target-URI") or "")
    except Exception as exc:  # warcio raises anything on damaged bytes (see mediamon.core.archive)
        raise ArchiveFormatError(f"not a WARC record: {type(exc).__name__}: {exc}") from exc
    raise ArchiveFormatError("the byte range holds no WARC response record")
