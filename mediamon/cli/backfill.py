"""`mediamon backfill`: what sources published between two days, from sitemaps, list pages and web archives."""

from __future__ import annotations

import sys
from datetime import date, datetime
from pathlib import Path

import click
from rich.table import Table

from crawlers.backfill.progress import PATHS
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


def _day(_ctx: click.Context, _param: click.Parameter, value: str) -> date:
    try:
        return datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError as exc:
        raise click.BadParameter(f"{value!r} is not a day as YYYY-MM-DD") from exc


@click.command()
@click.option("--source", "sources", multiple=True, help="Source id from sources.yaml (repeatable; default all).")
@click.option("--since", required=True, callback=_day, help="First day, YYYY-MM-DD (in each source's time zone).")
@click.option("--until", required=True, callback=_day, help="Last day, YYYY-MM-DD, included.")
@click.option("--path", "paths", multiple=True, type=click.Choice(PATHS),
              help="Discovery path (repeatable; default all four).")
@click.option("--sources", "sources_file", type=click.Path(path_type=Path, dir_okay=False),
              help="Sources file (default <config_dir>/sources.yaml).")
@click.option("--json", "as_json", is_flag=True, help="Print the report as one JSON object.")
@failures_exit
def backfill(sources: tuple[str, ...], since: date, until: date, paths: tuple[str, ...], sources_file: Path | None,
             as_json: bool) -> None:
    """Archive what the sources published from SINCE to UNTIL.

    Finds articles in sitemaps (dated by news:publication_date or lastmod; date-partitioned
    indexes skip what is outside the range), in list pages paged back until the range is
    passed, and in the Wayback Machine and Common Crawl (captures fetched raw, their
    capture time and archive URL kept). An article is archived once, whichever paths
    find it; what the archive already holds is not fetched again. Interrupted, it
    resumes where it stopped. Then run `mediamon process`.

    Exit 1 when a source failed entirely, 3 when a signal stopped it early.
    """
    from crawlers.backfill.run import backfill as run_backfill  # lazy: Scrapy and Twisted only when crawling
    from crawlers.stats import EXIT_INTERRUPTED  # lazy: as above

    settings = with_sources_file(get_settings(), sources_file)
    report = run_backfill(settings, list(sources) or None, since, until, list(paths) or None, progress=not as_json)
    data = report.as_dict()
    if as_json:
        print_json_line(data)
    else:
        _print_backfill(data)
    if data["failed_sources"]:
        console.print(f"[red]failed entirely:[/] {shown(', '.join(data['failed_sources']))}")
    if report.interrupted:
        console.print(f"[red]interrupted by {shown(report.interrupted)}:[/] what was fetched is committed; "
                      "the same command resumes")
        sys.exit(EXIT_INTERRUPTED)
    sys.exit(1 if data["failed_sources"] else 0)


def _print_backfill(data: dict) -> None:
    table = Table(title=f"backfill {data['since']} .. {data['until']}: {data['archived']} articles archived "
                        f"in {len(data['new_batches'])} batch(es)")
    for column in ("source", "path", "pages", "found", "out of range", "held", "other path", "fetched", "failed",
                   "page errors"):
        table.add_column(column, overflow="fold")
    for source, report in data["sources"].items():
        name = f"[red]{shown(source)}[/]" if report["failed"] else shown(source)
        for path, s in report["paths"].items():
            table.add_row(name, path, f"{s['pages_fetched']}" + (f" (+{s['pages_resumed']} resumed)"
                                                                  if s["pages_resumed"] else ""),
                          str(s["found"]), str(s["out_of_range"]), str(s["already_held"]),
                          str(s["claimed_elsewhere"]), str(s["fetched"]), reasons(s["failed"]),
                          reasons(s["page_errors"]) if not report["fatal"] else shown(report["fatal"]))
            name = ""
    out.print(table)
