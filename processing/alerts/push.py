"""``coordinated_push`` rules: one story (or narrative) carried by many outlets of several owners within hours.

The pattern the analysts look for: a line appears in a Kremlin or MFA statement
and TASS, RIA, RT, Sputnik and BelTA carry it within hours. A key fires when at
least ``min_outlets`` distinct outlets (sources) of ``min_owners`` distinct owners
published it within ``window``, and that reach is ``factor`` times what its
narratives usually get in a window of that length over the ``baseline`` period
before (the narrative's own news flow, so a narrative covered every day does
not fire on an ordinary day). Copies count: a syndicated copy is amplification.
The message is the chain: the origin (the earliest report, a government source
within minutes preferred) and each outlet's lag behind it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from elasticsearch import Elasticsearch

from processing.alerts.evidence import (
    Candidate,
    Window,
    alert_id,
    and_query,
    counted,
    fetch_documents,
    fmt_duration,
    time_range,
)
from processing.alerts.rules import PushRule
from processing.alerts.threshold import MAX_KEYS, key_clause, key_filters
from processing.stories.amplification import GOVERNMENT_KINDS, GOVERNMENT_PREFERENCE

CHAIN_FIELDS = ["source", "source_owner", "source_kind", "lang", "published_at", "title", "url"]
MAX_CHAIN = 50


def evaluate(es: Elasticsearch, alias: str, rule: PushRule, window: Window) -> list[Candidate]:
    end = window.at(rule.time_field)
    start = end - rule.window
    in_window = time_range(rule.time_field, start, end)
    aggs = {"keys": {"terms": {"field": rule.group_by, "size": MAX_KEYS}, "aggs": {
        "outlets": {"cardinality": {"field": "source"}}, "owners": {"cardinality": {"field": "source_owner"}},
        "narratives": {"terms": {"field": "narratives", "size": 20}},
        "new": {"filter": window.new_docs()}}}}
    resp = es.search(index=alias, size=0, aggs=aggs, query=counted(rule, [in_window]))
    out = []
    for bucket in resp["aggregations"]["keys"]["buckets"]:
        outlets, owners = bucket["outlets"]["value"], bucket["owners"]["value"]
        if bucket["new"]["doc_count"] == 0 or outlets < rule.min_outlets or owners < rule.min_owners:
            continue
        narratives = [b["key"] for b in bucket["narratives"]["buckets"]] if rule.group_by != "narratives" else [
            bucket["key"]]
        usual = {n: usual_outlets(es, alias, rule, n, start) for n in narratives}
        baseline = max(usual.values(), default=0.0)
        if outlets < rule.factor * baseline:
            continue
        out.append(_candidate(es, alias, rule, str(bucket["key"]), outlets, owners, usual, in_window))
    return out


def usual_outlets(es: Elasticsearch, alias: str, rule: PushRule, narrative: str, before: datetime) -> float:
    """Mean distinct outlets carrying ``narrative`` per window over the baseline period (empty windows count)."""
    since = before - rule.baseline
    seconds = int(rule.window.total_seconds())
    resp = es.search(index=alias, size=0, query=counted(rule, [
        {"term": {"narratives": narrative}}, time_range(rule.time_field, since, before)]), aggs={"per": {
            "date_histogram": {"field": rule.time_field, "fixed_interval": f"{seconds}s", "min_doc_count": 0},
            "aggs": {"outlets": {"cardinality": {"field": "source"}}}}})
    windows = max(1, int(rule.baseline.total_seconds() // seconds))
    return sum(b["outlets"]["value"] for b in resp["aggregations"]["per"]["buckets"]) / windows


def chain(hits: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Reports in order of publication, the origin first, each with its lag behind the origin in minutes."""
    reports = sorted(hits, key=lambda d: (d["published_at"], d["id"]))
    times = [datetime.fromisoformat(d["published_at"].replace("Z", "+00:00")) for d in reports]
    government = [i for i, d in enumerate(reports) if d.get("source_kind") in GOVERNMENT_KINDS
                  and times[i] - times[0] <= GOVERNMENT_PREFERENCE]
    first = government[0] if government else 0
    order = [first, *[i for i in range(len(reports)) if i != first]]
    return [{**reports[i], "lag_minutes": round((times[i] - times[first]) / timedelta(minutes=1))} for i in order]


def _lag(minutes: int) -> str:
    sign = "-" if minutes < 0 else "+"
    hours, rest = divmod(abs(minutes), 60)
    return f"{sign}{hours}h{rest:02d}" if hours else f"{sign}{rest}m"


def _candidate(es: Elasticsearch, alias: str, rule: PushRule, key: str, outlets: int, owners: int,
               usual: dict[str, float], in_window: dict[str, Any]) -> Candidate:
    query = counted(rule, [in_window, *key_filters(rule, key)])
    resp = es.search(index=alias, query=query, size=MAX_CHAIN, source_includes=CHAIN_FIELDS,
                     sort=[{rule.time_field: "asc"}])
    links = chain([{**h["_source"], "id": h["_id"]} for h in resp["hits"]["hits"]])
    origin = links[0]
    span = fmt_duration(rule.window)
    steps = ", ".join(f"{d['source']} {_lag(d['lag_minutes'])}" for d in links[1:])
    base = "; ".join(f"{n} usually {v:.1f}" for n, v in sorted(usual.items())) or "no narrative baseline"
    summary = (f"{rule.group_by}={key}: {outlets} outlets of {owners} owners within {span} ({base} outlets per "
               f"{span}). Chain: {origin['source']} (origin) → {steps}")
    return Candidate(
        alert_id=alert_id(rule.id, key, origin["id"]), key=key, summary=summary,
        documents=fetch_documents(es, alias, rule, query, rule.max_documents,
                                  sort=[{rule.time_field: {"order": "asc"}}]),
        reason={"outlets": outlets, "owners": owners, "window": span, "min_outlets": rule.min_outlets,
                "min_owners": rule.min_owners, "factor": rule.factor, "usual_outlets": usual,
                "chain": [{"source": d["source"], "owner": d.get("source_owner"), "lang": d.get("lang"),
                           "published_at": d["published_at"], "lag_minutes": d["lag_minutes"], "url": d.get("url")}
                          for d in links]},
        discover_query=and_query(rule, *key_clause(rule, key)),
        doc_ids=[d["id"] for d in links], outlets=sorted({d["source"] for d in links}))
