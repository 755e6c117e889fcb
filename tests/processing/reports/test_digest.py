"""The digest report: right content, and it renders with its charts in real headless Chromium."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner
from matplotlib.figure import Figure

from mediamon.cli.main import main
from processing.reports.digest import OTHER, bin_for, draw_time_chart, group_top, write_report
from tests.support.alerting import T0, config, doc, index

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
RENDER_CHECK = """<script>
window.addEventListener('load', () => {
  const images = [...document.querySelectorAll('img.chart')].map(
    img => ({id: img.id, complete: img.complete, width: img.naturalWidth, height: img.naturalHeight}));
  const out = document.createElement('pre');
  out.id = 'render-check';
  out.textContent = JSON.stringify(images);
  document.body.appendChild(out);
});
</script>"""


@pytest.fixture
def corpus(es_settings, es_admin, run):
    story = {"dup_group": "g-lavrov", "narratives": ["eu_must_pay"]}
    index(es_admin, es_settings, [
        doc("lavrov", source="tass-ru", published=T0 - timedelta(hours=3), title="Лавров: ЕС должен платить",
            **story),
        doc("lavrov-ria", source="ria-ru", published=T0 - timedelta(hours=2), is_duplicate=True, **story),
        doc("lavrov-rt", source="rt-en", lang="en", published=T0 - timedelta(minutes=30), is_duplicate=True,
            **story),
        doc("clash", source="rt-en", lang="en", title="Armed clash looms at the border",
            narratives=["nato_provocation"], alarmism=0.82, alarmism_terms=["armed clash", "catastrophe"],
            published=T0 - timedelta(hours=5)),
        doc("belta", source="belta-be", lang="be", title="Мінск дзейнічае ў рамках закона",
            narratives=["belarus_lawful"], published=T0 - timedelta(days=1)),
        doc("old", source="tass-ru", published=T0 - timedelta(days=30)),  # outside the period
    ])
    run(config({"id": "clash", "type": "match", "query": "alarmism:>=0.5"}), T0)
    return es_settings


def test_report_holds_the_period_with_first_seen_traces(corpus, es_admin, tmp_path):
    report = write_report(corpus, es_admin, T0 - timedelta(days=2), tmp_path / "out", until=T0 + timedelta(hours=1))
    path, html = report.path, report.path.read_text()
    assert report.total == 5 and report.warning is None and 'id="empty-period"' not in html
    assert re.search(r'id="total">5<', html)  # the 30-day-old document is outside the period
    assert "Armed clash looms at the border" in html and "<span>armed clash</span>" in html
    trace = html[html.index('id="dup-groups"'):html.index('id="dup-groups"') + 2000]
    assert trace.index("tass-ru") < trace.index("ria-ru (+1h00, ru)") < trace.index("rt-en (+2h30, en)")
    alerts = html[html.index('id="alerts"'):]
    assert '<a href="https://rt-en.example/clash">rt-en: Armed clash looms at the border</a>' in alerts
    # captions say what a figure shows, per hour for a period of about a day
    assert "Documents published per hour by each source" in html and ".png)" not in html
    assert sorted(p.name for p in path.parent.glob("*.png")) == [
        "language_split.png", "volume_by_narrative.png", "volume_by_source.png"]


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install chromium)")
def test_report_renders_with_its_charts_in_headless_chromium(corpus, es_admin, tmp_path):
    path = write_report(corpus, es_admin, T0 - timedelta(days=2), tmp_path / "out",
                        until=T0 + timedelta(hours=1)).path
    page = path.with_name("check.html")
    page.write_text(path.read_text().replace("</body>", RENDER_CHECK + "</body>"))
    result = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={tmp_path / 'chromium'}", "--virtual-time-budget=5000", "--dump-dom", page.as_uri()],
        capture_output=True, text=True, timeout=120)
    match = re.search(r'<pre id="render-check">(.*?)</pre>', result.stdout, re.S)
    assert match, result.stderr[-2000:]
    images = json.loads(match.group(1).replace("&quot;", '"'))
    assert [i["id"] for i in images] == ["chart-volume_by_source", "chart-volume_by_narrative",
                                         "chart-language_split"]
    assert all(i["complete"] and i["width"] > 0 and i["height"] > 0 for i in images), images


def test_report_command_writes_the_page(corpus, tmp_path, monkeypatch):
    monkeypatch.setenv("MEDIAMON_INDEX_PREFIX", corpus.index_prefix)
    monkeypatch.setenv("MEDIAMON_DATA_DIR", str(corpus.data_dir))
    monkeypatch.setenv("MEDIAMON_LOCAL_ES_DIR", str(corpus.local_es_dir))
    result = CliRunner().invoke(main, ["report", "--since", "3650d", "--out", str(tmp_path / "r")])
    assert result.exit_code == 0, result.output
    assert "Armed clash looms at the border" in (tmp_path / "r" / "report.html").read_text()


def test_report_on_an_empty_index_still_renders(es_settings, es_admin, tmp_path):
    report = write_report(es_settings, es_admin, T0 - timedelta(days=7), tmp_path, until=T0)
    html = report.path.read_text()
    assert "No alerts in the period" in html and html.count('class="chart"') == 3
    assert "the index holds no documents yet" in report.warning and report.warning in html
    fresh = es_settings.model_copy(update={"index_prefix": es_settings.index_prefix + "-none"})  # no alias at all
    assert "the index holds no documents yet" in write_report(fresh, es_admin, T0, tmp_path / "none").warning


def test_an_empty_period_says_so_and_where_the_documents_are(corpus, tmp_path, monkeypatch):
    """The 2021 demo data with the default --since 7d: a warning with the range to use, no 1970 window."""
    monkeypatch.setenv("MEDIAMON_INDEX_PREFIX", corpus.index_prefix)
    monkeypatch.setenv("MEDIAMON_DATA_DIR", str(corpus.data_dir))
    monkeypatch.setenv("MEDIAMON_LOCAL_ES_DIR", str(corpus.local_es_dir))
    result = CliRunner().invoke(main, ["report", "--out", str(tmp_path / "r")])
    assert result.exit_code == 0, result.output
    html = (tmp_path / "r" / "report.html").read_text()
    hint = "the index holds documents published 2021-10-09 – 2021-11-08: try --since 2021-10-09"
    assert hint in " ".join(result.output.split()) and hint in html and 'id="empty-period"' in html
    assert "1970" not in html and "Charts show" not in html


def series(totals: dict[str, int], bins: int = 3) -> dict[str, list[tuple[datetime, int]]]:
    start = datetime(2021, 11, 1, tzinfo=UTC)
    return {name: [(start + timedelta(days=i), total if i == 0 else 0) for i in range(bins)]
            for name, total in totals.items()}


def test_charts_keep_the_largest_series_and_group_the_rest_as_other():
    grouped = group_top(series({f"source-{i:02d}": i + 1 for i in range(11)}))
    assert list(grouped) == ["source-10", "source-09", "source-08", "source-07", "source-06", OTHER]
    assert [n for _t, n in grouped[OTHER]] == [1 + 2 + 3 + 4 + 5 + 6, 0, 0]  # summed bin by bin
    assert OTHER not in group_top(series({"a": 1, "b": 2}))


def test_document_axis_ticks_are_whole_numbers():
    ax = Figure().subplots()
    draw_time_chart(ax, group_top(series({"a": 2, "b": 1})), bin_for(timedelta(days=3)), "t")
    ticks = ax.yaxis.get_majorticklocs()
    assert len(ticks) >= 2 and all(t == int(t) for t in ticks), ticks


@pytest.mark.parametrize(("span", "interval"), [
    (timedelta(hours=20), "hour"), (timedelta(days=2), "hour"), (timedelta(days=20), "day"),
    (timedelta(days=90), "week"), (timedelta(days=800), "month")])
def test_bins_fit_the_charted_span(span, interval):
    assert bin_for(span).interval == interval


