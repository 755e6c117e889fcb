"""Pipeline health: is every source still publishing, and is everything archived accounted for?

Two checks the health DAG runs (and an operator can run by hand), each
returning one row per source and raising ``HealthGap`` when something is wrong,
so a scheduler shows a failed task instead of a quiet dashboard:

- freshness: time since the last *new* document of a source (first fetched,
  ``fetched_at``) against that source's usual gap between new documents over a
  look-back window, from Elasticsearch aggregations on the docs alias. A source
  that went silent for several usual gaps (and longer than a floor that absorbs
  the crawl schedule) is stale; a configured source with nothing in the window
  is stale too. With ``MEDIAMON_AS_OF=newest-document`` (replayed or sample
  data, processing.clock) the same verdict is taken on publication times as of
  the newest document: sample articles fetched once, long ago, are no silence;
  a source with nothing in the window before that time is outside the replay
  and reported as not judged.
- archive vs index: every record of a committed batch (older than a grace
  period, so normal processing lag is not a gap) must be a document, or be
  quarantined with a reason. Matching is by document id (sha256 of the
  canonical URL) and, for pages whose canonical URL processing corrected, by
  body hash (``raw_ref.sha256``).

The verdicts are pure functions of the gathered numbers, testable without a
cluster. This module reads; it never repairs (``mediamon reprocess`` does).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from elasticsearch import Elasticsearch

from mediamon.core.archive import ManifestError, iter_batches, read_manifest, salvage_manifest
from mediamon.core.document import doc_id
from mediamon.core.errors import OperationFailed
from mediamon.core.esclient import make_client
from mediamon.core.settings import Settings
from processing.clock import DATA_TIME_FIELD, data_time
from processing.quarantine import iter_quarantined

DEFAULT_WINDOW = timedelta(days=14)
DEFAULT_MIN_SILENCE = timedelta(hours=6)
DEFAULT_GRACE = timedelta(hours=1)
_MGET_CHUNK = 1000


class HealthGap(OperationFailed):
    """A health check found a gap; the message names every source affected and why."""


# --- freshness ---------------------------------------------------------------------


@dataclass(frozen=True)
class SourceActivity:
    """New documents of one source in the look-back window, and the newest one's first fetch."""

    count_in_window: int
    first_in_window: datetime | None
    last_new: datetime | None


@dataclass(frozen=True)
class Freshness:
    source: str
    count_in_window: int
    last_new: str | None
    usual_gap_s: float | None
    silent_for_s: float | None
    allowed_silence_s: float
    stale: bool
    reason: str


def source_activity(es: Elasticsearch, alias: str, now: datetime, window: timedelta = DEFAULT_WINDOW,
                    time_field: str = "fetched_at") -> dict[str, SourceActivity]:
    """Per source: documents first fetched (or published) in the window, the earliest of them, the newest overall."""
    since = (now - window).isoformat()
    body = es.search(index=alias, size=0, query={"range": {time_field: {"lte": now.isoformat()}}}, aggs={"sources": {
        "terms": {"field": "source", "size": 10_000},
        "aggs": {
            "last_new": {"max": {"field": time_field}},
            "window": {"filter": {"range": {time_field: {"gte": since, "lte": now.isoformat()}}},
                       "aggs": {"first": {"min": {"field": time_field}}}},
        },
    }}).body
    activity = {}
    for bucket in body["aggregations"]["sources"]["buckets"]:
        activity[bucket["key"]] = SourceActivity(
            count_in_window=bucket["window"]["doc_count"],
            first_in_window=_from_millis(bucket["window"]["first"]["value"]),
            last_new=_from_millis(bucket["last_new"]["value"]),
        )
    return activity


def _from_millis(value: float | None) -> datetime | None:
    return None if value is None else datetime.fromtimestamp(value / 1000, tz=UTC)


