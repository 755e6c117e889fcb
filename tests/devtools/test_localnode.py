"""The project's own local Elasticsearch: JDK discovery, and a full start/status/stop cycle."""

from __future__ import annotations

import os
import re
import shutil
import stat
import subprocess
import sys
import uuid
from pathlib import Path

import httpx
import psutil
import pytest

from mediamon.core.settings import Settings
from mediamon.devtools import localnode


def _fake_jdk(root, name, version, vendor):
    home = root / name
    (home / "bin").mkdir(parents=True)
    (home / "bin" / "java").write_text("#!/bin/sh\n")
    (home / "release").write_text(f'JAVA_VERSION="{version}"\nIMPLEMENTOR="{vendor}"\n')
    return home


def test_missing_temurin_is_a_clear_error_naming_what_was_found(tmp_path, monkeypatch):
    monkeypatch.delenv("MEDIAMON_JAVA_HOME", raising=False)
    _fake_jdk(tmp_path, "java-17-openjdk-amd64", "17.0.15", "Debian")
    _fake_jdk(tmp_path, "temurin-17-jdk-amd64", "17.0.9", "Eclipse Adoptium")
    with pytest.raises(localnode.LocalESError) as err:
        localnode.find_java_home(Settings(jvm_root=tmp_path))
    message = str(err.value)
    assert "Temurin JDK >= 21" in message and str(tmp_path) in message
    assert "java-17-openjdk-amd64 (Java 17, Debian)" in message


def test_newest_temurin_at_least_21_is_chosen(tmp_path, monkeypatch):
    monkeypatch.delenv("MEDIAMON_JAVA_HOME", raising=False)
    _fake_jdk(tmp_path, "temurin-21-jdk-amd64", "21.0.5", "Eclipse Adoptium")
    newest = _fake_jdk(tmp_path, "temurin-25-jdk-amd64", "25.0.1", "Eclipse Adoptium")
    _fake_jdk(tmp_path, "java-26-openjdk", "26", "Oracle Corporation")
    assert localnode.find_java_home(Settings(jvm_root=tmp_path)) == newest


@pytest.fixture
def second_node(es_base_settings):
    """A second node in its own directory (next to the main one, so `nobody` can reach it)."""
    base = es_base_settings.local_es_dir.parent / f"es-lifecycle-{uuid.uuid4().hex[:8]}"
    base.mkdir(mode=0o755)
    settings = es_base_settings.model_copy(update={"local_es_dir": base, "es_url": None, "es_password": None})
    yield settings
    localnode.stop(settings)
    shutil.rmtree(base, ignore_errors=True)


def _first_words(steps: list[str]) -> list[str]:
    return [step.split()[0] for step in steps]


def test_start_status_stop_leaves_no_process(second_node):
    steps: list[str] = []  # the status lines `mediamon es start` prints
    info = localnode.start(second_node, heap="256m", on_step=steps.append)
    assert _first_words(steps) == ["fetching", "configuring", "starting"]
    creds = second_node.local_credentials_path
    assert stat.S_IMODE(creds.stat().st_mode) == 0o600
    password = dict(line.split("=", 1) for line in creds.read_text().splitlines() if "=" in line)[
        "MEDIAMON_ES_PASSWORD"]
    assert info.url.startswith("http://127.0.0.1:")
    status = localnode.status(second_node)
    assert status["running"] and status["health"] in ("green", "yellow")
    leaked = password in repr(status)
    assert not leaked
    # bound to loopback only, security on
    health = f"{info.url}/_cluster/health"
    assert httpx.get(health, timeout=5).status_code == 401
    # computed first so a failure never prints the password in the assertion message
    authenticated = httpx.get(health, auth=("elastic", password), timeout=5).status_code == 200
    assert authenticated
    children = psutil.Process(info.pid).children(recursive=True)
    assert localnode.stop(second_node) is True
    assert not psutil.pid_exists(info.pid) or psutil.Process(info.pid).status() == psutil.STATUS_ZOMBIE
    assert not [c for c in children if c.is_running() and c.status() != psutil.STATUS_ZOMBIE]
    assert localnode.status(second_node)["running"] is False
    # the second start reuses the unpacked distribution and the same password
    steps.clear()
    again = localnode.start(second_node, heap="256m", on_step=steps.append)
    authenticated = httpx.get(f"{again.url}/_cluster/health", auth=("elastic", password), timeout=5).is_success
    assert authenticated
    assert _first_words(steps) == ["configuring", "starting"]
    steps.clear()
    assert localnode.start(second_node, on_step=steps.append) == again
    assert steps == [f"Elasticsearch already running (pid {again.pid}); waiting for cluster health"]


def test_es_start_prints_a_status_line_per_step(es_base_settings):
    """`mediamon es start` on the running main node: its step, then where the node is (never a silence)."""
    env = {**os.environ, "MEDIAMON_LOCAL_ES_DIR": str(es_base_settings.local_es_dir), "COLUMNS": "200"}
    proc = subprocess.run([str(Path(sys.executable).parent / "mediamon"), "es", "start"], env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    pid = localnode.read_node(es_base_settings).pid
    assert re.search(rf"^ *\d+\.\ds Elasticsearch already running \(pid {pid}\)", proc.stderr, re.M), proc.stderr
    assert f"ready at http://127.0.0.1:{localnode.read_node(es_base_settings).port}" in proc.stderr
