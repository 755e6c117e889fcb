"""The raw archive: WARC records plus a JSONL manifest per batch — the source of truth.

Layout (relative to ``<data_dir>/archive``; the same keys work as object-store
keys later)::

    .incoming/<batch_id>/            a batch being written (never read by processing)
    YYYY/MM/DD/<batch_id>/records.warc.gz
    YYYY/MM/DD/<batch_id>/manifest.jsonl

A batch is written under ``.incoming`` and moved into place with one directory
rename when it is complete, so readers see a whole batch or none of it. Each
manifest line describes one archived item: url, canonical_url, source,
fetched_at, status, content_type, sha256 (of the body), warc_file, offset (of
the WARC response record), fetched_url (the rewritten URL actually requested),
feed (metadata the feed/list carried: title, published, summary, ...), kind
("article" or "telegram_post"). A revisit of an archived article (``revisit``,
``revisit_of`` = the sha256 it was compared with) whose answer was 304 or the
same bytes is a WARC ``revisit`` record (``warc_type``), with headers and no body.
A page a browser loaded has ``rendered`` (the body is the rendered HTML) and
``screenshot`` (a full-page PNG: a WARC ``resource`` record right after the
response, ``WARC-Concurrent-To`` it, at the offset and with the sha256 named here).

This module knows files and WARC, nothing about Scrapy or documents.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http import HTTPStatus
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from warcio.archiveiterator import ArchiveIterator
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from mediamon.core.errors import OperationFailed

WARC_NAME = "records.warc.gz"
MANIFEST_NAME = "manifest.jsonl"
INCOMING = ".incoming"
REVISIT_NOT_MODIFIED = "http://netpreserve.org/warc/1.1/revisit/server-not-modified"
REVISIT_IDENTICAL = "http://netpreserve.org/warc/1.1/revisit/identical-payload-digest"


class ArchiveError(OperationFailed):
    """The archive cannot be written (disk full, permissions); what is already committed stays intact."""


class ManifestError(OperationFailed):
    """A manifest line is not a valid record; names the file and the line."""


class Screenshot(BaseModel):
    """Where a page's full-page screenshot sits in its batch's WARC (a ``resource`` record) and its digest."""

    model_config = ConfigDict(frozen=True)

    offset: int
    sha256: str
    content_type: str = "image/png"


class ManifestRecord(BaseModel):
    """One line of a batch's manifest: what was fetched, when, and where its bytes sit in the WARC.

    The one typed form of the record crawlers write and processing, health checks
    and the crawl state read. Unknown keys are kept (``extra="allow"``) so an
    older or newer crawler's manifest still reads.
    """

    model_config = ConfigDict(extra="allow", frozen=True)

    batch: str
    url: str
    canonical_url: str
    source: str
    fetched_at: datetime | None = None
    status: int = 200
    content_type: str | None = None
    sha256: str | None = None
    warc_file: str = WARC_NAME
    offset: int
    fetched_url: str | None = None
    kind: Literal["article", "telegram_post"] = "article"
    feed: dict[str, Any] = Field(default_factory=dict)
    encoding: str | None = None
    encoding_declared: bool | None = None  # whether the page declared its charset (header or meta)
    discovered_canonical: str | None = None  # the canonical URL of the link that led here, when it differs
    # Where the bytes came from; for archive captures, the capture's own URL and time
    provenance: Literal["live", "wayback", "commoncrawl", "import"] = "live"
    archive_url: str | None = None
    captured_at: datetime | None = None
    # A scheduled re-fetch of an article archived before (crawlers.revisit): what it was compared with, and
    # whether the WARC holds a full response or only a ``revisit`` record (304 / same bytes: nothing re-stored)
    revisit: bool = False
    revisit_of: str | None = None
    warc_type: Literal["response", "revisit"] = "response"
    vanished_from: str | None = None  # the discovery page a young article dropped out of (revisited at once for it)
    vanished_via: Literal["feed", "sitemap", "list"] | None = None  # that page's kind; None (older records): feed
    # The body is what a browser rendered (challenge passed, scripts run); the headers are the HTTP answer's
    rendered: bool = False
    screenshot: Screenshot | None = None

    def as_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_none=True)


@dataclass
class ArchivedRecord:
    """One manifest record with the HTTP body and headers read back from the WARC."""

    manifest: ManifestRecord
    body: bytes
    http_headers: list[tuple[str, str]] = field(default_factory=list)
    batch_dir: Path | None = None

    @property
    def content_type(self) -> str | None:
        """The archived response's Content-Type header, else the manifest's copy of it."""
        return next((v for k, v in self.http_headers if k.lower() == "content-type"), self.manifest.content_type)


def new_batch_id(source: str, now: datetime | None = None) -> str:
    now = now or datetime.now(UTC)
    return f"{now:%Y%m%dT%H%M%SZ}-{source}-{uuid.uuid4().hex[:8]}"


class BatchWriter:
    """Writes one batch; ``commit()`` publishes it atomically, ``abort()`` discards it."""

    def __init__(self, archive_dir: Path, source: str, batch_id: str | None = None) -> None:
        self.archive_dir = archive_dir
        self.source = source
        self.batch_id = batch_id or new_batch_id(source)
        self.started = datetime.now(UTC)
        self.work_dir = archive_dir / INCOMING / self.batch_id
        self.count = 0
        try:
            self.work_dir.mkdir(parents=True, exist_ok=False)
            self._warc_fh = open(self.work_dir / WARC_NAME, "wb")  # noqa: SIM115 - closed in commit/abort
            self._manifest_fh = open(self.work_dir / MANIFEST_NAME, "w", encoding="utf-8")  # noqa: SIM115
        except OSError as exc:
            raise ArchiveError(f"cannot write to archive {archive_dir}: {exc}") from exc
        self._writer = WARCWriter(self._warc_fh, gzip=True)

    def add(self, *, url: str, canonical_url: str, fetched_url: str, status: int, http_headers: list[tuple[str, str]],
            body: bytes, request_headers: list[tuple[str, str]] | None = None, kind: str = "article",
            feed: dict[str, Any] | None = None, fetched_at: datetime | None = None,
            extra: dict[str, Any] | None = None, screenshot: bytes | None = None) -> ManifestRecord:
        """Append a request/response pair (and the page's ``screenshot``, a PNG) and its manifest line."""
        fetched_at = fetched_at or datetime.now(UTC)
        sha256 = hashlib.sha256(body).hexdigest()
        content_type = next((v for k, v in http_headers if k.lower() == "content-type"), None)
        try:
            warc_date = fetched_at.strftime("%Y-%m-%dT%H:%M:%SZ")
            req = self._writer.create_warc_record(
                url, "request", payload=io.BytesIO(b""),
                http_headers=StatusAndHeaders(f"GET {_path_of(url)} HTTP/1.1", request_headers or [],
                                              is_http_request=True),
                warc_headers_dict={"WARC-Date": warc_date})
            offset = self._warc_fh.tell()
            resp = self._writer.create_warc_record(
                url, "response", payload=io.BytesIO(body),
                http_headers=StatusAndHeaders(f"{status} {_reason(status)}", http_headers, protocol="HTTP/1.1"),
                warc_headers_dict={"WARC-Date": warc_date, "WARC-Payload-Digest-SHA256": sha256})
            self._writer.write_record(resp)
            self._writer.write_record(req)
            shot = self._write_screenshot(url, screenshot, resp, warc_date) if screenshot is not None else None
            fields = {"batch": self.batch_id, "url": url, "canonical_url": canonical_url, "source": self.source,
                      "fetched_at": fetched_at, "status": status, "content_type": content_type, "sha256": sha256,
                      "warc_file": WARC_NAME, "offset": offset, "fetched_url": fetched_url, "kind": kind,
                      "feed": feed or {}, "screenshot": shot}
            entry = ManifestRecord(**{**fields, **(extra or {})})  # extra may refine (e.g. a record's own source)
            self._manifest_fh.write(json.dumps(entry.as_json(), ensure_ascii=False) + "\n")
        except OSError as exc:
            raise ArchiveError(f"cannot write to archive {self.work_dir}: {exc}") from exc
        self.count += 1
        return entry

    def add_revisit(self, *, url: str, canonical_url: str, fetched_url: str, status: int,
                    http_headers: list[tuple[str, str]], request_headers: list[tuple[str, str]], payload_sha256: str,
                    refers_to_date: datetime | None, fetched_at: datetime | None = None,
                    extra: dict[str, Any] | None = None) -> ManifestRecord:
        """A WARC ``revisit`` record: the page answered 304 (server-not-modified) or the same bytes
        (identical-payload-digest); the headers are kept as evidence, the body is not stored again."""
        fetched_at = fetched_at or datetime.now(UTC)
        profile = REVISIT_NOT_MODIFIED if status == 304 else REVISIT_IDENTICAL
        try:
            warc_date = fetched_at.strftime("%Y-%m-%dT%H:%M:%SZ")
            offset = self._warc_fh.tell()
            record = self._writer.create_warc_record(
                url, "revisit", http_headers=StatusAndHeaders(f"{status} {_reason(status)}", http_headers,
                                                              protocol="HTTP/1.1"),
                warc_headers_dict={"WARC-Date": warc_date, "WARC-Profile": profile,
                                   "WARC-Refers-To-Target-URI": url, "WARC-Payload-Digest-SHA256": payload_sha256,
                                   **({"WARC-Refers-To-Date": refers_to_date.strftime("%Y-%m-%dT%H:%M:%SZ")}
                                      if refers_to_date else {})})
            self._writer.write_record(record)
            self._writer.write_record(self._writer.create_warc_record(
                url, "request", payload=io.BytesIO(b""),
                http_headers=StatusAndHeaders(f"GET {_path_of(url)} HTTP/1.1", request_headers, is_http_request=True),
                warc_headers_dict={"WARC-Date": warc_date}))
            fields = {"batch": self.batch_id, "url": url, "canonical_url": canonical_url, "source": self.source,
                      "fetched_at": fetched_at, "status": status, "sha256": payload_sha256, "warc_file": WARC_NAME,
                      "offset": offset, "fetched_url": fetched_url, "revisit": True, "revisit_of": payload_sha256,
                      "warc_type": "revisit"}
            entry = ManifestRecord(**{**fields, **(extra or {})})
            self._manifest_fh.write(json.dumps(entry.as_json(), ensure_ascii=False) + "\n")
        except OSError as exc:
            raise ArchiveError(f"cannot write to archive {self.work_dir}: {exc}") from exc
        self.count += 1
        return entry

    def _write_screenshot(self, url: str, png: bytes, response: Any, warc_date: str) -> Screenshot:
        """The evidence beside a response: a ``resource`` record ReplayWeb.page and pywb list with the page."""
        sha256 = hashlib.sha256(png).hexdigest()
        offset = self._warc_fh.tell()
        record = self._writer.create_warc_record(
            screenshot_uri(url), "resource", payload=io.BytesIO(png), warc_content_type="image/png",
            warc_headers_dict={"WARC-Date": warc_date, "WARC-Payload-Digest-SHA256": sha256,
                               "WARC-Concurrent-To": response.rec_headers.get_header("WARC-Record-ID")})
        self._writer.write_record(record)
        return Screenshot(offset=offset, sha256=sha256)

    def commit(self) -> Path | None:
        """Flush, fsync and move the batch into place; an empty batch is discarded."""
        try:
            for fh in (self._warc_fh, self._manifest_fh):
                fh.flush()
                os.fsync(fh.fileno())
                fh.close()
            if self.count == 0:
                shutil.rmtree(self.work_dir, ignore_errors=True)
                return None
            final = self.archive_dir / f"{self.started:%Y/%m/%d}" / self.batch_id
            final.parent.mkdir(parents=True, exist_ok=True)
            self.work_dir.rename(final)
            _fsync_dir(final.parent)
            return final
        except OSError as exc:
            raise ArchiveError(f"cannot commit batch {self.batch_id} to {self.archive_dir}: {exc}") from exc

    def abort(self) -> None:
        for fh in (self._warc_fh, self._manifest_fh):
            if not fh.closed:
                with contextlib.suppress(OSError):  # a full disk fails the flush; the batch is discarded anyway
                    fh.close()
        shutil.rmtree(self.work_dir, ignore_errors=True)


def screenshot_uri(url: str) -> str:
    """The WARC-Target-URI of a page's screenshot record (the ``urn:`` form browser crawlers use for views)."""
    return f"urn:screenshot:{url}"


def read_screenshot(batch_dir: Path, entry: ManifestRecord) -> bytes:
    """The PNG of ``entry``'s screenshot, checked against its sha256; ``ArchiveError`` when absent or altered."""
    if entry.screenshot is None:
        raise ArchiveError(f"{entry.url}: no screenshot was taken")
    try:
        with open(batch_dir / entry.warc_file, "rb") as fh:
            fh.seek(entry.screenshot.offset)
            png = next(iter(ArchiveIterator(fh))).content_stream().read()
    except Exception as exc:  # warcio raises anything on damaged bytes
        raise ArchiveError(f"{entry.url}: screenshot at offset {entry.screenshot.offset} of "
                           f"{batch_dir / entry.warc_file} unreadable: {exc}") from exc
    if hashlib.sha256(png).hexdigest() != entry.screenshot.sha256:
        raise ArchiveError(f"{entry.url}: screenshot at offset {entry.screenshot.offset} is not the one archived "
                           f"(sha256 {entry.screenshot.sha256})")
    return png


def _path_of(url: str) -> str:
    parts = urlsplit(url)
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# --- reading ---------------------------------------------------------------------


def iter_batches(archive_dir: Path) -> Iterator[Path]:
    """Committed batch directories, oldest first (batch ids start with a UTC timestamp)."""
    if not archive_dir.is_dir():
        return
    dirs = [p.parent for p in archive_dir.glob(f"[0-9][0-9][0-9][0-9]/*/*/*/{MANIFEST_NAME}")]
    yield from sorted(dirs, key=lambda p: p.name)


def read_manifest(batch_dir: Path) -> list[ManifestRecord]:
    """Every record of a batch's manifest; a line that is not a valid record raises ``ManifestError``."""
    entries, errors = _parse_manifest(batch_dir)
    if errors:
        raise ManifestError(errors[0])
    return entries


def _parse_manifest(batch_dir: Path) -> tuple[list[ManifestRecord], list[str]]:
    """The valid records of a manifest, and one message per line that is not one (bad bytes, JSON or fields)."""
    path = batch_dir / MANIFEST_NAME
    entries: list[ManifestRecord] = []
    errors: list[str] = []
    with open(path, "rb") as fh:
        for number, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                entries.append(ManifestRecord.model_validate_json(line.decode("utf-8")))
            except UnicodeDecodeError as exc:
                errors.append(f"{path}:{number}: not a manifest record: not UTF-8 ({exc.reason})")
            except ValidationError as exc:
                errors.append(f"{path}:{number}: not a manifest record: {exc.errors()[0]['msg']}")
    return entries, errors


def count_records(batch_dir: Path) -> int:
    """How many records a batch's manifest lists, without parsing them (progress totals)."""
    with open(batch_dir / MANIFEST_NAME, "rb") as fh:
        return sum(1 for line in fh if line.strip())


# Why a record of a committed batch cannot be read back (quarantine reasons: nothing is dropped silently).
ARCHIVE_RECORD_MISSING = "archive_record_missing"  # listed in the manifest, absent or unreadable in the WARC
ARCHIVE_RECORD_CORRUPT = "archive_record_corrupt"  # read back, but its body is not the sha256 it was archived with
MANIFEST_RECORD_MISSING = "manifest_record_missing"  # a WARC response that no manifest line lists
MANIFEST_UNREADABLE = "manifest_unreadable"  # the batch's manifest has a line that is not a record


@dataclass(frozen=True)
class MissingRecord:
    """A record one file of a batch names and the other cannot give back intact, with the reason why."""

    manifest: ManifestRecord
    reason: str
    detail: str


@dataclass(frozen=True)
class _Response:
    offset: int
    body: bytes
    http_headers: list[tuple[str, str]]
    warc_headers: dict[str, str]
    rec_type: str = "response"


class _WarcScan:
    """The response records of a batch's WARC in order; damaged bytes end the scan (``error``) instead of raising."""

    def __init__(self, batch_dir: Path) -> None:
        self.path = batch_dir / WARC_NAME
        self.error: str | None = None

    def __iter__(self) -> Iterator[_Response]:
        try:
            with open(self.path, "rb") as fh:
                iterator = ArchiveIterator(fh)
                for record in iterator:
                    if record.rec_type in ("response", "revisit"):
                        body = record.content_stream().read()  # before asking the offset: that consumes the record
                        yield _response(iterator.get_record_offset(), record, body)
        # warcio raises whatever its parsers hit on damaged bytes (ArchiveLoadFailed, zlib.error, EOFError,
        # even AttributeError): any of them means the rest of this WARC cannot be read sequentially
        except Exception as exc:
            self.error = f"{self.path} unreadable from some point on: {type(exc).__name__}: {exc}"[:500]


def _response(offset: int, record: Any, body: bytes) -> _Response:
    headers = list(record.http_headers.headers) if record.http_headers else []
    return _Response(offset, body, headers, dict(record.rec_headers.headers), record.rec_type)


def _read_at(path: Path, offset: int) -> _Response:
    """The response record at ``offset``; raises on anything else (random access past a damaged stretch)."""
    with open(path, "rb") as fh:
        fh.seek(offset)
        record = next(iter(ArchiveIterator(fh)))
        if record.rec_type not in ("response", "revisit"):
            raise ValueError(f"a {record.rec_type} record, not a response")
        return _response(offset, record, record.content_stream().read())


def read_record(batch_dir: Path, entry: ManifestRecord) -> ArchivedRecord:
    """The body and HTTP headers of one manifest record, read at its WARC offset."""
    response = _read_at(batch_dir / entry.warc_file, entry.offset)
    return ArchivedRecord(manifest=entry, body=response.body, http_headers=response.http_headers, batch_dir=batch_dir)


def iter_records(batch_dir: Path, manifest: list[ManifestRecord] | None = None
                 ) -> Iterator[ArchivedRecord | MissingRecord]:
    """Every manifest entry exactly once — read back from the WARC, or a ``MissingRecord`` saying why not — and
    every WARC response no entry lists (``manifest_record_missing``); the WARC is read once, sequentially.

    Entries the sequential read did not reach because of damaged bytes are tried once more at their own offset,
    so a damaged stretch costs only the records in it. Pass ``manifest`` when the caller has read it already.
    """
    listed: dict[int, list[ManifestRecord]] = {}
    for entry in manifest if manifest is not None else read_manifest(batch_dir):
        listed.setdefault(entry.offset, []).append(entry)
    scan = _WarcScan(batch_dir)
    for response in scan:
        entries = listed.pop(response.offset, None)
        if entries is None:
            yield MissingRecord(_unlisted_entry(batch_dir.name, response), MANIFEST_RECORD_MISSING,
                                f"{scan.path} holds a response at offset {response.offset} that the manifest lacks")
        for entry in entries or []:
            yield _checked(entry, response, batch_dir)
    for entry in (e for entries in listed.values() for e in entries):
        yield _read_again(batch_dir, entry, scan)


def _read_again(batch_dir: Path, entry: ManifestRecord, scan: _WarcScan) -> ArchivedRecord | MissingRecord:
    if scan.error is None:  # the whole WARC was read: nothing starts at this offset
        return MissingRecord(entry, ARCHIVE_RECORD_MISSING, f"no response record at offset {entry.offset} "
                                                            f"of {scan.path} ({_size(scan.path)} bytes)")
    try:
        return _checked(entry, _read_at(scan.path, entry.offset), batch_dir)
    except Exception as exc:  # as in _WarcScan: warcio raises anything on damaged bytes
        return MissingRecord(entry, ARCHIVE_RECORD_MISSING,
                             f"offset {entry.offset}: {type(exc).__name__}: {exc}; {scan.error}"[:1000])


def _size(path: Path) -> int | str:
    try:
        return path.stat().st_size
    except OSError as exc:
        return f"unreadable: {exc.strerror}"


def _checked(entry: ManifestRecord, response: _Response, batch_dir: Path) -> ArchivedRecord | MissingRecord:
    """The record, unless its body is not what was archived (a truncated or altered WARC reads short or wrong,
    an altered manifest line names a different digest: either file's damage makes the record untrustworthy)."""
    if response.rec_type == "revisit":  # no body by design: the record says which payload it repeats
        expected = response.warc_headers.get("WARC-Payload-Digest-SHA256")
        if entry.warc_type != "revisit" or (entry.sha256 and expected != entry.sha256):
            return MissingRecord(entry, ARCHIVE_RECORD_CORRUPT, f"offset {entry.offset} is a revisit record of "
                                                                f"{expected}; the manifest says {entry.sha256}")
        return ArchivedRecord(manifest=entry, body=b"", http_headers=response.http_headers, batch_dir=batch_dir)
    actual = hashlib.sha256(response.body).hexdigest()
    for expected in (response.warc_headers.get("WARC-Payload-Digest-SHA256"), entry.sha256):
        if expected and actual != expected:
            return MissingRecord(entry, ARCHIVE_RECORD_CORRUPT, f"body at offset {entry.offset} has sha256 "
                                                                f"{actual}, archived as {expected}")
    return ArchivedRecord(manifest=entry, body=response.body, http_headers=response.http_headers, batch_dir=batch_dir)


def _unlisted_entry(batch_id: str, response: _Response) -> ManifestRecord:
    """A manifest record rebuilt from a WARC response's own headers, for a record whose manifest line is lost."""
    url = response.warc_headers.get("WARC-Target-URI", "")
    try:
        fetched_at = datetime.strptime(response.warc_headers.get("WARC-Date", ""), "%Y-%m-%dT%H:%M:%SZ")
    except ValueError:
        fetched_at = None
    return ManifestRecord(batch=batch_id, url=url, canonical_url=url, source=batch_source(batch_id),
                          fetched_at=fetched_at.replace(tzinfo=UTC) if fetched_at else None,
                          sha256=response.warc_headers.get("WARC-Payload-Digest-SHA256"), offset=response.offset)


def batch_source(batch_id: str) -> str:
    """The source id inside a batch id (``YYYYmmddTHHMMSSZ-<source>-<8 hex>``, see ``new_batch_id``)."""
    return batch_id[17:-9] if len(batch_id) > 26 else batch_id


def salvage_manifest(batch_dir: Path) -> tuple[list[ManifestRecord], list[str]]:
    """What a batch with a damaged manifest still tells: its valid lines plus one record rebuilt from every WARC
    response none of them lists, and the manifest's errors. Quarantining these loses no record of the batch."""
    entries, errors = _parse_manifest(batch_dir)
    offsets = {e.offset for e in entries}
    scan = _WarcScan(batch_dir)
    entries += [_unlisted_entry(batch_dir.name, r) for r in scan if r.offset not in offsets]
    return entries, errors + ([scan.error] if scan.error else [])


def is_gzip(data: bytes) -> bool:
    """Whether ``data`` starts with the gzip magic (saved pages, sitemaps, archive members)."""
    return data[:2] == b"\x1f\x8b"
