"""The digest's story charts: who carried the widest story of the period, when, and behind whom.

- timeline: outlets (rows) against publication time, one mark per report,
  coloured by language, the origin starred;
- amplification graph: outlets as nodes placed by their lag behind the origin,
  an arrow from the report each was linked to, labelled with the lag.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import matplotlib.dates as mdates
from elasticsearch import Elasticsearch
from matplotlib.figure import Figure

from mediamon.core.settings import Settings
from processing.stories import storyindex
from processing.stories.amplification import chain
from processing.stories.story import Story

LANGUAGE_COLOURS = {"ru": "tab:red", "en": "tab:blue", "be": "tab:green"}


def widest_story(es: Elasticsearch, settings: Settings, since: datetime, until: datetime) -> Story | None:
    """The story overlapping the period carried by the most outlets (then the most reports, then the earliest)."""
    index = storyindex.stories_index(settings)
    if not es.indices.exists(index=index):
        return None
    resp = es.search(index=index, size=50, source_includes=["story_id", "sources", "size", "first_at"],
                     query={"bool": {"filter": [{"range": {"first_at": {"lte": until.isoformat()}}},
                                                {"range": {"last_at": {"gte": since.isoformat()}}},
                                                {"range": {"size": {"gte": 2}}}]}},
                     sort=[{"size": "desc"}, {"first_at": "asc"}])
    hits = [h["_source"] for h in resp["hits"]["hits"]]
    if not hits:
        return None
    best = min(hits, key=lambda s: (-len(s["sources"]), -s["size"], s["first_at"]))
    return storyindex.get_story(es, settings, best["story_id"])


def _hours(minutes: int) -> str:
    hours, rest = divmod(abs(minutes), 60)
    return ("-" if minutes < 0 else "+") + (f"{hours}h{rest:02d}" if hours else f"{rest}m")


def timeline(story: Story, draw: Any) -> bytes:
    origin, _amplifiers = chain(story)
    outlets = sorted({m.features.source for m in story.members},
                     key=lambda s: min(m.features.published_at for m in story.members if m.features.source == s))
    fig = Figure(figsize=(9, 0.45 * len(outlets) + 1.6), dpi=100)
    ax = fig.subplots()
    for member in story.members:
        f = member.features
        ax.scatter([f.published_at], [outlets.index(f.source)], s=160 if member is origin else 50,
                   marker="*" if member is origin else "o", color=LANGUAGE_COLOURS.get(f.lang, "grey"), zorder=3)
    o = origin.features
    ax.annotate("origin", (mdates.date2num(o.published_at), outlets.index(o.source)), textcoords="offset points",
                xytext=(8, 6), fontsize=9)
    for lang, colour in LANGUAGE_COLOURS.items():
        if any(m.features.lang == lang for m in story.members):
            ax.scatter([], [], color=colour, label=lang)
    ax.legend(fontsize=9, loc="lower right")
    ax.set_yticks(range(len(outlets)), outlets)
    ax.invert_yaxis()
    locator = mdates.AutoDateLocator()
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    ax.grid(axis="x", alpha=0.3)
    ax.set_title(f"Story timeline: {o.title[:70]}")
    return draw(fig)


def amplification_graph(story: Story, draw: Any) -> bytes:
    origin, amplifiers = chain(story)
    fig = Figure(figsize=(9, 0.45 * len(story.members) + 1.6), dpi=100)
    ax = fig.subplots()
    place: dict[str, tuple[float, int]] = {origin.features.doc_id: (0.0, 0)}
    for row, a in enumerate(amplifiers, start=1):
        place[a.member.features.doc_id] = (a.lag.total_seconds() / 3600, row)
    for member in [origin, *(a.member for a in amplifiers)]:
        f = member.features
        x, y = place[f.doc_id]
        ax.scatter([x], [y], s=160 if member is origin else 60, marker="*" if member is origin else "o",
                   color=LANGUAGE_COLOURS.get(f.lang, "grey"), zorder=3)
        ax.annotate(f"{f.source} ({f.owner or '?'})"[:48], (x, y), textcoords="offset points", xytext=(7, -3),
                    fontsize=8)
    for a in amplifiers:
        source = a.member.linked_to if a.member.linked_to in place else origin.features.doc_id
        x0, y0 = place[source]
        x1, y1 = place[a.member.features.doc_id]
        ax.annotate("", (x1, y1), (x0, y0), arrowprops={"arrowstyle": "->", "color": "grey", "alpha": 0.7})
        ax.annotate(_hours(round(a.lag.total_seconds() / 60)), ((x0 + x1) / 2, (y0 + y1) / 2), fontsize=7,
                    color="dimgrey")
    ax.set_yticks([])
    ax.invert_yaxis()
    ax.set_xlabel("hours after the origin")
    ax.grid(axis="x", alpha=0.3)
    ax.set_title("Amplification: each outlet from the report it was linked to, with its lag")
    return draw(fig)
