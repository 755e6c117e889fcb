"""Airflow for the DAG tests: a throw-away AIRFLOW_HOME (SQLite metadata), the repo's dags/ folder.

Airflow reads its configuration when first imported, so the environment is set
here, at collection time, before any test module imports it. Retry delays are
shortened through the same variables production uses (mediamon.ops.scheduling),
so a failing crawl retries in a second instead of minutes.
"""

from __future__ import annotations

import atexit
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from tests.support.paths import REPO

AIRFLOW_HOME = Path(tempfile.mkdtemp(prefix="mediamon-airflow-"))
atexit.register(shutil.rmtree, AIRFLOW_HOME, True)

os.environ.update({
    "AIRFLOW_HOME": str(AIRFLOW_HOME),
    "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "dags"),
    "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
    "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
    "MEDIAMON_CONFIG_DIR": str(REPO / "config"),
    "MEDIAMON_CRAWL_RETRIES": "1",
    "MEDIAMON_CRAWL_RETRY_DELAY_S": "1",
    "MEDIAMON_CRAWL_TIMEOUT_S": "300",
    "MEDIAMON_STAGE_RETRIES": "0",
})


@pytest.fixture(scope="session")
def airflow_db() -> Path:
    """The metadata database, migrated once per session (SQLite under the throw-away AIRFLOW_HOME)."""
    proc = subprocess.run([str(Path(sys.executable).parent / "airflow"), "db", "migrate"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    return AIRFLOW_HOME
