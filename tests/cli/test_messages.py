"""What the CLI tells a user who has to act: the version, hints naming the setting, exit codes, runnable commands."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from collections import Counter
from importlib.metadata import version
from types import SimpleNamespace

import pytest
from click.testing import CliRunner

from crawlers.stats import EXIT_INTERRUPTED, CrawlReport, SourceStats
from mediamon.cli import crawl as crawl_cli
from mediamon.cli import process as process_cli
from mediamon.cli import run as run_cli
from mediamon.cli.common import console, out
from mediamon.cli.main import main
from mediamon.core.settings import load_settings
from processing.runner import ProcessReport
from processing.store.bulk import DeadLetter
from tests.support.paths import REPO


def test_version_comes_from_the_package_metadata() -> None:
    result = CliRunner().invoke(main, ["--version"])
    assert result.exit_code == 0 and result.output.strip() == f"mediamon {version('mediamon')}"


def test_deadletter_list_json_is_one_object_per_dead_letter(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("MEDIAMON_DATA_DIR", str(tmp_path))
    DeadLetter(load_settings().deadletter_dir).write([
        {"failed_at": "2026-01-01T00:00:00+00:00", "kind": "mapping", "reason": "bad date", "_id": "a",
         "document": {"source": "rt-ru", "url": "https://rt/a", "text": "long body"}},
        {"failed_at": "2026-01-01T00:00:01+00:00", "kind": "unavailable", "reason": "429", "_id": "b",
         "document": {"source": "tass-ru", "url": "https://tass/b"}}])
    result = CliRunner().invoke(main, ["deadletter", "list", "--json"])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.output.splitlines()]
    assert [(x["_id"], x["kind"], x["source"], x["url"]) for x in lines] == [
        ("a", "mapping", "rt-ru", "https://rt/a"), ("b", "unavailable", "tass-ru", "https://tass/b")]
    assert "document" not in lines[0]


def _report(**stats: SourceStats) -> CrawlReport:
    return CrawlReport(sources=dict(stats))


def test_ssrf_blocked_names_the_setting_that_allows_it() -> None:
    report = _report(internal=SourceStats("internal", page_errors=Counter(ssrf_blocked=1)),
                     ok=SourceStats("ok", pages_fetched=1))
    with console.capture() as captured:
        code = crawl_cli._finish(report)
    assert code == 1
    assert "ssrf_blocked (internal)" in captured.get() and "allow_private_addresses" in captured.get()


def test_an_interrupted_crawl_exits_3_and_says_so() -> None:
    report = _report(ok=SourceStats("ok", pages_fetched=2))
    report.interrupted = "SIGTERM"
    with console.capture() as captured:
        code = crawl_cli._finish(report)
    assert code == EXIT_INTERRUPTED and "interrupted by SIGTERM" in captured.get()
    report.interrupted = None
    assert crawl_cli._finish(report) == 0


def test_the_processing_table_counts_damaged_batches() -> None:
    with out.capture() as captured:
        process_cli._print_report(ProcessReport(batches_damaged=2), as_json=False)
    [row] = [line for line in captured.get().splitlines() if "damaged" in line]
    assert "2" in row.split()


def test_the_demo_alerts_hint_is_runnable_as_printed() -> None:
    summary = SimpleNamespace(documents=0, by_source_lang={}, narratives={}, top_alarmist=[], duplicate_groups=0,
                              duplicates=0, alerts_fired=0, alerts_by_rule={}, mirror_url="http://127.0.0.1:1",
                              search_examples=[], run=SimpleNamespace(alerts={}))
    with out.capture() as captured:
        run_cli._print_summary(summary, ".venv/bin/mediamon")
    assert "`.venv/bin/mediamon alerts list`" in captured.get()


@pytest.mark.timeout(60)
def test_a_taken_mirror_port_is_one_line_naming_the_setting() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = subprocess.run([sys.executable, "-m", "mediamon.devtools.mirror", "--port", str(port)], cwd=REPO,
                              capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1
    assert proc.stderr.strip().count("\n") == 0 and "Traceback" not in proc.stderr
    assert f"127.0.0.1:{port}" in proc.stderr and "MEDIAMON_MIRROR_PORT" in proc.stderr
