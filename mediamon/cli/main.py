"""The `mediamon` command group: logging, then one ``add_command`` per command module.

Commands are thin: each parses options, calls one step of ``mediamon.ops`` (or a
store function) and prints the result — a table for people, JSON lines with
``--json`` for machines. Command modules import only ``mediamon.cli.common``,
never this module, so registration does not depend on import order.
"""

from __future__ import annotations

import logging

import click
from rich.logging import RichHandler

from mediamon.cli import (
    alerts,
    backfill,
    crawl,
    deadletter,
    es,
    evidence,
    history,
    importing,
    process,
    run,
    search,
    setup,
    stack,
    stories,
)
from mediamon.cli.common import console

# Clients that log every request's full URL at INFO or DEBUG, and a webhook URL holds its token:
# their warnings are shown, never their request lines, whatever -v says.
THIRD_PARTY_LOGGERS = ("elastic_transport", "httpx", "httpcore")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="mediamon", prog_name="mediamon", message="%(prog)s %(version)s")
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
def main(verbose: int) -> None:
    """mediamon: collect, process and index state media output for analysts."""
    level = logging.WARNING - 10 * min(verbose, 2)
    logging.basicConfig(level=level, format="%(message)s", datefmt="%H:%M:%S",
                        handlers=[RichHandler(console=console, show_path=False)])
    for name in THIRD_PARTY_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)


for command in (es.es, setup.setup, crawl.crawl, backfill.backfill, process.process, process.reprocess,
                process.extract, run.run_command, run.demo_command, search.search, alerts.alerts, alerts.report,
                deadletter.deadletter, history.history, importing.import_command, evidence.evidence,
                stories.stories, stories.trace_command, stack.stack):
    main.add_command(command)
