"""The production stack file: valid for docker-compose, every service checked, every variable documented.

There is no container engine here, so the file is validated by Debian's
``docker-compose config`` (which resolves anchors, variables and depends_on)
and its resolved form is checked service by service.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.support.paths import REPO

COMPOSE = REPO / "docker-compose.yml"
ENV_EXAMPLE = REPO / ".env.example"
AIRFLOW_SERVICES = {"airflow-apiserver", "airflow-scheduler", "airflow-dag-processor", "airflow-triggerer",
                    "airflow-worker-1", "airflow-worker-2"}
ES_NODES = {"elasticsearch", "elasticsearch-2", "elasticsearch-3"}
VARIABLE = re.compile(r"(?<!\$)\$\{([A-Z_][A-Z0-9_]*)(?:[:?-][^}]*)?\}")
GUARDED = re.compile(r"(?<!\$)\$\{([A-Z_][A-Z0-9_]*):\?set \1 in \.env \(see \.env\.example\)\}")
ONE_SHOT = {"es-certs", "mediamon-init", "kibana-init", "airflow-init"}


def _docker_compose() -> str:
    exe = shutil.which("docker-compose")
    if exe is None:
        if os.environ.get("CI") == "true":
            pytest.fail("docker-compose is required in CI (.ci/run installs Debian's docker-compose)")
        pytest.skip("docker-compose is not installed (apt-get install docker-compose)")
    return exe


def _clean_env() -> dict[str, str]:
    """This process's environment without any variable the compose file reads."""
    return {k: v for k, v in os.environ.items() if k not in _env_example()}


