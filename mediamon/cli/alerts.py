"""`mediamon alerts run / list / silence` and `mediamon report`: thin wrappers over processing.alerts."""

from __future__ import annotations

import sys
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click
from rich.table import Table

from mediamon.cli.common import console, failures_exit, get_client, get_settings, out, print_json_line, shown
from mediamon.core.durations import parse_duration, parse_when

if TYPE_CHECKING:
    from mediamon.core.settings import Settings
    from processing.alerts.rules import AlertsConfig


def _rules(settings: Settings, rules_file: Path | None) -> AlertsConfig:
    # lazy: the rules' schema (pydantic) and the alert modules (Elasticsearch) load when a command runs
    from processing.alerts.rules import load_alert_rules

    return load_alert_rules(rules_file or settings.config_dir / "alerts.yaml")


def _since(value: str) -> datetime:
    try:
        return parse_when(value)
    except ValueError as exc:
        raise click.BadParameter(f"expected an ISO date or an age such as 7d, 12h: {value!r}") from exc


RULES_OPTION = click.option("--rules", "rules_file", type=click.Path(path_type=Path, dir_okay=False),
                            help="Rules file (default: config/alerts.yaml).")


@click.group()
def alerts() -> None:
    """Evaluate alert rules, try one on past data, list fired alerts, silence noisy rules."""


@alerts.command("run")
@RULES_OPTION
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@failures_exit
def alerts_run(rules_file: Path | None, as_json: bool) -> None:
    """Evaluate every rule over the new documents and deliver pending alerts (exit 1 on errors)."""
    from processing.alerts.engine import run_alerts  # lazy: delivery clients load only when running rules

    settings = get_settings()
    config = _rules(settings, rules_file)
    report = run_alerts(settings, es=get_client(settings), config=config)
    if as_json:
        print_json_line(report.as_dict())
    else:
        console.print(f"rules {report.evaluated}/{report.rules} evaluated; {report.candidates} candidates: "
                      f"{report.fired} fired, {report.updated} updated, {report.duplicates} already fired, "
                      f"{report.suppressed} held by realert, {report.silenced} silenced; "
                      f"{report.delivered} messages delivered, {report.delivery_failed} failed, "
                      f"{report.pending} alerts pending")
        for rule, error in report.errors.items():
            console.print(f"[red]rule {shown(rule)}: {shown(error)}[/]")
    if report.errors or report.delivery_failed:
        sys.exit(1)


@alerts.command("test")
@click.argument("rule")
@click.option("--since", default="7d", show_default=True, help="ISO date or age such as 7d, 12h.")
@click.option("--until", default=None, help="End of the period (ISO date or age); default: now.")
@RULES_OPTION
@click.option("--json", "as_json", is_flag=True, help="One would-be alert per line.")
@failures_exit
def alerts_test(rule: str, since: str, until: str | None, rules_file: Path | None, as_json: bool) -> None:
    """Dry run: what RULE would have fired from --since on; nothing is stored or delivered.

    Match and new_term rules are evaluated once over the documents indexed in the
    period; threshold, spike and flatline rules step through it at their own
    window (flatline: min_silence) and report each step's would-be alerts.
    """
    from processing.alerts.engine import dry_run  # lazy: delivery clients load only when running rules
    from processing.alerts.evidence import fmt_time  # lazy: the alert modules load when a command runs

    settings = get_settings()
    start = _since(since)
    end = _since(until) if until else None
    would = dry_run(settings, get_client(settings), _rules(settings, rules_file), rule, start, now=end)
    if as_json:
        for item in would:
            c = item.candidate
            print_json_line({"rule": rule, "outcome": item.outcome, "at": item.at.isoformat() if item.at else None,
                             "key": c.key, "alert_id": c.alert_id, "summary": c.summary, "reason": c.reason,
                             "documents": c.documents})
        return
    counts = Counter(item.outcome for item in would)
    stepped = any(item.at for item in would)
    table = Table(title=f"rule {shown(rule)} since {fmt_time(start.isoformat())}: {len(would)} candidates "
                        f"({shown(', '.join(f'{n} {o}' for o, n in counts.most_common()) or 'none')})")
    for column in (["at (UTC)"] if stepped else []) + ["outcome", "key", "summary", "first document"]:
        table.add_column(column, overflow="fold")
    for item in would:
        c = item.candidate
        key = str(c.key)
        table.add_row(*([fmt_time(item.at.isoformat()) if item.at else ""] if stepped else []), item.outcome,
                      shown(key if len(key) <= 24 else key[:12] + "…"), shown(c.summary),
                      shown(c.documents[0].get("url", "") if c.documents else ""))
    out.print(table)
    console.print("dry run: no alert stored, no channel called")


