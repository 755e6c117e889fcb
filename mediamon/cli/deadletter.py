"""`mediamon deadletter list / replay`: documents Elasticsearch rejected, kept with the reason."""

from __future__ import annotations

import json
import sys
from collections import Counter

import click

from mediamon.cli.common import failures_exit, get_client, get_settings, out, print_json_line


@click.group()
def deadletter() -> None:
    """Documents Elasticsearch rejected or could not take, kept with the reason."""


@deadletter.command("list")
@click.option("--json", "as_json", is_flag=True, help="One dead letter per line (without the document body).")
def deadletter_list(as_json: bool) -> None:
    """Count dead-lettered documents by reason."""
    from processing.store.bulk import DeadLetter, read_deadletter  # lazy: the Elasticsearch client, only when run

    files = DeadLetter(get_settings().deadletter_dir).files()
    if as_json:
        for entry in read_deadletter(files):
            document = entry.get("document") or {}
            print_json_line({"_id": entry.get("_id"), "failed_at": entry.get("failed_at"), "kind": entry.get("kind"),
                             "reason": entry.get("reason"), "source": document.get("source"),
                             "url": document.get("url")})
        return
    counts = Counter(entry.get("kind", "?") for entry in read_deadletter(files))
    for kind, n in counts.most_common():
        out.print(f"{kind}: {n}")
    if not counts:
        out.print("no dead letters")


@deadletter.command("replay")
@failures_exit
def deadletter_replay() -> None:
    """Resend every dead-lettered document; those rejected again are dead-lettered anew."""
    from processing.store.replay import replay_deadletters  # lazy: the Elasticsearch client, only when run

    settings = get_settings()
    counts = replay_deadletters(get_client(settings), settings)
    out.print(json.dumps(counts.as_dict()))
    if counts.failed:
        sys.exit(1)
