"""`mediamon crawl`: one crawl of the configured sources, with progress and a per-source table."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.table import Table

from crawlers.stats import CrawlReport
from mediamon.cli.common import console, failures_exit, get_settings, out, print_json_line, shown, with_sources_file


def _reasons(counts: dict[str, int]) -> str:
    return shown(", ".join(f"{reason} {n}" for reason, n in sorted(counts.items())) or "-")


@click.command()
@click.option("--source", "sources", multiple=True, help="Source id from sources.yaml (repeatable; default all).")
@click.option("--sources", "sources_file", type=click.Path(path_type=Path, dir_okay=False),
              help="Sources file (default <config_dir>/sources.yaml).")
@click.option("--json", "as_json", is_flag=True, help="Print the report as one JSON object.")
@failures_exit
def crawl(sources: tuple[str, ...], sources_file: Path | None, as_json: bool) -> None:
    """Crawl the sources once into the raw archive; exit 1 when a source failed entirely."""
    from crawlers.run import crawl as run_crawl  # lazy: Scrapy and Twisted only when crawling

    settings = with_sources_file(get_settings(), sources_file)
    report = run_crawl(settings, list(sources) or None, progress=not as_json)
    if as_json:
        print_json_line(report.as_dict())
    else:
        _print_crawl(report)
    if report.failed_sources:
        console.print(f"[red]failed entirely:[/] {shown(', '.join(report.failed_sources))}")
        sys.exit(1)


def _print_crawl(report: CrawlReport) -> None:
    table = Table(title=f"crawl: {report.archived} new items archived in {len(report.new_batches)} batch(es)")
    for column in ("source", "pages", "304", "page errors", "found", "new", "seen", "blocked", "errors"):
        table.add_column(column, overflow="fold")
    for source, s in report.sources.items():
        table.add_row(f"[red]{shown(source)}[/]" if s.failed else shown(source), str(s.pages_fetched),
                      str(s.pages_not_modified), _reasons(s.page_errors) if not s.fatal else shown(s.fatal),
                      str(s.found), str(s.archived), str(s.already_seen), _reasons(s.blocked), _reasons(s.errors))
    out.print(table)
