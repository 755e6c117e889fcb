"""`mediamon setup`: index template, write alias, roles; Kibana objects when Kibana is configured."""

from __future__ import annotations

import click

from mediamon.cli.common import console, failures_exit, get_client, get_settings, shown


@click.command()
@failures_exit
def setup() -> None:
    """Create index template, write alias, ingest pipeline and roles; Kibana objects when MEDIAMON_KIBANA_URL is set."""
    from mediamon.ops.setup import import_kibana_objects, setup_cluster  # lazy: the cluster tooling only when run

    settings = get_settings()
    es = get_client(settings)
    report = setup_cluster(es, settings)  # warnings are logged by setup
    for name in report.changed:
        console.print(f"created/updated: {name}")
    console.print(f"unchanged: {', '.join(report.unchanged) or 'nothing'}")
    _check_browser(settings)
    if settings.kibana_url:
        kibana, span = import_kibana_objects(es, settings)
        console.print(f"Kibana: {kibana.objects} saved objects imported ({', '.join(kibana.files)})")
        if span:
            console.print(f"Kibana: the dashboard opens on {span[0]:%Y-%m-%d} – {span[1]:%Y-%m-%d}, where the "
                          "documents are (MEDIAMON_AS_OF=newest-document)")
        if kibana.errors:
            raise click.ClickException("Kibana rejected objects: " + "; ".join(kibana.errors))


def _check_browser(settings) -> None:
    """Say how to install Chromium when a configured source renders pages and it is missing (crawls would fail)."""
    from crawlers.rendering import browser_missing  # lazy: Playwright's modules only when checking
    from mediamon.core.sources import load_sources  # lazy: the sources schema loads when a command runs

    rendering = [s.id for s in load_sources(settings.sources_path) if s.needs_browser]
    missing = browser_missing(settings.browser_path) if rendering else None
    if missing:
        console.print(f"[yellow]{shown(', '.join(rendering))}:[/] {shown(missing)}", highlight=False)
