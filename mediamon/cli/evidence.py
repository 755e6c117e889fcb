"""`mediamon evidence URL... --out FILE.wacz`: the archived captures of pages, packaged for ReplayWeb.page."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from mediamon.cli.common import console, failures_exit, get_settings, out, print_json_line, shown


@click.command()
@click.argument("urls", nargs=-1, required=True)
@click.option("--out", "out_file", required=True, type=click.Path(path_type=Path, dir_okay=False),
              help="The WACZ file to write.")
@click.option("--title", help="Title stored in the package (default: mediamon evidence: N capture(s)).")
@click.option("--json", "as_json", is_flag=True, help="Print the report as one JSON object.")
@failures_exit
def evidence(urls: tuple[str, ...], out_file: Path, title: str | None, as_json: bool) -> None:
    """Package every archived capture of URLS (WARC records, screenshots, pages list) as one WACZ file.

    The WACZ opens in ReplayWeb.page; its datapackage.json holds the sha256 of every
    file. Nothing is fetched: only what the archive holds. Exit 1 when some URL has
    no capture (the others are packaged).
    """
    from mediamon.ops.evidence import package  # lazy: the wacz package only here

    report = package(get_settings(), list(urls), out_file, title)
    if as_json:
        print_json_line(report.as_dict())
    else:
        out.print(f"{shown(out_file)}: {report.captures} capture(s), {report.screenshots} screenshot(s), "
                  f"{report.records} WARC record(s)", highlight=False)
    for url in report.missing:
        console.print(f"[yellow]not in the archive:[/] {shown(url)}", highlight=False)
    sys.exit(1 if report.missing else 0)
