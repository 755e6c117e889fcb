"""Search against the real node: filters and date ranges exact, Russian morphology via lemmas."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from datetime import UTC, datetime

import pytest

from processing.store.bulk import DeadLetter, index_documents
from processing.store.search import QuerySyntaxError, SearchFilters, search
from tests.support.documents import make_document

NOV = datetime(2021, 11, 1, tzinfo=UTC)


@pytest.fixture
def corpus(es_admin, es_settings):
    def doc(n, **fields):  # short neutral text, so the title decides what matches
        return make_document(n, lead="", text="Статья. Article.", **fields)

    docs = [
        doc(1, source="tass-ru", lang="ru", published=NOV.replace(day=1, hour=10),
                      narratives=["west_caused_migration"], title="Лавров: Польша выдавливает мигрантов",
                      alarmism=0.8),
        doc(2, source="tass-ru", lang="ru", published=NOV.replace(day=8, hour=12),
                      narratives=["iraq_whataboutism"], title="Захарова напомнила Польше об Ираке", alarmism=0.3),
        doc(3, source="tass-en", lang="en", published=NOV.replace(day=8, hour=15),
                      narratives=["belarus_lawful"], title="Peskov: Belarus acts within the law"),
        doc(4, source="rt-en", lang="en", published=NOV.replace(day=9, hour=9),
                      narratives=["eu_must_pay", "west_caused_migration"], title="EU must pay Belarus, says Lavrov",
                      is_duplicate=True, dup_group="x"),
        doc(5, source="kremlin-ru", lang="ru", published=NOV.replace(day=9, hour=18),
                      title="Телефонный разговор с Президентом Белоруссии"),
    ]
    index_documents(es_admin, es_settings.docs_alias, docs, DeadLetter(es_settings.deadletter_dir))
    es_admin.indices.refresh(index=es_settings.docs_alias)
    return {d.title: d.id for d in docs}


def _titles(es, settings, text="*", **filters):
    total, hits = search(es, settings.docs_alias, text, SearchFilters(**filters), limit=50)
    assert total == len(hits)
    return sorted(h["title"] for h in hits)


def test_filters_by_source_lang_and_narrative(es_admin, es_settings, corpus):
    assert _titles(es_admin, es_settings, sources=["tass-ru"]) == sorted(
        ["Лавров: Польша выдавливает мигрантов", "Захарова напомнила Польше об Ираке"])
    assert _titles(es_admin, es_settings, langs=["en"]) == sorted(
        ["Peskov: Belarus acts within the law", "EU must pay Belarus, says Lavrov"])
    assert _titles(es_admin, es_settings, narratives=["west_caused_migration"]) == sorted(
        ["Лавров: Польша выдавливает мигрантов", "EU must pay Belarus, says Lavrov"])


def test_date_range_is_inclusive_and_exact(es_admin, es_settings, corpus):
    since, until = NOV.replace(day=8, hour=12), NOV.replace(day=9, hour=9)
    assert _titles(es_admin, es_settings, since=since, until=until) == sorted(
        ["Захарова напомнила Польше об Ираке", "Peskov: Belarus acts within the law",
         "EU must pay Belarus, says Lavrov"])


def test_duplicates_can_be_hidden(es_admin, es_settings, corpus):
    assert "EU must pay Belarus, says Lavrov" not in _titles(es_admin, es_settings, include_duplicates=False)


def test_russian_query_matches_inflected_forms(es_admin, es_settings, corpus):
    # "мигранты" (nominative) must find the title with "мигрантов" (genitive)
    assert _titles(es_admin, es_settings, "мигранты") == ["Лавров: Польша выдавливает мигрантов"]
    assert _titles(es_admin, es_settings, "Захарову") == ["Захарова напомнила Польше об Ираке"]


def test_english_query_matches_stems(es_admin, es_settings, corpus):
    assert _titles(es_admin, es_settings, "Peskov Iraq") == []  # all words required
    assert _titles(es_admin, es_settings, "acting lawfully Peskov") == ["Peskov: Belarus acts within the law"]
    assert _titles(es_admin, es_settings, "Peskov acts") == ["Peskov: Belarus acts within the law"]
    assert "EU must pay Belarus, says Lavrov" in _titles(es_admin, es_settings, "paying")


def _cli(settings, *args, **extra_env):
    env = {**os.environ, "MEDIAMON_INDEX_PREFIX": settings.index_prefix, "MEDIAMON_DATA_DIR": str(settings.data_dir),
           "MEDIAMON_LOCAL_ES_DIR": str(settings.local_es_dir), **extra_env}
    return subprocess.run([sys.executable, "-m", "mediamon", *args], env=env, capture_output=True, text=True,
                          timeout=120)


def test_cli_search_json_prints_one_document_per_line(es_settings, corpus):
    result = _cli(es_settings, "search", "мигрантов", "--lang", "ru", "--json")
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [d["_id"] for d in lines] == [corpus["Лавров: Польша выдавливает мигрантов"]]
    assert lines[0]["url"].startswith("https://tass.ru/")


def test_cli_search_table_and_bad_date(es_settings, corpus):
    table = _cli(es_settings, "search", "Belarus", "--since", "2021-11-08")
    assert table.returncode == 0 and "documents match" in table.stdout
    bad = _cli(es_settings, "search", "x", "--since", "yesterday-ish")
    assert bad.returncode == 2 and "bad date" in bad.stderr


def test_lucene_field_filters_ranges_and_operators(es_admin, es_settings, corpus):
    """What analysts type in Kibana: field-qualified terms as typed, numeric ranges, boolean operators."""
    assert _titles(es_admin, es_settings, "title:Польша AND alarmism:>=0.5") == [
        "Лавров: Польша выдавливает мигрантов"]
    assert _titles(es_admin, es_settings, "title:Польша AND alarmism:<0.5") == []
    assert _titles(es_admin, es_settings, "alarmism:[0.2 TO 0.9] AND source:tass-ru") == sorted(
        ["Лавров: Польша выдавливает мигрантов", "Захарова напомнила Польше об Ираке"])
    assert _titles(es_admin, es_settings, "narratives:eu_must_pay OR title:Peskov") == sorted(
        ["EU must pay Belarus, says Lavrov", "Peskov: Belarus acts within the law"])
    assert _titles(es_admin, es_settings, 'Belarus -"must pay"') == ["Peskov: Belarus acts within the law"]


def test_lucene_free_text_terms_keep_the_lemma_expansion(es_admin, es_settings, corpus):
    # inflected forms on both sides of an OR, and under NOT
    assert _titles(es_admin, es_settings, "мигранты OR Захарову") == sorted(
        ["Лавров: Польша выдавливает мигрантов", "Захарова напомнила Польше об Ираке"])
    assert _titles(es_admin, es_settings, "source:tass-ru AND NOT мигранты") == ["Захарова напомнила Польше об Ираке"]
    assert _titles(es_admin, es_settings, 'lang:en AND "acting lawfully"') == []  # a phrase keeps its order
    assert _titles(es_admin, es_settings, '"acts within"') == ["Peskov: Belarus acts within the law"]


def test_a_lucene_syntax_error_is_a_clear_config_error(es_admin, es_settings, corpus):
    with pytest.raises(QuerySyntaxError, match=r"query syntax error.*Lucene syntax"):
        search(es_admin, es_settings.docs_alias, "title:(Польша", SearchFilters())
    with pytest.raises(QuerySyntaxError, match="cannot run this query"):
        search(es_admin, es_settings.docs_alias, "alarmism:high", SearchFilters())


def test_cli_search_lucene_cut_table_url_and_csv(es_settings, corpus):
    cut = _cli(es_settings, "search", "source:tass-ru OR lang:en", "--limit", "2", "--sort", "published_at",
               COLUMNS="250")
    assert cut.returncode == 0, cut.stderr
    assert "2 of 4 documents match" in cut.stdout and "https://www.rt.com/politics/1356004" in cut.stdout
    whole = _cli(es_settings, "search", "source:tass-ru")
    assert "2 documents match" in whole.stdout and " of " not in whole.stdout.split("documents match")[0]

    as_csv = _cli(es_settings, "search", "alarmism:>0", "--sort", "alarmism", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(as_csv.stdout)))
    assert [(r["title"], r["source"], r["alarmism"], r["narratives"]) for r in rows] == [
        ("Лавров: Польша выдавливает мигрантов", "tass-ru", "0.8", "west_caused_migration"),
        ("Захарова напомнила Польше об Ираке", "tass-ru", "0.3", "iraq_whataboutism")]
    assert rows[0]["url"].startswith("https://tass.ru/") and rows[0]["_id"] == corpus[rows[0]["title"]]

    bad = _cli(es_settings, "search", "title:(Польша")
    assert bad.returncode == 2 and "query syntax error" in bad.stderr and "Traceback" not in bad.stderr
    assert "Lucene syntax" in _cli(es_settings, "search", "--help").stdout
