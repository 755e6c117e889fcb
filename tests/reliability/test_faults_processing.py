"""Processing faults against the real node: a worker killed with SIGKILL, bulk responses with partial rejections.

After each fault the invariant holds (tests/reliability/invariant.py). The
crawler killed mid-crawl is covered by tests/crawlers/test_resume.py.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from mediamon.core.document import doc_id
from processing.runner import process_pending
from processing.store import ledger
from processing.store.bulk import DeadLetter, index_documents, read_deadletter
from tests.support.batches import OTHER_STORY, page, write_batch
from tests.support.invariant import all_documents, check_invariant, story_batches
from tests.support.paths import CONFIG, REPO


@pytest.fixture
def settings(es_settings):
    return es_settings.model_copy(update={"config_dir": CONFIG})


def cli_env(settings) -> dict[str, str]:
    return {**os.environ, "MEDIAMON_INDEX_PREFIX": settings.index_prefix, "MEDIAMON_DATA_DIR": str(settings.data_dir),
            "MEDIAMON_CONFIG_DIR": str(settings.config_dir), "MEDIAMON_LOCAL_ES_DIR": str(settings.local_es_dir)}


def test_worker_killed_mid_run_resumes_exactly(settings, es_admin) -> None:
    made = story_batches(settings, n_batches=4, per_batch=10)
    names = [b.name for b in made]
    proc = subprocess.Popen([sys.executable, "-m", "mediamon", "process", "--workers", "2", "--no-progress"],
                            cwd=REPO, env=cli_env(settings), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)  # its own group: the pool workers die with it
    try:
        deadline = time.monotonic() + 120
        while not ledger.done_batches(es_admin, settings, names) if batches_exist(es_admin, settings) else True:
            assert proc.poll() is None, "the run finished before it could be killed"
            assert time.monotonic() < deadline
            time.sleep(0.05)
        os.killpg(proc.pid, signal.SIGKILL)
    finally:
        proc.wait()
    done_before = ledger.done_batches(es_admin, settings, names)
    assert 0 < len(done_before) < len(names), "not killed mid-run"

    report = process_pending(settings, es_admin, workers=2, progress=False)
    assert report.adds_up()
    assert (report.batches_done, report.batches_skipped) == (len(names) - len(done_before), len(done_before))
    assert ledger.done_batches(es_admin, settings, names) == set(names)
    # what the killed run had indexed of an unfinished batch is found unchanged, never created twice
    assert report.created + report.unchanged == report.documents
    result = check_invariant(es_admin, settings)
    assert (result.records, result.documents, result.quarantined) == (40, 36, 4)


def batches_exist(es, settings) -> bool:
    return bool(es.indices.exists(index=ledger.batches_index(settings)))


def test_partial_bulk_rejections_are_dead_lettered_and_replayed_after_the_fix(settings, es_admin) -> None:
    story_batches(settings, n_batches=1, per_batch=8, broken_every=0)
    assert process_pending(settings, es_admin, workers=1, progress=False).created == 8
    model = next(iter(es_admin.search(index=settings.docs_alias, size=1)["hits"]["hits"]))["_source"]

    def variant(n: int, **changes) -> dict:
        url = f"https://tass.ru/politika/{800000 + n}"
        return {**model, "url": url, "canonical_url": url, "dup_group": doc_id(url), "is_duplicate": False, **changes}

    wrong_type = variant(1, published_at="вторник, ноябрь 2021")  # not a date: a mapping conflict
    too_large = variant(2, authors=["Иванов " * 5000])  # a keyword term over 32766 bytes
    good = [variant(n) for n in (3, 4, 5)]
    counts = index_documents(es_admin, settings.docs_alias, [good[0], wrong_type, good[1], too_large, good[2]],
                             DeadLetter(settings.deadletter_dir))
    assert counts.adds_up() and (counts.created, counts.failed) == (3, 2)
    entries = {e["_id"]: e for e in read_deadletter(DeadLetter(settings.deadletter_dir).files())}
    assert set(entries) == {doc_id(wrong_type["url"]), doc_id(too_large["url"])}
    assert "published_at" in entries[doc_id(wrong_type["url"])]["reason"]
    assert "[authors]" in entries[doc_id(too_large["url"])]["reason"]

    replay = [sys.executable, "-m", "mediamon", "deadletter", "replay"]
    again = subprocess.run(replay, cwd=REPO, env=cli_env(settings), capture_output=True, text=True, timeout=120)
    assert again.returncode == 1, again.stderr[-2000:]  # the cause is not fixed: rejected again, kept again
    kept = list(read_deadletter(DeadLetter(settings.deadletter_dir).files()))
    assert sorted(e["_id"] for e in kept) == sorted(entries)

    # the operator fixes the documents in the dead-letter file, then replays
    for path in DeadLetter(settings.deadletter_dir).files():
        fixed = []
        for entry in read_deadletter([path]):
            doc = entry["document"]
            if doc["published_at"] == wrong_type["published_at"]:
                doc["published_at"] = "2021-11-09T08:00:00Z"
            doc["authors"] = [a[:100] for a in doc["authors"]]
            fixed.append(json.dumps(entry, ensure_ascii=False))
        path.write_text("\n".join(fixed) + "\n", encoding="utf-8")
    done = subprocess.run(replay, cwd=REPO, env=cli_env(settings), capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout)["created"] == 2
    assert not DeadLetter(settings.deadletter_dir).files()
    docs = all_documents(es_admin, settings)
    assert {doc_id(v["url"]) for v in (wrong_type, too_large, *good)} <= set(docs) and len(docs) == 13


def test_a_record_elasticsearch_rejects_in_a_batch_is_counted_and_dead_lettered(settings, es_admin) -> None:
    """The runner path: a record whose URL is over the keyword limit is neither a crash nor a silent drop."""
    huge = "https://tass.ru/politika/" + "x" * 33000
    story_batches(settings, n_batches=1, per_batch=5, broken_every=0)
    write_batch(settings, "tass-ru", [{"url": huge, "body": page("Путин и Меркель", OTHER_STORY,
                                                                  "2021-11-10T20:00:00+03:00")}])
    report = process_pending(settings, es_admin, workers=1, progress=False)
    assert report.adds_up() and report.records_in == 6 and report.documents == 5
    assert report.failed + sum(report.quarantined.values()) == 1
    dead = list(read_deadletter(DeadLetter(settings.deadletter_dir).files()))
    assert len(dead) == report.failed and all(e["reason"] for e in dead)
