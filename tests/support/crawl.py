"""`python -m crawlers` in a subprocess against the local mirror, and what it archived.

Each crawl is a subprocess because a Twisted reactor cannot restart within one
process — the same reason Airflow runs crawls as subprocesses.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import yaml

from mediamon.core.archive import iter_batches, read_manifest
from mediamon.devtools.mirror.server import MirrorServer
from tests.support.paths import REPO

# Politeness is for real sites; against the local mirror tests keep it fast. The shipped mid/rt sources render
# on challenge: the fault mirror's challenge never passes, and would hold the browser the default 15 s.
FAST = {"DOWNLOAD_DELAY": 0, "AUTOTHROTTLE_ENABLED": False, "MEDIAMON_RETRY_BACKOFF": 0.05, "RETRY_TIMES": 2,
        "LOG_LEVEL": "ERROR", "MEDIAMON_RENDER_SETTLE_S": 2.0}
# kremlin-ru (a feed and a list: two discovery pages, and their robots.txt) sent to a name that cannot resolve
UNRESOLVABLE = "http://kremlin.ru=http://nonexistent.invalid/ https://kremlin.ru=http://nonexistent.invalid/"


def crawl_command(data_dir: Path, *args: str, settings: dict[str, Any] | None = None,
                  module: str = "crawlers") -> list[str]:
    command = [sys.executable, "-m", module, "--json", *args]
    for key, value in {**FAST, **(settings or {})}.items():
        command += ["--set", f"{key}={json.dumps(value)}"]
    return command


def crawl_env(mirror: MirrorServer, data_dir: Path, **extra: str) -> dict[str, str]:
    return {**os.environ, "MEDIAMON_URL_REWRITE": mirror.url_rewrite(), "MEDIAMON_DATA_DIR": str(data_dir),
            "MEDIAMON_CONFIG_DIR": str(REPO / "config"), **extra}


def run_crawl(mirror: MirrorServer, data_dir: Path, *args: str, settings: dict[str, Any] | None = None,
              module: str = "crawlers", **env: str) -> tuple[int, dict[str, Any], str]:
    """``python -m crawlers`` (or ``module``: ``crawlers.backfill``) against the mirror: exit code, report, stderr."""
    proc = subprocess.run(crawl_command(data_dir, *args, settings=settings, module=module), cwd=REPO,
                          env=crawl_env(mirror, data_dir, **env), capture_output=True, text=True, timeout=240)
    report = json.loads(proc.stdout) if proc.stdout.strip() else {}
    return proc.returncode, report, proc.stderr


def archived_entries(data_dir: Path) -> list[dict[str, Any]]:
    return [dict(entry.as_json(), batch_dir=str(batch)) for batch in iter_batches(data_dir / "archive")
            for entry in read_manifest(batch)]


def fast_sources(directory: Path, ids: set[str] | None = None, **politeness: object) -> Path:
    """The real sources.yaml entries (``ids``, or all) with no politeness delay: a user's own --sources file."""
    entries = yaml.safe_load((REPO / "config" / "sources.yaml").read_text(encoding="utf-8"))["sources"]
    chosen = [dict(e, politeness={**e.get("politeness", {}), "download_delay": 0, **politeness})
              for e in entries if ids is None or e["id"] in ids]
    path = directory / "my-sources.yaml"
    path.write_text(yaml.safe_dump({"sources": chosen}, allow_unicode=True), encoding="utf-8")
    return path


def kill_after_batches(mirror: MirrorServer, data_dir: Path, batches: int, *args: str, settings: dict[str, Any],
                       module: str = "crawlers") -> None:
    """Start ``python -m <module>`` against the mirror and SIGKILL it once ``batches`` batches are committed."""
    proc = subprocess.Popen(crawl_command(data_dir, *args, settings=settings, module=module), cwd=REPO,
                            env=crawl_env(mirror, data_dir), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while len(list(iter_batches(data_dir / "archive"))) < batches:
            assert proc.poll() is None, f"{module} finished before it could be killed"
            assert time.monotonic() < deadline
            time.sleep(0.02)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait()
