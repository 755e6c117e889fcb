"""`mediamon process`, `mediamon reprocess`, `mediamon extract`: thin wrappers over processing.runner/pipeline."""

from __future__ import annotations

import gzip
import sys
from datetime import UTC, datetime
from pathlib import Path

import click
from rich.table import Table

from mediamon.cli.common import console, failures_exit, get_client, get_settings, out, print_json_line
from mediamon.core.durations import parse_when


def _print_report(report, as_json: bool) -> None:
    if as_json:
        print_json_line(report.as_dict())
        return
    table = Table(title="processing", show_header=True)
    table.add_column("count")
    table.add_column("n", justify="right")
    rows = [("batches processed", report.batches_done), ("batches skipped (already done)", report.batches_skipped),
            ("batches damaged (manifest unreadable)", report.batches_damaged),
            ("records in", report.records_in), ("documents created", report.created),
            ("documents updated", report.updated), ("documents unchanged", report.unchanged),
            ("dead-lettered (ES rejected)", report.failed)]
    rows += [(f"quarantined: {reason}", n) for reason, n in sorted(report.quarantined.items())]
    rows += [("duplicates (exact)", report.duplicates_exact), ("duplicates (near)", report.duplicates_near),
             ("regrouped indexed documents", report.regrouped), ("implausible dates rejected", report.dates_rejected),
             ("page time contradicts the feed's", report.dates_feed_disagrees)]
    for name, value in rows:
        table.add_row(name, str(value))
    out.print(table)
    out.print("counts add up" if report.adds_up() else "[red]counts do NOT add up[/]")


def _run_and_report(run, as_json: bool) -> None:
    """Run a processing job, print its counts; exit 2 on bad config, 1 when counts fail or ES rejected some."""
    report = run()
    _print_report(report, as_json)
    if not report.adds_up() or report.failed:
        sys.exit(1)


@click.command()
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 64), help="Worker processes.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as one JSON object.")
@click.option("--no-progress", is_flag=True, help="No progress bar.")
@failures_exit
def process(workers: int, as_json: bool, no_progress: bool) -> None:
    """Process every raw batch not yet processed: extract, clean, language, dedup, enrich, index."""
    from processing.runner import process_pending  # lazy: the stages (trafilatura, langdetect) load only here

    settings = get_settings()
    _run_and_report(lambda: process_pending(settings, get_client(settings), workers=workers,
                                            progress=not no_progress), as_json)


@click.command()
@click.option("--since", help="Only batches started at or after this ISO date/time (UTC when no offset) or age (7d).")
@click.option("--source", "sources", multiple=True, help="Only records of this source id (repeatable).")
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 64))
@click.option("--json", "as_json", is_flag=True, help="Print the report as one JSON object.")
@click.option("--no-progress", is_flag=True)
@failures_exit
def reprocess(since: str | None, sources: tuple[str, ...], workers: int, as_json: bool, no_progress: bool) -> None:
    """Rebuild documents from the raw archive (after a rule change); documents are updated in place."""
    from processing.runner import reprocess as run_reprocess  # lazy: the stages load only here

    try:
        when = parse_when(since) if since else None
    except ValueError as exc:
        raise click.BadParameter(f"not an ISO date or age (7d, 12h): {since!r}", param_hint="--since") from exc
    settings = get_settings()
    _run_and_report(lambda: run_reprocess(settings, since=when, sources=list(sources) or None,
                                          es=get_client(settings), workers=workers, progress=not no_progress),
                    as_json)


@click.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--url", help="The page's real URL (decides the source, its selectors and the document id).")
@click.option("--source", "source_id", help="Source id from sources.yaml (default: guessed from --url).")
@click.option("--kind", type=click.Choice(["article", "telegram_post"]), default="article", show_default=True)
@failures_exit
def extract(files: tuple[Path, ...], url: str | None, source_id: str | None, kind: str) -> None:
    """HTML files (plain or .gz) -> one document per file as a JSON line, through the runner's code.

    A file that yields no document prints {"quarantined": REASON, "detail": ...}
    instead, exactly as the runner would quarantine it; the exit code is then 1.
    """
    # lazy: the stages (trafilatura, langdetect), the archive (warcio) and the schemas load only here
    from mediamon.core.archive import ManifestRecord, is_gzip
    from mediamon.core.sources import load_sources, source_for_url, sources_by_id  # lazy: as above
    from processing.record import RecordInput  # lazy: as above
    from processing.rules import load_processing_rules  # lazy: as above
    from processing.runner import process_record  # lazy: as above

    settings = get_settings()
    sources = sources_by_id(load_sources(settings.sources_path))
    rules = load_processing_rules(settings.config_dir)
    if source_id and source_id not in sources:
        raise click.BadParameter(f"unknown source id {source_id!r}; known: {', '.join(sources)}",
                                 param_hint="--source")
    failed = False
    for path in files:
        raw = path.read_bytes()
        body = gzip.decompress(raw) if is_gzip(raw) else raw
        page_url = url or path.resolve().as_uri()
        source = sources.get(source_id or "") or source_for_url(page_url, sources)
        manifest = ManifestRecord(batch="", url=page_url, canonical_url=page_url, offset=0, kind=kind,
                                  source=source.id if source else "unknown", fetched_at=datetime.now(UTC))
        outcome = process_record(RecordInput(manifest=manifest, body=body, content_type=None), sources, rules)
        if outcome.document is None:
            failed = True
            line = {"file": str(path), "quarantined": outcome.reason, "detail": outcome.detail}
        else:
            line = {"_id": outcome.document.id, **outcome.document.to_source()}
            if outcome.dates_rejected:
                line["_dates_rejected"] = outcome.dates_rejected
        print_json_line(line)
    if failed:
        console.print("some files were quarantined (see the JSON lines)")
        sys.exit(1)
