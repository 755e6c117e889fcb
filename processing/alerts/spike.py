"""``spike`` rules: the current window's rate against the preceding baseline window's, per key.

The baseline is recomputed from the indexed documents on every run (they are
the state; nothing drifts), and each alert records the baseline it was compared
with. ``min_current`` keeps a single story from being a spike; duplicates are
not counted unless the rule asks. Only keys with new documents are evaluated.
"""

from __future__ import annotations

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
from processing.alerts.rules import SpikeRule
from processing.alerts.threshold import ALL, MAX_KEYS, key_clause, key_filters


def evaluate(es: Elasticsearch, alias: str, rule: SpikeRule, window: Window) -> list[Candidate]:
    end = window.at(rule.time_field)
    current_start = end - rule.window
    baseline_start = current_start - rule.baseline
    per_key = {"current": {"filter": time_range(rule.time_field, current_start, end)},
               "new": {"filter": {"bool": {"filter": [window.new_docs(),
                                                      time_range(rule.time_field, current_start, end)]}}},
               "newest": {"max": {"field": window.new_by}}}
    if rule.group_by:
        aggs = {"keys": {"terms": {"field": rule.group_by, "size": MAX_KEYS}, "aggs": per_key}}
    else:
        aggs = {"keys": {"filter": {"match_all": {}}, "aggs": per_key}}
    resp = es.search(index=alias, size=0, aggs=aggs,
                     query=counted(rule, [time_range(rule.time_field, baseline_start, end)]))
    agg = resp["aggregations"]["keys"]
    buckets = agg["buckets"] if rule.group_by else [{**agg, "key": ALL}]
    out = []
    for bucket in buckets:
        current = bucket["current"]["doc_count"]
        baseline = bucket["doc_count"] - current
        if bucket["new"]["doc_count"] == 0 or current < rule.min_current:
            continue
        ratio = _ratio(rule, current, baseline)
        if ratio is None or ratio >= rule.factor:
            out.append(_candidate(es, alias, rule, str(bucket["key"]), current, baseline, ratio,
                                  bucket["newest"].get("value_as_string"), window))
    return out


def _ratio(rule: SpikeRule, current: int, baseline: int) -> float | None:
    """Current rate / baseline rate; None when the baseline is empty (anything is a spike)."""
    base = max(baseline, rule.min_baseline)
    if base == 0:
        return None
    return (current / rule.window.total_seconds()) / (base / rule.baseline.total_seconds())


def _candidate(es: Elasticsearch, alias: str, rule: SpikeRule, key: str, current: int, baseline: int,
               ratio: float | None, newest: str | None, window: Window) -> Candidate:
    span, base_span = fmt_duration(rule.window), fmt_duration(rule.baseline)
    times = "no baseline" if ratio is None else f"x{ratio:.1f} the usual rate"
    summary = f"{current} documents in {span} vs {baseline} in the preceding {base_span} ({times})"
    if key != ALL:
        summary = f"{rule.group_by}={key}: {summary}"
    end = window.at(rule.time_field)
    filters = [time_range(rule.time_field, end - rule.window, end), *key_filters(rule, key)]
    return Candidate(
        alert_id=alert_id(rule.id, key, newest or "none"), key=key, summary=summary,
        documents=fetch_documents(es, alias, rule, counted(rule, filters), rule.max_documents),
        reason={"current": current, "baseline": baseline, "window": span, "baseline_window": base_span,
                "ratio": None if ratio is None else round(ratio, 2), "factor": rule.factor,
                "min_current": rule.min_current},
        discover_query=and_query(rule, *key_clause(rule, key)),
    )
