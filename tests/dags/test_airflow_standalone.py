"""scripts/airflow-standalone.sh (`make airflow`) without running Airflow standalone for minutes: its functions.

The script, sourced, only defines them. What they must do: say when the crawl
state already holds the sample sites (nothing new to crawl, so processing and
alerts never run), and keep the mediamon DAGs paused until the API server
answers (a task started before it fails).
"""

from __future__ import annotations

import http.server
import json
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from mediamon.devtools.mirror.server import MirrorServer
from tests.support.crawl import fast_sources, run_crawl
from tests.support.paths import REPO

SCRIPT = REPO / "scripts" / "airflow-standalone.sh"
AIRFLOW = Path(sys.executable).parent / "airflow"


def script(function_call: str, timeout: float = 120, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", "-c", f'source "{SCRIPT}" && {function_call}'], env={**os.environ, **env},
                          capture_output=True, text=True, timeout=timeout)


def test_the_script_parses() -> None:
    assert subprocess.run(["bash", "-n", str(SCRIPT)]).returncode == 0


def test_a_data_dir_that_crawled_the_sample_sites_gets_a_note_with_the_fix(mirror: MirrorServer,
                                                                           tmp_path: Path) -> None:
    data = tmp_path / "data"
    assert script(f'crawl_state_note "{data}"').stdout == ""  # a fresh data dir: nothing to say
    rc, report, _ = run_crawl(mirror, data, "--sources", str(fast_sources(tmp_path, {"rt-ru"})))
    assert rc == 0 and report["archived"] > 0
    note = script(f'crawl_state_note "{data}"').stdout
    assert "crawl DAGs will find nothing new" in note and "make clean && make airflow" in note


@pytest.fixture
def health_endpoint() -> Iterator[int]:
    """A local server answering 200 on Airflow's API health path: the API server, up."""
    class Health(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200 if self.path == "/api/v2/monitor/health" else 404)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Health)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1]
    server.shutdown()


def paused(env: dict[str, str]) -> dict[str, bool]:
    proc = subprocess.run([str(AIRFLOW), "dags", "list", "-o", "json", "--columns", "dag_id,is_paused"],
                          env={**os.environ, **env}, capture_output=True, text=True, timeout=120)
    rows = json.loads(next(line for line in proc.stdout.splitlines() if line.startswith("[")))  # after warnings
    return {row["dag_id"]: row["is_paused"] == "True" for row in rows}


def test_the_dags_stay_paused_until_the_api_answers(health_endpoint: int, tmp_path: Path) -> None:
    env = {"AIRFLOW_HOME": str(tmp_path / "airflow"), "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
           "AIRFLOW__CORE__LOAD_EXAMPLES": "False", "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "dags")}
    (tmp_path / "airflow").mkdir()
    assert script("pause_mediamon_dags", **env).returncode == 0
    before = paused(env)
    assert "mediamon_health" in before and all(before.values())
    with socket.socket() as sock:  # nobody listens here: the API is not up, the DAGs stay paused
        sock.bind(("127.0.0.1", 0))
        down = script("unpause_when_up", AIRFLOW__API__PORT=str(sock.getsockname()[1]), AIRFLOW_API_WAIT_S="1", **env)
    assert "the DAGs stay paused" in down.stderr
    up = script("unpause_when_up", AIRFLOW__API__PORT=str(health_endpoint), **env)
    assert "mediamon DAGs unpaused" in up.stdout, up.stderr
    after = paused(env)
    assert after.keys() == before.keys() and not any(after.values())
