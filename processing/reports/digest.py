"""`mediamon report`: the analyst digest — one self-contained HTML page with charts.

Everything comes from Elasticsearch aggregations over the period (by
``published_at``) and from the alert state: volume per source and per narrative
over time and the language split as matplotlib PNGs (embedded as base64, and
also written next to the page for reuse), the most alarmist original documents
with the terms that made them so, near-duplicate groups traced back to the
outlet that published first, and the alerts fired in the period.
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
from matplotlib.figure import Figure

from mediamon.core.settings import Settings
from processing.alerts.alert_state import StateStore
from processing.alerts.evidence import fmt_time
from processing.enrich import ALARMIST_THRESHOLD

TEMPLATES = Path(__file__).parent / "templates"
SERIES = 10  # lines per chart; the rest is summed as "other"
TOP_DOCUMENTS = 20
DUP_GROUPS = 20
INTERVALS = [("1h", timedelta(hours=1)), ("6h", timedelta(hours=6)), ("1d", timedelta(days=1)),
             ("7d", timedelta(days=7))]
MAX_BUCKETS = 40
DOC_FIELDS = ["title", "source", "lang", "published_at", "url", "alarmism", "alarmism_terms", "narratives",
              "dup_group", "is_duplicate"]


@dataclass
class Chart:
    name: str
    title: str
    png: bytes

    @property
    def data_uri(self) -> str:
        return "data:image/png;base64," + base64.b64encode(self.png).decode("ascii")


@dataclass
class DigestData:
    since: datetime
    until: datetime
    total: int = 0
    per_source: dict[str, list[tuple[datetime, int]]] = field(default_factory=dict)
    per_narrative: dict[str, list[tuple[datetime, int]]] = field(default_factory=dict)
    languages: list[tuple[str, int]] = field(default_factory=list)
    alarmist: list[dict[str, Any]] = field(default_factory=list)
    dup_groups: list[dict[str, Any]] = field(default_factory=list)
    alerts: list[dict[str, Any]] = field(default_factory=list)
    charted: tuple[datetime, datetime] | None = None  # the time range the charts show


def write_report(settings: Settings, es: Elasticsearch, since: datetime, out_dir: Path,
                 until: datetime | None = None) -> Path:
    """Gather, chart and render the digest into ``out_dir/report.html``; returns that path."""
    until = until or datetime.now(UTC)
    data = gather(es, settings, since, until)
    charts = make_charts(data)
    out_dir.mkdir(parents=True, exist_ok=True)
    for chart in charts:
        (out_dir / f"{chart.name}.png").write_bytes(chart.png)
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html", "j2"]))
    env.filters["utc"] = fmt_time
    html = env.get_template("report.html.j2").render(data=data, charts=charts, generated=datetime.now(UTC),
                                                      threshold=ALARMIST_THRESHOLD)
    path = out_dir / "report.html"
    path.write_text(html, encoding="utf-8")
    return path


def gather(es: Elasticsearch, settings: Settings, since: datetime, until: datetime) -> DigestData:
    data = DigestData(since=since, until=until)
    data.alerts = StateStore(es, settings.alerts_index).alerts(since=since, until=until)
    alias = settings.docs_alias
    if not es.indices.exists_alias(name=alias):
        return data
    period = {"range": {"published_at": {"gte": since.isoformat(), "lte": until.isoformat()}}}
    # The charts span where the documents are (5th to 95th percentile of publication times, plus
    # a tenth on each side), not
    # the requested period: a busy week in a quiet month, or one misdated document years away,
    # must not squeeze the picture into a few pixels. The caption states the charted range.
    spread = es.search(index=alias, size=0, query={"bool": {"filter": [period]}}, aggs={
        "t": {"percentiles": {"field": "published_at", "percents": [5, 95]}}})["aggregations"]["t"]["values"]
    low, high = (spread.get("5.0") or 0), (spread.get("95.0") or 0)
    low, high = low - (high - low) / 10, high + (high - low) / 10
    span = timedelta(milliseconds=high - low)
    interval = next((name for name, size in INTERVALS if span <= size * MAX_BUCKETS), "30d")
    bounds = {"min": int(low), "max": int(high)}
    data.charted = (datetime.fromtimestamp(low / 1000, tz=UTC), datetime.fromtimestamp(high / 1000, tz=UTC))
    histogram = {"date_histogram": {"field": "published_at", "fixed_interval": interval, "min_doc_count": 0,
                                    "extended_bounds": bounds, "hard_bounds": bounds}}
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
    return data


def _series(buckets: list[dict[str, Any]]) -> dict[str, list[tuple[datetime, int]]]:
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
    return [
        Chart("volume_by_source", "Volume per source", _time_chart(data.per_source, "Documents per source")),
        Chart("volume_by_narrative", "Volume per narrative",
              _time_chart(data.per_narrative, "Documents per narrative")),
        Chart("language_split", "Language split", _language_chart(data.languages)),
    ]


def _time_chart(series: dict[str, list[tuple[datetime, int]]], title: str) -> bytes:
    fig = Figure(figsize=(9, 3.6), dpi=100)
    ax = fig.subplots()
    top = sorted(series, key=lambda k: -sum(n for _t, n in series[k]))
    for name in top[:SERIES]:
        times, counts = zip(*series[name], strict=True) if series[name] else ((), ())
        ax.plot(times, counts, label=name, linewidth=1.5)
    if len(top) > SERIES:
        rest: dict[datetime, int] = {}
        for name in top[SERIES:]:
            for t, n in series[name]:
                rest[t] = rest.get(t, 0) + n
        ax.plot(sorted(rest), [rest[t] for t in sorted(rest)], label="other", color="grey", linestyle="--")
    if not series:
        ax.text(0.5, 0.5, "no documents in the period", ha="center", va="center", transform=ax.transAxes)
        ax.set_xticks([])
        ax.set_yticks([])
    else:
        ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))
        ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(mdates.AutoDateLocator()))
    ax.set_title(title)
    ax.set_ylabel("documents")
    return _png(fig)


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
