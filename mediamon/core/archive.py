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
("article" or "telegram_post").

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


class ArchiveError(OperationFailed):
    """The archive cannot be written (disk full, permissions); what is already committed stays intact."""


class ManifestError(OperationFailed):
    """A manifest line is not a valid record; names the file and the line."""


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
            extra: dict[str, Any] | None = None) -> ManifestRecord:
        """Append a request/response pair and its manifest line; returns the manifest entry."""
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
            entry = ManifestRecord(
                batch=self.batch_id, url=url, canonical_url=canonical_url, source=self.source, fetched_at=fetched_at,
                status=status, content_type=content_type, sha256=sha256, warc_file=WARC_NAME, offset=offset,
                fetched_url=fetched_url, kind=kind, feed=feed or {}, **(extra or {}))
            self._manifest_fh.write(json.dumps(entry.as_json(), ensure_ascii=False) + "\n")
        except OSError as exc:
            raise ArchiveError(f"cannot write to archive {self.work_dir}: {exc}") from exc
        self.count += 1
        return entry

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
    path = batch_dir / MANIFEST_NAME
    records = []
    with open(path, encoding="utf-8") as fh:
        for number, line in enumerate(fh, 1):
            if line.strip():
                try:
                    records.append(ManifestRecord.model_validate_json(line))
                except ValidationError as exc:
                    raise ManifestError(f"{path}:{number}: not a manifest record: "
                                        f"{exc.errors()[0]['msg']}") from None
    return records


def read_record(batch_dir: Path, entry: ManifestRecord) -> ArchivedRecord:
    """The body and HTTP headers of one manifest record, read at its WARC offset."""
    with open(batch_dir / entry.warc_file, "rb") as fh:
        fh.seek(entry.offset)
        record = next(iter(ArchiveIterator(fh)))
        body = record.content_stream().read()
        headers = list(record.http_headers.headers) if record.http_headers else []
    return ArchivedRecord(manifest=entry, body=body, http_headers=headers, batch_dir=batch_dir)


def count_records(batch_dir: Path) -> int:
    """How many records a batch's manifest lists, without parsing them (progress totals)."""
    with open(batch_dir / MANIFEST_NAME, "rb") as fh:
        return sum(1 for line in fh if line.strip())


def iter_records(batch_dir: Path, manifest: list[ManifestRecord] | None = None) -> Iterator[ArchivedRecord]:
    """Every record of a batch in WARC order, reading the WARC once, sequentially.

    Pass ``manifest`` when the caller has read it already: a batch's manifest is read once.
    """
    entries = {e.offset: e for e in (manifest if manifest is not None else read_manifest(batch_dir))}
    with open(batch_dir / WARC_NAME, "rb") as fh:
        iterator = ArchiveIterator(fh)
        for record in iterator:
            if record.rec_type != "response":
                continue
            body = record.content_stream().read()  # before asking the offset: that consumes the record
            entry = entries.get(iterator.get_record_offset())
            if entry is None:
                continue
            headers = list(record.http_headers.headers) if record.http_headers else []
            yield ArchivedRecord(manifest=entry, body=body, http_headers=headers, batch_dir=batch_dir)


def is_gzip(data: bytes) -> bool:
    """Whether ``data`` starts with the gzip magic (saved pages, sitemaps, archive members)."""
    return data[:2] == b"\x1f\x8b"
