"""The production stack file: valid for docker-compose, every service checked, every variable documented.

There is no container engine here, so the file is validated by Debian's
``docker-compose config`` (which resolves anchors, variables and depends_on)
and its resolved form is checked service by service.
"""

from __future__ import annotations

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
AIRFLOW_SERVICES = {"airflow-apiserver", "airflow-scheduler", "airflow-dag-processor", "airflow-triggerer"}
VARIABLE = re.compile(r"(?<!\$)\$\{([A-Z_][A-Z0-9_]*)(?:[:?-][^}]*)?\}")


def _docker_compose() -> str:
    exe = shutil.which("docker-compose")
    if exe is None:
        if os.environ.get("CI") == "true":
            pytest.fail("docker-compose is required in CI (.ci/run installs Debian's docker-compose)")
        pytest.skip("docker-compose is not installed (apt-get install docker-compose)")
    return exe


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
    env = {k: v for k, v in os.environ.items() if k not in _env_example()}
    proc = subprocess.run([_docker_compose(), "--env-file", str(ENV_EXAMPLE), "-f", str(COMPOSE), "config"],
                          capture_output=True, text=True, cwd=REPO, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "not set" not in proc.stderr, proc.stderr
    return yaml.safe_load(proc.stdout)


def test_every_variable_is_in_env_example_and_every_example_is_used() -> None:
    used = set(VARIABLE.findall(COMPOSE.read_text()))
    documented = set(_env_example())
    assert used - documented == set(), "used in docker-compose.yml but missing from .env.example"
    assert documented - used == set(), "listed in .env.example but unused"


def test_a_missing_variable_is_reported(tmp_path: Path) -> None:
    """The check above is only worth something if docker-compose really reports an unset variable."""
    partial = tmp_path / "partial.env"
    partial.write_text("\n".join(line for line in ENV_EXAMPLE.read_text().splitlines()
                                 if not line.startswith("ELASTIC_PASSWORD=")))
    env = {k: v for k, v in os.environ.items() if k not in _env_example()}
    proc = subprocess.run([_docker_compose(), "--env-file", str(partial), "-f", str(COMPOSE), "config"],
                          capture_output=True, text=True, cwd=REPO, env=env, timeout=120)
    assert "ELASTIC_PASSWORD" in proc.stderr and "not set" in proc.stderr


def test_the_stack_has_every_component(resolved: dict) -> None:
    assert set(resolved["services"]) == {"elasticsearch", "mediamon-init", "kibana", "kibana-init", "postgres",
                                         "airflow-init", *AIRFLOW_SERVICES}


def test_every_service_has_an_image_and_a_health_check(resolved: dict) -> None:
    for name, service in resolved["services"].items():
        assert service.get("image"), f"{name} has no image"
        check = service.get("healthcheck", {})
        assert check.get("test") and not check.get("disable"), f"{name} has no health check"


def test_dependencies_wait_for_health_or_completion(resolved: dict) -> None:
    services = resolved["services"]
    one_shot = {name for name, s in services.items() if s.get("restart") == "no"}
    assert one_shot == {"mediamon-init", "kibana-init", "airflow-init"}
    for name, service in services.items():
        for dependency, spec in service.get("depends_on", {}).items():
            assert dependency in services, f"{name} depends on unknown {dependency}"
            wanted = "service_completed_successfully" if dependency in one_shot else "service_healthy"
            assert spec["condition"] == wanted, f"{name} -> {dependency}"
    for name in AIRFLOW_SERVICES:
        assert {"postgres", "mediamon-init", "airflow-init"} <= set(services[name]["depends_on"]), name
    assert {"elasticsearch", "mediamon-init"} <= set(services["kibana"]["depends_on"])
    assert set(services["kibana-init"]["depends_on"]) == {"kibana"}


def test_elasticsearch_is_the_official_9_image_with_security_on(resolved: dict) -> None:
    es = resolved["services"]["elasticsearch"]
    assert re.fullmatch(r"docker\.elastic\.co/elasticsearch/elasticsearch:9\.\d+\.\d+", es["image"])
    assert es["environment"]["xpack.security.enabled"] == "true"
    assert es["environment"]["ELASTIC_PASSWORD"] == _env_example()["ELASTIC_PASSWORD"]
    kibana = resolved["services"]["kibana"]
    assert kibana["image"].startswith("docker.elastic.co/kibana/kibana:9.")
    assert kibana["environment"]["ELASTICSEARCH_USERNAME"] == "kibana_system"


def test_airflow_runs_the_mediamon_image_with_archive_and_crawl_state_volumes(resolved: dict) -> None:
    assert re.search(r"^FROM apache/airflow:\$\{AIRFLOW_VERSION\}$", (REPO / "Dockerfile").read_text(), re.M)
    for name in AIRFLOW_SERVICES:
        service = resolved["services"][name]
        assert service["build"]["context"] == str(REPO)
        mounts = dict(_mount(v) for v in service["volumes"])
        assert mounts["mediamon-archive"] == "/opt/mediamon/data/archive"
        assert mounts["mediamon-crawl-state"] == "/opt/mediamon/data/crawl-state"
        env = service["environment"]
        assert env["AIRFLOW__CORE__EXECUTOR"] == "LocalExecutor"
        assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].startswith("postgresql+psycopg2://")
        assert env["MEDIAMON_ES_USERNAME"] == "mediamon_writer"  # least privilege, not elastic
    assert {"mediamon-archive", "mediamon-crawl-state"} <= set(resolved["volumes"])


def test_the_init_job_sets_the_kibana_password_and_runs_setup(resolved: dict) -> None:
    init = resolved["services"]["mediamon-init"]
    script = " ".join(init["command"])
    assert "kibana_system/_password" in script and "mediamon setup" in script
    assert resolved["services"]["kibana-init"]["environment"]["MEDIAMON_KIBANA_URL"] == "http://kibana:5601"


def test_no_secret_is_written_into_the_compose_file() -> None:
    for line in COMPOSE.read_text().splitlines():
        match = re.search(r"(PASSWORD|SECRET|KEY)[A-Z_]*:\s*(\S+)", line)
        if match:
            assert match.group(2).startswith("${") or "$$" in match.group(2), line
