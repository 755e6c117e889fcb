"""The batch runner against the real Elasticsearch node: counts, idempotency, redo, re-fetch, regrouping."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from mediamon.core.document import doc_id
from processing.runner import process_batch, process_pending, reprocess
from processing.store import ledger
from tests.support.batches import OTHER_STORY, STORY, page, write_batch
from tests.support.paths import CONFIG


@pytest.fixture
def settings(es_settings):
    return es_settings.model_copy(update={"config_dir": CONFIG})


def docs_in_es(es, settings) -> dict[str, dict]:
    es.indices.refresh(index=settings.docs_alias)
    hits = es.search(index=settings.docs_alias, size=100, seq_no_primary_term=True)["hits"]["hits"]
    return {h["_id"]: {**h["_source"], "_seq_no": h["_seq_no"]} for h in hits}


def mixed_batch(settings) -> Path:
    return write_batch(settings, "tass-ru", [
        {"url": "https://tass.ru/politika/1001",
         "body": page("Лавров о мигрантах", STORY, "2021-11-01T15:12:00+03:00")},
        {"url": "https://tass.ru/politika/1002", "body": page("Путин и Меркель", OTHER_STORY,
                                                               "2021-11-10T20:00:00+03:00")},
        {"url": "https://tass.ru/politika/1003", "content_type": "text/html",  # undeclared windows-1251
         "body": page("Лавров о мигрантах снова", STORY[:3], "2021-11-02T10:00:00+03:00").decode().replace(
             "<meta charset='utf-8'>", "").encode("windows-1251")},
        {"url": "https://tass.ru/politika/1004",
         "body": b"<html><head><title>Just a moment...</title></head>"
                 b"<body><div id='cf-browser-verification'></div></body></html>"},
        {"url": "https://tass.ru/politika/1005", "body": b"<html><body><nav>menu</nav></body></html>"},
        {"url": "https://tass.ru/politika/1006", "status": 404, "body": b"<html><body>Not found</body></html>"},
    ])


def test_counts_add_up_quarantine_and_batch_mark(settings, es_admin):
    batch = mixed_batch(settings)
    report = process_pending(settings, es_admin, workers=2, progress=False)
    assert report.adds_up()
    assert (report.records_in, report.created, report.batches_done) == (6, 3, 1)
    assert dict(report.quarantined) == {"js_challenge": 1, "empty_extraction": 1, "http_status": 1}
    lines = [json.loads(x) for x in (settings.data_dir / "quarantine" / f"{batch.name}.jsonl").read_text().splitlines()]
    assert sorted(x["reason"] for x in lines) == ["empty_extraction", "http_status", "js_challenge"]
    assert all(x["raw_ref"]["batch"] == batch.name and x["detail"] for x in lines)
    assert ledger.done_batches(es_admin, settings, [batch.name]) == {batch.name}
    docs = docs_in_es(es_admin, settings)
    assert set(docs) == {doc_id(f"https://tass.ru/politika/{n}") for n in (1001, 1002, 1003)}
    first = docs[doc_id("https://tass.ru/politika/1001")]
    assert first["speakers"] == ["Sergei Lavrov"]  # "pressure on Lukashenko" names him, he does not speak
    assert first["mentions"] == ["Sergei Lavrov", "Alexander Lukashenko"]
    assert first["lang"] == "ru" and first["published_at"] == "2021-11-01T12:12:00Z"
    assert "Подписывайтесь" not in first["text"] and first["lemmas"].startswith("лавров о мигрант")
    # the truncated windows-1251 reprint is a near duplicate of the earlier original
    copy = docs[doc_id("https://tass.ru/politika/1003")]
    assert copy["is_duplicate"] and copy["dup_group"] == doc_id("https://tass.ru/politika/1001")
    assert report.duplicates_near == 1


def test_second_run_is_a_no_op(settings, es_admin):
    mixed_batch(settings)
    process_pending(settings, es_admin, workers=1, progress=False)
    before = docs_in_es(es_admin, settings)
    again = process_pending(settings, es_admin, workers=1, progress=False)
    assert (again.batches_done, again.batches_skipped, again.records_in) == (0, 1, 0)
    assert docs_in_es(es_admin, settings) == before


def test_crash_before_the_batch_mark_redoes_it_without_duplicates(settings, es_admin):
    batch = mixed_batch(settings)
    process_pending(settings, es_admin, workers=1, progress=False)
    before = docs_in_es(es_admin, settings)
    # the process died after indexing but before marking the batch done
    es_admin.delete(index=ledger.batches_index(settings), id=batch.name, refresh=True)
    redo = process_pending(settings, es_admin, workers=1, progress=False)
    assert redo.adds_up() and redo.records_in == 6
    assert (redo.created, redo.updated, redo.unchanged) == (0, 0, 3)
    assert docs_in_es(es_admin, settings) == before
    assert len((settings.data_dir / "quarantine" / f"{batch.name}.jsonl").read_text().splitlines()) == 3


def test_refetch_of_the_same_url_updates_its_document(settings, es_admin):
    url = "https://tass.ru/politika/2001"
    write_batch(settings, "tass-ru", [{"url": url, "body": page("Путин и Меркель", OTHER_STORY,
                                                                  "2021-11-10T20:00:00+03:00")}])
    process_pending(settings, es_admin, workers=1, progress=False)
    corrected = [*OTHER_STORY[:3], "Исправлено: разговор состоялся по инициативе германской стороны."]
    write_batch(settings, "tass-ru", [{"url": url, "body": page("Путин и Меркель", corrected,
                                                                  "2021-11-10T20:00:00+03:00"),
                                       "fetched_at": datetime(2021, 11, 21, tzinfo=UTC)}])
    report = process_pending(settings, es_admin, workers=1, progress=False)
    assert (report.records_in, report.updated, report.created) == (1, 1, 0)
    docs = docs_in_es(es_admin, settings)
    assert len(docs) == 1 and "Исправлено" in docs[doc_id(url)]["text"]
    assert not docs[doc_id(url)]["is_duplicate"]  # not a duplicate of its own earlier version


def test_an_older_original_arriving_later_becomes_the_group_root(settings, es_admin):
    reprint, original = "https://ria.ru/20211102/lavrov-1.html", "https://tass.ru/politika/3001"
    write_batch(settings, "ria-ru", [{"url": reprint, "body": page("Лавров: Минск ничего не нарушает", STORY,
                                                                    "2021-11-02T09:00:00+03:00")}])
    process_pending(settings, es_admin, workers=1, progress=False)
    write_batch(settings, "tass-ru", [
        {"url": original, "body": page("Лавров о мигрантах", STORY, "2021-11-01T15:12:00+03:00")},
        {"url": "https://tass.ru/politika/3002", "body": page("Путин и Меркель", OTHER_STORY,
                                                               "2021-11-10T20:00:00+03:00")}])
    report = process_pending(settings, es_admin, workers=1, progress=False)
    assert report.regrouped == 1 and report.duplicates_exact == 0
    docs = docs_in_es(es_admin, settings)
    assert docs[doc_id(original)]["dup_group"] == doc_id(original) and not docs[doc_id(original)]["is_duplicate"]
    assert docs[doc_id(reprint)]["dup_group"] == doc_id(original) and docs[doc_id(reprint)]["is_duplicate"]
    other = doc_id("https://tass.ru/politika/3002")
    assert docs[other]["dup_group"] == other and not docs[other]["is_duplicate"]


def test_reprocess_applies_a_changed_rule_in_place(settings, es_admin, tmp_path):
    mixed_batch(settings)
    process_pending(settings, es_admin, workers=1, progress=False)
    config = tmp_path / "config"
    shutil.copytree(CONFIG, config)
    speakers = config / "speakers.yaml"
    speakers.write_text(speakers.read_text(encoding="utf-8")
                        + "  - name: Angela Merkel\n    forms: [Меркель, Merkel]\n", encoding="utf-8")
    changed = settings.model_copy(update={"config_dir": config})
    report = reprocess(changed, since=datetime(2000, 1, 1, tzinfo=UTC), es=es_admin, workers=1, progress=False)
    assert report.adds_up() and (report.records_in, report.updated, report.unchanged) == (6, 1, 2)
    docs = docs_in_es(es_admin, settings)
    assert len(docs) == 3
    assert docs[doc_id("https://tass.ru/politika/1002")]["speakers"] == ["Vladimir Putin", "Angela Merkel"]
    # a source filter limits the rebuild; nothing changed this time
    only = reprocess(changed, sources=["ria-ru"], es=es_admin, workers=1, progress=False)
    assert only.records_in == 0 and only.batches_done == 1


def test_process_batch_processes_one_batch(settings, es_admin):
    batch = write_batch(settings, "tass-ru", [{"url": "https://tass.ru/politika/4001",
                                               "body": page("Лавров о мигрантах", STORY, "2021-11-01T15:12:00+03:00")}])
    report = process_batch(settings, batch, es_admin)
    assert (report.records_in, report.created) == (1, 1) and report.adds_up()


def test_a_page_time_contradicting_the_feed_is_counted(settings, es_admin):
    """The page's own time wins over a feed's wrong offset, and the run's report counts each such document."""
    write_batch(settings, "tass-ru", [
        {"url": "https://tass.ru/politika/2001", "feed": {"published": "2021-11-01T15:12:00+04:00"},  # an hour off
         "body": page("Лавров о мигрантах", STORY, "2021-11-01T15:12:00+03:00")},
        {"url": "https://tass.ru/politika/2002", "feed": {"published": "2021-11-10T20:00:00+03:00"},  # agrees
         "body": page("Путин и Меркель", OTHER_STORY, "2021-11-10T20:00:00+03:00")}])
    report = process_pending(settings, es_admin, workers=1, progress=False)
    assert report.adds_up() and report.created == 2
    assert report.dates_feed_disagrees == 1
    docs = docs_in_es(es_admin, settings)
    assert docs[doc_id("https://tass.ru/politika/2001")]["published_at"] == "2021-11-01T12:12:00Z"
