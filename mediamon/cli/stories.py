"""`mediamon stories` and `mediamon trace`: stories across outlets and languages, and who carried one how fast."""

from __future__ import annotations

import sys

import click
from rich.table import Table

from mediamon.cli.common import failures_exit, get_client, get_settings, out, print_json_line, shown
from mediamon.core.durations import parse_when


def _lag(minutes: int) -> str:
    hours, rest = divmod(abs(minutes), 60)
    return ("-" if minutes < 0 else "+") + (f"{hours}h{rest:02d}" if hours else f"{rest}m")


@click.command("stories")
@click.option("--since", help="Stories begun since: an ISO time or an age (7d, 12h).")
@click.option("--narrative", help="Only stories carrying this narrative (config/narratives.yaml id).")
@click.option("--min-size", default=2, show_default=True, help="Reports a story needs to be listed.")
@click.option("--reach", is_flag=True, help="Per narrative per day: documents, distinct outlets and owners.")
@click.option("--limit", default=50, show_default=True, help="Stories shown (newest first).")
@click.option("--json", "as_json", is_flag=True, help="One story (or reach row) per line.")
@failures_exit
def stories(since: str | None, narrative: str | None, min_size: int, reach: bool, limit: int, as_json: bool) -> None:
    """Stories: the same statement or event reported across outlets and languages."""
    # lazy: the stories' views (Elasticsearch client) load when the command runs, not for --help
    from processing.stories.views import list_stories, narrative_reach

    settings = get_settings()
    es = get_client(settings)
    when = parse_when(since) if since else None
    if reach:
        rows = narrative_reach(es, settings, when, narrative)
        if as_json:
            for row in rows:
                print_json_line(row)
            return
        table = Table("narrative", "day", "documents", "outlets", "owners")
        for row in rows:
            table.add_row(shown(row["narrative"]), row["day"], *(str(row[k]) for k in ("documents", "outlets",
                                                                                          "owners")))
        out.print(table)
        return
    total, found = list_stories(es, settings, when, narrative, min_size, limit)
    if as_json:
        for story in found:
            print_json_line(story)
        return
    table = Table("story", "first", "reports", "outlets", "languages", "origin", "title", title=f"{len(found)} of "
                  f"{total} stories")
    for s in found:
        table.add_row(s["story_id"], s["first_at"][:16], str(s["size"]), str(len(s["sources"])),
                      ",".join(s["languages"]), shown(s["origin_source"]), shown(s["title"][:70]))
    out.print(table)


@click.command("trace")
@click.argument("wanted", metavar="ID")
@click.option("--json", "as_json", is_flag=True, help="The chain as one JSON object.")
@failures_exit
def trace_command(wanted: str, as_json: bool) -> None:
    """The amplification chain of a story (its id, or a document's id or URL): origin, then each outlet's lag."""
    from processing.stories.lexicon import load_lexicon  # lazy: as in stories
    from processing.stories.views import find_story, trace  # lazy: as in stories

    settings = get_settings()
    story = find_story(get_client(settings), settings, wanted)
    if story is None:
        out.print(f"no story for {shown(wanted)} (a story id st-..., a document id or URL)")
        sys.exit(1)
    data = trace(story, load_lexicon(settings.config_dir).window_hours)
    if as_json:
        print_json_line(data)
        return
    origin = data["origin"]
    table = Table("lag", "outlet", "owner", "lang", "published", "quotes origin", "linked because", "title",
                  title=f"story {data['story_id']}: {data['size']} reports")
    table.add_row("origin", shown(origin["source"]), shown(origin["owner"] or ""), origin["lang"],
                  origin["published_at"][:16], "", "", shown(origin["title"][:60]))
    for a in data["amplifiers"]:
        why = ", ".join(f"{k}: {v}" if not isinstance(v, list) else f"{k}: {', '.join(map(str, v[:4]))}"
                        for k, v in (a["link"] or {}).get("reasons", {}).items())
        table.add_row(_lag(a["lag_minutes"]), shown(a["source"]), shown(a["owner"] or ""), a["lang"],
                      a["published_at"][:16], "yes" if a["quotes_origin"] else "no", shown(why[:80]),
                      shown(a["title"][:60]))
    out.print(table)