def assess_freshness(source_ids: Iterable[str], activity: dict[str, SourceActivity], now: datetime,
                     window: timedelta = DEFAULT_WINDOW, stale_factor: float = 3.0,
                     min_silence: timedelta = DEFAULT_MIN_SILENCE) -> list[Freshness]:
    """The verdict per source: stale when silent longer than ``stale_factor`` usual gaps (at least ``min_silence``).

    The usual gap is the observed span of the window (from its start, or from the
    source's first document when it is newer than the window) divided by the
    number of new documents in it.
    """
    rows = []
    for source in source_ids:
        seen = activity.get(source)
        if seen is None or seen.count_in_window == 0 or seen.last_new is None:
            last = seen.last_new.isoformat() if seen and seen.last_new else None
            rows.append(Freshness(source, 0, last, None, None, min_silence.total_seconds(), True,
                                  f"no new document in the last {_human(window)}"))
            continue
        start = max(now - window, seen.first_in_window or now - window)
        usual_gap = max((now - start).total_seconds(), 0.0) / seen.count_in_window
        allowed = max(stale_factor * usual_gap, min_silence.total_seconds())
        silent = max((now - seen.last_new).total_seconds(), 0.0)
        stale = silent > allowed
        reason = (f"silent for {_human(timedelta(seconds=silent))}, usually a new document every "
                  f"{_human(timedelta(seconds=usual_gap))} (allowed {_human(timedelta(seconds=allowed))})")
        rows.append(Freshness(source, seen.count_in_window, seen.last_new.isoformat(), round(usual_gap, 1),
                              round(silent, 1), allowed, stale, reason if stale else "fresh"))
    return rows


def _human(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds / size:.1f}{unit}"
    return f"{seconds}s"


def check_freshness(settings: Settings, source_ids: list[str], es: Elasticsearch | None = None,
                    now: datetime | None = None, window: timedelta = DEFAULT_WINDOW, stale_factor: float = 3.0,
                    min_silence: timedelta = DEFAULT_MIN_SILENCE) -> list[dict[str, Any]]:
    """Freshness rows for ``source_ids``; raises ``HealthGap`` naming every stale source.

    On the data's clock (``MEDIAMON_AS_OF=newest-document``) publication times
    are judged as of the newest document, and the message says so.
    """
    es = es or _client(settings)
    now = now or datetime.now(UTC)
    as_of = data_time(es, settings, now)
    field = DATA_TIME_FIELD if as_of else "fetched_at"
    at = as_of or now
    activity = source_activity(es, settings.docs_alias, at, window, field)
    judged = [s for s in source_ids if not as_of or (s in activity and activity[s].count_in_window)]
    rows = assess_freshness(judged, activity, at, window, stale_factor, min_silence)
    if as_of:  # replayed data: a source with nothing in the window before the data's clock is outside the replay
        rows += [Freshness(s, 0, None, None, None, min_silence.total_seconds(), False,
                           f"not judged: no document in the {_human(window)} before the newest one (MEDIAMON_AS_OF)")
                 for s in source_ids if s not in judged]
    stale = [row for row in rows if row.stale]
    if stale:
        clock = f" (as of the newest document, {as_of:%Y-%m-%d %H:%M} UTC: MEDIAMON_AS_OF)" if as_of else ""
        raise HealthGap(f"stale sources{clock}: " + "; ".join(f"{row.source}: {row.reason}" for row in stale))
    return [asdict(row) for row in rows]


# --- archive vs index ---------------------------------------------------------------


@dataclass(frozen=True)
class ArchivedItem:
    source: str
    doc_id: str
    sha256: str | None
    url: str


@dataclass(frozen=True)
class Accounting:
    source: str
    archived: int
    indexed: int
    quarantined: int
    missing: int
    examples: list[str]


