"""Batches processed at the same time (the processing DAG runs two batch tasks at once) group duplicates correctly.

Each trial races two real batches through ``process_batch`` in two forked
processes (as two Airflow tasks would; each with its own Elasticsearch client)
against the real node: one batch holds five
stories, the other a later reprint of each. A barrier in front of group
assignment lines both up at the worst moment (each looking up candidates
before the other has indexed anything) whenever the runner lets them; it
waits at most ``NUDGE_S``, so a runner that serialises grouping only pays that
wait. Without serialisation every trial ends with ten groups and no duplicate.
The grouping lock itself (takeover of a dead holder's lock, a live holder's
lock kept) is tested below against the same node.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from elasticsearch import Elasticsearch

from mediamon.core.document import doc_id
from mediamon.core.esclient import make_client
from processing import runner
from processing.dedup import LOCK_ID, GroupLock, GroupLockLost, GroupLockTimeout
from processing.runner import process_batch
from processing.store import ledger
from tests.support.batches import page, write_batch
from tests.support.invariant import all_documents, check_invariant, paragraphs
from tests.support.paths import CONFIG

TRIALS = 6
STORIES = 5
NUDGE_S = 0.3
pytestmark = pytest.mark.timeout(180)


@pytest.fixture
def settings(es_settings):
    return es_settings.model_copy(update={"config_dir": CONFIG})


def race_batches(settings, trial: int, pool: list[str]) -> tuple[list, dict[str, str]]:
    """The originals' batch and the reprints' batch, and each reprint's expected group (its original's id)."""
    originals, reprints, expected = [], [], {}
    for k in range(STORIES):
        start = (trial * STORIES + k) * 3
        text = pool[start:start + 3]
        original, reprint = (f"https://tass.ru/politika/race-{trial}-{k}", f"https://tass.ru/obschestvo/race-{trial}-{k}")
        originals.append({"url": original, "body": page(f"Сюжет {trial}-{k}", text, "2021-11-01T10:00:00+03:00")})
        reprints.append({"url": reprint, "body": page(f"Перепечатка {trial}-{k}", text, "2021-11-03T10:00:00+03:00"),
                         "fetched_at": datetime(2021, 11, 21, tzinfo=UTC)})
        expected[doc_id(reprint)] = expected[doc_id(original)] = doc_id(original)
    return [write_batch(settings, "tass-ru", originals), write_batch(settings, "tass-ru", reprints)], expected


def process_in_child(settings, batch: Path, barrier: threading.Barrier) -> None:
    """One batch task: its own client; ``assign_groups`` waits briefly for the other task to line up."""
    real_assign = runner.assign_groups

    def lined_up(*args, **kwargs):
        # the other batch is not here in time (it holds the lock, or has not arrived): go on alone
        with contextlib.suppress(threading.BrokenBarrierError):
            barrier.wait(timeout=NUDGE_S)
        return real_assign(*args, **kwargs)

    runner.assign_groups = lined_up  # this forked process only
    if not process_batch(settings, batch, es=make_client(settings)).adds_up():
        sys.exit(3)


def test_two_batches_processed_at_once_group_their_duplicates(settings, es_admin) -> None:
    pool = list(dict.fromkeys(paragraphs()))  # distinct paragraphs: stories of different trials never match
    assert len(pool) >= (TRIALS + 1) * STORIES * 3
    for warm_up in race_batches(settings, TRIALS, pool)[0]:  # loads the stages' models here, once, for every child
        assert process_batch(settings, warm_up, es=es_admin).created == STORIES
    fork = multiprocessing.get_context("fork")  # the children inherit the loaded stages: no start-up cost
    for trial in range(TRIALS):
        batches, expected = race_batches(settings, trial, pool)
        barrier = fork.Barrier(2)
        tasks = [fork.Process(target=process_in_child, args=(settings, batch, barrier)) for batch in batches]
        for task in tasks:
            task.start()
        for task in tasks:
            task.join(timeout=120)
        assert [task.exitcode for task in tasks] == [0, 0]
        docs = all_documents(es_admin, settings)
        groups = {i: docs[i]["dup_group"] for i in expected}
        assert groups == expected, f"trial {trial}: {len(set(groups.values()))} groups instead of {STORIES}"
        assert sum(docs[i]["is_duplicate"] for i in expected) == STORIES
    result = check_invariant(es_admin, settings)
    assert (result.documents, result.duplicates_flagged) == (2 * STORIES * (TRIALS + 1), STORIES * (TRIALS + 1))
    assert not es_admin.exists(index=ledger.batches_index(settings), id=LOCK_ID), "a lock left behind"


def test_a_dead_holders_lock_is_taken_over_and_a_live_one_is_not(settings, es_admin) -> None:
    index = ledger.batches_index(settings)
    ledger.ensure_index(es_admin, settings)
    es_admin.create(index=index, id=LOCK_ID, document={"owner": "a worker host that died"})
    started = time.monotonic()
    with GroupLock(es_admin, index, ttl_s=0.6, wait_s=10):  # nobody renews the dead holder's lock
        waited = time.monotonic() - started
        holder = es_admin.get(index=index, id=LOCK_ID)["_source"]["owner"]
        # ours is renewed: never taken over
        with pytest.raises(GroupLockTimeout, match="locked by"), GroupLock(es_admin, index, ttl_s=0.6, wait_s=1.5):
            pass
        assert es_admin.get(index=index, id=LOCK_ID)["_source"]["owner"] == holder
    assert 0.6 <= waited < 5
    assert not es_admin.exists(index=index, id=LOCK_ID)


def test_a_holder_whose_lock_was_taken_over_fails_its_batch(settings, es_admin) -> None:
    index = ledger.batches_index(settings)
    ledger.ensure_index(es_admin, settings)
    with pytest.raises(GroupLockLost), GroupLock(es_admin, index, ttl_s=60):
        es_admin.index(index=index, id=LOCK_ID, document={"owner": "a waiter that judged us dead"})
    assert es_admin.get(index=index, id=LOCK_ID)["_source"]["owner"] == "a waiter that judged us dead"


def test_an_elasticsearch_gone_at_release_does_not_hide_why_the_work_failed(settings, es_admin) -> None:
    index = ledger.batches_index(settings)
    ledger.ensure_index(es_admin, settings)
    lock = GroupLock(es_admin, index, ttl_s=60)
    with pytest.raises(RuntimeError, match="the indexing failed"), lock:
        lock.es = Elasticsearch("http://127.0.0.1:9", max_retries=0, request_timeout=2)  # nothing listens there
        raise RuntimeError("the indexing failed")
    assert es_admin.exists(index=index, id=LOCK_ID)  # left to expire: the next holder takes it over
