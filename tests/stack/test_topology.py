"""The stack runs the production topology: a green 3-node TLS cluster, Airflow on Celery, every component up."""

from __future__ import annotations

import httpx
import pytest
from elasticsearch import Elasticsearch

from mediamon.core.esclient import make_client
from mediamon.core.settings import Settings
from mediamon.devtools.stack import control, escluster
from mediamon.devtools.stack.layout import StackLayout
from processing.store import ledger


def test_every_component_runs_and_the_cluster_is_green_with_three_nodes(stack: Settings) -> None:
    status = control.status(stack)
    assert status["running"], status["components"]
    assert status["elasticsearch"] == {"status": "green", "nodes": 3, "unassigned_shards": 0}
    assert status["airflow"] == {"metadatabase": "healthy", "scheduler": "healthy", "triggerer": "healthy",
                                 "dag_processor": "healthy"}


def test_http_and_transport_speak_tls_only_and_verify_against_the_stack_ca(stack: Settings) -> None:
    ports = StackLayout.of(stack).ports()
    for node in ("node-1", "node-2", "node-3"):
        with pytest.raises(httpx.HTTPError):  # plain HTTP on the HTTPS port: the node drops it
            httpx.get(f"http://127.0.0.1:{ports[f'es-{node}-http']}/", timeout=5)
        with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):  # not a public CA's
            httpx.get(escluster.url(ports, node), timeout=5)
    layout = StackLayout.of(stack)
    nodes = httpx.get(f"{escluster.url(ports)}/_nodes/settings", verify=escluster.ca_context(stack, layout),
                      auth=(escluster.ADMIN_USER, layout.secrets()["ES_ADMIN_PASSWORD"]), timeout=30).json()["nodes"]
    for node in nodes.values():
        security = node["settings"]["xpack"]["security"]
        assert security["transport"]["ssl"]["enabled"] == "true"
        assert security["http"]["ssl"]["enabled"] == "true"


def test_every_mediamon_index_has_one_replica_on_another_node(client: Settings, cluster: Elasticsearch) -> None:
    ledger.ensure_index(cluster, client)
    cluster.cluster.health(wait_for_status="green", timeout="60s")
    for index in (f"{client.docs_alias}-*", ledger.batches_index(client)):
        for name, body in cluster.indices.get_settings(index=index).body.items():
            assert body["settings"]["index"]["number_of_replicas"] == "1", name
    shards = cluster.cat.shards(index=f"{client.index_prefix}-*", format="json").body
    by_shard: dict[tuple[str, str], set[str]] = {}
    for shard in shards:
        by_shard.setdefault((shard["index"], shard["shard"]), set()).add(shard["node"])
    assert all(len(nodes) == 2 for nodes in by_shard.values()), by_shard  # primary and replica apart


def test_the_pipeline_writes_as_the_least_privileged_user(client: Settings) -> None:
    writer = Settings(es_url=client.es_url, es_username=f"{client.index_prefix}_writer",
                      es_password=client.es_writer_password, es_ca_certs=client.es_ca_certs)
    who = make_client(writer).security.authenticate().body
    assert who["roles"] == [f"{client.index_prefix}_writer"] and who["authentication_realm"]["type"] == "file"
