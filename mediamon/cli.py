"""The `mediamon` command line: thin wrappers over crawlers/ and processing/.

Each command parses options, calls one function of the pipeline packages and
prints the result (a table for people, JSON lines with ``--json`` for
machines). Exit codes: 0 ok, 1 failure, 2 bad usage or bad config.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable
from functools import wraps
from typing import Any

import click
from pydantic import ValidationError
from rich.console import Console
from rich.logging import RichHandler
from rich.table import Table

from mediamon.settings import Settings, load_settings

console = Console(stderr=True)
out = Console()


class ConfigError(click.ClickException):
    """Bad settings or a bad config file: exit code 2."""

    exit_code = 2


def get_settings() -> Settings:
    try:
        return load_settings()
    except ValidationError as exc:
        raise ConfigError(f"invalid MEDIAMON_* settings:\n{exc}") from exc


def get_client(settings: Settings | None = None):
    from mediamon.esclient import ConfigurationError, make_client

    try:
        return make_client(settings or get_settings())
    except ConfigurationError as exc:
        raise ConfigError(str(exc)) from exc


def failures_exit(func: Callable[..., Any]) -> Callable[..., Any]:
    """Turn the pipeline's expected failures into a one-line error and exit code 1."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from elastic_transport import ConnectionError as ESConnectionError
        from elasticsearch import ApiError, AuthenticationException

        from mediamon.eslocal import LocalESError
        from processing.index import IndexingUnavailable

        try:
            return func(*args, **kwargs)
        except AuthenticationException as exc:
            raise click.ClickException(
                "Elasticsearch refused the credentials (check MEDIAMON_ES_USERNAME/PASSWORD or API key)") from exc
        except ESConnectionError as exc:
            url = get_settings().es_url
            raise click.ClickException(
                f"cannot reach Elasticsearch at {url}: is it running? (`mediamon es status`)") from exc
        except (LocalESError, IndexingUnavailable) as exc:
            raise click.ClickException(str(exc)) from exc
        except ApiError as exc:
            raise click.ClickException(f"Elasticsearch error {exc.status_code}: {exc.message}") from exc

    return wrapper


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
def main(verbose: int) -> None:
    """mediamon: collect, process and index state media output for analysts."""
    level = logging.WARNING - 10 * min(verbose, 2)
    logging.basicConfig(level=level, format="%(message)s", datefmt="%H:%M:%S",
                        handlers=[RichHandler(console=console, show_path=False)])
    logging.getLogger("elastic_transport").setLevel(max(level, logging.WARNING))


# --- es ------------------------------------------------------------------------


@main.group()
def es() -> None:
    """The local Elasticsearch node for development, tests and the demo."""


@es.command("start")
@click.option("--heap", default=None, help="JVM heap, e.g. 1g (default MEDIAMON_ES_HEAP or 1g).")
@failures_exit
def es_start(heap: str | None) -> None:
    """Start (or find running) the local node and wait for cluster health."""
    from mediamon import eslocal

    settings = get_settings()
    with console.status("starting Elasticsearch (first time: download via Maven)…"):
        info = eslocal.start(settings, heap=heap)
    console.print(f"Elasticsearch {info.version} ready at [bold]{info.url}[/] (pid {info.pid}); "
                  f"credentials in {settings.local_credentials_path}")


@es.command("stop")
@failures_exit
def es_stop() -> None:
    """Stop the local node; no process is left behind."""
    from mediamon import eslocal

    stopped = eslocal.stop(get_settings())
    console.print("Elasticsearch stopped" if stopped else "Elasticsearch was not running")


@es.command("status")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def es_status(as_json: bool) -> None:
    """Whether the local node runs, its URL and health (exit 1 when not running)."""
    from mediamon import eslocal

    info = eslocal.status(get_settings())
    if as_json:
        out.print_json(data=info)
    else:
        for key, value in info.items():
            out.print(f"{key}: {value}")
    sys.exit(0 if info["running"] else 1)


# --- setup ---------------------------------------------------------------------


