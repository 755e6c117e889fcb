"""The local node keeps the project's secrets from its service user (issue 13, item 9).

On the second local node (never the main one): started from an environment
holding secrets, none of them reaches any process of the node; the keystore
the service user can read does not hold the ``elastic`` password once the
node is up; data and logs are readable by the service user alone. The
password still works.
"""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

import httpx
import psutil
import pytest

from mediamon.core.settings import Settings
from mediamon.devtools import localnode

CANARY = "canary-secret-0f9e8d7c"


def _password(settings: Settings) -> str:
    lines = settings.local_credentials_path.read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if "=" in line)["MEDIAMON_ES_PASSWORD"]


def _keystore_entries(settings: Settings) -> list[str]:
    home = localnode.es_dir(settings) / f"elasticsearch-{settings.es_version}"
    java_home = localnode.find_java_home(settings)
    listed = subprocess.run([str(home / "bin" / "elasticsearch-keystore"), "list"], capture_output=True, text=True,
                            env={"PATH": os.defpath, "ES_JAVA_HOME": str(java_home)}, check=True)
    return listed.stdout.split()


def _exposed(path: Path) -> list[str]:
    """Files and directories under ``path`` that a user other than the owner may read, write or enter."""
    found = [path] + [Path(root) / name for root, dirs, files in os.walk(path) for name in dirs + files]
    return [f"{p} {stat.filemode(p.lstat().st_mode)}" for p in found
            if not p.is_symlink() and p.lstat().st_mode & 0o077]


@pytest.mark.timeout(400)
def test_the_node_sees_no_secret_and_keeps_its_files_private(second_es_node: Settings,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("MEDIAMON_SMTP_PASSWORD", "MEDIAMON_ES_WRITER_PASSWORD", "MEDIAMON_WEBHOOK_URL"):
        monkeypatch.setenv(name, CANARY)
    localnode.stop(second_es_node)  # a node started earlier in the session inherited another environment
    info = localnode.start(second_es_node, heap="256m")
    password = _password(second_es_node)

    node = psutil.Process(info.pid)
    processes = [node, *node.children(recursive=True)]
    assert len(processes) >= 2  # the launcher and the server JVM
    for process in processes:
        environ = process.environ()
        leaked = [k for k, v in environ.items() if k.startswith("MEDIAMON_") or CANARY in v or password in v]
        assert not leaked, (process.pid, leaked)

    assert "bootstrap.password" not in _keystore_entries(second_es_node)
    node_dir = localnode.es_dir(second_es_node)
    assert _exposed(node_dir / "data") == [] and _exposed(node_dir / "logs") == []

    # the password still works without the keystore (a restart: tests/devtools/test_localnode.py)
    authenticated = httpx.get(f"{info.url}/_cluster/health", auth=("elastic", password), timeout=10).is_success
    assert authenticated  # computed first: a failure never prints the password
