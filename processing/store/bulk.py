"""Bulk indexing: documents in, acknowledged counts out, nothing lost.

- ``_id`` is sha256(canonical URL), so re-indexing is idempotent.
- A document whose meaningful content did not change is not re-sent: its
  version stays, and it is counted ``unchanged``. Updates go to the backing
  index that already holds the document, even after the write alias rolled over.
- Whole-request failures (connection errors, 429, 5xx) are retried with
  exponential backoff; per-document rejections go to a dead-letter file with the
  reason. When Elasticsearch stays down, every document not acknowledged is
  dead-lettered too, and ``IndexingUnavailable`` is raised: the caller must not
  mark its batch done, and ``mediamon deadletter replay`` can resend them.

sent = created + updated + unchanged + failed, always.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from itertools import islice
from pathlib import Path
from typing import Any

from elasticsearch import ApiError, Elasticsearch, TransportError, helpers

from mediamon.core.document import Document, doc_id, fingerprint
from mediamon.core.errors import OperationFailed

log = logging.getLogger(__name__)

RETRYABLE_STATUS = {429, 500, 502, 503, 504}


class IndexingUnavailable(OperationFailed):
    """Elasticsearch could not be reached after bounded retries; nothing was lost."""


@dataclass
class IndexCounts:
    sent: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    failed: int = 0
    failures: dict[str, int] = field(default_factory=dict)

    def add(self, other: IndexCounts) -> None:
        for name in ("sent", "created", "updated", "unchanged", "failed"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for reason, n in other.failures.items():
            self.failures[reason] = self.failures.get(reason, 0) + n

    def adds_up(self) -> bool:
        return self.sent == self.created + self.updated + self.unchanged + self.failed

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class IndexerConfig:
    chunk_size: int = 500
    max_retries: int = 5
    initial_backoff: float = 1.0
    max_backoff: float = 30.0
    stamp_indexed_at: bool = True


class DeadLetter:
    """Append-only JSONL of documents Elasticsearch did not take, with the reason."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def files(self) -> list[Path]:
        return sorted(self.directory.glob("index-*.jsonl")) if self.directory.is_dir() else []

    def path_for_today(self) -> Path:
        return self.directory / f"index-{datetime.now(UTC):%Y%m%d}.jsonl"

    def write(self, entries: list[dict[str, Any]]) -> None:
        if not entries:
            return
        self.directory.mkdir(parents=True, exist_ok=True)
        with open(self.path_for_today(), "a", encoding="utf-8") as fh:
            for entry in entries:
                fh.write(json.dumps(entry, ensure_ascii=False, default=str) + "\n")
            fh.flush()


def index_documents(
    es: Elasticsearch,
    alias: str,
    documents: Iterable[Document | dict[str, Any]],
    deadletter: DeadLetter,
    config: IndexerConfig | None = None,
    on_chunk: Callable[[IndexCounts], None] | None = None,
) -> IndexCounts:
    """Stream documents into ``alias``; returns counts that add up."""
    config = config or IndexerConfig()
    total = IndexCounts()
    iterator = iter(documents)
    while chunk := list(islice(iterator, config.chunk_size)):
        sources = [d.to_source() if isinstance(d, Document) else d for d in chunk]
        try:
            counts = _index_chunk(es, alias, sources, deadletter, config)
        except IndexingUnavailable:
            rest = [d.to_source() if isinstance(d, Document) else d for d in iterator]
            deadletter.write([_dead(s, "unavailable", "Elasticsearch unreachable; not sent") for s in rest])
            raise
        total.add(counts)
        if on_chunk:
            on_chunk(counts)
    return total


