"""The stack's 3-node Elasticsearch cluster: TLS on transport and HTTP, security on, file-realm users.

Built from the same Maven artifact and helpers as the local node
(mediamon.devtools.localnode: JDK discovery, distribution fetch, run-as-nobody,
file realm), unpacked once under the stack directory. The three nodes share one
config directory (``elasticsearch.yml`` with what they have in common, the CA,
their certificates, the file realm) and differ only by ``-E`` options: name,
ports, data and log paths, certificate. Every node is master-eligible and holds
data, as in a small production cluster, so losing any one keeps a quorum and a
copy of every shard (indices get one replica: see ``SMALL_INDEX_SETTINGS``).

The minimal build has no native security index, so the administrator is a
file-realm superuser rather than ``elastic`` (whose password the reserved realm
would take from the keystore at each node start).

``CLUSTER_SETTINGS`` is what docker-compose.yml's nodes must set too
(tests/stack/test_compose_parity.py compares them).
"""

from __future__ import annotations

import json
import ssl
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from mediamon.core.settings import Settings
from mediamon.devtools import localnode
from mediamon.devtools.stack import procs
from mediamon.devtools.stack.certs import ensure_certificates
from mediamon.devtools.stack.layout import ES_NODES, StackLayout

ADMIN_USER = "mediamon_admin"
CLUSTER_NAME = "mediamon-stack"
CLUSTER_MARKER = "cluster.json"
# The security and TLS settings of every node, here and in docker-compose.yml.
CLUSTER_SETTINGS: dict[str, str] = {
    "xpack.security.enabled": "true",
    "xpack.security.transport.ssl.enabled": "true",
    "xpack.security.transport.ssl.verification_mode": "full",
    "xpack.security.http.ssl.enabled": "true",
}
HEALTH_TIMEOUT_S = 420  # three JVMs starting at once on a busy two-core machine take minutes


def es_settings(settings: Settings, layout: StackLayout) -> Settings:
    """``settings`` pointed at the cluster's directory, so localnode's helpers work on it."""
    return settings.model_copy(update={"local_es_dir": layout.es_dir})


def node_dir(layout: StackLayout, node: str) -> Path:
    return layout.es_dir / node


def _config_dir(settings: Settings, layout: StackLayout) -> Path:
    return localnode._home(es_settings(settings, layout)) / "config"


def ca_path(settings: Settings, layout: StackLayout) -> Path:
    return _config_dir(settings, layout) / "certs" / "ca.crt"


def ca_context(settings: Settings, layout: StackLayout) -> ssl.SSLContext:
    """A TLS context trusting the stack's CA only (for httpx)."""
    return ssl.create_default_context(cafile=str(ca_path(settings, layout)))


def _common_config(ports: dict[str, int]) -> str:
    seeds = ", ".join(f"127.0.0.1:{ports[f'es-{n}-transport']}" for n in ES_NODES)
    tls = "\n".join(f"{key}: {value}" for key, value in CLUSTER_SETTINGS.items())
    return (
        "# written by mediamon stack start; shared by the stack's three nodes (per-node -E options)\n"
        f"cluster.name: {CLUSTER_NAME}\n"
        "network.host: 127.0.0.1\n"
        f"discovery.seed_hosts: [{seeds}]\n"
        f"{tls}\n"
        "xpack.security.transport.ssl.certificate_authorities: [certs/ca.crt]\n"
        "xpack.security.http.ssl.certificate_authorities: [certs/ca.crt]\n"
        "xpack.security.authc.password_hashing.algorithm: bcrypt\n"
        "resource.reload.interval.high: 1s\n"
        "cluster.routing.allocation.disk.threshold_enabled: false\n"
        "action.destructive_requires_name: true\n"
    )


def _node_options(layout: StackLayout, node: str, ports: dict[str, int], bootstrap: bool) -> list[str]:
    options = {
        "node.name": node,
        "http.port": ports[f"es-{node}-http"],
        "transport.port": ports[f"es-{node}-transport"],
        "path.data": node_dir(layout, node) / "data",
        "path.logs": node_dir(layout, node) / "logs",
        "xpack.security.transport.ssl.key": f"certs/{node}.key",
        "xpack.security.transport.ssl.certificate": f"certs/{node}.crt",
        "xpack.security.http.ssl.key": f"certs/{node}.key",
        "xpack.security.http.ssl.certificate": f"certs/{node}.crt",
    }
    if bootstrap:  # only when the cluster forms for the first time; a restarted node finds it
        options["cluster.initial_master_nodes"] = ",".join(ES_NODES)
    return [f"-E{key}={value}" for key, value in options.items()]


def url(ports: dict[str, int], node: str = ES_NODES[0]) -> str:
    return f"https://127.0.0.1:{ports[f'es-{node}-http']}"


def prepare(settings: Settings, layout: StackLayout, ports: dict[str, int], secrets: dict[str, str],
            heap: str) -> dict[str, str]:
    """Distribution, certificates, config, keystore and administrator; returns the nodes' environment."""
    local = es_settings(settings, layout)
    home = localnode._fetch_distribution(local)
    config = home / "config"
    ensure_certificates(config / "certs", list(ES_NODES))
    (config / "elasticsearch.yml").write_text(_common_config(ports))
    env = localnode._node_environment(localnode.find_java_home(local), heap)
    ids = localnode._service_ids()
    for node in ES_NODES:
        for sub in ("data", "logs"):
            (node_dir(layout, node) / sub).mkdir(mode=0o700, parents=True, exist_ok=True)
    if ids:
        localnode._check_traversable(layout.es_dir, ids[0])
        localnode._chown_tree(home, *ids)
        for node in ES_NODES:
            localnode._chown_tree(node_dir(layout, node), *ids)
    if not (config / "elasticsearch.keystore").exists():  # created once: three nodes must not race for it
        localnode._keystore(home, env, "create")
    localnode.write_file_realm(local, {}, {ADMIN_USER: (secrets["ES_ADMIN_PASSWORD"], ["superuser"])})
    return env


