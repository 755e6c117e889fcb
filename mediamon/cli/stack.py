"""`mediamon stack start / stop / status`: the production topology (3-node cluster, Airflow on Celery) locally."""

from __future__ import annotations

import sys
import time
from typing import TYPE_CHECKING

import click

from mediamon.cli.common import console, failures_exit, get_settings, out

if TYPE_CHECKING:
    from mediamon.core.settings import Settings


def _setup(settings: Settings) -> None:
    # lazy: the client and the cluster tooling load when a command runs, so --help stays quick
    from mediamon.core.esclient import make_client
    from mediamon.ops.setup import setup_cluster  # lazy: as above

    setup_cluster(make_client(settings), settings)


@click.group()
def stack() -> None:
    """The production topology on this machine: Elasticsearch cluster, PostgreSQL, Redis, Airflow + Celery."""


@stack.command("start")
@failures_exit
def stack_start() -> None:
    """Start (or complete) the stack and print its URLs and how to log in."""
    from mediamon.devtools.stack import control  # lazy: the stack tooling loads when a command runs, not for --help

    settings = get_settings()
    started = time.monotonic()
    with console.status("starting the stack…") as spinner:
        def step(line: str) -> None:
            console.print(f"[dim]{time.monotonic() - started:5.1f}s[/] {line}", highlight=False, soft_wrap=True)
            spinner.update(f"{line}…")

        info = control.start(settings, _setup, on_step=step)
    env = " ".join(f"{k}={v}" for k, v in info.client_environment.items())
    out.print(f"stack ready in {time.monotonic() - started:.0f} s", highlight=False, soft_wrap=True)
    out.print(f"Airflow UI      {info.airflow_url}  user '{info.airflow_user}', password in "
              f"{info.airflow_password_file}", highlight=False, soft_wrap=True)
    out.print(f"Elasticsearch   {', '.join(info.es_urls)}  user '{info.es_user}', password in "
              f"{info.es_credentials_file}; CA {info.es_ca_certs}", highlight=False, soft_wrap=True)
    out.print(f"sample sites    {info.mirror_url}", highlight=False, soft_wrap=True)
    out.print(f"mediamon on the stack: {env} mediamon search ...", highlight=False, soft_wrap=True)
    out.print("stop it with: mediamon stack stop", highlight=False, soft_wrap=True)


@stack.command("stop")
@failures_exit
def stack_stop() -> None:
    """Stop every component; fails if any process of the stack is left."""
    from mediamon.devtools.stack import control  # lazy: as in stack_start

    stopped = control.stop(get_settings())
    console.print(f"stopped: {', '.join(stopped)}" if stopped else "the stack was not running")


@stack.command("status")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def stack_status(as_json: bool) -> None:
    """Each component's pid, the cluster's and Airflow's health (exit 1 unless everything runs)."""
    from mediamon.devtools.stack import control  # lazy: as in stack_start

    info = control.status(get_settings())
    if as_json:
        out.print_json(data=info)
    else:
        for name, pid in info["components"].items():
            out.print(f"{name:24} {'pid ' + str(pid) if pid else 'not running'}", highlight=False, soft_wrap=True)
        for part in ("elasticsearch", "airflow"):
            if part in info:
                out.print(f"{part:24} {info[part]}", highlight=False, soft_wrap=True)
    sys.exit(0 if info["running"] else 1)
