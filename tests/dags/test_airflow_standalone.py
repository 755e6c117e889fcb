"""scripts/airflow-standalone.sh (`make airflow`) without running Airflow standalone for minutes: its functions.

The script, sourced, only defines them. What they must do: say when the crawl
state already holds the sample sites (nothing new to crawl, so processing and
alerts never run), keep the mediamon DAGs paused until the API server
answers (a task started before it fails), and on Ctrl-C stop `airflow
standalone` — which ignores SIGINT — and every process it started.
"""

from __future__ import annotations

import http.server
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
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


# Like `airflow standalone`: ignores SIGINT (and here SIGTERM too), starts components that ignore them as well,
# one of which leaves the session (a daemonising child); writes every pid it started, then waits.
STUBBORN = """
import os, signal, subprocess, sys, time
signal.signal(signal.SIGINT, signal.SIG_IGN)
signal.signal(signal.SIGTERM, signal.SIG_IGN)
code = "import os, signal, sys, time; signal.signal(signal.SIGINT, signal.SIG_IGN); " \\
       "signal.signal(signal.SIGTERM, signal.SIG_IGN); os.setsid() if sys.argv[1] == 'leave' else None; time.sleep(600)"
kids = [subprocess.Popen([sys.executable, "-c", code, how]) for how in ("stay", "leave")]
with open(sys.argv[1] + ".tmp", "w") as out:
    out.write(" ".join(str(p) for p in [os.getpid()] + [k.pid for k in kids]))
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
time.sleep(600)
"""


def running(pid: int) -> bool:
    """Alive and not a zombie (an orphan's zombie waits for whatever reaps in this container)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError):
        return False


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_ctrl_c_stops_the_supervised_process_and_everything_it_started(tmp_path: Path, sig: signal.Signals) -> None:
    stubborn, pids_file = tmp_path / "stubborn.py", tmp_path / "pids"
    stubborn.write_text(STUBBORN)
    shell = subprocess.Popen(["bash", "-c", f'source "{SCRIPT}" && stop_on_exit stand-in && '
                                            f'supervise "{sys.executable}" "{stubborn}" "{pids_file}"'],
                             env={**os.environ, "AIRFLOW_STOP_GRACE_S": "2"}, start_new_session=True,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             # as from a terminal: a suite started in the background (`cmd &` in a script)
                             # inherits SIGINT ignored, and bash cannot trap a signal ignored at its start
                             preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.monotonic() + 30
    while not pids_file.exists():
        assert time.monotonic() < deadline and shell.poll() is None, shell.communicate()
        time.sleep(0.1)
    pids = [int(p) for p in pids_file.read_text().split()]
    assert all(running(pid) for pid in pids)
    shell.send_signal(sig)  # what Ctrl-C does to the script (the terminal's foreground group holds the shell)
    _, err = shell.communicate(timeout=30)
    assert shell.returncode == 128 + sig
    assert "stopping stand-in" in err and "stopped" in err
    assert [pid for pid in pids if running(pid)] == []
