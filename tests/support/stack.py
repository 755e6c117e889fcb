"""Driving the running `mediamon stack` from tests: its settings, Airflow's REST API, waiting for runs.

The stack is started once per session (tests/stack/conftest.py) in a fresh
directory with a reduced sources file, so one scheduled cycle fits the budget.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import yaml

from mediamon.core.settings import Settings
from mediamon.devtools.stack import airflow_services
from mediamon.devtools.stack.layout import StackLayout
from tests.support.paths import CONFIG

# Sources the stack tests crawl from the mirror: a feed, a listing and Telegram, and enough alarmist
# narrative content for the default alert rules to fire.
STACK_SOURCES = ("tass-ru", "mid-ru", "telegram-mfarussia")
# Cron schedules trigger at their next tick (catchup off): every 2 minutes, a cycle starts soon after the stack.
STACK_SCHEDULE = "*/2 * * * *"


def stack_config(target: Path, sources: tuple[str, ...] = STACK_SOURCES, schedule: str | None = STACK_SCHEDULE) -> Path:
    """A copy of config/ whose sources.yaml keeps only ``sources`` (and, given, one schedule for all)."""
    target.mkdir(parents=True, exist_ok=True)
    for item in CONFIG.iterdir():
        if item.is_file():
            (target / item.name).write_bytes(item.read_bytes())
        elif item.is_dir():
            (target / item.name).symlink_to(item, target_is_directory=True)
    doc = yaml.safe_load((CONFIG / "sources.yaml").read_text())
    doc["sources"] = [s for s in doc["sources"] if s["id"] in sources]
    if schedule:
        for source in doc["sources"]:
            source["schedule"] = schedule
    (target / "sources.yaml").write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False))
    return target


def wait_for(what: str, check: Callable[[], Any], timeout: float, every: float = 2.0) -> Any:
    """Poll ``check`` until it returns something truthy; fail naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what} (last: {last!r})")


@dataclass
class AirflowAPI:
    """The stack's Airflow REST API (v2) as the admin user."""

    settings: Settings

    def __post_init__(self) -> None:
        layout = StackLayout.of(self.settings)
        self.base = airflow_services.api_url(layout.ports())
        password = layout.secrets()["AIRFLOW_ADMIN_PASSWORD"]
        token = httpx.post(f"{self.base}/auth/token", json={"username": airflow_services.ADMIN_USER,
                                                            "password": password}, timeout=30)
        token.raise_for_status()
        self.client = httpx.Client(base_url=f"{self.base}/api/v2", timeout=30,
                                   headers={"Authorization": f"Bearer {token.json()['access_token']}"})

    def get(self, path: str, **params: Any) -> dict[str, Any]:
        resp = self.client.get(path, params=params)
        resp.raise_for_status()
        return resp.json()

    def runs(self, dag_id: str) -> list[dict[str, Any]]:
        return self.get(f"/dags/{dag_id}/dagRuns", limit=100, order_by="-run_after")["dag_runs"]

    def task_instances(self, dag_id: str, run_id: str) -> list[dict[str, Any]]:
        return self.get(f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances", limit=500)["task_instances"]

    def tries(self, dag_id: str, run_id: str, task_id: str, map_index: int) -> list[dict[str, Any]]:
        return self.get(f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/{map_index}/tries")[
            "task_instances"]

    def trigger(self, dag_id: str, conf: dict[str, Any] | None = None) -> str:
        resp = self.client.post(f"/dags/{dag_id}/dagRuns", json={"logical_date": None, "conf": conf or {}})
        resp.raise_for_status()
        return resp.json()["dag_run_id"]

    def finished_run(self, dag_id: str, run_id: str, timeout: float) -> dict[str, Any]:
        def done() -> dict[str, Any] | None:
            run = self.get(f"/dags/{dag_id}/dagRuns/{run_id}")
            return run if run["state"] in ("success", "failed") else None

        return wait_for(f"{dag_id} run {run_id} to finish", done, timeout)