def _config(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    return subprocess.run([_docker_compose(), *args, "config"], capture_output=True, text=True, cwd=cwd,
                          env=_clean_env(), timeout=120)


def _env_example() -> dict[str, str]:
    values = {}
    for line in ENV_EXAMPLE.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip()
    return values


def _mount(volume: str | dict) -> tuple[str, str]:
    """docker-compose 1.x prints short syntax (``src:target:mode``), compose v2 long syntax."""
    if isinstance(volume, dict):
        return volume["source"], volume["target"]
    source, target, *_ = volume.split(":")
    return source, target


@pytest.fixture(scope="module")
def resolved() -> dict:
    """``docker-compose config`` output with .env.example as the environment; no warnings allowed."""
    proc = _config("--env-file", str(ENV_EXAMPLE), "-f", str(COMPOSE))
    assert proc.returncode == 0, proc.stderr
    assert "not set" not in proc.stderr, proc.stderr
    return yaml.safe_load(proc.stdout)


def test_every_variable_is_in_env_example_and_every_example_is_used() -> None:
    used = set(VARIABLE.findall(COMPOSE.read_text()))
    documented = set(_env_example())
    assert used - documented == set(), "used in docker-compose.yml but missing from .env.example"
    assert documented - used == set(), "listed in .env.example but unused"


def test_every_variable_is_required_with_a_message_naming_it() -> None:
    text = COMPOSE.read_text()
    assert VARIABLE.findall(text) == GUARDED.findall(text)


def test_a_missing_secret_stops_compose_naming_it(tmp_path: Path) -> None:
    partial = tmp_path / "partial.env"
    partial.write_text("\n".join(line for line in ENV_EXAMPLE.read_text().splitlines()
                                 if not line.startswith("ELASTIC_PASSWORD=")))
    proc = _config("--env-file", str(partial), "-f", str(COMPOSE))
    assert proc.returncode != 0 and "set ELASTIC_PASSWORD in .env" in proc.stderr, proc.stderr


def test_without_env_compose_refuses_to_start(tmp_path: Path) -> None:
    """A fresh checkout without .env: no "validates with warnings", a refusal that names what to set."""
    (tmp_path / "docker-compose.yml").write_text(COMPOSE.read_text())
    proc = _config(cwd=tmp_path)
    assert proc.returncode != 0 and re.search(r"set [A-Z_]+ in \.env \(see \.env\.example\)", proc.stderr), \
        proc.stderr


def test_the_stack_has_every_component(resolved: dict) -> None:
    assert set(resolved["services"]) == {"es-certs", *ES_NODES, "mediamon-init", "kibana", "kibana-init",
                                         "postgres", "redis", "airflow-init", *AIRFLOW_SERVICES}


def test_every_service_has_an_image_and_a_health_check(resolved: dict) -> None:
    for name, service in resolved["services"].items():
        assert service.get("image"), f"{name} has no image"
        check = service.get("healthcheck", {})
        assert check.get("test") and not check.get("disable"), f"{name} has no health check"


def test_dependencies_wait_for_health_or_completion(resolved: dict) -> None:
    services = resolved["services"]
    one_shot = {name for name, s in services.items() if s.get("restart") == "no"}
    assert one_shot == ONE_SHOT
    for name, service in services.items():
        for dependency, spec in service.get("depends_on", {}).items():
            assert dependency in services, f"{name} depends on unknown {dependency}"
            wanted = "service_completed_successfully" if dependency in one_shot else "service_healthy"
            assert spec["condition"] == wanted, f"{name} -> {dependency}"
    for name in AIRFLOW_SERVICES:
        assert {"postgres", "redis", "mediamon-init", "airflow-init"} <= set(services[name]["depends_on"]), name
    assert {"elasticsearch", "mediamon-init"} <= set(services["kibana"]["depends_on"])
    assert set(services["kibana-init"]["depends_on"]) == {"kibana"}
    for node in ES_NODES:
        assert set(services[node]["depends_on"]) == {"es-certs"}, node


def test_elasticsearch_is_the_official_9_image_with_security_on(resolved: dict) -> None:
    es = resolved["services"]["elasticsearch"]
    assert re.fullmatch(r"docker\.elastic\.co/elasticsearch/elasticsearch:9\.\d+\.\d+", es["image"])
    assert es["environment"]["xpack.security.enabled"] == "true"
    assert es["environment"]["ELASTIC_PASSWORD"] == _env_example()["ELASTIC_PASSWORD"]
    kibana = resolved["services"]["kibana"]
    assert kibana["image"].startswith("docker.elastic.co/kibana/kibana:9.")
    assert kibana["environment"]["ELASTICSEARCH_USERNAME"] == "kibana_system"
    # memlock ulimits only matter when Elasticsearch locks its memory
    assert es["ulimits"]["memlock"] and es["environment"]["bootstrap.memory_lock"] == "true"


def test_http_tls_is_on_with_certificates_generated_in_the_stack(resolved: dict) -> None:
    services = resolved["services"]
    certs = services["es-certs"]
    script = " ".join(certs["command"])
    assert "elasticsearch-certutil ca" in script and "elasticsearch-certutil cert" in script
    # one certificate per node, for the name clients and peers connect to
    assert "for node in elasticsearch elasticsearch-2 elasticsearch-3" in script and "dns: [%s, localhost]" in script
    assert dict(_mount(v) for v in certs["volumes"])["certs"] == "/usr/share/elasticsearch/config/certs"
    es = services["elasticsearch"]
    env = es["environment"]
    assert env["xpack.security.http.ssl.enabled"] == "true"
    assert dict(_mount(v) for v in es["volumes"])["certs"] == "/usr/share/elasticsearch/config/certs"
    for key in ("key", "certificate", "certificate_authorities"):
        assert env[f"xpack.security.http.ssl.{key}"].startswith("certs/"), key
    assert "--cacert" in " ".join(es["healthcheck"]["test"]) and "https://" in " ".join(es["healthcheck"]["test"])
    kibana = services["kibana"]
    assert kibana["environment"]["ELASTICSEARCH_HOSTS"] == "https://elasticsearch:9200"
    ca = kibana["environment"]["ELASTICSEARCH_SSL_CERTIFICATEAUTHORITIES"]
    assert dict(_mount(v) for v in kibana["volumes"])["certs"] == "/usr/share/kibana/config/certs"
    assert ca == "config/certs/ca/ca.crt"
    for name in ("mediamon-init", "kibana-init", *AIRFLOW_SERVICES):
        service = services[name]
        mounted = dict(_mount(v) for v in service["volumes"])["certs"]
        assert service["environment"]["MEDIAMON_ES_URL"] == "https://elasticsearch:9200", name
        assert service["environment"]["MEDIAMON_ES_CA_CERTS"].startswith(mounted + "/"), name
    conn = json.loads(services["airflow-scheduler"]["environment"]["AIRFLOW_CONN_MEDIAMON_ES"])
    assert conn["schema"] == "https"
    assert conn["extra"]["ca_certs"] == services["airflow-scheduler"]["environment"]["MEDIAMON_ES_CA_CERTS"]


def test_kibana_health_check_authenticates(resolved: dict) -> None:
    """Kibana's status API answers only authenticated requests when security is on."""
    for name in ("kibana", "kibana-init"):
        check = " ".join(resolved["services"][name]["healthcheck"]["test"])
        assert "/api/status" in check and " -u " in check, name


def test_airflow_runs_the_mediamon_image_with_archive_and_crawl_state_volumes(resolved: dict) -> None:
    assert re.search(r"^FROM apache/airflow:\$\{AIRFLOW_VERSION\}$", (REPO / "Dockerfile").read_text(), re.M)
    for name in AIRFLOW_SERVICES:
        service = resolved["services"][name]
        assert service["build"]["context"] == str(REPO)
        mounts = dict(_mount(v) for v in service["volumes"])
        assert mounts["mediamon-archive"] == "/opt/mediamon/data/archive"
        assert mounts["mediamon-crawl-state"] == "/opt/mediamon/data/crawl-state"
        assert mounts["airflow-logs"] == "/opt/airflow/logs"  # task logs survive a container restart
        env = service["environment"]
        assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
        assert env["AIRFLOW__CELERY__BROKER_URL"].startswith("redis://:")
        assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].startswith("postgresql+psycopg2://")
        assert env["MEDIAMON_ES_USERNAME"] == "mediamon_writer"  # least privilege, not elastic
    assert {"mediamon-archive", "mediamon-crawl-state", "airflow-logs", "certs"} <= set(resolved["volumes"])


def test_the_init_job_sets_the_kibana_password_and_runs_setup(resolved: dict) -> None:
    init = resolved["services"]["mediamon-init"]
    script = " ".join(init["command"])
    assert "kibana_system/_password" in script and "mediamon setup" in script
    assert resolved["services"]["kibana-init"]["environment"]["MEDIAMON_KIBANA_URL"] == "http://kibana:5601"


def test_no_secret_is_written_into_the_compose_file() -> None:
    for line in COMPOSE.read_text().splitlines():
        match = re.search(r"(PASSWORD|SECRET|KEY)[A-Z_]*:\s*(\S+)", VARIABLE.sub("${}", line))
        if match:
            assert match.group(2).startswith("${") or "$$" in match.group(2), line