@alerts.command("list")
@click.option("--since", default="7d", show_default=True, help="ISO date or age such as 7d, 12h.")
@click.option("--rule", default=None, help="Only this rule.")
@click.option("--json", "as_json", is_flag=True, help="One fired alert per line.")
@failures_exit
def alerts_list(since: str, rule: str | None, as_json: bool) -> None:
    """Fired alerts, oldest first."""
    settings = get_settings()
    # lazy: the alert modules load when a command runs
    from processing.alerts.alert_state import StateStore, status_reason
    from processing.alerts.evidence import fmt_time  # lazy: as above

    fired = StateStore(get_client(settings), settings.alerts_index).alerts(since=_since(since), rule=rule)
    now = datetime.now(UTC)
    if as_json:
        for alert in fired:
            line = {k: alert.get(k) for k in ("alert_id", "rule", "rule_type", "key", "fired_at", "status",
                                              "summary", "reason", "outlets", "documents")}
            print_json_line({**line, "status_reason": status_reason(alert, now)})
        return
    table = Table(title=f"{len(fired)} alerts")
    for column in ("fired (UTC)", "rule", "key", "status", "summary"):
        table.add_column(column, overflow="fold")
    for alert in fired:
        key = str(alert.get("key", ""))
        why = status_reason(alert, now)
        table.add_row(fmt_time(alert["fired_at"]), shown(alert["rule"]),
                      shown(key if len(key) <= 24 else key[:12] + "…"),
                      shown(alert.get("status", "") + (f": {why}" if why else "")), shown(alert.get("summary", "")))
    out.print(table)


@alerts.command("silence")
@click.argument("rule")
@click.option("--key", default=None, help="Only this key (e.g. a source or narrative); default: the whole rule.")
@click.option("--for", "duration", required=True, help="How long, e.g. 30m, 6h, 2d.")
@RULES_OPTION
@failures_exit
def alerts_silence(rule: str, key: str | None, duration: str, rules_file: Path | None) -> None:
    """Hold back RULE's alerts for a while; they are still recorded and listed."""
    from processing.alerts.engine import silence  # lazy: delivery clients load only when running rules

    settings = get_settings()
    config = _rules(settings, rules_file)
    if rule not in {r.id for r in config.rules}:
        raise click.UsageError(f"no rule {rule!r} in the rules file (known: {', '.join(r.id for r in config.rules)})")
    try:
        length = parse_duration(duration)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--for") from exc
    until = silence(settings, get_client(settings), rule, key, length)
    console.print(f"rule {rule}{f' key {key}' if key else ''} silenced until {until.isoformat(timespec='minutes')}")


@click.command()
@click.option("--since", default="7d", show_default=True, help="ISO date or age such as 7d, 12h.")
@click.option("--out", "out_dir", required=True, type=click.Path(path_type=Path, file_okay=False),
              help="Directory for report.html and its charts.")
@failures_exit
def report(since: str, out_dir: Path) -> None:
    """Analyst digest: self-contained HTML with charts, alarmist documents, first-seen traces, alerts."""
    from processing.reports.digest import write_report  # lazy: matplotlib only for reports

    settings = get_settings()
    written = write_report(settings, get_client(settings), _since(since), out_dir)
    if written.warning:
        console.print(f"[yellow]warning:[/] {written.warning}", highlight=False)
    console.print(f"report written to {written.path}")
