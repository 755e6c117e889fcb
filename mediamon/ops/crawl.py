"""One crawl in a fresh Python process, with its report brought back as JSON.

Why a subprocess: Twisted's reactor starts once per process and cannot restart,
so every crawl the DAGs, `mediamon run` or a polling loop start runs
``python -m crawlers`` with the settings passed through its environment.

Stopping a crawl is graceful: the child gets SIGTERM (it commits its open
batches at once, then closes its spiders), and only a child still running after
a grace period is killed. That holds for our own ``timeout``, for an exception
raised while we wait (Airflow's ``execution_timeout`` raises one from SIGALRM)
and for a SIGTERM sent to this process alone, which is passed on to the child.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

from crawlers.stats import EXIT_INTERRUPTED
from mediamon.core.errors import ConfigError, OperationFailed
from mediamon.core.settings import Settings

log = logging.getLogger(__name__)
GRACE_S = 30.0  # how long a stopped crawler may take to close its spiders before it is killed


class CrawlFailed(OperationFailed):
    """The crawler subprocess failed; the message carries its exit code and the failed sources' errors."""


class CrawlConfigError(ConfigError):
    """The crawler refused its configuration (exit code 2); its message is on stderr, above."""


@dataclass
class CrawlOutcome:
    report: dict[str, Any]
    new_batches: list[Path]
    failed_sources: list[str]


class CrawlInterrupted(CrawlFailed):
    """The crawl was stopped (our timeout, or a signal) before it ended; ``outcome`` holds what it committed."""

    def __init__(self, message: str, outcome: CrawlOutcome | None) -> None:
        super().__init__(message)
        self.outcome = outcome


def _outcome(report: dict[str, Any]) -> CrawlOutcome:
    return CrawlOutcome(report, [Path(p) for p in report.get("new_batches", [])],
                        list(report.get("failed_sources", [])))


def _committed(outcome: CrawlOutcome | None) -> str:
    if outcome is None:
        return "no report, so its committed batches are unknown (they are in the archive all the same)"
    return f"{len(outcome.new_batches)} batch(es) committed: {', '.join(map(str, outcome.new_batches)) or '-'}"


def crawl_in_subprocess(settings: Settings, source_ids: list[str] | None = None, timeout: float | None = None,
                        progress: bool = False, check: bool = True, log_file: Path | None = None,
                        scrapy_settings: dict[str, Any] | None = None, grace: float = GRACE_S,
                        module: str = "crawlers", arguments: list[str] | None = None) -> CrawlOutcome:
    """Crawl ``settings.sources_path`` (all sources, or ``source_ids``) in a child process.

    The child gets ``settings``' data dir, config dir, sources file and URL rewrite
    rules through its environment, so it crawls exactly what this process would
    process. Its log and progress go to our stderr (the task log) or to ``log_file``;
    its JSON report comes back on stdout. A failed source raises with the report's
    errors when ``check``, else it is returned in ``failed_sources`` so the other
    sources' batches still get processed. A crawl stopped early raises
    ``CrawlInterrupted`` (after ``timeout`` seconds, or on SIGTERM) carrying the
    batches it committed; any other exception met while waiting (Airflow's
    timeout) is re-raised with them in a note. ``module`` and ``arguments`` run another
    crawler entry point with the same contract (``crawlers.backfill``).
    """
    command = [sys.executable, "-m", module, "--json", *(arguments or [])]
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
        proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=stderr, text=True,
                                env={**os.environ, **settings.crawler_environment()})
        with proc, _forward_sigterm(proc):
            try:
                stdout, _ = proc.communicate(timeout=timeout)
                timed_out = False
            except subprocess.TimeoutExpired:
                stdout, timed_out = _stop(proc, grace), True
            except BaseException as exc:  # Airflow's execution_timeout, KeyboardInterrupt: stop the child first
                report = _last_json_object(_stop(proc, grace))
                exc.add_note(f"the crawl was stopped; {_committed(_outcome(report) if report else None)}")
                raise
    report = _last_json_object(stdout)
    where = f" (log: {log_file})" if log_file else ""
    what = ", ".join(source_ids or ["all sources"])
    if timed_out or proc.returncode == EXIT_INTERRUPTED:
        outcome = _outcome(report) if report else None
        why = f"timed out after {timeout:g} s" if timed_out else "was stopped by a signal"
        raise CrawlInterrupted(f"crawl of {what} {why}{where}; {_committed(outcome)}", outcome)
    if proc.returncode == 2:
        raise CrawlConfigError(f"the crawler rejected its configuration (sources file or MEDIAMON_URL_REWRITE){where}")
    for source_id, stats in ((report or {}).get("sources") or {}).items():  # the task log's counts by reason
        log.log(logging.WARNING if stats.get("failed") else logging.INFO, "%s",
                source_line(source_id, stats, "crawl" if module == "crawlers" else module.rsplit(".", 1)[-1]))
    if report is None or (check and proc.returncode != 0):
        raise CrawlFailed(f"crawl of {what} failed (exit {proc.returncode}){where}: "
                          f"{json.dumps(_failure_detail(report), ensure_ascii=False)}")
    return _outcome(report)


