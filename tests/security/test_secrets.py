"""The Elasticsearch password never leaves the environment: not in output, logs, archive, dead letters or git.

Real commands run with the real local credentials and maximum verbosity
(``mediamon -vv setup / crawl / process / search / es status / deadletter
list``, plus a failing command that holds the password but cannot connect);
then every byte they printed, every file under their data directory (logs,
archive WARCs and manifests, dead letters, quarantine, crawl state) and every
file tracked by git is searched for the password and for its Basic-auth form.
"""

from __future__ import annotations

import base64
import os
import subprocess
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import yaml
from dotenv import dotenv_values

from mediamon.core.settings import Settings
from mediamon.devtools.mirror.server import MirrorServer
from tests.support.es import drop_prefix
from tests.support.paths import REPO

MEDIAMON = str(REPO / ".venv" / "bin" / "mediamon")
SOURCE = "kremlin-en"  # four sample articles: a full crawl and process in seconds

pytestmark = pytest.mark.timeout(300)


@pytest.fixture(scope="module")
def password(es_base_settings: Settings) -> str:
    """The elastic password exactly as the local node's credentials file holds it."""
    values = dotenv_values(es_base_settings.local_credentials_path)
    secret = values.get("MEDIAMON_ES_PASSWORD")
    assert secret and len(secret) >= 12, "the local node's credentials file has no usable password"
    return secret


def needles(es_base_settings: Settings, secret: str) -> list[bytes]:
    basic = base64.b64encode(f"{es_base_settings.es_username}:{secret}".encode())
    return [secret.encode(), basic]


@pytest.fixture(scope="module")
def runs(es_base_settings: Settings, es_admin, tmp_path_factory: pytest.TempPathFactory
         ) -> Iterator[dict[str, Any]]:
    """Every command's output, and the data directory they all wrote to."""
    root = tmp_path_factory.mktemp("secrets")
    data_dir = root / "data"
    prefix = f"t{uuid.uuid4().hex[:10]}"
    sources = yaml.safe_load((REPO / "config" / "sources.yaml").read_text(encoding="utf-8"))
    entry = next(s for s in sources["sources"] if s["id"] == SOURCE)
    entry["politeness"] = {**entry.get("politeness", {}), "download_delay": 0}
    sources_file = root / "sources.yaml"
    sources_file.write_text(yaml.safe_dump({"sources": [entry]}, allow_unicode=True), encoding="utf-8")
    outputs: list[tuple[list[str], subprocess.CompletedProcess[bytes]]] = []
    with MirrorServer(faults=True) as mirror:
        env = {**os.environ, "MEDIAMON_DATA_DIR": str(data_dir), "MEDIAMON_INDEX_PREFIX": prefix,
               "MEDIAMON_LOCAL_ES_DIR": str(es_base_settings.local_es_dir),
               "MEDIAMON_CONFIG_DIR": str(REPO / "config"), "MEDIAMON_URL_REWRITE": mirror.url_rewrite()}
        # holds the password but cannot reach the cluster: error paths must not print it either
        unreachable = {**env, "MEDIAMON_ES_URL": "http://127.0.0.1:9", "MEDIAMON_ES_USERNAME": "elastic",
                       "MEDIAMON_ES_PASSWORD": es_base_settings.es_password.get_secret_value(),
                       "MEDIAMON_ES_MAX_RETRIES": "0"}
        # each step's commands are independent of each other: run them side by side
        steps = [[(["-vv", "setup"], env), (["-vv", "crawl", "--sources", str(sources_file)], env),
                  (["-vv", "es", "status", "--json"], env)],
                 [(["-vv", "process", "--workers", "1", "--no-progress"], env)],
                 [(["-vv", "search", "Lukashenko", "--json"], env), (["-vv", "search", "border"], unreachable)]]
        for step in steps:
            started = [(args, subprocess.Popen([MEDIAMON, *args], cwd=root, env=step_env, stdout=subprocess.PIPE,
                                               stderr=subprocess.PIPE)) for args, step_env in step]
            for args, proc in started:
                stdout, stderr = proc.communicate(timeout=200)
                outputs.append((args, subprocess.CompletedProcess(args, proc.returncode, stdout, stderr)))
    try:
        yield {"outputs": outputs, "data_dir": data_dir, "prefix": prefix}
    finally:
        drop_prefix(es_admin, prefix)


def test_the_commands_really_worked(runs: dict[str, Any]) -> None:
    by_command = {" ".join(args[1:3]): done for args, done in runs["outputs"]}
    assert by_command["setup"].returncode == 0, by_command["setup"].stderr[-2000:]
    assert by_command["crawl --sources"].returncode == 0, by_command["crawl --sources"].stderr[-2000:]
    assert by_command["process --workers"].returncode == 0, by_command["process --workers"].stderr[-2000:]
    assert by_command["search Lukashenko"].stdout.strip(), "the search found nothing: the pipeline did not run"
    assert by_command["search border"].returncode != 0  # the unreachable cluster failed, as it must
    manifests = list((runs["data_dir"] / "archive").rglob("*.jsonl"))
    assert manifests, "the crawl archived nothing"


def test_password_is_in_no_command_output(runs: dict[str, Any], password: str, es_base_settings: Settings) -> None:
    for args, done in runs["outputs"]:
        for needle in needles(es_base_settings, password):
            assert needle not in done.stdout and needle not in done.stderr, f"mediamon {' '.join(args)} leaks it"


def test_password_is_in_no_file_under_the_data_dir(runs: dict[str, Any], password: str,
                                                   es_base_settings: Settings) -> None:
    files = [p for p in runs["data_dir"].rglob("*") if p.is_file()]
    assert any("archive" in p.parts for p in files)
    leaking = [p for p in files for needle in needles(es_base_settings, password) if needle in p.read_bytes()]
    assert not leaking, f"the password is written to {leaking}"


def test_password_is_in_no_tracked_file(password: str, es_base_settings: Settings) -> None:
    tracked = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True).stdout
    paths = [REPO / name for name in tracked.decode().split("\0") if name]
    assert len(paths) > 50
    leaking = [p for p in paths if p.is_file()
               and any(needle in p.read_bytes() for needle in needles(es_base_settings, password))]
    assert not leaking, f"tracked files hold the password: {leaking}"
