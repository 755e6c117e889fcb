"""`mediamon deadletter list / replay`: documents Elasticsearch rejected, kept with the reason."""

from __future__ import annotations

import json
import sys
from collections import Counter

import click

from mediamon.cli.common import failures_exit, get_client, get_settings, out
from processing.store.bulk import DeadLetter, read_deadletter
from processing.store.replay import replay_deadletters


@click.group()
def deadletter() -> None:
    """Documents Elasticsearch rejected or could not take, kept with the reason."""


@deadletter.command("list")
def deadletter_list() -> None:
    """Count dead-lettered documents by reason."""
    files = DeadLetter(get_settings().deadletter_dir).files()
    counts = Counter(entry.get("kind", "?") for entry in read_deadletter(files))
    for kind, n in counts.most_common():
        out.print(f"{kind}: {n}")
    if not counts:
        out.print("no dead letters")


@deadletter.command("replay")
@failures_exit
def deadletter_replay() -> None:
    """Resend every dead-lettered document; those rejected again are dead-lettered anew."""
    settings = get_settings()
    counts = replay_deadletters(get_client(settings), settings)
    out.print(json.dumps(counts.as_dict()))
    if counts.failed:
        sys.exit(1)
