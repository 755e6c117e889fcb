"""`mediamon alerts run / list / silence` through the real command line entry point."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner

from mediamon.cli.main import main
from tests.support.alerting import doc, index


@pytest.fixture
def cli_env(es_settings, monkeypatch, tmp_path):
    monkeypatch.setenv("MEDIAMON_INDEX_PREFIX", es_settings.index_prefix)
    monkeypatch.setenv("MEDIAMON_DATA_DIR", str(es_settings.data_dir))
    monkeypatch.setenv("MEDIAMON_LOCAL_ES_DIR", str(es_settings.local_es_dir))
    rules = tmp_path / "alerts.yaml"
    rules.write_text("channels:\n  file: {type: file, path: out.jsonl}\n"
                     "rules:\n  - {id: pay, type: match, query: 'narratives:eu_must_pay'}\n")
    return rules


def invoke(*args: str):
    return CliRunner().invoke(main, list(args))


def test_run_then_list_as_json(cli_env, es_settings, es_admin):
    now = datetime.now(UTC)
    index(es_admin, es_settings, [doc("pay", narratives=["eu_must_pay"], published=now - timedelta(minutes=5),
                                      indexed=now - timedelta(minutes=1))])
    result = invoke("alerts", "run", "--rules", str(cli_env), "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["fired"] == 1
    listed = invoke("alerts", "list", "--json")
    [line] = [json.loads(x) for x in listed.output.splitlines()]
    assert (line["rule"], line["documents"][0]["url"]) == ("pay", "https://tass-ru.example/pay")
    assert {"rule", "key", "fired_at", "reason", "documents"} <= set(line)
    again = invoke("alerts", "run", "--rules", str(cli_env), "--json")
    assert json.loads(again.output)["fired"] == 0


def test_silence_checks_the_rule_and_the_duration(cli_env):
    assert invoke("alerts", "silence", "pay", "--for", "6h", "--rules", str(cli_env)).exit_code == 0
    assert invoke("alerts", "silence", "nope", "--for", "6h", "--rules", str(cli_env)).exit_code == 2
    assert invoke("alerts", "silence", "pay", "--for", "soon", "--rules", str(cli_env)).exit_code == 2


def test_bad_rules_file_exits_2_and_names_the_rule(cli_env, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("rules:\n  - {id: burst, type: threshold, window: 1h}\n")
    result = invoke("alerts", "run", "--rules", str(bad))
    assert result.exit_code == 2 and "rule 'burst'" in result.output


def test_empty_rule_set_is_a_clean_no_op(cli_env, tmp_path):
    empty = tmp_path / "empty.yaml"
    empty.write_text("rules: []\n")
    result = invoke("alerts", "run", "--rules", str(empty), "--json")
    assert result.exit_code == 0 and json.loads(result.output)["rules"] == 0


def test_a_rule_elasticsearch_rejects_is_reported_and_the_others_still_run(cli_env, es_settings, es_admin):
    rules = cli_env.parent / "mixed.yaml"
    rules.write_text("channels:\n  file: {type: file, path: out.jsonl}\nrules:\n"
                     "  - {id: broken, type: match, query: 'narratives:(eu_must_pay'}\n"
                     "  - {id: pay, type: match, query: 'narratives:eu_must_pay'}\n")
    now = datetime.now(UTC)
    index(es_admin, es_settings, [doc("pay", narratives=["eu_must_pay"], indexed=now - timedelta(minutes=1))])
    result = invoke("alerts", "run", "--rules", str(rules), "--json")
    assert result.exit_code == 1
    report = json.loads(result.output)
    assert report["fired"] == 1 and set(report["errors"]) == {"broken"}


def test_alerts_test_is_a_dry_run_that_stores_and_delivers_nothing(cli_env, es_settings, es_admin):
    now = datetime.now(UTC)
    index(es_admin, es_settings, [
        doc("pay", narratives=["eu_must_pay"], indexed=now - timedelta(hours=2)),
        doc("old-pay", narratives=["eu_must_pay"], indexed=now - timedelta(days=10)),
        doc("other", indexed=now - timedelta(hours=1))])
    es_admin.indices.refresh(index=es_settings.docs_alias)
    delivered = es_settings.data_dir / "out.jsonl"  # the rules file's file channel

    week = invoke("alerts", "test", "pay", "--since", "7d", "--rules", str(cli_env), "--json")
    assert week.exit_code == 0, week.output
    [line] = [json.loads(x) for x in week.output.splitlines()]
    assert (line["outcome"], line["documents"][0]["url"]) == ("would fire", "https://tass-ru.example/pay")
    month = invoke("alerts", "test", "pay", "--since", "30d", "--rules", str(cli_env), "--json")
    assert len(month.output.splitlines()) == 2
    assert not es_admin.indices.exists(index=es_settings.alerts_index) and not delivered.exists()

    assert json.loads(invoke("alerts", "run", "--rules", str(cli_env), "--json").output)["fired"] == 1
    sent = delivered.read_text()  # the same rule, really run, does write and deliver
    es_admin.indices.refresh(index=es_settings.alerts_index)
    stored = es_admin.count(index=es_settings.alerts_index)["count"]
    table = invoke("alerts", "test", "pay", "--since", "7d", "--rules", str(cli_env))
    assert table.exit_code == 0 and "already fired" in table.output and "no alert stored" in table.output
    es_admin.indices.refresh(index=es_settings.alerts_index)
    assert es_admin.count(index=es_settings.alerts_index)["count"] == stored and delivered.read_text() == sent

    assert invoke("alerts", "test", "nope", "--rules", str(cli_env)).exit_code == 2


def test_list_says_why_an_alert_is_pending(cli_env, es_settings, es_admin, tmp_path):
    """An alert held for a digest is listed with when it will go out, not a bare "pending"."""
    now = datetime.now(UTC)
    index(es_admin, es_settings, [doc("pay-digest", narratives=["eu_must_pay"], published=now - timedelta(minutes=5),
                                      indexed=now - timedelta(minutes=1))])
    rules = tmp_path / "digest.yaml"
    rules.write_text("channels:\n  file: {type: file, path: out.jsonl}\n"
                     "rules:\n  - {id: pay, type: match, query: 'narratives:eu_must_pay', digest: 7d}\n")
    assert invoke("alerts", "run", "--rules", str(rules)).exit_code == 0
    [line] = [json.loads(x) for x in invoke("alerts", "list", "--json").output.splitlines()]
    assert line["status"] == "pending" and line["status_reason"].startswith("held for the file digest until ")
    table = CliRunner().invoke(main, ["alerts", "list"], env={"COLUMNS": "300"}).output
    assert "pending: held for the file digest until" in table


def test_alerts_test_steps_a_threshold_rule_through_the_period_at_its_window(cli_env, es_settings, es_admin):
    """Three bursts two days ago: each step reports what it would have fired, realert holds the second."""
    x = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(days=2)
    bursts = {"a": x, "b": x + timedelta(hours=2), "c": x + timedelta(hours=38)}
    index(es_admin, es_settings, [doc(f"{name}-{i}", published=at, indexed=datetime.now(UTC) - timedelta(minutes=1))
                                  for name, at in bursts.items() for i in range(4)])  # backfilled: indexed now
    es_admin.indices.refresh(index=es_settings.docs_alias)
    cli_env.write_text("channels:\n  file: {type: file, path: out.jsonl}\nrules:\n"
                       "  - {id: burst, type: threshold, window: 1h, above: 3, realert: 3h}\n")

    result = invoke("alerts", "test", "burst", "--since", "3d", "--rules", str(cli_env), "--json")
    assert result.exit_code == 0, result.output
    lines = [json.loads(x) for x in result.output.splitlines()]
    assert [(line["at"], line["outcome"]) for line in lines] == [
        (x.isoformat(), "would fire"), (bursts["b"].isoformat(), "held by realert"),
        (bursts["c"].isoformat(), "would fire")]
    assert all(line["reason"]["count"] == 4 and len(line["documents"]) == 4 for line in lines)
    until = invoke("alerts", "test", "burst", "--since", "3d", "--until", (x + timedelta(hours=12)).isoformat(),
                   "--rules", str(cli_env), "--json")
    assert len(until.output.splitlines()) == 2
    table = CliRunner().invoke(main, ["alerts", "test", "burst", "--since", "3d", "--rules", str(cli_env)],
                               env={"COLUMNS": "300"}).output
    assert "at (UTC)" in table and f"{bursts['c']:%Y-%m-%d %H:%M}" in table and "2 would fire" in table
    assert not es_admin.indices.exists(index=es_settings.alerts_index)
    assert not (es_settings.data_dir / "out.jsonl").exists()


def test_alerts_test_steps_a_flatline_rule_and_reports_each_silence_once(cli_env, es_settings, es_admin):
    x = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(days=20)
    index(es_admin, es_settings, [doc(f"t{i}", published=x - timedelta(minutes=30 * i)) for i in range(96)])
    es_admin.indices.refresh(index=es_settings.docs_alias)
    cli_env.write_text("channels:\n  file: {type: file, path: out.jsonl}\nrules:\n"
                       "  - {id: silent, type: flatline, sources: [tass-ru], history: 14d, min_silence: 1h}\n")

    since = (x - timedelta(days=1)).isoformat()  # steps at whole hours
    result = invoke("alerts", "test", "silent", "--since", since, "--rules", str(cli_env), "--json")
    assert result.exit_code == 0, result.output
    lines = [json.loads(x) for x in result.output.splitlines()]
    # silent past 3 x its 30-minute gap at the second hourly step; then, once the last document leaves
    # the 14-day history, "no documents" — each silence once, not at every step
    assert [(line["at"], line["outcome"]) for line in lines] == [
        ((x + timedelta(hours=2)).isoformat(), "would fire"), ((x + timedelta(days=14, hours=1)).isoformat(),
                                                               "would fire")]
    assert lines[0]["summary"] == "source tass-ru: silent for 2h (usually within 90m)"
    assert lines[1]["summary"] == "source tass-ru: no documents in the last 14d"
    assert not es_admin.indices.exists(index=es_settings.alerts_index)
