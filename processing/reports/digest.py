"""`mediamon report`: the analyst digest — one self-contained HTML page with charts.

Everything comes from Elasticsearch aggregations over the period (by
``published_at``) and from the alert state: volume per source and per narrative
over time and the language split as matplotlib PNGs (embedded as base64, and
also written next to the page for reuse), the most alarmist original documents
with the terms that made them so, near-duplicate groups traced back to the
outlet that published first, and the alerts fired in the period. A period
without documents says so, in the page and in the returned warning, with the
range the index does hold.
"""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import matplotlib.dates as mdates
from elasticsearch import Elasticsearch
from jinja2 import Environment, FileSystemLoader, select_autoescape

# the object API, not pyplot: no display, no global figure state (CLI, Airflow workers)
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from mediamon.core.esclient import for_search
from mediamon.core.settings import Settings
from processing.alerts.alert_state import StateStore
from processing.alerts.evidence import fmt_time
from processing.changes.history import recent_changes
from processing.enrich import ALARMIST_THRESHOLD
from processing.reports.story_charts import amplification_graph, widest_story
from processing.reports.story_charts import timeline as story_timeline
from processing.stories.story import Story

TEMPLATES = Path(__file__).parent / "templates"
SERIES = 5  # stacked series per chart; the rest is summed as "other" (11 lines were unreadable)
OTHER = "other"
TOP_DOCUMENTS = 20
ALERT_DOCUMENTS = 5  # document links per alert in the table
DUP_GROUPS = 20
CHANGES = 30  # newest edited or removed articles listed


Series = dict[str, list[tuple[datetime, int]]]  # name -> (bin start, documents) per bin


@dataclass(frozen=True)
class Bin:
    """A chart bin: the Elasticsearch calendar interval, its width, and the word captions use."""

    interval: str
    width: timedelta
    noun: str


# Bins that fit the charted span: hourly for a day or two, daily for weeks, weekly for months, then monthly.
BINS = [(timedelta(days=2), Bin("hour", timedelta(hours=1), "hour")),
        (timedelta(weeks=6), Bin("day", timedelta(days=1), "day")),
        (timedelta(days=366), Bin("week", timedelta(weeks=1), "week"))]
MONTHLY = Bin("month", timedelta(days=30), "month")
DOC_FIELDS = ["title", "source", "lang", "published_at", "url", "alarmism", "alarmism_terms", "narratives",
              "dup_group", "is_duplicate"]


@dataclass
class Chart:
    name: str
    caption: str  # what the figure shows, in words
    png: bytes

    @property
    def data_uri(self) -> str:
        return "data:image/png;base64," + base64.b64encode(self.png).decode("ascii")


@dataclass
class DigestData:
    since: datetime
    until: datetime
    total: int = 0
    per_source: Series = field(default_factory=dict)
    per_narrative: Series = field(default_factory=dict)
    languages: list[tuple[str, int]] = field(default_factory=list)
    alarmist: list[dict[str, Any]] = field(default_factory=list)
    dup_groups: list[dict[str, Any]] = field(default_factory=list)
    alerts: list[dict[str, Any]] = field(default_factory=list)
    changes: list[dict[str, Any]] = field(default_factory=list)  # articles edited or removed (versions index)
    story: Story | None = None  # the period's story carried by the most outlets (processing.reports.story_charts)
    charted: tuple[datetime, datetime] | None = None  # the time range the charts show
    bin: Bin = BINS[1][1]
    indexed: tuple[datetime, datetime] | None = None  # first and last publication in the whole index
    empty_hint: str | None = None  # set when the period has no documents


@dataclass
class WrittenReport:
    path: Path
    total: int
    warning: str | None  # the CLI prints it: an empty period is not a silent success


def write_report(settings: Settings, es: Elasticsearch, since: datetime, out_dir: Path,
                 until: datetime | None = None) -> WrittenReport:
    """Gather, chart and render the digest into ``out_dir/report.html``."""
    until = until or datetime.now(UTC)
    data = gather(es, settings, since, until)
    charts = make_charts(data)
    out_dir.mkdir(parents=True, exist_ok=True)
    for chart in charts:
        (out_dir / f"{chart.name}.png").write_bytes(chart.png)
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html", "j2"]))
    env.filters["utc"] = fmt_time
    html = env.get_template("report.html.j2").render(data=data, charts=charts, generated=datetime.now(UTC),
                                                      threshold=ALARMIST_THRESHOLD,
                                                      max_alert_documents=ALERT_DOCUMENTS)
    path = out_dir / "report.html"
    path.write_text(html, encoding="utf-8")
    return WrittenReport(path, data.total, data.empty_hint)


