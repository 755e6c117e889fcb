"""The one document model every stage reads and writes (DESIGN.md, "Document fields").

Field names are a contract with Kibana, the alert rules and the tests: add fields
when useful, rename none without a migration. The Elasticsearch mapping in
``processing.store.indexsetup`` is derived from the same field list, so the two cannot
drift apart silently (a test checks it).
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


def doc_id(canonical_url: str) -> str:
    """Elasticsearch ``_id``: sha256 of the canonical URL, so every re-run is idempotent."""
    return hashlib.sha256(canonical_url.encode("utf-8")).hexdigest()


class RawRef(BaseModel):
    """Where the page this document came from sits in the raw archive."""

    model_config = ConfigDict(extra="forbid")

    batch: str
    warc_file: str
    offset: int
    sha256: str | None = None


class Document(BaseModel):
    """A processed article, as indexed."""

    model_config = ConfigDict(extra="forbid")

    url: str
    canonical_url: str
    domain: str
    source: str
    source_owner: str | None = None
    source_kind: str | None = None
    title: str | None = None
    lead: str | None = None
    text: str = ""
    authors: list[str] = Field(default_factory=list)
    lang: str = "und"
    lang_confidence: float | None = None
    published_at: datetime | None = None
    published_precision: str | None = None  # "minute" or "day": how exactly the page gave its time
    published_source: str | None = None  # where the time came from (jsonld, meta, footer, feed, ...)
    fetched_at: datetime | None = None
    indexed_at: datetime | None = None
    content_hash: str | None = None
    dup_group: str | None = None
    is_duplicate: bool = False
    translation_group: str | None = None
    speakers: list[str] = Field(default_factory=list)  # quoted or speaking (processing.enrich)
    mentions: list[str] = Field(default_factory=list)  # every gazetteer person named, speaking or not
    narratives: list[str] = Field(default_factory=list)
    alarmism: float = 0.0
    alarmism_terms: list[str] = Field(default_factory=list)
    raw_ref: RawRef | None = None
    # Additions beyond the DESIGN.md list: lemmas carry Russian morphology on every
    # cluster; minhash_bands are the LSH keys near-duplicate lookup queries.
    lemmas: str | None = None
    minhash_bands: list[str] = Field(default_factory=list)
    minhash: str | None = None  # shingle count + MinHash signature: verifies LSH candidates (processing.dedup)
    # Telegram posts: the permalink of the post replied to, the channel a forward came from, views shown
    reply_to: str | None = None
    forwarded_from: str | None = None
    views: int | None = None
    tags: list[str] = Field(default_factory=list)
    fingerprint: str | None = None  # set by the indexer: hash of the meaningful content
    # Where the archived bytes came from: live, wayback, commoncrawl, import (every path that saw it)
    provenance: list[str] = Field(default_factory=list)
    story_id: str | None = None  # the story (same statement or event across outlets) this report belongs to
    versions: int | None = None  # how many distinct versions of the page were seen (revisits)
    last_changed_at: datetime | None = None  # when a revisit last found a substantive change
    # The page is gone (a revisit found it deleted, processing.changes): when, and how (http_404, soft_404,
    # redirect_to_section, vanished_from_feed, ...; the evidence is in the versions index). Absent once a
    # later revisit finds it back: the document is indexed again from that version.
    deleted_at: datetime | None = None
    deletion_how: str | None = None

    @property
    def id(self) -> str:
        return doc_id(self.canonical_url)

    def to_source(self) -> dict[str, Any]:
        """The JSON body sent to Elasticsearch."""
        return self.model_dump(mode="json", exclude_none=True)


# Fields that say when or from which copy a document was made, not what it says:
# a re-fetch that changes only these is not a change of the document.
VOLATILE_FIELDS = frozenset({"fetched_at", "indexed_at", "raw_ref", "fingerprint", "provenance"})


def fingerprint(source: dict[str, Any]) -> str:
    """Hash of a document's meaningful content, used to skip unchanged re-indexing."""
    stable = {k: v for k, v in source.items() if k not in VOLATILE_FIELDS}
    blob = json.dumps(stable, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()
