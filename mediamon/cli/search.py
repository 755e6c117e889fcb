"""`mediamon search`: the index as analysts query it, as a table or JSON lines."""

from __future__ import annotations

import click
from rich.table import Table

from mediamon.cli.common import failures_exit, get_client, get_settings, out, print_json_line, shown
from mediamon.core.durations import parse_when
from processing.store.search import SearchFilters, scan_all
from processing.store.search import search as run_search


@click.command()
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
            print_json_line(hit)
        return
    if all_:
        hits = list(hits)
        total = len(hits)
    table = Table(title=f"{total} documents match", show_lines=False)
    for column in ("published", "source", "lang", "title", "narratives", "alarm"):
        table.add_column(column, overflow="fold")
    for hit in hits:
        table.add_row(shown((hit.get("published_at") or "")[:16]), shown(hit.get("source", "")),
                      shown(hit.get("lang", "")),
                      shown((hit.get("title") or "")[:90]) + (" [dim](dup)[/]" if hit.get("is_duplicate") else ""),
                      shown(", ".join(hit.get("narratives", []))), f"{hit.get('alarmism', 0):.2f}")
    out.print(table)
