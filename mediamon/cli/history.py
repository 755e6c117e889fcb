"""`mediamon history URL|ID`: every version of an article, what changed between them, and whether it is gone."""

from __future__ import annotations

import contextlib
import re
from typing import TYPE_CHECKING

import click

from mediamon.cli.common import failures_exit, get_client, get_settings, out, print_json_line, shown

if TYPE_CHECKING:
    from processing.changes.history import History

DOC_ID = re.compile(r"^[0-9a-f]{64}$")


@click.command("history")
@click.argument("article")
@click.option("--json", "as_json", is_flag=True, help="One JSON line per version (with its diff lines).")
@click.option("--text", "with_text", is_flag=True, help="With --json: include each version's full text.")
@failures_exit
def history(article: str, as_json: bool, with_text: bool) -> None:
    """Show the versions of ARTICLE (its URL or document id) and a coloured diff between them."""
    from processing.changes.config import load_change_rules  # lazy: processing loads when run, not for --help
    from processing.changes.history import find_history  # lazy: as above

    settings = get_settings()
    found = find_history(get_client(settings), settings, _candidate_ids(article))
    if found is None:
        raise click.ClickException(f"no article {article!r} in the index (give its URL or its document id)")
    diffs = found.diffs(load_change_rules(settings.config_dir))
    if as_json:
        _print_json(found, diffs, with_text)
    else:
        _print(found, diffs)


def _candidate_ids(article: str) -> list[str]:
    from crawlers.canonical import canonical_url  # lazy: as in history
    from mediamon.core.document import doc_id  # lazy: as in history

    if DOC_ID.match(article):
        return [article]
    ids = [doc_id(article)]
    with contextlib.suppress(ValueError):  # not a URL the crawler could fetch: only the id of the text as given
        ids.append(doc_id(canonical_url(article)))
    return list(dict.fromkeys(ids))


def _print_json(found: History, diffs: list[list[str]], with_text: bool) -> None:
    if not found.versions and found.document:  # never changed: the document is its only version
        doc = found.document
        print_json_line({"doc_id": found.doc_id, "version": 1, "url": doc.get("url"), "title": doc.get("title"),
                         "fetched_at": doc.get("fetched_at"), "change_classes": [], "diff": [],
                         **({"text": doc.get("text")} if with_text else {})})
    for version, lines in zip(found.versions, diffs, strict=True):
        shown_fields = {k: v for k, v in version.items() if k not in ("text", "diff") or (k == "text" and with_text)}
        print_json_line({**shown_fields, "diff": lines})


def _print(found: History, diffs: list[list[str]]) -> None:
    doc = found.document or {}
    url = doc.get("url") or (found.versions[0].get("url") if found.versions else "?")
    out.print(f"[bold]{shown(doc.get('title') or url)}[/bold]\n{shown(url)}  id {found.doc_id}")
    if not found.versions:
        out.print(f"1 version (fetched {shown(doc.get('fetched_at', '?'))}): no change seen by the revisits so far")
        return
    for version, lines in zip(found.versions, diffs, strict=True):
        if version.get("deleted"):
            label = f"[bold red]deleted[/bold red] ({shown(version.get('deletion', {}).get('how', '?'))})"
        elif version["version"] == 1:
            label = "first version"
        else:
            classes = ", ".join(c.replace("_", " ") for c in version.get("change_classes", []))
            label = f"[bold yellow]{shown(classes)}[/bold yellow] score {version.get('change_score', 0):.2f}"
        out.print(f"\n[bold]version {version['version']}[/bold]  {shown(version.get('fetched_at', '?'))}  {label}")
        for line in lines:
            colour = "red" if line.startswith("-") else "green" if line.startswith("+") else "default"
            out.print(f"  [{colour}]{shown(line)}[/{colour}]", soft_wrap=True)