def archived_items(archive_dir: Path, older_than: datetime) -> list[ArchivedItem]:
    """Every record of the batches committed before ``older_than`` (batch ids start with their UTC time)."""
    items = []
    for batch_dir in iter_batches(archive_dir):
        if _batch_time(batch_dir.name) >= older_than:
            continue
        try:
            entries = read_manifest(batch_dir)
        except ManifestError:  # the runner quarantines such a batch whole: these are the records it names
            entries, _errors = salvage_manifest(batch_dir)
        for entry in entries:
            items.append(ArchivedItem(entry.source, doc_id(entry.canonical_url or entry.url), entry.sha256, entry.url))
    return items


def _batch_time(batch_id: str) -> datetime:
    return datetime.strptime(batch_id[:16], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)


def quarantined_urls(data_dir: Path) -> set[str]:
    """URLs of every quarantined record (processing.quarantine keeps one JSONL file per batch)."""
    return {entry["url"] for entry in iter_quarantined(data_dir) if entry.get("url")}


def indexed_matches(es: Elasticsearch, alias: str, items: list[ArchivedItem]) -> set[ArchivedItem]:
    """The items that are documents: by ``_id``, else by the archived body's hash in ``raw_ref.sha256``."""
    ids = sorted({item.doc_id for item in items})
    found_ids: set[str] = set()
    for start in range(0, len(ids), _MGET_CHUNK):
        response = es.mget(index=alias, ids=ids[start:start + _MGET_CHUNK], source=False).body
        found_ids.update(doc["_id"] for doc in response["docs"] if doc.get("found"))
    remaining = sorted({item.sha256 for item in items if item.doc_id not in found_ids and item.sha256})
    found_hashes: set[str] = set()
    for start in range(0, len(remaining), _MGET_CHUNK):
        chunk = remaining[start:start + _MGET_CHUNK]
        response = es.search(index=alias, size=0, query={"terms": {"raw_ref.sha256": chunk}},
                             aggs={"hashes": {"terms": {"field": "raw_ref.sha256", "size": len(chunk)}}}).body
        found_hashes.update(b["key"] for b in response["aggregations"]["hashes"]["buckets"])
    return {item for item in items if item.doc_id in found_ids or item.sha256 in found_hashes}


def account(items: list[ArchivedItem], indexed: set[ArchivedItem], quarantined: set[str]) -> list[Accounting]:
    """Per source: archived = indexed + quarantined + missing (indexed wins over quarantined)."""
    counts: dict[str, Counter] = defaultdict(Counter)
    examples: dict[str, list[str]] = defaultdict(list)
    for item in items:
        tally = counts[item.source]
        tally["archived"] += 1
        if item in indexed:
            tally["indexed"] += 1
        elif item.url in quarantined:
            tally["quarantined"] += 1
        else:
            tally["missing"] += 1
            if len(examples[item.source]) < 3:
                examples[item.source].append(item.url)
    return [Accounting(source, c["archived"], c["indexed"], c["quarantined"], c["missing"], examples[source])
            for source, c in sorted(counts.items())]


def check_archive_vs_index(settings: Settings, es: Elasticsearch | None = None, only: list[str] | None = None,
                           now: datetime | None = None, grace: timedelta = DEFAULT_GRACE) -> list[dict[str, Any]]:
    """Accounting rows per source; raises ``HealthGap`` when archived records are neither indexed nor quarantined."""
    es = es or _client(settings)
    now = now or datetime.now(UTC)
    items = [i for i in archived_items(settings.data_dir / "archive", now - grace) if not only or i.source in only]
    rows = account(items, indexed_matches(es, settings.docs_alias, items),
                   quarantined_urls(settings.data_dir))
    gaps = [row for row in rows if row.missing]
    if gaps:
        raise HealthGap("archived but neither indexed nor quarantined: " + "; ".join(
            f"{row.source}: {row.missing} of {row.archived} (e.g. {', '.join(row.examples)})" for row in gaps)
            + " — run `mediamon process` or `mediamon reprocess`")
    return [asdict(row) for row in rows]


def _client(settings: Settings) -> Elasticsearch:
    return make_client(settings)
