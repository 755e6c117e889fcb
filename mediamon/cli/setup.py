"""`mediamon setup`: index template, write alias, roles; Kibana objects when Kibana is configured."""

from __future__ import annotations

import click

from mediamon.cli.common import console, failures_exit, get_client, get_settings
from mediamon.ops.setup import setup_cluster
from processing.store.kibana import import_saved_objects


@click.command()
@failures_exit
def setup() -> None:
    """Create index template, write alias, ingest pipeline and roles; Kibana objects when MEDIAMON_KIBANA_URL is set."""
    settings = get_settings()
    report = setup_cluster(get_client(settings), settings)  # warnings are logged by setup
    for name in report.changed:
        console.print(f"created/updated: {name}")
    console.print(f"unchanged: {', '.join(report.unchanged) or 'nothing'}")
    if settings.kibana_url:
        kibana = import_saved_objects(settings)
        console.print(f"Kibana: {kibana.objects} saved objects imported ({', '.join(kibana.files)})")
        if kibana.errors:
            raise click.ClickException("Kibana rejected objects: " + "; ".join(kibana.errors))
