"""An article's versions as `mediamon history` shows them: the document, then every version with its diff."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from elasticsearch import Elasticsearch

from mediamon.core.settings import Settings
from processing.changes.config import ChangeRules
from processing.changes.diff import VersionText, diff_versions
from processing.changes.versions import versions_index

MAX_VERSIONS = 1000
DOCUMENT_FIELDS = ["url", "source", "title", "lead", "text", "fetched_at", "published_at", "versions",
                   "last_changed_at", "raw_ref"]


@dataclass
class History:
    doc_id: str
    document: dict[str, Any] | None
    versions: list[dict[str, Any]] = field(default_factory=list)

    def diffs(self, rules: ChangeRules) -> list[list[str]]:
        """Per version, its whole diff against the version it changed from (deletions: their evidence line)."""
        out: list[list[str]] = []
        good: dict[str, Any] | None = None
        for version in self.versions:
            if version.get("deleted") or good is None:
                out.append(list(version.get("diff") or []))
            else:
                out.append(diff_versions(_text(good), _text(version), rules).lines)
            if not version.get("deleted"):
                good = version
        return out


def _text(version: dict[str, Any]) -> VersionText:
    return VersionText(version.get("title"), version.get("lead"), version.get("text") or "")


def find_history(es: Elasticsearch, settings: Settings, candidate_ids: list[str]) -> History | None:
    """The history of the first of ``candidate_ids`` (an id, or the ids a URL may have) that is known."""
    for doc_id in candidate_ids:
        document = _document(es, settings, doc_id)
        versions = _versions(es, settings, doc_id)
        if document is not None or versions:
            return History(doc_id, document, versions)
    return None


def recent_changes(es: Elasticsearch, settings: Settings, since: datetime, until: datetime,
                   size: int = 50) -> list[dict[str, Any]]:
    """Versions after the first fetched in [since, until], newest first: the digest's "changed or removed"."""
    index = versions_index(settings)
    if not es.indices.exists(index=index):
        return []
    hits = es.search(index=index, size=size, sort=[{"fetched_at": "desc"}], source_excludes=["text"], query={
        "bool": {"filter": [{"range": {"version": {"gt": 1}}},
                            {"range": {"fetched_at": {"gte": since.isoformat(), "lte": until.isoformat()}}}]}})
    return [hit["_source"] for hit in hits["hits"]["hits"]]


def _document(es: Elasticsearch, settings: Settings, doc_id: str) -> dict[str, Any] | None:
    if not es.indices.exists_alias(name=settings.docs_alias):
        return None
    hits = es.search(index=settings.docs_alias, query={"ids": {"values": [doc_id]}}, size=1,
                     source_includes=DOCUMENT_FIELDS)["hits"]["hits"]
    return hits[0]["_source"] if hits else None


def _versions(es: Elasticsearch, settings: Settings, doc_id: str) -> list[dict[str, Any]]:
    index = versions_index(settings)
    if not es.indices.exists(index=index):
        return []
    hits = es.search(index=index, query={"term": {"doc_id": doc_id}}, size=MAX_VERSIONS,
                     sort=[{"version": "asc"}])["hits"]["hits"]
    return [{**hit["_source"], "id": hit["_id"]} for hit in hits]