@main.command()
@failures_exit
def setup() -> None:
    """Create index template, write alias, ingest pipeline and roles; Kibana objects when MEDIAMON_KIBANA_URL is set."""
    from processing.indexsetup import setup as run_setup

    settings = get_settings()
    report = run_setup(get_client(settings), settings)  # warnings are logged by setup
    for name in report.changed:
        console.print(f"created/updated: {name}")
    console.print(f"unchanged: {', '.join(report.unchanged) or 'nothing'}")
    if settings.kibana_url:
        from processing.kibana import KibanaError, import_saved_objects

        try:
            kibana = import_saved_objects(settings)
        except KibanaError as exc:
            raise click.ClickException(str(exc)) from exc
        console.print(f"Kibana: {kibana.objects} saved objects imported ({', '.join(kibana.files)})")
        if kibana.errors:
            raise click.ClickException("Kibana rejected objects: " + "; ".join(kibana.errors))


# --- search --------------------------------------------------------------------


@main.command()
@click.argument("query", default="*")
@click.option("--source", "sources", multiple=True, help="Source id (repeatable).")
@click.option("--lang", "langs", multiple=True, help="Language code, e.g. ru, en, be (repeatable).")
@click.option("--narrative", "narratives", multiple=True, help="Narrative id (repeatable).")
@click.option("--since", help="ISO date or age such as 7d, 12h.")
@click.option("--until", help="ISO date or age.")
@click.option("--no-duplicates", is_flag=True, help="Hide documents flagged as near/exact duplicates.")
@click.option("--sort", type=click.Choice(["relevance", "published_at", "indexed_at", "alarmism"]),
              default="relevance", show_default=True)
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 10_000))
@click.option("--all", "all_", is_flag=True, help="Page through every match (implies --json friendly output).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@failures_exit
def search(query: str, sources: tuple[str, ...], langs: tuple[str, ...], narratives: tuple[str, ...],
           since: str | None, until: str | None, no_duplicates: bool, sort: str, limit: int, all_: bool,
           as_json: bool) -> None:
    """Search the index; Russian and English queries match inflected forms."""
    from processing.search import SearchFilters, parse_when, scan_all
    from processing.search import search as run_search

    settings = get_settings()
    try:
        filters = SearchFilters(sources=list(sources), langs=list(langs), narratives=list(narratives),
                                since=parse_when(since) if since else None,
                                until=parse_when(until) if until else None,
                                include_duplicates=not no_duplicates)
    except ValueError as exc:
        raise click.UsageError(f"bad date: {exc}") from exc
    client = get_client(settings)
    if all_:
        hits = scan_all(client, settings.docs_alias, query, filters)
    else:
        total, hits = run_search(client, settings.docs_alias, query, filters, limit=limit, sort=sort)
    if as_json:
        for hit in hits:
            out.print(json.dumps(hit, ensure_ascii=False), soft_wrap=True, highlight=False, markup=False)
        return
    if all_:
        hits = list(hits)
        total = len(hits)
    table = Table(title=f"{total} documents match", show_lines=False)
    for column in ("published", "source", "lang", "title", "narratives", "alarm"):
        table.add_column(column, overflow="fold")
    for hit in hits:
        table.add_row((hit.get("published_at") or "")[:16], hit.get("source", ""), hit.get("lang", ""),
                      (hit.get("title") or "")[:90] + (" [dim](dup)[/]" if hit.get("is_duplicate") else ""),
                      ", ".join(hit.get("narratives", [])), f"{hit.get('alarmism', 0):.2f}")
    out.print(table)


# --- dead letters ----------------------------------------------------------------


@main.group()
def deadletter() -> None:
    """Documents Elasticsearch rejected or could not take, kept with the reason."""


@deadletter.command("list")
def deadletter_list() -> None:
    """Count dead-lettered documents by reason."""
    from collections import Counter

    from processing.index import DeadLetter, read_deadletter

    files = DeadLetter(get_settings().deadletter_dir).files()
    counts = Counter(entry.get("kind", "?") for entry in read_deadletter(files))
    for kind, n in counts.most_common():
        out.print(f"{kind}: {n}")
    if not counts:
        out.print("no dead letters")


@deadletter.command("replay")
@failures_exit
def deadletter_replay() -> None:
    """Resend every dead-lettered document; those rejected again are dead-lettered anew."""
    from processing.replay import replay_deadletters

    settings = get_settings()
    counts = replay_deadletters(get_client(settings), settings)
    out.print(json.dumps(counts.as_dict()))
    if counts.failed:
        sys.exit(1)


# Commands of the pipeline areas register themselves on `main` (one module each).
from mediamon import cli_alerts, cli_crawl, cli_pipeline, cli_process  # noqa: E402,F401
