"""docker-compose.yml and `mediamon stack` run the same topology with the same settings, so they can't drift."""

from __future__ import annotations

import yaml

from mediamon.core.esclient import REPLICATION
from mediamon.devtools.stack.airflow_services import EXECUTOR_SETTINGS, SERVER_COMPONENTS
from mediamon.devtools.stack.escluster import CLUSTER_SETTINGS
from mediamon.devtools.stack.layout import CELERY_WORKERS, ES_NODES
from tests.support.paths import REPO

COMPOSE_NAMES = {"api-server": "airflow-apiserver", "scheduler": "airflow-scheduler",
                 "dag-processor": "airflow-dag-processor", "triggerer": "airflow-triggerer"}


def _services() -> dict[str, dict]:
    return yaml.safe_load((REPO / "docker-compose.yml").read_text())["services"]  # merge keys resolved


def _es_nodes(services: dict[str, dict]) -> dict[str, dict]:
    return {name: s for name, s in services.items() if s.get("image", "").startswith(
        "docker.elastic.co/elasticsearch/") and "node.name" in s.get("environment", {})}


def test_as_many_elasticsearch_nodes_with_the_same_security_and_tls_settings() -> None:
    nodes = _es_nodes(_services())
    assert len(nodes) == len(ES_NODES) == 3
    for name, node in nodes.items():
        env = node["environment"]
        assert {k: str(env.get(k)) for k in CLUSTER_SETTINGS} == CLUSTER_SETTINGS, name
        assert env["node.name"] == name and "discovery.type" not in env  # a cluster, not single-node
        seeds = set(env["discovery.seed_hosts"].split(","))
        assert seeds == set(nodes), name
        for layer in ("transport", "http"):  # each node its own certificate, on both layers
            assert env[f"xpack.security.{layer}.ssl.certificate"] == f"certs/{name}/{name}.crt"


def test_the_same_executor_and_as_many_celery_workers() -> None:
    services = _services()
    airflow = {name: s for name, s in services.items() if name.startswith("airflow-") and name != "airflow-init"}
    workers = {name for name, s in airflow.items() if s["command"][:2] == ["celery", "worker"]}
    assert len(workers) == len(CELERY_WORKERS)
    assert set(airflow) - workers == {COMPOSE_NAMES[c] for c in SERVER_COMPONENTS}
    for name, service in airflow.items():
        env = service["environment"]
        assert {k: str(env.get(k)) for k in EXECUTOR_SETTINGS} == EXECUTOR_SETTINGS, name
        assert env["AIRFLOW__CELERY__BROKER_URL"].endswith("@redis:6379/0"), name
        assert env["AIRFLOW__CELERY__RESULT_BACKEND"].startswith("db+postgresql+psycopg2://"), name
    assert services["redis"]["image"].startswith("redis:") and "--appendonly" in services["redis"]["command"]


def test_indices_get_one_replica_on_a_cluster_from_the_same_template_code() -> None:
    # mediamon-init runs `mediamon setup`, whose template carries REPLICATION: one replica once a
    # second node exists (tests/stack/test_topology.py sees it on the running cluster)
    assert REPLICATION == {"auto_expand_replicas": "0-1"}
    assert "mediamon setup" in " ".join(_services()["mediamon-init"]["command"])
