"""`mediamon run` and `mediamon demo`: the whole pipeline once, on the real sources or the bundled samples."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click
from rich.panel import Panel
from rich.table import Table

from mediamon.cli.common import console, failures_exit, get_settings, out, print_json_line, shown, with_sources_file


@click.command("run")
@click.option("--sources", "sources_file", type=click.Path(path_type=Path, dir_okay=False),
              help="Sources file (default <config_dir>/sources.yaml).")
@click.option("--source", "source_ids", multiple=True, help="Only this source id (repeatable).")
@click.option("--json", "as_json", is_flag=True, help="Print the run's counts as one JSON object.")
@failures_exit
def run_command(sources_file: Path | None, source_ids: tuple[str, ...], as_json: bool) -> None:
    """Crawl, process and evaluate alerts once, all with the same sources file (exit 1 when a source failed)."""
    from mediamon.ops.run import run_once  # lazy: the pipeline's stages load only when running

    settings = with_sources_file(get_settings(), sources_file)
    report = run_once(settings, source_ids=list(source_ids) or None, progress=not as_json)
    if as_json:
        print_json_line({"crawl": report.crawl, "process": report.process, "alerts": report.alerts,
                         "failed_sources": report.failed_sources})
    else:
        _print_run(report)
    if report.failed_sources:
        console.print(f"[red]failed sources:[/] {shown(', '.join(report.failed_sources))}")
        sys.exit(1)


@click.command("demo")
@click.option("--corpus", "corpus_dir", type=click.Path(path_type=Path, file_okay=False, exists=True),
              help="Sample corpus directory (default: the bundled mediamon/mirror/corpus).")
@failures_exit
def demo_command(corpus_dir: Path | None) -> None:
    """The whole pipeline offline on the bundled sample sites, then a summary of the index."""
    from mediamon.ops.demo import cli_name, demo_crawl_log, run_demo  # lazy: pipeline stages load only when running

    settings = get_settings()
    started = time.monotonic()
    crawl_log = demo_crawl_log(settings)
    console.print(f"[bold]mediamon demo[/] — data in {settings.data_dir}; local Elasticsearch, sample sites, "
                  f"crawl (log: {crawl_log}), process, alerts")
    def step(line: str) -> None:  # every step says what it is doing: a demo is never minutes of silence
        console.print(f"[dim]{time.monotonic() - started:5.1f}s[/] {shown(line)}", highlight=False)

    summary = run_demo(settings, crawl_log=crawl_log, corpus_dir=corpus_dir, on_step=step)
    _print_run(summary.run)
    cli = cli_name()
    _print_summary(summary, cli)
    console.print(f"demo finished in {time.monotonic() - started:.0f}s")
    if summary.report:
        out.print(f"report: {summary.report.path}\n  (documents since {summary.report_since:%Y-%m-%d}; again: "
                  f"{cli} report --since {summary.report_since:%Y-%m-%d} --out DIR)", highlight=False, soft_wrap=True)
    out.print(f"Elasticsearch is still running (node in {settings.local_es_dir}): stop it with `{cli} es stop`, "
              "or `make clean` to stop it and delete the demo's data.", highlight=False, soft_wrap=True)
    if summary.run.failed_sources:
        console.print(f"[red]failed sources:[/] {shown(', '.join(summary.run.failed_sources))}")
        sys.exit(1)


def _print_run(report) -> None:
    table = Table(title="this run", show_header=True)
    table.add_column("stage")
    table.add_column("counts", overflow="fold")
    for stage in ("crawl", "process", "alerts"):
        counts = getattr(report, stage)
        flat = {k: v for k, v in counts.items() if isinstance(v, int | float) and not isinstance(v, bool)}
        table.add_row(stage, ", ".join(f"{k} {v}" for k, v in flat.items()) or "-")
    out.print(table)


def _as_of_line(as_of: str | None) -> str:
    """Whose clock the alerts were judged by, when not the wall clock (the demo's 2021 sample)."""
    if not as_of:
        return ""
    return f"alerts judged as of {shown(as_of[:16].replace('T', ' '))} UTC (the newest document; MEDIAMON_AS_OF)\n"


def _print_summary(summary, cli: str) -> None:
    """The index after the demo; ``cli`` is how the user's shell calls mediamon (its suggestions run as printed)."""
    docs = Table(title=f"{summary.documents} documents in the index")
    docs.add_column("source")
    langs = sorted({lang for per in summary.by_source_lang.values() for lang in per})
    for lang in langs:
        docs.add_column(shown(lang), justify="right")
    for source, per in sorted(summary.by_source_lang.items()):
        docs.add_row(shown(source), *(str(per.get(lang, "")) for lang in langs))
    out.print(docs)

    narratives = Table(title="narratives")
    narratives.add_column("narrative")
    narratives.add_column("documents", justify="right")
    for name, count in summary.narratives.items():
        narratives.add_row(shown(name), str(count))
    out.print(narratives)

    alarmist = Table(title="most alarmist")
    for column in ("score", "source", "lang", "title", "terms"):
        alarmist.add_column(column, overflow="fold")
    for hit in summary.top_alarmist:
        alarmist.add_row(f"{hit.get('alarmism', 0):.2f}", shown(hit.get("source", "")), shown(hit.get("lang", "")),
                         shown((hit.get("title") or "")[:80]), shown(", ".join(hit.get("alarmism_terms", [])[:4])))
    out.print(alarmist)

    out.print(Panel.fit(
        f"duplicate groups: {summary.duplicate_groups} ({summary.duplicates} documents flagged as duplicates)\n"
        f"alerts fired this run: {summary.alerts_fired}; stored by rule: "
        f"{shown(', '.join(f'{rule} {n}' for rule, n in summary.alerts_by_rule.items()) or 'none')}\n"
        + _as_of_line(summary.run.alerts.get("as_of")) +
        f"alerts: `{cli} alerts list`\n"
        f"sample sites were served at {summary.mirror_url}",
        title="pipeline"))
    out.print("try:\n" + "\n".join(f"  {example}" for example in summary.search_examples), highlight=False,
              soft_wrap=True)