def gather(es: Elasticsearch, settings: Settings, since: datetime, until: datetime) -> DigestData:
    es = for_search(es)  # a report only reads: a timed-out search fails it at once instead of piling up repeats
    data = DigestData(since=since, until=until)
    data.alerts = StateStore(es, settings.alerts_index).alerts(since=since, until=until)
    data.changes = recent_changes(es, settings, since, until, size=CHANGES)
    alias = settings.docs_alias
    period = {"range": {"published_at": {"gte": since.isoformat(), "lte": until.isoformat()}}}
    exists = es.indices.exists_alias(name=alias)
    if not exists or not es.count(index=alias, query={"bool": {"filter": [period]}})["count"]:
        data.indexed = indexed_range(es, alias) if exists else None
        data.empty_hint = empty_period_hint(since, until, data.indexed)
        return data
    # The charts span where the documents are (5th to 95th percentile of publication times, plus
    # a tenth on each side), not the requested period: a busy week in a quiet month, or one misdated
    # document years away, must not squeeze the picture into a few pixels. The caption states the range.
    spread = es.search(index=alias, size=0, query={"bool": {"filter": [period]}}, aggs={
        "t": {"percentiles": {"field": "published_at", "percents": [5, 95]}}})["aggregations"]["t"]["values"]
    low, high = spread["5.0"], spread["95.0"]
    low, high = low - (high - low) / 10, high + (high - low) / 10
    data.charted = (datetime.fromtimestamp(low / 1000, tz=UTC), datetime.fromtimestamp(high / 1000, tz=UTC))
    data.bin = bin_for(data.charted[1] - data.charted[0])
    bounds = {"min": int(low), "max": int(high)}
    histogram = {"date_histogram": {"field": "published_at", "calendar_interval": data.bin.interval,
                                    "min_doc_count": 0, "extended_bounds": bounds, "hard_bounds": bounds}}
    resp = es.search(index=alias, size=0, track_total_hits=True, query={"bool": {"filter": [period]}}, aggs={
        "per_source": {"terms": {"field": "source", "size": 50}, "aggs": {"t": histogram}},
        "per_narrative": {"terms": {"field": "narratives", "size": 50}, "aggs": {"t": histogram}},
        "languages": {"terms": {"field": "lang", "size": 20}},
        "groups": {"terms": {"field": "dup_group", "size": DUP_GROUPS, "min_doc_count": 2},
                   "aggs": {"docs": {"top_hits": {"size": 50, "sort": [{"published_at": "asc"}],
                                                  "_source": {"includes": DOC_FIELDS}}}}},
    })
    aggs = resp["aggregations"]
    data.total = resp["hits"]["total"]["value"]
    data.per_source = _series(aggs["per_source"]["buckets"])
    data.per_narrative = _series(aggs["per_narrative"]["buckets"])
    data.languages = [(b["key"], b["doc_count"]) for b in aggs["languages"]["buckets"]]
    data.dup_groups = [_first_seen(b["key"], [h["_source"] for h in b["docs"]["hits"]["hits"]])
                       for b in aggs["groups"]["buckets"]]
    alarmist = es.search(index=alias, size=TOP_DOCUMENTS, source_includes=DOC_FIELDS,
                         sort=[{"alarmism": "desc"}, {"published_at": "desc"}],
                         query={"bool": {"filter": [period, {"range": {"alarmism": {"gte": ALARMIST_THRESHOLD}}}],
                                         "must_not": [{"term": {"is_duplicate": True}}]}})
    data.alarmist = [h["_source"] for h in alarmist["hits"]["hits"]]
    data.story = widest_story(es, settings, since, until)
    return data


def indexed_range(es: Elasticsearch, alias: str) -> tuple[datetime, datetime] | None:
    """First and last publication time in the index (None when it is empty)."""
    aggs = es.search(index=alias, size=0, aggs={"first": {"min": {"field": "published_at"}},
                                                "last": {"max": {"field": "published_at"}}})["aggregations"]
    if aggs["first"]["value"] is None:
        return None
    return (datetime.fromtimestamp(aggs["first"]["value"] / 1000, tz=UTC),
            datetime.fromtimestamp(aggs["last"]["value"] / 1000, tz=UTC))


def empty_period_hint(since: datetime, until: datetime, indexed: tuple[datetime, datetime] | None) -> str:
    """Why the report is empty and which ``--since`` would show documents."""
    period = f"no documents published {since:%Y-%m-%d %H:%M} – {until:%Y-%m-%d %H:%M} UTC"
    if indexed is None:
        return f"{period}; the index holds no documents yet (run `mediamon run` or `mediamon demo`)"
    first, last = indexed
    return (f"{period}; the index holds documents published {first:%Y-%m-%d} – {last:%Y-%m-%d}: "
            f"try --since {first:%Y-%m-%d}")


def bin_for(span: timedelta) -> Bin:
    """The chart bin for a charted span: hourly for a day, daily for weeks, weekly for months."""
    return next((b for limit, b in BINS if span <= limit), MONTHLY)