def _index_chunk(es: Elasticsearch, alias: str, sources: list[dict[str, Any]], deadletter: DeadLetter,
                 config: IndexerConfig) -> IndexCounts:
    counts = IndexCounts(sent=len(sources))
    attempt = 0
    while True:
        try:
            existing = _existing(es, alias, sources)
            actions, unchanged, invalid = _actions(alias, sources, existing, config)
            counts.unchanged = unchanged
            results = list(helpers.streaming_bulk(
                es, actions, chunk_size=len(actions) or 1, max_chunk_bytes=100 * 1024 * 1024,
                raise_on_error=False, raise_on_exception=False, max_retries=config.max_retries,
                initial_backoff=config.initial_backoff, max_backoff=config.max_backoff,
            )) if actions else []
            break
        except (TransportError, ApiError) as exc:
            status = getattr(exc, "status_code", None) or getattr(getattr(exc, "meta", None), "status", None)
            if isinstance(exc, ApiError) and status not in RETRYABLE_STATUS:
                raise
            attempt += 1
            if attempt > config.max_retries:
                deadletter.write([_dead(s, "unavailable", f"{type(exc).__name__}: {exc}") for s in sources])
                raise IndexingUnavailable(
                    f"Elasticsearch did not accept a bulk request after {config.max_retries} retries "
                    f"({type(exc).__name__}); {len(sources)} documents dead-lettered for replay"
                ) from exc
            delay = min(config.max_backoff, config.initial_backoff * 2 ** (attempt - 1))
            log.warning("bulk request failed (%s); retry %d/%d in %.1fs", type(exc).__name__, attempt,
                        config.max_retries, delay)
            time.sleep(delay)
    by_id = {doc_id(s["canonical_url"]): s for s in sources if s.get("canonical_url")}
    dead = [_dead(s, "invalid", "invalid: document has no canonical_url") for s in invalid]
    counts.failed += len(invalid)
    if invalid:
        counts.failures["invalid"] = len(invalid)
    for ok, item in results:
        _op, info = next(iter(item.items()))
        if ok:
            if info.get("result") == "created":
                counts.created += 1
            else:
                counts.updated += 1
            continue
        reason = _reason(info)
        counts.failed += 1
        counts.failures[reason.split(":")[0]] = counts.failures.get(reason.split(":")[0], 0) + 1
        dead.append(_dead(by_id.get(info.get("_id"), {"_id": info.get("_id")}), reason.split(":")[0], reason))
    deadletter.write(dead)
    return counts


Existing = dict[str, tuple[str, str | None, list[str]]]


def _existing(es: Elasticsearch, alias: str, sources: list[dict[str, Any]]) -> Existing:
    """id -> (backing index, stored fingerprint, stored provenance) for documents already indexed."""
    ids = [doc_id(s["canonical_url"]) for s in sources if isinstance(s.get("canonical_url"), str)]
    if not ids or not es.indices.exists_alias(name=alias):
        return {}
    resp = es.search(index=alias, query={"ids": {"values": ids}}, size=len(ids),
                     source_includes=["fingerprint", "provenance"])
    return {hit["_id"]: (hit["_index"], (hit.get("_source") or {}).get("fingerprint"),
                         list((hit.get("_source") or {}).get("provenance") or [])) for hit in resp["hits"]["hits"]}


def _actions(alias: str, sources: list[dict[str, Any]], existing: Existing,
             config: IndexerConfig) -> tuple[list[dict[str, Any]], int, list[dict[str, Any]]]:
    now = datetime.now(UTC).isoformat()
    actions, unchanged, invalid = [], 0, []
    for source in sources:
        if not isinstance(source.get("canonical_url"), str) or not source["canonical_url"]:
            invalid.append(source)
            continue
        _id = doc_id(source["canonical_url"])
        print_ = fingerprint(source)
        index, stored, held = existing.get(_id, (alias, None, []))
        # where the document's bytes came from accumulates: found live and in an archive, it is one document
        # that says both (provenance is not part of the fingerprint: the same text from elsewhere is no change)
        provenance = held + [p for p in source.get("provenance") or [] if p not in held]
        if stored == print_ and provenance == held:
            unchanged += 1
            continue
        body = {**source, "provenance": provenance, "fingerprint": print_}
        if config.stamp_indexed_at:
            body["indexed_at"] = now
        actions.append({"_op_type": "index", "_index": index, "_id": _id, "_source": body})
    return actions, unchanged, invalid


def _reason(info: dict[str, Any]) -> str:
    error = info.get("error")
    if isinstance(error, dict):
        return f"{error.get('type', 'error')}: {error.get('reason', '')}"[:2000]
    return f"status_{info.get('status')}: {error}"[:2000]


def _dead(source: dict[str, Any], kind: str, reason: str) -> dict[str, Any]:
    return {"failed_at": datetime.now(UTC).isoformat(), "kind": kind, "reason": reason,
            "_id": doc_id(source["canonical_url"]) if source.get("canonical_url") else source.get("_id"),
            "document": source}


def read_deadletter(paths: Iterable[Path]) -> Iterator[dict[str, Any]]:
    """Entries of the given dead-letter files (``DeadLetter.files()`` for the current ones)."""
    for path in paths:
        with open(path, encoding="utf-8") as fh:
            for line in fh:
                if line.strip():
                    yield json.loads(line)
