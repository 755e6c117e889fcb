"""Hostile titles cannot crash, restyle or plant links in the analyst's terminal.

Documents whose titles hold Rich markup (``[/]``, ``[link=…]``) and terminal
escape sequences (an OSC 8 hyperlink, a window-title change, clear-screen) are
indexed in the real node; ``mediamon search`` and ``mediamon alerts list`` run as
real processes with Rich forced into terminal mode (as on an analyst's screen).
Their output must show the titles as plain text: exit 0, no hyperlink, no foreign
escape sequence. The run/demo and crawl summaries are rendered the same way.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from rich.console import Console

from crawlers.stats import CrawlReport, SourceStats
from mediamon.cli import crawl, run
from mediamon.core.settings import Settings
from mediamon.ops.demo import DemoSummary
from mediamon.ops.run import RunReport
from tests.support.alerting import doc, index
from tests.support.paths import REPO

MEDIAMON = str(REPO / ".venv" / "bin" / "mediamon")
OSC_LINK = "\x1b]8;;https://evil.example/\x1b\\Official statement\x1b]8;;\x1b\\"
HOSTILE = ["Лавров [/] заявил", "[link=https://evil.example/]MFA statement[/link] [bold red]ALERT[/]",
           f"{OSC_LINK} of the ministry", "\x1b]0;pwned\x07\x1b[2J\x1b[8mhidden\x9b2J"]
INJECTED = ["\x1b]", "\x1b[2J", "\x1b[8m", "\x07", "\x9b"]  # Rich itself writes only SGR colours (ESC [ … m) here


def assert_inert(output: str) -> None:
    for sequence in INJECTED:
        assert sequence not in output, f"{sequence!r} reached the terminal"
    assert "Official statement" in output and "[link=https://evil.example/]MFA statement" in output


def cli(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "MEDIAMON_INDEX_PREFIX": settings.index_prefix, "MEDIAMON_DATA_DIR": str(settings.data_dir),
           "MEDIAMON_LOCAL_ES_DIR": str(settings.local_es_dir), "FORCE_COLOR": "1", "COLUMNS": "400"}
    return subprocess.run([MEDIAMON, *args], env=env, capture_output=True, text=True, timeout=120)


@pytest.fixture
def hostile(es_settings: Settings, es_admin) -> Settings:
    now = datetime.now(UTC)
    index(es_admin, es_settings, [doc(f"hostile-{n}", title=title, narratives=["eu_must_pay"],
                                      published=now - timedelta(minutes=10), indexed=now - timedelta(minutes=2))
                                  for n, title in enumerate(HOSTILE)])
    return es_settings


def test_search_table_shows_hostile_titles_as_plain_text(hostile: Settings) -> None:
    result = cli(hostile, "search")
    assert result.returncode == 0, result.stderr[-2000:]
    assert "4 documents match" in result.stdout and "Лавров [/] заявил" in result.stdout
    assert_inert(result.stdout)


def test_search_json_keeps_titles_exact_with_every_control_escaped(hostile: Settings) -> None:
    result = cli(hostile, "search", "--json")
    assert result.returncode == 0, result.stderr[-2000:]
    assert not any(ch in result.stdout for ch in "\x1b\x07\x9b")
    assert sorted(json.loads(line)["title"] for line in result.stdout.splitlines()) == sorted(HOSTILE)


def test_alerts_list_shows_hostile_summaries_as_plain_text(hostile: Settings, tmp_path) -> None:
    rules = tmp_path / "alerts.yaml"
    rules.write_text("channels:\n  file: {type: file, path: out.jsonl}\n"
                     "rules:\n  - {id: pay, type: match, query: 'narratives:eu_must_pay'}\n")
    fired = cli(hostile, "alerts", "run", "--rules", str(rules))
    assert fired.returncode == 0, fired.stderr[-2000:]
    listed = cli(hostile, "alerts", "list")
    assert listed.returncode == 0, listed.stderr[-2000:]
    assert "4 alerts" in listed.stdout and "Лавров [/] заявил" in listed.stdout
    assert "[link=https://evil.example/]MFA statement" in listed.stdout
    assert not any(sequence in listed.stdout for sequence in INJECTED)


@pytest.fixture
def terminal(monkeypatch: pytest.MonkeyPatch) -> io.StringIO:
    """The commands' stdout console, writing to a buffer as to a wide colour terminal."""
    buffer = io.StringIO()
    screen = Console(file=buffer, force_terminal=True, width=400)
    monkeypatch.setattr(run, "out", screen)
    monkeypatch.setattr(crawl, "out", screen)
    return buffer


def test_demo_summary_shows_hostile_index_content_as_plain_text(terminal: io.StringIO) -> None:
    top = [{"alarmism": 0.9, "source": "tass-ru", "lang": "ru", "title": title, "alarmism_terms": ["[/]"]}
           for title in HOSTILE]
    summary = DemoSummary(run=RunReport(), mirror_url="http://127.0.0.1:1", documents=4,
                          by_source_lang={"[/]src": {"r[/]u": 4}}, duplicate_groups=0, duplicates=0,
                          narratives={"[link=https://evil.example/]n[/link]": 1}, top_alarmist=top, alerts_fired=0,
                          alerts_by_rule={}, search_examples=[], report=None, report_since=None)
    run._print_summary(summary, "mediamon")
    assert_inert(terminal.getvalue())
    assert "[/]src" in terminal.getvalue() and "r[/]u" in terminal.getvalue()


def test_crawl_table_shows_hostile_errors_as_plain_text(terminal: io.StringIO) -> None:
    stats = SourceStats(source="tass-ru", errors=Counter({"[/]": 1, HOSTILE[1]: 1}),
                        page_errors=Counter({OSC_LINK: 1}))
    failed = SourceStats(source="rt-ru", fatal=HOSTILE[3] + " [/]")
    crawl._print_crawl(CrawlReport(sources={"tass-ru": stats, "rt-ru": failed}))
    assert_inert(terminal.getvalue())
    assert "hidden 2J [/]" in terminal.getvalue()