def start_node(settings: Settings, layout: StackLayout, node: str, ports: dict[str, int],
               env: dict[str, str], bootstrap: bool = False) -> int:
    """Start one node in its own process group (as the service user when root)."""
    home = localnode._home(es_settings(settings, layout))
    return procs.spawn(layout.run_dir, f"es-{node}",
                       [str(home / "bin" / "elasticsearch"), *_node_options(layout, node, ports, bootstrap)],
                       env, layout.logs_dir / f"es-{node}.log", **localnode._run_as())


def restart_node(settings: Settings, layout: StackLayout, node: str, heap: str) -> int:
    """Start one node of the formed cluster again (after a crash); it rejoins through the seed hosts."""
    env = localnode._node_environment(localnode.find_java_home(es_settings(settings, layout)), heap)
    return start_node(settings, layout, node, layout.ports(), env)


def start(settings: Settings, layout: StackLayout, ports: dict[str, int], secrets: dict[str, str],
          heap: str, on_step: Callable[[str], None]) -> None:
    """Start every node that is not running, wait for a green cluster of three, write the client credentials."""
    on_step("Elasticsearch: distribution, certificates, config, administrator")
    env = prepare(settings, layout, ports, secrets, heap)
    bootstrap = not any(any((node_dir(layout, n) / "data").iterdir()) for n in ES_NODES)
    for node in ES_NODES:
        if procs.running(layout.run_dir, f"es-{node}") is None:
            on_step(f"Elasticsearch: starting {node} (https {ports[f'es-{node}-http']})")
            start_node(settings, layout, node, ports, env, bootstrap)
    on_step("Elasticsearch: waiting for a green cluster of 3 nodes")
    wait_health(settings, layout, ports, secrets, status="green", nodes=len(ES_NODES))
    write_client_credentials(settings, layout, ports, secrets)


def write_client_credentials(settings: Settings, layout: StackLayout, ports: dict[str, int],
                             secrets: dict[str, str]) -> None:
    """credentials.env in the cluster's directory: ``MEDIAMON_LOCAL_ES_DIR=<it>`` points mediamon at the stack."""
    values = {
        "MEDIAMON_ES_URL": url(ports), "MEDIAMON_ES_USERNAME": ADMIN_USER,
        "MEDIAMON_ES_PASSWORD": secrets["ES_ADMIN_PASSWORD"], "MEDIAMON_ES_CA_CERTS": str(ca_path(settings, layout)),
        "MEDIAMON_ES_WRITER_PASSWORD": secrets["ES_WRITER_PASSWORD"],
        "MEDIAMON_ES_ANALYST_PASSWORD": secrets["ES_ANALYST_PASSWORD"],
    }
    localnode._write_credentials(es_settings(settings, layout), values)
    (layout.es_dir / CLUSTER_MARKER).write_text(json.dumps({"urls": [url(ports, n) for n in ES_NODES]}))


def is_stack_cluster(settings: Settings) -> bool:
    """Whether ``settings`` name this stack's cluster (whose roles and users live in its file realm)."""
    assert settings.local_es_dir is not None
    marker = settings.local_es_dir / CLUSTER_MARKER
    if not marker.is_file() or not settings.es_url:
        return False
    return settings.es_url.rstrip("/") in json.loads(marker.read_text())["urls"]


def health(settings: Settings, layout: StackLayout, ports: dict[str, int], secrets: dict[str, str],
           node: str = ES_NODES[0], **params: Any) -> dict[str, Any]:
    resp = httpx.get(f"{url(ports, node)}/_cluster/health", params=params,
                     auth=(ADMIN_USER, secrets["ES_ADMIN_PASSWORD"]), verify=ca_context(settings, layout),
                     timeout=30)
    resp.raise_for_status()
    return resp.json()


def wait_health(settings: Settings, layout: StackLayout, ports: dict[str, int], secrets: dict[str, str],
                status: str, nodes: int, node: str = ES_NODES[0], timeout: float = HEALTH_TIMEOUT_S) -> dict:
    """Wait until the cluster has ``nodes`` nodes and at least ``status``; a clear error naming the logs if not."""
    deadline = time.monotonic() + timeout
    last = "no answer yet"
    while time.monotonic() < deadline:
        try:
            answer = health(settings, layout, ports, secrets, node, wait_for_status=status,
                            wait_for_nodes=str(nodes), timeout="5s")
            if not answer.get("timed_out"):
                return answer
            last = f"{answer['status']}, {answer['number_of_nodes']} node(s)"
        except httpx.HTTPError as exc:
            last = type(exc).__name__
        time.sleep(1)
    raise localnode.LocalESError(f"the stack's Elasticsearch cluster is not {status} with {nodes} nodes after "
                                 f"{timeout:.0f}s ({last}); see {layout.logs_dir}/es-node-*.log")


def stop(layout: StackLayout) -> list[str]:
    """Stop every node; returns the names of those that were running."""
    return [name.removeprefix("es-") for name in procs.stop_all(layout.run_dir, [f"es-{n}" for n in ES_NODES],
                                                                 timeout=60)]
