"""`mediamon es start / stop / status`: the local Elasticsearch node for development, tests and the demo."""

from __future__ import annotations

import sys
import time

import click

from mediamon.cli.common import console, failures_exit, get_settings, out


@click.group()
def es() -> None:
    """The local Elasticsearch node for development, tests and the demo."""


@es.command("start")
@click.option("--heap", default=None, help="JVM heap, e.g. 1g (default MEDIAMON_ES_HEAP or 1g).")
@failures_exit
def es_start(heap: str | None) -> None:
    """Start (or find running) the local node and wait for cluster health."""
    from mediamon.devtools import localnode  # lazy: the node tooling (and the ES client) only when run

    settings = get_settings()
    started = time.monotonic()
    with console.status("starting Elasticsearch…") as spinner:
        def step(line: str) -> None:  # a status line per step, the spinner under it
            console.print(f"[dim]{time.monotonic() - started:5.1f}s[/] {line}", highlight=False)
            spinner.update(f"{line}…")

        info = localnode.start(settings, heap=heap, on_step=step)
    console.print(f"Elasticsearch {info.version} ready at [bold]{info.url}[/] (pid {info.pid}) in "
                  f"{time.monotonic() - started:.0f} s; credentials in {settings.local_credentials_path}")


@es.command("stop")
@failures_exit
def es_stop() -> None:
    """Stop the local node; no process is left behind."""
    from mediamon.devtools import localnode  # lazy: as in es_start

    stopped = localnode.stop(get_settings())
    console.print("Elasticsearch stopped" if stopped else "Elasticsearch was not running")


@es.command("status")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def es_status(as_json: bool) -> None:
    """Whether the local node runs, its URL and health (exit 1 when not running)."""
    from mediamon.devtools import localnode  # lazy: as in es_start

    info = localnode.status(get_settings())
    if as_json:
        out.print_json(data=info)
    else:
        for key, value in info.items():
            out.print(f"{key}: {value}")
    sys.exit(0 if info["running"] else 1)