def _series(buckets: list[dict[str, Any]]) -> Series:
    return {str(b["key"]): [(datetime.fromtimestamp(p["key"] / 1000, tz=UTC), p["doc_count"])
                            for p in b["t"]["buckets"]] for b in buckets}


def _first_seen(group: str, docs: list[dict[str, Any]]) -> dict[str, Any]:
    """Who published first, and who repeated it how much later (the first-seen trace)."""
    first = docs[0]
    start = _when(first)
    repeats = [{**d, "delay": _delay(_when(d) - start) if start and _when(d) else "?"} for d in docs[1:]]
    return {"dup_group": group, "first": first, "repeats": repeats,
            "outlets": sorted({d.get("source", "?") for d in docs})}


def _when(doc: dict[str, Any]) -> datetime | None:
    value = doc.get("published_at")
    return datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None


def _delay(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    if minutes >= 48 * 60:
        return f"+{minutes // 1440}d{minutes % 1440 // 60:02d}h"
    return f"+{minutes // 60}h{minutes % 60:02d}" if minutes >= 60 else f"+{minutes} min"


# --- charts ---------------------------------------------------------------------------


def make_charts(data: DigestData) -> list[Chart]:
    noun = data.bin.noun
    top = f"the {SERIES} largest, the rest as \"{OTHER}\""
    return [
        Chart("volume_by_source", f"Documents published per {noun} by each source ({top}).",
              _time_chart(group_top(data.per_source), data.bin, "Documents per source")),
        Chart("volume_by_narrative", f"Documents published per {noun} by narrative ({top}); "
              "a document can carry several narratives.",
              _time_chart(group_top(data.per_narrative), data.bin, "Documents per narrative")),
        Chart("language_split", "Share of documents per language.", _language_chart(data.languages)),
        *([Chart("story_timeline", f"The period's story carried by the most outlets ({data.story.story_id}, "
                 f"`mediamon trace {data.story.story_id}`): each outlet's reports over time, by language; "
                 "the star is the origin.", story_timeline(data.story, _png)),
           Chart("story_amplification", "The same story as an amplification graph: outlets placed by their lag "
                 "behind the origin, each arrow from the report it was linked to.",
                 amplification_graph(data.story, _png))] if data.story else []),
    ]


def group_top(series: Series, keep: int = SERIES) -> Series:
    """The ``keep`` largest series by total, and the others summed bin by bin as "other"."""
    ranked = sorted(series, key=lambda name: (-sum(n for _t, n in series[name]), name))
    grouped = {name: series[name] for name in ranked[:keep]}
    rest: dict[datetime, int] = {}
    for name in ranked[keep:]:
        for t, n in series[name]:
            rest[t] = rest.get(t, 0) + n
    if rest:
        grouped[OTHER] = sorted(rest.items())
    return grouped


def _time_chart(series: Series, bin_: Bin, title: str) -> bytes:
    fig = Figure(figsize=(9, 3.8), dpi=100)
    draw_time_chart(fig.subplots(), series, bin_, title)
    return _png(fig)


def draw_time_chart(ax: Axes, series: Series, bin_: Bin, title: str) -> None:
    """Stacked bars, one per bin: a handful of series stay readable where lines overlap."""
    if not series:
        ax.text(0.5, 0.5, "no documents in the period", ha="center", va="center", transform=ax.transAxes)
        ax.set_xticks([])
        ax.set_yticks([])
    else:
        bottom: dict[datetime, int] = {}
        for name, points in series.items():
            times = [t for t, _n in points]
            ax.bar(times, [n for _t, n in points], width=bin_.width * 0.9, align="edge", label=name,
                   bottom=[bottom.get(t, 0) for t in times], color="lightgrey" if name == OTHER else None)
            for t, n in points:
                bottom[t] = bottom.get(t, 0) + n
        ax.legend(fontsize=9, loc="upper left", bbox_to_anchor=(1.0, 1.0), reverse=True)
        locator = mdates.AutoDateLocator()
        ax.xaxis.set_major_locator(locator)
        ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))  # documents come whole
    ax.set_title(title)
    ax.set_ylabel(f"documents per {bin_.noun}")


def _language_chart(languages: list[tuple[str, int]]) -> bytes:
    fig = Figure(figsize=(4.5, 3.6), dpi=100)
    ax = fig.subplots()
    if languages:
        ax.pie([n for _l, n in languages], labels=[f"{lang} ({n})" for lang, n in languages], autopct="%1.0f%%",
               wedgeprops={"width": 0.45})
    else:
        ax.text(0.5, 0.5, "no documents", ha="center", va="center")
        ax.axis("off")
    ax.set_title("Languages")
    return _png(fig)


def _png(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()
