"""Freshness on the real node: the wall clock in production, the data's own time on sample data.

The sample sites' articles were published in 2021 and fetched once; hours
later every source looks silent on the wall clock (the health DAG of
`make airflow` failed on them). ``MEDIAMON_AS_OF=newest-document`` judges
publication times as of the newest document instead; a source that stopped
within the data is still stale.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from processing.reports.health import HealthGap, check_freshness
from tests.support.alerting import T0, doc, index

WALL = T0 + timedelta(days=3)  # the sample was crawled at T0 + 1 min, the health check runs days later


def sample(es_settings, es_admin) -> None:
    fetched = T0 + timedelta(minutes=1)
    docs = [doc(f"tass-{i}", source="tass-ru", published=T0 - timedelta(hours=2 * i), fetched_at=fetched)
            for i in range(30)]
    docs += [doc(f"ria-{i}", source="ria-ru", published=T0 - timedelta(days=2, hours=2 * i), fetched_at=fetched)
             for i in range(30)]
    docs += [doc(f"rt-{i}", source="rt-ru", published=T0 - timedelta(days=700 + i), fetched_at=fetched)
             for i in range(5)]  # a site whose sample articles are years older: outside the replayed time
    index(es_admin, es_settings, docs)
    es_admin.indices.refresh(index=es_settings.docs_alias)


def test_on_the_wall_clock_documents_fetched_long_ago_are_stale(es_settings, es_admin) -> None:
    sample(es_settings, es_admin)
    with pytest.raises(HealthGap, match=r"^stale sources: tass-ru: silent for 3\.0d.*; ria-ru: silent for 3\.0d"):
        check_freshness(es_settings, ["tass-ru", "ria-ru"], es=es_admin, now=WALL)


def test_on_the_data_clock_only_a_silence_within_the_data_is_stale(es_settings, es_admin) -> None:
    sample(es_settings, es_admin)
    data_clock = es_settings.model_copy(update={"as_of": "newest-document"})
    tass, rt = check_freshness(data_clock, ["tass-ru", "rt-ru"], es=es_admin, now=WALL)
    assert tass["source"] == "tass-ru" and tass["reason"] == "fresh" and tass["count_in_window"] == 30
    assert (rt["source"], rt["stale"]) == ("rt-ru", False)
    assert rt["reason"] == "not judged: no document in the 14.0d before the newest one (MEDIAMON_AS_OF)"
    # ria-ru stopped two days before the newest document, against a two-hour rhythm: stale, and said on whose clock
    with pytest.raises(HealthGap, match=r"as of the newest document, 2021-11-08 12:00 UTC.*ria-ru: silent for 2\.0d"):
        check_freshness(data_clock, ["tass-ru", "ria-ru"], es=es_admin, now=WALL)
