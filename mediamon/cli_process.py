"""`mediamon process`, `mediamon reprocess`, `mediamon extract`: thin wrappers over processing.runner/pipeline."""

from __future__ import annotations

import gzip
import json
import sys
from datetime import UTC, datetime
from pathlib import Path

import click
from rich.table import Table

from mediamon.cli import ConfigError, console, failures_exit, get_client, get_settings, main, out


def _config_errors():
    """Bad config files (sources, rules) exit with code 2, naming the file and field."""
    from crawlers.sources import SourcesError
    from processing.configfile import ConfigFileError

    return (SourcesError, ConfigFileError)


def _print_report(report, as_json: bool) -> None:
    if as_json:
        out.print(json.dumps(report.as_dict(), ensure_ascii=False), soft_wrap=True, highlight=False, markup=False)
        return
    table = Table(title="processing", show_header=True)
    table.add_column("count")
    table.add_column("n", justify="right")
    rows = [("batches processed", report.batches_done), ("batches skipped (already done)", report.batches_skipped),
            ("records in", report.records_in), ("documents created", report.created),
            ("documents updated", report.updated), ("documents unchanged", report.unchanged),
            ("dead-lettered (ES rejected)", report.failed)]
    rows += [(f"quarantined: {reason}", n) for reason, n in sorted(report.quarantined.items())]
    rows += [("duplicates (exact)", report.duplicates_exact), ("duplicates (near)", report.duplicates_near),
             ("regrouped indexed documents", report.regrouped), ("implausible dates rejected", report.dates_rejected)]
    for name, value in rows:
        table.add_row(name, str(value))
    out.print(table)
    out.print("counts add up" if report.adds_up() else "[red]counts do NOT add up[/]")


def _run_and_report(run, as_json: bool) -> None:
    """Run a processing job, print its counts; exit 2 on bad config, 1 when counts fail or ES rejected some."""
    try:
        report = run()
    except _config_errors() as exc:
        raise ConfigError(str(exc)) from exc
    _print_report(report, as_json)
    if not report.adds_up() or report.failed:
        sys.exit(1)


@main.command()
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 64), help="Worker processes.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as one JSON object.")
@click.option("--no-progress", is_flag=True, help="No progress bar.")
@failures_exit
def process(workers: int, as_json: bool, no_progress: bool) -> None:
    """Process every raw batch not yet processed: extract, clean, language, dedup, enrich, index."""
    from processing.runner import process_pending

    settings = get_settings()
    _run_and_report(lambda: process_pending(settings, get_client(settings), workers=workers,
                                            progress=not no_progress), as_json)


@main.command()
@click.option("--since", help="Only batches started at or after this ISO date/time (UTC when no offset) or age (7d).")
@click.option("--source", "sources", multiple=True, help="Only records of this source id (repeatable).")
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 64))
@click.option("--json", "as_json", is_flag=True, help="Print the report as one JSON object.")
@click.option("--no-progress", is_flag=True)
@failures_exit
def reprocess(since: str | None, sources: tuple[str, ...], workers: int, as_json: bool, no_progress: bool) -> None:
    """Rebuild documents from the raw archive (after a rule change); documents are updated in place."""
    from processing.runner import reprocess as run_reprocess
    from processing.search import parse_when

    try:
        when = parse_when(since) if since else None
    except ValueError as exc:
        raise click.BadParameter(f"not an ISO date or age (7d, 12h): {since!r}", param_hint="--since") from exc
    settings = get_settings()
    _run_and_report(lambda: run_reprocess(settings, since=when, sources=list(sources) or None,
                                          es=get_client(settings), workers=workers, progress=not no_progress),
                    as_json)


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--url", help="The page's real URL (decides the source, its selectors and the document id).")
@click.option("--source", "source_id", help="Source id from sources.yaml (default: guessed from --url).")
@click.option("--kind", type=click.Choice(["article", "telegram_post"]), default="article", show_default=True)
def extract(files: tuple[Path, ...], url: str | None, source_id: str | None, kind: str) -> None:
    """HTML files (plain or .gz) -> one document per file as a JSON line, through the runner's code.

    A file that yields no document prints {"quarantined": REASON, "detail": ...}
    instead, exactly as the runner would quarantine it; the exit code is then 1.
    """
    from processing.pipeline import RecordInput, load_source_meta, source_for_url
    from processing.rules import load_rules
    from processing.runner import process_record

    settings = get_settings()
    try:
        sources = load_source_meta(settings.config_dir / "sources.yaml")
        rules = load_rules(settings.config_dir)
    except _config_errors() as exc:
        raise ConfigError(str(exc)) from exc
    if source_id and source_id not in sources:
        raise click.BadParameter(f"unknown source id {source_id!r}; known: {', '.join(sources)}",
                                 param_hint="--source")
    failed = False
    for path in files:
        raw = path.read_bytes()
        body = gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw
        page_url = url or path.resolve().as_uri()
        source = sources.get(source_id or "") or source_for_url(page_url, sources)
        manifest = {"url": page_url, "canonical_url": page_url, "source": source.id if source else "unknown",
                    "kind": kind, "status": 200, "fetched_at": datetime.now(UTC).isoformat(), "feed": {}}
        outcome = process_record(RecordInput(manifest=manifest, body=body, content_type=None), sources, rules)
        if outcome.document is None:
            failed = True
            line = {"file": str(path), "quarantined": outcome.reason, "detail": outcome.detail}
        else:
            line = {"_id": outcome.document.id, **outcome.document.to_source()}
            if outcome.dates_rejected:
                line["_dates_rejected"] = outcome.dates_rejected
        out.print(json.dumps(line, ensure_ascii=False), soft_wrap=True, highlight=False, markup=False)
    if failed:
        console.print("some files were quarantined (see the JSON lines)")
        sys.exit(1)
