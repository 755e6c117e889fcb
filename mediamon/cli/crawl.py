"""`mediamon crawl`: one crawl of the configured sources, with progress and a per-source table."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.table import Table

from crawlers.stats import EXIT_INTERRUPTED, CrawlReport
from mediamon.cli.common import (
    console,
    failures_exit,
    get_settings,
    out,
    print_json_line,
    reasons,
    shown,
    with_sources_file,
)

# Reasons whose fix is a setting: the hint printed under the report when a source hit one.
REASON_HINTS = {
    "ssrf_blocked": "a URL resolved to a private or loopback address and was refused; for a source that really "
                    "is on an internal network set `politeness: {allow_private_addresses: true}` for it in "
                    "sources.yaml (a local mirror: MEDIAMON_URL_REWRITE)",
}


@click.command()
@click.option("--source", "sources", multiple=True, help="Source id from sources.yaml (repeatable; default all).")
@click.option("--sources", "sources_file", type=click.Path(path_type=Path, dir_okay=False),
              help="Sources file (default <config_dir>/sources.yaml).")
@click.option("--json", "as_json", is_flag=True, help="Print the report as one JSON object.")
@failures_exit
def crawl(sources: tuple[str, ...], sources_file: Path | None, as_json: bool) -> None:
    """Crawl the sources once into the raw archive.

    Exit 1 when a source failed entirely, 3 when a signal stopped the crawl early
    (what was fetched by then is committed).
    """
    from crawlers.run import crawl as run_crawl  # lazy: Scrapy and Twisted only when crawling

    settings = with_sources_file(get_settings(), sources_file)
    report = run_crawl(settings, list(sources) or None, progress=not as_json)
    if as_json:
        print_json_line(report.as_dict())
    else:
        _print_crawl(report)
    sys.exit(_finish(report))


def _finish(report: CrawlReport) -> int:
    """Print on stderr what needs the user's attention (hints, failures, an interruption); the exit code."""
    for reason, hint in REASON_HINTS.items():
        hit = [source for source, s in report.sources.items()
               if s.page_errors.get(reason) or s.errors.get(reason) or s.blocked.get(reason)]
        if hit:
            console.print(f"[yellow]{reason}[/] ({shown(', '.join(hit))}): {hint}", highlight=False)
    if report.failed_sources:
        console.print(f"[red]failed entirely:[/] {shown(', '.join(report.failed_sources))}")
    if report.interrupted:
        console.print(f"[red]interrupted by {shown(report.interrupted)}:[/] the crawl stopped early; what it "
                      "fetched is committed, the rest is fetched next crawl")
        return EXIT_INTERRUPTED
    return 1 if report.failed_sources else 0


def _print_crawl(report: CrawlReport) -> None:
    table = Table(title=f"crawl: {report.archived} new items archived in {len(report.new_batches)} batch(es)")
    for column in ("source", "pages", "304", "page errors", "found", "new", "seen", "blocked", "errors"):
        table.add_column(column, overflow="fold")
    for source, s in report.sources.items():
        table.add_row(f"[red]{shown(source)}[/]" if s.failed else shown(source), str(s.pages_fetched),
                      str(s.pages_not_modified), reasons(s.page_errors) if not s.fatal else shown(s.fatal),
                      str(s.found), str(s.archived), str(s.already_seen), reasons(s.blocked), reasons(s.errors))
    out.print(table)
