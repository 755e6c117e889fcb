"""`run_alerts`: evaluate every rule over the new documents, record what fired, deliver the outbox.

Per rule: read its checkpoint, evaluate documents indexed since (minus the lag
margin), decide for each candidate — fired, merged into a fired near-duplicate
group, a duplicate of an alert already fired, held back by the realert interval,
or silenced — then move the checkpoint. Fired alerts are written to
Elasticsearch before anything is sent; delivery then works through the outbox.
A crash at any point therefore repeats nothing (alert ids are deterministic) and
loses nothing (the outbox survives). Counts add up:
candidates = fired + updated + duplicates + suppressed + silenced.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from elasticsearch import ApiError, Elasticsearch

from mediamon.core.esclient import for_search, make_client
from mediamon.core.settings import Settings
from mediamon.core.sources import SourcesError, load_sources
from processing.alerts import backtest, deleted, edited, flatline, match, new_term, push, spike, threshold
from processing.alerts.alert_state import StateStore, is_silenced
from processing.alerts.backtest import DryRunAlert
from processing.alerts.deliver import send
from processing.alerts.evidence import Candidate, Window
from processing.alerts.message import compose
from processing.alerts.rules import AlertsConfig, FlatlineRule, NewTermRule, RulesError, load_alert_rules
from processing.clock import data_time

log = logging.getLogger(__name__)

EVALUATORS = {"match": match.evaluate, "threshold": threshold.evaluate, "spike": spike.evaluate,
              "new_term": new_term.evaluate, "edited": edited.evaluate, "deleted": deleted.evaluate,
              "coordinated_push": push.evaluate}


@dataclass
class AlertsReport:
    rules: int = 0
    evaluated: int = 0
    candidates: int = 0
    fired: int = 0
    updated: int = 0
    duplicates: int = 0
    suppressed: int = 0
    silenced: int = 0
    delivered: int = 0
    delivery_failed: int = 0
    pending: int = 0
    learnt_terms: int = 0  # terms a new_term rule recorded as known on its first run
    as_of: str | None = None  # the data's clock publication-time windows ended at (MEDIAMON_AS_OF), if not now
    errors: dict[str, str] = field(default_factory=dict)
    fired_ids: list[str] = field(default_factory=list)

    def adds_up(self) -> bool:
        return self.candidates == self.fired + self.updated + self.duplicates + self.suppressed + self.silenced

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def run_alerts(settings: Settings, es: Elasticsearch | None = None, now: datetime | None = None,
               rules_path: Path | None = None, config: AlertsConfig | None = None) -> AlertsReport:
    """Evaluate all enabled rules once and deliver what is pending. Safe to run concurrently and repeatedly."""
    es = es or make_client(settings)
    now = now or datetime.now(UTC)
    config = config or load_alert_rules(rules_path or settings.config_dir / "alerts.yaml")
    report = AlertsReport(rules=len(config.active_rules))
    state = StateStore(es, settings.alerts_index)
    state.ensure()
    if config.active_rules and es.indices.exists_alias(name=settings.docs_alias):
        es.indices.refresh(index=settings.docs_alias)  # everything acknowledged is searchable
        silences = state.silences(now)
        sources = _configured_sources(settings) if any(isinstance(r, FlatlineRule) for r in config.rules) else None
        as_of = data_time(es, settings, now)
        report.as_of = as_of.isoformat() if as_of else None
        for rule in config.active_rules:
            try:
                _evaluate_rule(es, settings, config, state, rule, now, silences, sources, report, as_of)
                report.evaluated += 1
            except ApiError as exc:
                # one broken rule (e.g. a query Elasticsearch rejects) must not stop the others
                report.errors[rule.id] = f"Elasticsearch {exc.status_code}: {_reason(exc)}"
                log.error("rule %s failed: %s", rule.id, report.errors[rule.id])
    deliver_pending(state, config, settings, now, report)
    state.refresh()  # what this run recorded is listed at once (`alerts list`, the report)
    return report


def _evaluate_rule(es: Elasticsearch, settings: Settings, config: AlertsConfig, state: StateStore, rule: Any,
                   now: datetime, silences: list[dict[str, Any]], sources: list[str] | None,
                   report: AlertsReport, as_of: datetime | None = None) -> None:
    checkpoint = state.checkpoint(rule.id)
    start = checkpoint - config.defaults.lag if checkpoint else now - config.defaults.initial_lookback
    window = Window(start=min(start, now), end=now, as_of=as_of)
    searcher = for_search(es)  # a timed-out evaluation fails this rule at once; the next run re-reads the window
    if isinstance(rule, NewTermRule) and checkpoint is None:
        learnt = new_term.seen_ids(searcher, settings.docs_alias, rule, window)
        state.mark_seen(rule.id, learnt, now)
        report.learnt_terms += len(learnt)
        candidates = []
    else:
        candidates = _candidates(searcher, settings, rule, window, sources)
    # one request each for what is already known about all candidates of the rule
    known = state.alerts_by_id([c.alert_id for c in candidates])
    last_fired = state.last_fired_many(rule.id, sorted({c.key for c in candidates}))
    for candidate in candidates:
        report.candidates += 1
        outcome = _decide(state, config, rule, candidate, now, silences, known.get(candidate.alert_id),
                          last_fired.get(candidate.key))
        if outcome == "fired":
            last_fired[candidate.key] = now  # two candidates of one key in one run: realert applies
            report.fired_ids.append(candidate.alert_id)
        setattr(report, outcome, getattr(report, outcome) + 1)
    if checkpoint is None or now > checkpoint:
        state.set_checkpoint(rule.id, now)


def _candidates(es: Elasticsearch, settings: Settings, rule: Any, window: Window,
                sources: list[str] | None) -> list[Candidate]:
    if isinstance(rule, FlatlineRule):
        return flatline.evaluate(es, settings.docs_alias, rule, window, sources)
    return EVALUATORS[rule.type](es, settings.docs_alias, rule, window)


def dry_run(settings: Settings, es: Elasticsearch, config: AlertsConfig, rule_id: str, since: datetime,
            now: datetime | None = None) -> list[DryRunAlert]:
    """What ``rule_id`` would fire now had it last run at ``since``: nothing is written, nothing delivered.

    Like ElastAlert's test-rule: the rule is evaluated over documents indexed in
    (since, now] (its checkpoint, state and outbox untouched); the alerts index
    is only read, to say which candidates already fired, are held or silenced.
    A new_term rule compares with what was indexed before ``since``. Windowed
    rules (threshold, spike, flatline) are stepped through the period instead
    (processing.alerts.backtest): what they would have fired at each step.
    """
    now = now or datetime.now(UTC)
    rule = next((r for r in config.rules if r.id == rule_id), None)
    if rule is None:
        raise RulesError(f"no rule {rule_id!r} in the rules file (known: {', '.join(r.id for r in config.rules)})")
    if not es.indices.exists_alias(name=settings.docs_alias):
        return []
    sources = _configured_sources(settings) if isinstance(rule, FlatlineRule) else None
    es = for_search(es)  # a dry run only reads
    if isinstance(rule, backtest.STEPPED):
        times = backtest.step_times(es, settings.docs_alias, rule, since, now)
        return backtest.step_through(rule, times, config.realert(rule),
                                     lambda window: _candidates(es, settings, rule, window, sources))
    candidates = _candidates(es, settings, rule, Window(start=min(since, now), end=now), sources)
    if not es.indices.exists(index=settings.alerts_index):  # never run: nothing fired, held or silenced
        return [DryRunAlert(c, "would fire") for c in candidates]
    state = StateStore(es, settings.alerts_index)
    known = state.alerts_by_id([c.alert_id for c in candidates])
    last_fired = state.last_fired_many(rule.id, sorted({c.key for c in candidates}))
    silences = state.silences(now)
    result = []
    for c in candidates:
        if c.alert_id in known:
            fresh = set(c.doc_ids) - set(known[c.alert_id][0].get("doc_ids", []))
            outcome = "would update" if c.mergeable and fresh else "already fired"
        elif c.key in last_fired and now - last_fired[c.key] < config.realert(rule):
            outcome = "held by realert"
        else:
            outcome = "silenced" if is_silenced(silences, rule.id, c.key) else "would fire"
            if outcome == "would fire":
                last_fired[c.key] = now  # as a run does: a second candidate of the key is held
        result.append(DryRunAlert(c, outcome))
    return result


def _decide(state: StateStore, config: AlertsConfig, rule: Any, candidate: Candidate, now: datetime,
            silences: list[dict[str, Any]], existing: tuple[dict[str, Any], int, int] | None,
            last: datetime | None) -> str:
    """fired | updated | duplicates | suppressed | silenced — and the state written accordingly."""
    if existing:
        return _merge(state, config, rule, candidate, existing, now, silences) if candidate.mergeable \
            else "duplicates"
    if last and now - last < config.realert(rule):
        return "suppressed"
    silenced = is_silenced(silences, rule.id, candidate.key)
    body = {
        "alert_id": candidate.alert_id, "rule": rule.id, "rule_type": rule.type, "key": candidate.key,
        "summary": candidate.summary, "reason": candidate.reason, "documents": candidate.documents,
        "doc_ids": candidate.doc_ids, "outlets": candidate.outlets,
        "discover_query": candidate.discover_query, "fired_at": now.isoformat(), "updated_at": now.isoformat(),
        "status": "silenced" if silenced else "pending", "notify": "new",
        "pending_channels": [] if silenced else config.channels_of(rule),
        "digest_until": _digest_until(rule.digest, now).isoformat() if rule.digest else None,
    }
    if not state.create_alert(body):
        return "duplicates"  # fired by a concurrent run
    state.set_last_fired(rule.id, candidate.key, now)
    return "silenced" if silenced else "fired"


def _merge(state: StateStore, config: AlertsConfig, rule: Any, candidate: Candidate,
           existing: tuple[dict[str, Any], int, int], now: datetime, silences: list[dict[str, Any]]) -> str:
    """Near-duplicates of a fired story join its alert; the update is sent at most once per realert."""
    alert, seq_no, term = existing
    known = set(alert.get("doc_ids", []))
    fresh_ids = [i for i in candidate.doc_ids if i not in known]
    if not fresh_ids:
        return "duplicates"
    shown = alert.get("documents", [])
    shown += [d for d in candidate.documents if d["id"] in fresh_ids][: max(0, rule.max_documents - len(shown))]
    doc_ids = alert.get("doc_ids", []) + fresh_ids
    merged = {**alert, "documents": shown, "doc_ids": doc_ids,
              "outlets": sorted(set(alert.get("outlets", [])) | set(candidate.outlets)), "updated_at": now.isoformat()}
    merged["reason"] = {**alert.get("reason", {}), "matched_documents": len(doc_ids), "outlets": merged["outlets"]}
    merged["summary"] = _group_summary(alert["summary"], len(merged["outlets"]))
    last_notified = alert.get("last_notified_at") or alert["fired_at"]
    due = now - datetime.fromisoformat(last_notified) >= config.realert(rule)
    if due and not alert.get("pending_channels") and not is_silenced(silences, rule.id, candidate.key):
        merged.update(pending_channels=config.channels_of(rule), notify="update", status="pending")
    if not state.replace_alert(merged, (seq_no, term)):
        return "duplicates"  # a concurrent run merged first; the next run sees its result
    return "updated"


def _group_summary(summary: str, outlets: int) -> str:
    base = summary.split(", in ")[0] if ", in " in summary and summary.endswith(" outlets") else summary
    return f"{base}, in {outlets} outlets" if outlets > 1 else base


def _digest_until(period: timedelta, now: datetime) -> datetime:
    """End of the digest period holding ``now`` (periods aligned on the epoch, so every run agrees)."""
    seconds = int(period.total_seconds())
    start = int(now.timestamp()) // seconds * seconds
    return datetime.fromtimestamp(start + seconds, tz=UTC)


def deliver_pending(state: StateStore, config: AlertsConfig, settings: Settings, now: datetime,
                    report: AlertsReport) -> None:
    """Send every pending alert (digests once their period ended); failures stay pending."""
    groups: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for alert in state.pending():
        if alert.get("digest_until"):
            if datetime.fromisoformat(alert["digest_until"]) > now:
                report.pending += 1
                continue
            groups[(alert["rule"], alert["digest_until"])].append(alert)
        else:
            groups[(alert["rule"], alert["alert_id"])].append(alert)
    for alerts in groups.values():
        channels = sorted({c for a in alerts for c in a["pending_channels"]})
        message = compose(alerts, settings.kibana_url, data_view=settings.docs_alias)  # id as imported
        for name in channels:
            channel = config.channels.get(name)
            error = send(channel, message, config.defaults.retry, settings.data_dir) if channel else \
                f"channel {name!r} is no longer defined in alerts.yaml"
            for alert in alerts:
                if name not in alert["pending_channels"]:
                    continue
                if error is None:
                    alert["pending_channels"] = [c for c in alert["pending_channels"] if c != name]
                _record_attempt(state, alert, name, error, now)
            if error is None:
                report.delivered += 1
            else:
                report.delivery_failed += 1
                log.error("delivery of %s via %s failed, kept for the next run: %s", message.rule, name, error)
        report.pending += sum(1 for a in alerts if a["pending_channels"])


def _record_attempt(state: StateStore, alert: dict[str, Any], channel: str, error: str | None,
                    now: datetime) -> None:
    attempts = alert.get("delivery", {}).get(channel, {}).get("attempts", 0) + 1
    entry = {"attempts": attempts, "last_attempt_at": now.isoformat(), "last_error": error}
    if error is None:
        entry["delivered_at"] = now.isoformat()
    changes: dict[str, Any] = {"delivery": {channel: entry}, "pending_channels": alert["pending_channels"]}
    if not alert["pending_channels"]:
        changes.update(status="delivered", last_notified_at=now.isoformat())
    elif error:
        changes["status"] = "retrying"
    alert.setdefault("delivery", {})[channel] = entry
    state.update_alert(alert["alert_id"], changes)


def _configured_sources(settings: Settings) -> list[str] | None:
    """Source ids of the sources file, when there is one."""
    path = settings.sources_path
    if not path.is_file():
        return None
    try:
        return [source.id for source in load_sources(path)]
    except SourcesError as exc:  # the crawler reports it; flatline falls back to the sources seen
        log.warning("flatline: %s", exc)
        return None


def _reason(exc: ApiError) -> str:
    body = exc.body if isinstance(exc.body, dict) else {}
    root = (body.get("error") or {}).get("root_cause") or [{}]
    return str(root[0].get("reason") or exc.message)[:500]


def silence(settings: Settings, es: Elasticsearch, rule_id: str, key: str | None, duration: timedelta,
            now: datetime | None = None) -> datetime:
    """Hold back a rule's alerts (for one key, or all) until now + duration; they are still recorded."""
    now = now or datetime.now(UTC)
    state = StateStore(es, settings.alerts_index)
    state.ensure()
    until = now + duration
    state.add_silence(rule_id, key, until, created_at=now)
    return until