def crawl_committed(settings: Settings, source_ids: list[str]) -> tuple[list[str], str | None]:
    """A scheduled crawl: the batches it committed, and why it stopped early (None when it ended by itself).

    The crawl stops itself (SIGTERM to the crawler, which commits its open
    batches) before the task's ``execution_timeout`` (``MEDIAMON_CRAWL_TIMEOUT_S``)
    would kill it, leaving time for the grace period. An interrupted crawl still
    returns what it committed, so those batches are announced and processed; the
    caller then fails the run with the reason (``raise_if_interrupted``).
    """
    stop_after = max(settings.crawl_timeout_s - 2 * GRACE_S, settings.crawl_timeout_s / 2)
    try:
        crawled = crawl_in_subprocess(settings, source_ids, timeout=stop_after)
    except CrawlInterrupted as exc:
        log.warning("%s", exc)
        return [str(p) for p in exc.outcome.new_batches] if exc.outcome else [], str(exc)
    return [str(p) for p in crawled.new_batches], None


def raise_if_interrupted(reason: str | None) -> None:
    """Fail (after the committed batches were announced) when the crawl was stopped early."""
    if reason:
        raise CrawlInterrupted(reason, None)


def source_line(source_id: str, stats: dict[str, Any], step: str = "crawl") -> str:
    """One source of a crawl report as one log line: pages read, then what became of the articles found, by reason."""
    def by_reason(key: str) -> str:
        counts = stats.get(key) or {}
        detail = ", ".join(f"{reason} {n}" for reason, n in sorted(counts.items()))
        return f"{sum(counts.values())} ({detail})" if counts else "0"

    fatal = stats.get("fatal")
    failed = (f"FAILED ({fatal}): " if fatal else "FAILED: ") if stats.get("failed") else ""
    return (f"{step} {source_id}: {failed}pages {stats.get('pages_fetched', 0)} "
            f"(304: {stats.get('pages_not_modified', 0)}, errors {by_reason('page_errors')}), "
            f"found {stats.get('found', 0)}, new {stats.get('archived', 0)}, seen {stats.get('already_seen', 0)}, "
            f"blocked {by_reason('blocked')}, errors {by_reason('errors')}")


def _stop(proc: subprocess.Popen[str], grace: float) -> str:
    """SIGTERM the crawler (it commits its open batches), kill it after ``grace`` seconds; its stdout."""
    proc.terminate()
    try:
        stdout, _ = proc.communicate(timeout=grace)
    except subprocess.TimeoutExpired:
        log.warning("the crawler did not stop within %g s of SIGTERM; killing it", grace)
        proc.kill()
        stdout, _ = proc.communicate()
    return stdout or ""


@contextlib.contextmanager
def _forward_sigterm(proc: subprocess.Popen[str]) -> Iterator[None]:
    """While the crawler runs, a SIGTERM to this process alone reaches it too (we then wait for its report).

    Airflow stops a task with SIGTERM to its process group, but a task runner
    that could not get a group of its own, or an operator's ``kill PID``, signals
    this process only: without this the crawler would run on, and be killed
    with its open batch when this process is.
    """
    previous = signal.getsignal(signal.SIGTERM)
    # Only the main thread may set handlers; a process that ignores SIGTERM has its reasons.
    if threading.current_thread() is not threading.main_thread() or previous == signal.SIG_IGN:
        yield
        return

    def forward(signum: int, frame: FrameType | None) -> None:
        if proc.poll() is None:
            proc.send_signal(signum)
        if callable(previous):  # Airflow's task runner: it calls the operator's on_kill
            previous(signum, frame)

    signal.signal(signal.SIGTERM, forward)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


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
