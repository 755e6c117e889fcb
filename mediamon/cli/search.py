"""`mediamon search`: the index as analysts query it, as a table, JSON lines or CSV."""

from __future__ import annotations

import csv
import sys
from collections.abc import Iterable
from typing import Any

import click
from rich.table import Table

from mediamon.cli.common import failures_exit, get_client, get_settings, inert, out, print_json_line, shown
from mediamon.core.durations import parse_when
from processing.store.query_syntax import SYNTAX_HELP

CSV_COLUMNS = ("published_at", "source", "lang", "title", "url", "narratives", "alarmism", "is_duplicate", "_id")
# A cell starting with one of these is a formula to a spreadsheet: a hostile title must stay text.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@click.command(help=f"""Search the index with QUERY in {SYNTAX_HELP}.

Bare words are required (AND) and match their inflected forms in Russian and
English; field-qualified terms (title:..., source:..., narratives:...), ranges
(alarmism:>=0.5, published_at:[2021-11-01 TO 2021-11-10]), quotes, OR, NOT, -, ( )
work as in Kibana's Lucene mode. Default QUERY: * (everything).""")
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
@click.option("--all", "all_", is_flag=True, help="Page through every match (newest first), ignoring --limit.")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table", show_default=True,
              help="table for people; json: one object per line; csv: one row per document with the key fields.")
@click.option("--json", "as_json", is_flag=True, help="Same as --format json.")
@failures_exit
def search(query: str, sources: tuple[str, ...], langs: tuple[str, ...], narratives: tuple[str, ...],
           since: str | None, until: str | None, no_duplicates: bool, sort: str, limit: int, all_: bool,
           fmt: str, as_json: bool) -> None:
    # lazy: the search (Elasticsearch client, Lucene parser, lemmatisers) loads when run, not for --help
    from processing.store.search import SearchFilters, scan_all
    from processing.store.search import search as run_search  # lazy: as above

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
        hits: Iterable[dict[str, Any]] = scan_all(client, settings.docs_alias, query, filters)
        total = None
    else:
        total, hits = run_search(client, settings.docs_alias, query, filters, limit=limit, sort=sort)
    if as_json or fmt == "json":
        for hit in hits:
            print_json_line(hit)
    elif fmt == "csv":
        _write_csv(hits)
    else:
        _print_table(list(hits), total)


def _write_csv(hits: Iterable[dict[str, Any]]) -> None:
    writer = csv.writer(sys.stdout)
    writer.writerow(CSV_COLUMNS)
    for hit in hits:
        writer.writerow([_cell(";".join(hit.get(c) or []) if c == "narratives" else hit.get(c, ""))
                         for c in CSV_COLUMNS])


def _cell(value: object) -> str:
    text = inert("" if value is None else value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def _print_table(hits: list[dict[str, Any]], total: int | None) -> None:
    """Title says when the rows are cut: "20 of 29 documents match" (``total`` None: every match is shown)."""
    shown_all = total is None or len(hits) == total
    title = f"{len(hits)} documents match" if shown_all else \
        f"{len(hits)} of {total} documents match (more with --limit N or --all)"
    table = Table(title=title, show_lines=False)
    for column in ("published", "source", "lang", "title", "url", "narratives", "alarm"):
        table.add_column(column, overflow="fold")
    for hit in hits:
        table.add_row(shown((hit.get("published_at") or "")[:16]), shown(hit.get("source", "")),
                      shown(hit.get("lang", "")),
                      shown((hit.get("title") or "")[:90]) + (" [dim](dup)[/]" if hit.get("is_duplicate") else ""),
                      shown(hit.get("url", "")), shown(", ".join(hit.get("narratives", []))),
                      f"{hit.get('alarmism', 0):.2f}")
    out.print(table)
