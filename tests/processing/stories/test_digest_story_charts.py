"""The digest's story timeline and amplification graph, drawn from the processed sample corpus."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from processing.reports.digest import write_report

pytestmark = pytest.mark.slow  # shares the package's mirror crawl and processing run

PNG = b"\x89PNG\r\n\x1a\n"


def test_digest_charts_the_widest_story_of_the_period(processed, es_admin, tmp_path):
    written = write_report(processed.settings, es_admin, datetime(2021, 11, 9, tzinfo=UTC), tmp_path,
                           until=datetime(2021, 11, 10, tzinfo=UTC))
    html = written.path.read_text(encoding="utf-8")
    for name in ("story_timeline", "story_amplification"):
        png = (tmp_path / f"{name}.png").read_bytes()
        assert png.startswith(PNG) and len(png) > 10_000, name
        assert f'id="chart-{name}"' in html
    pay = processed.docs["tass-ru-2021-11-09-lavrov-es-dolzhen-platit"]["story_id"]
    assert f"mediamon trace {pay}" in html  # the widest story of 9 November is Lavrov's EU-must-pay line


def test_no_story_charts_for_a_period_without_stories(processed, es_admin, tmp_path):
    write_report(processed.settings, es_admin, datetime(2021, 10, 1, tzinfo=UTC), tmp_path,
                 until=datetime(2021, 10, 2, tzinfo=UTC))
    assert not (tmp_path / "story_timeline.png").exists()
    assert not (tmp_path / "story_amplification.png").exists()
