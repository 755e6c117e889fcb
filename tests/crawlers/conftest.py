"""Crawler test helpers: the mirror on 127.0.0.1 and `python -m crawlers` run in a subprocess.

Each crawl is a subprocess because a Twisted reactor cannot restart within one
process — the same reason Airflow runs crawls as subprocesses.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from crawlers.archive import iter_batches, read_manifest
from mediamon.mirror.server import MirrorServer

REPO = Path(__file__).resolve().parents[2]
# Politeness is for real sites; against the local mirror tests keep it fast.
FAST = {"DOWNLOAD_DELAY": 0, "AUTOTHROTTLE_ENABLED": False, "MEDIAMON_RETRY_BACKOFF": 0.05, "RETRY_TIMES": 2,
        "LOG_LEVEL": "ERROR"}


def crawl_command(data_dir: Path, *args: str, settings: dict[str, Any] | None = None) -> list[str]:
    command = [sys.executable, "-m", "crawlers", "--json", *args]
    for key, value in {**FAST, **(settings or {})}.items():
        command += ["--set", f"{key}={json.dumps(value)}"]
    return command


def crawl_env(mirror: MirrorServer, data_dir: Path, **extra: str) -> dict[str, str]:
    return {**os.environ, "MEDIAMON_URL_REWRITE": mirror.url_rewrite(), "MEDIAMON_DATA_DIR": str(data_dir),
            "MEDIAMON_CONFIG_DIR": str(REPO / "config"), **extra}


def run_crawl(mirror: MirrorServer, data_dir: Path, *args: str, settings: dict[str, Any] | None = None,
              **env: str) -> tuple[int, dict[str, Any], str]:
    proc = subprocess.run(crawl_command(data_dir, *args, settings=settings), cwd=REPO,
                          env=crawl_env(mirror, data_dir, **env), capture_output=True, text=True, timeout=240)
    report = json.loads(proc.stdout) if proc.stdout.strip() else {}
    return proc.returncode, report, proc.stderr


def archived_entries(data_dir: Path) -> list[dict[str, Any]]:
    return [dict(entry, batch_dir=str(batch)) for batch in iter_batches(data_dir / "archive")
            for entry in read_manifest(batch)]


@pytest.fixture(scope="module")
def mirror() -> Iterator[MirrorServer]:
    with MirrorServer(faults=True) as server:
        yield server
