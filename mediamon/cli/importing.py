"""`mediamon import FILE...`: WARC/WACZ files from other tools into the archive, then processed."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.table import Table

from mediamon.cli.common import failures_exit, get_client, get_settings, out, print_json_line, shown, with_sources_file


@click.command("import")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--sources", "sources_file", type=click.Path(path_type=Path, dir_okay=False),
              help="Sources file (default <config_dir>/sources.yaml).")
@click.option("--no-process", is_flag=True, help="Only archive; `mediamon process` picks the batches up later.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as one JSON object.")
@failures_exit
def import_command(files: tuple[Path, ...], sources_file: Path | None, no_process: bool, as_json: bool) -> None:
    """Import WARC/WACZ files written by other tools (wget --warc-file, Browsertrix, ArchiveWeb.page, CC-NEWS).

    Responses whose URL is an article of a configured source are archived with
    provenance `import` and processed like crawled batches; the others are counted
    by reason. Importing a file again adds nothing. Exit 1 when a file could not be read.
    """
    from mediamon.ops.importing import import_archives  # lazy: warcio and the processing stages only here

    settings = with_sources_file(get_settings(), sources_file)
    es = None if no_process else get_client(settings)
    result = import_archives(settings, list(files), process=not no_process, es=es, progress=not as_json)
    report = result["import"]
    if as_json:
        print_json_line(result)
    else:
        table = Table(title=f"import: {sum(report['imported'].values())} new article(s) from "
                            f"{report['responses']} response(s) in {report['files']} file(s)")
        table.add_column("outcome")
        table.add_column("n", justify="right")
        for source, n in sorted(report["imported"].items()):
            table.add_row(f"imported: {shown(source)}", str(n))
        for reason, n in sorted(report["skipped"].items()):
            table.add_row(f"skipped: {shown(reason)}", str(n))
        for kind, n in sorted(report["other_records"].items()):
            table.add_row(f"not a response: {shown(kind)} record", str(n))
        out.print(table)
        if "process" in result:
            out.print(f"processed: {result['process'].get('created', 0)} document(s) created, "
                      f"{result['process'].get('updated', 0)} updated")
    for path, why in report["unreadable"].items():
        click.echo(f"{path}: not (fully) readable as WARC/WACZ: {why}", err=True)
    sys.exit(1 if report["unreadable"] else 0)
