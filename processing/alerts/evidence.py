"""What every rule type shares: the evaluation window, the rule's query, candidate alerts.

A candidate is what a rule type found (key, why, which documents); ``state``
decides whether it becomes a fired alert. Candidate ids are deterministic — the
same evidence gives the same id — so re-reading documents (the lag margin, a
restart, two schedulers) can never fire the same alert twice.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from elasticsearch import Elasticsearch

from processing.clock import DATA_TIME_FIELD

# What an analyst needs to judge a document without opening Kibana.
SUMMARY_FIELDS = ["title", "source", "source_owner", "lang", "published_at", "indexed_at", "url", "dup_group",
                  "is_duplicate", "alarmism", "alarmism_terms", "narratives", "speakers", "mentions"]
HIGHLIGHT_FIELDS = ("title", "lead", "text")
HIGHLIGHT_TAG = "*"  # Slack/Mattermost emphasis; kept as-is in e-mail and files


@dataclass(frozen=True)
class Window:
    """New documents are those with ``start < new_by <= end``; ``end`` is the evaluation time.

    ``as_of`` is the data's clock when it is not the wall clock (processing.clock):
    ranges on publication times end there, ranges on pipeline times at ``end``.
    A dry run stepping through the past sets ``new_by`` to the rule's time field,
    since every past document was indexed at once.
    """

    start: datetime
    end: datetime
    as_of: datetime | None = None
    new_by: str = "indexed_at"

    def on_data_clock(self, time_field: str) -> bool:
        return self.as_of is not None and time_field == DATA_TIME_FIELD

    def at(self, time_field: str) -> datetime:
        """Where a range on ``time_field`` ends: the data's clock for publication times, else ``end``."""
        return self.as_of if self.as_of is not None and self.on_data_clock(time_field) else self.end

    def new_docs(self) -> dict[str, Any]:
        return {"range": {self.new_by: {"gt": self.start.isoformat(), "lte": self.end.isoformat()}}}


@dataclass
class Candidate:
    alert_id: str
    key: str
    summary: str
    reason: dict[str, Any]
    documents: list[dict[str, Any]] = field(default_factory=list)
    discover_query: str = "*"
    # match groups: later near-duplicates join the fired alert ("now in 4 outlets")
    mergeable: bool = False
    # every document and outlet behind the alert, also those beyond max_documents
    doc_ids: list[str] = field(default_factory=list)
    outlets: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.doc_ids = self.doc_ids or [d["id"] for d in self.documents]
        self.outlets = self.outlets or sorted({d.get("source", "?") for d in self.documents})


def alert_id(rule_id: str, *parts: object) -> str:
    digest = hashlib.sha256("\x1f".join(str(p) for p in parts).encode("utf-8")).hexdigest()[:24]
    return f"{rule_id}:{digest}"


def rule_query(rule: Any) -> dict[str, Any]:
    """The rule's Lucene query as Elasticsearch DSL (``*`` matches everything)."""
    text = (rule.query or "*").strip()
    if text == "*":
        return {"match_all": {}}
    return {"query_string": {"query": text, "default_operator": "AND", "analyze_wildcard": True}}


def time_range(field_name: str, since: datetime, until: datetime) -> dict[str, Any]:
    return {"range": {field_name: {"gte": since.isoformat(), "lte": until.isoformat()}}}


def counted(rule: Any, filters: list[dict[str, Any]]) -> dict[str, Any]:
    """Bool query: the rule's query, the given filters, and duplicates left out unless asked for."""
    must_not = [] if getattr(rule, "count_duplicates", True) else [{"term": {"is_duplicate": True}}]
    return {"bool": {"must": [rule_query(rule)], "filter": filters, "must_not": must_not}}


def summarize(hit: dict[str, Any]) -> dict[str, Any]:
    """A document as an alert shows it: the summary fields, ``_id`` and highlighted spans."""
    source = hit.get("_source") or {}
    doc = {name: source[name] for name in SUMMARY_FIELDS if name in source}
    doc["id"] = hit["_id"]
    spans = [frag for name in HIGHLIGHT_FIELDS for frag in (hit.get("highlight") or {}).get(name, [])]
    if spans:
        doc["highlights"] = spans[:3]
    return doc


def fetch_documents(es: Elasticsearch, alias: str, rule: Any, query: dict[str, Any], size: int,
                    sort: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    """The documents an alert shows, with the rule's query terms highlighted."""
    resp = es.search(index=alias, query=query, size=size, source_includes=SUMMARY_FIELDS,
                     sort=sort or [{"published_at": {"order": "desc", "missing": "_last"}}],
                     highlight=highlight_spec(rule))
    return [summarize(hit) for hit in resp["hits"]["hits"]]


def highlight_spec(rule: Any) -> dict[str, Any]:
    return {"fields": {name: {"fragment_size": 160, "number_of_fragments": 2} for name in HIGHLIGHT_FIELDS},
            "pre_tags": [HIGHLIGHT_TAG], "post_tags": [HIGHLIGHT_TAG], "require_field_match": False,
            "highlight_query": rule_query(rule)}


def lucene_term(field_name: str, value: str) -> str:
    """``field:"value"`` with the value escaped, for Discover links."""
    escaped = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'{field_name}:"{escaped}"'


def and_query(rule: Any, *clauses: str) -> str:
    parts = [f"({rule.query})"] if rule.query.strip() not in {"", "*"} else []
    return " AND ".join(parts + list(clauses)) or "*"


def fmt_duration(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds // size}{unit}"
    if seconds >= 3600:
        return f"{seconds / 3600:.1f}h"
    return f"{seconds}s"


def fmt_time(value: str | None) -> str:
    """An ISO time as ``YYYY-MM-DD HH:MM`` UTC: sources publish in +03:00, analysts compare across them."""
    if not value:
        return "?"
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return value
    return (parsed.astimezone(UTC) if parsed.tzinfo else parsed).strftime("%Y-%m-%d %H:%M")
