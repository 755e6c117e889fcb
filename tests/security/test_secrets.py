"""The Elasticsearch password never leaves the environment: not in output, logs, archive, dead letters or git.

Real commands run with the real local credentials and maximum verbosity
(``mediamon -vv setup / crawl / process / search / es status / deadletter
list``, plus a failing command that holds the password but cannot connect);
then every byte they printed, every file under their data directory (logs,
archive WARCs and manifests, dead letters, quarantine, crawl state) and every
file tracked by git is searched for the password and for its Basic-auth form.
The same holds for a webhook's token under ``-v``/``-vv``, for a password written
into ``MEDIAMON_ES_URL``, and for a Kibana on another host than the local node.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import subprocess
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from dotenv import dotenv_values
from pydantic import SecretStr

from mediamon.core.settings import Settings
from mediamon.devtools.mirror.server import MirrorServer
from processing.alerts.deliver import send
from processing.alerts.message import Message
from processing.alerts.rules import Retry, WebhookChannel
from processing.store.kibana import KibanaError, import_saved_objects
from tests.support.alerting import doc, index
from tests.support.es import drop_prefix
from tests.support.paths import REPO
from tests.support.recording_server import Recorder

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


HOOK_TOKEN = "T0KEN-b7c41d9e-never-logged"


@pytest.mark.parametrize("verbosity", ["-v", "-vv"])
def test_verbose_logs_do_not_show_the_webhook_token(verbosity: str, es_settings: Settings, es_admin,
                                                    tmp_path: Path) -> None:
    """httpx logs each request's full URL at INFO; the webhook URL's path is its secret."""
    hook = f"/hooks/{HOOK_TOKEN}"
    receiver = Recorder({hook: (200, {}, b"ok")})
    now = datetime.now(UTC)
    index(es_admin, es_settings, [doc("pay", narratives=["eu_must_pay"], published=now - timedelta(minutes=10),
                                      indexed=now - timedelta(minutes=2))])
    rules = tmp_path / "alerts.yaml"
    rules.write_text("defaults: {channels: [hook]}\nchannels:\n  hook: {type: webhook, url_env: MEDIAMON_TEST_HOOK}\n"
                     "rules:\n  - {id: pay, type: match, query: 'narratives:eu_must_pay'}\n")
    env = {**os.environ, "MEDIAMON_INDEX_PREFIX": es_settings.index_prefix,
           "MEDIAMON_DATA_DIR": str(es_settings.data_dir), "MEDIAMON_LOCAL_ES_DIR": str(es_settings.local_es_dir),
           "MEDIAMON_TEST_HOOK": f"http://127.0.0.1:{receiver.port}{hook}", "COLUMNS": "1000"}  # no wrapped lines
    try:
        done = subprocess.run([MEDIAMON, verbosity, "alerts", "run", "--rules", str(rules)], env=env, cwd=tmp_path,
                              capture_output=True, timeout=120)
    finally:
        receiver.close()
    assert done.returncode == 0, done.stderr[-2000:]
    assert [r.path for r in receiver.requests] == [hook]  # delivered: the request that httpx logs was made
    assert HOOK_TOKEN.encode() not in done.stdout + done.stderr


def test_delivery_logs_kept_at_info_do_not_show_the_webhook_token(caplog: pytest.LogCaptureFixture,
                                                                   tmp_path: Path) -> None:
    """Airflow task logs keep INFO, where httpx writes each request's URL: the webhook's path must not be in it."""
    hook = f"/hooks/{HOOK_TOKEN}"
    receiver = Recorder({hook: (200, {}, b"ok")})
    channel = WebhookChannel(type="webhook", url=f"http://127.0.0.1:{receiver.port}{hook}")
    message = Message(rule="r", subject="s", text="t", chat_text="t", alert_ids=["a"])
    try:
        with caplog.at_level(logging.INFO, logger="httpx"):
            assert send(channel, message, Retry(attempts=1), tmp_path) is None
    finally:
        receiver.close()
    assert f"HTTP Request: POST http://127.0.0.1:{receiver.port}/" in caplog.text and HOOK_TOKEN not in caplog.text


def test_a_password_in_the_es_url_is_not_printed(tmp_path: Path) -> None:
    secret = "Url-Pa55word-4f1c9a"
    env = {**os.environ, "MEDIAMON_ES_URL": f"http://elastic:{secret}@127.0.0.1:9", "COLUMNS": "1000",
           "MEDIAMON_ES_MAX_RETRIES": "0", "MEDIAMON_DATA_DIR": str(tmp_path)}
    done = subprocess.run([MEDIAMON, "-vv", "search", "border"], env=env, cwd=tmp_path, capture_output=True,
                          timeout=60)
    assert done.returncode == 1 and b"cannot reach Elasticsearch at http://***@127.0.0.1:9" in done.stderr
    assert secret.encode() not in done.stdout + done.stderr


@pytest.fixture
def kibana() -> Iterator[Recorder]:
    imported = json.dumps({"success": True, "successCount": 1}).encode()
    server = Recorder({"/api/saved_objects/_import?overwrite=true": (200, {"Content-Type": "application/json"},
                                                                     imported)})
    yield server
    server.close()


def test_the_local_password_is_not_sent_to_a_kibana_on_another_host(es_base_settings: Settings, kibana: Recorder,
                                                                       password: str) -> None:
    # "localhost" is another host name than the node's 127.0.0.1, though it reaches this recorder
    settings = es_base_settings.model_copy(update={"kibana_url": f"http://localhost:{kibana.port}",
                                                   "config_dir": REPO / "config"})
    assert settings.es_password is not None and settings.es_password.get_secret_value() == password
    with pytest.raises(KibanaError, match="not on the local node's host") as refused:
        import_saved_objects(settings)
    assert kibana.requests == [] and password not in str(refused.value)


def test_kibana_gets_credentials_given_for_it(es_base_settings: Settings, kibana: Recorder) -> None:
    """The refusal is about the local password only: credentials set for that Kibana are sent."""
    settings = es_base_settings.model_copy(update={"kibana_url": f"http://localhost:{kibana.port}",
                                                   "config_dir": REPO / "config", "es_username": "kibana_admin",
                                                   "es_password": SecretStr("given-for-kibana")})
    assert import_saved_objects(settings).objects == len(kibana.requests) > 0
    basic = base64.b64encode(b"kibana_admin:given-for-kibana").decode()
    assert {r.headers["Authorization"] for r in kibana.requests} == {f"Basic {basic}"}
