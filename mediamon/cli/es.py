"""`mediamon es start / stop / status`: the local Elasticsearch node for development, tests and the demo."""

from __future__ import annotations

import sys

import click

from mediamon.cli.common import console, failures_exit, get_settings, out
from mediamon.devtools import localnode


@click.group()
def es() -> None:
    """The local Elasticsearch node for development, tests and the demo."""


@es.command("start")
@click.option("--heap", default=None, help="JVM heap, e.g. 1g (default MEDIAMON_ES_HEAP or 1g).")
@failures_exit
def es_start(heap: str | None) -> None:
    """Start (or find running) the local node and wait for cluster health."""
    settings = get_settings()
    with console.status("starting Elasticsearch (first time: download via Maven)…"):
        info = localnode.start(settings, heap=heap)
    console.print(f"Elasticsearch {info.version} ready at [bold]{info.url}[/] (pid {info.pid}); "
                  f"credentials in {settings.local_credentials_path}")


@es.command("stop")
@failures_exit
def es_stop() -> None:
    """Stop the local node; no process is left behind."""
    stopped = localnode.stop(get_settings())
    console.print("Elasticsearch stopped" if stopped else "Elasticsearch was not running")


@es.command("status")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def es_status(as_json: bool) -> None:
    """Whether the local node runs, its URL and health (exit 1 when not running)."""
    info = localnode.status(get_settings())
    if as_json:
        out.print_json(data=info)
    else:
        for key, value in info.items():
            out.print(f"{key}: {value}")
    sys.exit(0 if info["running"] else 1)
