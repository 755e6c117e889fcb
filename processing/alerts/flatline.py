"""``flatline`` rules: a source silent for longer than its usual gap (a coverage gap).

The usual gap is learnt per source from its recent documents (the 90th
percentile of the gaps between them), so a source that publishes every ten
minutes is flagged after an hour while a weekly one is left alone. Sources come
from the rule, else from config/sources.yaml, plus every source seen in the
history window. One alert per silence: the id carries the last document's time.
On the data's clock (replayed data, processing.clock) only sources with
documents in the history window are judged.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from itertools import pairwise
from typing import Any

from elasticsearch import Elasticsearch

from processing.alerts.evidence import (
    Candidate,
    Window,
    alert_id,
    fmt_duration,
    lucene_term,
    rule_query,
    summarize,
    time_range,
)
from processing.alerts.rules import FlatlineRule
from processing.alerts.threshold import MAX_KEYS

log = logging.getLogger(__name__)


def evaluate(es: Elasticsearch, alias: str, rule: FlatlineRule, window: Window,
             configured_sources: list[str] | None = None) -> list[Candidate]:
    now = window.at(rule.time_field)
    resp = es.search(index=alias, size=0, query={"bool": {"must": [rule_query(rule)], "filter": [
        time_range(rule.time_field, now - rule.history, now)]}}, aggs={"sources": {
            "terms": {"field": "source", "size": MAX_KEYS},
            "aggs": {"recent": {"top_hits": {"size": rule.sample, "sort": [{rule.time_field: "desc"}],
                                              "_source": {"includes": ["title", "url", "source", "lang",
                                                                       "published_at", "indexed_at"]}}}}}})
    recent = {b["key"]: b["recent"]["hits"]["hits"] for b in resp["aggregations"]["sources"]["buckets"]}
    watched = rule.sources if rule.sources is not None else sorted(set(configured_sources or []) | set(recent))
    if window.on_data_clock(rule.time_field):
        # replayed data: a source with nothing in the history before the data's clock is outside the replay
        # (the sample's 2021 sites beside two 2025 pages), not a source that went silent
        watched = [source for source in watched if source in recent]
    out = []
    for source in watched:
        hits = recent.get(source, [])
        times = [_parse((h["_source"] or {}).get(rule.time_field)) for h in hits]
        times = [t for t in times if t is not None]
        allowed = _allowed_silence(rule, times)
        last = max(times) if times else None
        silent = now - last if last else rule.history
        if last is None or silent > allowed:
            out.append(_candidate(rule, source, last, silent, allowed, hits[:1]))
    return out


def _allowed_silence(rule: FlatlineRule, times: list[datetime]) -> timedelta:
    times = sorted(times)
    gaps = sorted(b - a for a, b in pairwise(times) if b > a)
    usual = gaps[min(len(gaps) - 1, int(0.9 * len(gaps)))] if gaps else rule.min_silence
    allowed = max(rule.min_silence, usual * rule.factor)
    return min(allowed, rule.max_silence) if rule.max_silence else allowed


def _parse(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        log.warning("flatline: unparseable date %r skipped", value)
        return None


def _candidate(rule: FlatlineRule, source: str, last: datetime | None, silent: timedelta, allowed: timedelta,
               hits: list[dict[str, Any]]) -> Candidate:
    if last is None:
        summary = f"source {source}: no documents in the last {fmt_duration(rule.history)}"
    else:
        summary = (f"source {source}: silent for {fmt_duration(_round(silent))} "
                   f"(usually within {fmt_duration(_round(allowed))})")
    return Candidate(
        alert_id=alert_id(rule.id, source, last.isoformat() if last else "none"), key=source, summary=summary,
        reason={"source": source, "last_document_at": last.isoformat() if last else None,
                "silent_for": fmt_duration(_round(silent)), "allowed_silence": fmt_duration(_round(allowed))},
        documents=[summarize(h) for h in hits], discover_query=lucene_term("source", source),
    )


def _round(delta: timedelta) -> timedelta:
    return timedelta(minutes=round(delta.total_seconds() / 60))
