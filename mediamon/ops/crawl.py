"""One crawl in a fresh Python process, with its report brought back as JSON.

Why a subprocess: Twisted's reactor starts once per process and cannot restart,
so every crawl the DAGs, `mediamon run` or a polling loop start runs
``python -m crawlers`` with the settings passed through its environment.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mediamon.core.errors import ConfigError, OperationFailed
from mediamon.core.settings import Settings


class CrawlFailed(OperationFailed):
    """The crawler subprocess failed; the message carries its exit code and the failed sources' errors."""


class CrawlConfigError(ConfigError):
    """The crawler refused its configuration (exit code 2); its message is on stderr, above."""


@dataclass
class CrawlOutcome:
    report: dict[str, Any]
    new_batches: list[Path]
    failed_sources: list[str]


def crawl_in_subprocess(settings: Settings, source_ids: list[str] | None = None, timeout: float | None = None,
                        progress: bool = False, check: bool = True, log_file: Path | None = None,
                        scrapy_settings: dict[str, Any] | None = None) -> CrawlOutcome:
    """Crawl ``settings.sources_path`` (all sources, or ``source_ids``) in a child process.

    The child gets ``settings``' data dir, config dir, sources file and URL rewrite
    rules through its environment, so it crawls exactly what this process would
    process. Its log and progress go to our stderr (the task log) or to ``log_file``;
    its JSON report comes back on stdout. A failed source raises with the report's
    errors when ``check``, else it is returned in ``failed_sources`` so the other
    sources' batches still get processed.
    """
    command = [sys.executable, "-m", "crawlers", "--json"]
    for source_id in source_ids or []:
        command += ["--source", source_id]
    for key, value in (scrapy_settings or {}).items():
        command += ["--set", f"{key}={json.dumps(value)}"]
    if progress:
        command.append("--progress")
    with contextlib.ExitStack() as stack:
        stderr = None
        if log_file is not None:
            log_file.parent.mkdir(parents=True, exist_ok=True)
            stderr = stack.enter_context(open(log_file, "a", encoding="utf-8"))
        proc = subprocess.run(command, stdout=subprocess.PIPE, stderr=stderr, text=True, timeout=timeout,
                              env={**os.environ, **settings.crawler_environment()})
    report = _last_json_object(proc.stdout)
    where = f" (log: {log_file})" if log_file else ""
    if proc.returncode == 2:
        raise CrawlConfigError(f"the crawler rejected its configuration (sources file or MEDIAMON_URL_REWRITE){where}")
    if report is None or (check and proc.returncode != 0):
        what = ", ".join(source_ids or ["all sources"])
        raise CrawlFailed(f"crawl of {what} failed (exit {proc.returncode}){where}: "
                          f"{json.dumps(_failure_detail(report), ensure_ascii=False)}")
    return CrawlOutcome(report, [Path(p) for p in report.get("new_batches", [])],
                        list(report.get("failed_sources", [])))


def _last_json_object(stdout: str) -> dict[str, Any] | None:
    """The report: the whole of stdout when it is one JSON document, else its last JSON line."""
    text = stdout.strip()
    candidates = [text, *reversed(text.splitlines())]
    for candidate in candidates:
        try:
            value = json.loads(candidate)
        except ValueError:
            continue
        if isinstance(value, dict):
            return value
    return None


def _failure_detail(report: dict[str, Any] | None) -> Any:
    """What went wrong per failed source: its fatal error and error/blocked counts by reason."""
    if report is None:
        return "no report (see the log above)"
    sources = report.get("sources") or {}
    return {sid: {k: sources.get(sid, {}).get(k) for k in ("fatal", "page_errors", "errors", "blocked")}
            for sid in report.get("failed_sources", [])}
