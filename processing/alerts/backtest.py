"""A windowed rule stepped through a past period: what it would have fired, and when (``alerts test``).

Threshold, spike and flatline rules look at a time window ending *now*, so
evaluating them once at the end of a dry run says nothing about the period.
Like ElastAlert's test-rule, the rule is evaluated at each step of the period —
its own window (threshold, spike) or its silence floor (flatline) — with the
window ending at the step, the step's documents counting as the new ones, and
realert applied between steps as a live run would. Nothing is read from or
written to the alerts state: past silences and fired alerts do not apply.

The period is clipped to where the rule's documents are (plus the time a silence
after the last one needs to show), so ``--since 2021-11-01`` over a 2021 sample
steps through November 2021, not five years of nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from elasticsearch import Elasticsearch

from mediamon.core.errors import ConfigError
from processing.alerts.evidence import Candidate, Window, rule_query
from processing.alerts.rules import FlatlineRule, SpikeRule, ThresholdRule
from processing.clock import time_span

STEPPED = (ThresholdRule, SpikeRule, FlatlineRule)
MAX_STEPS = 5000  # a year of hourly steps; beyond, the period is too long for one dry run


class PeriodTooLong(ConfigError):
    """The dry run's period holds more steps of the rule than MAX_STEPS; the message says how to shorten it."""


@dataclass
class DryRunAlert:
    """A candidate of a dry run and what a real run would do with it (``would fire`` or why not).

    ``at`` is the step a stepped rule found it at; None for rules evaluated once over the period.
    """

    candidate: Candidate
    outcome: str  # would fire | would update | already fired | held by realert | silenced
    at: datetime | None = None


def step_of(rule: Any) -> timedelta:
    """The rule's own interval: its window (threshold, spike) or the shortest silence it reports (flatline)."""
    return rule.min_silence if isinstance(rule, FlatlineRule) else rule.window


def _horizon(rule: Any) -> timedelta:
    """How long after the last document the rule can still find something new (a silence, an empty window)."""
    return rule.history + step_of(rule) if isinstance(rule, FlatlineRule) else rule.window


def step_times(es: Elasticsearch, alias: str, rule: Any, since: datetime, until: datetime) -> list[datetime]:
    """Step ends in (since, until], clipped to the rule's documents; one step at ``until`` when it has none."""
    step = step_of(rule)
    span = time_span(es, alias, rule.time_field, rule_query(rule))
    if span is None:
        return [until]
    start = max(since, span[0] - step)
    end = min(until, span[1] + _horizon(rule))
    if end <= start:
        return [until]
    count = -(-(end - start) // step)  # ceiling: the last step covers the period's end
    if count > MAX_STEPS:
        raise PeriodTooLong(f"rule {rule.id}: {count} steps of {step} from {start:%Y-%m-%d %H:%M} to "
                            f"{end:%Y-%m-%d %H:%M} (at most {MAX_STEPS}); give a later --since or an earlier --until")
    return [min(start + step * (i + 1), end) for i in range(count)]


def step_through(rule: Any, times: list[datetime], realert: timedelta,
                 evaluate: Callable[[Window], list[Candidate]]) -> list[DryRunAlert]:
    """Evaluate at each step; the same evidence (alert id) is reported once, at its first step."""
    step = step_of(rule)
    last_fired: dict[str, datetime] = {}
    seen: set[str] = set()
    out = []
    for at in times:
        for candidate in evaluate(Window(start=at - step, end=at, new_by=rule.time_field)):
            if candidate.alert_id in seen:
                continue  # e.g. a silence still going on at the next step
            seen.add(candidate.alert_id)
            held = candidate.key in last_fired and at - last_fired[candidate.key] < realert
            if not held:
                last_fired[candidate.key] = at
            out.append(DryRunAlert(candidate, "held by realert" if held else "would fire", at))
    return out
